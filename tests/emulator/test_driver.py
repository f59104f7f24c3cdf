"""The lifecycle driver itself: rollbacks as CloudFormation plays them, its timeout counted from when it
sent a request, Lambda's asynchronous invocation (queue, cold start, retries), EventBridge's duplicate
deliveries, and protocol checks that are seen to fail.

These tests run small handlers, good and deliberately broken, not the project's handler:
``write_asset`` writes a Lambda asset whose ``index.handler`` answers each request as the resource's
properties say: ``On<RequestType>`` (``OnCreate``, ``OnUpdate``, ``OnDelete``) is one of

* ``ok`` (default): SUCCESS; Create and Update answer the property ``Id``, Delete the id it was sent;
* ``fail``: FAILED with a Reason, answering the id it was sent (a Create: ``Id``);
* ``fail-other-id``: FAILED, answering ``Id`` whatever id it was sent;
* ``twice``: SUCCESS, twice;
* ``silent``: no answer at all;
* ``empty-id``: SUCCESS with an empty PhysicalResourceId;
* ``other-id``: SUCCESS with the id ``someone-else``;
* ``keep-id``: SUCCESS with the id it was sent;
* ``long-reason``: FAILED with a Reason of 5000 characters (a body over 4096 bytes);
* ``raise``: an exception (a function error: Lambda retries the invocation);
* ``mutate-raise``: adds a key to the event, then raises; answers FAILED if it sees the key already;
* ``sleep:N``: sleep N seconds (simulated), then as ``ok``;
* ``schedule``: as ``ok``, after creating an EventBridge rule ``rate(1 minute)`` that invokes the
  function with ``{"Tick": true}`` (such invocations do nothing).

The asset's ``polling.CLOCK`` is replaced by the driver's simulated clock, as for the real handler.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.cloudformation import CloudFormation, DriverError, Request
from tests.conftest import DEST_ACCOUNT, REGION
from tests.variants import each_reading

INDEX = """
import json
import os
from http.client import HTTPSConnection
from urllib.parse import urlsplit

import boto3

from cfn import polling


def put(event, status, physical_id, reason=""):
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {},
        }
    )
    parts = urlsplit(event["ResponseURL"])
    connection = HTTPSConnection(parts.netloc, timeout=10)
    connection.request("PUT", parts.path + "?" + parts.query, body=body, headers={"content-type": ""})
    connection.getresponse().read()
    connection.close()


def handler(event, context):
    if event.get("Tick"):
        return
    kind = event["RequestType"]
    props = event["ResourceProperties"]
    mode = props.get("On" + kind, "ok")
    sent_id = event.get("PhysicalResourceId")
    answer_id = sent_id if kind == "Delete" else props.get("Id", "")
    if mode.startswith("sleep:"):
        polling.CLOCK.sleep(float(mode.split(":")[1]))
        mode = "ok"
    if mode == "raise":
        raise RuntimeError("broken on purpose")
    if mode == "mutate-raise":
        if event.get("Mutated"):
            put(event, "FAILED", answer_id, "a retry got the event as the last attempt left it")
            return
        event["Mutated"] = True
        raise RuntimeError("broken on purpose")
    if mode == "silent":
        return
    if mode == "schedule":
        events = boto3.client("events", region_name=os.environ["AWS_REGION"])
        events.put_rule(Name="tick-" + event["LogicalResourceId"], ScheduleExpression="rate(1 minute)")
        events.put_targets(
            Rule="tick-" + event["LogicalResourceId"],
            Targets=[{"Id": "1", "Arn": context.invoked_function_arn, "Input": json.dumps({"Tick": True})}],
        )
        mode = "ok"
    if mode == "ok":
        put(event, "SUCCESS", answer_id)
    elif mode == "twice":
        put(event, "SUCCESS", answer_id)
        put(event, "SUCCESS", answer_id)
    elif mode == "fail":
        put(event, "FAILED", sent_id or answer_id, "broken on purpose")
    elif mode == "fail-other-id":
        put(event, "FAILED", props.get("Id", ""), "broken on purpose")
    elif mode == "empty-id":
        put(event, "SUCCESS", "")
    elif mode == "other-id":
        put(event, "SUCCESS", "someone-else")
    elif mode == "keep-id":
        put(event, "SUCCESS", sent_id)
    elif mode == "long-reason":
        put(event, "FAILED", sent_id or answer_id, "x" * 5000)
