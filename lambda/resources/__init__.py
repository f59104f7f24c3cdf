"""The resources: Custom::RekognitionModelCopy (``model_copy``) and Custom::RekognitionProjectPolicy
(``project_policy``). They know nothing of crhelper: each returns an ``outcome.Outcome``."""
