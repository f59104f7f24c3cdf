"""Integration test: a same-account copy with RekognitionModelCopy, deployed for real by integ-runner.

One stack in the source version's account and Region: a Rekognition project, an output bucket and a
:class:`RekognitionModelCopy` of the given trained version into that project. The assertion (in its own
stack, same account) calls DescribeProjectVersions until the copy reports ``COPYING_COMPLETED``.
integ-runner then destroys both stacks: the copy is deleted (removal policy DESTROY), the bucket emptied
and deleted, the project deleted.

Inputs (the trained source version): see ``settings.py``; ``make integ`` explains and checks them.
"""

from __future__ import annotations

from aws_cdk import App, Environment, RemovalPolicy, Stack
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from settings import APP_CONTEXT, COPY_VERSION_NAME, discard_provider_logs, integ_test, read_inputs

from rekognition_model_copy import RekognitionModelCopy

app = App(context=APP_CONTEXT)
inputs = read_inputs(app.node)
env = Environment(account=inputs.source_account, region=inputs.region)

stack = Stack(
    app,
    "RekognitionModelCopyInteg",
    env=env,
    description="Integration test of rekognition-model-copy: a same-account copy (deleted with the stack)",
)
project = rekognition.CfnProject(stack, "Project", project_name="integ-model-copy")
project.apply_removal_policy(RemovalPolicy.DESTROY)
bucket = s3.Bucket(
    stack,
    "OutputBucket",
    encryption=s3.BucketEncryption.S3_MANAGED,
    block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    enforce_ssl=True,
    # Rekognition writes the copy's output files here: emptied on destroy, so the stack deletes cleanly.
    removal_policy=RemovalPolicy.DESTROY,
    auto_delete_objects=True,
)
copy = RekognitionModelCopy(
    stack,
    "ModelCopy",
    source_project_arn=inputs.source_project_arn,
    source_project_version_arn=inputs.source_version_arn,
    destination_project=project,
    version_name=COPY_VERSION_NAME,
    output_bucket=bucket,
    removal_policy=RemovalPolicy.DESTROY,
)
discard_provider_logs(stack)

# The assertion runs in the copy's account (not in whatever account the runner's credentials are for).
assertions_stack = Stack(app, "RekognitionModelCopyIntegAssertions", env=env)
integ_test(app, "ModelCopy", [stack], assertions_stack, inputs.region, project, copy)

app.synth()
