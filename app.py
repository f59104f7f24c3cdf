"""Example app: promote a trained Rekognition Custom Labels model from a dev account into production.

The production (destination) stack holds a Rekognition project, a KMS key, an encrypted output bucket and a
``RekognitionModelCopy`` of a source model version from the dev account. Everything comes from context,
with placeholders so ``cdk synth`` works without any AWS account::

    SRC=arn:aws:rekognition:us-east-1:111111111111:project/dev-defects
    cdk synth -c account=222222222222 -c region=us-east-1 \\
        -c source_project_arn=$SRC/1700000000000 \\
        -c source_version_arn=$SRC/version/defects.2026-11-01/1700000000001

Optional context: ``version_name`` (default: the source version's name), ``project_name`` (default
``prod-defects``). A cross-account copy also needs a project policy on the source project allowing the
destination account ``rekognition:CopyProjectVersion``.

Importing this module has no side effects: :func:`build_app` builds the app, ``python app.py`` synthesises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import App, CfnOutput, Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from constructs import Construct

from rekognition_model_copy import RekognitionModelCopy
from rekognition_model_copy.validation import PROJECT_VERSION_ARN_PATTERN

STACK_NAME = "RekognitionModelPromotion"
DEFAULT_ACCOUNT = "222222222222"
DEFAULT_REGION = "us-east-1"
DEFAULT_SOURCE_PROJECT_ARN = "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000"
DEFAULT_SOURCE_VERSION_ARN = (
    "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-11-01/1700000000001"
)
DEFAULT_PROJECT_NAME = "prod-defects"


class ModelPromotionStack(Stack):
    """The destination side of a promotion: project, key, output bucket and the model copy."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_project_arn: str,
        source_project_version_arn: str,
        version_name: str,
        project_name: str = DEFAULT_PROJECT_NAME,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)

        key = kms.Key(
            self,
            "ModelKey",
            description="Encrypts promoted Rekognition Custom Labels models and their output files",
            enable_key_rotation=True,
        )
        bucket = s3.Bucket(
            self,
            "OutputBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
        )
        project = rekognition.CfnProject(self, "Project", project_name=project_name)

        self.model_copy = RekognitionModelCopy(
            self,
            "ModelCopy",
            source_project_arn=source_project_arn,
            source_project_version_arn=source_project_version_arn,
            destination_project=project,
            version_name=version_name,
            output_bucket=bucket,
            encryption_key=key,
            tags={"promoted-by": "rekognition-model-copy"},
        )

        CfnOutput(self, "ProjectVersionArn", value=self.model_copy.project_version_arn)
        CfnOutput(self, "VersionName", value=self.model_copy.version_name)


def _default_version_name(source_version_arn: str) -> str:
    match = PROJECT_VERSION_ARN_PATTERN.match(source_version_arn)
    # An unparsable ARN falls through to the construct's validation, which explains what is wrong.
    return match["version_name"] if match else "promoted-model"


def build_app(context: Mapping[str, Any] | None = None) -> App:
    """Build the example app. ``context`` adds to (and overrides) the context of cdk.json and ``-c``."""
    app = App(context=dict(context) if context else None)

    def ctx(key: str, default: str) -> str:
        value = app.node.try_get_context(key)
        return str(value) if value is not None else default

    source_version_arn = ctx("source_version_arn", DEFAULT_SOURCE_VERSION_ARN)
    ModelPromotionStack(
        app,
        STACK_NAME,
        env=Environment(account=ctx("account", DEFAULT_ACCOUNT), region=ctx("region", DEFAULT_REGION)),
        description="Promotes a Rekognition Custom Labels model version into this account",
        source_project_arn=ctx("source_project_arn", DEFAULT_SOURCE_PROJECT_ARN),
        source_project_version_arn=source_version_arn,
        version_name=ctx("version_name", _default_version_name(source_version_arn)),
        project_name=ctx("project_name", DEFAULT_PROJECT_NAME),
    )
    return app


if __name__ == "__main__":
    build_app().synth()
