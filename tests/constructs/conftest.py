"""Shared stacks for the construct tests: each synthesised once per session (jsii synths cost ~1-2 s)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

from aws_cdk import App, CfnParameter, Duration, Environment, RemovalPolicy, Stack  # noqa: E402
from aws_cdk import aws_kms as kms  # noqa: E402
from aws_cdk import aws_rekognition as rekognition  # noqa: E402
from aws_cdk import aws_s3 as s3  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from rekognition_model_copy import (  # noqa: E402
    RekognitionModelCopy,
    RekognitionModelPromotion,
    RekognitionProjectPolicy,
)

ACCOUNT = "222222222222"
REGION = "us-east-1"
SOURCE_ACCOUNT = "111111111111"
_SOURCE_PROJECT = f"arn:aws:rekognition:{REGION}:{SOURCE_ACCOUNT}:project/dev-defects"
SOURCE_PROJECT_ARN = f"{_SOURCE_PROJECT}/1700000000000"
SOURCE_VERSION_ARN = f"{_SOURCE_PROJECT}/version/defects.2026-11-01/1700000000001"
DEST_PROJECT_ARN = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/prod-imported/1710000000000"
ENV = Environment(account=ACCOUNT, region=REGION)


def valid_kwargs(stack: Stack, **overrides: object) -> dict[str, object]:
    """Arguments of a copy that passes validation, in ``stack``; ``overrides`` replace any of them."""
    kwargs: dict[str, object] = {
        "source_project_arn": SOURCE_PROJECT_ARN,
        "source_project_version_arn": SOURCE_VERSION_ARN,
        "destination_project": DEST_PROJECT_ARN,
        "version_name": "defects.2026-11-01",
        "output_bucket": stack.node.try_find_child("OutputBucket")
        or s3.Bucket.from_bucket_name(stack, "OutputBucket", "prod-output"),
    }
    kwargs.update(overrides)
    return kwargs


@dataclass
class CopyStacks:
    """The session's main test app: three copies in one stack, one copy in an environment-agnostic stack."""

    app: App
    stack: Stack
    template: Template
    primary: RekognitionModelCopy
    by_arn: RekognitionModelCopy
    by_token: RekognitionModelCopy
    agnostic_stack: Stack
    agnostic_template: Template


def _build_copy_stacks() -> CopyStacks:
    app = App()
    stack = Stack(app, "CopyStack", env=ENV)
    key = kms.Key(stack, "ModelKey", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "OutputBucket", enforce_ssl=True)
    project = rekognition.CfnProject(stack, "Project", project_name="prod-defects")

    # 1: a project of this stack, a key, tags, RETAIN, a custom prefix and timeout.
    primary = RekognitionModelCopy(
        stack,
        "Primary",
        source_project_arn=SOURCE_PROJECT_ARN,
        source_project_version_arn=SOURCE_VERSION_ARN,
        destination_project=project,
        version_name="defects.2026-11-01",
        output_bucket=bucket,
        output_prefix="models/primary/",
        encryption_key=key,
        tags={"team": "vision", "stage": "prod"},
        removal_policy=RemovalPolicy.RETAIN,
        timeout=Duration.minutes(30),
    )
    # 2: a literal destination ARN; every default.
    by_arn = RekognitionModelCopy(
        stack,
        "ByArn",
        source_project_arn=SOURCE_PROJECT_ARN,
        source_project_version_arn=SOURCE_VERSION_ARN,
        destination_project=DEST_PROJECT_ARN,
        version_name="by-arn",
        output_bucket=bucket,
    )
    # 3: deploy-time values everywhere: nothing can be checked or parsed at synth time.
    source_project_param = CfnParameter(stack, "SourceProjectArn")
    source_version_param = CfnParameter(stack, "SourceVersionArn")
    dest_param = CfnParameter(stack, "DestinationProjectArn")
    by_token = RekognitionModelCopy(
        stack,
        "ByToken",
        source_project_arn=source_project_param.value_as_string,
        source_project_version_arn=source_version_param.value_as_string,
        destination_project=dest_param.value_as_string,
        version_name="by-token",
        output_bucket=bucket,
    )

    agnostic_stack = Stack(app, "AgnosticStack")
    agnostic_project = rekognition.CfnProject(agnostic_stack, "Project", project_name="agnostic")
    agnostic_key = kms.Key(agnostic_stack, "BucketKey")
    agnostic_bucket = s3.Bucket(
        agnostic_stack, "OutputBucket", encryption=s3.BucketEncryption.KMS, encryption_key=agnostic_key
    )
    RekognitionModelCopy(
        agnostic_stack,
        "Copy",
        source_project_arn=SOURCE_PROJECT_ARN,
        source_project_version_arn=SOURCE_VERSION_ARN,
        destination_project=agnostic_project,
        version_name="agnostic",
        output_bucket=agnostic_bucket,
    )

    return CopyStacks(
        app=app,
        stack=stack,
        template=Template.from_stack(stack),
        primary=primary,
        by_arn=by_arn,
        by_token=by_token,
        agnostic_stack=agnostic_stack,
        agnostic_template=Template.from_stack(agnostic_stack),
    )


