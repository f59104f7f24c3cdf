"""Columns 1 and 2: a real handler through the CloudFormation lifecycle driver and the Custom Labels emulator.

One stack holds N ``Custom::RekognitionModelCopy`` resources (same source version, one destination project,
distinct version names) served by one function. The stack is created (N copies in one wave) and deleted
(N Deletes of stopped models, i.e. COPYING_COMPLETED, never started), and the figures come from what the
driver records:

* a request's response time is the end (start + simulated duration) of the last invocation that handled
  it: the response PUT is the last thing an invocation does;
* COPYING_COMPLETED is read from the emulated version's status schedule, the moment a version disappears
  from its ``removed_at``; neither costs a Rekognition call;
* Rekognition calls are the emulator's per-account counts, Lambda invocations and their simulated
  durations are the driver's ``cloud.invocations``.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

from bench.common import (
    CRHELPER,
    DELETE_SECONDS,
    DEST_ACCOUNT,
    HANDLER_MEMORY_MB,
    PROJECT,
    REGION,
    REPO,
    SERVICE_TIMEOUT,
    ColumnResult,
    Scenario,
    billed_gb_seconds,
    calls_by_operation,
    calls_since,
    fake_aws_environment,
)
from emulator.templates import function_role

PROJECT_NAME = "prod-bench"
SOURCE_PROJECT = "dev-bench"
SOURCE_VERSION = "bench.v1"
ASSETS = {PROJECT: "lambda", CRHELPER: "bench/baselines/crhelper_default"}
#: crhelper calls lambda:AddPermission on its own function: the bench creates it in moto under this name.
CRHELPER_FUNCTION_NAME = "bench-crhelper-default"


def logical_id(index: int) -> str:
    return f"Copy{index:03d}"


def version_name(index: int) -> str:
    return f"bench-{index:03d}"


def template(column: str, source: tuple[str, str], copies: int) -> dict[str, Any]:
    """The stack: destination project, output bucket, the function's role and function, N copies."""
    function: dict[str, Any] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Handler": "index.handler",
            "Runtime": "python3.12",
            "Timeout": 900,
            "MemorySize": HANDLER_MEMORY_MB,
            "Environment": {"Variables": {"POLL_RULE_PREFIX": "rmc-bench-"}},
        },
        "Metadata": {"aws:asset:path": ASSETS[column]},
    }
    if column == CRHELPER:
        function["Properties"]["FunctionName"] = CRHELPER_FUNCTION_NAME
        del function["Properties"]["Environment"]
    resources: dict[str, Any] = {
        "Project": {"Type": "AWS::Rekognition::Project", "Properties": {"ProjectName": PROJECT_NAME}},
        "Output": {"Type": "AWS::S3::Bucket"},
        "Role": function_role(),
        "Handler": function,
    }
    for index in range(copies):
        resources[logical_id(index)] = {
            "Type": "Custom::RekognitionModelCopy",
            "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
                "SourceProjectArn": source[0],
                "SourceProjectVersionArn": source[1],
                "DestinationProjectArn": {"Fn::GetAtt": ["Project", "Arn"]},
                "VersionName": version_name(index),
                "OutputConfig": {
                    "S3Bucket": {"Ref": "Output"},
                    "S3KeyPrefix": f"copies/{version_name(index)}/",
                },
                "ServiceTimeout": SERVICE_TIMEOUT,
            },
        }
    return {"Resources": resources}


