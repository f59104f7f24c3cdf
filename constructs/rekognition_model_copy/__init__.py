"""CDK constructs that copy Amazon Rekognition Custom Labels model versions (CopyProjectVersion).

The simplest use::

    from rekognition_model_copy import RekognitionModelCopy

    copy = RekognitionModelCopy(
        self,
        "ProdModel",
        source_project_arn="arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000",
        source_project_version_arn=(
            "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-11-01/"
            "1700000000001"
        ),
        destination_project=project,  # a rekognition.CfnProject or a project ARN
        version_name="defects.2026-11-01",
        output_bucket=bucket,
    )
    copy.project_version_arn  # ARN of the copied model version
"""

from .model_copy import DEFAULT_TIMEOUT, RESOURCE_TYPE, RekognitionModelCopy, default_output_prefix
from .provider import POLL_RULE_PREFIX_ENV, PROVIDER_ID, RekognitionModelCopyProvider
from .validation import ModelCopyValidationError

__all__ = [
    "DEFAULT_TIMEOUT",
    "POLL_RULE_PREFIX_ENV",
    "PROVIDER_ID",
    "RESOURCE_TYPE",
    "ModelCopyValidationError",
    "RekognitionModelCopy",
    "RekognitionModelCopyProvider",
    "default_output_prefix",
]

__version__ = "0.1.0"
