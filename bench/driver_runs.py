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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import (
    CRHELPER,
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
    emulated_aws,
)
from emulator.templates import function_role, without_lambda_retries

PROJECT_NAME = "prod-bench"
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
    # this project's function as the construct makes it (no Lambda retries); crhelper's with its defaults
    return without_lambda_retries({"Resources": resources}) if column == PROJECT else {"Resources": resources}


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
    from emulator.cloudformation import CloudFormation

    result = ColumnResult(column, scenario.copies, scenario.copy_seconds)
    wall = time.perf_counter()
    with emulated_aws(scenario) as (clock, source):
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


@dataclass
class Phase:
    """What one stack operation (the Create or the Delete of every copy) left behind."""

    status: str  # the stack's final status
    ops: dict[str, int]  # the handlers' Rekognition calls, by operation
    invocations: list[Any]  # the driver's Lambda invocations
    requested: dict[str, float]  # logical id -> when CloudFormation sent the copy's request
    #: (logical id, response time, emulated version) of each copy whose request was answered SUCCESS
    answered: list[tuple[str, float, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one per copy not answered SUCCESS

    @property
    def span(self) -> float:
        """First request -> last SUCCESS response (0 when there is none)."""
        if not self.answered or not self.requested:
            return 0.0
        return max(end for _, end, _ in self.answered) - min(self.requested.values())


def run_phase(
    cloud: Any,
    operate: Callable[[], str],
    request_type: str,
    copies: int,
    versions: Callable[[], dict[str, Any]],
    *,
    first_request: bool,
) -> Phase:
    """Run ``operate`` (``stack.create(...)`` or ``stack.delete``) and read, from what the driver and the
    emulator recorded, each copy's ``request_type`` request and response; ``versions`` is read after the
    operation. A copy's request time is its first (``first_request``) or last ``*_IN_PROGRESS`` event."""
    calls_before, seen = calls_by_operation(DEST_ACCOUNT), len(cloud.invocations)
    status = operate()
    invocations = cloud.invocations[seen:]
    phase = Phase(
        status,
        calls_since(calls_before, DEST_ACCOUNT),
        invocations,
        _requested_at(cloud, f"{request_type.upper()}_IN_PROGRESS", first=first_request),
    )
    answered = _response_times(invocations)
    emulated = versions()
    responses = _phase_requests(cloud, request_type)
    for index in range(copies):
        request = responses.get(logical_id(index))
        version = emulated.get(version_name(index))
        if request is None or version is None or request[1].get("Status") != "SUCCESS":
            phase.failures.append(
                f"{logical_id(index)} {request_type}: {request[1].get('Reason') if request else ''}"
            )
            continue
        phase.answered.append((logical_id(index), answered[request[0]], version))
    return phase


def _create(
    cloud: Any, stack: Any, column: str, source: tuple[str, str], scenario: Scenario, result: ColumnResult
) -> None:
    create = template(column, source, scenario.copies)
    phase = run_phase(
        cloud, lambda: stack.create(create), "Create", scenario.copies, emulated_versions, first_request=True
    )
    if phase.status != "CREATE_COMPLETE":
        reasons = sorted({e.reason for e in cloud.events if e.reason})
        result.failures.append(f"stack {phase.status}: {'; '.join(reasons)[:300]}")
    result.failures += phase.failures
    result.create_ops = phase.ops
    result.create_calls = sum(phase.ops.values())
    result.create_invocations = len(phase.invocations)
    result.gb_seconds += sum(billed_gb_seconds(i.duration, HANDLER_MEMORY_MB) for i in phase.invocations)
    for _, end, version in phase.answered:
        completed = next(t.at for t in version.schedule if t.status == "COPYING_COMPLETED")
        result.detection.append(end - completed)
    result.stack_create = phase.span


def _delete(cloud: Any, stack: Any, scenario: Scenario, result: ColumnResult) -> None:
    versions = emulated_versions()  # kept: a deleted version leaves the backend but keeps its removed_at
    phase = run_phase(cloud, stack.delete, "Delete", scenario.copies, lambda: versions, first_request=False)
    if phase.status != "DELETE_COMPLETE":
        result.failures.append(f"stack {phase.status}")
    result.failures += phase.failures
    result.delete_ops = phase.ops
    result.delete_calls = sum(phase.ops.values())
    result.delete_invocations = len(phase.invocations)
    result.delete_sleep = sum(float(i.duration) for i in phase.invocations) / max(scenario.copies, 1)
    result.gb_seconds += sum(billed_gb_seconds(i.duration, HANDLER_MEMORY_MB) for i in phase.invocations)
    for logical, end, version in phase.answered:
        result.delete_duration.append(end - phase.requested[logical])
        if version.removed_at is not None:
            result.after_gone.append(end - version.removed_at)
    result.stack_delete = phase.span
