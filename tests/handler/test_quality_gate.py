"""The quality gate (``MinF1Score``) through CloudFormation's lifecycle, on emulated accounts that enforce
IAM: the source account's project policy refuses to let a version be copied that is not good enough, and a
same-account copy refuses to copy it. Assertions are on the stack events and the emulated state (the
project's policies, the versions, the calls Rekognition received)."""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import pytest

from emulator import custom_labels
from rekognition_model_copy import permissions
from tests.conftest import DEST_ACCOUNT, REGION, REPO, SOURCE_ACCOUNT, copy_template
from tests.handler.conftest import (
    deploy_dev,
    granted,
    policies,
    policy_document,
    policy_template,
    reasons,
    statuses,
    versions,
)
from tests.variants import each_reading, variant_fixture  # noqa: F401 - the variant fixture

sys.path.insert(0, str(REPO / "lambda"))
from resources import quality_gate  # noqa: E402

PROD = f"arn:aws:iam::{DEST_ACCOUNT}:root"


def with_bar(template: dict[str, Any], bar: Any, logical_id: str) -> dict[str, Any]:
    """``template`` with ``MinF1Score`` set on the resource (CloudFormation sends it as a string)."""
    edited = copy.deepcopy(template)
    edited["Resources"][logical_id]["Properties"]["MinF1Score"] = bar
    return edited


def gated_policy(project_arn: str, version_arn: str, bar: Any = 0.9) -> dict[str, Any]:
    return with_bar(policy_template(project_arn, policy_document(version_arn, PROD)), bar, "Policy")


def dev_version(cloud: Any, f1_score: float | None, name: str = "v1") -> tuple[str, str, Any]:
    project_arn, version_arn = custom_labels.seed_trained_version(
        SOURCE_ACCOUNT, REGION, "dev-defects", name, f1_score=f1_score
    )
    return project_arn, version_arn, cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition")


def copies_made() -> int:
    return custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT)


# --- the project policy (cross-account promotions: the check runs in the source account) ----------------
def test_a_policy_for_a_version_below_the_bar_is_refused_with_both_numbers(cloud):
    project_arn, version_arn, client = dev_version(cloud, 0.812)

    stack = deploy_dev(cloud, gated_policy(project_arn, version_arn, 0.9))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert policies(client, project_arn) == {}  # nothing was put
    assert (
        f"The model version {version_arn} has an F1 score of 0.812, below the quality bar MinF1Score 0.9; "
        "it is not promoted" in reasons(cloud, "Policy")
    )


@pytest.mark.parametrize("score", [0.9, 0.97])
def test_a_policy_for_a_version_at_or_above_the_bar_is_put(cloud, score):
    project_arn, version_arn, client = dev_version(cloud, score)

    stack = deploy_dev(cloud, gated_policy(project_arn, version_arn, "0.9"))

    assert stack.status == "CREATE_COMPLETE"
    assert list(policies(client, project_arn)) == ["promote-to-prod"]


def test_a_version_without_an_evaluation_is_refused(cloud):
    project_arn, version_arn, client = dev_version(cloud, None)

    assert deploy_dev(cloud, gated_policy(project_arn, version_arn)).status == "ROLLBACK_COMPLETE"
    assert policies(client, project_arn) == {}
    assert f"{version_arn} (TRAINING_COMPLETED) has no evaluation result" in reasons(cloud, "Policy")


@pytest.mark.parametrize("outcome", ["TRAINING_IN_PROGRESS", "TRAINING_FAILED"])
def test_a_version_that_is_not_trained_is_refused_naming_its_status(cloud, clock, outcome):
    project_arn, _, client = dev_version(cloud, 0.99)
    custom_labels.config.training_duration = 3600
    if outcome == "TRAINING_FAILED":
        custom_labels.faults.fail_next_training(account_id=SOURCE_ACCOUNT)
        custom_labels.config.training_duration = 1
    version_arn = client.create_project_version(
        ProjectArn=project_arn, VersionName="v2", OutputConfig={"S3Bucket": "dev-output"}
    )["ProjectVersionArn"]
    clock.advance(2)

    assert deploy_dev(cloud, gated_policy(project_arn, version_arn)).status == "ROLLBACK_COMPLETE"
    assert policies(client, project_arn) == {}
    assert f"The model version {version_arn} is {outcome}: only a trained version" in reasons(cloud, "Policy")


