"""A stack of copies at the account's quotas: Lambda concurrency (a new account's 10 executions, a reserved
concurrency) and EventBridge's rules per event bus with other rules already on the bus.

The stack is ``bench.driver_runs.template`` (one function, N copies into one project, the library's
statements on its role). Every copy must complete within its ServiceTimeout, nothing is left behind, and
no stack ends *_FAILED because of a quota (the invariants monitor of tests/conftest.py watches it all)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.common import PROJECT
from bench.driver_runs import PROJECT_NAME, template
from emulator import custom_labels, eventbridge
from tests.conftest import DEST_ACCOUNT, REGION, REPO

#: Lambda's concurrency quota of a new account (its quotas page: new accounts start reduced).
NEW_ACCOUNT_CONCURRENCY = 10


def copies_stack(cloud: Any, source_version: tuple[str, str], copies: int, **function: Any) -> Any:
    body = template(PROJECT, source_version, copies)
    body["Resources"]["Handler"]["Properties"].update(function)
    stack = cloud.stack("quotas", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    return stack, body


def versions(stack: Any) -> list[dict[str, Any]]:
    client = stack.session().client("rekognition")
    found = client.describe_projects(ProjectNames=[PROJECT_NAME])["ProjectDescriptions"]
    if not found:
        return []
    pages = client.get_paginator("describe_project_versions").paginate(ProjectArn=found[0]["ProjectArn"])
    return [version for page in pages for version in page["ProjectVersionDescriptions"]]


def our_rules(cloud: Any) -> list[str]:
    events = cloud.session(DEST_ACCOUNT, REGION).client("events")
    rules = [r["Name"] for page in events.get_paginator("list_rules").paginate() for r in page["Rules"]]
    return [name for name in rules if not name.startswith(("other-", "more-"))]


def our_copies_complete(cloud: Any, stack: Any, copies: int) -> None:
    assert len(versions(stack)) == copies
    assert {v["Status"] for v in versions(stack)} == {"COPYING_COMPLETED"}
    assert all(r.response is not None and r.response["Status"] == "SUCCESS" for r in cloud.sent_requests())


def delete_leaves_nothing(cloud: Any, stack: Any) -> None:
    assert stack.delete() == "DELETE_COMPLETE"
    assert versions(stack) == [] and our_rules(cloud) == []


# -- Lambda concurrency ------------------------------------------------------------------------------------
# ``make bench`` runs the hundred copies at 10 executions (and at 1,000); this is the same ratio of copies
# to executions at a size that fits make test's time. A first invocation that waited in-process for its
# 15-minute copy would hold one of the 4 executions for 10 minutes: 30 copies would need 75 minutes.
def test_copies_longer_than_the_fast_path_complete_in_an_account_of_few_executions(cloud, source_version):
    custom_labels.config.copy_duration = 900
    cloud.runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 4)
    stack, body = copies_stack(cloud, source_version, 30)

    assert stack.create(body) == "CREATE_COMPLETE"

    our_copies_complete(cloud, stack, 30)
    assert cloud.runtime.peak_running[(DEST_ACCOUNT, REGION)] == 4
    assert cloud.runtime.throttled  # the quota was met, and its events waited
    first = [i for i in cloud.invocations if not i.poll and i.request_type == "Create"]
    assert max(i.duration for i in first) < 60  # each handed over to the schedule, not holding 10 minutes
    delete_leaves_nothing(cloud, stack)


def test_at_the_default_concurrency_a_copy_waits_in_process(cloud, source_version):
    custom_labels.config.copy_duration = 180
    stack, body = copies_stack(cloud, source_version, 3)

    assert stack.create(body) == "CREATE_COMPLETE"

    our_copies_complete(cloud, stack, 3)
    assert cloud.runtime.throttled == [] and cloud.peak_rules == 0  # answered in the first invocations
    assert all(not i.poll for i in cloud.invocations)
    delete_leaves_nothing(cloud, stack)


def test_a_reserved_concurrency_caps_the_function_and_copies_still_complete(cloud, source_version):
    custom_labels.config.copy_duration = 900
    stack, body = copies_stack(
        cloud,
        source_version,
        14,
        ReservedConcurrentExecutions=2,
        Environment={"Variables": {"POLL_RULE_PREFIX": "rmc-bench-", "RESERVED_CONCURRENCY": "2"}},
    )

    assert stack.create(body) == "CREATE_COMPLETE"

    our_copies_complete(cloud, stack, 14)
    handler = next(iter(cloud.functions.values()))
    assert handler.reserved_concurrency == 2 and handler.peak_running == 2 and handler.throttles > 0
    delete_leaves_nothing(cloud, stack)


def test_a_reservation_lambda_refuses_fails_the_stack_with_lambdas_message(cloud, source_version):
    cloud.runtime.set_account_concurrency(DEST_ACCOUNT, REGION, 10)
    stack, body = copies_stack(cloud, source_version, 1, ReservedConcurrentExecutions=2)

    assert stack.create(body) == "ROLLBACK_COMPLETE"

    refused = "UnreservedConcurrentExecution below its minimum value of [100]"
    assert any(refused in e.reason for e in cloud.events)
    assert cloud.invocations == [] and versions(stack) == []


# -- EventBridge's rules per event bus ----------------------------------------------------------------------
@pytest.fixture
def crowded_bus(cloud):
    """EventBridge's default quota, 300 rules per bus, on; 290 rules of someone else on the destination
    account's default bus."""
    eventbridge.set_rules_quota(eventbridge.DEFAULT_RULES_PER_BUS)
    others = eventbridge.fill_rules(DEST_ACCOUNT, REGION, 290)
    yield others
    eventbridge.set_rules_quota(None)


