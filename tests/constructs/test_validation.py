"""Synth-time validation: each bad value fails with a message naming it and the fix; tokens are skipped."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Duration, Environment, Stack
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3

from rekognition_model_copy import PROVIDER_ID, ModelCopyValidationError, RekognitionModelCopy

from .conftest import ACCOUNT, ENV, SOURCE_PROJECT_ARN, SOURCE_VERSION_ARN, valid_kwargs

OTHER_REGION_VERSION = SOURCE_VERSION_ARN.replace("us-east-1", "eu-west-1")
OTHER_REGION_PROJECT = SOURCE_PROJECT_ARN.replace("us-east-1", "eu-west-1")


def _new_stack(env: Environment | None = ENV) -> Stack:
    return Stack(App(), "ValidationStack", env=env)


BAD_VALUES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "source project arn shape",
        {"source_project_arn": "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects"},
        ["source_project_arn", "project/dev-defects'", "describe-projects"],
    ),
    (
        "version arn given as project arn",
        {"source_project_arn": SOURCE_VERSION_ARN},
        ["source_project_arn", "looks like a project version ARN"],
    ),
    (
        "source version arn shape",
        {"source_project_version_arn": SOURCE_PROJECT_ARN},
        ["source_project_version_arn", SOURCE_PROJECT_ARN, "describe-project-versions"],
    ),
    (
        "source project of another project",
        {"source_project_arn": SOURCE_PROJECT_ARN.replace("dev-defects", "other")},
        ["source_project_arn", "project name", "'other'", "'dev-defects'"],
    ),
    (
        "source project of another account",
        {"source_project_arn": SOURCE_PROJECT_ARN.replace("111111111111", "333333333333")},
        ["source_project_arn", "account", "'333333333333'", "'111111111111'"],
    ),
    (
        "source project in another region",
        {"source_project_arn": OTHER_REGION_PROJECT},
        ["source_project_arn", "region", "'eu-west-1'"],
    ),
    (
        "destination arn shape",
        {"destination_project": "prod-defects"},
        ["destination_project", "'prod-defects'", "Rekognition project ARN"],
    ),
    (
        "destination in another account",
        {"destination_project": "arn:aws:rekognition:us-east-1:444444444444:project/prod/1710000000000"},
        ["destination_project", "'444444444444'", f"'{ACCOUNT}'"],
    ),
    (
        "source and destination in different regions",
        {"source_project_arn": OTHER_REGION_PROJECT, "source_project_version_arn": OTHER_REGION_VERSION},
        ["one Region", "'eu-west-1'", "'us-east-1'"],
    ),
    (
        "version name pattern",
        {"version_name": "bad name!"},
        ["version_name", "'bad name!'", "letters, digits"],
    ),
    ("version name empty", {"version_name": ""}, ["version_name", "''"]),
    ("version name too long", {"version_name": "v" * 256}, ["version_name", "1-255"]),
    (
        "output prefix too long",
        {"output_prefix": "p" * 1025},
        ["output_prefix", "1024", "1025 characters"],
    ),
    (
        "too many tags",
        {"tags": {f"k{i}": "v" for i in range(200)}},
        ["tags", "at most 199", "got 200"],
    ),
    ("tag key aws:", {"tags": {"aws:owner": "me"}}, ["tags", "'aws:owner'", "reserved"]),
    ("tag key empty", {"tags": {"": "x"}}, ["tags", "1-128", "''"]),
    ("tag key too long", {"tags": {"k" * 129: "x"}}, ["tags", "1-128"]),
    ("tag value too long", {"tags": {"team": "v" * 257}}, ["tags", "'team'", "at most 256"]),
    ("timeout too long", {"timeout": Duration.hours(2)}, ["timeout", "7200 s", "3600"]),
    ("reserved tag", {"tags": {"rekognition-model-copy:owner": "x"}}, ["reserved", "Rename the key"]),
    ("reserved key tag", {"tags": {"rekognition-model-copy:kms-key": "x"}}, ["reserved", "Rename the key"]),
    ("zero units", {"min_inference_units": 0}, ["min_inference_units", "at least 1", "got 0"]),
    ("max without min", {"max_inference_units": 2}, ["max_inference_units", "needs min_inference_units"]),
    (
        "max below min",
        {"min_inference_units": 3, "max_inference_units": 2},
        ["max_inference_units (2) is smaller than min_inference_units (3)"],
    ),
    ("timeout under a second", {"timeout": Duration.millis(500)}, ["timeout", "0.5 s", "whole number"]),
    ("timeout zero", {"timeout": Duration.seconds(0)}, ["timeout", "0 s"]),
    (
        "source key as a key id",
        {"source_kms_key": "1234abcd-12ab-34cd-56ef-1234567890ab"},
        ["source_kms_key must be the ARN of a KMS key", "'1234abcd-12ab-34cd-56ef-1234567890ab'"],
    ),
    (
        "source key as an alias arn",
        {"source_kms_key": "arn:aws:kms:us-east-1:111111111111:alias/models"},
        ["source_kms_key", "not an alias", "KeyMetadata.Arn"],
    ),
    (
        "source key in another region",
        {"source_kms_key": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        ["source_kms_key", "region 'eu-west-1'", "'us-east-1'", "KmsKeyId"],
    ),
    (
        "source key in another partition",
        {"source_kms_key": "arn:aws-cn:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        ["source_kms_key", "partition 'aws-cn'", "'aws'"],
    ),
]


@pytest.mark.parametrize(
    ("overrides", "fragments"), [case[1:] for case in BAD_VALUES], ids=[case[0] for case in BAD_VALUES]
)
def test_bad_values_fail_before_any_construct_is_created(
    overrides: dict[str, Any], fragments: list[str]
) -> None:
    stack = _new_stack()
    with pytest.raises(ModelCopyValidationError) as raised:
        RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack, **overrides))  # type: ignore[arg-type]
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(raised.value, ValueError)
    # Nothing was added to the tree: neither the copy nor the shared provider.
    assert stack.node.try_find_child("Copy") is None
    assert stack.node.try_find_child(PROVIDER_ID) is None


def test_source_key_as_a_key_construct_or_a_token_passes() -> None:
    from aws_cdk import aws_kms as kms

    stack = _new_stack()
    key = kms.Key(stack, "SourceKey")
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack, source_kms_key=key))  # type: ignore[arg-type]
    parameter = CfnParameter(stack, "SourceKeyArn").value_as_string
    kwargs = valid_kwargs(stack, source_kms_key=parameter, version_name="other")
    RekognitionModelCopy(stack, "Other", **kwargs)  # type: ignore[arg-type]


def test_arns_in_a_region_other_than_the_stacks() -> None:
    stack = _new_stack(Environment(account=ACCOUNT, region="eu-west-1"))
    with pytest.raises(
        ModelCopyValidationError,
        match=r"source_project_version_arn is in Region 'us-east-1' but the stack deploys to 'eu-west-1'",
    ) as raised:
        RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    assert "Deploy the stack to 'us-east-1'" in str(raised.value)


def test_cfn_project_with_bad_name() -> None:
    stack = _new_stack()
    project = rekognition.CfnProject(stack, "Project", project_name="-bad name")
    with pytest.raises(ModelCopyValidationError, match=r"project_name.*'-bad name'.*Rename the CfnProject"):
        RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack, destination_project=project))  # type: ignore[arg-type]


def test_cfn_project_region_is_the_stacks_region_and_is_checked() -> None:
    stack = _new_stack(Environment(account=ACCOUNT, region="eu-west-1"))
    project = rekognition.CfnProject(stack, "Project", project_name="prod")
    with pytest.raises(ModelCopyValidationError, match=r"one Region.*'us-east-1'.*'eu-west-1'"):
        RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack, destination_project=project))  # type: ignore[arg-type]


def test_tokens_skip_validation() -> None:
    """Deploy-time values cannot be checked at synth time: the construct accepts them as they are."""
    stack = _new_stack(env=None)
    token = CfnParameter(stack, "Anything").value_as_string
    copy = RekognitionModelCopy(
        stack,
        "Copy",
        source_project_arn=token,
        source_project_version_arn=token,
        destination_project=token,
        version_name=CfnParameter(stack, "VersionName").value_as_string,
        output_bucket=s3.Bucket.from_bucket_name(stack, "Bucket", token),
        output_prefix=token,
        tags={"team": token},
        timeout=Duration.seconds(CfnParameter(stack, "Seconds", type="Number").value_as_number),
    )
    assert stack.resolve(copy.resource.get_att("VersionName")) == {
        "Fn::GetAtt": [stack.get_logical_id(copy.resource.node.default_child), "VersionName"]  # type: ignore[arg-type]
    }
    assert stack.node.try_find_child(PROVIDER_ID) is not None


def test_valid_arguments_in_an_environment_agnostic_stack() -> None:
    stack = _new_stack(env=None)
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    assert stack.node.try_find_child("Copy") is not None


def test_boundary_values_are_accepted() -> None:
    stack = _new_stack()
    RekognitionModelCopy(
        stack,
        "Copy",
        **valid_kwargs(  # type: ignore[arg-type]
            stack,
            version_name="v" * 255,
            output_prefix="p" * 1024,
            tags={f"k{i}": "v" * 256 for i in range(198)} | {"k" * 128: ""},
            timeout=Duration.seconds(1),
        ),
    )
    RekognitionModelCopy(stack, "Copy2", **valid_kwargs(stack, timeout=Duration.hours(1)))  # type: ignore[arg-type]


def test_arguments_after_scope_and_id_are_keyword_only() -> None:
    parameters = list(inspect.signature(RekognitionModelCopy.__init__).parameters.values())
    assert [p.name for p in parameters[:3]] == ["self", "scope", "id"]
    # the keywords of CopyProps, unpacked: keyword-only
    assert [(p.name, p.kind) for p in parameters[3:]] == [("props", inspect.Parameter.VAR_KEYWORD)]
    stack = Stack(App(), "Positional", env=ENV)
    with pytest.raises(TypeError, match="positional"):
        RekognitionModelCopy(stack, "Copy", SOURCE_PROJECT_ARN)  # type: ignore[call-arg, arg-type]