@pytest.fixture(scope="session")
def copy_stacks() -> CopyStacks:
    return _build_copy_stacks()


@pytest.fixture(scope="session")
def template(copy_stacks: CopyStacks) -> Template:
    return copy_stacks.template


@dataclass
class AppStacks:
    """The example app (app.py) with its default context: the dev stack and the prod stack."""

    app: App
    dev: Stack
    prod: Stack
    dev_template: Template
    prod_template: Template


@pytest.fixture(scope="session")
def app_stacks() -> AppStacks:
    from app import DEV_STACK_NAME, STACK_NAME, build_app

    app = build_app()
    dev, prod = app.node.find_child(DEV_STACK_NAME), app.node.find_child(STACK_NAME)
    assert isinstance(dev, Stack) and isinstance(prod, Stack)
    return AppStacks(app, dev, prod, Template.from_stack(dev), Template.from_stack(prod))


@pytest.fixture(scope="session")
def app_template(app_stacks: AppStacks) -> Iterator[Template]:
    yield app_stacks.prod_template


# --- Project policies and promotions -------------------------------------------------------------------

SOURCE_VERSION_2_ARN = f"{_SOURCE_PROJECT}/version/defects.2026-12-01/1700000000002"
IMPORTED_KEY_ARN = "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SOURCE_KEY_ARN = f"arn:aws:kms:us-east-1:{SOURCE_ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab"
DEV_ENV = Environment(account=SOURCE_ACCOUNT, region=REGION)
DEV_STACK = "DevStack"
PROD_STACK = "ProdStack"


@dataclass
class PromotionStacks:
    """Two cross-account promotions dev -> prod (role and account principals) and a same-account one."""

    app: App
    dev: Stack
    prod: Stack
    dev_template: Template
    prod_template: Template
    by_role: RekognitionModelPromotion
    by_account: RekognitionModelPromotion
    same_source: Stack
    same_destination: Stack
    same_source_template: Template
    same_destination_template: Template
    same_account: RekognitionModelPromotion


def _build_promotion_stacks() -> PromotionStacks:
    app = App()
    dev = Stack(app, DEV_STACK, env=DEV_ENV)
    prod = Stack(app, PROD_STACK, env=ENV)
    key = kms.Key(prod, "ModelKey", enable_key_rotation=True)
    bucket = s3.Bucket(prod, "OutputBucket", enforce_ssl=True)
    project = rekognition.CfnProject(prod, "Project", project_name="prod-defects")

    # 1: the copy role as principal (opt-in), a key of the prod stack, a custom prefix.
    by_role = RekognitionModelPromotion(
        id="ByRole",
        source_stack=dev,
        destination_stack=prod,
        source_project_arn=SOURCE_PROJECT_ARN,
        source_project_version_arn=SOURCE_VERSION_ARN,
        destination_project=project,
        version_name="defects.2026-11-01",
        output_bucket=bucket,
        output_prefix="promoted/by-role/",
        encryption_key=key,
        principal="role",
    )
    # 2: the default principal (the prod account), a named policy, a key of a third account imported by
    # ARN, a source model trained with a customer managed key of the dev account.
    by_account = RekognitionModelPromotion(
        id="ByAccount",
        source_stack=dev,
        destination_stack=prod,
        source_project_arn=SOURCE_PROJECT_ARN,
        source_project_version_arn=SOURCE_VERSION_2_ARN,
        destination_project=project,
        version_name="defects.2026-12-01",
        output_bucket=bucket,
        encryption_key=kms.Key.from_key_arn(prod, "ImportedKey", IMPORTED_KEY_ARN),
        policy_name="promote-to-prod",
        source_kms_key=SOURCE_KEY_ARN,
    )

    # 3: within one account (prod -> prod, two stacks): no policy, no stack dependency.
    same_source = Stack(app, "SameAccountSource", env=ENV)
    same_destination = Stack(app, "SameAccountDestination", env=ENV)
    prod_version = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/prod-imported/version/v1/1710000000001"
    same_account = RekognitionModelPromotion(
        id="SameAccount",
        source_stack=same_source,
        destination_stack=same_destination,
        source_project_arn=DEST_PROJECT_ARN,
        source_project_version_arn=prod_version,
        destination_project=rekognition.CfnProject(same_destination, "Project", project_name="prod-copies"),
        version_name="v1-copy",
        output_bucket=s3.Bucket.from_bucket_name(same_destination, "OutputBucket", "prod-output"),
    )
    return PromotionStacks(
        app=app,
        dev=dev,
        prod=prod,
        dev_template=Template.from_stack(dev),
        prod_template=Template.from_stack(prod),
        by_role=by_role,
        by_account=by_account,
        same_source=same_source,
        same_destination=same_destination,
        same_source_template=Template.from_stack(same_source),
        same_destination_template=Template.from_stack(same_destination),
        same_account=same_account,
    )


@pytest.fixture(scope="session")
def promotion_stacks() -> PromotionStacks:
    return _build_promotion_stacks()


@dataclass
class PolicyStacks:
    """Project policies on their own: a literal project ARN, a CfnProject, RETAIN and a custom name."""

    app: App
    stack: Stack
    template: Template
    by_arn: RekognitionProjectPolicy
    on_cfn_project: RekognitionProjectPolicy
    retained: RekognitionProjectPolicy


ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/prod-copier"


def _build_policy_stacks() -> PolicyStacks:
    from aws_cdk import aws_iam as iam

    app = App()
    stack = Stack(app, "PolicyStack", env=DEV_ENV)
    by_arn = RekognitionProjectPolicy(stack, "ByArn", project=SOURCE_PROJECT_ARN)
    by_arn.add_copy_permission(
        principal=ROLE_ARN, source_project_version_arn=SOURCE_VERSION_ARN, sid="ToProd"
    )
    by_arn.add_copy_permission(principal="444444444444", source_project_version_arn=SOURCE_VERSION_2_ARN)
    # The same permission again: one statement.
    by_arn.add_copy_permission(principal="444444444444", source_project_version_arn=SOURCE_VERSION_2_ARN)
    by_arn.add_statement(
        iam.PolicyStatement(
            effect=iam.Effect.DENY,
            principals=[iam.ArnPrincipal("arn:aws:iam::555555555555:root")],
            actions=["rekognition:CopyProjectVersion"],
            resources=[SOURCE_VERSION_ARN],
        )
    )

    project = rekognition.CfnProject(stack, "Project", project_name="dev-local")
    on_cfn_project = RekognitionProjectPolicy(stack, "OnCfnProject", project=project)
    local_version = (
        f"arn:aws:rekognition:{REGION}:{SOURCE_ACCOUNT}:project/dev-local/version/v1/1700000000003"
    )
    on_cfn_project.add_copy_permission(principal=ROLE_ARN, source_project_version_arn=local_version)

    retained = RekognitionProjectPolicy(
        stack,
        "Retained",
        project=SOURCE_PROJECT_ARN,
        policy_name="keep-me",
        removal_policy=RemovalPolicy.RETAIN,
        timeout=Duration.minutes(3),
    )
    retained.add_copy_permission(principal=ROLE_ARN, source_project_version_arn=SOURCE_VERSION_ARN)
    return PolicyStacks(
        app=app,
        stack=stack,
        template=Template.from_stack(stack),
        by_arn=by_arn,
        on_cfn_project=on_cfn_project,
        retained=retained,
    )


@pytest.fixture(scope="session")
def policy_stacks() -> PolicyStacks:
    return _build_policy_stacks()
