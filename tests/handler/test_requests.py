"""One request at a time, on the strict driver: malformed input, Lambda's retries, the deadline, throttling
while waiting, and Reasons a person can act on."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, copy_template
from tests.handler.conftest import cleanups_left, reasons, rules_left, statuses, versions


def request_of(cloud: Any, request_type: str, logical_id: str = "ModelCopy") -> Any:
    return next(
        r for r in cloud.all_requests if r.logical_id == logical_id and r.event["RequestType"] == request_type
    )


MALFORMED = {
    "version-name": ("VersionName", "not a valid name!"),
    "project-arn": (
        "DestinationProjectArn",
        f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/prod-defects",
    ),
    "bucket": ("OutputConfig", {"S3Bucket": "b"}),
    "source": ("SourceProjectVersionArn", "defects.v1"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_the_delete_after_a_malformed_create_succeeds_and_nothing_is_sent(
    cloud, deploy, source_version, case
):
    name, value = MALFORMED[case]
    template = copy_template(source_version)
    template["Resources"]["ModelCopy"]["Properties"][name] = value

    stack = deploy(template)

    assert stack.status == "ROLLBACK_COMPLETE"
    assert f"Property {name}" in reasons(cloud)
    assert statuses(cloud)[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    for operation in ("CopyProjectVersion", "DescribeProjectVersions", "ListTagsForResource"):
        assert custom_labels.calls.count(operation, DEST_ACCOUNT) == 0, operation


def test_a_retry_of_a_create_that_timed_out_after_answering_stays_silent(cloud, deploy, source_version):
    # ServiceTimeout leaves no time for a schedule after the function's 20 s: the timer answers FAILED.
    # Lambda's retries are on here (the construct turns them off): a redelivery of the request after the
    # answer, such as Lambda's at-least-once delivery may make, finds the answered mark and stays silent.
    template = copy_template(source_version, service_timeout=60, lambda_retries=True)
    template["Resources"]["Handler"]["Properties"]["Timeout"] = 20
    # kept after the rollback, with its role, so its answered mark can remove itself (a function deleted
    # within those ten minutes leaves the mark behind; a deleted role may not read or remove the mark)
    template["Resources"]["Handler"]["DeletionPolicy"] = "Retain"
    template["Resources"]["Role"]["DeletionPolicy"] = "Retain"
    custom_labels.faults.inject_latency("CopyProjectVersion", 25)  # the invocation times out in the call

    stack = deploy(template)
    cloud.settle(15 * 60)  # Lambda retries the timed-out invocation a minute later

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "The function timed out" in reasons(cloud)
    create = request_of(cloud, "Create")
    assert len(cloud.server.responses(create.event["RequestId"])) == 1
    attempts = [i for i in cloud.invocations if i.request_id == create.event["RequestId"] and not i.poll]
    assert [i.attempt for i in attempts] == [1, 2] and attempts[0].outcome == "timeout"
    assert versions(stack) == {}  # the retry made no copy behind the stack's back
    assert rules_left(cloud) == []  # the answered mark removed itself


@pytest.mark.parametrize("retries", [False, True], ids=["no-retries", "lambda-retries"])
def test_a_create_whose_call_outlasts_the_function_is_handed_to_its_schedule(
    cloud, deploy, source_version, retries
):
    # ServiceTimeout (an hour) has time left when the function's 20 s are up: the request is run again
    # by its rule's own tick (or, where Lambda's retries are on, by the retry of the invocation, a minute
    # after its timeout) instead of failing, and answered once, in time
    template = copy_template(source_version, lambda_retries=retries)
    template["Resources"]["Handler"]["Properties"]["Timeout"] = 20
    custom_labels.faults.inject_latency("CopyProjectVersion", 25)  # the invocation times out in the call

    stack = deploy(template)
    cloud.settle(15 * 60)

    assert stack.status == "CREATE_COMPLETE"
    create = request_of(cloud, "Create")
    assert len(cloud.server.responses(create.event["RequestId"])) == 1
    assert create.answered <= create.reached + 3600 - 15  # before ServiceTimeout, with the handler's margin
    attempts = [i for i in cloud.invocations if i.request_id == create.event["RequestId"] and not i.poll]
    assert attempts[0].outcome == "timeout"
    assert [i.attempt for i in attempts if i.attempt > 1] == ([2] if retries else [])
    if not retries:  # the tick ran it again, HANDOVER_PERIOD after the handover (no earlier)
        assert len(attempts) == 2 and attempts[1].started >= attempts[0].started + 20 + 50
    assert [v["Status"] for v in versions(stack).values()] == ["COPYING_COMPLETED"]  # one copy
    assert rules_left(cloud) == []


@pytest.mark.parametrize(("timeout", "latency"), [(120, 0), (120, 5), (40, 0), (40, 5)])
def test_failed_arrives_before_cloudformations_timeout(cloud, deploy, source_version, timeout, latency):
    custom_labels.config.copy_duration = 3600
    if latency:
        custom_labels.faults.inject_latency("DescribeProjectVersions", latency, times=1000)

    deploy(copy_template(source_version, service_timeout=timeout))

    create = request_of(cloud, "Create")
    assert create.response["Status"] == "FAILED" and "Gave up waiting" in create.response["Reason"]
    margin = min(15, timeout / 4)
    assert create.answered <= create.reached + timeout - margin
    # the Create's rule is gone; the rollback's Delete left a cleanup for the copy still in progress
    assert rules_left(cloud) == cleanups_left(cloud)


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError"])
def test_throttling_while_waiting_is_not_a_failure(cloud, deploy, source_version, code):
    custom_labels.config.copy_duration = 20 * 60
    # every look for five minutes is refused, with botocore's retries
    custom_labels.faults.inject("DescribeProjectVersions", code, times=30)

    stack = deploy(copy_template(source_version))

    assert stack.status == "CREATE_COMPLETE"
    assert versions(stack)["defects-prod-1"]["Status"] == "COPYING_COMPLETED"


def test_resource_in_use_for_another_reason_passes_the_service_message_on(cloud, deploy):
    project, _ = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "defects.v1")
    custom_labels.config.training_duration = 7200
    client = cloud.session(DEST_ACCOUNT, REGION).client("rekognition")
    training = client.create_project_version(
        ProjectArn=project, VersionName="defects.v2", OutputConfig={"S3Bucket": "training-output"}
    )["ProjectVersionArn"]

    stack = deploy(copy_template((project, training)))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "ResourceInUseException" in reasons(cloud) and "only a trained model can be copied" in reasons(
        cloud
    )
    assert "version name" not in reasons(cloud)


def test_200_tags_say_the_owner_marker_takes_one_slot(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, tags={f"team-{i}": "vision" for i in range(200)}))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "owner marker" in reasons(cloud) and "at most 199" in reasons(cloud)
    assert custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT) == 0


def test_a_delete_that_gives_up_names_the_status_it_was_stuck_in(cloud, deploy, source_version, clock):
    stack = deploy(copy_template(source_version, service_timeout=300))
    client = stack.session().client("rekognition")
    custom_labels.config.start_duration = 3600  # the model is STARTING for an hour
    client.start_project_version(
        ProjectVersionArn=stack.resources["ModelCopy"].physical_id, MinInferenceUnits=1
    )

    assert stack.delete() == "DELETE_FAILED"

    reason = next(
        e.reason for e in cloud.events if e.status == "DELETE_FAILED" and e.logical_id == "ModelCopy"
    )
    assert "Gave up waiting" in reason and "STARTING" in reason


def test_a_call_that_returns_after_the_handover_sends_nothing(cloud, deploy, source_version):
    # The call returns after the pre-timeout timer handed the request over, before Lambda stops the
    # invocation: what the invocation does next answers nothing and leaves the rule to the schedule.
    template = copy_template(source_version)
    template["Resources"]["Handler"]["Properties"]["Timeout"] = 20
    custom_labels.faults.inject_latency("CopyProjectVersion", 18.5)  # the timer fires 3 s before 20 s

    stack = deploy(template)
    cloud.settle(15 * 60)

    assert stack.status == "CREATE_COMPLETE"
    create = request_of(cloud, "Create")
    assert len(cloud.server.responses(create.event["RequestId"])) == 1
    assert len(versions(stack)) == 1
    assert rules_left(cloud) == []
