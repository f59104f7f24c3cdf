"""Integration test: a two-account promotion with RekognitionModelPromotion, deployed for real.

Two accounts, one Region (the source version's):

- ``RekognitionModelPromotionIntegSource``, in the source account (the version's): the project policy that
  lets the destination account copy exactly that version;
- ``RekognitionModelPromotionIntegDestination``, in the destination account: a project, a KMS key, an
  output bucket and the copy (it depends on the source stack, so the policy is in place first);
- ``RekognitionModelPromotionIntegAssertions``, in the destination account: DescribeProjectVersions until
  the copy is ``COPYING_COMPLETED``.

Destroying the stacks deletes the copy (removal policy DESTROY), the policy, the project and the bucket;
the key is scheduled for deletion (7 days, the minimum).

Inputs: see ``settings.py`` (the destination account is required when deploying). The CDK deploys to both
accounts with ONE set of credentials: both accounts are bootstrapped, and the one the credentials are not
for trusts the other (``cdk bootstrap --trust``).
"""

from __future__ import annotations

from aws_cdk import App, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from settings import (
    APP_CONTEXT,
    COPY_VERSION_NAME,
    ENV_DESTINATION_ACCOUNT,
    discard_provider_logs,
    integ_test,
    read_inputs,
)

from rekognition_model_copy import RekognitionModelPromotion

app = App(context=APP_CONTEXT)
inputs = read_inputs(app.node)
if not inputs.placeholders and inputs.destination_account == inputs.source_account:
    raise ValueError(
        f"The promotion test needs a second account: set {ENV_DESTINATION_ACCOUNT} (or -c "
        f"destination_account=...) to an account other than the source version's ({inputs.source_account})."
    )
source_env = Environment(account=inputs.source_account, region=inputs.region)
destination_env = Environment(account=inputs.destination_account, region=inputs.region)

source_stack = Stack(
    app,
    "RekognitionModelPromotionIntegSource",
    env=source_env,
    description="Integration test of rekognition-model-copy: the project policy of a promotion",
)
destination_stack = Stack(
    app,
    "RekognitionModelPromotionIntegDestination",
    env=destination_env,
    description="rekognition-model-copy integration test: the copy of a promotion (deleted with its stack)",
)
project = rekognition.CfnProject(destination_stack, "Project", project_name="integ-model-promotion")
project.apply_removal_policy(RemovalPolicy.DESTROY)
key = kms.Key(
    destination_stack,
    "ModelKey",
    description="Encrypts the promoted model of the rekognition-model-copy integration test",
    enable_key_rotation=True,
    removal_policy=RemovalPolicy.DESTROY,
    pending_window=Duration.days(7),
)
bucket = s3.Bucket(
    destination_stack,
    "OutputBucket",
    encryption=s3.BucketEncryption.KMS,
    encryption_key=key,
    bucket_key_enabled=True,
    block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    enforce_ssl=True,
    removal_policy=RemovalPolicy.DESTROY,
    auto_delete_objects=True,
)
promotion = RekognitionModelPromotion(
    id="ModelCopy",
    source_stack=source_stack,
    destination_stack=destination_stack,
    source_project_arn=inputs.source_project_arn,
    source_project_version_arn=inputs.source_version_arn,
    destination_project=project,
    version_name=COPY_VERSION_NAME,
    output_bucket=bucket,
    encryption_key=key,
    removal_policy=RemovalPolicy.DESTROY,
)
copy = promotion.copy
discard_provider_logs(source_stack, destination_stack)

assertions_stack = Stack(app, "RekognitionModelPromotionIntegAssertions", env=destination_env)
integ_test(
    app, "ModelPromotion", [source_stack, destination_stack], assertions_stack, inputs.region, project, copy
)

app.synth()
