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

A promotion across accounts, described once (the policy goes to the source stack, the copy to the
destination stack, and the destination stack deploys after the source stack)::

    from rekognition_model_copy import RekognitionModelPromotion

    promotion = RekognitionModelPromotion(
        id="DefectsModel",
        source_stack=dev_stack,  # env=Environment(account="111111111111", region="us-east-1")
        destination_stack=prod_stack,  # env=Environment(account="222222222222", region="us-east-1")
        source_project_arn=...,
        source_project_version_arn=...,
        destination_project=project,
        version_name="defects.2026-11-01",
        output_bucket=bucket,
    )
    promotion.copy.project_version_arn
"""

from .arguments import DEFAULT_TIMEOUT, CopyArguments, CopyProps
from .model_copy import RESOURCE_TYPE, RekognitionModelCopy
from .project_policy import DEFAULT_POLICY_TIMEOUT, RekognitionProjectPolicy
from .project_policy import RESOURCE_TYPE as POLICY_RESOURCE_TYPE
from .project_version import METRIC_NAMESPACE, IProjectVersion, ProjectVersion, ProjectVersionBase
from .promotion import Principal, RekognitionModelPromotion
from .provider import PROVIDER_ID, RekognitionModelCopyProvider
from .provider_stack import DEFAULT_EXPORT_NAME, RekognitionModelCopyProviderStack
from .validation import ModelCopyValidationError

__all__ = [
    "DEFAULT_EXPORT_NAME",
    "DEFAULT_POLICY_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "METRIC_NAMESPACE",
    "POLICY_RESOURCE_TYPE",
    "PROVIDER_ID",
    "RESOURCE_TYPE",
    "CopyArguments",
    "CopyProps",
    "IProjectVersion",
    "ModelCopyValidationError",
    "Principal",
    "ProjectVersion",
    "ProjectVersionBase",
    "RekognitionModelCopy",
    "RekognitionModelCopyProvider",
    "RekognitionModelCopyProviderStack",
    "RekognitionModelPromotion",
    "RekognitionProjectPolicy",
]

__version__ = "0.1.0"
