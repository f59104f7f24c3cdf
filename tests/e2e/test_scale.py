"""Many copies per stack: one backing function, constant template growth, and 100 concurrent copies that
all complete within the function-policy and EventBridge limits while Rekognition throttles.

The stacks are the ones ``make bench`` measures: ``bench.machine.copies_stack`` (the CDK app) and
``bench.driver_runs.template`` (the hand-written template; its role carries the library's statements)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from bench.common import PROJECT
from bench.driver_runs import PROJECT_NAME, template
from bench.machine import copies_stack
from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, REPO


def synth(copies: int) -> dict[str, Any]:
    return dict(Template.from_stack(copies_stack(App(), copies)).to_json())


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
    copies = template(PROJECT, source_version, 100)
    copies["Resources"]["Handler"]["Properties"]["Timeout"] = function_timeout
    custom_labels.faults.inject("DescribeProjectVersions", "ThrottlingException", times=60)
    custom_labels.faults.inject("CopyProjectVersion", "ThrottlingException", times=20)

    stack = cloud.stack("scale", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    assert stack.create(copies) == "CREATE_COMPLETE"

    versions = _versions(stack)
    assert len(versions) == 100 and {v["Status"] for v in versions} == {"COPYING_COMPLETED"}
    # EventBridge: the default quota is 300 rules per event bus; names fit 64 characters (driver-checked)
    assert cloud.peak_rules == (0 if function_timeout == 900 else 100)
    assert stack.delete() == "DELETE_COMPLETE"


def _versions(stack: Any) -> list[dict[str, Any]]:
    client = stack.session().client("rekognition")
    project = client.describe_projects(ProjectNames=[PROJECT_NAME])["ProjectDescriptions"][0]["ProjectArn"]
    return [
        version
        for page in client.get_paginator("describe_project_versions").paginate(ProjectArn=project)
        for version in page["ProjectVersionDescriptions"]
    ]
