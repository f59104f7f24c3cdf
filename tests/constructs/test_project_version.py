"""IProjectVersion: imported versions, ``source=``, grants through the interface, removal policy, metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rekognition as rekognition
from aws_cdk.assertions import Template

from rekognition_model_copy import (
    METRIC_NAMESPACE,
    IProjectVersion,
    ModelCopyValidationError,
    ProjectVersion,
    RekognitionModelCopy,
    RekognitionModelPromotion,
)

from .conftest import DEV_ENV, ENV, SOURCE_PROJECT_ARN, SOURCE_VERSION_ARN, valid_kwargs


def _import(scope: Stack, id: str = "Source", **overrides: str) -> IProjectVersion:
    arns = {"project_arn": SOURCE_PROJECT_ARN, "project_version_arn": SOURCE_VERSION_ARN, **overrides}
    return ProjectVersion.from_project_version_attributes(scope, id, **arns)


def _kwargs(stack: Stack, **overrides: object) -> dict[str, Any]:
    return dict(valid_kwargs(stack, **overrides))


def _copy_kwargs(stack: Stack, source: IProjectVersion, **overrides: object) -> dict[str, Any]:
    kwargs = _kwargs(stack, **overrides)
    del kwargs["source_project_arn"], kwargs["source_project_version_arn"]
    return dict(kwargs, source=source)


def _copy_resource(stack: Stack) -> Any:
    resources = Template.from_stack(stack).find_resources("Custom::RekognitionModelCopy")
    assert len(resources) == 1
    return next(iter(resources.values()))


def test_an_imported_version_has_its_arns_and_the_env_of_its_arn() -> None:
    stack = Stack(App(), "Prod", env=ENV)
    source = _import(stack)
    assert isinstance(source, IProjectVersion)
    assert source.project_version_arn == SOURCE_VERSION_ARN and source.project_arn == SOURCE_PROJECT_ARN
    assert (source.env.account, source.env.region) == ("111111111111", "us-east-1")
    assert source.stack is stack


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"project_version_arn": SOURCE_PROJECT_ARN}, "project_version_arn must be a Rekognition project"),
        ({"project_arn": SOURCE_VERSION_ARN}, "looks like a project version ARN"),
        (
            {"project_arn": SOURCE_PROJECT_ARN.replace("dev-defects", "other")},
            "the project that source_project_version_arn belongs to",
        ),
    ],
)
def test_importing_checks_the_arns_as_a_copy_does(overrides: dict[str, str], message: str) -> None:
    stack = Stack(App(), "Prod", env=ENV)
    with pytest.raises(ModelCopyValidationError, match=message):
        _import(stack, **overrides)
    assert stack.node.try_find_child("Source") is None


def test_source_gives_the_same_copy_as_the_two_arns() -> None:
    by_arns = Stack(App(), "Prod", env=ENV)
    RekognitionModelCopy(by_arns, "Copy", **_kwargs(by_arns))
    by_source = Stack(App(), "Prod", env=ENV)
    RekognitionModelCopy(by_source, "Copy", **_copy_kwargs(by_source, _import(by_source)))
    assert _copy_resource(by_source) == _copy_resource(by_arns)


BOTH_ARNS = ("source_project_arn", "source_project_version_arn")


@pytest.mark.parametrize("arns", [BOTH_ARNS[:1], BOTH_ARNS])
def test_source_and_arns_together_are_refused(arns: tuple[str, ...]) -> None:
    stack = Stack(App(), "Prod", env=ENV)
    kwargs = dict(_copy_kwargs(stack, _import(stack)), **{name: _kwargs(stack)[name] for name in arns})
    with pytest.raises(ModelCopyValidationError, match="either as source= or as its two ARNs, not both"):
        RekognitionModelCopy(stack, "Copy", **kwargs)
    assert stack.node.try_find_child("Copy") is None


def test_no_source_at_all_says_how_to_give_one() -> None:
    stack = Stack(App(), "Prod", env=ENV)
    kwargs = _kwargs(stack)
    del kwargs["source_project_version_arn"]
    with pytest.raises(ModelCopyValidationError, match="from_project_version_attributes"):
        RekognitionModelCopy(stack, "Copy", **kwargs)


def test_a_copy_is_a_project_version_a_resource_and_can_be_the_source_of_a_copy_in_another_stack() -> None:
    app = App()
    stack = Stack(app, "Prod", env=ENV)
    project = rekognition.CfnProject(stack, "Project", project_name="prod-defects")
    first = RekognitionModelCopy(stack, "First", **_kwargs(stack, destination_project=project))
    assert isinstance(first, IProjectVersion)
    assert first.stack is stack and first.env.account == ENV.account
    assert first.project_arn == project.attr_arn
    with pytest.raises(ModelCopyValidationError, match="a copy in the same stack 'Prod'"):
        RekognitionModelCopy(stack, "Second", **_copy_kwargs(stack, first, version_name="second"))
    assert stack.node.try_find_child("Second") is None
    other = Stack(app, "Archive", env=ENV)
    RekognitionModelCopy(other, "Second", **_copy_kwargs(other, first, version_name="second"))
    properties = _copy_resource(other)["Properties"]
    assert isinstance(properties, dict)
    assert set(properties["SourceProjectVersionArn"]) == {"Fn::ImportValue"}
    assert set(properties["SourceProjectArn"]) == {"Fn::ImportValue"}
    assert other.dependencies == [stack]


def test_apply_removal_policy_retains_the_copy_and_warns_about_its_project() -> None:
    stack = Stack(App(), "Prod", env=ENV)
    project = rekognition.CfnProject(stack, "Project", project_name="prod-defects")
    copy = RekognitionModelCopy(stack, "Copy", **_kwargs(stack, destination_project=project))
    version: IProjectVersion = copy
    copy.apply_removal_policy(RemovalPolicy.RETAIN)
    resource = _copy_resource(stack)
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    warnings = [str(entry.data) for entry in version.node.metadata if entry.type == "aws:cdk:warning"]
    assert any("retained-copy-in-deleted-project" in warning for warning in warnings), warnings


def test_grants_through_the_interface_are_on_the_version_only() -> None:
    stack = Stack(App(), "Prod", env=ENV)
    versions: list[IProjectVersion] = [
        RekognitionModelCopy(stack, "Copy", **_kwargs(stack)),
        _import(stack),
    ]
    role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    for version in versions:
        version.grant_detect_custom_labels(role)
    versions[1].grant(role, "rekognition:DescribeProjectVersions")
    role_ref = stack.resolve(role.role_name)
    policies = Template.from_stack(stack).find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [role_ref]}}
    )
    (policy,) = policies.values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    copy_arn = stack.resolve(versions[0].project_version_arn)
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("rekognition:DetectCustomLabels", copy_arn),
        ("rekognition:DetectCustomLabels", SOURCE_VERSION_ARN),
        ("rekognition:DescribeProjectVersions", SOURCE_VERSION_ARN),
    ]


def _alarm_properties(stack: Stack, metrics: list[cloudwatch.Metric]) -> list[dict[str, Any]]:
    """The ``AWS::CloudWatch::Alarm`` properties of one alarm per metric, in order (one synthesis)."""
    alarms = [
        cloudwatch.Alarm(stack, f"Alarm{index}", metric=metric, threshold=1, evaluation_periods=1)
        for index, metric in enumerate(metrics)
    ]
    resources = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    return [
        resources[stack.get_logical_id(alarm.node.default_child)]["Properties"]  # type: ignore[arg-type]
        for alarm in alarms
    ]


def test_metrics_are_in_the_rekognition_namespace_with_the_versions_project_and_name() -> None:
    stack = Stack(App(), "Prod", env=ENV)
    project = rekognition.CfnProject(stack, "Project", project_name="prod-defects")
    copy = RekognitionModelCopy(stack, "Copy", **_kwargs(stack, destination_project=project))
    imported = _import(stack)
    by_token_arn = RekognitionModelCopy(
        stack, "ByToken", **_kwargs(stack, destination_project=project.attr_arn, version_name="t")
    )
    served, source, by_token = _alarm_properties(
        stack,
        [
            copy.metric_in_service_inference_units(),
            imported.metric_in_service_inference_units(),
            by_token_arn.metric_successful_request_count(),
        ],
    )
    for properties, project_name in ((served, "prod-defects"), (source, "dev-defects")):
        assert properties["Namespace"] == METRIC_NAMESPACE == "AWS/Rekognition"
        assert properties["MetricName"] == "InServiceInferenceUnits"
        assert properties["Statistic"] == "Average" and properties["Period"] == 300
        assert properties["Dimensions"] == [
            {"Name": "ProjectName", "Value": project_name},
            {"Name": "VersionName", "Value": "defects.2026-11-01"},
        ]
    # A destination known only in the template: its name is taken from the ARN there; the version's name
    # is the argument.
    assert by_token["Statistic"] == "Sum"
    project_arn = {"Fn::GetAtt": ["Project", "Arn"]}
    assert by_token["Dimensions"] == [
        {"Name": "ProjectName", "Value": {"Fn::Select": [1, {"Fn::Split": ["/", project_arn]}]}},
        {"Name": "VersionName", "Value": "t"},
    ]


def test_each_metric_method_names_its_metric_and_statistic_and_options_override() -> None:
    stack = Stack(App(), "Prod", env=ENV)
    version = _import(stack)
    names = {
        version.metric_in_service_inference_units(): ("InServiceInferenceUnits", "Average"),
        version.metric_desired_inference_units(): ("DesiredInferenceUnits", "Average"),
        version.metric_successful_request_count(): ("SuccessfulRequestCount", "Sum"),
        version.metric_throttled_count(): ("ThrottledCount", "Sum"),
        version.metric_user_error_count(): ("UserErrorCount", "Sum"),
        version.metric_server_error_count(): ("ServerErrorCount", "Sum"),
    }
    for metric, (name, statistic) in names.items():
        assert (metric.metric_name, metric.statistic, metric.namespace) == (name, statistic, METRIC_NAMESPACE)
    custom = version.metric_throttled_count(statistic="Maximum", label="throttled")
    assert (custom.statistic, custom.label) == ("Maximum", "throttled")


def test_a_promotion_takes_an_imported_source_of_the_source_account() -> None:
    app = App()
    dev = Stack(app, "Dev", env=DEV_ENV)
    prod = Stack(app, "Prod", env=ENV)
    source = _import(dev)
    promotion = RekognitionModelPromotion(
        id="Model", source_stack=dev, destination_stack=prod, **_copy_kwargs(prod, source)
    )
    assert promotion.source_project_version_arn == SOURCE_VERSION_ARN
    assert promotion.policy is not None
    policy = json.dumps(Template.from_stack(dev).to_json())
    assert SOURCE_VERSION_ARN in policy
