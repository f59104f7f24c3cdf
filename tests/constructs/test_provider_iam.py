"""The backing function and the permissions it gets: scoped to what the copies and the polling touch."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from rekognition_model_copy import permissions
from rekognition_model_copy.contract import POLL_RULE_PREFIX_ENV

from .conftest import ACCOUNT, DEST_PROJECT_ARN, REGION, SOURCE_PROJECT_ARN, SOURCE_VERSION_ARN, CopyStacks

PARTITION = {"Ref": "AWS::Partition"}


def _statements(template: Template) -> list[dict[str, Any]]:
    """Every statement of every identity policy and key policy of the template."""
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for key in template.find_resources("AWS::KMS::Key").values():
        statements += key["Properties"]["KeyPolicy"]["Statement"]
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statement(actions: Any, resource: Any, **extra: Any) -> Any:
    return Match.object_like({"Effect": "Allow", "Action": actions, "Resource": resource, **extra})


def _among(*resources: Any) -> Any:
    """The copies of a stack share one statement per action set: each adds its resources to it."""
    return Match.array_with(list(resources))


def _role_statements(template: Template, *statements: Any) -> None:
    template.has_resource_properties(
        "AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with(list(statements))}}
    )


@pytest.fixture(scope="module")
def poll_rule_prefix(template: Template) -> str:
    prefix = Capture()
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": {POLL_RULE_PREFIX_ENV: prefix}}}
    )
    return prefix.as_string()


def test_function_settings(template: Template) -> None:
    log_group = Capture()
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.13",
            "Handler": "index.handler",
            "Timeout": 900,
            "MemorySize": 128,
            "Architectures": ["arm64"],
            "LoggingConfig": {"LogGroup": {"Ref": log_group}},
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    assert log_group.as_string().startswith("RekognitionModelCopyProviderLogGroup")
    # The deprecated log_retention would add a Custom::LogRetention function.
    template.resource_count_is("Custom::LogRetention", 0)


def test_poll_rule_prefix_is_short_and_rule_name_safe(poll_rule_prefix: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_.-]{1,16}", poll_rule_prefix)
    assert re.fullmatch(r"rmc-[0-9a-f]{8}", poll_rule_prefix)


def test_eventbridge_may_invoke_the_function_only_from_the_polling_rules(
    template: Template, poll_rule_prefix: str
) -> None:
    function_id = Capture()
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "SourceAccount": ACCOUNT,
            "SourceArn": {
                "Fn::Join": ["", ["arn:", PARTITION, f":events:{REGION}:{ACCOUNT}:rule/{poll_rule_prefix}*"]]
            },
        },
    )
    assert function_id.as_string().startswith("RekognitionModelCopyProviderFunction")


def test_role_manages_only_its_polling_rules(template: Template, poll_rule_prefix: str) -> None:
    _role_statements(
        template,
        _statement(
            [
                "events:PutRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:DeleteRule",
                "events:DescribeRule",
            ],
            {"Fn::Join": ["", ["arn:", PARTITION, f":events:{REGION}:{ACCOUNT}:rule/{poll_rule_prefix}*"]]},
        ),
    )


def test_role_writes_only_its_own_log_group(template: Template) -> None:
    _role_statements(
        template,
        _statement(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            {"Fn::GetAtt": [Match.string_like_regexp("^RekognitionModelCopyProviderLogGroup"), "Arn"]},
        ),
    )
    template.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})


def test_no_runtime_permission_management_and_no_wildcard_resources(copy_stacks: CopyStacks) -> None:
    for template in (copy_stacks.template, copy_stacks.agnostic_template):
        for statement in _statements(template):
            actions = _as_list(statement["Action"])
            assert "lambda:AddPermission" not in actions
            assert "lambda:RemovePermission" not in actions
            assert not [a for a in actions if a.startswith("iam:")], statement
            if "Principal" in statement:  # key policies: the default account-root administrator statement
                continue
            if set(actions) <= set(permissions.CONCURRENCY_ACTIONS):
                assert _as_list(statement["Resource"]) == ["*"], statement  # it has no resource type
                continue
            assert "*" not in _as_list(statement["Resource"]), statement


def test_copy_rights_on_the_source_version_and_destination_project(template: Template) -> None:
    project_arn = {"Fn::GetAtt": ["Project", "Arn"]}
    _role_statements(
        template,
        _statement(
            "rekognition:CopyProjectVersion", _among(SOURCE_PROJECT_ARN, SOURCE_VERSION_ARN, project_arn)
        ),
        # CopyProjectVersion's dependent action CreateProjectVersion (Service Authorization Reference)
        _statement(
            ["rekognition:CreateProjectVersion", "rekognition:DescribeProjectVersions"], _among(project_arn)
        ),
        # TagResource: CopyProjectVersion's other dependent action, on the new version
        _statement(
            [
                "rekognition:TagResource",
                "rekognition:UntagResource",
                "rekognition:ListTagsForResource",
                "rekognition:StartProjectVersion",
                "rekognition:StopProjectVersion",
                "rekognition:DeleteProjectVersion",
            ],
            _among(
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            PARTITION,
                            f":rekognition:{REGION}:{ACCOUNT}:project/prod-defects/version/*",
                        ],
                    ]
                }
            ),
        ),
    )


def test_literal_destination_arn_is_parsed_at_synth_time(template: Template) -> None:
    _role_statements(
        template,
        _statement(
            "rekognition:CopyProjectVersion", _among(SOURCE_PROJECT_ARN, SOURCE_VERSION_ARN, DEST_PROJECT_ARN)
        ),
        _statement(
            ["rekognition:CreateProjectVersion", "rekognition:DescribeProjectVersions"],
            _among(DEST_PROJECT_ARN),
        ),
        _statement(
            Match.array_with(["rekognition:DeleteProjectVersion"]),
            _among(f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/prod-imported/version/*"),
        ),
    )


def test_token_destination_arn_is_split_at_deploy_time(template: Template) -> None:
    dest = {"Ref": "DestinationProjectArn"}

    def part(index: int) -> dict[str, Any]:
        return {"Fn::Select": [index, {"Fn::Split": [":", dest]}]}

    name = {"Fn::Select": [1, {"Fn::Split": ["/", part(5)]}]}
    _role_statements(
        template,
        _statement(
            "rekognition:CopyProjectVersion",
            _among({"Ref": "SourceProjectArn"}, {"Ref": "SourceVersionArn"}, dest),
        ),
        _statement(
            Match.array_with(["rekognition:DeleteProjectVersion"]),
            _among(
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            part(1),
                            ":rekognition:",
                            part(3),
                            ":",
                            part(4),
                            ":project/",
                            name,
                            "/version/*",
                        ],
                    ]
                }
            ),
        ),
    )


def test_s3_rights_are_scoped_to_the_bucket_and_prefix(template: Template) -> None:
    bucket_arn = {"Fn::GetAtt": [Match.string_like_regexp("^OutputBucket"), "Arn"]}
    _role_statements(
        template,
        # AmazonRekognitionCustomLabelsFullAccess's set without ListAllMyBuckets, no undocumented condition
        _statement(["s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketLocation"], bucket_arn),
        _statement(
            [
                "s3:PutObject",
                "s3:GetObject",
                "s3:GetObjectAcl",
                "s3:GetObjectTagging",
                "s3:GetObjectVersion",
            ],
            _among({"Fn::Join": ["", [bucket_arn, "/models/primary/*"]]}),
        ),
    )
    for statement in _statements(template):
        assert "Condition" not in statement or "s3:prefix" not in json.dumps(statement["Condition"])


def test_kms_rights_through_grants_on_the_given_key(template: Template) -> None:
    key_arn = {"Fn::GetAtt": [Match.string_like_regexp("^ModelKey"), "Arn"]}
    _role_statements(
        template,
        _statement(["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"], key_arn),
        _statement("kms:CreateGrant", key_arn, Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
    )


def test_kms_rights_on_the_output_buckets_key(copy_stacks: CopyStacks) -> None:
    """No encryption_key, but an SSE-KMS bucket: Rekognition writes the output through the caller."""
    key_arn = {"Fn::GetAtt": [Match.string_like_regexp("^BucketKey"), "Arn"]}
    _role_statements(
        copy_stacks.agnostic_template,
        _statement(["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"], key_arn),
    )
    copy_stacks.agnostic_template.has_resource_properties(
        "Custom::RekognitionModelCopy", Match.object_like({"KmsKeyId": Match.absent()})
    )


def test_environment_agnostic_stack_builds_arns_from_pseudo_parameters(copy_stacks: CopyStacks) -> None:
    region, account = {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}
    _role_statements(
        copy_stacks.agnostic_template,
        _statement(
            Match.array_with(["events:PutRule"]),
            {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        PARTITION,
                        ":events:",
                        region,
                        ":",
                        account,
                        Match.string_like_regexp(r"^:rule/rmc-[0-9a-f]{8}\*$"),
                    ],
                ]
            },
        ),
        _statement(
            Match.array_with(["rekognition:DeleteProjectVersion"]),
            {
                "Fn::Join": [
                    "",
                    ["arn:", PARTITION, ":rekognition:", region, ":", account, ":project/agnostic/version/*"],
                ]
            },
        ),
    )


def test_the_provider_is_grantable_like_any_cdk_principal() -> None:
    """``@jsii.implements(iam.IGrantable)``: a CDK grant reaches the provider's role (without the declaration
    the CDK side sees no ``grantPrincipal`` and the grant fails)."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_sqs as sqs

    from rekognition_model_copy import RekognitionModelCopyProvider

    from .conftest import ENV

    stack = Stack(App(), "Grantable", env=ENV)
    provider = RekognitionModelCopyProvider.of(stack)
    queue = sqs.Queue(stack, "Queue")
    grant = queue.grant_send_messages(provider)
    assert grant.success
    role = stack.get_logical_id(provider.role.node.default_child)  # type: ignore[arg-type]
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": role}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.array_with(["sqs:SendMessage"]), "Effect": "Allow"})]
                )
            },
        },
    )
