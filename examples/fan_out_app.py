"""Example apps: one model version promoted from a dev account to several prod accounts at once (fan-out).

Two ways to deploy the same fan-out, both synthesised offline (no lookups, placeholder accounts):

1. :func:`build_app`, one CDK app deployed with ``cdk deploy --all``: the dev stack ``FanOut-Dev`` (the
   source account) and one stack ``FanOut-Prod-<account>`` per prod account, each with a project, an output
   bucket and one :class:`RekognitionModelPromotion` of the same dev version. Each promotion allows its prod
   account in a project policy on the dev project (in the dev stack) and makes its prod stack depend on the
   dev stack, so the policy is in place before any copy runs::

       cdk synth --app "python -m examples.fan_out_app"

   The promotions share one project policy on the dev project (in the dev stack), its permissions packed
   into as few documents as PutProjectPolicy allows: up to :data:`MAX_PROD_ACCOUNTS` prod accounts.

2. :func:`build_pipeline_app`, the engine a team uses once promotions span many accounts: CDK Pipelines
   (``pipelines.CodePipeline``, in the dev account) deploys the stage ``Dev`` (the project policy on the dev
   project, allowing every prod account) first, then one wave ``Prod`` with a stage per prod account (its
   project, bucket and copy), all prod stages side by side::

       cdk synth --app "python -m examples.fan_out_app pipeline"

   The same promotions: between stacks of different stages a promotion adds no stack dependency (CDK
   refuses one across stages, ``NoCrossStageDependency``); the pipeline's order (the dev stage, then the
   wave) gives it.

The accounts and the model are module constants (:data:`DEV_ACCOUNT`, :data:`PROD_ACCOUNTS`,
:data:`SOURCE_VERSION_ARN`); change them, or pass ``prod_accounts=``. Importing this module has no side
effects; running it synthesises the app (or, with the argument ``pipeline``, the pipeline app).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import App, Environment, Stack, Stage, pipelines
from constructs import Construct

from examples.multi_stage_app import ModelStageStack
from rekognition_model_copy import RekognitionModelPromotion

DEV_ACCOUNT = "111111111111"
"""The source account: the model was trained here; the pipeline runs here too."""
PROD_ACCOUNTS = ("222222222222", "333333333333", "444444444444")
REGION = "us-east-1"
SOURCE_PROJECT_ARN = "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000"
SOURCE_VERSION_ARN = (
    "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-11-01/1700000000001"
)
MAX_PROD_ACCOUNTS = 106
"""The most prod accounts one dev version can be promoted to (from a project without other policies): two
policy documents of 53 account roots each (``packing.max_destination_accounts(SOURCE_VERSION_ARN, 2)``)."""
VERSION_NAME = "defects.2026-11-01"
PROD_PROJECT_NAME = "prod-defects"
DEV_STACK_NAME = "FanOut-Dev"
COPY_ID = "DefectsModel"
"""The stem of the promotions' ids (:func:`promotion_id`)."""
PIPELINE_STACK_NAME = "FanOut-Pipeline"
DEV_STAGE_ID = "Dev"
PROD_WAVE_ID = "Prod"
REPOSITORY = "example-org/model-promotion"
CONNECTION_ARN = (
    "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
)
"""A CodeConnections connection to the repository (created once in the console): a placeholder."""


def prod_stack_name(account: str) -> str:
    return f"FanOut-Prod-{account}"


def promotion_id(account: str) -> str:
    """The promotion's construct id: the copy in the prod stack (and the first one's, the shared policy in
    the dev stack)."""
    return f"{COPY_ID}{account}"


def prod_stage_id(account: str) -> str:
    return f"Prod{account}"


def dev_account_stack(app: App, name: str, description: str) -> Stack:
    """A stack of the dev account (the fan-out's dev stack, or the pipeline's)."""
    return Stack(app, name, env=Environment(account=DEV_ACCOUNT, region=REGION), description=description)


# --- 1. One app, cdk deploy --all -------------------------------------------------------------------------


@dataclass
class FanOut:
    """The app's stacks and promotions (one per prod account, in the order of the accounts)."""

    app: App
    dev: Stack
    prods: list[ModelStageStack]
    promotions: list[RekognitionModelPromotion]


@dataclass(frozen=True)
class Source:
    """The dev version promoted (a placeholder by default; tests give a version of the emulator)."""

    project_arn: str = SOURCE_PROJECT_ARN
    version_arn: str = SOURCE_VERSION_ARN


