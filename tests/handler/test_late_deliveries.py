"""Late deliveries (Lambda delivers at least once; a request's claim is released with its answer, so a later
delivery claims it afresh): a rollback's Update delivered again while, or after, the stack takes back the
copy that rollback left to a cleanup, and during a cleanup phase. None may delete the copy the stack
holds, make a copy, or answer a second time."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import pytest
from moto.events import models as eventbridge_models

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, REPO, copy_template
from tests.handler.conftest import failing_later, reasons, versions
from tests.handler.test_drift import delete_by_hand
from tests.variants import each_reading, variant_fixture  # noqa: F401 - the variant fixture


def _stack_status() -> Any:
    """The handler's ``cfn.stack_status``, imported from its asset directory."""
    sys.path.insert(0, str(REPO / "lambda"))
    return importlib.import_module("cfn.stack_status")


def _update(
    stack_id: str, request_id: str, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An Update of ModelCopy as the handler reads it (only what ``stack_status`` looks at)."""
    request: dict[str, Any] = {"StackId": stack_id, "RequestType": "Update", "RequestId": request_id}
    request.update(LogicalResourceId="ModelCopy", ResourceProperties=new or {})
    request["OldResourceProperties"] = old or {}
    return request


def _late(cloud: Any, request: Any, delay: float) -> None:
    """Lambda delivers ``request``'s event once more, ``delay`` seconds from now (at least once)."""
    cloud.runtime.invoke_async(request.function, request.event, delay=delay)


def _left_to_a_cleanup(stack: Any, cloud: Any, source_version: Any, retain: bool) -> tuple[Any, str]:
    policy = "Retain" if retain else None
    custom_labels.config.copy_duration = 25 * 60
    failed = stack.update(
        copy_template(
            source_version, version_name="defects-prod-2", service_timeout=600, deletion_policy=policy
        )
    )
    assert failed == "UPDATE_ROLLBACK_COMPLETE"
    rollback = cloud.sent_requests("ModelCopy", "Update")[-1]
    assert json.loads(json.dumps(rollback.event))["ResourceProperties"]["VersionName"] == "defects-prod-1"
    return rollback, versions(stack)["defects-prod-2"]["ProjectVersionArn"]


def test_a_late_rollback_delivery_during_the_adopting_update_never_deletes_the_adopted_copy(
    cloud, deploy, source_version
):
    # The rollback left v2 to a cleanup (C1); the same change again adopts v2 (taken tag > C1's left).
    # Lambda delivers the rollback once more during that update (C1 ended, so its claim is free): it
    # removes v2 as its stray, v2 is still copying, it leaves a NEW cleanup (left > taken), which deletes
    # v2 once copied: the copy the stack now holds.
    stack = deploy(copy_template(source_version, version_name="defects-prod-1", service_timeout=600))
    rollback, left = _left_to_a_cleanup(stack, cloud, source_version, retain=False)
    _late(cloud, rollback, 180)

    status = stack.update(copy_template(source_version, version_name="defects-prod-2", service_timeout=3600))

    cloud.settle(1800)
    assert status == "UPDATE_COMPLETE", reasons(cloud)
    assert stack.resources["ModelCopy"].physical_id == left
    assert "defects-prod-2" in versions(stack)


@pytest.mark.parametrize("retain", [False, True])
def test_a_late_rollback_delivery_after_the_adopting_update_never_deletes_the_held_copy(
    cloud, deploy, source_version, retain
):
    # As above, the late rollback delivery coming once the adopting update is over. Without Retain v1 is
    # gone: it asks the stack status (drift), reads UPDATE_COMPLETE, and is stale (commit acb58ae). With
    # Retain v1 still exists: no status is read, and v2 (held) is its "stray".
    policy = "Retain" if retain else None
    stack = deploy(
        copy_template(
            source_version, version_name="defects-prod-1", service_timeout=600, deletion_policy=policy
        )
    )
    rollback, left = _left_to_a_cleanup(stack, cloud, source_version, retain)
    status = stack.update(
        copy_template(
            source_version, version_name="defects-prod-2", service_timeout=3600, deletion_policy=policy
        )
    )
    assert status == "UPDATE_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == left

    _late(cloud, rollback, 60)
    cloud.settle(1800)

    assert "defects-prod-2" in versions(stack)


@pytest.mark.parametrize("delay", [0.0, 8.0])
def test_a_rollback_twin_in_the_rollback_cleanup_phase_answers_nothing_and_makes_nothing(
    cloud, deploy, source_version, delay
):
    # The rollback of a key change that made a deleted copy again answers the gone copy (it read
    # UPDATE_ROLLBACK_IN_PROGRESS). Its twin runs in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS (only
    # Deletes are sent then): the status is not _COMPLETE/_FAILED, so it is taken for a forward update.
    stack = deploy(copy_template(source_version))
    gone = stack.resources["ModelCopy"].physical_id
    stack.session().client("rekognition").delete_project_version(ProjectVersionArn=gone)
    cloud.settle(60)
    previous = cloud._on_event
    sent: list[bool] = []

    def on_event(event: Any) -> None:
        if previous:
            previous(event)
        if event.status == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" and not sent:
            sent.append(True)
            _late(cloud, cloud.sent_requests("ModelCopy", "Update")[-1], delay)

    cloud._on_event = on_event
    assert stack.update(failing_later(copy_template(source_version, kms=True))) == "UPDATE_ROLLBACK_COMPLETE"
    assert sent
    cloud.settle(3600)

    assert stack.resources["ModelCopy"].physical_id == gone
    assert versions(stack) == {}  # no copy made by the twin
    assert cloud.audit() == []  # one answer to the rollback


def test_the_status_of_a_cleanup_phase_is_stale_for_an_update():
    stack_status = _stack_status()

    class Client:
        def __init__(self, status: str) -> None:
            self.status = status

        def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803
            return {"Stacks": [{"StackStatus": self.status}]}

    for status in ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"):
        with pytest.raises(stack_status.StaleRequest):
            stack_status.rolling_back(lambda s=status: Client(s), "arn:stack")
    assert stack_status.rolling_back(lambda: Client("UPDATE_ROLLBACK_IN_PROGRESS"), "arn:stack") is True
    assert stack_status.rolling_back(lambda: Client("UPDATE_IN_PROGRESS"), "arn:stack") is False


def _again_with_the_rollback(cloud: Any, monkeypatch: pytest.MonkeyPatch, before: Any = None) -> list[Any]:
    """Lambda delivers the stack's first Update of ModelCopy once more just as the rollback's Update is sent
    (after the first was answered, while the stack rolls it back); ``before`` runs first. Returns [that
    first request] once it is sent."""
    forward: list[Any] = []
    send = cloud.send

    def send_twice(requests: list[Any]) -> None:
        for sent in requests:
            if forward and sent.logical_id == "ModelCopy" and sent.event["RequestType"] == "Update":
                if before is not None:
                    before()
                _late(cloud, forward[0], 0)
        send(requests)
        for sent in requests:
            if not forward and sent.logical_id == "ModelCopy" and sent.event["RequestType"] == "Update":
                forward.append(sent)

    monkeypatch.setattr(cloud, "send", send_twice)
    return forward


def _answers(cloud: Any, request: Any) -> list[str]:
    return [r["Status"] for r in cloud.server.responses(request.event["RequestId"])]


@each_reading("custom_resource_event_reason")
@pytest.mark.parametrize("stack_name", ["prod", "ModelCopy"])
def test_a_forward_update_refused_at_the_rules_quota_and_delivered_again_during_its_rollback_answers_once(
    cloud, deploy, source_version, full_bus, monkeypatch, caplog, variant, stack_name
):
    # At EventBridge's rules quota no rule claims the request. The copy was deleted by hand, so the update
    # would make it again, which may need a schedule: refused. Lambda delivers that update once more while
    # the stack rolls it back: same shape as the rollback's request, same stack status; only the stack's
    # events (its own mark in the UPDATE_FAILED reason) say it was answered. A stack named like the
    # resource does not end the walk through its events early.
    stack = deploy(copy_template(source_version, tags={"a": "1"}), name=stack_name)
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)
    full_bus()
    forward = _again_with_the_rollback(cloud, monkeypatch)

    assert stack.update(copy_template(source_version, tags={"b": "2"})) == "UPDATE_ROLLBACK_COMPLETE"
    cloud.settle(600)

    assert "quota of rules per event bus" in reasons(cloud)
    rollback = cloud.sent_requests("ModelCopy", "Update")[-1]
    assert rollback.event["RequestId"] != forward[0].event["RequestId"]
    assert _answers(cloud, forward[0]) == ["FAILED"]
    assert _answers(cloud, rollback) == ["SUCCESS"]
    forward_id = forward[0].event["RequestId"]
    assert len([i for i in cloud.invocations if i.request_id == forward_id and not i.poll]) == 2
    assert "This request was answered FAILED already" in caplog.text  # the stack's events told it


