"""The emulator authorizes EventBridge calls like AWS: the caller's identity policies, on the rule's ARN.

The handler manages its polling rules (PutRule, DescribeRule, PutTargets, RemoveTargets, DeleteRule) with its
function role's credentials; the templates scope those actions to ``rule/<prefix>*``. moto's EventBridge
authorizes nothing, so without the emulator's check a call of a role whose policy was removed (or of a
deleted role) would succeed where AWS answers AccessDeniedException.

Roles are created in moto IAM with exactly the identity policy a test gives; calls go through real boto3
clients with the role's assumed-role credentials.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends

from emulator import custom_labels
from emulator.clock import SimulatedClock
from tests.emulator.test_authorization import as_role, denied, session_arn

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID  # where plain credentials act as the account root
PREFIX = "rmc-1a2b3c4d"
RULES = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{PREFIX}*"
POLLING = [
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:DeleteRule",
    "events:DescribeRule",
]
TARGET = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider"


def rule_arn(name: str, bus: str | None = None) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus + '/' if bus else ''}{name}"


def poller(*statements: dict[str, Any], name: str = "provider") -> Any:
    """An EventBridge client of role ``name`` with exactly ``statements`` (none: no policy at all)."""
    return as_role(ACCOUNT, name, *statements, service="events")


def the_templates_grant() -> dict[str, Any]:
    """The statement the templates give the handler's role: the polling actions on its rules."""
    return {"Effect": "Allow", "Action": POLLING, "Resource": RULES}


def polling_cycle(client: Any, name: str) -> None:
    """What the handler does with one polling rule: create it, target the function, read it, remove it."""
    arn = client.put_rule(Name=name, ScheduleExpression="rate(1 minute)", State="ENABLED")["RuleArn"]
    assert arn == rule_arn(name)
    client.put_targets(Rule=name, Targets=[{"Id": "1", "Arn": TARGET}])
    assert client.describe_rule(Name=name)["State"] == "ENABLED"
    client.remove_targets(Rule=name, Ids=["1"])
    client.delete_rule(Name=name)


@pytest.fixture
def root() -> Any:
    """An EventBridge client with plain credentials (the account root, as tests' setup code uses)."""
    return boto3.client("events", region_name=REGION)


def test_the_templates_permissions_allow_the_polling_rules(clock: SimulatedClock) -> None:
    polling_cycle(poller(the_templates_grant()), f"{PREFIX}-request")


def test_plain_credentials_stay_allowed(clock: SimulatedClock, root: Any) -> None:
    polling_cycle(root, "anything")
    root.put_rule(Name="other-0", ScheduleExpression="rate(1 day)", State="DISABLED")
    assert root.describe_rule(Name="other-0")["State"] == "DISABLED"


def test_a_role_without_policies_is_denied_with_aws_wording(clock: SimulatedClock, root: Any) -> None:
    root.put_rule(Name=f"{PREFIX}-x", ScheduleExpression="rate(1 minute)")
    message = denied(poller().describe_rule, Name=f"{PREFIX}-x")
    assert message == (
        f"User: {session_arn(ACCOUNT, 'provider')} is not authorized to perform: events:DescribeRule on "
        f"resource: {rule_arn(PREFIX + '-x')} because no identity-based policy allows the "
        "events:DescribeRule action"
    )


@pytest.mark.parametrize("action", POLLING)
def test_each_polling_action_is_needed(clock: SimulatedClock, root: Any, action: str) -> None:
    name = f"{PREFIX}-r"
    root.put_rule(Name=name, ScheduleExpression="rate(1 minute)")
    root.put_targets(Rule=name, Targets=[{"Id": "1", "Arn": TARGET}])
    client = poller({**the_templates_grant(), "Action": [a for a in POLLING if a != action]})
    calls = {
        "events:PutRule": lambda: client.put_rule(Name=name, ScheduleExpression="rate(2 minutes)"),
        "events:PutTargets": lambda: client.put_targets(Rule=name, Targets=[{"Id": "2", "Arn": TARGET}]),
        "events:RemoveTargets": lambda: client.remove_targets(Rule=name, Ids=["1"]),
        "events:DeleteRule": lambda: client.delete_rule(Name=name),
        "events:DescribeRule": lambda: client.describe_rule(Name=name),
    }
    assert f"perform: {action} on resource: {rule_arn(name)} " in denied(calls[action])
    assert root.describe_rule(Name=name)["ScheduleExpression"] == "rate(1 minute)"  # nothing changed
    assert [t["Id"] for t in root.list_targets_by_rule(Rule=name)["Targets"]] == ["1"]


