"""Least privilege, both ways, on the emulator that enforces IAM (identity, project, key and bucket policies):

- with the synthesised roles as they are, a full promotion passes: the source model trained with a
  customer managed key of the dev account, the dev stack (project policy), the prod stack (copy into an
  SSE-KMS bucket with an output key, started), a redelivered Create (adopted by its owner tag), a tag
  removed in place, the prod and dev stacks deleted;
- with any one granted action removed from the synthesised role policies, some step of that same
  scenario fails with an AccessDenied that names the action.

The templates are synthesised once (``app.py`` with a source key); each run edits the template dicts
only, with short simulated durations, so one run costs well under a second of real time.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from emulator import custom_labels
from emulator.clock import SimulatedClock
from emulator.cloudformation import CloudFormation
from emulator.templates import with_quality_bar
from tests.conftest import DEST_ACCOUNT, REGION, SOURCE_ACCOUNT

SOURCE_PROJECT_NAME = "dev-defects"
SOURCE_VERSION_NAME = "defects.2026-11-01"
KEY_PLACEHOLDER = f"arn:aws:kms:{REGION}:{SOURCE_ACCOUNT}:key/00000000-0000-4000-8000-000000000000"
"""The source key's ARN at synth time; each run puts the ARN of the key it creates in its place."""

_PROD_CREATE = ("dev create", "prod create")
CHECKED: dict[str, tuple[str, ...]] = {
    "rekognition:PutProjectPolicy": ("dev create",),
    "rekognition:ListProjectPolicies": ("dev create", "dev delete"),
    "rekognition:DeleteProjectPolicy": ("dev create", "dev delete"),
    "rekognition:CopyProjectVersion": _PROD_CREATE,
    "rekognition:CreateProjectVersion": _PROD_CREATE,
    "rekognition:TagResource": _PROD_CREATE,  # the new version's tags
    "rekognition:DescribeProjectVersions": _PROD_CREATE,
    "rekognition:StartProjectVersion": _PROD_CREATE,  # min_inference_units
    "rekognition:ListTagsForResource": (*_PROD_CREATE, "redelivered create"),
    "rekognition:UntagResource": (*_PROD_CREATE, "prod untag"),
    "rekognition:StopProjectVersion": (*_PROD_CREATE, "prod delete"),
    "rekognition:DeleteProjectVersion": (*_PROD_CREATE, "prod delete"),
    **{
        f"s3:{action}": _PROD_CREATE
        for action in (
            "ListBucket",
            "GetBucketAcl",
            "GetBucketLocation",
            "PutObject",
            "GetObject",
            "GetObjectAcl",
            "GetObjectTagging",
            "GetObjectVersion",
        )
    },
    # the output key (also the bucket's) and the source model's key
    **{
        f"kms:{action}": _PROD_CREATE
        for action in ("DescribeKey", "GenerateDataKey", "Decrypt", "CreateGrant")
    },
    # the polling schedule (emulator/eventbridge.py authorizes EventBridge): needed by a copy that outlasts
    # the handler's in-process wait (LONG_COPY); the request's claim alone is best effort
    "events:PutRule": _PROD_CREATE,
    "events:PutTargets": _PROD_CREATE,
}
"""Every granted action the emulator authorizes, with the steps of the scenario that reach the call needing
it (the run without the action stops there, to keep it short)."""

LONG_COPY = 600.0
"""Simulated seconds a copy takes in the runs without an EventBridge action: beyond the handler's in-process
wait, so the copy is polled on a schedule (the 5-second copy of the other runs never is)."""