def _create_function_in_moto(cloud: Any) -> None:
    """The baseline's function in moto's Lambda backend, so crhelper's AddPermission/RemovePermission work."""
    session = cloud.session(DEST_ACCOUNT, REGION)
    role = session.client("iam").create_role(
        RoleName="bench-crhelper-moto", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", "def handler(event, context):\n    return None\n")
    session.client("lambda").create_function(
        FunctionName=CRHELPER_FUNCTION_NAME,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": archive.getvalue()},
    )


def _policy_size(cloud: Any) -> int:
    client = cloud.session(DEST_ACCOUNT, REGION).client("lambda")
    try:
        return len(client.get_policy(FunctionName=CRHELPER_FUNCTION_NAME)["Policy"])
    except client.exceptions.ResourceNotFoundException:
        return 0


def _response_times(invocations: list[Any]) -> dict[str, float]:
    ends: dict[str, float] = {}
    for invocation in invocations:
        end = float(invocation.started) + float(invocation.duration)
        ends[invocation.request_id] = max(ends.get(invocation.request_id, end), end)
    return ends


def run(column: str, scenario: Scenario) -> ColumnResult:
    """Create and delete a stack of ``scenario.copies`` copies with the column's handler."""
    fake_aws_environment()
    from moto import mock_aws

    from emulator import custom_labels
    from emulator.clock import SimulatedClock
    from emulator.cloudformation import CloudFormation

    result = ColumnResult(column, scenario.copies, scenario.copy_seconds)
    wall = time.perf_counter()
    custom_labels.reset()
    with mock_aws():
        clock = SimulatedClock()
        custom_labels.set_clock(clock)
        custom_labels.config.copy_duration = scenario.copy_seconds
        custom_labels.config.delete_duration = DELETE_SECONDS
        source = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, SOURCE_PROJECT, SOURCE_VERSION)
        peak = [0]
        clouds: list[Any] = []

        def on_wait(requests: list[Any]) -> None:
            """Whenever simulated time jumps: how big crhelper's AddPermission calls made the policy."""
            peak[0] = max(peak[0], _policy_size(clouds[0]))

        with CloudFormation(clock, on_wait=on_wait if column == CRHELPER else None) as cloud:
            clouds.append(cloud)
            if column == CRHELPER:
                _create_function_in_moto(cloud)
            stack = cloud.stack("bench", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
            _create(cloud, stack, column, source, scenario, result)
            function = next(iter(cloud.functions.values()), None)  # the driver forgets it on stack delete
            _delete(cloud, stack, scenario, result)
            result.cold_starts = getattr(function, "cold_starts", None)
            result.failures += [f"driver: {v}" for v in cloud.violations]
        if column == CRHELPER:
            result.peak_policy_bytes = peak[0]
    custom_labels.reset()
    result.wall_seconds = time.perf_counter() - wall
    return result


def emulated_versions() -> dict[str, Any]:
    """The destination project's versions in the emulator backend, by name (no Rekognition call)."""
    from emulator import custom_labels

    project = custom_labels.backend(DEST_ACCOUNT, REGION).projects.get(PROJECT_NAME)
    return dict(project.versions) if project else {}


def _phase_requests(cloud: Any, request_type: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Logical id -> (request id, response body) of the requests of one type, the latest per resource."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for event, body in cloud.responses:
        if event["RequestType"] == request_type:
            found[event["LogicalResourceId"]] = (event["RequestId"], body)
    return found


def _requested_at(cloud: Any, status: str, *, first: bool) -> dict[str, float]:
    """When CloudFormation sent each copy's request: its first (or last) stack event of that status."""
    times: dict[str, float] = {}
    for event in cloud.events:
        if event.status == status and event.logical_id.startswith("Copy"):
            if not first or event.logical_id not in times:
                times[event.logical_id] = event.time
    return times


def _create(
    cloud: Any, stack: Any, column: str, source: tuple[str, str], scenario: Scenario, result: ColumnResult
) -> None:

    calls_before, seen = calls_by_operation(DEST_ACCOUNT), len(cloud.invocations)
    status = stack.create(template(column, source, scenario.copies))
    if status != "CREATE_COMPLETE":
        reasons = sorted({e.reason for e in cloud.events if e.reason})
        result.failures.append(f"stack {status}: {'; '.join(reasons)[:300]}")
    invocations = cloud.invocations[seen:]
    result.create_ops = calls_since(calls_before, DEST_ACCOUNT)
    result.create_calls = sum(result.create_ops.values())
    result.create_invocations = len(invocations)
    result.gb_seconds += sum(billed_gb_seconds(i.duration, HANDLER_MEMORY_MB) for i in invocations)
    answered = _response_times(invocations)
    versions = emulated_versions()
    requested = _requested_at(cloud, "CREATE_IN_PROGRESS", first=True)
    responses = _phase_requests(cloud, "Create")
    ends = []
    for index in range(scenario.copies):
        request = responses.get(logical_id(index))
        version = versions.get(version_name(index))
        if request is None or version is None or request[1].get("Status") != "SUCCESS":
            result.failures.append(
                f"{logical_id(index)} Create: {request[1].get('Reason') if request else ''}"
            )
            continue
        completed = next(t.at for t in version.schedule if t.status == "COPYING_COMPLETED")
        end = answered[request[0]]
        result.detection.append(end - completed)
        ends.append(end)
    if ends and requested:
        result.stack_create = max(ends) - min(requested.values())


def _delete(cloud: Any, stack: Any, scenario: Scenario, result: ColumnResult) -> None:

    versions = emulated_versions()  # kept: a deleted version leaves the backend but keeps its removed_at
    calls_before, seen = calls_by_operation(DEST_ACCOUNT), len(cloud.invocations)
    status = stack.delete()
    if status != "DELETE_COMPLETE":
        result.failures.append(f"stack {status}")
    invocations = cloud.invocations[seen:]
    result.delete_ops = calls_since(calls_before, DEST_ACCOUNT)
    result.delete_calls = sum(result.delete_ops.values())
    result.delete_invocations = len(invocations)
    result.delete_sleep = sum(float(i.duration) for i in invocations) / max(scenario.copies, 1)
    result.gb_seconds += sum(billed_gb_seconds(i.duration, HANDLER_MEMORY_MB) for i in invocations)
    answered = _response_times(invocations)
    requested = _requested_at(cloud, "DELETE_IN_PROGRESS", first=False)
    responses = _phase_requests(cloud, "Delete")
    ends = []
    for index in range(scenario.copies):
        request = responses.get(logical_id(index))
        version = versions.get(version_name(index))
        if request is None or version is None or request[1].get("Status") != "SUCCESS":
            result.failures.append(
                f"{logical_id(index)} Delete: {request[1].get('Reason') if request else ''}"
            )
            continue
        end = answered[request[0]]
        result.delete_duration.append(end - requested[logical_id(index)])
        if version.removed_at is not None:
            result.after_gone.append(end - version.removed_at)
        ends.append(end)
    if ends and requested:
        result.stack_delete = max(ends) - min(requested.values())
