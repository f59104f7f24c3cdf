"""The real handler, driven through CloudFormation's lifecycle on emulated Rekognition.

Assertions are on what a user sees: stack events and statuses, the emulated model versions, and the
responses CloudFormation received. The ``cloud`` fixture fails any test that broke the protocol (more
than one response, a polling rule left behind, a malformed body).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from emulator import custom_labels
from emulator.templates import function_role
from tests.conftest import DEST_ACCOUNT, REGION, REPO, SOURCE_ACCOUNT, copy_template
from tests.handler.conftest import reasons, statuses, versions


def test_create_waits_for_the_copy_and_answers_with_the_version(cloud, deploy, source_version, clock):
    custom_labels.config.copy_duration = 180
    started = clock.now()
    stack = deploy(copy_template(source_version))

    assert stack.status == "CREATE_COMPLETE"
    copy = stack.resources["ModelCopy"]
    assert "/version/defects-prod-1/" in copy.physical_id
    assert copy.attributes == {
        "ProjectVersionArn": copy.physical_id,
        "VersionName": "defects-prod-1",
        "Status": "COPYING_COMPLETED",
    }
    version = versions(stack)["defects-prod-1"]
    assert version["Status"] == "COPYING_COMPLETED"
    assert version["SourceProjectVersionArn"] == source_version[1]
    assert version["OutputConfig"]["S3KeyPrefix"] == "copies/defects-prod-1/"
    # the fast path notices the end of a 3-minute copy within 10 s, in the first invocation
    complete = next(e for e in cloud.events if e.logical_id == "ModelCopy" and e.status == "CREATE_COMPLETE")
    assert 180 <= complete.time - started <= 180 + 10
    assert [i.poll for i in cloud.invocations] == [False]


def test_a_long_copy_hands_over_to_the_schedule_and_is_seen_within_65_s(cloud, deploy, source_version, clock):
    custom_labels.config.copy_duration = 50 * 60
    started = clock.now()
    stack = deploy(copy_template(source_version))

    assert stack.status == "CREATE_COMPLETE"
    complete = next(e for e in cloud.events if e.logical_id == "ModelCopy" and e.status == "CREATE_COMPLETE")
    assert 50 * 60 <= complete.time - started <= 50 * 60 + 65
    polls = [i for i in cloud.invocations if i.poll]
    assert 38 <= len(polls) <= 42  # one a minute after the 10-minute fast path
    assert cloud.invocations[0].duration <= 600 + 10  # the first invocation stops waiting at 10 minutes


def test_copy_failed_fails_the_create_with_the_service_message_and_rollback_removes_it(
    cloud, deploy, source_version
):
    custom_labels.faults.fail_next_copy(status_message="The model artifacts could not be read.")
    stack = deploy(copy_template(source_version))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert statuses(cloud) == ["CREATE_IN_PROGRESS", "CREATE_FAILED", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert "COPYING_FAILED" in reasons(cloud)
    assert "The model artifacts could not be read." in reasons(cloud)
    assert versions(stack) == {}  # the failed copy this resource made is gone


def test_tags_change_in_place_keeps_the_physical_id(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, tags={"team": "vision", "stage": "prod"}))
    before = stack.resources["ModelCopy"].physical_id

    assert (
        stack.update(copy_template(source_version, tags={"team": "quality", "cost": "ml"}))
        == "UPDATE_COMPLETE"
    )

    assert stack.resources["ModelCopy"].physical_id == before
    tags = stack.session().client("rekognition").list_tags_for_resource(ResourceArn=before)["Tags"]
    owner = tags.pop("rekognition-model-copy:owner")  # the resource's own marker survives tag updates
    assert tags == {"team": "quality", "cost": "ml"} and len(owner) == 40
    assert len(versions(stack)) == 1


def test_new_version_name_replaces_the_copy_and_deletes_the_old_one(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, version_name="defects-prod-1"))
    old = stack.resources["ModelCopy"].physical_id

    assert stack.update(copy_template(source_version, version_name="defects-prod-2")) == "UPDATE_COMPLETE"

    new = stack.resources["ModelCopy"].physical_id
    assert new != old and "/version/defects-prod-2/" in new
    assert set(versions(stack)) == {"defects-prod-2"}
    assert statuses(cloud)[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]  # cleanup of the old copy


def test_new_source_with_the_same_version_name_fails_clearly_and_keeps_the_old_copy(
    cloud, deploy, source_version
):
    stack = deploy(copy_template(source_version))
    old = stack.resources["ModelCopy"].physical_id
    other = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects-2", "defects.v2")

    assert stack.update(copy_template(other)) == "UPDATE_ROLLBACK_COMPLETE"

    assert "give the copy a new version name" in reasons(cloud).lower()
    assert stack.resources["ModelCopy"].physical_id == old
    assert versions(stack)["defects-prod-1"]["Status"] == "COPYING_COMPLETED"


def test_delete_stops_a_running_model_first(cloud, deploy, source_version, clock):
    stack = deploy(copy_template(source_version))
    arn = stack.resources["ModelCopy"].physical_id
    client = stack.session().client("rekognition")
    client.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    clock.advance(600)
    assert versions(stack)["defects-prod-1"]["Status"] == "RUNNING"

    assert stack.delete() == "DELETE_COMPLETE"

    assert versions(stack) == {}
    assert custom_labels.calls.count("StopProjectVersion", DEST_ACCOUNT) == 1


def test_retain_keeps_the_model_when_the_stack_is_deleted(cloud, deploy, source_version):
    template = copy_template(source_version, deletion_policy="Retain")
    template["Resources"]["Project"]["DeletionPolicy"] = "Retain"  # a project with versions cannot go
    stack = deploy(template)

    assert stack.delete() == "DELETE_COMPLETE"

    assert statuses(cloud)[-1] == "DELETE_SKIPPED"
    assert versions(stack)["defects-prod-1"]["Status"] == "COPYING_COMPLETED"


def test_retain_with_the_project_in_the_stack_fails_the_delete_on_the_project(cloud, deploy, source_version):
    stack = deploy(copy_template(source_version, deletion_policy="Retain"))

    assert stack.delete() == "DELETE_FAILED"  # as in CloudFormation: the retained model keeps its project

    assert versions(stack)["defects-prod-1"]["Status"] == "COPYING_COMPLETED"


def test_delete_of_a_version_already_gone_succeeds(cloud, deploy, source_version, clock):
    stack = deploy(copy_template(source_version))
    arn = stack.resources["ModelCopy"].physical_id
    stack.session().client("rekognition").delete_project_version(ProjectVersionArn=arn)
    clock.advance(600)

    assert stack.delete() == "DELETE_COMPLETE"


def test_missing_property_fails_with_a_reason_naming_it_and_rollback_succeeds(cloud, deploy, source_version):
    template = copy_template(source_version)
    del template["Resources"]["ModelCopy"]["Properties"]["VersionName"]

    stack = deploy(template)

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "VersionName is required" in reasons(cloud)
    assert statuses(cloud)[-1] == "DELETE_COMPLETE"  # Delete after a failed Create: nothing to remove


def test_cross_account_copy_is_denied_without_a_project_policy(cloud, deploy):
    source = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "defects.v1")

    stack = deploy(copy_template(source))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "AccessDeniedException" in reasons(cloud)
    assert "project policy" in reasons(cloud)


def test_cross_account_copy_succeeds_with_a_policy_for_the_copy_role(cloud, deploy):
    source = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "defects.v1")
    template = copy_template(source)
    template["Resources"]["Role"]["Properties"]["RoleName"] = "prod-model-copy"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEST_ACCOUNT}:role/prod-model-copy"},
                "Action": "rekognition:CopyProjectVersion",
                "Resource": source[1],
            }
        ],
    }
    # A role principal must exist when the policy is put: the role first, then the policy, then the copy.
    without_copy = {"Resources": {k: v for k, v in template["Resources"].items() if k != "ModelCopy"}}
    stack = deploy(without_copy)
    cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition").put_project_policy(
        ProjectArn=source[0], PolicyName="promote-to-prod", PolicyDocument=json.dumps(policy)
    )

    assert stack.update(template) == "UPDATE_COMPLETE"
    assert versions(stack)["defects-prod-1"]["SourceProjectVersionArn"] == source[1]


@pytest.mark.parametrize("delete_while_copying", [False, True])
def test_the_service_timeout_fails_a_long_copy_and_the_delete_waits_for_it_to_end(
    cloud, deploy, source_version, clock, delete_while_copying
):
    # whether Rekognition would delete a copy in progress is undocumented: the Delete asks; when it is
    # refused, it waits for the copy to end (the stack deletes the project next)
    custom_labels.config.copy_duration = 15 * 60
    custom_labels.config.delete_while_copying_allowed = delete_while_copying
    started = clock.now()

    stack = deploy(copy_template(source_version, service_timeout=600))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert "Gave up waiting" in reasons(cloud) and "COPYING_IN_PROGRESS" in reasons(cloud)
    failed = next(e for e in cloud.events if e.logical_id == "ModelCopy" and e.status == "CREATE_FAILED")
    assert failed.time - started <= 600 - 15  # our own deadline answered before CloudFormation gave up
    deleted = next(e for e in cloud.events if e.logical_id == "ModelCopy" and e.status == "DELETE_COMPLETE")
    if not delete_while_copying:
        assert deleted.time - started >= 15 * 60  # the rollback's Delete waited for the copy to end
    assert versions(stack) == {}


def test_logs_never_show_the_response_url(cloud, deploy, source_version, caplog):
    caplog.set_level(logging.DEBUG)
    deploy(copy_template(source_version))
    assert "X-Amz-Signature" not in caplog.text
    assert "ResponseURL" not in caplog.text


def test_polling_rule_names_fit_eventbridge_for_long_logical_ids(cloud, deploy, source_version):
    custom_labels.config.copy_duration = 50 * 60  # beyond the fast path: a polling rule is made
    logical_id = "ModelCopy" + "X" * 200
    stack = deploy(copy_template(source_version, logical_id=logical_id))
    assert stack.status == "CREATE_COMPLETE"
    assert any(i.poll for i in cloud.invocations) and cloud.peak_rules == 1


def test_unknown_resource_type_fails_create_and_lets_delete_pass(cloud, clock):
    template: dict[str, Any] = {
        "Resources": {
            "Role": function_role(),
            "Handler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Timeout": 60},
                "Metadata": {"aws:asset:path": "lambda"},
            },
            "Thing": {
                "Type": "Custom::Unknown",
                "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}},
            },
        }
    }
    stack = cloud.stack("odd", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    stack.create(template)
    assert stack.status == "ROLLBACK_COMPLETE"
    assert "serves Custom::RekognitionModelCopy, Custom::RekognitionProjectPolicy" in reasons(cloud, "Thing")
    assert [e.status for e in cloud.events if e.logical_id == "Thing"][-1] == "DELETE_COMPLETE"


def test_copies_in_one_stack_run_concurrently_in_simulated_time(cloud, deploy, source_version, clock):
    custom_labels.config.copy_duration = 180
    template = copy_template(source_version, version_name="defects-prod-a", logical_id="CopyA")
    second = copy_template(source_version, version_name="defects-prod-b", logical_id="CopyB")
    template["Resources"]["CopyB"] = second["Resources"]["CopyB"]
    started = clock.now()

    stack = deploy(template)

    assert stack.status == "CREATE_COMPLETE"
    done = [
        e.time - started
        for e in cloud.events
        if e.status == "CREATE_COMPLETE" and e.logical_id in ("CopyA", "CopyB")
    ]
    assert len(done) == 2 and all(180 <= t <= 190 for t in done)  # side by side, not one after the other
    handler = next(f for f in cloud.functions.values())
    assert handler.cold_starts == 2  # two sandboxes, as Lambda would run two concurrent invocations
