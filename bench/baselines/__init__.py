"""Baseline handlers the bench compares the project with; each directory is a Lambda asset for the driver."""
