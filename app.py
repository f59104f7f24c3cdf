"""Example app: promote a trained Rekognition Custom Labels model from a dev account into production.

Two stacks, one promotion (:class:`RekognitionModelPromotion`):

- ``RekognitionModelPromotion-Dev`` (:data:`DEV_STACK_NAME`), in the dev (source) account: the project
  policy on the source project that lets the production account copy exactly the source version (in
  production, only the copy role's own IAM policy allows that copy);
- ``RekognitionModelPromotion`` (:data:`STACK_NAME`), in the prod (destination) account: a Rekognition
  project, a KMS key, an encrypted output bucket (its server access logs in a bucket of their own) and the
  copy. It depends on the dev stack, so ``cdk deploy --all`` puts the policy in place first.

Everything comes from context, with placeholders so ``cdk synth`` works without any AWS account::

    SRC=arn:aws:rekognition:us-east-1:111111111111:project/dev-defects
    cdk synth -c dev_account=111111111111 -c prod_account=222222222222 -c region=us-east-1 \\
        -c source_project_arn=$SRC/1700000000000 \\
        -c source_version_arn=$SRC/version/defects.2026-11-01/1700000000001

Context keys (all optional):

- ``source_version_arn``, ``source_project_arn``: the model version to promote and its project
  (placeholders in account 111111111111, us-east-1);
- ``dev_account``: the source account. Default: the source version ARN's account. The same account as
  ``prod_account``: no dev stack (a same-account copy needs no project policy);
- ``prod_account`` (alias ``account``): the destination account. Default: 222222222222;
- ``region``: Region of both stacks. Default: the source version ARN's Region;
- ``version_name``: name of the copy. Default: the source version's name;
- ``project_name``: the production project. Default: ``prod-defects``;
- ``principal``: ``account`` (default: the production account root, narrowed to the copy role by its IAM
  policy) or ``role`` (the copy role itself; it must exist before the dev stack deploys);
- ``source_kms_key_arn``: the customer managed key the source model was trained with. Default: none (an
  AWS owned key). Its key policy in the dev account must allow the production account (the dev stack's
  output ``SourceKeyPolicyStatements`` shows the statements);
- ``min_inference_units`` (and ``max_inference_units``): start the promoted model and wait until it is
  RUNNING. Default: not started (a running model is billed per inference unit and hour);
- ``min_f1_score``: the quality bar (0 < x <= 1): the dev account's project policy is put only when the
  source version's F1 score meets it. Default: no bar.

Importing this module has no side effects: :func:`build_app` builds the app, ``python app.py`` synthesises.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from aws_cdk import App, CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from constructs import Construct

from rekognition_model_copy import Principal, ProjectVersion, RekognitionModelCopy, RekognitionModelPromotion
from rekognition_model_copy.validation import PROJECT_VERSION_ARN_PATTERN

STACK_NAME = "RekognitionModelPromotion"
"""The production (destination) stack."""
DEV_STACK_NAME = "RekognitionModelPromotion-Dev"
"""The dev (source) stack: the project policy."""
PROMOTION_ID = "ModelCopy"
"""Construct id of the copy in the production stack and of the policy in the dev stack."""
DEFAULT_DEV_ACCOUNT = "111111111111"
DEFAULT_PROD_ACCOUNT = "222222222222"
DEFAULT_REGION = "us-east-1"
DEFAULT_SOURCE_PROJECT_ARN = "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000"
DEFAULT_SOURCE_VERSION_ARN = (
    "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-11-01/1700000000001"
)
DEFAULT_PROJECT_NAME = "prod-defects"
ACCESS_LOG_RETENTION = Duration.days(365)
"""How long the output bucket's server access logs are kept."""
_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


