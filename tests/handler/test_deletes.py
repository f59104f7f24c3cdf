"""Deletes that must not touch what the resource does not own, and Deletes with nothing to delete: the
owner marker is read before anything is stopped or deleted; an empty physical id is answered at once."""

from __future__ import annotations

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, copy_template
from tests.handler.conftest import prepared, reasons, rules_left, versions


def test_a_delete_of_another_stacks_version_leaves_it_running(cloud, deploy, source_version):
    template = copy_template(source_version, extra={"MinInferenceUnits": 1})
    template["Resources"]["Project"]["Properties"]["ProjectName"] = "other-defects"
    other = deploy(template, name="other")
    theirs = other.resources["ModelCopy"].physical_id
    assert versions(other, "other-defects")["defects-prod-1"]["Status"] == "RUNNING"
    stack = prepared(cloud, source_version, name="prod")
    # an event invoked directly on the function, naming the other stack's running model and its project
    stack.resources["Project"].attributes["Arn"] = other.resources["Project"].attributes["Arn"]

    delete = stack.request("ModelCopy", "Delete", physical_id=theirs)
    cloud.run([delete])

    assert delete.response["Status"] == "SUCCESS"
    assert versions(other, "other-defects")["defects-prod-1"]["Status"] == "RUNNING"
    assert custom_labels.calls.count("StopProjectVersion", DEST_ACCOUNT) == 0
    assert custom_labels.calls.count("DeleteProjectVersion", DEST_ACCOUNT) == 0


def test_a_delete_with_an_empty_physical_id_is_answered_at_once(cloud, source_version):
    stack = prepared(cloud, source_version)

    delete = stack.request("ModelCopy", "Delete", physical_id="")
    cloud.run([delete])

    assert delete.response is not None and delete.response["Status"] == "SUCCESS"
    assert delete.answered - delete.sent < 60
    _drop_empty_id_violation(cloud, delete)
    assert rules_left(cloud) == []
    assert versions(stack) == {}


def _drop_empty_id_violation(cloud, delete) -> None:
    # The driver flags every answer to a Delete whose PhysicalResourceId is empty (an empty id is not a
    # valid answer, and another id is not the resource's); echoing the request's own id is the answer here.
    flagged = f"{delete.where}: PhysicalResourceId"
    cloud.violations[:] = [v for v in cloud.violations if not v.startswith(flagged)]


def test_a_delete_with_an_empty_physical_id_removes_the_copy_the_create_made(cloud, source_version):
    stack = prepared(cloud, source_version)
    custom_labels.config.start_duration = 60
    create = stack.request("ModelCopy", "Create")
    cloud.run([create])
    copy = create.response["PhysicalResourceId"]
    stack.session().client("rekognition").start_project_version(ProjectVersionArn=copy, MinInferenceUnits=1)
    cloud.settle(120)  # the model is RUNNING; CloudFormation never took the Create's answer

    delete = stack.request("ModelCopy", "Delete", physical_id="")
    cloud.run([delete])

    assert delete.response is not None and delete.response["Status"] == "SUCCESS"
    assert delete.answered - delete.sent < 60
    _drop_empty_id_violation(cloud, delete)
    cloud.settle(10 * 60)  # the cleanup stops and deletes it
    assert versions(stack) == {}
    assert rules_left(cloud) == []


# -- copies that outlast the request: a cleanup deletes them once the service lets it ------------------------
@pytest.fixture(params=[False, True], ids=["delete-refused-while-copying", "delete-allowed-while-copying"])
def delete_while_copying(request) -> bool:
    custom_labels.config.delete_while_copying_allowed = request.param
    return bool(request.param)


def test_a_create_that_outlasts_its_timeout_rolls_back_and_leaves_nothing(
    cloud, deploy, source_version, delete_while_copying
):
    custom_labels.config.copy_duration = 15 * 60  # longer than the Create may take

    stack = deploy(copy_template(source_version, service_timeout=600))

    # the Delete that follows waits for the copy within its own time (the project goes next), or
    # deletes it at once
    assert stack.status == "ROLLBACK_COMPLETE"
    assert "Gave up waiting" in reasons(cloud)
    assert versions(stack) == {}
    assert rules_left(cloud) == []


def test_a_copy_that_outlasts_the_create_and_the_delete_is_removed_by_a_cleanup(
    cloud, deploy, source_version, delete_while_copying
):
    stack = deploy(copy_template(source_version, service_timeout=600))
    # an Update adds a second copy, which outlasts its Create and the Delete of the rollback
    template = copy_template(source_version, service_timeout=600)
    other = copy_template(source_version, version_name="other", logical_id="Other", service_timeout=600)
    template["Resources"]["Other"] = other["Resources"]["Other"]
    custom_labels.config.copy_duration = 60 * 60

    assert stack.update(template) == "UPDATE_ROLLBACK_COMPLETE"

    if delete_while_copying:
        assert set(versions(stack)) == {"defects-prod-1"}  # deleted at once
    else:
        assert set(versions(stack)) == {"defects-prod-1", "other"}  # still copying
        assert len(rules_left(cloud)) == 1  # its cleanup
    cloud.settle(60 * 60)  # the copy finishes; the cleanup deletes it, then itself
    assert set(versions(stack)) == {"defects-prod-1"}
    assert rules_left(cloud) == []


def test_a_copy_with_no_room_for_the_cleanup_mark_is_still_removed_by_its_cleanup(
    cloud, deploy, source_version
):
    stack = deploy(copy_template(source_version, service_timeout=600))
    template = copy_template(source_version, service_timeout=600)
    full = {f"k{i}": "v" for i in range(199)}  # with the owner marker: Rekognition's 200
    other = copy_template(
        source_version, version_name="other", logical_id="Other", service_timeout=600, tags=full
    )
    template["Resources"]["Other"] = other["Resources"]["Other"]
    custom_labels.config.copy_duration = 60 * 60

    assert stack.update(template) == "UPDATE_ROLLBACK_COMPLETE"

    assert len(rules_left(cloud)) == 1
    cloud.settle(60 * 60)
    assert set(versions(stack)) == {"defects-prod-1"}
    assert rules_left(cloud) == []


def test_a_replacement_that_outlasts_its_timeout_rolls_back_and_leaves_only_the_held_copy(
    cloud, deploy, source_version, delete_while_copying
):
    stack = deploy(copy_template(source_version, version_name="defects-prod-1", service_timeout=600))
    held = stack.resources["ModelCopy"].physical_id
    custom_labels.config.copy_duration = 30 * 60

    status = stack.update(copy_template(source_version, version_name="defects-prod-2", service_timeout=600))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == held
    cloud.settle(40 * 60)
    assert set(versions(stack)) == {"defects-prod-1"}
    assert rules_left(cloud) == []
    assert stack.delete() == "DELETE_COMPLETE"
    assert versions(stack) == {}
