"""The request's claim, looked at again (``request_rule.still_mine``): two deliveries of one request that
both got past the claim (each described the rule before the other put it) settle on the one whose token
the rule carries; an invocation whose rule says anything else, or whose EventBridge calls are denied now,
stands down. Against moto's EventBridge, with real boto3 clients."""

from __future__ import annotations

import sys
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.conftest import REGION, REPO

sys.path.insert(0, str(REPO / "lambda"))
from cfn import request_rule  # noqa: E402 - the handler's module, from its asset directory

EVENT = {"RequestId": "r-1", "LogicalResourceId": "ModelCopy", "RequestType": "Delete"}


@pytest.fixture
def events(aws: Any) -> Any:
    client = boto3.client("events", region_name=REGION)
    return lambda: client


def test_a_second_delivery_finds_the_claim_and_leaves_the_request_alone(events):
    assert request_rule.claim(events, dict(EVENT), "a") == request_rule.MINE
    assert request_rule.claim(events, dict(EVENT), "b") == request_rule.TAKEN
    name = request_rule.rule_for(EVENT)
    assert request_rule.still_mine(events, name, request_rule.claimed_by("a"))


def test_of_two_deliveries_past_the_claim_the_last_to_put_it_goes_on(events):
    # both described the rule before either put it: both put their claim, the later one stays
    assert request_rule.claim(events, dict(EVENT), "a") == request_rule.MINE
    name = request_rule.rule_for(EVENT)
    events().put_rule(Name=name, ScheduleExpression="rate(1 minute)", State="DISABLED",
                      Description=request_rule.claimed_by("b"))
    assert not request_rule.still_mine(events, name, request_rule.claimed_by("a"))
    assert request_rule.still_mine(events, name, request_rule.claimed_by("b"))


@pytest.mark.parametrize("now", [request_rule.CLEANUP, request_rule.POLLING, "gone"])
def test_a_claim_answered_or_scheduled_by_another_delivery_is_not_mine(events, now):
    request_rule.claim(events, dict(EVENT), "a")
    name = request_rule.rule_for(EVENT)
    if now == "gone":
        request_rule.delete_rule(events, name)
    else:
        events().put_rule(Name=name, ScheduleExpression="rate(1 minute)", State="ENABLED", Description=now)
    assert not request_rule.still_mine(events, name, request_rule.claimed_by("a"))


def test_without_room_for_a_rule_a_rule_that_appears_is_another_deliverys(events):
    name = request_rule.rule_for(EVENT)
    assert request_rule.still_mine(events, name, "")
    request_rule.claim(events, dict(EVENT), "b")  # room again: a twin claimed it
    assert not request_rule.still_mine(events, name, "")


@pytest.mark.parametrize(
    ("code", "mine"),
    [("AccessDeniedException", False), ("ThrottlingException", True), ("InternalException", True)],
)
def test_a_denied_look_stands_down_and_any_other_failure_goes_on(events, code, mine):
    # denied: the role that could claim the request lost EventBridge, which CloudFormation takes away only
    # after the request was answered; a throttled or failed look decides nothing
    request_rule.claim(events, dict(EVENT), "a")
    name = request_rule.rule_for(EVENT)
    client = events()
    with Stubber(client) as stub:
        stub.add_client_error("describe_rule", service_error_code=code, http_status_code=400)
        assert request_rule.still_mine(lambda: client, name, request_rule.claimed_by("a")) is mine


def test_the_rules_quota_reason_names_the_error_and_what_to_do():
    assert "LimitExceededException" in request_rule.RULES_QUOTA_REASON
    assert "Service Quotas" in request_rule.RULES_QUOTA_REASON
