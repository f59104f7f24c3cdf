"""The fault matrix: every row must end in exactly one well-formed answer, the right status and physical
id, a Reason a person can act on, and nothing left behind (no polling rule, no half-made version).

The ``cloud`` fixture fails a row on any protocol violation (a second or contradicting response, a
polling rule left behind, an empty physical id, no answer before ServiceTimeout).
"""

from __future__ import annotations

import json
import random
import shutil
from typing import Any

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, REPO, copy_template
from tests.handler.conftest import prepared, reasons, rules_left, statuses, versions

# -- throttling and internal errors on every call the handler makes ------------------------------------
# (operation, what makes the handler call it)
CALLS = [
    ("CopyProjectVersion", "create"),
    ("DescribeProjectVersions", "create"),
    ("TagResource", "update-tags"),
    ("UntagResource", "update-tags"),
    ("StopProjectVersion", "delete-running"),
    ("DeleteProjectVersion", "delete-running"),
]


# calls made while waiting for a status to change (the others are made once, when the request arrives)
WAITING_CALLS = {"DescribeProjectVersions", "StopProjectVersion", "DeleteProjectVersion"}


def _exercise(cloud, deploy, source, scenario: str, inject) -> Any:
    """Deploy, then run the scenario's operation with the fault injected just before it."""
    if scenario == "create":
        inject()
        return deploy(copy_template(source, tags={"a": "1"}, service_timeout=600))
    stack = deploy(copy_template(source, tags={"a": "1"}, service_timeout=600))
    assert stack.status == "CREATE_COMPLETE"
    if scenario == "update-tags":
        inject()
        stack.update(copy_template(source, tags={"b": "2"}, service_timeout=600))
    else:
        client = stack.session().client("rekognition")
        client.start_project_version(
            ProjectVersionArn=stack.resources["ModelCopy"].physical_id, MinInferenceUnits=1
        )
        cloud.settle(120)
        inject()
        stack.delete()
    return stack


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError"])
@pytest.mark.parametrize(("operation", "scenario"), CALLS)
def test_a_transient_error_is_retried_by_botocore(cloud, deploy, source_version, operation, scenario, code):
    stack = _exercise(
        cloud, deploy, source_version, scenario, lambda: custom_labels.faults.inject(operation, code, times=2)
    )
    expected = {
        "create": "CREATE_COMPLETE",
        "update-tags": "UPDATE_COMPLETE",
        "delete-running": "DELETE_COMPLETE",
    }
    assert stack.status == expected[scenario]
    assert custom_labels.calls.count(operation, DEST_ACCOUNT) >= 3  # two failures, then the call that worked


@pytest.mark.parametrize(("operation", "scenario"), CALLS)
def test_a_persistent_error_fails_clearly_after_the_retries(
    cloud, deploy, source_version, operation, scenario
):
    stack = _exercise(
        cloud,
        deploy,
        source_version,
        scenario,
        lambda: custom_labels.faults.inject(operation, "ThrottlingException", times=None),
    )
    failed = [e for e in cloud.events if e.status.endswith("_FAILED") and e.logical_id == "ModelCopy"]
    assert failed, statuses(cloud)
    if operation in WAITING_CALLS:
        # while waiting, throttling is not a failure: the handler looks again until its deadline, then
        # names the last answer it got
        assert "Gave up waiting" in failed[0].reason
        assert f"{operation}: ThrottlingException" in failed[0].reason
        kind = failed[0].status.split("_")[0]  # CREATE or DELETE
        started = next(e.time for e in cloud.events if e.status == f"{kind}_IN_PROGRESS")
        assert failed[0].time - started >= 600 - 15 - 60 - 20  # it looked until its deadline
    else:
        assert f"{operation} failed: ThrottlingException" in failed[0].reason
        assert "deploy again later" in failed[0].reason
    custom_labels.faults.clear()
    assert rules_left(cloud) == []
    if operation == "CopyProjectVersion":
        assert stack.status == "ROLLBACK_COMPLETE"  # nothing was made
    elif scenario == "create":
        # the copy was made but cannot be seen while the fault lasts: the rollback's Delete fails too
        # (never a silent success); once the fault is gone, deleting the stack removes the copy
        assert stack.status == "ROLLBACK_FAILED"
        assert stack.delete() == "DELETE_COMPLETE"
        assert versions(stack) == {}
    else:
        # a failed tag update rolls back, unless the rollback needs the very call that keeps failing
        # (TagResource: the forward update had removed tag "a" already); a Delete that cannot stop or
        # delete the model fails
        expected = {
            "TagResource": "UPDATE_ROLLBACK_FAILED",
            "UntagResource": "UPDATE_ROLLBACK_COMPLETE",
            "StopProjectVersion": "DELETE_FAILED",
            "DeleteProjectVersion": "DELETE_FAILED",
        }
        assert stack.status == expected[operation]


