"""Serving the promoted model: MinInferenceUnits / MaxInferenceUnits on Custom::RekognitionModelCopy."""

from __future__ import annotations

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, copy_template
from tests.handler.conftest import reasons, versions


def serving(source, min_units: int | None, max_units: int | None = None, **kwargs):
    extra = {}
    if min_units is not None:
        extra["MinInferenceUnits"] = min_units
    if max_units is not None:
        extra["MaxInferenceUnits"] = max_units
    return copy_template(source, extra=extra, **kwargs)


def test_the_copy_is_started_and_the_create_waits_for_running(cloud, deploy, source_version):
    stack = deploy(serving(source_version, 1))

    assert stack.status == "CREATE_COMPLETE"
    assert stack.resources["ModelCopy"].attributes["Status"] == "RUNNING"
    version = versions(stack)["defects-prod-1"]
    assert version["Status"] == "RUNNING" and version["MinInferenceUnits"] == 1


def test_new_units_restart_the_model_in_place(cloud, deploy, source_version):
    stack = deploy(serving(source_version, 1))
    arn = stack.resources["ModelCopy"].physical_id

    assert stack.update(serving(source_version, 2, 3)) == "UPDATE_COMPLETE"

    assert stack.resources["ModelCopy"].physical_id == arn
    version = versions(stack)["defects-prod-1"]
    assert (version["Status"], version["MinInferenceUnits"], version["MaxInferenceUnits"]) == (
        "RUNNING",
        2,
        3,
    )
    assert custom_labels.calls.count("StopProjectVersion", DEST_ACCOUNT) == 1
    assert custom_labels.calls.count("StartProjectVersion", DEST_ACCOUNT) == 2


def test_removing_the_units_stops_the_model(cloud, deploy, source_version):
    stack = deploy(serving(source_version, 1))

    assert stack.update(serving(source_version, None)) == "UPDATE_COMPLETE"

    assert versions(stack)["defects-prod-1"]["Status"] == "STOPPED"
    assert stack.resources["ModelCopy"].attributes["Status"] == "STOPPED"


def test_a_start_that_fails_fails_the_create_and_the_rollback_removes_the_copy(cloud, deploy, source_version):
    custom_labels.faults.inject("StartProjectVersion", "ResourceNotFoundException", times=None)

    stack = deploy(serving(source_version, 1))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "StartProjectVersion failed" in reasons(cloud)
    custom_labels.faults.clear()
    assert versions(stack) == {}


def test_invalid_units_are_rejected_with_a_reason(cloud, deploy, source_version):
    stack = deploy(serving(source_version, 3, 2))
    assert stack.status == "ROLLBACK_COMPLETE"
    assert "MaxInferenceUnits" in reasons(cloud)


def test_a_running_model_is_stopped_then_deleted_with_the_stack(cloud, deploy, source_version):
    stack = deploy(serving(source_version, 1))
    assert stack.delete() == "DELETE_COMPLETE"
    assert versions(stack) == {}
