"""Quotas a stack of copies meets: each Reason says what is limited and how to raise it."""

from __future__ import annotations

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, copy_template
from tests.handler.conftest import reasons, rules_left, versions


def test_the_inference_units_quota_is_named_with_how_to_raise_it(cloud, deploy, source_version):
    custom_labels.faults.inject("StartProjectVersion", "LimitExceededException", times=None)

    stack = deploy(copy_template(source_version, extra={"MinInferenceUnits": 1}))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "StartProjectVersion failed: LimitExceededException" in reasons(cloud)
    assert "inference units" in reasons(cloud) and "Service Quotas" in reasons(cloud)
    assert "remove unused model versions" not in reasons(cloud)


# -- EventBridge's rules quota (emulator/eventbridge.py): each request in progress needs one rule ----------
def test_a_create_at_the_rules_quota_fails_before_it_copies(cloud, deploy, source_version, full_bus):
    others = full_bus()

    stack = deploy(copy_template(source_version))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "quota of rules per event bus" in reasons(cloud) and "Service Quotas" in reasons(cloud)
    assert custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT) == 0
    assert versions(stack) == {}
    assert sorted(rules_left(cloud)) == sorted(others)


def test_a_delete_at_the_rules_quota_needs_no_rule(cloud, deploy, source_version, full_bus):
    stack = deploy(copy_template(source_version, extra={"MinInferenceUnits": 1}))
    assert versions(stack)["defects-prod-1"]["Status"] == "RUNNING"
    others = full_bus()

    assert stack.delete() == "DELETE_COMPLETE"  # stopped and deleted within its first invocation

    assert versions(stack) == {}
    assert sorted(rules_left(cloud)) == sorted(others)


def test_a_delete_at_the_rules_quota_whose_call_hangs_past_the_function_is_answered_once(
    cloud, deploy, source_version, full_bus
):
    # No rule can be made: no claim, no handover, no answered mark. The call holds the invocation until
    # the function's timeout, past the request's time (ServiceTimeout 900 s): the pre-timeout timer answers
    # FAILED. Nothing may run the request again: with Lambda's retries on (the construct turns them off)
    # the retry of the timed-out invocation finds no mark and answers SUCCESS after the FAILED.
    template = copy_template(source_version, service_timeout=900)
    stack = deploy(template)
    assert versions(stack)["defects-prod-1"]["Status"] == "COPYING_COMPLETED"
    others = full_bus()
    custom_labels.faults.inject_latency("DeleteProjectVersion", 900 + 60)

    assert stack.delete() == "DELETE_FAILED"
    cloud.settle(15 * 60)

    (delete,) = [r for r in cloud.all_requests if r.event["RequestType"] == "Delete"]
    assert [r["Status"] for r in cloud.server.responses(delete.event["RequestId"])] == ["FAILED"]
    assert "did not return until the function timed out" in delete.response["Reason"]
    runs = [i for i in cloud.invocations if i.request_id == delete.event["RequestId"]]
    assert [(i.attempt, i.outcome) for i in runs] == [(1, "timeout")]
    assert sorted(rules_left(cloud)) == sorted(others)