@pytest.mark.parametrize("after_the_rollback", [False, True])
def test_a_replacement_refused_at_the_rules_quota_and_delivered_again_once_a_rule_is_free_makes_nothing(
    cloud, deploy, source_version, full_bus, monkeypatch, after_the_rollback
):
    # At the rules quota a replacement (a new version name) is refused before it copies. Another rule of
    # the account goes, and Lambda delivers the update once more: this delivery may claim a rule, and
    # would copy and answer SUCCESS (an orphan copy, and the stack's delete failing on the project). The
    # stack's events show the request answered FAILED: it does nothing.
    stack = deploy(copy_template(source_version))
    others = full_bus()

    def free_a_rule() -> None:
        eventbridge_models.events_backends[DEST_ACCOUNT][REGION].delete_rule(others[0], None)

    forward = [] if after_the_rollback else _again_with_the_rollback(cloud, monkeypatch, free_a_rule)

    assert stack.update(copy_template(source_version, version_name="defects-prod-2")) == (
        "UPDATE_ROLLBACK_COMPLETE"
    )
    if after_the_rollback:
        forward = [cloud.sent_requests("ModelCopy", "Update")[0]]
        free_a_rule()
        _late(cloud, forward[0], 60)
    cloud.settle(3600)

    assert _answers(cloud, forward[0]) == ["FAILED"]
    assert sorted(versions(stack)) == ["defects-prod-1"]
    assert stack.delete() == "DELETE_COMPLETE"
    assert versions(stack) == {}


