"""Release tooling: ``python -m tools.dist`` (``make dist``) builds what a release hands over."""