class ModelPromotionStack(Stack):
    """The destination side of a promotion: project, key, output bucket and the model copy.

    The copy is made by a :class:`RekognitionModelPromotion` whose project policy goes to ``source_stack``
    (``None``: the source version is in this stack's account, no policy is needed).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_stack: Stack | None,
        source_project_arn: str,
        source_project_version_arn: str,
        version_name: str,
        project_name: str = DEFAULT_PROJECT_NAME,
        principal: Principal = "account",
        source_kms_key_arn: str | None = None,
        min_inference_units: int | None = None,
        max_inference_units: int | None = None,
        min_f1_score: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        # S3 log delivery is allowed by a bucket policy on the logs bucket (scoped to the output bucket),
        # not by the legacy LogDeliveryWrite ACL.
        self.node.set_context(_ACCESS_LOGS_USE_BUCKET_POLICY, True)

        key = kms.Key(
            self,
            "ModelKey",
            description="Encrypts promoted Rekognition Custom Labels models and their output files",
            enable_key_rotation=True,
        )
        # The output bucket's server access logs (cdk-nag AwsSolutions-S1). A bucket that is the target of
        # another bucket's logs needs no logs of its own (cdk-nag agrees).
        access_logs = s3.Bucket(
            self,
            "AccessLogsBucket",
            # S3 server access logging cannot deliver to a bucket encrypted with SSE-KMS.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=ACCESS_LOG_RETENTION)],
        )
        bucket = s3.Bucket(
            self,
            "OutputBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="output-bucket/",
        )
        project = rekognition.CfnProject(self, "Project", project_name=project_name)

        self.promotion = RekognitionModelPromotion(
            id=PROMOTION_ID,
            source_stack=source_stack or self,
            destination_stack=self,
            # The trained model, made in the dev account: imported (no resource), its ARNs checked here.
            source=ProjectVersion.from_project_version_attributes(
                source_stack or self,
                "TrainedModel",
                project_arn=source_project_arn,
                project_version_arn=source_project_version_arn,
            ),
            destination_project=project,
            version_name=version_name,
            output_bucket=bucket,
            encryption_key=key,
            tags={"promoted-by": "rekognition-model-copy"},
            principal=principal,
            source_kms_key=source_kms_key_arn,
            min_inference_units=min_inference_units,
            max_inference_units=max_inference_units,
            min_f1_score=min_f1_score,
        )
        self.model_copy: RekognitionModelCopy = self.promotion.copy

        CfnOutput(self, "ProjectVersionArn", value=self.model_copy.project_version_arn)
        CfnOutput(self, "VersionName", value=self.model_copy.version_name)
        CfnOutput(self, "CopyRoleArn", value=self.promotion.copy_role_arn)


def _version_parts(source_version_arn: str) -> dict[str, str]:
    match = PROJECT_VERSION_ARN_PATTERN.match(source_version_arn)
    # An unparsable ARN falls through to the construct's validation, which explains what is wrong.
    return match.groupdict() if match else {}


def _optional_int(value: str) -> int | None:
    """A context value as a whole number; a value that is not one is passed on for the construct to
    reject with its own message."""
    if not value:
        return None
    return int(value) if value.lstrip("-").isdigit() else cast(int, value)


def _optional_float(value: str) -> float | None:
    """A context value as a number; a value that is not one is passed on for the construct to reject with
    its own message."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return cast(float, value)


def build_app(context: Mapping[str, Any] | None = None) -> App:
    """Build the example app. ``context`` adds to (and overrides) the context of cdk.json and ``-c``."""
    app = App(context=dict(context) if context else None)

    def ctx(*keys: str, default: str) -> str:
        for key in keys:
            value = app.node.try_get_context(key)
            if value is not None:
                return str(value)
        return default

    source_version_arn = ctx("source_version_arn", default=DEFAULT_SOURCE_VERSION_ARN)
    version = _version_parts(source_version_arn)
    region = ctx("region", default=version.get("region", DEFAULT_REGION))
    dev_account = ctx("dev_account", default=version.get("account", DEFAULT_DEV_ACCOUNT))
    prod_account = ctx("prod_account", "account", default=DEFAULT_PROD_ACCOUNT)
    dev_stack = None
    if dev_account != prod_account:  # within one account there is no policy, hence no dev stack
        dev_stack = Stack(
            app,
            DEV_STACK_NAME,
            env=Environment(account=dev_account, region=region),
            description="Lets the production account copy a Rekognition Custom Labels model version",
        )
    prod_stack = ModelPromotionStack(
        app,
        STACK_NAME,
        env=Environment(account=prod_account, region=region),
        description="Promotes a Rekognition Custom Labels model version into this account",
        source_stack=dev_stack,
        source_project_arn=ctx("source_project_arn", default=DEFAULT_SOURCE_PROJECT_ARN),
        source_project_version_arn=source_version_arn,
        version_name=ctx("version_name", default=version.get("version_name", "promoted-model")),
        project_name=ctx("project_name", default=DEFAULT_PROJECT_NAME),
        principal=cast(Principal, ctx("principal", default="account")),
        source_kms_key_arn=ctx("source_kms_key_arn", default="") or None,
        min_inference_units=_optional_int(ctx("min_inference_units", default="")),
        max_inference_units=_optional_int(ctx("max_inference_units", default="")),
        min_f1_score=_optional_float(ctx("min_f1_score", default="")),
    )
    policy = prod_stack.promotion.policy
    if dev_stack is not None and policy is not None:
        CfnOutput(dev_stack, "ProjectPolicyName", value=policy.policy_name)
        CfnOutput(dev_stack, "PolicyRevisionId", value=policy.policy_revision_id)
        key_statements = prod_stack.promotion.source_key_policy_statements()
        if key_statements:
            CfnOutput(
                dev_stack,
                "SourceKeyPolicyStatements",
                description="Add these statements to the key policy of the source model's key",
                value=json.dumps([s.to_json() for s in key_statements], separators=(",", ":")),
            )
    return app


if __name__ == "__main__":
    build_app().synth()
