"""Shared stacks for the construct tests: each synthesised once per session (jsii synths cost ~1-2 s)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
# jsii runs the CDK in Node: use the repo's pinned Node 22, not whatever `node` the machine has. Set before
# aws_cdk is first imported (the jsii kernel starts then).
if NODE_BIN.is_dir() and not os.environ.get("PATH", "").startswith(str(NODE_BIN)):
    os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

from aws_cdk import App, CfnParameter, Duration, Environment, RemovalPolicy, Stack  # noqa: E402
from aws_cdk import aws_kms as kms  # noqa: E402
from aws_cdk import aws_rekognition as rekognition  # noqa: E402
from aws_cdk import aws_s3 as s3  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from rekognition_model_copy import RekognitionModelCopy  # noqa: E402

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


@pytest.fixture(scope="session")
def app_template() -> Iterator[Template]:
    from app import STACK_NAME, build_app

    app = build_app()
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, Stack)
    yield Template.from_stack(stack)


def cfn_lint_errors(template: Template, region: str = REGION) -> list[str]:
    """cfn-lint's errors (E rules) for a synthesised template; warnings and informational rules pass."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=[region]))
    return [str(match) for match in matches if match.rule.id.startswith("E")]
