"""Each behaviour AWS does not document, under each of its readings (``custom_labels.VARIANTS``), through
real boto3 clients; and the test support that runs a test under a reading (tests/variants.py)."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest

from emulator import custom_labels
from emulator.clock import SimulatedClock
from emulator.iam import ensure_role, iam_backend
from tests.emulator.test_custom_labels import (
    DEST_ACCOUNT,
    REGION,
    SOURCE_ACCOUNT,
    client_in,
    copy,
    describe,
    error_code,
    policy,
)
from tests.variants import check, each_reading, readings

OWNER = f"arn:aws:iam::{DEST_ACCOUNT}:root"


def _trained(account: str = DEST_ACCOUNT, project: str = "dev") -> tuple[str, str]:
    return custom_labels.seed_trained_version(account, REGION, project, "v1")


# --- the test support ------------------------------------------------------------------------------------


@pytest.mark.variant(delete_policy_revision="ignores", copy_evaluation="absent")
def test_a_marker_sets_its_readings_after_the_reset(variant: dict[str, Any]) -> None:
    assert variant == {"delete_policy_revision": "ignores", "copy_evaluation": "absent"}
    assert custom_labels.config.delete_policy_revision == "ignores"
    assert custom_labels.config.copy_evaluation == "absent"
    assert custom_labels.config.kms_key_id_described == "as_declared"  # the others keep their default


@each_reading("kms_key_id_described")
def test_each_reading_runs_the_test_once_per_reading(variant: dict[str, Any]) -> None:
    assert custom_labels.config.kms_key_id_described == variant["kms_key_id_described"]


def test_readings_combine_with_the_defaults_first() -> None:
    assert readings("copy_evaluation", "delete_policy_revision") == [
        {"copy_evaluation": "carried", "delete_policy_revision": "checks"},
        {"copy_evaluation": "carried", "delete_policy_revision": "ignores"},
        {"copy_evaluation": "absent", "delete_policy_revision": "checks"},
        {"copy_evaluation": "absent", "delete_policy_revision": "ignores"},
    ]
    with pytest.raises(ValueError, match="not an undocumented behaviour"):
        check({"copy_duration": 1.0})
    with pytest.raises(ValueError, match="not a reading of copy_evaluation"):
        check({"copy_evaluation": "sometimes"})


# --- DeleteProjectPolicy and a stale PolicyRevisionId -----------------------------------------------------


@each_reading("delete_policy_revision")
def test_delete_policy_with_a_stale_revision(variant: dict[str, Any], clock: SimulatedClock) -> None:
    project, version = _trained(SOURCE_ACCOUNT)
    owner = client_in(SOURCE_ACCOUNT, "admin")
    first = owner.put_project_policy(
        ProjectArn=project, PolicyName="p", PolicyDocument=policy(DEST_ACCOUNT, version)
    )["PolicyRevisionId"]
    second = owner.put_project_policy(
        ProjectArn=project, PolicyName="p", PolicyDocument=policy(OWNER, version), PolicyRevisionId=first
    )["PolicyRevisionId"]
    if variant["delete_policy_revision"] == "checks":
        with pytest.raises(owner.exceptions.InvalidPolicyRevisionIdException):
            owner.delete_project_policy(ProjectArn=project, PolicyName="p", PolicyRevisionId=first)
        (listed,) = owner.list_project_policies(ProjectArn=project)["ProjectPolicies"]
        assert listed["PolicyRevisionId"] == second
    else:
        owner.delete_project_policy(ProjectArn=project, PolicyName="p", PolicyRevisionId=first)
        assert owner.list_project_policies(ProjectArn=project)["ProjectPolicies"] == []
    with pytest.raises(owner.exceptions.ResourceNotFoundException):  # either way: a missing name
        owner.delete_project_policy(ProjectArn=project, PolicyName="missing", PolicyRevisionId=first)


# --- KmsKeyId of a copy, as DescribeProjectVersions shows it ---------------------------------------------


@each_reading("kms_key_id_described")
def test_a_copys_kms_key_id_as_described(variant: dict[str, Any], clock: SimulatedClock) -> None:
    rek, kms = client_in(DEST_ACCOUNT), client_in(DEST_ACCOUNT, service="kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/models", TargetKeyId=key["KeyId"])
    alias_arn = f"arn:aws:kms:{REGION}:{DEST_ACCOUNT}:alias/models"
    source = _trained()
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    declared = {"id": key["KeyId"], "arn": key["Arn"], "alias": "alias/models", "alias-arn": alias_arn}
    for name, key_id in declared.items():
        copy(rek, source, destination, name, KmsKeyId=key_id)

    shown = {d["ProjectVersionArn"].split("/")[-2]: d.get("KmsKeyId") for d in describe(rek, destination)}
    reading = variant["kms_key_id_described"]
    expected = {
        "as_declared": declared,
        "key_arn": dict.fromkeys(declared, key["Arn"]),
        "omitted": dict.fromkeys(declared),
    }[reading]
    assert shown == expected


def test_a_trained_version_shows_the_key_it_was_trained_with(clock: SimulatedClock) -> None:
    custom_labels.config.kms_key_id_described = "omitted"  # for copies: a trained version keeps its own
    kms = client_in(DEST_ACCOUNT, service="kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    project, _ = custom_labels.seed_trained_version(DEST_ACCOUNT, REGION, "dev", "v1", kms_key_id=key)
    assert describe(client_in(DEST_ACCOUNT), project)[0]["KmsKeyId"] == key


def test_a_copy_with_an_alias_that_does_not_exist_is_refused(clock: SimulatedClock) -> None:
    rek = client_in(DEST_ACCOUNT)
    source = _trained()
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        copy(rek, source, destination, "prod-1", KmsKeyId="alias/missing")
    assert error_code(excinfo) == "AccessDeniedException"
    assert "alias/missing" in str(excinfo.value) and "does not exist" in str(excinfo.value)
    assert describe(rek, destination) == []  # nothing was started


# --- EvaluationResult of a copy ---------------------------------------------------------------------------


@each_reading("copy_evaluation")
def test_a_copys_evaluation_result(variant: dict[str, Any], clock: SimulatedClock) -> None:
    rek = client_in(DEST_ACCOUNT)
    source = _trained()
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    copy(rek, source, destination, "prod-1")
    clock.advance(custom_labels.config.copy_duration)
    (copied,) = describe(rek, destination)
    assert copied["Status"] == "COPYING_COMPLETED"
    assert describe(rek, source[0])[0]["EvaluationResult"]["F1Score"] == custom_labels.DEFAULT_F1_SCORE
    if variant["copy_evaluation"] == "carried":
        assert copied["EvaluationResult"]["F1Score"] == custom_labels.DEFAULT_F1_SCORE
    else:
        assert "EvaluationResult" not in copied
    assert copied["TrainingEndTimestamp"]  # the other training results are copied either way


# --- the source statuses CopyProjectVersion accepts -------------------------------------------------------


@each_reading("copy_source_statuses")
def test_the_source_statuses_a_copy_accepts(variant: dict[str, Any], clock: SimulatedClock) -> None:
    rek = client_in(DEST_ACCOUNT)
    source = _trained()
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    first = copy(rek, source, destination, "copy-of-trained")  # TRAINING_COMPLETED: always
    clock.advance(custom_labels.config.copy_duration)
    copy(rek, (destination, first), destination, "copy-of-copy")  # COPYING_COMPLETED: always
    rek.start_project_version(ProjectVersionArn=source[1], MinInferenceUnits=1)
    clock.advance(custom_labels.config.start_duration)
    if variant["copy_source_statuses"] == "trained_or_later":
        copy(rek, source, destination, "copy-of-running")
    else:
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            copy(rek, source, destination, "copy-of-running")
        assert error_code(excinfo) == "ResourceInUseException"
        assert "RUNNING" in str(excinfo.value)


# --- a role principal of a project policy: bound to the role's unique id, or to its name -----------------


@each_reading("role_principal_binding")
def test_a_recreated_role_and_the_project_policy(variant: dict[str, Any], clock: SimulatedClock) -> None:
    source = _trained(SOURCE_ACCOUNT)
    owner = client_in(SOURCE_ACCOUNT, "admin")
    role_arn = f"arn:aws:iam::{DEST_ACCOUNT}:role/copier"
    copier = client_in(DEST_ACCOUNT, "copier")
    destination = copier.create_project(ProjectName="prod")["ProjectArn"]
    owner.put_project_policy(ProjectArn=source[0], PolicyName="p", PolicyDocument=policy(role_arn, source[1]))
    copy(copier, source, destination, "prod-1")

    iam = iam_backend(DEST_ACCOUNT)
    old_id = iam.get_role("copier").id
    iam.delete_role_policy("copier", "AdministratorAccess")
    iam.delete_role("copier")
    copier = client_in(DEST_ACCOUNT, "copier")  # the same name, a new role
    (listed,) = owner.list_project_policies(ProjectArn=source[0])["ProjectPolicies"]
    principal = json.loads(listed["PolicyDocument"])["Statement"][0]["Principal"]["AWS"]
    if variant["role_principal_binding"] == "unique_id":
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            copy(copier, source, destination, "prod-2")
        assert error_code(excinfo) == "AccessDeniedException"
        assert principal == old_id
    else:
        copy(copier, source, destination, "prod-2")
        assert principal == role_arn


# --- how soon a project policy takes effect ---------------------------------------------------------------


@each_reading("policy_propagation_delay")
def test_a_project_policy_takes_effect_after_the_delay(
    variant: dict[str, Any], clock: SimulatedClock
) -> None:
    delay = variant["policy_propagation_delay"]
    source = _trained(SOURCE_ACCOUNT)
    owner = client_in(SOURCE_ACCOUNT, "admin")
    copier = client_in(DEST_ACCOUNT)
    destination = copier.create_project(ProjectName="prod")["ProjectArn"]

    def allowed(name: str) -> bool:
        try:
            copy(copier, source, destination, name)
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDeniedException"
            return False
        return True

    owner.put_project_policy(ProjectArn=source[0], PolicyName="p", PolicyDocument=policy(OWNER, source[1]))
    assert owner.list_project_policies(ProjectArn=source[0])["ProjectPolicies"]  # listed at once
    if delay:
        assert not allowed("early")
        clock.advance(delay - 1)
        assert not allowed("still-early")
        clock.advance(1)
    assert allowed("in-force")

    owner.delete_project_policy(ProjectArn=source[0], PolicyName="p")
    assert owner.list_project_policies(ProjectArn=source[0])["ProjectPolicies"] == []
    if delay:
        assert allowed("deleted-but-in-force")  # a deletion takes as long
        clock.advance(delay)
    assert not allowed("gone")


@pytest.mark.variant(policy_propagation_delay=30.0)
def test_a_changed_project_policy_allows_as_before_until_the_delay(
    variant: dict[str, Any], clock: SimulatedClock
) -> None:
    source = _trained(SOURCE_ACCOUNT)
    ensure_role(DEST_ACCOUNT, "other")
    owner = client_in(SOURCE_ACCOUNT, "admin")
    copier = client_in(DEST_ACCOUNT)
    destination = copier.create_project(ProjectName="prod")["ProjectArn"]
    revision = owner.put_project_policy(
        ProjectArn=source[0], PolicyName="p", PolicyDocument=policy(OWNER, source[1])
    )["PolicyRevisionId"]
    clock.advance(30)
    owner.put_project_policy(
        ProjectArn=source[0],
        PolicyName="p",
        PolicyDocument=policy(f"arn:aws:iam::{DEST_ACCOUNT}:role/other", source[1]),
        PolicyRevisionId=revision,
    )
    copy(copier, source, destination, "before")  # the old revision still applies
    clock.advance(30)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        copy(copier, source, destination, "after")
    assert error_code(excinfo) == "AccessDeniedException"


# --- how soon a change of a role's identity policies takes effect -----------------------------------------


@each_reading("iam_propagation_delay")
def test_a_role_policy_change_takes_effect_after_the_delay(
    variant: dict[str, Any], clock: SimulatedClock
) -> None:
    delay = variant["iam_propagation_delay"]
    project, _ = _trained()
    iam = iam_backend(DEST_ACCOUNT)
    unrelated = {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    ensure_role(DEST_ACCOUNT, "reader", json.dumps({"Version": "2012-10-17", "Statement": [unrelated]}))
    reader = client_in(DEST_ACCOUNT, "reader")
    grant = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "rekognition:DescribeProjectVersions", "Resource": "*"}
            ],
        }
    )

    def allowed() -> bool:
        try:
            reader.describe_project_versions(ProjectArn=project)
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDeniedException"
            return False
        return True

    assert not allowed()  # what a role holds when first seen is in force at once: nothing here
    iam.put_role_policy("reader", "grant", grant)
    if delay:
        assert not allowed()
        clock.advance(delay - 1)
        assert not allowed()
        clock.advance(1)
    assert allowed()

    iam.delete_role_policy("reader", "grant")
    if delay:
        assert allowed()  # a removal takes as long
        clock.advance(delay)
    assert not allowed()


@pytest.mark.variant(iam_propagation_delay=30.0)
def test_a_change_dated_by_the_driver_takes_effect_the_delay_after_it(
    variant: dict[str, Any], clock: SimulatedClock
) -> None:
    from emulator.custom_labels.authz import observe_role

    project, _ = _trained()
    reader = client_in(DEST_ACCOUNT, "reader")  # allowed everything, and seen so
    reader.describe_project_versions(ProjectArn=project)
    iam = iam_backend(DEST_ACCOUNT)
    iam.delete_role_policy("reader", "AdministratorAccess")
    observe_role(f"arn:aws:iam::{DEST_ACCOUNT}:role/reader")  # the change, dated when it was made
    clock.advance(30)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:  # not dated only now: in force already
        reader.describe_project_versions(ProjectArn=project)
    assert error_code(excinfo) == "AccessDeniedException"
