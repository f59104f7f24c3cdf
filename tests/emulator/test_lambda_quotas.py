"""The driver's Lambda at its concurrency quotas: the account's pool, reserved concurrency, and the
throttling of asynchronous events with Lambda's retry of them (emulator/cloudformation/lambda_runtime.py).

The functions here hold their execution for ``Hold`` simulated seconds and record when they ran; no AWS
service is involved."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.clock import SimulatedClock
from emulator.cloudformation.lambda_runtime import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    Function,
    LambdaRuntime,
    throttle_delay,
)
from tests.conftest import DEST_ACCOUNT, REGION

INDEX = """
from cfn import polling

RAN = []

def handler(event, context):
    RAN.append((event["Id"], polling.CLOCK.now()))
    if event.get("Hold"):
        polling.CLOCK.sleep(event["Hold"])
    if event.get("Raise"):
        raise RuntimeError("a function error")
"""


@pytest.fixture
def asset(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "index.py").write_text(INDEX)
    (tmp_path / "cfn").mkdir()
    (tmp_path / "cfn" / "__init__.py").write_text("")
    (tmp_path / "cfn" / "polling.py").write_text("CLOCK = None\n")
    yield tmp_path
    # The runtime imported this asset's `index` and `cfn` as Lambda would; later tests import the real ones.
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture
def runtime(aws: None) -> Any:
    made = LambdaRuntime(SimulatedClock(), lambda function: {}, queue_delay=0.0, cold_start=0.0)
    yield made
    made.close()


def function(
    asset: Path, name: str = "f", *, reserved: int | None = None, age: float = 21600.0, retries: int = 2
) -> Function:
    return Function(
        name=name,
        arn=f"arn:aws:lambda:{REGION}:{DEST_ACCOUNT}:function:{name}",
        account_id=DEST_ACCOUNT,
        region=REGION,
        role_arn="",
        asset_dir=asset,
        environment={},
        timeout=900,
        reserved_concurrency=reserved,
        max_event_age=age,
        max_retry_attempts=retries,
    )


def run(runtime: LambdaRuntime, until: float = 24 * 3600.0) -> None:
    """Let simulated time pass until nothing is due (or ``until`` seconds from now)."""
    end = runtime.clock.now() + until
    runtime.run_ready()
    while (wake := runtime.next_wake()) is not None and wake <= end:
        runtime.clock.advance(max(wake - runtime.clock.now(), 0))
        runtime.wake_due()
        runtime.run_ready()


def started(runtime: LambdaRuntime) -> dict[str, float]:
    """When each event's handler started, by its Id, relative to the start of the run."""
    t0 = min(i.queued for i in runtime.invocations)
    return {i.request_id or i.logical_id: i.started - t0 for i in runtime.invocations}


def send(runtime: LambdaRuntime, target: Function, count: int, hold: float) -> None:
    for n in range(count):
        runtime.invoke_async(target, {"Id": f"e{n}", "RequestId": f"e{n}", "Hold": hold})


def test_the_default_account_runs_a_hundred_events_at_once(runtime, asset):
    target = function(asset)
    send(runtime, target, 100, hold=60)

    run(runtime)

    assert DEFAULT_ACCOUNT_CONCURRENCY == 1000
    assert len(runtime.invocations) == 100 and runtime.throttled == []
    assert max(started(runtime).values()) == 0
    assert runtime.peak_running[(DEST_ACCOUNT, REGION)] == 100


def test_the_throttle_retry_interval_doubles_from_one_second_to_five_minutes():
    assert [throttle_delay(n) for n in range(1, 12)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_at_the_account_quota_events_are_throttled_and_retried_with_back_off(runtime, asset):
    runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 2)
    target = function(asset)
    send(runtime, target, 3, hold=10)

    run(runtime)

    # two run at once; the third is throttled at 0 and tried again at 1, 3, 7 s, then 15 s: room
    assert started(runtime) == {"e0": 0, "e1": 0, "e2": 15}
    t0 = runtime.invocations[0].queued
    assert [t - t0 for t, _, request in runtime.throttled if request == "e2"] == [0, 1, 3, 7]
    assert runtime.peak_running[(DEST_ACCOUNT, REGION)] == 2
    assert all(i.attempt == 1 for i in runtime.invocations)  # throttles use up no retry attempt
    assert target.running == 0 and target.throttles == 4