def test_every_version_the_policy_allows_is_checked(cloud):
    project_arn, good, client = dev_version(cloud, 0.95)
    _, poor = dev_version(cloud, 0.5, name="v0")[:2]
    document = json.loads(policy_document(good, PROD))
    document["Statement"][0]["Resource"] = [good, poor]
    template = with_bar(policy_template(project_arn, json.dumps(document)), 0.9, "Policy")

    assert deploy_dev(cloud, template).status == "ROLLBACK_COMPLETE"
    assert f"{poor} has an F1 score of 0.5" in reasons(cloud, "Policy")
    assert good not in reasons(cloud, "Policy")


def test_a_wildcard_cannot_be_checked_against_the_bar(cloud):
    project_arn, version_arn, client = dev_version(cloud, 0.95)
    wildcard = version_arn.rsplit("/version/", 1)[0] + "/version/*"
    template = with_bar(policy_template(project_arn, policy_document(wildcard, PROD)), 0.9, "Policy")

    assert deploy_dev(cloud, template).status == "ROLLBACK_COMPLETE"
    assert policies(client, project_arn) == {}
    assert "named exactly (no wildcard)" in reasons(cloud, "Policy")


def test_raising_the_bar_above_the_version_keeps_the_policy_as_it_was(cloud):
    project_arn, version_arn, client = dev_version(cloud, 0.85)
    stack = deploy_dev(cloud, gated_policy(project_arn, version_arn, 0.8))
    document = policies(client, project_arn)["promote-to-prod"]["PolicyDocument"]
    custom_labels.calls.clear()

    assert stack.update(gated_policy(project_arn, version_arn, 0.9)) == "UPDATE_ROLLBACK_COMPLETE"

    assert policies(client, project_arn)["promote-to-prod"]["PolicyDocument"] == document
    assert "F1 score of 0.85, below the quality bar MinF1Score 0.9" in reasons(cloud, "Policy")
    # refused before any put; the rollback (same document, the bar it had) is not checked again, nor put
    # again: the project holds that very document
    assert custom_labels.calls.count("DescribeProjectVersions", SOURCE_ACCOUNT) == 1
    assert custom_labels.calls.count("PutProjectPolicy", SOURCE_ACCOUNT) == 0


# --- a same-account copy (the check runs in the destination, which owns the source) ---------------------
def test_a_copy_of_a_version_below_the_bar_is_refused_and_nothing_is_copied(cloud, deploy):
    source = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.7)

    stack = deploy(copy_template(source, extra={"MinF1Score": 0.75}))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert copies_made() == 0
    assert (
        f"The model version {source[1]} has an F1 score of 0.7, below the quality bar MinF1Score 0.75; it is "
        "not copied." in reasons(cloud)
    )


def test_a_copy_of_a_version_above_the_bar_is_made(cloud, deploy):
    source = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.93)

    stack = deploy(copy_template(source, extra={"MinF1Score": 0.9}))

    assert stack.status == "CREATE_COMPLETE"
    copied = versions(stack)["defects-prod-1"]
    assert copied["Status"] == "COPYING_COMPLETED"
    assert copied["EvaluationResult"]["F1Score"] == 0.93  # the copy carries its source's evaluation


def test_a_raised_bar_checks_the_source_again_and_leaves_the_copy(cloud, deploy):
    source = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.85)
    stack = deploy(copy_template(source, extra={"MinF1Score": 0.8}))
    held = stack.resources["ModelCopy"].physical_id

    assert stack.update(copy_template(source, extra={"MinF1Score": 0.9})) == "UPDATE_ROLLBACK_COMPLETE"

    assert "F1 score of 0.85, below the quality bar MinF1Score 0.9; the copy is left as it is." in reasons(
        cloud
    )
    assert stack.resources["ModelCopy"].physical_id == held
    assert versions(stack)["defects-prod-1"]["ProjectVersionArn"] == held
    assert copies_made() == 1