NOT_ENFORCED = {
    # EventBridge authorizes these (emulator/eventbridge.py) and the handler's calls are denied without
    # them, but it carries on: no step fails with a denial naming the action.
    "events:RemoveTargets": "denied, logged; the answered copy's schedule stays with its target",
    "events:DeleteRule": "denied, logged; the request's claim rule and the emptied schedule stay",
    "events:DescribeRule": "denied, logged; the claim and the polls go on without looking at their rule",
    "logs:CreateLogStream": "the emulated Lambda runtime writes no CloudWatch Logs",
    "logs:PutLogEvents": "the emulated Lambda runtime writes no CloudWatch Logs",
    # Without it nothing is denied: the handler cannot tell how many executions the account has, so its
    # first invocation waits in-process only briefly (tests/handler/test_fast_path_concurrency.py).
    "lambda:GetAccountSettings": "optional: without it the fast path stays short",
    # Without it the handler cannot tell a rollback from an update where the request alone does not say,
    # and takes the answer that is right for an update (tests/handler/test_drift.py); moto's CloudFormation
    # does not authorize calls.
    "cloudformation:DescribeStacks": "optional: without it such a rollback fails as before, saying why",
    # Without it a second delivery of an update being rolled back, where no claim tells it from the
    # rollback (at EventBridge's rules quota), is taken for the rollback
    # (tests/handler/test_late_deliveries.py).
    "cloudformation:DescribeStackEvents": "optional: without it such a second delivery may answer again",
}
"""Granted actions whose removal fails no step with a denial naming them (the emulator does not authorize
Lambda, CloudWatch Logs or CloudFormation calls; the handler carries on without some EventBridge calls):
they are listed here with why, and the test fails if the role grants anything else it cannot check."""


@dataclass
class Synthesised:
    dev: dict[str, Any]
    prod: dict[str, Any]
    assembly: Path
    source_key_statements: list[dict[str, Any]]


@dataclass
class Outcome:
    """What one run of the scenario did: each step's result, and every failure reason seen."""

    steps: list[tuple[str, str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def failed(self) -> bool:
        return any(
            status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "SUCCESS")
            for _, status in self.steps
        )


@pytest.fixture(scope="module")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesised]:
    """app.py, synthesised as `make demo` does, for a source version seeded on a fresh simulated clock (so
    its ARN is the same in every run) and a source key given by placeholder."""
    import app as example

    with mock_aws():
        custom_labels.reset(clock=SimulatedClock())
        project_arn, version_arn = custom_labels.seed_trained_version(
            SOURCE_ACCOUNT, REGION, SOURCE_PROJECT_NAME, SOURCE_VERSION_NAME
        )
    custom_labels.reset()
    outdir = tmp_path_factory.mktemp("least-privilege-cdk-out")
    saved = os.environ.get("CDK_OUTDIR")
    os.environ["CDK_OUTDIR"] = str(outdir)
    try:
        app = example.build_app(
            {
                "dev_account": SOURCE_ACCOUNT,
                "prod_account": DEST_ACCOUNT,
                "region": REGION,
                "source_project_arn": project_arn,
                "source_version_arn": version_arn,
                "source_kms_key_arn": KEY_PLACEHOLDER,
                "version_name": "defects-prod-1",
                "min_inference_units": 1,
                "aws:cdk:enable-asset-metadata": True,
            }
        )
        assembly = app.synth()
    finally:
        if saved is None:
            os.environ.pop("CDK_OUTDIR", None)
        else:
            os.environ["CDK_OUTDIR"] = saved
    templates = {s.stack_name: dict(s.template) for s in assembly.stacks}
    prod_stack = app.node.find_child(example.STACK_NAME)
    statements = [s.to_json() for s in prod_stack.promotion.source_key_policy_statements()]  # type: ignore[attr-defined]
    yield Synthesised(
        dev=templates[example.DEV_STACK_NAME],
        prod=templates[example.STACK_NAME],
        assembly=Path(assembly.directory),
        source_key_statements=statements,
    )


