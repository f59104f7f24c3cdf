"""Drift: the copy (or its project) deleted outside CloudFormation. An Update makes the copy again (a
replacement); its rollback and a Delete never fail because the copy is gone."""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models
from moto.cloudformation.exceptions import CloudFormationError

from emulator import custom_labels
from tests.conftest import copy_template
from tests.handler.conftest import failing_later, reasons, rules_left, versions


def delete_by_hand(cloud: Any, stack: Any, version_arn: str) -> None:
    client = stack.session().client("rekognition")
    client.delete_project_version(ProjectVersionArn=version_arn)
    cloud.settle(60)
    assert versions(stack) == {}


def test_an_update_of_a_copy_deleted_by_hand_copies_it_again(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    gone = stack.resources["ModelCopy"].physical_id
    delete_by_hand(cloud, stack, gone)

    assert stack.update(copy_template(source_version, tags={"b": "2"})) == "UPDATE_COMPLETE"

    copy = stack.resources["ModelCopy"].physical_id
    assert copy != gone and versions(stack)["defects-prod-1"]["ProjectVersionArn"] == copy
    tags = stack.session().client("rekognition").list_tags_for_resource(ResourceArn=copy)["Tags"]
    assert tags.get("b") == "2" and "a" not in tags
    assert stack.delete() == "DELETE_COMPLETE"
    assert rules_left(cloud) == []


def test_a_failed_update_of_a_copy_deleted_by_hand_rolls_back(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)
    custom_labels.faults.inject("StartProjectVersion", "AccessDeniedException", times=1)

    status = stack.update(copy_template(source_version, tags={"a": "1"}, extra={"MinInferenceUnits": 1}))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert "StartProjectVersion failed: AccessDeniedException" in reasons(cloud)
    assert stack.delete() == "DELETE_COMPLETE"
    assert versions(stack) == {}


def test_a_delete_of_a_copy_deleted_by_hand_succeeds(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, extra={"MinInferenceUnits": 1}))
    client = stack.session().client("rekognition")
    client.stop_project_version(ProjectVersionArn=stack.resources["ModelCopy"].physical_id)
    cloud.settle(60)
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)

    assert stack.delete() == "DELETE_COMPLETE"
    assert rules_left(cloud) == []


def test_an_update_after_the_project_was_deleted_by_hand_says_so(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)
    client = stack.session().client("rekognition")
    client.delete_project(ProjectArn=stack.resources["Project"].attributes["Arn"])

    status = stack.update(copy_template(source_version, tags={"b": "2"}))

    # the rollback goes back to the copy that was gone, without copying
    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert "no longer exists (deleted outside CloudFormation)" in reasons(cloud)
    assert "ResourceNotFoundException" in reasons(cloud)


def test_the_rollback_of_a_key_change_that_made_a_deleted_copy_again_goes_back_to_the_gone_copy(
    cloud, deploy, source_version
):
    # The update makes the copy again, with the key, under the name the deleted copy had, and marks it with
    # that update; a later resource fails. The rollback cannot copy without the key under that name while
    # the new copy holds it: by the mark it goes back to the gone copy's id, without copying, and
    # CloudFormation deletes the copy the rejected update made.
    stack = deploy(copy_template(source_version))
    gone = stack.resources["ModelCopy"].physical_id
    delete_by_hand(cloud, stack, gone)
    copies = custom_labels.calls.count("CopyProjectVersion")

    assert stack.update(failing_later(copy_template(source_version, kms=True))) == "UPDATE_ROLLBACK_COMPLETE"

    assert custom_labels.calls.count("CopyProjectVersion") == copies + 1  # the update's, not the rollback's
    assert stack.resources["ModelCopy"].physical_id == gone
    assert stack.resources["ModelCopy"].attributes["Status"] == "DELETED"
    cloud.settle(600)
    assert versions(stack) == {}
    # and forward again: the copy is made again (drift), with the key
    assert stack.update(copy_template(source_version, kms=True)) == "UPDATE_COMPLETE"
    assert len(versions(stack)) == 1
    assert stack.delete() == "DELETE_COMPLETE"
    assert rules_left(cloud) == []


