"""The layer over crhelper: the custom resource protocol (one answer per request, the polling schedule,
the deadline, the response PUT). It knows no resource; ``index.py`` wires the resources to it."""
