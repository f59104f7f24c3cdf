"""Drift: the copy (or its project) deleted outside CloudFormation. An Update makes the copy again (a
replacement); its rollback and a Delete never fail because the copy is gone."""

from __future__ import annotations

from typing import Any

from emulator import custom_labels
from rekognition_model_copy.contract import REMADE_TAG
from tests.conftest import copy_template
from tests.handler.conftest import reasons, rules_left, versions


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

    stack.update(copy_template(source_version, tags={"b": "2"}))

    assert "no longer exists (deleted outside CloudFormation)" in reasons(cloud)
    assert "ResourceNotFoundException" in reasons(cloud)


def _failing_later(template: dict[str, Any]) -> dict[str, Any]:
    """The template with a resource after the copy that the handler refuses: the update rolls back."""
    template["Resources"]["Breaker"] = {
        "Type": "Custom::RekognitionModelCopy",
        "DependsOn": "ModelCopy",
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}, "VersionName": "bad name!"},
    }
    return template


def _tags(stack: Any, arn: str) -> dict[str, str]:
    return dict(stack.session().client("rekognition").list_tags_for_resource(ResourceArn=arn)["Tags"])


def test_a_key_change_of_a_copy_deleted_by_hand_rolled_back_returns_to_the_deleted_copy(
    cloud, deploy, source_version
):
    # The update makes the copy again, with the key, under the name the deleted copy had; a later resource
    # fails. The rollback cannot make a copy without the key under that name while the new one holds it:
    # it answers the deleted copy's id, and CloudFormation deletes the copy made again.
    stack = deploy(copy_template(source_version))
    gone = stack.resources["ModelCopy"].physical_id
    delete_by_hand(cloud, stack, gone)

    assert stack.update(_failing_later(copy_template(source_version, kms=True))) == "UPDATE_ROLLBACK_COMPLETE"

    assert stack.resources["ModelCopy"].physical_id == gone
    cloud.settle(600)
    assert versions(stack) == {}
    assert stack.delete() == "DELETE_COMPLETE"
    assert rules_left(cloud) == []


def test_a_key_change_of_a_copy_deleted_by_hand_that_succeeds_is_settled(cloud, deploy, source_version):
    # Once CloudFormation deletes the deleted copy's id, the copy made again is the stack's for good: a
    # later update back to no key under the same name is refused as usual, never taken for a rollback.
    stack = deploy(copy_template(source_version))
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)
    assert stack.update(copy_template(source_version, kms=True)) == "UPDATE_COMPLETE"
    copy = stack.resources["ModelCopy"].physical_id
    assert REMADE_TAG not in _tags(stack, copy)

    status = stack.update(copy_template(source_version))

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert "Changing KmsKeyId needs a new copy" in reasons(cloud)
    assert stack.resources["ModelCopy"].physical_id == copy
    assert versions(stack)["defects-prod-1"]["ProjectVersionArn"] == copy


def test_an_update_in_place_settles_a_copy_made_again(cloud, deploy, source_version):
    # With UpdateReplacePolicy Retain, CloudFormation sends no Delete of the deleted copy's id: the next
    # update in place (a tag) settles the copy made again instead.
    stack = deploy(copy_template(source_version, deletion_policy="Retain"))
    delete_by_hand(cloud, stack, stack.resources["ModelCopy"].physical_id)
    assert (
        stack.update(copy_template(source_version, kms=True, deletion_policy="Retain")) == "UPDATE_COMPLETE"
    )
    copy = stack.resources["ModelCopy"].physical_id
    assert REMADE_TAG in _tags(stack, copy)

    tagged = copy_template(source_version, kms=True, deletion_policy="Retain", tags={"build": "2"})
    assert stack.update(tagged) == "UPDATE_COMPLETE"
    assert REMADE_TAG not in _tags(stack, copy)
    assert stack.update(copy_template(source_version, deletion_policy="Retain")) == "UPDATE_ROLLBACK_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == copy
