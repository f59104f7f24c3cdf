"""The handler's ``cfn.stack_status`` on DescribeStackEvents pages made by hand (newest first), in the
shapes of CloudFormation's operations the driver does not run: a request CloudFormation waits for is
answered, a late delivery of another is stale, and what the events cannot tell is run as a first delivery."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.handler.test_late_deliveries import _stack_status

STACK_ID = "arn:aws:cloudformation:us-east-1:222222222222:stack/prod/1234"
OWN = {"LogicalResourceId": "prod", "ResourceType": "AWS::CloudFormation::Stack"}
OWN["PhysicalResourceId"] = STACK_ID
TOKEN = "arn:aws:lambda:us-east-1:222222222222:function:copy"
P0 = {"ServiceToken": TOKEN, "VersionName": "v1", "ServiceTimeout": "3600", "Tags": {"a": "1"}}
P1 = {**P0, "KmsKeyId": "alias/k"}
P2 = {**P0, "Tags": {"b": "2"}}
P3 = {**P0, "Tags": {"c": "3"}}


def own(status: str) -> dict[str, Any]:
    return {**OWN, "ResourceStatus": status}


def copy(status: str, properties: dict[str, Any] | None, physical: str = "arn:version") -> dict[str, Any]:
    event = {"LogicalResourceId": "ModelCopy", "ResourceType": "Custom::RekognitionModelCopy"}
    event.update(ResourceStatus=status, PhysicalResourceId=physical)
    if properties is not None:
        event["ResourceProperties"] = json.dumps(properties)
    return event


def other(
    status: str, logical: str = "Breaker", kind: str = "Custom::X", physical: str = "x"
) -> dict[str, Any]:
    event = {"LogicalResourceId": logical, "ResourceType": kind, "ResourceStatus": status}
    return {**event, "PhysicalResourceId": physical}


class Client:
    def __init__(self, status: str, events: list[dict[str, Any]]) -> None:
        self.status, self.events = status, events

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        return {"Stacks": [{"StackStatus": self.status}]}

    def get_paginator(self, name: str) -> Any:
        events = self.events

        class Pages:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:  # noqa: N803
                return [{"StackEvents": events}]

        return Pages()



class Readings(Client):
    """A client whose DescribeStackEvents shows each of ``shown`` in turn (the last one from then on)."""

    def __init__(self, status: str, *shown: list[dict[str, Any]]) -> None:
        super().__init__(status, shown[0])
        self.shown = list(shown)

    def get_paginator(self, name: str) -> Any:
        self.events = self.shown.pop(0) if len(self.shown) > 1 else self.shown[0]
        return super().get_paginator(name)


class Unreadable(Client):
    def get_paginator(self, name: str) -> Any:
        raise RuntimeError("AccessDenied")

def request(kind: str, new: Any, old: Any = None, stack_id: str = STACK_ID) -> dict[str, Any]:
    r = {"StackId": stack_id, "RequestType": kind, "RequestId": "r-9", "LogicalResourceId": "ModelCopy"}
    r["ResourceProperties"] = new
    if old is not None:
        r["OldResourceProperties"] = old
    return r


def update(status: str, events: list[dict[str, Any]], new: Any, old: Any) -> Any:
    client = Client(status, events)
    return _stack_status().rolling_back(lambda: client, STACK_ID, request("Update", new, old), lambda s: None)


def why(events: list[dict[str, Any]], req: dict[str, Any]) -> str:
    client = Client("UPDATE_IN_PROGRESS", events)
    return str(_stack_status().answered(lambda: client, req, lambda s: None))


# -- requests CloudFormation waits for: answered -------------------------------------------------------------


@pytest.mark.parametrize("how", ["RollbackStack", "automatic"])
def test_rollback_to_the_last_stable_state_after_a_retried_failed_update_is_answered(how):
    # DisableRollback ("preserve successfully provisioned resources"): op1 changes the copy's tags
    # (P0 -> P2) and fails on Breaker: UPDATE_FAILED, the copy at P2. op2 (UpdateStack from UPDATE_FAILED,
    # the copy unchanged at P2) fails on Breaker again. The stack is rolled back (RollbackStack, or op2's
    # own rollback) "to the last known stable state" (a *_COMPLETE): the copy gets Update P0, Old P2. The
    # events of op2 (the walk stops at op2's UPDATE_IN_PROGRESS) show no P2 for the copy.
    events = [
        copy("UPDATE_IN_PROGRESS", P0),  # the rollback's request: CloudFormation waits for it
        own("UPDATE_ROLLBACK_IN_PROGRESS"),
        *([own("UPDATE_FAILED")] if how == "RollbackStack" else []),
        other("UPDATE_FAILED"),
        other("UPDATE_IN_PROGRESS"),
        own("UPDATE_IN_PROGRESS"),  # op2 began (the walk ends here)
        own("UPDATE_FAILED"),
        other("UPDATE_FAILED"),
        other("UPDATE_IN_PROGRESS"),
        copy("UPDATE_COMPLETE", P2),
        copy("UPDATE_IN_PROGRESS", P2),
        own("UPDATE_IN_PROGRESS"),  # op1 began
    ]
    assert update("UPDATE_ROLLBACK_IN_PROGRESS", events, P0, P2) is True


@pytest.mark.parametrize("when", ["stack_create", "update_adding_both"])
def test_a_create_beside_a_nested_stack_named_like_the_stack_is_answered(when):
    # A stack named "prod" holds a nested stack whose logical id is "prod" too. The nested stack resource's
    # first CREATE_IN_PROGRESS has PhysicalResourceId "" (as every resource's first event has), its type
    # AWS::CloudFormation::Stack, its logical id the stack's name: taken for the operation's start.
    start = own("CREATE_IN_PROGRESS") if when == "stack_create" else own("UPDATE_IN_PROGRESS")
    events = [
        other("CREATE_IN_PROGRESS", "prod", "AWS::CloudFormation::Stack", ""),  # the nested stack resource
        copy("CREATE_IN_PROGRESS", P0, ""),  # the copy's Create: CloudFormation waits for it
        start,
    ]
    assert why(events, request("Create", P0)) == ""


@pytest.mark.parametrize("shown_on", ["every_event", "in_progress_only", "first_event_only"])
def test_continue_update_rollback_is_answered(shown_on):
    def c(status: str, p: dict[str, Any], first: bool = False) -> dict[str, Any]:
        show = {
            "every_event": True,
            "in_progress_only": status.endswith("_IN_PROGRESS"),
            "first_event_only": first,
        }[shown_on]
        return copy(status, p if show else None)

    events = [
        c("UPDATE_IN_PROGRESS", P0, True),
        own("UPDATE_ROLLBACK_IN_PROGRESS"),
        own("UPDATE_ROLLBACK_FAILED"),
        c("UPDATE_FAILED", P0),
        c("UPDATE_IN_PROGRESS", P0, True),
        own("UPDATE_ROLLBACK_IN_PROGRESS"),
        other("UPDATE_FAILED"),
        c("UPDATE_COMPLETE", P2),
        c("UPDATE_IN_PROGRESS", P2, True),
        own("UPDATE_IN_PROGRESS"),
    ]
    assert update("UPDATE_ROLLBACK_IN_PROGRESS", events, P0, P2) is True


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ({"MinF1Score": "0.90"}, {"MinF1Score": 0.90}),
        ({"MinInferenceUnits": "1"}, {"MinInferenceUnits": 1.0}),
        ({"AutoStart": "true"}, {"AutoStart": True}),
        ({"S3KeyPrefix": "copies/s3cr3t/"}, {"S3KeyPrefix": "copies/****/"}),
        ({"S3KeyPrefix": "x"}, {"S3KeyPrefix": "{{resolve:ssm:/p}}"}),
    ],
)
def test_rendering_differences_are_no_difference(sent, shown):
    new = {**P2, **sent}
    event_props = {k: v for k, v in {**P2, **shown}.items() if k not in ("ServiceToken",)}
    event_props["ServiceTimeout"] = 3600
    events = [copy("UPDATE_IN_PROGRESS", event_props), own("UPDATE_IN_PROGRESS")]
    assert update("UPDATE_IN_PROGRESS", events, new, P0) is False


def test_an_empty_value_an_event_leaves_out_is_no_difference():
    sent = {**P2, "Tags": {}}
    shown = {k: v for k, v in P2.items() if k != "Tags"}  # an event that drops an empty map
    events = [copy("UPDATE_IN_PROGRESS", shown), own("UPDATE_IN_PROGRESS")]
    assert update("UPDATE_IN_PROGRESS", events, sent, P0) is False


# -- late deliveries: stale ----------------------------------------------------------------------------------


def test_an_update_whose_resource_waits_for_no_answer_is_stale_after_a_second_look():
    # An Update of ModelCopy is waited for only while ModelCopy's newest event in the operation is
    # UPDATE_IN_PROGRESS: answered (UPDATE_COMPLETE) or not come to yet (no event), the request is a late
    # delivery from an earlier operation. The events are read again after each pause before it is taken
    # for stale.
    stack_status = _stack_status()
    begun = own("UPDATE_IN_PROGRESS")
    earlier = [copy("UPDATE_IN_PROGRESS", None), begun]  # the operation before
    waiting = [copy("UPDATE_IN_PROGRESS", None), begun, *earlier]
    answered = [copy("UPDATE_COMPLETE", None), *waiting]
    not_yet = [other("CREATE_IN_PROGRESS"), begun, *earlier]
    paused: list[float] = []

    def ask(client: Client) -> Any:
        paused.clear()
        return stack_status.rolling_back(lambda: client, STACK_ID, request("Update", {}, {}), paused.append)

    assert ask(Readings("UPDATE_IN_PROGRESS", waiting)) is False and paused == []
    for shown in (answered, not_yet):
        with pytest.raises(stack_status.StaleRequest, match="waits for no answer"):
            ask(Readings("UPDATE_IN_PROGRESS", shown))
        assert paused == list(stack_status.RECHECK_SECONDS)
    # shown late: the second look finds the resource waiting
    assert ask(Readings("UPDATE_IN_PROGRESS", not_yet, waiting)) is False
    assert paused == [stack_status.RECHECK_SECONDS[0]]
    # the events unreadable: not known, not stale
    assert ask(Unreadable("UPDATE_IN_PROGRESS", [])) is False and paused == []


@pytest.mark.parametrize(
    "status", ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS"]
)
def test_an_update_read_in_an_operation_that_sends_no_update_is_stale(status):
    client = Client(status, [])
    with pytest.raises(_stack_status().StaleRequest, match="sends no Update"):
        _stack_status().rolling_back(lambda: client, STACK_ID)


def test_an_update_whose_resource_waits_for_another_requests_answer_is_stale():
    # The events show each request's properties (in the template's own types: ServiceTimeout a number).
    # In the next update, the resource waits for that update's own request (other properties): a late
    # delivery of the last rollback is stale. In a rollback, the rollback's request carries the update's
    # properties as OldResourceProperties: a late delivery of an earlier rollback to the same properties is
    # stale too.
    stack_status = _stack_status()

    def typed(properties: dict[str, Any]) -> dict[str, Any]:
        return {**properties, "ServiceTimeout": 3600}

    forward = [copy("UPDATE_IN_PROGRESS", typed(P2)), own("UPDATE_IN_PROGRESS")]
    rollback = [
        copy("UPDATE_IN_PROGRESS", typed(P0)),
        own("UPDATE_ROLLBACK_IN_PROGRESS"),
        copy("UPDATE_FAILED", typed(P2)),
        *forward,
    ]
    assert update("UPDATE_IN_PROGRESS", forward, P2, P0) is False  # the update's own request
    with pytest.raises(stack_status.StaleRequest, match="waits for no answer"):
        update("UPDATE_IN_PROGRESS", forward, P0, P1)  # the last rollback's, delivered again
    assert update("UPDATE_ROLLBACK_IN_PROGRESS", rollback, P0, P2) is True  # the rollback's own
    with pytest.raises(stack_status.StaleRequest, match="waits for no answer"):
        update("UPDATE_ROLLBACK_IN_PROGRESS", rollback, P0, P1)  # an earlier rollback's, same properties
    # a value the events mask (a NoEcho parameter) matches any value
    masked = [copy("UPDATE_IN_PROGRESS", {**P2, "Tags": {"b": "****"}}), own("UPDATE_IN_PROGRESS")]
    assert update("UPDATE_IN_PROGRESS", masked, P2, P0) is False
    # events that show no properties: only the status of the resource tells
    bare = [{k: v for k, v in e.items() if k != "ResourceProperties"} for e in rollback]
    assert update("UPDATE_ROLLBACK_IN_PROGRESS", bare, P0, P1) is True


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ({}, {"Tags": {"b": "3"}}),
        ({}, {"Tags": {"b": "2", "c": "3"}}),
        ({}, {"KmsKeyId": "alias/k"}),
        ({"MinF1Score": "0.90"}, {"MinF1Score": 0.8}),
    ],
)
def test_a_certain_difference_of_properties_is_another_request(sent, shown):
    # A changed value, a tag more, a property more: the resource waits for another request's answer.
    events = [copy("UPDATE_IN_PROGRESS", {**P2, **sent, **shown}), own("UPDATE_IN_PROGRESS")]
    with pytest.raises(_stack_status().StaleRequest, match="waits for no answer"):
        update("UPDATE_IN_PROGRESS", events, {**P2, **sent}, P0)


def test_a_create_or_update_whose_resource_waits_for_another_kind_of_request_is_stale():
    # A Create never waits in a rollback (a rollback creates nothing), nor does an Update while its
    # resource waits for a Delete (the stack's delete, or a cleanup).
    in_rollback = [
        copy("UPDATE_IN_PROGRESS", P0),
        own("UPDATE_ROLLBACK_IN_PROGRESS"),
        copy("UPDATE_COMPLETE", P2),
        copy("UPDATE_IN_PROGRESS", P2),
        own("UPDATE_IN_PROGRESS"),
    ]
    deleting = [copy("DELETE_IN_PROGRESS", P0), own("UPDATE_IN_PROGRESS")]

    assert "waits for no answer" in why(in_rollback, request("Create", P0))
    assert why(in_rollback, request("Update", P0, P2)) == ""
    assert "waits for no answer" in why(deleting, request("Update", P0, P2))
    assert why(in_rollback[3:], request("Create", P2)) == ""  # a replacement's Create in the update itself


# -- what the events cannot tell: run as a first delivery ----------------------------------------------------


def test_a_late_rollback_during_an_update_of_service_timeout_alone_is_not_told_apart():
    # The next update changes only ServiceTimeout: a late rollback (P0, Old P1) is taken as waited for.
    q2 = {**P0, "ServiceTimeout": "600"}
    events = [copy("UPDATE_IN_PROGRESS", q2), own("UPDATE_IN_PROGRESS")]
    assert update("UPDATE_IN_PROGRESS", events, P0, P1) is False


def test_a_late_create_while_the_copy_waits_for_an_update_showing_no_properties_is_not_told_apart():
    # Under `absent`: a Create (from the stack's create) delivered while the copy waits for a forward Update
    # is taken for a replacement's Create and runs as a first delivery.
    events = [copy("UPDATE_IN_PROGRESS", None), own("UPDATE_IN_PROGRESS")]
    assert why(events, request("Create", P0)) == ""


def test_a_rollback_to_the_last_stable_state_continued_after_it_failed_is_answered():
    # The rollback to the last stable state (after DisableRollback, above) failed: UPDATE_ROLLBACK_FAILED.
    # The user runs ContinueUpdateRollback: the copy's Update (P0, Old P2) again; the walk still ends at the
    # second update's start, whose events show no P2 for the copy.
    events = [
        copy("UPDATE_IN_PROGRESS", P0),
        own("UPDATE_ROLLBACK_IN_PROGRESS"),
        own("UPDATE_ROLLBACK_FAILED"),
        copy("UPDATE_FAILED", P0),
        copy("UPDATE_IN_PROGRESS", P0),
        own("UPDATE_ROLLBACK_IN_PROGRESS"),
        own("UPDATE_FAILED"),
        other("UPDATE_FAILED"),
        own("UPDATE_IN_PROGRESS"),  # op2 began
        own("UPDATE_FAILED"),
        copy("UPDATE_COMPLETE", P2),
        copy("UPDATE_IN_PROGRESS", P2),
        own("UPDATE_IN_PROGRESS"),  # op1 began
    ]
    assert update("UPDATE_ROLLBACK_IN_PROGRESS", events, P0, P2) is True
