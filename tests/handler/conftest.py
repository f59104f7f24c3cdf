"""Helpers shared by the handler tests: the polling rules left, a later resource that fails (a rollback), a
stack prepared for tests that send the custom resource's requests themselves, the source account's project
policy template, and (re-exported from the root conftest) the stack events and the destination project's
versions. Plain functions: import them from here. The ``full_bus`` fixture turns EventBridge's rules quota
on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator import eventbridge
from emulator.templates import function_role, without_lambda_retries
from tests.conftest import DEST_ACCOUNT, REGION, REPO, SOURCE_ACCOUNT, copy_template
from tests.conftest import reasons as reasons
from tests.conftest import statuses as statuses
from tests.conftest import versions as versions


def rules_left(cloud: Any) -> list[str]:
    """The EventBridge rules that exist in the destination account."""
    client = cloud.session(DEST_ACCOUNT, REGION).client("events")
    return [r["Name"] for r in client.list_rules()["Rules"]]


def cleanups_left(cloud: Any) -> list[str]:
    """The rules left as the schedule of a cleanup (a copy still in progress to delete later)."""
    client = cloud.session(DEST_ACCOUNT, REGION).client("events")
    return [r["Name"] for r in client.list_rules()["Rules"] if r.get("Description") == "cleanup"]


def failing_later(template: dict[str, Any]) -> dict[str, Any]:
    """The template with a resource after the copy that the handler refuses: the update rolls back."""
    template["Resources"]["Breaker"] = {
        "Type": "Custom::RekognitionModelCopy",
        "DependsOn": "ModelCopy",
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}, "VersionName": "bad name!"},
    }
    return template


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
    """The source (dev) account's side of a promotion: the backing function (no Lambda retries, as the
    construct's) and the policy resource."""
    template: dict[str, Any] = {
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
    return without_lambda_retries(template)


def deploy_dev(cloud: Any, template: dict[str, Any]) -> Any:
    """Create the source (dev) account's stack from ``template``."""
    stack = cloud.stack("dev", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
    stack.create(template)
    return stack


def policies(client: Any, project_arn: str) -> dict[str, dict[str, Any]]:
    """The project's policies in the emulator, by name."""
    found = client.list_project_policies(ProjectArn=project_arn)["ProjectPolicies"]
    return {p["PolicyName"]: p for p in found}


def granted(document: str) -> Any:
    """A stored policy document as parsed JSON without the handler's marks (the Sid of the request that
    put it, ``RMCput...``, or of the resources sharing it, ``RMCshared...``): what it grants."""
    parsed = json.loads(document)
    statements = parsed.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict) and str(statement.get("Sid", "")).startswith(("RMCput", "RMCshared")):
            del statement["Sid"]
    return parsed


def pytest_configure(config: Any) -> None:
    from tests.variants import register

    register(config)


@pytest.fixture
def full_bus(cloud):
    """Turns EventBridge's rules quota on (5 rules per bus here), and fills the destination account's
    default bus with other rules up to it: call it when the test wants the quota reached."""
    eventbridge.set_rules_quota(5)
    events = cloud.session(DEST_ACCOUNT, REGION).client("events")

    def fill() -> list[str]:
        present = len(events.list_rules()["Rules"])
        return eventbridge.fill_rules(DEST_ACCOUNT, REGION, 5 - present)

    yield fill
    eventbridge.set_rules_quota(None)