def test_a_lowered_bar_is_not_checked_again(cloud, deploy):
    """The copy met a higher bar; the source may have gone since (here: its evaluation)."""
    source = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.95)
    stack = deploy(copy_template(source, extra={"MinF1Score": 0.9}))
    custom_labels.set_f1_score(source[1], None)

    assert stack.update(copy_template(source, extra={"MinF1Score": 0.8})) == "UPDATE_COMPLETE"


def test_a_bar_on_a_copy_from_another_account_is_refused_before_any_call(cloud, deploy):
    source = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.99)

    assert deploy(copy_template(source, extra={"MinF1Score": 0.9})).status == "ROLLBACK_COMPLETE"
    assert "Put the bar on the source account's Custom::RekognitionProjectPolicy" in reasons(cloud)
    assert custom_labels.calls.count("DescribeProjectVersions", DEST_ACCOUNT) == 0
    assert copies_made() == 0


# --- the property's values ---------------------------------------------------------------------------------
BAD_BARS = ["0", "-0.5", "1.01", "high", "nan", "inf"]


@pytest.mark.parametrize("bar", BAD_BARS)
def test_a_bar_outside_0_to_1_fails_the_policy_at_once(cloud, bar):
    project_arn, version_arn, client = dev_version(cloud, 0.95)

    assert deploy_dev(cloud, gated_policy(project_arn, version_arn, bar)).status == "ROLLBACK_COMPLETE"
    assert policies(client, project_arn) == {}
    rule = "Property MinF1Score must be a number greater than 0 and at most 1 (an F1 score, e.g. 0.9)"
    assert f"{rule}, got {bar!r}" in reasons(cloud, "Policy")
    assert custom_labels.calls.count("DescribeProjectVersions", SOURCE_ACCOUNT) == 0


@pytest.mark.parametrize("bar", BAD_BARS)
def test_a_bar_outside_0_to_1_fails_the_copy_at_once(cloud, deploy, source_version, bar):
    assert deploy(copy_template(source_version, extra={"MinF1Score": bar})).status == "ROLLBACK_COMPLETE"
    assert "Property MinF1Score must be a number greater than 0 and at most 1" in reasons(cloud)
    assert copies_made() == 0
    assert "CREATE_FAILED" in statuses(cloud)


@pytest.mark.parametrize(
    ("value", "bar"), [("0.9", 0.9), (1, 1.0), ("1", 1.0), (0.5, 0.5), ("", None), (None, None)]
)
def test_the_bar_is_read_from_a_string_or_a_number(value, bar):
    assert quality_gate.min_f1_score({"MinF1Score": value}) == bar


@pytest.mark.parametrize(
    "status", ["TRAINING_COMPLETED", "COPYING_COMPLETED", "STARTING", "RUNNING", "STOPPING", "STOPPED"]
)
def test_a_version_trained_and_started_since_counts_as_trained(status):
    description = {"Status": status, "EvaluationResult": {"F1Score": 0.95}}
    assert quality_gate.verdict("arn", description, 0.9) is None


@pytest.mark.parametrize(
    "status",
    [
        "TRAINING_IN_PROGRESS",
        "TRAINING_FAILED",
        "COPYING_IN_PROGRESS",
        "COPYING_FAILED",
        "FAILED",
        "DELETING",
        "DEPRECATED",
        "EXPIRED",
    ],
)
def test_every_other_status_is_refused_naming_it(status):
    description = {"Status": status, "EvaluationResult": {"F1Score": 0.95}}
    assert f"is {status}: only a trained version" in str(quality_gate.verdict("arn", description, 0.9))