def test_without_retries_a_throttled_event_is_still_tried_until_it_runs_and_an_error_is_not(runtime, asset):
    # MaximumRetryAttempts counts function errors (timeouts among them); throttles are retried until the
    # event's maximum age regardless (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)
    runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 1)
    target = function(asset, retries=0)
    runtime.invoke_async(target, {"Id": "e0", "RequestId": "e0", "Hold": 600})
    runtime.invoke_async(target, {"Id": "e1", "RequestId": "e1", "Raise": True})

    run(runtime)

    # e1 is throttled while e0 holds the only execution (1, 2, 4 ... 256 s, then 300 s), then runs
    t0 = runtime.invocations[0].queued
    assert [t - t0 for t, _, request in runtime.throttled if request == "e1"] == [
        0, 1, 3, 7, 15, 31, 63, 127, 255, 511
    ]
    assert started(runtime) == {"e0": 0, "e1": 811}
    assert [(i.request_id, i.attempt, i.outcome) for i in runtime.invocations] == [
        ("e0", 1, "ok"),
        ("e1", 1, "error"),
    ]
    # its error is not retried: the event is discarded after its one attempt
    assert [(reason, event["Id"]) for reason, event in runtime.discarded] == [
        ("error; no retry left after attempt 1", "e1")
    ]


def test_an_invocation_that_returns_at_once_frees_its_execution_for_the_next(runtime, asset):
    runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 1)
    target = function(asset)
    send(runtime, target, 5, hold=0)

    run(runtime)

    assert set(started(runtime).values()) == {0} and runtime.throttled == []


def test_an_event_throttled_past_its_maximum_age_is_discarded(runtime, asset):
    runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 1)
    target = function(asset, age=60)
    send(runtime, target, 2, hold=600)

    run(runtime)

    assert [i.request_id for i in runtime.invocations] == ["e0"]
    assert [(reason, event["Id"]) for reason, event in runtime.discarded] == [
        ("throttled, event older than 60 s", "e1")
    ]


def test_reserved_concurrency_caps_the_function_and_is_kept_from_the_others(runtime, asset):
    runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 103)
    capped, other = function(asset, "capped", reserved=3), function(asset, "other")
    runtime.functions = {capped.arn: capped, other.arn: other}
    send(runtime, capped, 5, hold=30)
    for n in range(101):
        runtime.invoke_async(other, {"Id": f"o{n}", "RequestId": f"o{n}", "Hold": 30})

    run(runtime)

    first = started(runtime)
    assert sorted(first[f"e{n}"] for n in range(5)) == [0, 0, 0, 31, 31]  # 3 at once: 1+2+4+8+16 s
    assert sum(1 for n in range(101) if first[f"o{n}"] == 0) == 100  # 103 - 3 reserved
    assert runtime.peak_running[(DEST_ACCOUNT, REGION)] == 103


def test_lambda_refuses_a_reservation_that_leaves_fewer_than_100_unreserved(runtime, asset):
    runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 10)
    target = function(asset)

    assert "below its minimum value of [100]" in str(runtime.reservation_error(target, 1))
    runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 1000)
    assert runtime.reservation_error(target, 900) is None
    assert runtime.reservation_error(target, 901) is not None


def test_a_discarded_event_goes_to_the_functions_dead_letter_queue(clock, asset):
    import json

    import boto3

    from emulator.cloudformation import CloudFormation

    queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="dlq")["QueueUrl"]
    with CloudFormation(clock, queue_delay=0.0, cold_start=0.0) as cloud:
        target = function(asset, age=60)
        target.account_id = boto3.client("sts").get_caller_identity()["Account"]  # moto's default account
        target.dead_letter_arn = f"arn:aws:sqs:{REGION}:{target.account_id}:dlq"
        cloud.functions[target.arn] = target
        cloud.runtime.set_account_concurrency(target.account_id, REGION, 1)
        send(cloud.runtime, target, 2, hold=600)

        cloud.settle(3600)

    messages = boto3.client("sqs", region_name=REGION).receive_message(
        QueueUrl=queue, MessageAttributeNames=["All"]
    )["Messages"]
    assert [json.loads(m["Body"])["Id"] for m in messages] == ["e1"]
    error = messages[0]["MessageAttributes"]["ErrorMessage"]["StringValue"]
    assert error == "throttled, event older than 60 s"