def test_an_update_in_place_removes_the_mark_of_a_copy_made_again(cloud, deploy, source_version):
    # The mark names the update that made the copy again only while nothing else changed the copy: an
    # update in place (here tags) removes it, so the rollback of a later update never goes back by it.
    stack = deploy(copy_template(source_version))
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)
    assert stack.update(copy_template(source_version, kms=True)) == "UPDATE_COMPLETE"
    copy = stack.resources["ModelCopy"].physical_id
    client = stack.session().client("rekognition")
    assert "rekognition-model-copy:remade" in client.list_tags_for_resource(ResourceArn=copy)["Tags"]

    assert stack.update(copy_template(source_version, kms=True, tags={"a": "1"})) == "UPDATE_COMPLETE"

    tags = client.list_tags_for_resource(ResourceArn=copy)["Tags"]
    assert "rekognition-model-copy:remade" not in tags and tags["a"] == "1"
    assert stack.resources["ModelCopy"].physical_id == copy


def test_a_key_change_of_a_copy_deleted_by_hand_with_no_room_for_its_mark_cannot_be_rolled_back(
    cloud, deploy, source_version
):
    # 198 tags, the owner and key markers: no room for the mark of the copy made again. Its rollback cannot
    # be sure the update made that copy (an update in place may have changed how the key is declared): it
    # fails, saying to continue the rollback skipping the resource, and the copy stays.
    many = {f"t{i}": "v" for i in range(198)}
    stack = deploy(copy_template(source_version, tags=many))
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)

    status = stack.update(failing_later(copy_template(source_version, kms=True, tags=many)))
    assert status == "UPDATE_ROLLBACK_FAILED"

    assert "If this is the rollback of an update that made this copy again" in reasons(cloud)
    assert "continue the rollback skipping this resource (this copy stays)" in reasons(cloud)
    copy = stack.resources["ModelCopy"].physical_id
    assert versions(stack)["defects-prod-1"]["ProjectVersionArn"] == copy


def test_the_rollback_of_an_update_whose_copy_was_gone_makes_no_copy(cloud, deploy, source_version):
    # The update makes the copy again and fails (its start is refused): the rollback goes back to the copy
    # that was gone. It answers that id and makes no copy; the copy the update made is removed.
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    gone = stack.resources["ModelCopy"].physical_id
    delete_by_hand(cloud, stack, gone)
    custom_labels.faults.inject("StartProjectVersion", "AccessDeniedException", times=1)
    copies = custom_labels.calls.count("CopyProjectVersion")

    status = stack.update(copy_template(source_version, tags={"a": "1"}, extra={"MinInferenceUnits": 1}))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert custom_labels.calls.count("CopyProjectVersion") == copies + 1  # the update's, not the rollback's
    assert stack.resources["ModelCopy"].physical_id == gone
    cloud.settle(600)
    assert versions(stack) == {}
    assert stack.delete() == "DELETE_COMPLETE"
    assert rules_left(cloud) == []


def test_an_update_back_to_no_key_after_a_copy_was_made_again_is_refused_as_usual(
    cloud, deploy, source_version
):
    # The same two property sets as the rollback above, but as a forward update (the stack is not rolling
    # back): a new copy cannot take the name of the copy in use, so it is refused and the copy stays.
    stack = deploy(copy_template(source_version))
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)
    assert stack.update(copy_template(source_version, kms=True)) == "UPDATE_COMPLETE"
    copy = stack.resources["ModelCopy"].physical_id

    assert stack.update(copy_template(source_version)) == "UPDATE_ROLLBACK_COMPLETE"

    assert "Changing KmsKeyId needs a new copy" in reasons(cloud)
    assert stack.resources["ModelCopy"].physical_id == copy
    assert versions(stack)["defects-prod-1"]["ProjectVersionArn"] == copy


def test_a_rollback_that_may_not_read_the_stack_status_fails_saying_why_and_keeps_the_copy(
    cloud, deploy, source_version, monkeypatch
):
    # Without DescribeStacks (here: no permission) the handler cannot tell the rollback from a forward
    # update, and takes the forward update's answer: refused, saying why, the copy left as it is (the
    # rollback fails for the role's own permissions: an allowed cause).
    stack = deploy(copy_template(source_version))
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)

    class AccessDenied(CloudFormationError):
        code = "AccessDenied"

    def denied(self: Any, name: str) -> Any:
        raise AccessDenied("User is not authorized to perform: cloudformation:DescribeStacks")

    monkeypatch.setattr(models.CloudFormationBackend, "describe_stacks", denied)

    assert stack.update(failing_later(copy_template(source_version, kms=True))) == "UPDATE_ROLLBACK_FAILED"

    assert "Changing KmsKeyId needs a new copy" in reasons(cloud)
    assert (
        "the stack's status could not be read to tell: cloudformation:DescribeStacks failed (AccessDenied)"
        in (reasons(cloud))
    )
    copy = stack.resources["ModelCopy"].physical_id
    assert versions(stack)["defects-prod-1"]["ProjectVersionArn"] == copy
