"""Drift: the copy (or its project) deleted outside CloudFormation. An Update makes the copy again (a
replacement); its rollback and a Delete never fail because the copy is gone."""

from __future__ import annotations

from typing import Any

from emulator import custom_labels
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
