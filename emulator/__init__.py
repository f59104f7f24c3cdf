"""Development and test support: emulators for what the project talks to. Never deployed.

``emulator.custom_labels`` adds Rekognition Custom Labels model management to moto (importing it
installs the operations); ``emulator.clock`` holds the real and simulated clocks.
"""