def test_copies_that_fit_the_rules_left_on_the_bus_complete(cloud, source_version, crowded_bus):
    custom_labels.config.copy_duration = 900  # longer than the fast path: each copy polls on its rule
    stack, body = copies_stack(cloud, source_version, 8)

    assert stack.create(body) == "CREATE_COMPLETE"

    our_copies_complete(cloud, stack, 8)
    assert cloud.peak_rules == 8
    delete_leaves_nothing(cloud, stack)


def test_more_copies_than_rules_left_fail_naming_the_quota_and_roll_back(cloud, source_version, crowded_bus):
    custom_labels.config.copy_duration = 900
    stack, body = copies_stack(cloud, source_version, 15)

    assert stack.create(body) == "ROLLBACK_COMPLETE"

    failed = [e.reason for e in cloud.events if e.status == "CREATE_FAILED" and "quota" in e.reason]
    assert failed and all("rules per event bus" in r and "Service Quotas" in r for r in failed)
    assert versions(stack) == [] and our_rules(cloud) == []


def test_a_delete_at_the_rules_quota_needs_no_rule(cloud, source_version, crowded_bus):
    custom_labels.config.copy_duration = 180
    stack, body = copies_stack(cloud, source_version, 5)
    assert stack.create(body) == "CREATE_COMPLETE"
    events = cloud.session(DEST_ACCOUNT, REGION).client("events")
    present = sum(len(page["Rules"]) for page in events.get_paginator("list_rules").paginate())
    eventbridge.fill_rules(DEST_ACCOUNT, REGION, eventbridge.DEFAULT_RULES_PER_BUS - present, prefix="more-")

    delete_leaves_nothing(cloud, stack)


def _fill_the_bus(cloud: Any) -> None:
    events = cloud.session(DEST_ACCOUNT, REGION).client("events")
    present = sum(len(page["Rules"]) for page in events.get_paginator("list_rules").paginate())
    eventbridge.fill_rules(DEST_ACCOUNT, REGION, eventbridge.DEFAULT_RULES_PER_BUS - present, prefix="more-")


def test_an_update_in_place_at_the_rules_quota_needs_no_rule(cloud, source_version, crowded_bus):
    # Tags (and units) change the copy the stack holds: nothing outlasts the invocation, so no rule.
    custom_labels.config.copy_duration = 60
    stack, body = copies_stack(cloud, source_version, 1)
    assert stack.create(body) == "CREATE_COMPLETE"
    _fill_the_bus(cloud)
    body["Resources"]["Copy000"]["Properties"]["Tags"] = {"team": "vision"}

    assert stack.update(body) == "UPDATE_COMPLETE"

    (version,) = versions(stack)
    rekognition = stack.session().client("rekognition")
    tags = rekognition.list_tags_for_resource(ResourceArn=version["ProjectVersionArn"])["Tags"]
    assert tags["team"] == "vision"
    delete_leaves_nothing(cloud, stack)


def test_a_new_copy_refused_at_the_rules_quota_rolls_back_to_the_held_copy(
    cloud, source_version, crowded_bus
):
    # A new version name needs a new copy, which may outlast the invocation: refused before anything is
    # made. The rollback is an Update back to the copy the stack holds, made in place: it needs no rule.
    custom_labels.config.copy_duration = 60
    stack, body = copies_stack(cloud, source_version, 1)
    assert stack.create(body) == "CREATE_COMPLETE"
    (held,) = versions(stack)
    _fill_the_bus(cloud)
    renamed = {**body, "Resources": {**body["Resources"]}}
    renamed["Resources"]["Copy000"] = {
        **body["Resources"]["Copy000"],
        "Properties": {**body["Resources"]["Copy000"]["Properties"], "VersionName": "renamed"},
    }

    assert stack.update(renamed) == "UPDATE_ROLLBACK_COMPLETE"

    failed = [e.reason for e in cloud.events if e.status == "UPDATE_FAILED" and "quota" in e.reason]
    assert failed and "rules per event bus" in failed[0]
    assert [v["ProjectVersionArn"] for v in versions(stack)] == [held["ProjectVersionArn"]]
    delete_leaves_nothing(cloud, stack)
