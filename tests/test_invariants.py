"""The invariants module agrees with the handler (owner marker) and the README (the allowed causes)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from emulator import custom_labels
from emulator.cloudformation import CloudFormation, StackEvent
from tests.conftest import DEST_ACCOUNT, LATE, REGION, REPO, SOURCE_ACCOUNT, copy_template
from tests.explore.machine import DevShape, dev_template
from tests.invariants import ALLOWED_FAILURE_CAUSES, CLEANUP_KEY, OWNER_TAG, Monitor, allowed_cause, owner_of

sys.path.insert(0, str(REPO / "lambda"))
import contract  # noqa: E402 - the handler's modules, from its asset directory
from cfn import request_rule  # noqa: E402
from resources import copy_properties  # noqa: E402


def test_the_owner_marker_is_the_handlers():
    assert OWNER_TAG == contract.OWNER_TAG
    assert CLEANUP_KEY == request_rule.CLEANUP_KEY
    event = {
        "StackId": "arn:aws:cloudformation:us-east-1:222222222222:stack/prod/1",
        "LogicalResourceId": "Copy",
    }
    assert owner_of(event["StackId"], event["LogicalResourceId"]) == copy_properties.owner_of(event)


def test_the_readme_lists_every_allowed_cause():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for description in ALLOWED_FAILURE_CAUSES:
        assert f"  - {description};" in readme, description


def test_a_transient_reason_is_never_an_allowed_cause():
    assert allowed_cause("CopyProjectVersion failed: AccessDeniedException: not allowed.") is not None
    assert allowed_cause("Rekognition kept throttling after retries; deploy again later.") is None
    assert allowed_cause("LimitExceededException after ThrottlingException") is None


@pytest.mark.own_invariants
def test_a_version_left_with_the_stacks_marker_is_an_i3_violation(clock, source_version):
    with CloudFormation(clock) as cloud:
        custom_labels.set_clock(cloud.runtime.service_clock())
        monitor = Monitor().attach(cloud)
        stack = cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
        assert stack.create(copy_template(source_version)) == "CREATE_COMPLETE"
        client = cloud.session(DEST_ACCOUNT, REGION).client("rekognition")
        # a second version made by hand, carrying the copy's owner marker: the stack's Delete does not know it
        other = client.copy_project_version(
            SourceProjectArn=source_version[0],
            SourceProjectVersionArn=source_version[1],
            DestinationProjectArn=stack.resources["Project"].attributes["Arn"],
            VersionName="stray",
            OutputConfig={"S3Bucket": stack.resources["Output"].physical_id, "S3KeyPrefix": "x/"},
            Tags={OWNER_TAG: owner_of(stack.stack_id, "ModelCopy")},
        )["ProjectVersionArn"]
        stack.template["Resources"]["Project"]["DeletionPolicy"] = "Retain"  # the project may keep it
        stack.resources["Project"].deletion_policy = "Retain"
        stack.delete()
        cloud.settle(LATE)
        found = monitor.finish()
    assert any(i == "I3" and other in text for i, text in found), found


@pytest.mark.own_invariants
def test_a_cleanup_may_remove_only_the_versions_of_the_resource_its_input_names(clock, source_version):
    with CloudFormation(clock) as cloud:
        custom_labels.set_clock(cloud.runtime.service_clock())
        monitor = Monitor().attach(cloud)
        stack = cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
        assert stack.create(copy_template(source_version)) == "CREATE_COMPLETE"
        copy = stack.resources["ModelCopy"].physical_id
        mine = owner_of(stack.stack_id, "ModelCopy")

        def cleanup(logical_id: str) -> dict[str, str]:
            return {CLEANUP_KEY: "rmc-x", "StackId": stack.stack_id, "LogicalResourceId": logical_id}

        left = copy.rsplit("/", 1)[0] + "/1"  # a copy of the resource that the stack does not hold
        monitor._check_removal("delete_project_version", left, cleanup("ModelCopy"), mine)
        assert monitor.violations == []
        monitor._check_removal("stop_project_version", left, cleanup("ModelCopy"), owner_of("other", "X"))
        monitor._check_removal("delete_project_version", left, cleanup("Unknown"), mine)
        monitor._check_removal("delete_project_version", left, cleanup("ModelCopy"), "")
        # the copy the stack holds: never by a cleanup, even its own resource's
        monitor._check_removal("delete_project_version", copy, cleanup("ModelCopy"), mine)
        found = monitor.finish()
    assert [(i, t.split(" ", 3)[-1]) for i, t in found] == [
        ("I2", f"stopped {left}, which another resource owns"),
        ("I2", f"deleted {left} for a resource no request named"),
        ("I2", f"deleted {left}, which carries no owner marker"),
        ("I2", f"deleted {copy}, the copy prod holds as ModelCopy"),
    ]


def _policy_stacks(clock: Any, on_event: Any) -> tuple[CloudFormation, Monitor, Any, Any]:
    """The source account's policy stack (tests/explore's template) under a monitor."""
    cloud = CloudFormation(clock, on_event=on_event)
    custom_labels.set_clock(cloud.runtime.service_clock())
    monitor = Monitor().attach(cloud)
    project, v1 = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v1")
    stack = cloud.stack("dev", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    assert stack.create(dev_template(DevShape(), project, {"v1": v1})) == "CREATE_COMPLETE"
    return cloud, monitor, stack, (project, v1)


def _rewrite(cloud: CloudFormation, project: str, delete: bool) -> None:
    client = cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition")
    for policy in client.list_project_policies(ProjectArn=project)["ProjectPolicies"]:
        if delete:
            client.delete_project_policy(ProjectArn=project, PolicyName=policy["PolicyName"])
        else:
            client.put_project_policy(
                ProjectArn=project,
                PolicyName=policy["PolicyName"],
                PolicyRevisionId=policy["PolicyRevisionId"],
                PolicyDocument=policy["PolicyDocument"].replace(DEST_ACCOUNT, "999999999999"),
            )


@pytest.mark.own_invariants
@pytest.mark.parametrize("when", ["before", "during", "after_answer", "after_mending"])
def test_a_destination_denied_during_a_policy_update_is_an_i4_violation_unless_denied_before(clock, when):
    # "before": the policy rewritten by hand before the update began (drift, not the update's to keep);
    # "during": deleted by hand while the update runs; "after_answer": deleted as the resource answered
    # its Update, so the put it reported did not hold; "after_mending": deleted by hand before the update,
    # put again by it, then deleted in the update's cleanup phase (the update's own put must hold).
    hooks: dict[tuple[str, str], Any] = {}

    def on_event(event: StackEvent) -> None:
        hook = hooks.get((event.logical_id, event.status))
        if hook:
            hook()

    cloud, monitor, stack, (project, v1) = _policy_stacks(clock, on_event)
    with cloud:
        if when == "before":
            _rewrite(cloud, project, delete=False)
        elif when == "during":
            hooks[("Policy", "UPDATE_IN_PROGRESS")] = lambda: _rewrite(cloud, project, delete=True)
        elif when == "after_answer":
            hooks[("Policy", "UPDATE_COMPLETE")] = lambda: _rewrite(cloud, project, delete=True)
        else:
            _rewrite(cloud, project, delete=True)
            hooks[("dev", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")] = lambda: _rewrite(
                cloud, project, delete=True
            )
        assert stack.update(dev_template(DevShape(bar=0.5), project, {"v1": v1})) == "UPDATE_COMPLETE"
        found = [text for invariant, text in monitor.violations if invariant == "I4"]
        monitor.detach()
    if when == "before":
        assert found == []
    else:
        assert found and all(f"::{DEST_ACCOUNT}:root may not copy {v1}" in text for text in found), found
