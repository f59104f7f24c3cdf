"""Failed Updates and their rollbacks, on the strict driver: a rollback Update carries the old properties
as ResourceProperties and the rejected ones as OldResourceProperties, to the id the stack holds; the stack
ends UPDATE_ROLLBACK_COMPLETE only when every rollback answers SUCCESS."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, copy_template
from tests.handler.conftest import cleanups_left, prepared, reasons, versions

OWNER_TAG = "rekognition-model-copy:owner"
TAKEN_TAG = "rekognition-model-copy:taken"


def updates(cloud: Any, logical_id: str = "ModelCopy") -> list[Any]:
    return [e for e in cloud.events if e.logical_id == logical_id and e.status.startswith("UPDATE_")]


def other_source() -> tuple[str, str]:
    return custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects-2", "defects.v2")


REJECTED = {
    "max-below-min": lambda source: copy_template(
        source, extra={"MinInferenceUnits": 3, "MaxInferenceUnits": 2}
    ),
    "new-source-same-name": lambda source: copy_template(other_source()),
    "aws-tag-key": lambda source: copy_template(source, tags={"aws:team": "vision"}),
    "owner-tag-key": lambda source: copy_template(source, tags={OWNER_TAG: "someone"}),
    "tags-as-a-list": lambda source: copy_template(source, extra={"Tags": [{"Key": "a", "Value": "b"}]}),
    "too-many-tags": lambda source: copy_template(source, tags={f"k{i}": "v" for i in range(200)}),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_a_rejected_update_rolls_back_cleanly(cloud, deploy, source_version, case):
    stack = deploy(copy_template(source_version, tags={"team": "vision"}))
    held = stack.resources["ModelCopy"].physical_id

    assert stack.update(REJECTED[case](source_version)) == "UPDATE_ROLLBACK_COMPLETE"

    # the Update failed, and the rollback Update (old properties applied, rejected ones as Old...) did not
    assert [e.status for e in updates(cloud)][-4:] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_FAILED",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]
    assert stack.resources["ModelCopy"].physical_id == held
    assert set(versions(stack)) == {"defects-prod-1"}
    tags = stack.session().client("rekognition").list_tags_for_resource(ResourceArn=held)["Tags"]
    assert tags.pop(OWNER_TAG) and tags == {"team": "vision"}
    assert custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT) == 1  # nothing invalid was sent


def test_a_rollback_that_fails_never_deletes_the_version_the_stack_holds(
    cloud, deploy, source_version, clock
):
    stack = deploy(copy_template(source_version, extra={"MinInferenceUnits": 1}))
    held = stack.resources["ModelCopy"].physical_id
    client = stack.session().client("rekognition")
    client.stop_project_version(ProjectVersionArn=held)  # someone stops the model
    cloud.settle(120)
    custom_labels.faults.fail_next_copy(status_message="Output bucket unreachable.")
    custom_labels.faults.inject("StartProjectVersion", "AccessDeniedException", times=None)

    status = stack.update(
        copy_template(source_version, version_name="defects-prod-2", extra={"MinInferenceUnits": 1})
    )

    # the rollback cannot start the held model again: it fails, and the model is kept
    assert status == "UPDATE_ROLLBACK_FAILED"
    assert "StartProjectVersion failed: AccessDeniedException" in reasons(cloud)
    assert stack.resources["ModelCopy"].physical_id == held
    custom_labels.faults.clear()
    cloud.settle(60)
    assert set(versions(stack)) == {"defects-prod-1"}  # the failed replacement is gone, the held one kept
    assert versions(stack)["defects-prod-1"]["ProjectVersionArn"] == held


def test_a_rollback_after_an_accepted_replacement_adopts_the_old_copy(cloud, deploy, source_version):
    # ModelCopy is replaced (new version name) and accepted; a later resource fails, so the rollback
    # Update goes to the NEW id with the old properties: the old copy is adopted, not copied again, and
    # CloudFormation deletes the new one in the rollback's cleanup
    def template(version_name: str, other_units: dict[str, Any]) -> dict[str, Any]:
        built = copy_template(source_version, version_name=version_name)
        other = copy_template(source_version, version_name="other", logical_id="Other", extra=other_units)
        built["Resources"]["Other"] = {**other["Resources"]["Other"], "DependsOn": ["ModelCopy"]}
        return built

    stack = deploy(template("defects-prod-1", {}))
    old = stack.resources["ModelCopy"].physical_id

    status = stack.update(template("defects-prod-2", {"MinInferenceUnits": 2, "MaxInferenceUnits": 1}))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == old
    assert set(versions(stack)) == {"defects-prod-1", "other"}


def test_a_replacement_whose_copy_fails_is_gone_when_the_rollback_completes(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, version_name="defects-prod-1"))
    custom_labels.faults.fail_next_copy(status_message="Output bucket unreachable.")

    status = stack.update(copy_template(source_version, version_name="defects-prod-2"))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert "Output bucket unreachable." in reasons(cloud)
    assert set(versions(stack)) == {"defects-prod-1"}  # no settling: gone when the stack says so


def test_a_replacement_still_copying_at_the_timeout_is_waited_for_and_removed(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, version_name="defects-prod-1", service_timeout=600))
    held = stack.resources["ModelCopy"].physical_id
    custom_labels.config.copy_duration = 15 * 60  # longer than the Update may take

    status = stack.update(copy_template(source_version, version_name="defects-prod-2", service_timeout=600))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert "Gave up waiting" in reasons(cloud)
    assert set(versions(stack)) == {"defects-prod-1"}
    assert stack.resources["ModelCopy"].physical_id == held
    assert stack.delete() == "DELETE_COMPLETE"  # nothing left blocks deleting the project


def test_a_replacement_started_at_the_timeout_is_stopped_and_removed(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, version_name="defects-prod-1", service_timeout=600))
    custom_labels.config.start_duration = 700  # still STARTING when the Update gives up

    status = stack.update(
        copy_template(
            source_version, version_name="defects-prod-2", service_timeout=600, extra={"MinInferenceUnits": 1}
        )
    )

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert set(versions(stack)) == {"defects-prod-1"}
    assert custom_labels.calls.count("StopProjectVersion", DEST_ACCOUNT) == 1
    assert stack.delete() == "DELETE_COMPLETE"


def owner_marker(stack: Any, logical_id: str = "ModelCopy") -> str:
    """The owner marker the handler puts on its copies (a hash of StackId and LogicalResourceId)."""
    return hashlib.sha256(f"{stack.stack_id}|{logical_id}".encode()).hexdigest()[:40]


def test_a_copy_of_another_source_under_the_name_is_never_adopted(cloud, source_version):
    stack = prepared(cloud, source_version)
    other = other_source()
    client = stack.session().client("rekognition")
    retained = client.copy_project_version(  # this resource's copy, retained from an earlier source
        SourceProjectArn=other[0],
        SourceProjectVersionArn=other[1],
        DestinationProjectArn=stack.resources["Project"].attributes["Arn"],
        VersionName="defects-prod-1",
        OutputConfig={"S3Bucket": stack.resources["Output"].physical_id},
        Tags={OWNER_TAG: owner_marker(stack)},
    )["ProjectVersionArn"]
    cloud.settle(300)

    create = stack.request("ModelCopy", "Create")
    cloud.run([create])
    assert create.response is not None and create.response["Status"] == "FAILED"
    assert retained in create.response["Reason"] and other[1] in create.response["Reason"]
    delete = stack.request("ModelCopy", "Delete", physical_id=create.response["PhysicalResourceId"])
    cloud.run([delete])

    assert delete.response is not None and delete.response["Status"] == "SUCCESS"
    assert [v["ProjectVersionArn"] for v in versions(stack).values()] == [retained]


def test_a_rollback_never_removes_a_retained_copy_the_failed_update_adopted(cloud, deploy, source_version):
    # v1, retained when v2 replaces it (UpdateReplacePolicy Retain); then back to v1, whose start fails
    stack = deploy(copy_template(source_version, version_name="defects-prod-1", deletion_policy="Retain"))
    assert stack.update(
        copy_template(source_version, version_name="defects-prod-2", deletion_policy="Retain")
    ) == ("UPDATE_COMPLETE")
    custom_labels.faults.inject("StartProjectVersion", "AccessDeniedException", times=None)

    status = stack.update(
        copy_template(
            source_version,
            version_name="defects-prod-1",
            deletion_policy="Retain",
            extra={"MinInferenceUnits": 1},
        )
    )

    # the failed Update adopted the retained v1 (it did not make it): the rollback must not delete it
    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert set(versions(stack)) == {"defects-prod-1", "defects-prod-2"}


def test_a_copy_left_to_a_cleanup_then_taken_by_the_stack_is_never_deleted_by_that_cleanup(
    cloud, deploy, source_version
):
    # A replacement that outlasts ServiceTimeout rolls back and leaves its copy to a cleanup (it cannot be
    # deleted while it copies); deploying the same change again with more time takes that copy as the
    # stack's (adoption). The cleanup, still pending, must then leave it alone.
    stack = deploy(copy_template(source_version, version_name="defects-prod-1", service_timeout=600))
    custom_labels.config.copy_duration = 25 * 60
    failed = stack.update(copy_template(source_version, version_name="defects-prod-2", service_timeout=600))
    assert failed == "UPDATE_ROLLBACK_COMPLETE"
    assert len(cleanups_left(cloud)) == 1
    left = versions(stack)["defects-prod-2"]["ProjectVersionArn"]

    status = stack.update(copy_template(source_version, version_name="defects-prod-2", service_timeout=3600))

    assert status == "UPDATE_COMPLETE"
    held = stack.resources["ModelCopy"].physical_id
    assert held == left
    client = stack.session().client("rekognition")
    assert TAKEN_TAG in client.list_tags_for_resource(ResourceArn=left)["Tags"]  # the cleanup leaves it
    cloud.settle(600)
    assert "defects-prod-2" in versions(stack)
    assert cleanups_left(cloud) == []  # the cleanup ended without deleting it


@pytest.mark.parametrize("times", [1, 6])
def test_a_throttled_take_back_is_tried_again_and_the_cleanup_still_leaves_the_copy(
    cloud, deploy, source_version, times
):
    # TagResource throttled while the deploy takes the copy back: a transient failure, tried again; the
    # copy is marked as taken before the deploy answers, and the pending cleanup leaves it.
    stack = deploy(copy_template(source_version, version_name="defects-prod-1", service_timeout=600))
    custom_labels.config.copy_duration = 25 * 60
    failed = stack.update(copy_template(source_version, version_name="defects-prod-2", service_timeout=600))
    assert failed == "UPDATE_ROLLBACK_COMPLETE"
    left = versions(stack)["defects-prod-2"]["ProjectVersionArn"]
    custom_labels.faults.inject("TagResource", "ThrottlingException", times=times)

    status = stack.update(copy_template(source_version, version_name="defects-prod-2", service_timeout=3600))

    assert status == "UPDATE_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == left
    cloud.settle(600)
    assert "defects-prod-2" in versions(stack)
