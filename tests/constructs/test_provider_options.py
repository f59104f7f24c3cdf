"""The provider's options (``RekognitionModelCopyProvider.of(stack, vpc=..., ...)``): what each synthesises,
the permissions boundary reaching every role, the errors at synth, and a role the user brings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from rekognition_model_copy import (
    ModelCopyValidationError,
    RekognitionModelCopy,
    RekognitionModelCopyProvider,
    RekognitionProjectPolicy,
)
from rekognition_model_copy.contract import RESERVED_CONCURRENCY_ENV
from rekognition_model_copy.provider import VPC_ACCESS_ACTIONS

from .conftest import ENV, SOURCE_PROJECT_ARN, valid_kwargs

OWN_PROJECT_ARN = "arn:aws:rekognition:us-east-1:222222222222:project/shared/1710000000000"
BOUNDARY = "arn:aws:iam::222222222222:policy/ModelCopyBoundary"


def _stack() -> Stack:
    return Stack(App(), "Options", env=ENV)


def _function(template: Template) -> dict[str, Any]:
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    return dict(function)


def _role_actions(template: Template) -> set[str]:
    actions: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found = statement["Action"]
            actions.update([found] if isinstance(found, str) else found)
    return actions


def _every_option(stack: Stack, **overrides: Any) -> dict[str, Any]:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    key = kms.Key(stack, "Key")
    options: dict[str, Any] = {
        "vpc": vpc,
        "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        "security_groups": [ec2.SecurityGroup(stack, "FunctionSg", vpc=vpc)],
        "reserved_concurrent_executions": 5,
        "log_group": logs.LogGroup(stack, "Logs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR),
        "environment_encryption": key,
        "dead_letter_queue": sqs.Queue(
            stack, "Dlq", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key
        ),
    }
    options.update(overrides)
    return options


def test_every_option_reaches_the_function() -> None:
    stack = _stack()
    options = _every_option(stack)
    provider = RekognitionModelCopyProvider.of(stack, **options)
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    template = Template.from_stack(stack)

    properties = _function(template)["Properties"]
    resolve = stack.resolve
    assert properties["ReservedConcurrentExecutions"] == 5
    # The handler sizes its in-process wait from it without asking Lambda.
    assert properties["Environment"]["Variables"][RESERVED_CONCURRENCY_ENV] == "5"
    assert properties["KmsKeyArn"] == resolve(options["environment_encryption"].key_arn)
    assert properties["LoggingConfig"]["LogGroup"] == resolve(options["log_group"].log_group_name)
    assert properties["DeadLetterConfig"]["TargetArn"] == resolve(options["dead_letter_queue"].queue_arn)
    isolated = options["vpc"].select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
    assert properties["VpcConfig"]["SubnetIds"] == resolve(isolated)
    assert properties["VpcConfig"]["SecurityGroupIds"] == [
        resolve(options["security_groups"][0].security_group_id)
    ]
    # The library's own log group is not made when one is given.
    assert len(template.find_resources("AWS::Logs::LogGroup")) == 1
    actions = _role_actions(template)
    assert set(VPC_ACCESS_ACTIONS) <= actions
    assert {"sqs:SendMessage", "kms:GenerateDataKey", "kms:Decrypt", "logs:PutLogEvents"} <= actions
    assert provider.reserved_concurrent_executions == 5
    assert RekognitionModelCopyProvider.of(stack) is provider


def test_without_options_nothing_changes() -> None:
    stack = _stack()
    provider = RekognitionModelCopyProvider.of(stack)
    properties = _function(Template.from_stack(stack))["Properties"]
    for absent in ("VpcConfig", "ReservedConcurrentExecutions", "KmsKeyArn", "DeadLetterConfig"):
        assert absent not in properties
    assert RESERVED_CONCURRENCY_ENV not in properties["Environment"]["Variables"]
    assert provider.reserved_concurrent_executions is None
    assert not set(VPC_ACCESS_ACTIONS) & _role_actions(Template.from_stack(stack))


@pytest.mark.parametrize("with_options", [False, True], ids=["defaults", "every option"])
def test_the_permissions_boundary_reaches_every_role(with_options: bool) -> None:
    stack = _stack()
    if with_options:
        RekognitionModelCopyProvider.of(stack, **_every_option(stack))
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    policy = RekognitionProjectPolicy(stack, "Policy", project=OWN_PROJECT_ARN, policy_name="share")
    version = "arn:aws:rekognition:us-east-1:222222222222:project/shared/version/v1/1710000000001"
    policy.add_copy_permission(principal="333333333333", source_project_version_arn=version)
    iam.PermissionsBoundary.of(stack).apply(iam.ManagedPolicy.from_managed_policy_arn(stack, "B", BOUNDARY))
    roles = Template.from_stack(stack).find_resources("AWS::IAM::Role")
    assert roles
    assert {name: role["Properties"].get("PermissionsBoundary") for name, role in roles.items()} == {
        name: BOUNDARY for name in roles
    }


def test_options_after_the_provider_exists_are_an_error() -> None:
    stack = _stack()
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    with pytest.raises(ModelCopyValidationError) as raised:
        RekognitionModelCopyProvider.of(stack, reserved_concurrent_executions=5)
    message = str(raised.value)
    assert "exists already (with no options)" in message
    assert "reserved_concurrent_executions" in message
    assert "before the first copy" in message


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"reserved_concurrent_executions": 0}, "at least 1"),
        ({"reserved_concurrent_executions": 2.5}, "whole number"),
        ({"vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)}, "needs vpc="),
        ({"role_name": "x", "role": "ROLE"}, "not both"),
        ({"dead_letter_queue": "FIFO"}, "FIFO queue"),
        ({"security_groups": "IMPORTED"}, "a list of security groups"),
    ],
    ids=[
        "zero concurrency",
        "fractional concurrency",
        "subnets without vpc",
        "role and role_name",
        "fifo",
        "one imported group",
    ],
)
def test_bad_options_fail_at_synth(options: dict[str, Any], expected: str) -> None:
    stack = _stack()
    if options.get("role") == "ROLE":
        options["role"] = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    if options.get("security_groups") == "IMPORTED":
        options["vpc"] = ec2.Vpc(stack, "Vpc")
        options["security_groups"] = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-12345678")
    if options.get("dead_letter_queue") == "FIFO":
        options["dead_letter_queue"] = sqs.Queue(stack, "Fifo", fifo=True)
    with pytest.raises(ModelCopyValidationError, match=expected):
        RekognitionModelCopyProvider.of(stack, **options)
    assert stack.node.try_find_child("RekognitionModelCopyProvider") is None


def test_a_mutable_role_of_the_user_gets_the_statements() -> None:
    stack = _stack()
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    provider = RekognitionModelCopyProvider.of(stack, role=role, vpc=ec2.Vpc(stack, "Vpc", nat_gateways=0))
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    template = Template.from_stack(stack)
    assert len(template.find_resources("AWS::IAM::Role")) == 1
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == [stack.resolve(role.role_name)]
    assert {"rekognition:CopyProjectVersion", *VPC_ACCESS_ACTIONS} <= _role_actions(template)
    assert _function(template)["Properties"]["Role"] == stack.resolve(role.role_arn)
    assert provider.unattached_statements == []
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("immutable"))


def test_an_immutable_role_gets_nothing_and_the_statements_are_listed() -> None:
    stack = _stack()
    arn = "arn:aws:iam::222222222222:role/platform/ModelCopy"
    role = iam.Role.from_role_arn(stack, "Platform", arn, mutable=False)
    queue, key = sqs.Queue(stack, "Dlq"), kms.Key(stack, "K")
    provider = RekognitionModelCopyProvider.of(
        stack, role=role, dead_letter_queue=queue, environment_encryption=key
    )
    RekognitionModelCopy(stack, "Copy", **valid_kwargs(stack))  # type: ignore[arg-type]
    template = Template.from_stack(stack)
    assert template.find_resources("AWS::IAM::Policy") == {}
    assert template.find_resources("AWS::IAM::Role") == {}
    assert provider.role_name == "ModelCopy"
    listed = json.dumps(stack.resolve(provider.role_policy_document().to_json()))
    needed = ("rekognition:CopyProjectVersion", "events:PutRule", "logs:PutLogEvents", "sqs:SendMessage")
    for action in needed:
        assert action in listed
    Annotations.from_stack(stack).has_warning(
        "/Options/RekognitionModelCopyProvider", Match.string_like_regexp("rekognition:CopyProjectVersion")
    )


def test_a_promotion_into_a_stack_with_a_named_role_of_the_user_uses_that_name() -> None:
    from rekognition_model_copy import ProjectVersion, RekognitionModelPromotion

    from .conftest import SOURCE_ACCOUNT, SOURCE_VERSION_ARN

    app = App()
    dev = Stack(app, "Dev", env={"account": SOURCE_ACCOUNT, "region": ENV.region})
    prod = Stack(app, "Prod", env=ENV)
    role = iam.Role.from_role_arn(prod, "Platform", "arn:aws:iam::222222222222:role/ModelCopy")
    RekognitionModelCopyProvider.of(prod, role=role)
    source = ProjectVersion.from_project_version_attributes(
        dev, "Trained", project_arn=SOURCE_PROJECT_ARN, project_version_arn=SOURCE_VERSION_ARN
    )
    promotion = RekognitionModelPromotion(
        id="Model",
        source_stack=dev,
        destination_stack=prod,
        source=source,
        destination_project="arn:aws:rekognition:us-east-1:222222222222:project/prod/1710000000000",
        version_name="prod-1",
        output_bucket=s3.Bucket.from_bucket_name(prod, "Output", "prod-output"),
    )
    assert promotion.copy_role_name == "ModelCopy"


def test_reserved_concurrency_may_be_a_token() -> None:
    from aws_cdk import CfnParameter

    stack = _stack()
    concurrency = CfnParameter(stack, "Concurrency", type="Number", default=10).value_as_number
    RekognitionModelCopyProvider.of(stack, reserved_concurrent_executions=concurrency)
    properties = _function(Template.from_stack(stack))["Properties"]
    assert properties["ReservedConcurrentExecutions"] == {"Ref": "Concurrency"}
    assert properties["Environment"]["Variables"][RESERVED_CONCURRENCY_ENV] == {"Ref": "Concurrency"}




def test_the_compliant_example_synthesises_every_option() -> None:
    """``examples/compliant_app.py`` (README, "Compliance"), at this aws-cdk-lib (the floor run too)."""
    from examples.compliant_app import ENDPOINTS, RESERVED_CONCURRENCY, build_stack

    stack = build_stack(App())
    template = Template.from_stack(stack)
    properties = _function(template)["Properties"]
    assert properties["ReservedConcurrentExecutions"] == RESERVED_CONCURRENCY
    for key in ("VpcConfig", "KmsKeyArn", "LoggingConfig", "DeadLetterConfig"):
        assert properties[key]
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint")
    assert len(endpoints) == len(ENDPOINTS) + 1  # and the S3 gateway endpoint


def test_the_provider_stack_takes_the_options() -> None:
    from rekognition_model_copy import RekognitionModelCopyProviderStack

    app = App()
    stack = RekognitionModelCopyProviderStack(
        app, "Provider", env=ENV, reserved_concurrent_executions=3, dead_letter_queue=None
    )
    properties = _function(Template.from_stack(stack))["Properties"]
    assert properties["ReservedConcurrentExecutions"] == 3
    assert stack.provider.reserved_concurrent_executions == 3