def _role_statements(template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in template["Resources"].values():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield from resource["Properties"]["PolicyDocument"]["Statement"]


def _actions(template: dict[str, Any]) -> set[str]:
    return {
        action
        for statement in _role_statements(template)
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }


def without(template: dict[str, Any], action: str) -> dict[str, Any]:
    """A copy of ``template`` whose identity policies no longer grant ``action`` (a statement left with no
    action goes too)."""
    edited = copy.deepcopy(template)
    for resource in edited["Resources"].values():
        if resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        document = resource["Properties"]["PolicyDocument"]
        kept = []
        for statement in document["Statement"]:
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            remaining = [a for a in actions if a != action]
            if remaining:
                kept.append({**statement, "Action": remaining if len(remaining) > 1 else remaining[0]})
        document["Statement"] = kept
    return edited


def _with_key(template: dict[str, Any], key_arn: str) -> dict[str, Any]:
    edited: dict[str, Any] = json.loads(json.dumps(template).replace(KEY_PLACEHOLDER, key_arn))
    return edited


STEPS = ("dev create", "prod create", "redelivered create", "prod untag", "prod delete", "dev delete")
"""The scenario, in order. Each needs the grants of the steps before it."""


def run_scenario(
    synthesised: Synthesised,
    *,
    dev: dict[str, Any],
    prod: dict[str, Any],
    steps: tuple[str, ...] = STEPS,
    copy_duration: float = 5,
) -> Outcome:
    """``steps`` of the promotion (in :data:`STEPS` order), on fresh emulated accounts; stops at the first
    step that does not succeed."""
    outcome = Outcome()
    reasons = outcome.reasons

    def on_event(event: Any) -> None:
        if event.reason:
            reasons.append(event.reason)

    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    clock = SimulatedClock()
    custom_labels.reset(clock=clock)
    config = custom_labels.config
    config.copy_duration, config.start_duration, config.stop_duration = copy_duration, 5, 5
    try:
        with mock_aws(), CloudFormation(clock, on_event=on_event) as cloud:
            custom_labels.set_clock(cloud.runtime.service_clock())
            key_arn = _source_key(cloud, synthesised.source_key_statements)
            custom_labels.seed_trained_version(
                SOURCE_ACCOUNT, REGION, SOURCE_PROJECT_NAME, SOURCE_VERSION_NAME, kms_key_id=key_arn
            )
            dev, prod = _with_key(dev, key_arn), _with_key(prod, key_arn)
            root = synthesised.assembly
            dev_stack = cloud.stack("dev", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=root)
            prod_stack = cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=root)
            copy_id = next(
                k for k, v in prod["Resources"].items() if v["Type"] == "Custom::RekognitionModelCopy"
            )

            def redeliver() -> str:
                """The Create again, the copy already made: the handler recognises its owner tag."""
                again = prod_stack.request(copy_id, "Create")
                cloud.run([again])
                response = again.response or {}
                reasons.append(str(response.get("Reason", "")))
                return str(response.get("Status"))

            def untag() -> str:
                """A tag removed in place."""
                untagged = copy.deepcopy(prod)
                untagged["Resources"][copy_id]["Properties"].pop("Tags")
                return prod_stack.update(untagged)

            actions = {
                "dev create": lambda: dev_stack.create(dev),
                "prod create": lambda: prod_stack.create(prod),
                "redelivered create": redeliver,
                "prod untag": untag,
                "prod delete": prod_stack.delete,
                "dev delete": dev_stack.delete,
            }
            for name in steps:
                outcome.steps.append((name, actions[name]()))
                if outcome.failed():
                    break
    finally:
        custom_labels.reset()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return outcome