"""

POLLING = """
import time


class _Clock:
    def now(self):
        return time.time()

    def sleep(self, seconds):
        time.sleep(seconds)


CLOCK = _Clock()
"""


def write_asset(directory: Path) -> Path:
    """Write the test handler's asset into ``directory``; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.py").write_text(INDEX)
    (directory / "cfn").mkdir(exist_ok=True)
    (directory / "cfn" / "__init__.py").write_text("")
    (directory / "cfn" / "polling.py").write_text(POLLING)
    return directory


def template(
    asset: Path,
    resources: dict[str, dict[str, Any]],
    *,
    timeout: int = 60,
    invoke_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A role, the function running ``asset``, and one ``Custom::Probe`` per entry of ``resources``
    (its properties; a ``DependsOn`` key becomes the resource's DependsOn). ``invoke_config`` adds an
    AWS::Lambda::EventInvokeConfig for the function with those properties."""
    body: dict[str, Any] = {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Statement": []},
                # what the probe's "schedule" mode calls (the emulator authorizes EventBridge)
                "Policies": [
                    {
                        "PolicyName": "ticks",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["events:PutRule", "events:PutTargets"],
                                    "Resource": f"arn:aws:events:{REGION}:{DEST_ACCOUNT}:rule/tick-*",
                                }
                            ],
                        },
                    }
                ],
            },
        },
        "Handler": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Handler": "index.handler",
                "Timeout": timeout,
            },
            "Metadata": {"aws:asset:path": str(asset)},
        },
    }
    if invoke_config is not None:
        body["InvokeConfig"] = {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {"FunctionName": {"Ref": "Handler"}, "Qualifier": "$LATEST", **invoke_config},
        }
    for logical_id, properties in resources.items():
        properties = dict(properties)
        depends = properties.pop("DependsOn", None)
        body[logical_id] = {
            "Type": "Custom::Probe",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}, **properties},
        }
        if depends:
            body[logical_id]["DependsOn"] = depends
    return {"Resources": body}


# --------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------
@pytest.fixture
def asset(tmp_path: Path) -> Path:
    return write_asset(tmp_path / "probe")


def _stack(cloud: CloudFormation, asset: Path, resources: dict[str, dict[str, Any]], **kwargs: Any) -> Any:
    stack = cloud.stack("probe", account_id=DEST_ACCOUNT, region=REGION, asset_root=asset.parent)
    stack.create(template(asset, resources, **kwargs))
    return stack


def _sent(cloud: CloudFormation, logical_id: str | None = None) -> list[tuple[str, str, str]]:
    """(logical id, RequestType, PhysicalResourceId) of every request sent so far, in order."""
    return [
        (r.logical_id, r.event["RequestType"], r.event.get("PhysicalResourceId", ""))
        for r in cloud.all_requests
        if logical_id in (None, r.logical_id)
    ]


def _requests(cloud: CloudFormation, logical_id: str, request_type: str) -> list[Request]:
    return cloud.sent_requests(logical_id, request_type)


def _stack_statuses(cloud: CloudFormation) -> list[str]:
    return [e.status for e in cloud.events if e.resource_type == "AWS::CloudFormation::Stack"]


def _expect_violations(cloud: CloudFormation, *fragments: str) -> None:
    """Each fragment is in some reported violation; then forget them (the fixture fails on any left)."""
    found = cloud.audit()
    for fragment in fragments:
        assert any(fragment in v for v in found), (fragment, found)
    cloud.violations.clear()


# --------------------------------------------------------------------------------------------------------
# Rollback of a failed stack update
# --------------------------------------------------------------------------------------------------------
def test_a_failed_update_is_rolled_back_with_the_old_properties_to_the_held_id(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "Size": "1"}})

    new = template(asset, {"Probe": {"Id": "p-2", "Size": "2", "OnUpdate": "fail"}})
    assert stack.update(new) == "UPDATE_ROLLBACK_COMPLETE"

    forward, rollback = _requests(cloud, "Probe", "Update")
    assert forward.event["PhysicalResourceId"] == "p-1"
    assert rollback.event["PhysicalResourceId"] == "p-1"  # a FAILED answer does not change the held id
    assert rollback.event["ResourceProperties"]["Size"] == "1"
    assert rollback.event["OldResourceProperties"] == forward.event["ResourceProperties"]
    assert stack.resources["Probe"].physical_id == "p-1"
    assert stack.resources["Probe"].properties["Size"] == "1"
    assert _stack_statuses(cloud)[-3:] == [
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    assert not _requests(cloud, "Probe", "Delete")


def test_a_failed_rollback_update_ends_update_rollback_failed_with_its_reason(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "Size": "1", "OnUpdate": "fail"}})

    assert stack.update(template(asset, {"Probe": {"Id": "p-1", "Size": "2", "OnUpdate": "fail"}})) == (
        "UPDATE_ROLLBACK_FAILED"
    )

    assert len(_requests(cloud, "Probe", "Update")) == 2
    final = cloud.events[-1]
    assert final.status == "UPDATE_ROLLBACK_FAILED" and "Probe: broken on purpose" in final.reason
    assert "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" not in _stack_statuses(cloud)


@each_reading("custom_resource_event_reason")
def test_describe_stack_events_shows_the_stacks_events_newest_first_with_a_failed_answers_reason(
    cloud, asset, variant
):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "Size": "1"}})
    assert stack.update(template(asset, {"Probe": {"Id": "p-1", "Size": "2", "OnUpdate": "fail"}})) == (
        "UPDATE_ROLLBACK_COMPLETE"
    )
    client = stack.session().client("cloudformation")

    shown = client.describe_stack_events(StackName=stack.stack_id)["StackEvents"]

    assert client.describe_stack_events(StackName="probe")["StackEvents"] == shown
    recorded = [e for e in cloud.events if e.stack_id == stack.stack_id]
    assert [(e["LogicalResourceId"], e["ResourceStatus"]) for e in shown] == [
        (e.logical_id, e.status) for e in reversed(recorded)
    ]
    assert shown[0]["ResourceStatus"] == "UPDATE_ROLLBACK_COMPLETE" and shown[0]["StackName"] == "probe"
    failed = next(e for e in shown if e["ResourceStatus"] == "UPDATE_FAILED")
    reason = next(e.reason for e in recorded if e.status == "UPDATE_FAILED")
    request_id = _requests(cloud, "Probe", "Update")[0].event["RequestId"]
    assert reason and failed["ResourceStatusReason"] == (
        f"Received response status [FAILED] from custom resource. Message returned: {reason} "
        f"(RequestId: {request_id})"
        if variant["custom_resource_event_reason"] == "wrapped"
        else reason
    )
    stack_failure = next(e for e in shown if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS")
    assert "Received response status" not in stack_failure.get("ResourceStatusReason", "")


@each_reading("stack_event_properties")
def test_a_custom_resources_events_show_its_requests_properties_and_are_recorded_as_it_is_sent_and_answered(
    cloud, asset, variant
):
    # CloudFormation records a resource's *_IN_PROGRESS event before it sends the request and its
    # *_COMPLETE or *_FAILED event as it takes the answer, not when the whole wave is over: the event of
    # the first resource answered comes before the second's answer. ``ResourceProperties`` (JSON) carries the
    # request's properties, or nothing, as the reading says.
    old = {"First": {"Id": "f-1", "Size": "1"}, "Second": {"Id": "s-1", "Size": "1"}}
    stack = _stack(cloud, asset, old)
    new = {"First": {"Id": "f-1", "Size": "2"}, "Second": {"Id": "s-1", "Size": "2", "OnUpdate": "sleep:30"}}
    answered: list[str] = []
    previous = cloud._on_event

    def on_event(event: Any) -> None:
        if previous:
            previous(event)
        if event.status == "UPDATE_COMPLETE" and event.logical_id == "First":
            second = _requests(cloud, "Second", "Update")[-1]
            answered.append("second answered" if second.response else "second waiting")

    cloud._on_event = on_event
    assert stack.update(template(asset, new)) == "UPDATE_COMPLETE"

    assert answered == ["second waiting"]
    client = stack.session().client("cloudformation")
    shown = client.describe_stack_events(StackName=stack.stack_id)["StackEvents"]
    first = [e for e in shown if e["LogicalResourceId"] == "First"][:2]
    assert [e["ResourceStatus"] for e in first] == ["UPDATE_COMPLETE", "UPDATE_IN_PROGRESS"]
    sent = _requests(cloud, "First", "Update")[-1].event["ResourceProperties"]
    for event in first:
        if variant["stack_event_properties"] == "every":
            assert json.loads(event["ResourceProperties"]) == sent
        else:
            assert "ResourceProperties" not in event


def test_continue_update_rollback_sends_the_failed_rollback_updates_again_and_may_skip_them(cloud, asset):
    # The rollback's Update of First fails (its previous properties say so): UPDATE_ROLLBACK_FAILED.
    # ContinueUpdateRollback sends that rollback Update again, as the first rollback sent it, and not those
    # that answered SUCCESS; ResourcesToSkip takes First as rolled back without a request.
    old = {"First": {"Id": "f-1", "Size": "1", "OnUpdate": "fail"}, "Second": {"Id": "s-1", "Size": "1"}}
    stack = _stack(cloud, asset, old)
    new: dict[str, dict[str, Any]] = {
        "First": {"Id": "f-1", "Size": "2"},
        "Second": {"Id": "s-1", "Size": "2"},
        "Breaker": {"Id": "b-1", "OnCreate": "fail", "DependsOn": ["First", "Second"]},
    }
    with pytest.raises(DriverError, match="UPDATE_ROLLBACK_FAILED"):
        stack.continue_update_rollback()  # not in UPDATE_ROLLBACK_FAILED yet
    assert stack.update(template(asset, new)) == "UPDATE_ROLLBACK_FAILED"
    first = _requests(cloud, "First", "Update")
    assert len(first) == 2 and (first[1].response or {}).get("Status") == "FAILED"
    seconds = len(_requests(cloud, "Second", "Update"))

    assert stack.continue_update_rollback() == "UPDATE_ROLLBACK_FAILED"

    again = _requests(cloud, "First", "Update")[-1]
    assert again is not first[1]
    assert again.event["ResourceProperties"] == first[1].event["ResourceProperties"]
    assert again.event["OldResourceProperties"] == first[1].event["OldResourceProperties"]
    assert len(_requests(cloud, "Second", "Update")) == seconds  # rolled back already: not sent again
    assert stack.continue_update_rollback(resources_to_skip=("First",)) == "UPDATE_ROLLBACK_COMPLETE"
    assert len(_requests(cloud, "First", "Update")) == 3
    assert _stack_statuses(cloud)[-3:] == [
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]


def test_every_resource_updated_before_the_failure_is_rolled_back(cloud, asset):
    old = {"First": {"Id": "f-1", "Size": "1"}, "Second": {"Id": "s-1", "Size": "1", "DependsOn": "First"}}
    stack = _stack(cloud, asset, old)
    new = {
        "First": {"Id": "f-1", "Size": "2"},
        "Second": {"Id": "s-1", "Size": "2", "OnUpdate": "fail", "DependsOn": "First"},
    }

    assert stack.update(template(asset, new)) == "UPDATE_ROLLBACK_COMPLETE"

    first = _requests(cloud, "First", "Update")
    assert [r.event["ResourceProperties"]["Size"] for r in first] == ["2", "1"]
    assert first[1].event["OldResourceProperties"]["Size"] == "2"
    assert [r.event["ResourceProperties"]["Size"] for r in _requests(cloud, "Second", "Update")] == ["2", "1"]
    assert stack.resources["First"].properties["Size"] == "1"


def test_an_accepted_replacement_is_rolled_back_through_its_new_id_and_deleted_in_cleanup(cloud, asset):
    old = {"First": {"Id": "f-1"}, "Second": {"Id": "s-1", "Size": "1", "DependsOn": "First"}}
    stack = _stack(cloud, asset, old)
    new = {
        "First": {"Id": "f-2"},  # answered with a new id: an accepted replacement
        "Second": {"Id": "s-1", "Size": "2", "OnUpdate": "fail", "DependsOn": "First"},
    }

    assert stack.update(template(asset, new)) == "UPDATE_ROLLBACK_COMPLETE"

    # the stack held f-2: the rollback goes there, with the old properties; its answer (f-1, adopted)
    # is another id, so CloudFormation deletes f-2 in the cleanup, after asking the handler
    assert _sent(cloud, "First")[1:] == [
        ("First", "Update", "f-1"),
        ("First", "Update", "f-2"),
        ("First", "Delete", "f-2"),
    ]
    rollback = _requests(cloud, "First", "Update")[1]
    assert rollback.event["ResourceProperties"]["Id"] == "f-1"
    assert rollback.event["OldResourceProperties"]["Id"] == "f-2"
    cleanup = next(e for e in cloud.events if e.status == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    delete = next(e for e in cloud.events if e.logical_id == "First" and e.status == "DELETE_IN_PROGRESS")
    assert cloud.events.index(delete) > cloud.events.index(cleanup)
    assert stack.resources["First"].physical_id == "f-1"


def test_a_rollback_that_answers_the_held_id_keeps_it_and_deletes_nothing(cloud, asset):
    # the old properties say: answer an Update with the id it was sent
    old = {"First": {"Id": "f-1", "OnUpdate": "keep-id"}, "Second": {"Id": "s-1", "DependsOn": "First"}}
    stack = _stack(cloud, asset, old)
    new = {
        "First": {"Id": "f-2"},
        "Second": {"Id": "s-1", "OnUpdate": "fail", "DependsOn": "First"},
    }

    assert stack.update(template(asset, new)) == "UPDATE_ROLLBACK_COMPLETE"

    assert _sent(cloud, "First")[1:] == [("First", "Update", "f-1"), ("First", "Update", "f-2")]
    assert stack.resources["First"].physical_id == "f-2"
    assert stack.resources["First"].properties["Id"] == "f-1"


def test_resources_created_by_a_failed_update_are_deleted_in_the_cleanup(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "Size": "1"}})
    new = {"Probe": {"Id": "p-1", "Size": "2", "OnUpdate": "fail"}, "Extra": {"Id": "e-1"}}

    assert stack.update(template(asset, new)) == "UPDATE_ROLLBACK_COMPLETE"

    assert _sent(cloud, "Extra") == [("Extra", "Create", ""), ("Extra", "Delete", "e-1")]
    assert "Extra" not in stack.resources


def test_a_failed_cleanup_delete_ends_update_rollback_failed(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "Size": "1"}})
    new = {
        "Probe": {"Id": "p-1", "Size": "2", "OnUpdate": "fail"},
        "Extra": {"Id": "e-1", "OnDelete": "fail"},
    }

    assert stack.update(template(asset, new)) == "UPDATE_ROLLBACK_FAILED"

    assert "Extra: broken on purpose" in cloud.events[-1].reason
    assert stack.resources["Extra"].physical_id == "e-1"  # still held: the Delete failed


def test_a_failed_update_answering_another_id_is_reported_and_the_held_id_kept(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "Size": "1"}})

    stack.update(template(asset, {"Probe": {"Id": "p-2", "Size": "2", "OnUpdate": "fail-other-id"}}))

    assert stack.status == "UPDATE_ROLLBACK_COMPLETE"
    assert _requests(cloud, "Probe", "Update")[1].event["PhysicalResourceId"] == "p-1"
    assert stack.resources["Probe"].physical_id == "p-1"
    _expect_violations(cloud, "Probe Update: FAILED Update answered another PhysicalResourceId 'p-2'")


# --------------------------------------------------------------------------------------------------------
# Rollback of a failed create, stack delete
# --------------------------------------------------------------------------------------------------------
def test_a_failed_create_is_deleted_with_the_id_it_answered(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "fail"}})

    assert stack.status == "ROLLBACK_COMPLETE"
    assert _sent(cloud) == [("Probe", "Create", ""), ("Probe", "Delete", "p-1")]


def test_a_failed_delete_in_a_create_rollback_ends_rollback_failed(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "fail", "OnDelete": "fail"}})

    assert stack.status == "ROLLBACK_FAILED"
    assert "Probe: broken on purpose" in cloud.events[-1].reason
    assert "Role" in stack.resources and "Handler" in stack.resources  # kept: Probe depends on them


def test_a_failed_delete_ends_delete_failed(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnDelete": "fail"}, "Other": {"Id": "o-1"}})

    assert stack.delete() == "DELETE_FAILED"

    assert set(stack.resources) == {"Probe", "Role", "Handler"}
    assert "Probe: broken on purpose" in cloud.events[-1].reason


# --------------------------------------------------------------------------------------------------------
# CloudFormation's timeout runs from when it sent the request
# --------------------------------------------------------------------------------------------------------
def test_the_queue_and_a_cold_start_come_between_sending_and_reaching_the_function(cloud, asset):
    cloud.runtime.queue_delay, cloud.runtime.cold_start = 30.0, 5.0
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1"}, "Other": {"Id": "o-1", "DependsOn": "Probe"}})

    first, second = _requests(cloud, "Probe", "Create")[0], _requests(cloud, "Other", "Create")[0]
    assert stack.status == "CREATE_COMPLETE"
    assert first.sent is not None and first.reached == first.sent + 35  # queue, then init
    assert first.answered == first.reached
    assert second.sent is not None and second.reached == second.sent + 30  # a warm instance: no init
    invocation = cloud.invocations[0]
    assert (invocation.queued, invocation.received, invocation.cold_start) == (
        first.sent,
        first.sent + 30,
        True,
    )


def test_the_service_timeout_counts_the_time_before_the_function_started(cloud, asset):
    cloud.runtime.queue_delay, cloud.runtime.cold_start = 20.0, 5.0
    # the handler answers 40 s after it started: within 60 s counted from there, not from sending
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "sleep:40", "ServiceTimeout": "60"}})

    create = _requests(cloud, "Probe", "Create")[0]
    assert stack.status == "ROLLBACK_COMPLETE" and create.sent is not None
    assert create.deadline == create.sent + 60
    failed = next(e for e in cloud.events if e.logical_id == "Probe" and e.status == "CREATE_FAILED")
    assert failed.time == create.sent + 60 and "ServiceTimeout" in failed.reason
    assert len(cloud.server.responses(create.event["RequestId"])) == 1  # it did answer, too late
    _expect_violations(cloud, "Probe Create: no response before ServiceTimeout")


def test_a_request_made_early_gets_its_deadline_when_sent(cloud, asset, clock):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "ServiceTimeout": "100"}})
    request = stack.request("Probe", "Delete")
    clock.advance(500)
    sent = clock.now()

    cloud.run([request])

    assert request.sent == sent and request.deadline == sent + 100
    assert request.response is not None and request.response["Status"] == "SUCCESS"


# --------------------------------------------------------------------------------------------------------
# Lambda's asynchronous invocation: retries, EventInvokeConfig; EventBridge's duplicates
# --------------------------------------------------------------------------------------------------------
def test_a_function_error_is_retried_twice_after_one_then_two_minutes(cloud, asset):
    _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "raise", "ServiceTimeout": "600"}})

    runs = [i for i in cloud.invocations if i.logical_id == "Probe" and i.request_type == "Create"]
    assert [(i.attempt, i.outcome) for i in runs] == [(1, "error"), (2, "error"), (3, "error")]
    cold = cloud.runtime.cold_start
    assert runs[1].received - runs[0].started == 60  # the handler raised at once
    assert runs[2].received - runs[1].started == 120
    assert all(i.queued == runs[0].queued for i in runs)  # the event's age counts from the first queueing
    assert runs[1].started - runs[1].received in (0, cold)
    assert "no retry left after attempt 3" in cloud.runtime.discarded[0][0]
    _expect_violations(cloud, "Probe Create: no response before ServiceTimeout")


def test_a_retry_gets_the_event_as_lambda_received_it(cloud, asset):
    _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "mutate-raise", "ServiceTimeout": "600"}})

    runs = [i for i in cloud.invocations if i.logical_id == "Probe" and i.request_type == "Create"]
    assert [i.outcome for i in runs] == ["error", "error", "error"]
    _expect_violations(cloud, "Probe Create: no response before ServiceTimeout")


def test_a_timed_out_invocation_is_retried_a_minute_after_its_timeout(cloud, asset):
    _stack(
        cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "sleep:30", "ServiceTimeout": "300"}}, timeout=10
    )

    runs = [i for i in cloud.invocations if i.logical_id == "Probe" and i.request_type == "Create"]
    assert [i.outcome for i in runs] == ["timeout", "timeout", "timeout"]
    assert runs[1].received == runs[0].started + 10 + 60
    _expect_violations(cloud, "Probe Create: no response before ServiceTimeout")


def test_a_retry_due_after_its_function_was_deleted_never_runs(cloud, asset):
    # The Create errors, CloudFormation gives up on it at its 30 s and the rollback deletes the function:
    # Lambda's retry, due a minute after the error, finds no function to run.
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "raise", "ServiceTimeout": "30"}})
    cloud.settle(600)

    assert stack.status == "ROLLBACK_COMPLETE"
    runs = [i for i in cloud.invocations if i.logical_id == "Probe" and i.request_type == "Create"]
    assert [i.attempt for i in runs] == [1]
    assert [reason for reason, _ in cloud.runtime.discarded] == ["the function was deleted"]
    _expect_violations(cloud, "Probe Create: no response before ServiceTimeout")


@pytest.mark.parametrize("retries", [0, 1])
def test_event_invoke_config_sets_the_number_of_retries(cloud, asset, retries):
    _stack(
        cloud,
        asset,
        {"Probe": {"Id": "p-1", "OnCreate": "raise", "ServiceTimeout": "600"}},
        invoke_config={"MaximumRetryAttempts": retries},
    )

    runs = [i for i in cloud.invocations if i.logical_id == "Probe" and i.request_type == "Create"]
    assert len(runs) == 1 + retries
    _expect_violations(cloud, "Probe Create: no response before ServiceTimeout")


def test_event_invoke_config_discards_an_event_older_than_its_maximum_age(cloud, asset):
    _stack(
        cloud,
        asset,
        {"Probe": {"Id": "p-1", "OnCreate": "raise", "ServiceTimeout": "600"}},
        invoke_config={"MaximumEventAgeInSeconds": 60},
    )

    runs = [i for i in cloud.invocations if i.logical_id == "Probe" and i.request_type == "Create"]
    assert len(runs) == 1  # the first retry would start more than 60 s after the event was queued
    assert "older than 60 s" in cloud.runtime.discarded[0][0]
    _expect_violations(cloud, "Probe Create: no response before ServiceTimeout")


def test_an_invalid_event_invoke_config_is_refused(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1"}}, invoke_config={"MaximumRetryAttempts": 3})
    assert stack.status == "ROLLBACK_COMPLETE"  # CloudFormation refuses the value: the stack fails
    assert any("MaximumRetryAttempts must be 0-2" in e.reason for e in cloud.events)


@pytest.mark.parametrize(("probability", "expected"), [(0.0, 10), (1.0, 20)])
def test_eventbridge_delivers_a_scheduled_invocation_twice_when_told(cloud, asset, probability, expected):
    cloud.duplicate_schedule_deliveries = probability
    _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "schedule"}})

    cloud.settle(10 * 60 + 30)  # 10 firings of the 1-minute rule

    ticks = [i for i in cloud.invocations if i.request_type == ""]
    assert len(ticks) == expected
    assert len(cloud.duplicated) == expected - 10


def test_duplicate_schedule_deliveries_are_repeatable_with_a_seed(asset, clock):
    counts: list[int] = []
    for _ in range(2):
        with CloudFormation(clock, duplicate_schedule_deliveries=0.5, seed=3) as cloud:
            stack = cloud.stack(
                f"probe{len(counts)}", account_id=DEST_ACCOUNT, region=REGION, asset_root=asset
            )
            stack.create(template(asset, {"Probe": {"Id": "p-1", "OnCreate": "schedule"}}))
            cloud.settle(10 * 60 + 30)
            counts.append(len(cloud.duplicated))
            stack.session().client("events").remove_targets(Rule="tick-Probe", Ids=["1"])
            stack.session().client("events").delete_rule(Name="tick-Probe")
            assert cloud.audit() == []
    assert counts[0] == counts[1] and 0 < counts[0] < 10


def test_a_redelivered_request_answered_per_delivery_is_reported(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1"}})
    delete = stack.request("Probe", "Delete", deliveries=2)

    cloud.run([delete])

    # a handler that does not recognise the duplicate delivery answers twice: one request, one answer
    assert len([i for i in cloud.invocations if i.request_id == delete.event["RequestId"]]) == 2
    assert len(cloud.server.responses(delete.event["RequestId"])) == 2
    _expect_violations(cloud, "Probe Delete: 2 responses to one request")


# --------------------------------------------------------------------------------------------------------
# Protocol checks, seen to fail
# --------------------------------------------------------------------------------------------------------
def test_two_answers_to_one_request_are_reported(cloud, asset):
    _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "twice"}})

    _expect_violations(cloud, "Probe Create: 2 responses to one request")


def test_no_answer_waits_for_the_service_timeout_then_fails(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "silent", "ServiceTimeout": "300"}})

    create, delete = _requests(cloud, "Probe", "Create")[0], _requests(cloud, "Probe", "Delete")[0]
    failed = next(e for e in cloud.events if e.logical_id == "Probe" and e.status == "CREATE_FAILED")
    assert create.sent is not None and failed.time == create.sent + 300
    # the rollback's Delete carries an id CloudFormation made up, not one the handler answered
    assert delete.event["PhysicalResourceId"].startswith("probe-Probe-")
    assert stack.status == "ROLLBACK_COMPLETE"
    _expect_violations(cloud, "Probe Create: no response before ServiceTimeout")


def test_an_empty_physical_id_is_reported(cloud, asset):
    _stack(cloud, asset, {"Probe": {"OnCreate": "empty-id"}})

    _expect_violations(cloud, "Probe Create: PhysicalResourceId '' empty or too long")


def test_a_changed_physical_id_on_delete_is_reported(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnDelete": "other-id"}})

    stack.delete()

    _expect_violations(cloud, "Probe Delete: Delete answered another PhysicalResourceId 'someone-else'")


def test_a_response_over_4096_bytes_is_reported(cloud, asset):
    _stack(cloud, asset, {"Probe": {"Id": "p-1", "OnCreate": "long-reason"}})

    _expect_violations(cloud, "Probe Create: response of 5", "bytes, over 4096")