# --- the grant the check needs -----------------------------------------------------------------------------
def narrowed_role(template: dict[str, Any], source_project_arn: str | None) -> dict[str, Any]:
    """``template`` with the function's DescribeProjectVersions limited to the destination project, plus
    :func:`permissions.gate_statements` on ``source_project_arn`` when one is given."""
    edited = copy.deepcopy(template)
    document = edited["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]
    for statement in document["Statement"]:
        if "rekognition:DescribeProjectVersions" in statement["Action"]:
            statement["Resource"] = [
                {"Fn::Sub": "arn:aws:rekognition:${AWS::Region}:${AWS::AccountId}:project/prod-defects/*"}
            ]
    if source_project_arn is not None:
        for statement in permissions.gate_statements(source_project_arn):
            document["Statement"].append(
                {"Effect": "Allow", "Action": list(statement.actions), "Resource": list(statement.resources)}
            )
    return edited


def test_without_the_gate_grant_the_check_is_denied_naming_it(cloud, deploy):
    source = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.95)

    stack = deploy(narrowed_role(copy_template(source, extra={"MinF1Score": 0.9}), None))

    assert stack.status == "ROLLBACK_COMPLETE"
    assert f"perform: rekognition:DescribeProjectVersions on resource: {source[0]}" in reasons(cloud)
    assert copies_made() == 0


def test_with_the_gate_grant_the_check_passes(cloud, deploy):
    source = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.95)
    template = copy_template(source, extra={"MinF1Score": 0.9})

    assert deploy(narrowed_role(template, source[0])).status == "CREATE_COMPLETE"


def test_without_a_bar_the_copy_needs_no_gate_grant(cloud, deploy, source_version):
    assert deploy(narrowed_role(copy_template(source_version), None)).status == "CREATE_COMPLETE"


# --- Updates and rollbacks never fail on a version promoted before ------------------------------------------


def test_the_rollback_of_a_removed_bar_does_not_fail_on_a_source_that_lost_its_evaluation(
    cloud, deploy
) -> None:
    source = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.95)
    stack = deploy(copy_template(source, extra={"MinF1Score": 0.9}))
    held = stack.resources["ModelCopy"].physical_id
    custom_labels.set_f1_score(source[1], None)
    # the bar removed, with a tag the handler refuses: the rollback puts the bar back (a "raised" bar)
    assert stack.update(copy_template(source, extra={"Tags": {"aws:x": "y"}})) == "UPDATE_ROLLBACK_COMPLETE"
    assert stack.resources["ModelCopy"].physical_id == held
    assert versions(stack)["defects-prod-1"]["ProjectVersionArn"] == held


