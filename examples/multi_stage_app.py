"""Example app: a model promoted dev -> staging -> prod, each stage its own account, in one CDK app.

Three stacks, deployed in this order by ``cdk deploy --all`` (stack dependencies enforce it):

- ``ModelPipeline-Dev`` (dev account): one project policy on the dev project where the model was trained,
  letting the staging (and, by default, the prod) copy role copy exactly that version;
- ``ModelPipeline-Staging`` (staging account): a project, an output bucket and the staging copy;
  depends on the dev stack;
- ``ModelPipeline-Prod`` (prod account): a project, an output bucket and the prod copy; depends on the
  staging stack, so prod is only promoted after staging's copy succeeded in the same deployment (a failed
  staging deployment stops ``cdk deploy --all`` before prod).

Where prod copies from -- the honest part. A copy's version ARN ends in its creation timestamp, so the
staging copy's ARN (and the staging project's, likewise) is only known once staging is deployed, and a CDK
app cannot reference another account's deploy-time values. Two modes:

1. Default, one deployment: prod copies **the same dev version** staging got. A copy is an identical model,
   so prod serves what staging validated; the dev -> staging -> prod order is enforced by the dependencies,
   but prod's bits come from dev, and dev must keep the version and trust the prod account.
2. Chained, two deployments: once staging is deployed, pass its copy as context (its stack outputs
   ``ProjectArn`` and ``ProjectVersionArn``); prod then copies **from staging's copy**, the project policy
   moves to the staging stack, and dev only ever trusts staging::

       cdk deploy ModelPipeline-Staging      # and the dev stack it depends on
       cdk deploy --all -c staging_project_arn=<ProjectArn> -c staging_version_arn=<ProjectVersionArn>

   Switching an existing prod copy from mode 1 to mode 2 changes its source: give a new ``version_name``
   (``-c prod_version_name=...``) in the same deployment, since the new copy is made before the old one is
   deleted.

Everything comes from context, with placeholders so ``cdk synth`` works without any AWS account::

    SRC=arn:aws:rekognition:us-east-1:111111111111:project/dev-defects
    cdk synth --app "python examples/multi_stage_app.py" \\
        -c dev_account=111111111111 -c staging_account=333333333333 -c prod_account=222222222222 \\
        -c source_project_arn=$SRC/1700000000000 \\
        -c source_version_arn=$SRC/version/defects.2026-11-01/1700000000001

Context keys (all optional): ``dev_account``, ``staging_account``, ``prod_account`` (defaults
111111111111, 333333333333, 222222222222; three different accounts), ``region`` (default: the source
version's), ``source_project_arn``, ``source_version_arn`` (the dev model; placeholders), ``version_name``
(default: the source version's name) and ``prod_version_name`` (default: ``version_name``),
``staging_project_arn`` and ``staging_version_arn`` (both or neither: chained mode).

Importing this module has no side effects: :func:`build_app` builds the app, running it synthesises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import App, CfnOutput, Environment, Stack
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from constructs import Construct

from rekognition_model_copy import ModelCopyValidationError, RekognitionModelPromotion
from rekognition_model_copy.validation import PROJECT_VERSION_ARN_PATTERN

DEV_STACK_NAME = "ModelPipeline-Dev"
STAGING_STACK_NAME = "ModelPipeline-Staging"
PROD_STACK_NAME = "ModelPipeline-Prod"
STAGING_PROMOTION_ID = "StagingModel"
"""Construct id of the staging copy (and of the dev project policy)."""
PROD_PROMOTION_ID = "ProdModel"
"""Construct id of the prod copy (and, in chained mode, of the staging project policy)."""
DEFAULT_DEV_ACCOUNT = "111111111111"
DEFAULT_STAGING_ACCOUNT = "333333333333"
DEFAULT_PROD_ACCOUNT = "222222222222"
DEFAULT_REGION = "us-east-1"
DEFAULT_SOURCE_PROJECT_ARN = "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000"
DEFAULT_SOURCE_VERSION_ARN = (
    "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-11-01/1700000000001"
)


class ModelStageStack(Stack):
    """A stage that receives a model: its project and output bucket (the copy is added by a promotion)."""

    def __init__(self, scope: Construct, id: str, *, project_name: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.project = rekognition.CfnProject(self, "Project", project_name=project_name)
        """The stage's Custom Labels project."""
        self.bucket = s3.Bucket(
            self,
            "OutputBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
        )
        """Where Rekognition writes the copy's training results."""
        CfnOutput(self, "ProjectArn", value=self.project.attr_arn)

    def receive(self, promotion: RekognitionModelPromotion) -> None:
        """Publish the copy's ARN and name as outputs (the next stage's source in chained mode)."""
        CfnOutput(self, "ProjectVersionArn", value=promotion.copy.project_version_arn)
        CfnOutput(self, "VersionName", value=promotion.copy.version_name)


