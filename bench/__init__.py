"""``make bench``: how fast and how cheaply a promotion completes, side by side with the obvious alternatives.

Run with ``python -m bench`` (``--quick`` for a short run, ``--help`` for options). Everything that depends on
AWS runs on the project's emulator and CloudFormation lifecycle driver with a simulated clock, so a 50-minute
copy takes seconds of real time; synth time, template size, handler cold start and the asset size are
measured for real on this machine. The bench prints figures and whether its targets (``report.Target``) are
met; it never fails on speed.
"""
