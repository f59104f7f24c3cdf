"""The Custom::RekognitionModelCopy resources: properties, attributes, removal policy, timeout, sharing."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Environment, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rekognition as rekognition
from aws_cdk.assertions import Annotations, Capture, Match, Template

from rekognition_model_copy import RESOURCE_TYPE, RekognitionModelCopy
from tests.conftest import cfn_lint_errors

from .conftest import (
    DEST_PROJECT_ARN,
    SOURCE_PROJECT_ARN,
    SOURCE_VERSION_ARN,
    CopyStacks,
    valid_kwargs,
)


def test_primary_copy_passes_every_property_under_its_api_name(template: Template) -> None:
    project_arn = Capture()
    key_arn = Capture()
    template.has_resource_properties(
        RESOURCE_TYPE,
        {
            "SourceProjectArn": SOURCE_PROJECT_ARN,
            "SourceProjectVersionArn": SOURCE_VERSION_ARN,
            "DestinationProjectArn": {"Fn::GetAtt": [project_arn, "Arn"]},
            "VersionName": "defects.2026-11-01",
            "OutputConfig": {
                "S3Bucket": {"Ref": Match.string_like_regexp("^OutputBucket")},
                "S3KeyPrefix": "models/primary/",
            },
            "Tags": {"team": "vision", "stage": "prod"},
            "KmsKeyId": {"Fn::GetAtt": [key_arn, "Arn"]},
            "ServiceTimeout": "1800",
        },
    )
    template.has_resource_properties("AWS::Rekognition::Project", {"ProjectName": "prod-defects"})
    assert project_arn.as_string() == "Project"
    assert key_arn.as_string().startswith("ModelKey")


def test_copy_without_tags_or_key_omits_them_and_uses_the_defaults(template: Template) -> None:
    template.has_resource_properties(
        RESOURCE_TYPE,
        Match.object_like(
            {
                "DestinationProjectArn": DEST_PROJECT_ARN,
                "VersionName": "by-arn",
                "OutputConfig": {
                    "S3Bucket": Match.any_value(),
                    "S3KeyPrefix": "rekognition-model-copy/by-arn/",
                },
                "Tags": Match.absent(),
                "KmsKeyId": Match.absent(),
                "ServiceTimeout": "3600",
            }
        ),
    )


def test_token_arguments_pass_through_as_references(template: Template) -> None:
    template.has_resource_properties(
        RESOURCE_TYPE,
        Match.object_like(
            {
                "SourceProjectArn": {"Ref": "SourceProjectArn"},
                "SourceProjectVersionArn": {"Ref": "SourceVersionArn"},
                "DestinationProjectArn": {"Ref": "DestinationProjectArn"},
                "VersionName": "by-token",
            }
        ),
    )


def test_attributes_are_the_handlers_data_keys(copy_stacks: CopyStacks) -> None:
    stack, copy = copy_stacks.stack, copy_stacks.primary
    logical_id = stack.get_logical_id(copy.resource.node.default_child)  # type: ignore[arg-type]
    assert stack.resolve(copy.project_version_arn) == {"Fn::GetAtt": [logical_id, "ProjectVersionArn"]}
    assert stack.resolve(copy.version_name) == {"Fn::GetAtt": [logical_id, "VersionName"]}
    assert stack.resolve(copy.status) == {"Fn::GetAtt": [logical_id, "Status"]}


def test_retain_keeps_the_model_on_delete_and_on_replacement(template: Template) -> None:
    template.has_resource(
        RESOURCE_TYPE,
        {
            "Properties": Match.object_like({"VersionName": "defects.2026-11-01"}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_destroy_is_the_default_removal_policy(template: Template) -> None:
    template.has_resource(
        RESOURCE_TYPE,
        {
            "Properties": Match.object_like({"VersionName": "by-arn"}),
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
        },
    )


def test_three_copies_share_one_function_and_service_token(copy_stacks: CopyStacks) -> None:
    template = copy_stacks.template
    template.resource_count_is(RESOURCE_TYPE, 3)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.resource_count_is("AWS::IAM::Role", 1)
    template.resource_count_is("AWS::Lambda::Permission", 1)
    template.resource_count_is("AWS::Logs::LogGroup", 1)

    function_id = Capture()
    template.has_resource_properties(RESOURCE_TYPE, {"ServiceToken": {"Fn::GetAtt": [function_id, "Arn"]}})
    template.all_resources_properties(
        RESOURCE_TYPE, Match.object_like({"ServiceToken": {"Fn::GetAtt": [function_id.as_string(), "Arn"]}})
    )
    assert {
        c.provider.node.path for c in (copy_stacks.primary, copy_stacks.by_arn, copy_stacks.by_token)
    } == {"CopyStack/RekognitionModelCopyProvider"}


def test_the_custom_resource_waits_for_the_functions_permissions(template: Template) -> None:
    # The role policy (this copy's grants, the polling rules), the EventBridge invoke permission and
    # Lambda's retry setting (none) must be in place before CloudFormation sends the first request.
    template.all_resources(
        RESOURCE_TYPE,
        Match.object_like(
            {
                "DependsOn": Match.array_with(
                    [
                        Match.string_like_regexp("^RekognitionModelCopyProviderFunctionEventInvokeConfig"),
                        Match.string_like_regexp("^RekognitionModelCopyProviderFunctionPollingRulesInvoke"),
                        Match.string_like_regexp("^RekognitionModelCopyProviderServiceRoleDefaultPolicy"),
                    ]
                ),
            }
        ),
    )


def test_lambda_does_not_retry_an_invocation_of_the_function(template: Template) -> None:
    # The handler answers every request itself (or leaves it to its rule's tick): Lambda's retry of an
    # invocation that errored or timed out could only answer a request a second time.
    function_id = Capture()
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"FunctionName": {"Ref": function_id}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 0},
    )
    template.resource_count_is("AWS::Lambda::EventInvokeConfig", 1)
    assert template.find_resources("AWS::Lambda::Function").keys() == {function_id.as_string()}
    # the default maximum event age (6 hours) is left: a throttled event is tried until then
    (config,) = template.find_resources("AWS::Lambda::EventInvokeConfig").values()
    assert "MaximumEventAgeInSeconds" not in config["Properties"]


def test_each_stack_gets_its_own_function(copy_stacks: CopyStacks) -> None:
    copy_stacks.agnostic_template.resource_count_is("AWS::Lambda::Function", 1)
    copy_stacks.agnostic_template.resource_count_is(RESOURCE_TYPE, 1)
    prefix_main = Capture()
    prefix_agnostic = Capture()
    env = {"Environment": {"Variables": {"POLL_RULE_PREFIX": prefix_main}}}
    copy_stacks.template.has_resource_properties("AWS::Lambda::Function", env)
    copy_stacks.agnostic_template.has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": {"POLL_RULE_PREFIX": prefix_agnostic}}}
    )
    assert prefix_main.as_string() != prefix_agnostic.as_string()


def test_provider_of_returns_the_same_construct(copy_stacks: CopyStacks) -> None:
    from rekognition_model_copy import RekognitionModelCopyProvider

    provider = RekognitionModelCopyProvider.of(copy_stacks.stack)
    assert provider is copy_stacks.primary.provider
    assert Stack.of(provider) is copy_stacks.stack


def test_test_stacks_pass_cfn_lint(copy_stacks: CopyStacks) -> None:
    assert cfn_lint_errors(copy_stacks.template) == []
    assert cfn_lint_errors(copy_stacks.agnostic_template) == []


def test_inference_units_are_passed_and_detect_is_granted_on_the_copy_only() -> None:
    app = App()
    stack = Stack(app, "Serving", env=Environment(account="222222222222", region="us-east-1"))
    kwargs = valid_kwargs(stack, min_inference_units=1, max_inference_units=3)
    copy = RekognitionModelCopy(stack, "Copy", **kwargs)  # type: ignore[arg-type]
    app_role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    copy.grant_detect_custom_labels(app_role)
    template = Template.from_stack(stack)

    template.has_resource_properties(
        "Custom::RekognitionModelCopy", {"MinInferenceUnits": 1, "MaxInferenceUnits": 3}
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "rekognition:DetectCustomLabels",
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [Match.any_value(), "ProjectVersionArn"]},
                    }
                ]
            },
            "Roles": [{"Ref": Match.string_like_regexp("^App")}],
        },
    )


def _retained_copy_warnings(retain_project: bool) -> list[Any]:
    app = App()
    stack = Stack(app, "Retained", env=Environment(account="222222222222", region="us-east-1"))
    project = rekognition.CfnProject(stack, "Project", project_name="prod-defects")
    if retain_project:
        project.apply_removal_policy(RemovalPolicy.RETAIN)
    kwargs = valid_kwargs(stack, destination_project=project, removal_policy=RemovalPolicy.RETAIN)
    RekognitionModelCopy(stack, "Copy", **kwargs)  # type: ignore[arg-type]
    return list(
        Annotations.from_stack(stack).find_warning(
            "*", Match.string_like_regexp(".*Rekognition cannot delete")
        )
    )


def test_retaining_the_copy_but_not_its_project_warns_at_synth() -> None:
    assert len(_retained_copy_warnings(retain_project=False)) == 1
    assert _retained_copy_warnings(retain_project=True) == []
