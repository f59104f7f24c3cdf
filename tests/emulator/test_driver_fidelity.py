"""The driver plays CloudFormation for ordinary resources too: updated in place or replaced as the resource
reference says, a Delete of one already gone counts as done, and a template value CloudFormation refuses
fails the stack (no crash, no request). The small probe handler of test_driver.py serves the custom
resources; the ordinary ones are in moto and the Custom Labels emulator."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import pytest

from emulator.cloudformation import CloudFormation
from tests.conftest import DEST_ACCOUNT, REGION, REPO
from tests.emulator.test_driver import _sent, _stack, _stack_statuses, asset, template

__all__ = ["asset"]  # the fixture, re-used


def _with_project(asset: Path, name: str = "prod-defects") -> dict[str, Any]:
    """A probe whose Id is the project's ARN: a change of the project shows in the probe's properties."""
    body = template(asset, {"Probe": {"Id": {"Fn::GetAtt": ["Project", "Arn"]}}})
    body["Resources"]["Project"] = {"Type": "AWS::Rekognition::Project", "Properties": {"ProjectName": name}}
    return body


def _projects(cloud: CloudFormation) -> list[str]:
    client = cloud.session(DEST_ACCOUNT, REGION).client("rekognition")
    return sorted(p["ProjectArn"].split("/")[1] for p in client.describe_projects()["ProjectDescriptions"])


def test_a_new_project_name_replaces_the_project_and_cleanup_deletes_the_old_one(cloud, asset):
    stack = cloud.stack("probe", account_id=DEST_ACCOUNT, region=REGION, asset_root=asset.parent)
    stack.create(_with_project(asset))

    assert stack.update(_with_project(asset, "prod-defects-b")) == "UPDATE_COMPLETE"

    assert _projects(cloud) == ["prod-defects-b"]
    assert "prod-defects-b" in stack.resources["Project"].attributes["Arn"]
    update = cloud.sent_requests("Probe", "Update")[-1]
    assert "prod-defects-b" in update.event["ResourceProperties"]["Id"]  # dependents see the new one
    project_events = [(e.status, e.reason[:20]) for e in cloud.events if e.logical_id == "Project"]
    assert ("UPDATE_IN_PROGRESS", "Requested update req") in project_events
    assert project_events[-1][0] == "DELETE_COMPLETE"  # the old project, in the cleanup


def test_a_replacement_is_undone_by_a_rollback_and_the_new_resource_deleted(cloud, asset):
    stack = cloud.stack("probe", account_id=DEST_ACCOUNT, region=REGION, asset_root=asset.parent)
    stack.create(_with_project(asset))
    failing = _with_project(asset, "prod-defects-b")
    failing["Resources"]["Probe"]["Properties"]["OnUpdate"] = "fail"

    assert stack.update(failing) == "UPDATE_ROLLBACK_COMPLETE"

    assert _projects(cloud) == ["prod-defects"]
    assert "prod-defects/" in stack.resources["Project"].attributes["Arn"]


def test_a_roles_inline_policies_are_updated_in_place(cloud, asset):
    body = template(asset, {"Probe": {"Id": "p-1"}})
    body["Resources"]["Role"]["Properties"]["Policies"] = [
        {
            "PolicyName": "old",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            },
        }
    ]
    stack = cloud.stack("probe", account_id=DEST_ACCOUNT, region=REGION, asset_root=asset.parent)
    stack.create(body)
    role = stack.resources["Role"].physical_id
    changed = copy.deepcopy(body)
    changed["Resources"]["Role"]["Properties"]["Policies"] = [
        {
            "PolicyName": "new",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
            },
        }
    ]

    assert stack.update(changed) == "UPDATE_COMPLETE"

    iam = cloud.session(DEST_ACCOUNT, REGION).client("iam")
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["new"]
    assert stack.resources["Role"].physical_id == role  # in place: the same role


def test_a_functions_environment_is_updated_in_place(cloud, asset):
    body = template(asset, {"Probe": {"Id": "p-1"}})
    stack = cloud.stack("probe", account_id=DEST_ACCOUNT, region=REGION, asset_root=asset.parent)
    stack.create(body)
    changed = copy.deepcopy(body)
    changed["Resources"]["Handler"]["Properties"]["Environment"] = {"Variables": {"MODE": "strict"}}
    changed["Resources"]["Handler"]["Properties"]["Timeout"] = 120

    assert stack.update(changed) == "UPDATE_COMPLETE"

    (function,) = cloud.functions.values()
    assert function.environment == {"MODE": "strict"} and function.timeout == 120


def test_a_plain_resource_deleted_by_hand_counts_as_deleted(cloud, asset):
    stack = cloud.stack("probe", account_id=DEST_ACCOUNT, region=REGION, asset_root=asset.parent)
    stack.create(_with_project(asset))
    client = cloud.session(DEST_ACCOUNT, REGION).client("rekognition")
    client.delete_project(ProjectArn=stack.resources["Project"].attributes["Arn"])

    assert stack.delete() == "DELETE_COMPLETE"


@pytest.mark.parametrize("value", ["abc", "0", "3601", "1.5"])
def test_a_service_timeout_cloudformation_refuses_fails_the_stack(cloud, asset, value):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1", "ServiceTimeout": value}})

    assert stack.status == "ROLLBACK_COMPLETE"
    assert _sent(cloud) == []  # nothing invoked
    (failed,) = [e for e in cloud.events if e.status == "CREATE_FAILED"]
    assert "ServiceTimeout must be an integer from 1 to 3600" in failed.reason
    assert _stack_statuses(cloud)[-1] == "ROLLBACK_COMPLETE"


def test_an_update_to_a_service_timeout_cloudformation_refuses_rolls_back(cloud, asset):
    stack = _stack(cloud, asset, {"Probe": {"Id": "p-1"}})
    assert stack.update(template(asset, {"Probe": {"Id": "p-2", "ServiceTimeout": "abc"}})) == (
        "UPDATE_ROLLBACK_COMPLETE"
    )
    assert [t for _, t, _ in _sent(cloud)] == ["Create"]


def _imports(path: Path, package: str) -> set[str]:
    """The sibling modules of ``package`` a module imports (TYPE_CHECKING imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found.update([node.module] if node.module else [a.name for a in node.names])
            elif node.module and node.module.startswith(package + "."):
                found.add(node.module.split(".")[2])
    return found - {"__init__"}


def test_the_driver_package_has_no_import_cycle():
    package = REPO / "emulator" / "cloudformation"
    graph = {
        p.stem: _imports(p, "emulator.cloudformation") for p in package.glob("*.py") if p.stem != "__init__"
    }

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for module in graph.get(start, ()):
            if module == target or (module not in seen and reaches(module, target, seen | {module})):
                return True
        return False

    cycles = sorted(module for module in graph if reaches(module, module, {module}))
    assert cycles == [], f"modules in an import cycle: {cycles} ({graph})"


@pytest.mark.parametrize("created", [True, False], ids=["condition true", "condition false"])
def test_a_resource_whose_condition_is_false_is_not_created(cloud, asset, created):
    """A resource's ``Condition`` (the Conditions section's name) decides whether CloudFormation creates it
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html)."""
    body: dict[str, Any] = {
        "Parameters": {"Make": {"Type": "String", "Default": "yes" if created else "no"}},
        "Conditions": {"MakeIt": {"Fn::Equals": [{"Ref": "Make"}, "yes"]}},
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Condition": "MakeIt",
                "Properties": {"BucketName": "probe-conditional"},
            }
        },
    }
    stack = cloud.stack("probe", account_id=DEST_ACCOUNT, region=REGION, asset_root=asset.parent)
    assert stack.create(body) == "CREATE_COMPLETE"
    buckets = cloud.session(DEST_ACCOUNT, REGION).client("s3").list_buckets()["Buckets"]
    assert ("probe-conditional" in {b["Name"] for b in buckets}) is created
    assert ("Bucket" in stack.resources) is created
    assert stack.delete() == "DELETE_COMPLETE"
