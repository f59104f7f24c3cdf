"""Example apps and templates (run them as scripts; tests import them as a package)."""
