"""The example promotion app: its template, cfn-lint, and `cdk synth` through the repo's CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Capture, Match, Template

from rekognition_model_copy import RESOURCE_TYPE

from .conftest import NODE_BIN, REPO_ROOT, cfn_lint_errors


def test_app_module_is_import_safe() -> None:
    import app

    assert callable(app.build_app)


def test_app_stack_holds_project_key_bucket_and_copy(app_template: Template) -> None:
    import app

    app_template.resource_count_is(RESOURCE_TYPE, 1)
    app_template.has_resource_properties("AWS::Rekognition::Project", {"ProjectName": "prod-defects"})
    app_template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    key = Capture()
    app_template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]},
                            }
                        }
                    )
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    )
    app_template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )
    app_template.has_resource_properties(
        RESOURCE_TYPE,
        Match.object_like(
            {
                "SourceProjectArn": app.DEFAULT_SOURCE_PROJECT_ARN,
                "SourceProjectVersionArn": app.DEFAULT_SOURCE_VERSION_ARN,
                "DestinationProjectArn": {"Fn::GetAtt": ["Project", "Arn"]},
                "VersionName": "defects.2026-11-01",
                "KmsKeyId": {"Fn::GetAtt": [key.as_string(), "Arn"]},
            }
        ),
    )
    app_template.has_output(
        "ProjectVersionArn", {"Value": {"Fn::GetAtt": [Match.any_value(), "ProjectVersionArn"]}}
    )


def test_app_template_passes_cfn_lint(app_template: Template) -> None:
    assert cfn_lint_errors(app_template) == []


def test_app_takes_accounts_and_arns_from_context() -> None:
    from app import STACK_NAME, build_app

    version = "arn:aws:rekognition:eu-west-1:333333333333:project/cats/version/cats.v2/1700000000009"
    app = build_app(
        {
            "account": "444444444444",
            "region": "eu-west-1",
            "source_project_arn": "arn:aws:rekognition:eu-west-1:333333333333:project/cats/1700000000008",
            "source_version_arn": version,
        }
    )
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, Stack)
    assert (stack.account, stack.region) == ("444444444444", "eu-west-1")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        RESOURCE_TYPE, Match.object_like({"SourceProjectVersionArn": version, "VersionName": "cats.v2"})
    )
    assert cfn_lint_errors(template, region="eu-west-1") == []


@pytest.fixture(scope="module")
def cli_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`cdk synth` as `make synth` runs it: the repo's Node and CDK CLI, cdk.json's app command."""
    assert (NODE_BIN / "cdk").exists(), "node_modules/.bin/cdk is missing: run `make test` (it installs it)"
    out = tmp_path_factory.mktemp("cdk.out")
    result = subprocess.run(
        [str(NODE_BIN / "cdk"), "synth", "--quiet", "--output", str(out)],
        cwd=REPO_ROOT,
        env={**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "CI": "true"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (template_file,) = Path(out).glob("*.template.json")
    loaded: dict[str, object] = json.loads(template_file.read_text())
    return loaded


def test_cdk_synth_writes_a_model_copy_resource(cli_template: dict[str, object]) -> None:
    Template.from_json(cli_template).resource_count_is(RESOURCE_TYPE, 1)


def test_asset_hash_is_the_same_in_another_process(
    cli_template: dict[str, object], app_template: Template
) -> None:
    key = Capture()
    app_template.has_resource_properties("AWS::Lambda::Function", {"Code": {"S3Key": key}})
    Template.from_json(cli_template).has_resource_properties(
        "AWS::Lambda::Function", {"Code": {"S3Key": key.as_string()}}
    )