@dataclass
class Pipeline:
    """The app's stacks and promotions."""

    app: App
    dev: Stack
    staging: ModelStageStack
    prod: ModelStageStack
    to_staging: RekognitionModelPromotion
    to_prod: RekognitionModelPromotion
    chained: bool
    """Whether prod copies from staging's copy (True) or from the dev version (False)."""


def build_pipeline(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> Pipeline:
    """Build the app. ``context`` adds to (and overrides) the context of cdk.json and ``-c``; ``outdir``:
    where to synthesise (default: the CLI's, or a temporary directory)."""
    app = App(context=dict(context) if context else None, outdir=outdir)

    def ctx(key: str, default: str) -> str:
        value = app.node.try_get_context(key)
        return default if value is None else str(value)

    source_version_arn = ctx("source_version_arn", DEFAULT_SOURCE_VERSION_ARN)
    match = PROJECT_VERSION_ARN_PATTERN.match(source_version_arn)
    parts = match.groupdict() if match else {}  # an unparsable ARN is explained by the construct
    region = ctx("region", parts.get("region", DEFAULT_REGION))
    version_name = ctx("version_name", parts.get("version_name", "promoted-model"))
    staging_project_arn = ctx("staging_project_arn", "")
    staging_version_arn = ctx("staging_version_arn", "")
    if bool(staging_project_arn) != bool(staging_version_arn):
        raise ModelCopyValidationError(
            "Chained mode needs both staging_project_arn and staging_version_arn (the staging stack's "
            f"ProjectArn and ProjectVersionArn outputs); got {staging_project_arn!r} and "
            f"{staging_version_arn!r}. Give both, or neither to promote prod from the dev version."
        )
    chained = bool(staging_version_arn)

    dev = Stack(
        app,
        DEV_STACK_NAME,
        env=Environment(account=ctx("dev_account", DEFAULT_DEV_ACCOUNT), region=region),
        description="Lets the next stage copy the trained Rekognition Custom Labels model version",
    )
    staging = ModelStageStack(
        app,
        STAGING_STACK_NAME,
        env=Environment(account=ctx("staging_account", DEFAULT_STAGING_ACCOUNT), region=region),
        description="Staging: the model promoted from dev",
        project_name="staging-defects",
    )
    prod = ModelStageStack(
        app,
        PROD_STACK_NAME,
        env=Environment(account=ctx("prod_account", DEFAULT_PROD_ACCOUNT), region=region),
        description="Production: the model promoted after staging",
        project_name="prod-defects",
    )

    source_project_arn = ctx("source_project_arn", DEFAULT_SOURCE_PROJECT_ARN)
    to_staging = RekognitionModelPromotion(
        id=STAGING_PROMOTION_ID,
        source_stack=dev,
        destination_stack=staging,
        source_project_arn=source_project_arn,
        source_project_version_arn=source_version_arn,
        destination_project=staging.project,
        version_name=version_name,
        output_bucket=staging.bucket,
        tags={"stage": "staging"},
    )
    staging.receive(to_staging)
    if chained:
        # Prod copies staging's copy: the project policy goes to the staging stack (on its project).
        to_prod = RekognitionModelPromotion(
            id=PROD_PROMOTION_ID,
            source_stack=staging,
            destination_stack=prod,
            source_project_arn=staging_project_arn,
            source_project_version_arn=staging_version_arn,
            destination_project=prod.project,
            version_name=ctx("prod_version_name", version_name),
            output_bucket=prod.bucket,
            tags={"stage": "prod"},
        )
    else:
        # Prod copies the dev version too, allowed by a second statement in dev's one project policy.
        to_prod = RekognitionModelPromotion(
            id=PROD_PROMOTION_ID,
            source_stack=dev,
            destination_stack=prod,
            source_project_arn=source_project_arn,
            source_project_version_arn=source_version_arn,
            destination_project=prod.project,
            version_name=ctx("prod_version_name", version_name),
            output_bucket=prod.bucket,
            tags={"stage": "prod"},
            project_policy=to_staging.policy,
        )
        prod.add_dependency(staging, "prod is promoted only after the staging promotion succeeded")
    prod.receive(to_prod)
    return Pipeline(app, dev, staging, prod, to_staging, to_prod, chained)


def build_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> App:
    """The CDK app of :func:`build_pipeline`."""
    return build_pipeline(context, outdir=outdir).app


if __name__ == "__main__":
    build_app().synth()
