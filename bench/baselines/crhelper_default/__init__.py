"""The crhelper-with-defaults baseline: a Lambda asset directory (``index.handler``)."""
