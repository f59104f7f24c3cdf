"""A copy moved to another destination project: CloudFormation narrows the function's role to the new
project before its cleanup deletes the old copy. The role's statements on versions carrying the owner
marker (``permissions.OWNED_VERSION_ACTIONS``) let that Delete remove it all the same."""

from __future__ import annotations

import json
from typing import Any

from emulator.templates import LAMBDA_TRUST
from rekognition_model_copy import permissions
from tests.conftest import copy_template
from tests.handler.conftest import rules_left, versions

SUB = "arn:aws:{}:us-east-1:${{AWS::AccountId}}:"


def narrowed_policy(project_name: str) -> dict[str, Any]:
    """The role policy the construct renders for one copy into ``project_name`` (by name patterns)."""
    project = SUB.format("rekognition") + f"project/{project_name}"
    statements = [
        *permissions.copy_statements(
            source_project_arns=[SUB.format("rekognition") + "project/dev-defects/*"],
            source_version_arns=[SUB.format("rekognition") + "project/dev-defects/version/*"],
            destination_project_arns=[project + "/*"],
            destination_version_arns=[project + "/version/*"],
            bucket_arns=["arn:aws:s3:::*"],
            object_arns=["arn:aws:s3:::*/*"],
        ),
        *permissions.polling_statements([SUB.format("events") + "rule/*"]),
    ]
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": s.sid,
                "Effect": "Allow",
                "Action": list(s.actions),
                "Resource": [{"Fn::Sub": r} if "${" in r else r for r in s.resources],
                **({"Condition": json.loads(json.dumps(s.conditions))} if s.conditions else {}),
            }
            for s in statements
        ],
    }
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyName": "model-copy", "PolicyDocument": document, "Roles": [{"Ref": "Role"}]},
    }


def template(source: tuple[str, str], project: str) -> dict[str, Any]:
    built = copy_template(source)
    resources = built["Resources"]
    resources["Project"]["Properties"]["ProjectName"] = "prod-defects"
    resources["OtherProject"] = {"Type": "AWS::Rekognition::Project", "Properties": {"ProjectName": "prod-b"}}
    resources["Role"] = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": LAMBDA_TRUST}}
    resources["RolePolicy"] = narrowed_policy("prod-defects" if project == "Project" else "prod-b")
    resources["Handler"]["DependsOn"] = ["RolePolicy"]
    copy = resources["ModelCopy"]
    copy["Properties"]["DestinationProjectArn"] = {"Fn::GetAtt": [project, "Arn"]}
    copy["DependsOn"] = ["RolePolicy"]
    return built


def test_moving_a_copy_to_another_project_deletes_the_old_copy(cloud, deploy, source_version):
    stack = deploy(template(source_version, "Project"))
    assert stack.status == "CREATE_COMPLETE"
    old = stack.resources["ModelCopy"].physical_id

    assert stack.update(template(source_version, "OtherProject")) == "UPDATE_COMPLETE"

    assert stack.resources["ModelCopy"].physical_id != old
    assert versions(stack, "prod-defects") == {}  # the old copy is gone
    assert set(versions(stack, "prod-b")) == {"defects-prod-1"}
    assert stack.delete() == "DELETE_COMPLETE"
    assert rules_left(cloud) == []