def test_the_walk_through_the_events_ends_at_the_stacks_own_event_only():
    # DescribeStackEvents as CloudFormation returns it, newest first, while the rollback's Update of the
    # resource is in progress, for a stack named like the resource: the resource's own UPDATE_IN_PROGRESS
    # is not the stack's (its type and physical id are the resource's).
    stack_status = _stack_status()

    stack_id = "arn:aws:cloudformation:us-east-1:222222222222:stack/ModelCopy/1234"
    forward = "11111111-2222-3333-4444-555555555555"
    copy = {"LogicalResourceId": "ModelCopy", "ResourceType": "Custom::RekognitionModelCopy"}
    own = {"LogicalResourceId": "ModelCopy", "ResourceType": "AWS::CloudFormation::Stack"}
    refused = "refused" + stack_status.request_mark(forward)
    events = [
        {**copy, "ResourceStatus": "UPDATE_IN_PROGRESS", "PhysicalResourceId": "arn:version"},
        {**own, "ResourceStatus": "UPDATE_ROLLBACK_IN_PROGRESS", "PhysicalResourceId": stack_id},
        {**copy, "ResourceStatus": "UPDATE_FAILED", "ResourceStatusReason": refused},
        {**copy, "ResourceStatus": "UPDATE_IN_PROGRESS", "PhysicalResourceId": "arn:version"},
        {**own, "ResourceStatus": "UPDATE_IN_PROGRESS", "PhysicalResourceId": stack_id},
        {**copy, "ResourceStatus": "UPDATE_FAILED", "ResourceStatusReason": "an earlier operation's"},
    ]

    class Client:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803
            return {"Stacks": [{"StackStatus": "UPDATE_ROLLBACK_IN_PROGRESS"}]}

        def get_paginator(self, name: str) -> Any:
            class Pages:
                def paginate(self, StackName: str) -> list[dict[str, Any]]:  # noqa: N803
                    return [{"StackEvents": events}]

            return Pages()

    with pytest.raises(stack_status.StaleRequest):
        stack_status.rolling_back(lambda: Client(), stack_id, _update(stack_id, forward))
    other = "99999999-2222-3333-4444-555555555555"
    assert stack_status.rolling_back(lambda: Client(), stack_id, _update(stack_id, other)) is True
    assert stack_status.answered(lambda: Client(), _update(stack_id, other)) == ""


