"""Column 3: a model of the CDK Provider framework's waiter, run against the same emulator and clock.

What ``custom_resources.Provider`` with an ``isCompleteHandler`` deploys (aws-cdk-lib 2.275, read from
``custom-resources/lib/provider-framework``): CloudFormation invokes ``framework-onEvent`` (Node.js), which
invokes the user's onEvent function synchronously and starts the waiter state machine. The state machine has
one Task, ``framework-isComplete-task``, retried on every error with ``IntervalSeconds = queryInterval``
(default 5 s), ``BackoffRate 1`` and ``MaxAttempts = totalTimeout / queryInterval``; the task invokes
``framework-isComplete`` (Node.js), which invokes the user's isComplete function synchronously and throws
``Retry`` while it is not complete, and sends the response to CloudFormation itself when it is.

The model: the user's onEvent and isComplete are the project's own ``model_copy`` code, through the same
four steps the crhelper baseline uses (``bench/baselines/crhelper_default/copy_steps.py``; one
DescribeProjectVersions per check), all against the emulator on the simulated clock. The first check runs
as soon as the execution starts, then one every 5 s; Lambda and Step Functions latencies (well under a
second per check) are taken as zero, so detection latency here is a lower bound. Counted per request:

* Lambda invocations: 2 for onEvent (framework + user) and 2 per check (framework + user);
* Step Functions state transitions: 1 per attempt of the Task (AWS counts retries as transitions);
* billed GB-s: a user invocation ``WORK_MS`` at 128 MB; a framework invocation its own ``FRAMEWORK_OWN_MS``
  plus the user function's ``WORK_MS`` (it waits for it) at 128 MB.

``totalTimeout`` is set to 1 hour (the construct's ServiceTimeout): the Provider's default of 30 minutes would
fail every copy that takes longer than that.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import (
    DEST_ACCOUNT,
    FRAMEWORK_MEMORY_MB,
    FRAMEWORK_OWN_MS,
    HANDLER_MEMORY_MB,
    PROVIDER,
    REGION,
    SERVICE_TIMEOUT,
    WORK_MS,
    ColumnResult,
    Scenario,
    billed_gb_seconds,
    calls_by_operation,
    calls_since,
    emulated_aws,
)
from bench.driver_runs import PROJECT_NAME, emulated_versions, version_name

QUERY_INTERVAL = 5.0
TOTAL_TIMEOUT = float(SERVICE_TIMEOUT)
MAX_ATTEMPTS = int(TOTAL_TIMEOUT / QUERY_INTERVAL)


def _check_cost() -> float:
    """GB-s of one check (or one onEvent): the framework function and the user function it invokes."""
    user = billed_gb_seconds(0.0, HANDLER_MEMORY_MB)
    framework = billed_gb_seconds(0.0, FRAMEWORK_MEMORY_MB, extra_ms=FRAMEWORK_OWN_MS + WORK_MS)
    return user + framework


def run(scenario: Scenario) -> ColumnResult:
    """Create then delete ``scenario.copies`` copies the way the Provider framework's waiter would."""
    import boto3

    from bench.baselines.crhelper_default import copy_steps
    from emulator.iam import ensure_role
    from emulator.templates import function_policy

    result = ColumnResult(PROVIDER, scenario.copies, scenario.copy_seconds, transitions=0)
    wall = time.perf_counter()
    with emulated_aws(scenario) as (clock, source):
        # the user handler's role: the library's statements, enforced like the project's own function's
        ensure_role(DEST_ACCOUNT, "provider-user-handler", json.dumps(function_policy(DEST_ACCOUNT, REGION)))
        ensure_role(DEST_ACCOUNT, "bench-setup")

        def as_role(name: str) -> boto3.Session:
            credentials = boto3.client("sts", region_name=REGION).assume_role(
                RoleArn=f"arn:aws:iam::{DEST_ACCOUNT}:role/{name}", RoleSessionName=name
            )["Credentials"]
            return boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=REGION,
            )

        setup = as_role("bench-setup")
        setup.client("s3").create_bucket(Bucket="prod-bench-output")
        destination = setup.client("rekognition").create_project(ProjectName=PROJECT_NAME)["ProjectArn"]
        client = as_role("provider-user-handler").client("rekognition")
        # the ProjectName/bucket set-up calls are not part of the figures
        calls_before = calls_by_operation(DEST_ACCOUNT)
        properties = [
            {
                "SourceProjectArn": source[0],
                "SourceProjectVersionArn": source[1],
                "DestinationProjectArn": destination,
                "VersionName": version_name(index),
                "OutputConfig": {
                    "S3Bucket": "prod-bench-output",
                    "S3KeyPrefix": f"copies/{version_name(index)}/",
                },
                "ServiceTimeout": str(SERVICE_TIMEOUT),
            }
            for index in range(scenario.copies)
        ]

        owners = [
            copy_steps.owner_of(
                {"StackId": "arn:aws:cloudformation:bench", "LogicalResourceId": f"Copy{i:03d}"}
            )
            for i in range(scenario.copies)
        ]

        # Create: onEvent for every copy at once, then the waiter's checks.
        started = clock.now()
        arns = {}
        for index, props in enumerate(properties):
            arns[index] = copy_steps.start_copy(client, props, owners[index])[0]
            result.create_invocations += 2
            result.gb_seconds += _check_cost()

        def check_copy(index: int) -> bool:
            return copy_steps.copy_finished(client, destination, arns[index])

        ends, invocations, transitions = _wait(clock, scenario, check_copy, result)
        result.create_invocations += invocations
        result.transitions = (result.transitions or 0) + transitions
        result.create_ops = calls_since(calls_before, DEST_ACCOUNT)
        result.create_calls = sum(result.create_ops.values())
        versions = emulated_versions()
        for index, end in ends.items():
            version = versions[version_name(index)]
            completed = next(t.at for t in version.schedule if t.status == "COPYING_COMPLETED")
            result.detection.append(end - completed)
        result.stack_create = max(ends.values(), default=started) - started

        # Delete: onEvent (stop if running, DeleteProjectVersion) for every copy, then the checks.
        calls_before = calls_by_operation(DEST_ACCOUNT)
        started = clock.now()
        targets = {}
        for index, props in enumerate(properties):
            targets[index] = copy_steps.start_delete(client, props, arns[index], owners[index])
            result.delete_invocations += 2
            result.gb_seconds += _check_cost()

        def check_delete(index: int) -> bool:
            target = targets[index]
            return target is None or copy_steps.delete_finished(client, destination, target)

        ends, invocations, transitions = _wait(clock, scenario, check_delete, result)
        result.delete_invocations += invocations
        result.transitions = (result.transitions or 0) + transitions
        result.delete_ops = calls_since(calls_before, DEST_ACCOUNT)
        result.delete_calls = sum(result.delete_ops.values())
        for index, end in ends.items():
            result.delete_duration.append(end - started)
            removed = versions[version_name(index)].removed_at
            if removed is not None:
                result.after_gone.append(end - removed)
        result.stack_delete = max(ends.values(), default=started) - started
    if scenario.copy_seconds > 30 * 60:
        result.notes.append("needs totalTimeout > 30 min: the Provider's default would fail this copy")
    result.wall_seconds = time.perf_counter() - wall
    return result


def _wait(
    clock: Any, scenario: Scenario, check: Any, result: ColumnResult
) -> tuple[dict[int, float], int, int]:
    """The waiter for every copy at once: a check now, then every QUERY_INTERVAL, up to MAX_ATTEMPTS.

    Returns (index -> response time, Lambda invocations, state transitions).
    """
    pending = list(range(scenario.copies))
    ends: dict[int, float] = {}
    invocations = transitions = attempts = 0
    while pending:
        attempts += 1
        for index in list(pending):
            invocations += 2
            transitions += 1
            result.gb_seconds += _check_cost()
            if check(index):
                ends[index] = clock.now()
                pending.remove(index)
        if not pending:
            break
        if attempts >= MAX_ATTEMPTS:
            result.failures += [
                f"copy {index}: Operation timed out (the waiter's totalTimeout)" for index in pending
            ]
            break
        clock.advance(QUERY_INTERVAL)
    return ends, invocations, transitions