# -- service errors with their own Reasons -----------------------------------------------------------------
def test_limit_exceeded_names_the_quota(cloud, deploy, source_version):
    # botocore's standard mode retries LimitExceededException as throttling: a lasting one fails
    custom_labels.faults.inject("CopyProjectVersion", "LimitExceededException", times=None)
    stack = deploy(copy_template(source_version))
    assert stack.status == "ROLLBACK_COMPLETE"
    assert "LimitExceededException" in reasons(cloud) and "quota" in reasons(cloud)


def test_source_version_not_found(cloud, deploy, source_version):
    missing = (source_version[0], source_version[1].replace("/defects.v1/", "/no-such-version/"))
    stack = deploy(copy_template(missing))
    assert stack.status == "ROLLBACK_COMPLETE"
    assert "ResourceNotFoundException" in reasons(cloud)
    assert versions(stack) == {}


def test_destination_project_not_found(cloud, deploy, source_version):
    template = copy_template(source_version)
    arn = f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/missing/1700000000000"
    template["Resources"]["ModelCopy"]["Properties"]["DestinationProjectArn"] = arn
    stack = deploy(template)
    assert stack.status == "ROLLBACK_COMPLETE"
    assert "ResourceNotFoundException" in reasons(cloud)


def test_a_version_name_taken_by_someone_else_is_neither_adopted_nor_deleted(cloud, source_version):
    stack = prepared(cloud, source_version)
    client = stack.session().client("rekognition")
    theirs = client.copy_project_version(
        SourceProjectArn=source_version[0],
        SourceProjectVersionArn=source_version[1],
        DestinationProjectArn=stack.resources["Project"].attributes["Arn"],
        VersionName="defects-prod-1",
        OutputConfig={"S3Bucket": stack.resources["Output"].physical_id},
    )["ProjectVersionArn"]
    cloud.settle(300)

    create = stack.request("ModelCopy", "Create")
    cloud.run([create])
    assert create.response is not None and create.response["Status"] == "FAILED"
    assert "did not create" in create.response["Reason"] and theirs in create.response["Reason"]
    delete = stack.request("ModelCopy", "Delete", physical_id=create.response["PhysicalResourceId"])
    cloud.run([delete])  # the rollback's Delete

    assert delete.response is not None and delete.response["Status"] == "SUCCESS"
    assert [v["ProjectVersionArn"] for v in versions(stack).values()] == [theirs]


# -- delivery and timing ----------------------------------------------------------------------------
def test_a_create_delivered_twice_makes_one_copy(cloud, source_version):
    stack = prepared(cloud, source_version)
    create = stack.request("ModelCopy", "Create", deliveries=2)

    cloud.run([create])

    bodies = cloud.server.responses(create.event["RequestId"])
    assert {b["Status"] for b in bodies} == {"SUCCESS"}
    assert len({b["PhysicalResourceId"] for b in bodies}) == 1
    assert list(versions(stack)) == ["defects-prod-1"]


def test_a_delete_while_the_copy_is_in_progress_waits_and_removes_it(cloud, source_version):
    custom_labels.config.copy_duration = 300
    stack = prepared(cloud, source_version)
    create = stack.request("ModelCopy", "Create")
    cloud.send([create])  # still copying: CloudFormation gave up on the stack (another resource failed)
    cloud.settle(60)
    assert create.response is None and versions(stack)["defects-prod-1"]["Status"] == "COPYING_IN_PROGRESS"

    delete = stack.request("ModelCopy", "Delete", physical_id="prod-ModelCopy-NOTANARN")
    cloud.run([delete])

    assert delete.response is not None and delete.response["Status"] == "SUCCESS"
    assert delete.response["PhysicalResourceId"] == "prod-ModelCopy-NOTANARN"
    cloud.wait([create])
    assert versions(stack) == {}