def promote(
    source_stack: Stack, prod: ModelStageStack, account: str, source: Source
) -> RekognitionModelPromotion:
    """The promotion of the dev version into one prod account's stack."""
    return RekognitionModelPromotion(
        id=promotion_id(account),
        source_stack=source_stack,
        destination_stack=prod,
        source_project_arn=source.project_arn,
        source_project_version_arn=source.version_arn,
        destination_project=prod.project,
        version_name=VERSION_NAME,
        output_bucket=prod.bucket,
        tags={"stage": "prod"},
    )


def build_fan_out(
    *,
    prod_accounts: Sequence[str] = PROD_ACCOUNTS,
    outdir: str | None = None,
    source: Source = Source(),
    context: Mapping[str, object] | None = None,
) -> FanOut:
    """The dev stack and one prod stack per account, each prod stack receiving the same dev version."""
    app = App(outdir=outdir, context=dict(context) if context else None)
    dev = dev_account_stack(
        app,
        DEV_STACK_NAME,
        "Lets every prod account copy the trained Rekognition Custom Labels model version",
    )
    prods: list[ModelStageStack] = []
    promotions: list[RekognitionModelPromotion] = []
    for account in prod_accounts:
        prod = ModelStageStack(
            app,
            prod_stack_name(account),
            env=Environment(account=account, region=REGION),
            description=f"Production ({account}): the model promoted from dev",
            project_name=PROD_PROJECT_NAME,
        )
        promotion = promote(dev, prod, account, source)
        prod.receive(promotion)
        prods.append(prod)
        promotions.append(promotion)
    return FanOut(app, dev, prods, promotions)


def build_app(*, prod_accounts: Sequence[str] = PROD_ACCOUNTS, outdir: str | None = None) -> App:
    """The CDK app of :func:`build_fan_out`."""
    return build_fan_out(prod_accounts=prod_accounts, outdir=outdir).app


# --- 2. The same fan-out deployed by CDK Pipelines ---------------------------------------------------------


class DevStage(Stage):
    """The dev account's part: the project policy on the dev project (added by the promotions)."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, env=Environment(account=DEV_ACCOUNT, region=REGION))
        self.stack = Stack(self, "Source", description="Lets the prod accounts copy the dev model version")


class ProdStage(Stage):
    """One prod account's part: its project and output bucket (the copy is added by a promotion)."""

    def __init__(self, scope: Construct, id: str, *, account: str) -> None:
        super().__init__(scope, id, env=Environment(account=account, region=REGION))
        self.stack = ModelStageStack(
            self,
            "Model",
            description=f"Production ({account}): the model promoted from dev",
            project_name=PROD_PROJECT_NAME,
        )


@dataclass
class FanOutPipeline:
    """The pipeline app: the pipeline stack, the dev stage and the prod stages (one per account)."""

    app: App
    pipeline_stack: Stack
    pipeline: pipelines.CodePipeline
    dev: DevStage
    prods: list[ProdStage]
    promotions: list[RekognitionModelPromotion]


def build_pipeline(
    *, prod_accounts: Sequence[str] = PROD_ACCOUNTS, outdir: str | None = None
) -> FanOutPipeline:
    """A CDK Pipeline in the dev account: the dev stage, then the prod accounts in one wave."""
    app = App(outdir=outdir)
    stack = dev_account_stack(
        app,
        PIPELINE_STACK_NAME,
        "Deploys the model promotion: dev first, then every prod account in one wave",
    )
    pipeline = pipelines.CodePipeline(
        stack,
        "Pipeline",
        cross_account_keys=True,  # the stages deploy into other accounts
        synth=pipelines.ShellStep(
            "Synth",
            input=pipelines.CodePipelineSource.connection(REPOSITORY, "main", connection_arn=CONNECTION_ARN),
            commands=[
                "pip install -r requirements.txt",
                "pip install --no-deps .",
                'npx cdk synth --app "python -m examples.fan_out_app pipeline"',
            ],
        ),
    )
    dev = DevStage(stack, DEV_STAGE_ID)
    prods = [ProdStage(stack, prod_stage_id(account), account=account) for account in prod_accounts]
    promotions = [
        promote(dev.stack, prod.stack, account, Source())
        for prod, account in zip(prods, prod_accounts, strict=True)
    ]
    pipeline.add_stage(dev)
    wave = pipeline.add_wave(PROD_WAVE_ID)
    for prod in prods:
        wave.add_stage(prod)
    pipeline.build_pipeline()
    return FanOutPipeline(app, stack, pipeline, dev, prods, promotions)


def build_pipeline_app(*, prod_accounts: Sequence[str] = PROD_ACCOUNTS, outdir: str | None = None) -> App:
    """The CDK app of :func:`build_pipeline`."""
    return build_pipeline(prod_accounts=prod_accounts, outdir=outdir).app


if __name__ == "__main__":
    (build_pipeline_app() if sys.argv[1:] == ["pipeline"] else build_app()).synth()