def test_the_rollback_of_a_refused_document_does_not_fail_on_a_version_allowed_before(cloud) -> None:
    project_arn, v1 = custom_labels.seed_trained_version(
        SOURCE_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.95
    )
    _, v2 = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v2", f1_score=0.5)
    stack = deploy_dev(
        cloud, with_bar(policy_template(project_arn, policy_document(v1, PROD)), 0.9, "Policy")
    )
    assert stack.status == "CREATE_COMPLETE"
    custom_labels.set_f1_score(v1, None)
    update = with_bar(policy_template(project_arn, policy_document(v2, PROD)), 0.9, "Policy")
    assert stack.update(update) == "UPDATE_ROLLBACK_COMPLETE"
    assert "F1 score of 0.5, below the quality bar MinF1Score 0.9" in reasons(cloud, "Policy")
    assert [
        granted(p["PolicyDocument"])
        for p in policies(cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition"), project_arn).values()
    ] == [json.loads(policy_document(v1, PROD))]


def test_a_change_of_principals_does_not_check_a_version_allowed_before_again(cloud) -> None:
    project_arn, v1 = custom_labels.seed_trained_version(
        SOURCE_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.95
    )
    stack = deploy_dev(
        cloud, with_bar(policy_template(project_arn, policy_document(v1, PROD)), 0.9, "Policy")
    )
    custom_labels.set_f1_score(v1, None)
    other = "arn:aws:iam::333333333333:root"
    update = with_bar(policy_template(project_arn, policy_document(v1, other)), 0.9, "Policy")
    assert stack.update(update) == "UPDATE_COMPLETE"
    assert [
        granted(p["PolicyDocument"])
        for p in policies(cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition"), project_arn).values()
    ] == [json.loads(policy_document(v1, other))]


def test_a_policy_already_there_is_not_relied_on_when_its_version_is_below_the_bar(cloud) -> None:
    project_arn, v1 = custom_labels.seed_trained_version(
        SOURCE_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.5
    )
    client = cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition")
    client.put_project_policy(
        ProjectArn=project_arn, PolicyName="promote-to-prod", PolicyDocument=policy_document(v1, PROD)
    )
    stack = deploy_dev(
        cloud, with_bar(policy_template(project_arn, policy_document(v1, PROD)), 0.9, "Policy")
    )
    assert stack.status == "ROLLBACK_COMPLETE"
    assert "F1 score of 0.5, below the quality bar MinF1Score 0.9" in reasons(cloud, "Policy")
    assert list(policies(client, project_arn)) == [
        "promote-to-prod"
    ]  # the policy someone else put is left as it is


# --- a version that is itself a copy, under each reading of a copy's EvaluationResult ----------------------


def _copied(cloud: Any, account: str, source: tuple[str, str], name: str = "v1-copy") -> str:
    """Copy ``source`` within its account, outside any stack (as someone did before); the copy's ARN."""
    client = cloud.session(account, REGION).client("rekognition")
    arn = client.copy_project_version(
        SourceProjectArn=source[0],
        SourceProjectVersionArn=source[1],
        DestinationProjectArn=source[0],
        VersionName=name,
        OutputConfig={"S3Bucket": f"copies-{account}", "S3KeyPrefix": f"{name}/"},
    )["ProjectVersionArn"]
    cloud.settle(custom_labels.config.copy_duration)
    return str(arn)


@each_reading("copy_evaluation")
def test_a_same_account_copy_whose_source_is_a_copy_is_checked_or_refused_saying_why(variant, cloud, deploy):
    trained = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev-defects", "v1", f1_score=0.95)
    source = (trained[0], _copied(cloud, DEST_ACCOUNT, trained))
    made = copies_made()

    stack = deploy(copy_template(source, extra={"MinF1Score": 0.9}))

    if variant["copy_evaluation"] == "carried":
        assert stack.status == "CREATE_COMPLETE"
        return
    assert stack.status == "ROLLBACK_COMPLETE"
    assert copies_made() == made  # nothing copied
    reason = reasons(cloud)
    assert f"The model version {source[1]} (COPYING_COMPLETED) has no evaluation result" in reason
    assert f"it is a copy of {trained[1]}" in reason
    assert f"promote or copy {trained[1]} itself with MinF1Score" in reason and "it is not copied." in reason


@each_reading("copy_evaluation")
def test_a_policy_allowing_a_copied_version_is_checked_or_refused_saying_why(variant, cloud):
    project_arn, version_arn, client = dev_version(cloud, 0.95)
    copied = _copied(cloud, SOURCE_ACCOUNT, (project_arn, version_arn))

    stack = deploy_dev(cloud, gated_policy(project_arn, copied, 0.9))

    if variant["copy_evaluation"] == "carried":
        assert stack.status == "CREATE_COMPLETE"
        assert set(policies(client, project_arn)) == {"promote-to-prod"}
        return
    assert stack.status == "ROLLBACK_COMPLETE"
    assert policies(client, project_arn) == {}
    reason = reasons(cloud, "Policy")
    assert f"{copied} (COPYING_COMPLETED) has no evaluation result" in reason
    assert f"it is a copy of {version_arn}" in reason and "remove MinF1Score here" in reason
    assert "the project policy is not put" in reason


def test_a_trained_version_without_an_evaluation_says_what_to_do(cloud):
    project_arn, version_arn, _ = dev_version(cloud, None)

    deploy_dev(cloud, gated_policy(project_arn, version_arn))

    reason = reasons(cloud, "Policy")
    assert "Promote a version whose evaluation shows an F1 score, or remove MinF1Score" in reason