def test_an_unreachable_cloudformation_endpoint_is_not_asked_again_for_a_while():
    # A function in a VPC with no route to CloudFormation: each DescribeStackEvents costs its connect
    # timeouts, so after one such failure the execution environment does not ask again for 15 minutes
    # (every Create and Update of a copy would otherwise wait them out).
    from botocore.exceptions import EndpointConnectionError

    stack_status = _stack_status()

    asked: list[str] = []

    class Client:
        def get_paginator(self, name: str) -> Any:
            asked.append(name)
            raise EndpointConnectionError(endpoint_url="https://cloudformation.us-east-1.amazonaws.com")

    stack_id = "arn:aws:cloudformation:us-east-1:222222222222:stack/prod/1234"
    try:
        assert stack_status.answered(lambda: Client(), _update(stack_id, "r-1")) == ""
        assert stack_status.answered(lambda: Client(), _update(stack_id, "r-2")) == ""
        assert asked == ["describe_stack_events"]
    finally:
        stack_status._unreachable["until"] = 0.0


@pytest.mark.parametrize("at_the_rules_quota", [False, True])
@pytest.mark.parametrize("during", ["the_stack_delete", "the_next_update", "the_next_updates_own_request"])
def test_a_rollback_update_delivered_again_in_a_later_operation_answers_nothing_and_copies_nothing(
    cloud, deploy, source_version, full_bus, at_the_rules_quota, during
):
    # The rollback of a tag change answers SUCCESS; the copy is then deleted by hand. Lambda delivers the
    # rollback's Update once more only when the stack's next operation has begun: its stack delete, an
    # update that does not change the copy (it fails at once on another resource), or one that does, just
    # as it sends the copy its own Update. The copy gone, that delivery would take itself for a forward
    # update and copy again (a copy no stack holds), or, at the rules quota, refuse to: a second answer,
    # FAILED after SUCCESS. The stack's status (a delete sends no Update) or its events (the copy waits for
    # no answer in this update, or for the answer to a request with other properties) say it was answered.
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    if at_the_rules_quota:
        full_bus()
    assert stack.update(failing_later(copy_template(source_version, tags={"b": "2"}))) == (
        "UPDATE_ROLLBACK_COMPLETE"
    )
    rollback = cloud.sent_requests("ModelCopy", "Update")[-1]
    assert json.loads(json.dumps(rollback.event))["ResourceProperties"]["Tags"] == {"a": "1"}
    assert _answers(cloud, rollback) == ["SUCCESS"]
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)
    begins = {
        "the_stack_delete": (stack.name, "DELETE_IN_PROGRESS"),
        "the_next_update": (stack.name, "UPDATE_IN_PROGRESS"),
        "the_next_updates_own_request": ("ModelCopy", "UPDATE_IN_PROGRESS"),
    }[during]
    previous = cloud._on_event
    sent: list[bool] = []

    def on_event(event: Any) -> None:
        if previous:
            previous(event)
        if (event.logical_id, event.status) == begins and not sent:
            sent.append(True)
            _late(cloud, rollback, 0)

    cloud._on_event = on_event
    if during == "the_next_update":
        failing_first = copy_template(source_version, tags={"a": "1"})
        failing_first["Resources"]["Breaker"] = {  # no DependsOn: its wave comes before the copy's
            "Type": "Custom::RekognitionModelCopy",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}, "VersionName": "bad name!"},
        }
        assert stack.update(failing_first) == "UPDATE_ROLLBACK_COMPLETE"
    elif during == "the_next_updates_own_request":
        # (at the rules quota the copy cannot be made again: the update fails and rolls back)
        expected = "UPDATE_ROLLBACK_COMPLETE" if at_the_rules_quota else "UPDATE_COMPLETE"
        assert stack.update(copy_template(source_version, tags={"c": "3"})) == expected
    if during != "the_stack_delete":
        assert sent
        cloud.settle(3600)
        copied_again = during == "the_next_updates_own_request" and not at_the_rules_quota
        assert len(versions(stack)) == (1 if copied_again else 0)  # by the update's own request only
    assert stack.delete() == "DELETE_COMPLETE"
    assert sent
    cloud.settle(3600)

    assert _answers(cloud, rollback) == ["SUCCESS"]
    assert len([i for i in cloud.invocations if i.request_id == rollback.event["RequestId"]]) >= 2
    assert versions(stack) == {}
    assert cloud.audit() == []