def _source_key(cloud: CloudFormation, statements: list[dict[str, Any]]) -> str:
    """The dev account's customer managed key the source model was trained with, its key policy holding
    the account's administrator statement and what the promotion says to add."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{SOURCE_ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            *statements,
        ],
    }
    client = cloud.session(SOURCE_ACCOUNT, REGION).client("kms")
    return str(client.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"])


def test_the_scenario_passes_with_the_synthesised_roles(synthesised: Synthesised) -> None:
    outcome = run_scenario(synthesised, dev=synthesised.dev, prod=synthesised.prod)
    assert [status for _, status in outcome.steps] == [
        "CREATE_COMPLETE",
        "CREATE_COMPLETE",
        "SUCCESS",
        "UPDATE_COMPLETE",
        "DELETE_COMPLETE",
        "DELETE_COMPLETE",
    ], outcome.reasons


@pytest.fixture(autouse=True, scope="module")
def _shared_botocore_data() -> Iterator[None]:
    """One botocore data loader for all sessions of this module: each run's fresh sessions would otherwise
    parse the same service models again (about half of a run's time). The data is read-only."""
    import functools

    import botocore.loaders
    import botocore.session

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", functools.cache(botocore.loaders.create_loader))
        yield


def test_every_granted_action_is_checked_or_named(synthesised: Synthesised) -> None:
    granted = _actions(synthesised.dev) | _actions(synthesised.prod)
    assert granted == set(CHECKED) | set(NOT_ENFORCED)


def test_without_describe_rule_a_copy_polled_on_its_schedule_is_answered(synthesised: Synthesised) -> None:
    # a copy long enough to be answered by a poll of its schedule, which must not take the denied look at
    # its rule for a sign that another delivery answered
    action = "events:DescribeRule"
    outcome = run_scenario(
        synthesised,
        dev=without(synthesised.dev, action),
        prod=without(synthesised.prod, action),
        steps=("dev create", "prod create"),
        copy_duration=LONG_COPY,
    )
    assert not outcome.failed(), (outcome.steps, outcome.reasons)


@pytest.mark.parametrize("action", sorted(CHECKED))
def test_without_the_action_the_scenario_is_denied_naming_it(synthesised: Synthesised, action: str) -> None:
    steps = CHECKED[action]
    outcome = run_scenario(
        synthesised,
        dev=without(synthesised.dev, action),
        prod=without(synthesised.prod, action),
        steps=steps,
        copy_duration=LONG_COPY if action.startswith("events:") else 5,
    )
    assert outcome.failed(), f"{action} removed, yet {steps} all succeeded: {outcome.steps}"
    denied = [r for r in outcome.reasons if "AccessDenied" in r and f"perform: {action} on resource" in r]
    assert denied, (outcome.steps, outcome.reasons)


def test_a_role_principal_must_exist_before_the_dev_stack_deploys(synthesised: Synthesised) -> None:
    """Why the account is the default principal: with ``principal="role"`` the dev stack, deployed first,
    names a role the prod stack has not created yet, and PutProjectPolicy rejects it."""
    root = f"arn:aws:iam::{DEST_ACCOUNT}:root"
    role = f"arn:aws:iam::{DEST_ACCOUNT}:role/RekognitionModelPromotion-ModelCopy-{REGION}"
    assert root in json.dumps(synthesised.dev)
    dev = json.loads(json.dumps(synthesised.dev).replace(root, role))
    outcome = run_scenario(synthesised, dev=dev, prod=synthesised.prod, steps=("dev create",))
    assert outcome.steps == [("dev create", "ROLLBACK_COMPLETE")]
    rejected = [r for r in outcome.reasons if "MalformedPolicyDocumentException" in r and role in r]
    assert rejected, outcome.reasons


# --- the quality gate: the grant it needs, only with a bar ----------------------------------------------
def test_a_bar_without_the_gate_grant_is_denied_naming_it(synthesised: Synthesised) -> None:
    assert "rekognition:DescribeProjectVersions" not in _actions(synthesised.dev)  # no bar, no grant
    project_arn = next(
        r["Properties"]["ProjectArn"]
        for r in synthesised.dev["Resources"].values()
        if r["Type"] == "Custom::RekognitionProjectPolicy"
    )
    dev = with_quality_bar(synthesised.dev, 0.9, grant=False)
    outcome = run_scenario(synthesised, dev=dev, prod=synthesised.prod, steps=("dev create",))
    assert outcome.steps == [("dev create", "ROLLBACK_COMPLETE")]
    needed = f"perform: rekognition:DescribeProjectVersions on resource: {project_arn}"
    denied = [r for r in outcome.reasons if "AccessDenied" in r and needed in r]
    assert denied, outcome.reasons


def test_with_the_gate_grant_a_promotion_meeting_the_bar_passes(synthesised: Synthesised) -> None:
    bar = custom_labels.DEFAULT_F1_SCORE  # the seeded version's: at the bar
    dev = with_quality_bar(synthesised.dev, bar, grant=True)
    outcome = run_scenario(synthesised, dev=dev, prod=synthesised.prod)
    assert [status for _, status in outcome.steps][:2] == ["CREATE_COMPLETE", "CREATE_COMPLETE"], (
        outcome.reasons
    )
    assert not outcome.failed(), outcome.steps


def test_with_the_gate_grant_a_version_below_the_bar_is_refused(synthesised: Synthesised) -> None:
    dev = with_quality_bar(synthesised.dev, 0.99, grant=True)
    outcome = run_scenario(synthesised, dev=dev, prod=synthesised.prod, steps=("dev create",))
    assert outcome.steps == [("dev create", "ROLLBACK_COMPLETE")]
    assert any(
        f"F1 score of {custom_labels.DEFAULT_F1_SCORE:g}, below the quality bar MinF1Score 0.99" in r
        for r in outcome.reasons
    ), outcome.reasons
