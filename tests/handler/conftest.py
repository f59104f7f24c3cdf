"""Readers of the emulated state shared by the handler tests: the stack events of a resource, the
destination project's versions, the polling rules left; a stack prepared for tests that send the
custom resource's requests themselves; the source account's project policy template. Plain functions:
import them from here."""

from __future__ import annotations

import json
from typing import Any

from emulator.templates import function_role
from tests.conftest import DEST_ACCOUNT, REGION, REPO, SOURCE_ACCOUNT, copy_template


def versions(stack: Any, project_name: str = "prod-defects") -> dict[str, dict[str, Any]]:
    """The destination project's versions in the emulator, by name ({} once the project is deleted:
    the emulator refuses to delete a project that still has versions)."""
    client = stack.session().client("rekognition")
    found = client.describe_projects(ProjectNames=[project_name])["ProjectDescriptions"]
    if not found:
        return {}
    listed = client.describe_project_versions(ProjectArn=found[0]["ProjectArn"])["ProjectVersionDescriptions"]
    return {d["ProjectVersionArn"].split("/")[-2]: d for d in listed}


def statuses(cloud: Any, logical_id: str = "ModelCopy") -> list[str]:
    """The resource's stack event statuses, in order."""
    return [e.status for e in cloud.events if e.logical_id == logical_id]


def reasons(cloud: Any, logical_id: str = "ModelCopy") -> str:
    """The resource's stack event Reasons, joined."""
    return " | ".join(e.reason for e in cloud.events if e.logical_id == logical_id and e.reason)


def rules_left(cloud: Any) -> list[str]:
    """The EventBridge rules that exist in the destination account."""
    client = cloud.session(DEST_ACCOUNT, REGION).client("events")
    return [r["Name"] for r in client.list_rules()["Rules"]]


def prepared(cloud: Any, source: tuple[str, str], name: str = "prod") -> Any:
    """A stack with everything but the custom resource, for tests that send its requests themselves."""
    stack = cloud.stack(name, account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    stack.deploy_plain_resources(copy_template(source))
    return stack


def policy_document(version_arn: str, principal: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": "rekognition:CopyProjectVersion",
                    "Resource": version_arn,
                }
            ],
        }
    )


def policy_template(project_arn: str, document: str, name: str = "promote-to-prod") -> dict[str, Any]:
    """The source (dev) account's side of a promotion: the backing function and the policy resource."""
    return {
        "Resources": {
            "Role": function_role(),
            "Handler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Timeout": 900},
                "Metadata": {"aws:asset:path": "lambda"},
            },
            "Policy": {
                "Type": "Custom::RekognitionProjectPolicy",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
                    "ProjectArn": project_arn,
                    "PolicyName": name,
                    "PolicyDocument": document,
                },
            },
        }
    }


def deploy_dev(cloud: Any, template: dict[str, Any]) -> Any:
    """Create the source (dev) account's stack from ``template``."""
    stack = cloud.stack("dev", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    stack.create(template)
    return stack


def policies(client: Any, project_arn: str) -> dict[str, dict[str, Any]]:
    """The project's policies in the emulator, by name."""
    found = client.list_project_policies(ProjectArn=project_arn)["ProjectPolicies"]
    return {p["PolicyName"]: p for p in found}