@each_reading("stack_event_properties")
def test_a_continued_rollback_of_the_copy_is_answered(cloud, deploy, source_version, variant):
    # The copy's forward Update (tags a -> b) answers SUCCESS, a later resource fails, and the copy's
    # rollback Update fails (the service refuses the tag change back): UPDATE_ROLLBACK_FAILED, the copy's
    # newest event an UPDATE_FAILED of the rollback's properties (tags a). Once the cause is gone the user
    # continues the rollback (ContinueUpdateRollback): the stack's UPDATE_ROLLBACK_IN_PROGRESS again, and
    # the copy's rollback Update sent again (tags a, OldResourceProperties tags b). It is a request
    # CloudFormation waits for: answered, not taken for a late delivery of an earlier rollback.
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    previous = cloud._on_event

    def on_event(event: Any) -> None:
        if previous:
            previous(event)
        if event.logical_id == stack.name and event.status == "UPDATE_ROLLBACK_IN_PROGRESS":
            for operation in ("TagResource", "UntagResource"):
                custom_labels.faults.inject(operation, "InvalidParameterException", times=None)

    cloud._on_event = on_event
    assert stack.update(failing_later(copy_template(source_version, tags={"b": "2"}))) == (
        "UPDATE_ROLLBACK_FAILED"
    )
    cloud._on_event = previous
    custom_labels.faults.clear()
    forward, first_rollback = cloud.sent_requests("ModelCopy", "Update")[-2:]
    assert json.loads(json.dumps(forward.event))["ResourceProperties"]["Tags"] == {"b": "2"}
    assert (first_rollback.response or {}).get("Status") == "FAILED"

    assert stack.continue_update_rollback() == "UPDATE_ROLLBACK_COMPLETE"

    again = cloud.sent_requests("ModelCopy", "Update")[-1]
    assert again is not first_rollback
    assert (again.response or {}).get("Status") == "SUCCESS"
    client = stack.session().client("rekognition")
    tags = client.list_tags_for_resource(ResourceArn=stack.resources["ModelCopy"].physical_id)["Tags"]
    assert tags.get("a") == "1" and "b" not in tags  # rolled back


def test_a_rollback_refused_at_the_rules_quota_is_answered_when_continued_once_rules_are_free(
    cloud, deploy, source_version, full_bus
):
    # A replacement (a new version name) copies, then a later resource fails; the bus fills up before the
    # rollback, whose Update back to the copy the update replaced is refused at the rules quota:
    # UPDATE_ROLLBACK_FAILED. Rules are freed and the rollback continued: it is answered, the stack keeps
    # the first copy, and the replacement's copy is deleted in the cleanup.
    stack = deploy(copy_template(source_version))
    held = stack.resources["ModelCopy"].physical_id
    previous = cloud._on_event
    others: list[str] = []

    def on_event(event: Any) -> None:
        if previous:
            previous(event)
        if event.logical_id == stack.name and event.status == "UPDATE_ROLLBACK_IN_PROGRESS" and not others:
            others.extend(full_bus())

    cloud._on_event = on_event
    status = stack.update(failing_later(copy_template(source_version, version_name="defects-prod-2")))
    cloud._on_event = previous
    assert status == "UPDATE_ROLLBACK_FAILED"
    assert "quota of rules per event bus" in reasons(cloud)
    for name in others:
        eventbridge_models.events_backends[DEST_ACCOUNT][REGION].delete_rule(name, None)

    assert stack.continue_update_rollback() == "UPDATE_ROLLBACK_COMPLETE", reasons(cloud)
    cloud.settle(3600)

    assert stack.resources["ModelCopy"].physical_id == held
    assert sorted(versions(stack)) == ["defects-prod-1"]