def test_a_lambda_timeout_in_the_middle_of_a_poll_answers_once(cloud, deploy, source_version):
    random.seed(7)
    # ServiceTimeout leaves no time for another tick when the poll's 20 s are up: the timer answers FAILED
    template = copy_template(source_version, service_timeout=120)
    template["Resources"]["Handler"]["Properties"]["Timeout"] = 20  # too short for the fast path
    custom_labels.config.copy_duration = 30  # done when the first poll hangs
    custom_labels.faults.inject_latency("DescribeProjectVersions", 25)  # the first poll hangs

    stack = deploy(template)

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "The function timed out" in reasons(cloud)
    timed_out = [i for i in cloud.invocations if i.outcome == "timeout"]
    assert len(timed_out) == 1 and timed_out[0].poll
    assert versions(stack) == {}  # the rollback's Delete removed the copy (the answer carried its ARN)


def test_a_copy_finishing_at_the_last_round_of_its_rollback_delete_is_still_removed(
    cloud, deploy, source_version
):
    # As above, but the copy finishes while the rollback's Delete (ServiceTimeout 120 s, a 20-s function)
    # is at its last scheduled round: DeleteProjectVersion is accepted, and with no tick left in time the
    # poll looks again in-process, sees the version gone and answers SUCCESS (the project is deleted next).
    template = copy_template(source_version, service_timeout=120)
    template["Resources"]["Handler"]["Properties"]["Timeout"] = 20
    custom_labels.config.copy_duration = 120
    custom_labels.faults.inject_latency("DescribeProjectVersions", 25)

    stack = deploy(template)

    assert stack.status == "ROLLBACK_COMPLETE"
    assert versions(stack) == {}


def test_a_poll_that_outlasts_the_function_leaves_the_request_to_its_schedule(cloud, deploy, source_version):
    # ServiceTimeout (an hour) has time left when the poll's 20 s are up: the next tick polls again
    template = copy_template(source_version)
    template["Resources"]["Handler"]["Properties"]["Timeout"] = 20  # too short for the fast path
    custom_labels.config.copy_duration = 600
    custom_labels.faults.inject_latency("DescribeProjectVersions", 25)  # the first poll hangs

    stack = deploy(template)

    assert stack.status == "CREATE_COMPLETE"
    create = next(r for r in cloud.all_requests if r.event["RequestType"] == "Create")
    assert len(cloud.server.responses(create.event["RequestId"])) == 1
    timed_out = [i for i in cloud.invocations if i.outcome == "timeout"]
    assert len(timed_out) == 1 and timed_out[0].poll
    assert versions(stack)["defects-prod-1"]["Status"] == "COPYING_COMPLETED"


def test_an_exception_at_import_time_still_answers(cloud, deploy, source_version, tmp_path):
    asset = tmp_path / "broken"
    shutil.copytree(REPO / "lambda", asset)
    (asset / "resources" / "model_copy.py").write_text("raise RuntimeError('model_copy is broken')\n")
    template = copy_template(source_version)
    template["Resources"]["Handler"]["Metadata"]["aws:asset:path"] = str(asset)

    stack = deploy(template)

    # every request is answered, with the error; a handler that cannot import cannot tell whether the
    # rollback's Delete is safe, so it fails too instead of succeeding silently
    assert stack.status == "ROLLBACK_FAILED"
    assert [e.status for e in cloud.events if e.logical_id == "ModelCopy"][-1] == "DELETE_FAILED"
    assert "model_copy is broken" in reasons(cloud)


def test_update_to_a_new_version_name_that_fails_rolls_back_and_removes_the_new_copy(
    cloud, deploy, source_version
):
    stack = deploy(copy_template(source_version, version_name="defects-prod-1"))
    old = stack.resources["ModelCopy"].physical_id
    custom_labels.faults.fail_next_copy(status_message="Output bucket unreachable.")

    assert (
        stack.update(copy_template(source_version, version_name="defects-prod-2"))
        == "UPDATE_ROLLBACK_COMPLETE"
    )

    assert "Output bucket unreachable." in reasons(cloud)
    assert stack.resources["ModelCopy"].physical_id == old
    cloud.settle(60)
    assert set(versions(stack)) == {"defects-prod-1"}


def test_many_tags_still_poll_within_eventbridge_limits(cloud, deploy, source_version):
    tags = {f"key-{i:03d}-{'k' * 100}": "v" * 256 for i in range(199)}
    custom_labels.config.copy_duration = 40 * 60  # beyond the fast path: the schedule's input matters

    stack = deploy(copy_template(source_version, tags=tags))

    assert stack.status == "CREATE_COMPLETE"
    assert any(i.poll for i in cloud.invocations)
    assert len(json.dumps(tags)) > 8192