def test_a_policy_scoped_to_the_prefix_denies_other_rules(clock: SimulatedClock, root: Any) -> None:
    client = poller(the_templates_grant())
    message = denied(client.put_rule, Name="someone-elses", ScheduleExpression="rate(1 minute)")
    assert f"events:PutRule on resource: {rule_arn('someone-elses')} because" in message
    root.put_rule(Name="someone-elses", ScheduleExpression="rate(1 minute)")
    denied(client.delete_rule, Name="someone-elses")
    assert root.describe_rule(Name="someone-elses")["Name"] == "someone-elses"  # still there
    # a rule of that name on another bus has the bus in its ARN: the prefix does not cover it
    root.create_event_bus(Name="custom")
    message = denied(
        client.put_rule, Name=f"{PREFIX}-x", EventBusName="custom", ScheduleExpression="rate(1 minute)"
    )
    assert f"resource: {rule_arn(PREFIX + '-x', 'custom')} because" in message


def test_list_rules_takes_no_resource(clock: SimulatedClock) -> None:
    scoped = poller({"Effect": "Allow", "Action": "events:ListRules", "Resource": RULES})
    assert "events:ListRules on resource: * because" in denied(scoped.list_rules, NamePrefix=PREFIX)
    anywhere = poller({"Effect": "Allow", "Action": "events:ListRules", "Resource": "*"}, name="lister")
    assert anywhere.list_rules(NamePrefix=PREFIX)["Rules"] == []


def test_an_explicit_deny_wins(clock: SimulatedClock) -> None:
    client = poller(
        {"Effect": "Allow", "Action": "events:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "events:DeleteRule", "Resource": rule_arn(f"{PREFIX}-kept")},
    )
    client.put_rule(Name=f"{PREFIX}-kept", ScheduleExpression="rate(1 minute)")
    assert "with an explicit deny in an identity-based policy" in denied(
        client.delete_rule, Name=f"{PREFIX}-kept"
    )


def test_a_deleted_role_is_allowed_nothing(clock: SimulatedClock) -> None:
    """A still-running invocation after CloudFormation deleted the function's role."""
    client = poller(the_templates_grant())
    client.put_rule(Name=f"{PREFIX}-x", ScheduleExpression="rate(1 minute)")
    backend = iam_backends[ACCOUNT]["aws"]
    backend.get_role("provider").policies.clear()
    backend.delete_role("provider")
    denied(client.describe_rule, Name=f"{PREFIX}-x")
    denied(client.delete_rule, Name=f"{PREFIX}-x")


def test_a_removed_policy_denies_once_in_force(clock: SimulatedClock) -> None:
    """CloudFormation deleted the role's policy first: the session is denied once IAM has propagated it."""
    custom_labels.config.iam_propagation_delay = 30.0
    client = poller(the_templates_grant())
    client.put_rule(Name=f"{PREFIX}-x", ScheduleExpression="rate(1 minute)")
    iam_backends[ACCOUNT]["aws"].get_role("provider").policies.clear()
    assert client.describe_rule(Name=f"{PREFIX}-x")["Name"] == f"{PREFIX}-x"  # not yet in force
    clock.advance(30.0)
    denied(client.describe_rule, Name=f"{PREFIX}-x")


def test_tag_conditions_are_evaluated(clock: SimulatedClock, root: Any) -> None:
    root.put_rule(
        Name=f"{PREFIX}-mine", ScheduleExpression="rate(1 minute)", Tags=[{"Key": "owner", "Value": "me"}]
    )
    root.put_rule(Name=f"{PREFIX}-theirs", ScheduleExpression="rate(1 minute)")
    client = poller(
        {
            "Effect": "Allow",
            "Action": "events:DescribeRule",
            "Resource": RULES,
            "Condition": {"StringEquals": {"aws:ResourceTag/owner": "me"}},
        },
        {
            "Effect": "Allow",
            "Action": "events:PutRule",
            "Resource": RULES,
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["owner"]}},
        },
    )
    assert client.describe_rule(Name=f"{PREFIX}-mine")["Name"] == f"{PREFIX}-mine"
    denied(client.describe_rule, Name=f"{PREFIX}-theirs")
    client.put_rule(
        Name=f"{PREFIX}-new", ScheduleExpression="rate(1 minute)", Tags=[{"Key": "owner", "Value": "x"}]
    )
    denied(
        client.put_rule,
        Name=f"{PREFIX}-other",
        ScheduleExpression="rate(1 minute)",
        Tags=[{"Key": "cost-centre", "Value": "x"}],
    )


def test_tagging_a_rule_is_authorized_on_its_arn(clock: SimulatedClock, root: Any) -> None:
    arn = root.put_rule(Name=f"{PREFIX}-x", ScheduleExpression="rate(1 minute)")["RuleArn"]
    client = poller({"Effect": "Allow", "Action": "events:ListTagsForResource", "Resource": RULES})
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == []
    message = denied(client.tag_resource, ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert f"events:TagResource on resource: {arn} because" in message
