"""Many copies per stack: one backing function, constant template growth, and 100 concurrent copies that
all complete within the function-policy and EventBridge limits while Rekognition throttles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from emulator import custom_labels
from rekognition_model_copy import RekognitionModelCopy, permissions
from tests.conftest import DEST_ACCOUNT, REGION, REPO, copy_template

SOURCE_PROJECT = f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/dev-defects/1700000000000"
SOURCE_VERSION = f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/dev-defects/version/v1/1700000000001"


def synth(copies: int) -> dict[str, Any]:
    app = App()
    stack = Stack(app, "Scale", env=Environment(account=DEST_ACCOUNT, region=REGION))
    project = rekognition.CfnProject(stack, "Project", project_name="prod-defects")
    bucket = s3.Bucket(stack, "Output")
    for index in range(copies):
        RekognitionModelCopy(
            stack,
            f"Copy{index:03d}",
            source_project_arn=SOURCE_PROJECT,
            source_project_version_arn=SOURCE_VERSION,
            destination_project=project,
            version_name=f"copy-{index:03d}",
            output_bucket=bucket,
        )
    return dict(Template.from_stack(stack).to_json())


def test_a_hundred_copies_share_one_function_and_grow_the_template_by_a_constant():
    sizes = {n: len(json.dumps(synth(n))) for n in (2, 3, 99)}
    hundred = synth(100)

    resources = [r["Type"] for r in hundred["Resources"].values()]
    assert resources.count("AWS::Lambda::Function") == 1
    assert resources.count("AWS::Lambda::Permission") == 1  # one invoke permission, not one per copy
    assert resources.count("Custom::RekognitionModelCopy") == 100
    # copies share the role's statements (each adds its ARNs): far inside IAM's 10 managed policies a role
    assert resources.count("AWS::IAM::ManagedPolicy") <= 1
    small, large = sizes[3] - sizes[2], len(json.dumps(hundred)) - sizes[99]
    # the same per copy, but for one DependsOn entry once the role's policy overflows into a managed policy
    assert small <= large <= small + 80


@pytest.mark.parametrize(
    "function_timeout",
    [
        pytest.param(900, id="fast-path"),  # each first invocation waits in-process: no schedules
        pytest.param(45, id="schedules"),  # too short to wait: every copy polls on an EventBridge rule
    ],
)
def test_a_hundred_concurrent_copies_all_complete_under_throttling(cloud, source_version, function_timeout):
    custom_labels.config.copy_duration = 180
    template = copy_template(source_version, logical_id="Copy000", version_name="copy-000")
    template["Resources"]["Handler"]["Properties"]["Timeout"] = function_timeout
    base = template["Resources"].pop("Copy000")
    for index in range(100):
        copy = json.loads(json.dumps(base))
        copy["Properties"]["VersionName"] = f"copy-{index:03d}"
        template["Resources"][f"Copy{index:03d}"] = copy
    _grant(template, source_version)
    custom_labels.faults.inject("DescribeProjectVersions", "ThrottlingException", times=60)
    custom_labels.faults.inject("CopyProjectVersion", "ThrottlingException", times=20)

    stack = cloud.stack("scale", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    assert stack.create(template) == "CREATE_COMPLETE"

    versions = _versions(stack)
    assert len(versions) == 100 and {v["Status"] for v in versions} == {"COPYING_COMPLETED"}
    # EventBridge: the default quota is 300 rules per event bus; names fit 64 characters (driver-checked)
    assert cloud.peak_rules == (0 if function_timeout == 900 else 100)
    assert stack.delete() == "DELETE_COMPLETE"


def _grant(template: dict[str, Any], source: tuple[str, str]) -> None:
    """The hand-written template's role gets the construct's statements (the emulator enforces them), on
    patterns for what the driver names at deploy time: the project's timestamp, the bucket's suffix."""
    account = f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}"
    statements = permissions.copy_statements(
        source_project_arns=[source[0]],
        source_version_arns=[source[1]],
        destination_project_arns=[f"{account}:project/prod-defects/*"],
        destination_version_arns=[f"{account}:project/prod-defects/version/*"],
        bucket_arns=["arn:aws:s3:::scale-output-*"],
        object_arns=["arn:aws:s3:::scale-output-*/copies/*"],
    ) + permissions.polling_statements([f"arn:aws:events:{REGION}:{DEST_ACCOUNT}:rule/rmc-test-*"])
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": s.sid, "Effect": "Allow", "Action": list(s.actions), "Resource": list(s.resources)}
            for s in statements
        ],
    }
    template["Resources"]["Role"]["Properties"]["Policies"] = [
        {"PolicyName": "ModelCopy", "PolicyDocument": document}
    ]


def _versions(stack: Any) -> list[dict[str, Any]]:
    client = stack.session().client("rekognition")
    project = client.describe_projects(ProjectNames=["prod-defects"])["ProjectDescriptions"][0]["ProjectArn"]
    return [
        version
        for page in client.get_paginator("describe_project_versions").paginate(ProjectArn=project)
        for version in page["ProjectVersionDescriptions"]
    ]
