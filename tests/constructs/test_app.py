"""The example promotion app: its two templates, cfn-lint, and `cdk synth` through the repo's CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Capture, Match, Template

from rekognition_model_copy import POLICY_RESOURCE_TYPE, RESOURCE_TYPE
from tests.conftest import NODE_BIN, cfn_lint_errors

from .conftest import REPO_ROOT, AppStacks


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


def test_dev_stack_holds_the_project_policy_for_the_prod_account(app_stacks: AppStacks) -> None:
    import app

    assert (app_stacks.dev.account, app_stacks.dev.region) == (app.DEFAULT_DEV_ACCOUNT, app.DEFAULT_REGION)
    assert (app_stacks.prod.account, app_stacks.prod.region) == (app.DEFAULT_PROD_ACCOUNT, app.DEFAULT_REGION)
    assert app_stacks.dev.stack_name == app.DEV_STACK_NAME == "RekognitionModelPromotion-Dev"
    assert app_stacks.prod.stack_name == app.STACK_NAME == "RekognitionModelPromotion"
    role_name = f"{app.STACK_NAME}-ModelCopy-{app.DEFAULT_REGION}"
    role_arn = f"arn:aws:iam::{app.DEFAULT_PROD_ACCOUNT}:role/{role_name}"
    document = Capture()
    app_stacks.dev_template.has_resource_properties(
        POLICY_RESOURCE_TYPE,
        Match.object_like(
            {
                "ProjectArn": app.DEFAULT_SOURCE_PROJECT_ARN,
                "PolicyName": f"{app.DEV_STACK_NAME}.{app.PROMOTION_ID}",
                "PolicyDocument": document,
            }
        ),
    )
    # the account by default (the copy role's own policy narrows it): a role that does not exist yet when
    # the dev stack deploys would be rejected
    assert json.loads(document.as_string())["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{app.DEFAULT_PROD_ACCOUNT}:root"},
            "Action": "rekognition:CopyProjectVersion",
            "Resource": app.DEFAULT_SOURCE_VERSION_ARN,
        }
    ]
    app_stacks.dev_template.resource_count_is(RESOURCE_TYPE, 0)
    app_stacks.prod_template.resource_count_is(POLICY_RESOURCE_TYPE, 0)
    app_stacks.prod_template.has_resource_properties("AWS::IAM::Role", {"RoleName": role_name})
    app_stacks.prod_template.has_output("CopyRoleArn", {"Value": role_arn})
    app_stacks.dev_template.has_output(
        "PolicyRevisionId", {"Value": {"Fn::GetAtt": [Match.any_value(), "PolicyRevisionId"]}}
    )
    assert app_stacks.prod.dependencies == [app_stacks.dev]


def test_dev_template_passes_cfn_lint(app_stacks: AppStacks) -> None:
    assert cfn_lint_errors(app_stacks.dev_template) == []


def test_app_takes_accounts_and_arns_from_context() -> None:
    from app import DEV_STACK_NAME, STACK_NAME, build_app

    version = "arn:aws:rekognition:eu-west-1:333333333333:project/cats/version/cats.v2/1700000000009"
    app = build_app(
        {
            "dev_account": "333333333333",
            "prod_account": "444444444444",
            "region": "eu-west-1",
            "source_project_arn": "arn:aws:rekognition:eu-west-1:333333333333:project/cats/1700000000008",
            "source_version_arn": version,
            "principal": "role",
            "source_kms_key_arn": "arn:aws:kms:eu-west-1:333333333333:key/0000abcd-12ab-34cd-56ef",
        }
    )
    stack, dev = app.node.find_child(STACK_NAME), app.node.find_child(DEV_STACK_NAME)
    assert isinstance(stack, Stack) and isinstance(dev, Stack)
    assert (stack.account, stack.region) == ("444444444444", "eu-west-1")
    assert (dev.account, dev.region) == ("333333333333", "eu-west-1")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        RESOURCE_TYPE, Match.object_like({"SourceProjectVersionArn": version, "VersionName": "cats.v2"})
    )
    dev_template = Template.from_stack(dev)
    dev_template.has_resource_properties(
        POLICY_RESOURCE_TYPE,
        Match.object_like(
            {
                "PolicyDocument": Match.string_like_regexp(
                    '"arn:aws:iam::444444444444:role/RekognitionModelPromotion-ModelCopy-eu-west-1"'
                )
            }
        ),
    )
    # the source model's key: read rights in prod, the statements for its key policy as a dev output
    key_statements = Capture()
    dev_template.has_output("SourceKeyPolicyStatements", {"Value": key_statements})
    assert [s["Action"] for s in json.loads(key_statements.as_string())] == [
        ["kms:DescribeKey", "kms:Decrypt"],
        "kms:CreateGrant",
    ]
    assert cfn_lint_errors(template, region="eu-west-1") == []
    assert cfn_lint_errors(dev_template, region="eu-west-1") == []


def test_account_is_an_alias_of_prod_account_and_dev_account_follows_the_version() -> None:
    """What `make demo` passes: `account` (the prod account) and source ARNs of the dev account."""
    from app import DEV_STACK_NAME, STACK_NAME, build_app

    version = "arn:aws:rekognition:us-east-1:555555555555:project/p/version/v/1700000000009"
    app = build_app(
        {
            "account": "666666666666",
            "source_project_arn": "arn:aws:rekognition:us-east-1:555555555555:project/p/1700000000008",
            "source_version_arn": version,
        }
    )
    stack, dev = app.node.find_child(STACK_NAME), app.node.find_child(DEV_STACK_NAME)
    assert isinstance(stack, Stack) and isinstance(dev, Stack)
    assert (stack.account, dev.account, dev.region) == ("666666666666", "555555555555", "us-east-1")


def test_same_account_app_has_no_dev_stack() -> None:
    from app import DEV_STACK_NAME, STACK_NAME, build_app

    app = build_app({"prod_account": "111111111111"})
    assert app.node.try_find_child(DEV_STACK_NAME) is None
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, Stack)
    template = Template.from_stack(stack)
    template.resource_count_is(RESOURCE_TYPE, 1)
    template.resource_count_is(POLICY_RESOURCE_TYPE, 0)


def test_min_f1_score_context_puts_the_bar_on_the_dev_policy_not_on_the_copy() -> None:
    from app import DEV_STACK_NAME, STACK_NAME, build_app

    app = build_app({"min_f1_score": "0.9"})
    dev = Template.from_stack(app.node.find_child(DEV_STACK_NAME))  # type: ignore[arg-type]
    prod = Template.from_stack(app.node.find_child(STACK_NAME))  # type: ignore[arg-type]
    dev.has_resource_properties(POLICY_RESOURCE_TYPE, {"MinF1Score": 0.9})
    assert "MinF1Score" not in json.dumps(prod.find_resources(RESOURCE_TYPE))
    assert "rekognition:DescribeProjectVersions" in json.dumps(dev.find_resources("AWS::IAM::Policy"))
    with pytest.raises(ValueError, match="min_f1_score"):
        build_app({"min_f1_score": "1.5"})


@pytest.fixture(scope="module")
def cli_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """`cdk synth` as `make synth` runs it: the repo's Node and CDK CLI, cdk.json's app command."""
    assert (NODE_BIN / "cdk").exists(), "node_modules/.bin/cdk is missing: run `make test` (it installs it)"
    out = tmp_path_factory.mktemp("cdk.out")
    result = subprocess.run(
        [str(NODE_BIN / "cdk"), "synth", "--quiet", "--output", str(out)],
        cwd=REPO_ROOT,
        env={**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "CI": "true"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return {
        template_file.name.removesuffix(".template.json"): json.loads(template_file.read_text())
        for template_file in Path(out).glob("*.template.json")
    }


def test_cdk_synth_writes_both_templates(cli_templates: dict[str, dict[str, object]]) -> None:
    from app import DEV_STACK_NAME, STACK_NAME

    assert set(cli_templates) == {STACK_NAME, DEV_STACK_NAME}
    Template.from_json(cli_templates[STACK_NAME]).resource_count_is(RESOURCE_TYPE, 1)
    Template.from_json(cli_templates[DEV_STACK_NAME]).resource_count_is(POLICY_RESOURCE_TYPE, 1)


def test_asset_hash_is_the_same_in_another_process(
    cli_templates: dict[str, dict[str, object]], app_template: Template
) -> None:
    from app import STACK_NAME

    key = Capture()
    app_template.has_resource_properties("AWS::Lambda::Function", {"Code": {"S3Key": key}})
    Template.from_json(cli_templates[STACK_NAME]).has_resource_properties(
        "AWS::Lambda::Function", {"Code": {"S3Key": key.as_string()}}
    )
