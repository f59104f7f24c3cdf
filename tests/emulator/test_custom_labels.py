"""The Custom Labels emulator, exercised through real boto3 clients (moto's mock_aws and a moto server)."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from moto.server import ThreadedMotoServer

from emulator import custom_labels
from emulator.clock import RealClock, SimulatedClock
from emulator.custom_labels.models import paginate
from emulator.custom_labels.validation import service_model
from emulator.iam import ensure_role
from tests.conftest import NO_RETRIES, role_client

REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"  # moto's account for the fake "testing" credentials
SOURCE_ACCOUNT = "111111111111"
DEST_ACCOUNT = "222222222222"
OUTPUT = {"S3Bucket": "model-output", "S3KeyPrefix": "copies/"}


def _model_pattern(shape: str) -> re.Pattern[str]:
    return re.compile(service_model().shape_for(shape).metadata["pattern"])


PROJECT_ARN_PATTERN = _model_pattern("ProjectArn")
VERSION_ARN_PATTERN = _model_pattern("ProjectVersionArn")
POLICY_REVISION_PATTERN = _model_pattern("ProjectPolicyRevisionId")


@pytest.fixture
def rek(clock: SimulatedClock) -> Any:
    """A Rekognition client in the default account, retries off so injected faults surface."""
    return boto3.client("rekognition", region_name=REGION, config=NO_RETRIES)


def client_in(account_id: str, role_name: str = "copier", service: str = "rekognition") -> Any:
    """A client whose credentials come from sts.assume_role into ``account_id``.

    The role is created (if absent) with an allow-everything identity policy: these tests are about the
    emulator's resource-side rules; test_authorization.py narrows identity policies.
    """
    ensure_role(account_id, role_name)
    return role_client(account_id, role_name, service)


def error_code(excinfo: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    """The AWS error code of a ClientError."""
    return str(excinfo.value.response["Error"]["Code"])


def describe(client: Any, project_arn: str, *names: str) -> list[dict[str, Any]]:
    """ProjectVersionDescriptions of a project (optionally filtered by names)."""
    kwargs: dict[str, Any] = {"ProjectArn": project_arn}
    if names:
        kwargs["VersionNames"] = list(names)
    return list(client.describe_project_versions(**kwargs)["ProjectVersionDescriptions"])


def status(client: Any, project_arn: str, name: str) -> str:
    """The status of one version."""
    (description,) = describe(client, project_arn, name)
    return str(description["Status"])


def copy(client: Any, source: tuple[str, str], destination_project: str, name: str, **extra: Any) -> str:
    """CopyProjectVersion; returns the new version ARN."""
    response = client.copy_project_version(
        SourceProjectArn=source[0],
        SourceProjectVersionArn=source[1],
        DestinationProjectArn=destination_project,
        VersionName=name,
        OutputConfig=OUTPUT,
        **extra,
    )
    return str(response["ProjectVersionArn"])


def policy(principal: Any, resource: str, **statement: Any) -> str:
    """A project policy document allowing CopyProjectVersion."""
    body = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "rekognition:CopyProjectVersion",
        "Resource": resource,
    }
    body.update(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": [body]})


# --- clock ------------------------------------------------------------------------------------------


def test_simulated_clock_moves_only_when_told() -> None:
    clock = SimulatedClock(start=1000.0)
    assert clock.now() == 1000.0
    clock.sleep(30)
    assert clock.advance(0.5) == 1030.5
    clock.set(2000.0)
    assert clock.now() == 2000.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(1999.0)
    assert abs(RealClock().now() - SimulatedClock(RealClock().now()).now()) < 5


def test_set_clock_is_the_one_clock(clock: SimulatedClock) -> None:
    assert custom_labels.get_clock() is clock
    assert custom_labels.now() == clock.now()


# --- projects ---------------------------------------------------------------------------------------


def test_project_lifecycle_and_arn_shape(rek: Any, clock: SimulatedClock) -> None:
    arn = rek.create_project(ProjectName="defects", Tags={"team": "vision"})["ProjectArn"]
    assert PROJECT_ARN_PATTERN.match(arn)
    assert arn == f"arn:aws:rekognition:{REGION}:{DEFAULT_ACCOUNT}:project/defects/{int(clock.now() * 1000)}"
    assert len(arn.rsplit("/", 1)[1]) == 13
    clock.advance(1)
    other = rek.create_project(ProjectName="other")["ProjectArn"]

    projects = rek.describe_projects()["ProjectDescriptions"]
    assert [p["ProjectArn"] for p in projects] == [other, arn]  # newest first
    assert projects[1]["Status"] == "CREATED" and projects[1]["Feature"] == "CUSTOM_LABELS"
    assert rek.describe_projects(ProjectNames=["defects"])["ProjectDescriptions"][0]["ProjectArn"] == arn
    assert rek.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "vision"}

    with pytest.raises(rek.exceptions.ResourceInUseException):
        rek.create_project(ProjectName="defects")
    assert rek.delete_project(ProjectArn=arn)["Status"] == "DELETING"
    assert rek.describe_projects(ProjectNames=["defects"])["ProjectDescriptions"] == []
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        rek.delete_project(ProjectArn=arn)


def test_describe_projects_paginates(rek: Any, clock: SimulatedClock) -> None:
    for index in range(5):
        rek.create_project(ProjectName=f"p{index}")
    pages = rek.get_paginator("describe_projects").paginate(PaginationConfig={"PageSize": 2})
    names = [p["ProjectArn"].split("/")[1] for page in pages for p in page["ProjectDescriptions"]]
    assert names == ["p4", "p3", "p2", "p1", "p0"]


# --- versions ---------------------------------------------------------------------------------------


def test_create_project_version_trains_then_completes(rek: Any, clock: SimulatedClock) -> None:
    custom_labels.config.training_duration = 600
    project = rek.create_project(ProjectName="defects")["ProjectArn"]
    arn = rek.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT, VersionDescription="first"
    )["ProjectVersionArn"]
    assert VERSION_ARN_PATTERN.match(arn)
    assert arn == f"{project.rsplit('/', 1)[0]}/version/v1/{int(clock.now() * 1000)}"

    (training,) = describe(rek, project)
    assert training["Status"] == "TRAINING_IN_PROGRESS"
    assert "TrainingEndTimestamp" not in training and "EvaluationResult" not in training
    clock.advance(600)
    (trained,) = describe(rek, project)
    assert trained["Status"] == "TRAINING_COMPLETED"
    assert trained["StatusMessage"]
    assert trained["OutputConfig"] == OUTPUT
    assert trained["VersionDescription"] == "first"
    assert trained["TrainingEndTimestamp"].timestamp() == pytest.approx(clock.now())
    assert 0 < trained["EvaluationResult"]["F1Score"] <= 1
    with pytest.raises(rek.exceptions.ResourceInUseException):
        rek.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)


def test_training_failure_fault(rek: Any) -> None:
    custom_labels.faults.fail_next_training("bad manifest")
    project = rek.create_project(ProjectName="defects")["ProjectArn"]
    rek.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)
    (failed,) = describe(rek, project)
    assert (failed["Status"], failed["StatusMessage"]) == ("TRAINING_FAILED", "bad manifest")


def test_describe_project_versions_newest_first_pagination_and_filter(
    rek: Any, clock: SimulatedClock
) -> None:
    project = rek.create_project(ProjectName="defects")["ProjectArn"]
    for index in range(5):
        rek.create_project_version(ProjectArn=project, VersionName=f"v{index}", OutputConfig=OUTPUT)
        clock.advance(1)

    first = rek.describe_project_versions(ProjectArn=project, MaxResults=2)
    assert [d["ProjectVersionArn"].split("/")[-2] for d in first["ProjectVersionDescriptions"]] == [
        "v4",
        "v3",
    ]
    pages = rek.get_paginator("describe_project_versions").paginate(
        ProjectArn=project, PaginationConfig={"PageSize": 2}
    )
    names = [d["ProjectVersionArn"].split("/")[-2] for p in pages for d in p["ProjectVersionDescriptions"]]
    assert names == ["v4", "v3", "v2", "v1", "v0"]
    assert "NextToken" not in rek.describe_project_versions(ProjectArn=project, MaxResults=5)

    filtered = describe(rek, project, "v1", "v3", "missing")
    assert [d["ProjectVersionArn"].split("/")[-2] for d in filtered] == ["v3", "v1"]
    assert describe(rek, project, "missing") == []

    with pytest.raises(rek.exceptions.InvalidParameterException, match="versionNames"):
        describe(rek, project, *[f"n{i}" for i in range(11)])  # 1-10 names
    with pytest.raises(rek.exceptions.InvalidPaginationTokenException):
        rek.describe_project_versions(ProjectArn=project, NextToken="not-a-token")
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        rek.describe_project_versions(ProjectArn=project.replace("/defects/", "/nothing/"))


@given(
    count=st.integers(min_value=0, max_value=12),
    page_size=st.integers(min_value=1, max_value=5),
    descending=st.booleans(),
)
def test_paginate_visits_every_item_once_in_order(count: int, page_size: int, descending: bool) -> None:
    items = [(float(i // 3), i) for i in range(count)]  # equal times: ties broken by sequence
    seen: list[tuple[float, int]] = []
    token: str | None = None
    while True:
        page, token = paginate(
            items, lambda i: i, max_results=page_size, next_token=token, descending=descending
        )
        seen.extend(page)
        if token is None:
            break
    assert seen == sorted(items, reverse=descending)


# --- copies -----------------------------------------------------------------------------------------


def test_copy_lifecycle_same_account(rek: Any, clock: SimulatedClock) -> None:
    source = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    arn = copy(rek, source, destination, "prod-1", Tags={"stage": "prod"}, KmsKeyId=key)
    assert VERSION_ARN_PATTERN.match(arn)
    assert arn.startswith(f"{destination.rsplit('/', 1)[0]}/version/prod-1/")

    (copying,) = describe(rek, destination)
    assert copying["Status"] == "COPYING_IN_PROGRESS"
    assert copying["SourceProjectVersionArn"] == source[1]
    assert copying["KmsKeyId"] == key and copying["OutputConfig"] == OUTPUT
    assert rek.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"stage": "prod"}

    clock.advance(custom_labels.config.copy_duration - 1)
    assert status(rek, destination, "prod-1") == "COPYING_IN_PROGRESS"
    clock.advance(1)
    assert status(rek, destination, "prod-1") == "COPYING_COMPLETED"
    assert status(rek, source[0], "v1") == "TRAINING_COMPLETED"  # the source is untouched


def test_copy_duration_is_configurable(rek: Any, clock: SimulatedClock) -> None:
    custom_labels.config.copy_duration = 0
    source = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    copy(rek, source, destination, "prod-1")
    assert status(rek, destination, "prod-1") == "COPYING_COMPLETED"


def test_copy_failure_via_fault(rek: Any, clock: SimulatedClock) -> None:
    custom_labels.faults.fail_next_copy(status_message="The output bucket is not accessible.")
    source = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    copy(rek, source, destination, "prod-1")
    assert status(rek, destination, "prod-1") == "COPYING_IN_PROGRESS"
    clock.advance(custom_labels.config.copy_duration)
    (failed,) = describe(rek, destination, "prod-1")
    assert failed["Status"] == "COPYING_FAILED"
    assert failed["StatusMessage"] == "The output bucket is not accessible."
    copy(rek, source, destination, "prod-2")  # only the next copy fails
    clock.advance(custom_labels.config.copy_duration)
    assert status(rek, destination, "prod-2") == "COPYING_COMPLETED"


def test_copy_with_an_existing_version_name_is_resource_in_use(rek: Any) -> None:
    source = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    copy(rek, source, destination, "prod-1")
    with pytest.raises(rek.exceptions.ResourceInUseException):
        copy(rek, source, destination, "prod-1")
    assert len(describe(rek, destination)) == 1


def test_copy_requires_existing_resources_same_region_and_trained_source(
    rek: Any, clock: SimulatedClock
) -> None:
    source = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    missing_project = destination.replace("/prod/", "/missing/")
    missing_version = source[1].replace("/version/v1/", "/version/v9/")
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        copy(rek, source, missing_project, "x")
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        copy(
            rek,
            (source[0].replace("/dev/", "/nope/"), source[1].replace("/dev/", "/nope/")),
            destination,
            "x",
        )
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        copy(rek, (source[0], missing_version), destination, "x")
    other_region = (source[0].replace(REGION, "eu-west-1"), source[1].replace(REGION, "eu-west-1"))
    with pytest.raises(rek.exceptions.InvalidParameterException, match="Region"):
        copy(rek, other_region, destination, "x")

    custom_labels.config.training_duration = 3600
    training = rek.create_project_version(ProjectArn=source[0], VersionName="v2", OutputConfig=OUTPUT)
    with pytest.raises(rek.exceptions.ResourceInUseException, match="TRAINING_IN_PROGRESS"):
        copy(rek, (source[0], training["ProjectVersionArn"]), destination, "x")
    clock.advance(3600)
    copy(rek, (source[0], training["ProjectVersionArn"]), destination, "x")


def test_sts_assume_role_switches_account(clock: SimulatedClock) -> None:
    identity = client_in(DEST_ACCOUNT, service="sts").get_caller_identity()
    assert identity["Account"] == DEST_ACCOUNT
    project = client_in(DEST_ACCOUNT).create_project(ProjectName="prod")["ProjectArn"]
    assert f":{DEST_ACCOUNT}:project/prod/" in project
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:  # another account's project
        client_in(SOURCE_ACCOUNT).describe_project_versions(ProjectArn=project)
    assert error_code(excinfo) == "AccessDeniedException"


@pytest.mark.parametrize(
    ("principal", "resource"),
    [
        (f"arn:aws:iam::{DEST_ACCOUNT}:role/copier", "{version}"),
        (f"arn:aws:iam::{DEST_ACCOUNT}:root", "{version}"),
        (DEST_ACCOUNT, "{version}"),
        (
            [f"arn:aws:iam::{DEST_ACCOUNT}:role/someone-else", f"arn:aws:iam::{DEST_ACCOUNT}:role/copier"],
            "{version}",
        ),
        (f"arn:aws:iam::{DEST_ACCOUNT}:role/copier", "{project}/version/*"),
    ],
)
def test_cross_account_copy_allowed_by_project_policy(
    clock: SimulatedClock, principal: Any, resource: str
) -> None:
    source = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev", "v1")
    owner, copier = client_in(SOURCE_ACCOUNT, "admin"), client_in(DEST_ACCOUNT, "copier")
    ensure_role(DEST_ACCOUNT, "someone-else")  # a role principal must exist when the policy is put
    destination = copier.create_project(ProjectName="prod")["ProjectArn"]

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        copy(copier, source, destination, "prod-1")
    assert error_code(excinfo) == "AccessDeniedException"

    project_prefix = source[0].rsplit("/", 1)[0]
    document = policy(principal, resource.format(version=source[1], project=project_prefix))
    owner.put_project_policy(ProjectArn=source[0], PolicyName="dest", PolicyDocument=document)
    arn = copy(copier, source, destination, "prod-1")
    assert f":{DEST_ACCOUNT}:project/prod/version/prod-1/" in arn
    assert describe(copier, destination)[0]["SourceProjectVersionArn"] == source[1]
    clock.advance(custom_labels.config.copy_duration)
    assert status(copier, destination, "prod-1") == "COPYING_COMPLETED"
    assert custom_labels.calls.count("CopyProjectVersion", DEST_ACCOUNT) == 2


@pytest.mark.parametrize(
    "document",
    [
        policy(f"arn:aws:iam::{DEST_ACCOUNT}:role/someone-else", "*"),
        policy(f"arn:aws:iam::{SOURCE_ACCOUNT}:root", "*"),
        policy(f"arn:aws:iam::{DEST_ACCOUNT}:root", "arn:aws:rekognition:us-east-1:111111111111:project/x/*"),
    ],
    ids=["other-role", "other-account", "other-resource"],
)
def test_cross_account_copy_denied_when_policy_does_not_match(clock: SimulatedClock, document: str) -> None:
    source = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev", "v1")
    ensure_role(DEST_ACCOUNT, "someone-else")  # a role principal must exist when the policy is put
    client_in(SOURCE_ACCOUNT, "admin").put_project_policy(
        ProjectArn=source[0], PolicyName="dest", PolicyDocument=document
    )
    copier = client_in(DEST_ACCOUNT)
    destination = copier.create_project(ProjectName="prod")["ProjectArn"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        copy(copier, source, destination, "prod-1")
    assert error_code(excinfo) == "AccessDeniedException"


def test_explicit_deny_wins(clock: SimulatedClock) -> None:
    source = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev", "v1")
    owner = client_in(SOURCE_ACCOUNT, "admin")
    owner.put_project_policy(
        ProjectArn=source[0],
        PolicyName="allow",
        PolicyDocument=policy(f"arn:aws:iam::{DEST_ACCOUNT}:root", "*"),
    )
    owner.put_project_policy(
        ProjectArn=source[0],
        PolicyName="deny",
        PolicyDocument=policy(DEST_ACCOUNT, source[1], Effect="Deny"),
    )
    copier = client_in(DEST_ACCOUNT)
    destination = copier.create_project(ProjectName="prod")["ProjectArn"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        copy(copier, source, destination, "prod-1")
    assert error_code(excinfo) == "AccessDeniedException"


def test_copy_into_another_accounts_project_is_denied(clock: SimulatedClock) -> None:
    source = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev", "v1")
    destination = client_in(DEST_ACCOUNT).create_project(ProjectName="prod")["ProjectArn"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        copy(client_in(SOURCE_ACCOUNT), source, destination, "prod-1")
    assert error_code(excinfo) == "AccessDeniedException"


# --- project policies -------------------------------------------------------------------------------


def test_policy_revision_semantics(rek: Any, clock: SimulatedClock) -> None:
    project, version = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    document = policy(DEST_ACCOUNT, version)
    first = rek.put_project_policy(ProjectArn=project, PolicyName="p", PolicyDocument=document)[
        "PolicyRevisionId"
    ]
    assert POLICY_REVISION_PATTERN.fullmatch(first) and len(first) <= 64

    with pytest.raises(rek.exceptions.InvalidPolicyRevisionIdException):  # exists, no revision id
        rek.put_project_policy(ProjectArn=project, PolicyName="p", PolicyDocument=document)
    with pytest.raises(rek.exceptions.InvalidPolicyRevisionIdException):  # stale revision id
        rek.put_project_policy(
            ProjectArn=project, PolicyName="p", PolicyDocument=document, PolicyRevisionId="abc"
        )
    with pytest.raises(rek.exceptions.InvalidPolicyRevisionIdException):  # new name with a revision id
        rek.put_project_policy(
            ProjectArn=project, PolicyName="q", PolicyDocument=document, PolicyRevisionId=first
        )

    clock.advance(10)
    updated = policy(f"arn:aws:iam::{DEST_ACCOUNT}:root", version)
    second = rek.put_project_policy(
        ProjectArn=project, PolicyName="p", PolicyDocument=updated, PolicyRevisionId=first
    )["PolicyRevisionId"]
    assert second != first
    (listed,) = rek.list_project_policies(ProjectArn=project)["ProjectPolicies"]
    assert listed["ProjectArn"] == project and listed["PolicyName"] == "p"
    assert listed["PolicyRevisionId"] == second and json.loads(listed["PolicyDocument"]) == json.loads(
        updated
    )
    assert (listed["LastUpdatedTimestamp"] - listed["CreationTimestamp"]).total_seconds() == pytest.approx(10)

    with pytest.raises(rek.exceptions.InvalidPolicyRevisionIdException):
        rek.delete_project_policy(ProjectArn=project, PolicyName="p", PolicyRevisionId=first)
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        rek.delete_project_policy(ProjectArn=project, PolicyName="missing")
    rek.delete_project_policy(ProjectArn=project, PolicyName="p", PolicyRevisionId=second)
    assert rek.list_project_policies(ProjectArn=project)["ProjectPolicies"] == []
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        rek.put_project_policy(
            ProjectArn=project.replace("/dev/", "/none/"), PolicyName="p", PolicyDocument=document
        )


def test_at_most_five_policies_and_listing_paginates(rek: Any, clock: SimulatedClock) -> None:
    project, version = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    for index in range(5):
        rek.put_project_policy(
            ProjectArn=project, PolicyName=f"p{index}", PolicyDocument=policy(DEST_ACCOUNT, "*")
        )
    with pytest.raises(rek.exceptions.LimitExceededException):
        rek.put_project_policy(ProjectArn=project, PolicyName="p5", PolicyDocument=policy(DEST_ACCOUNT, "*"))
    pages = rek.get_paginator("list_project_policies").paginate(
        ProjectArn=project, PaginationConfig={"PageSize": 2}
    )
    assert [p["PolicyName"] for page in pages for p in page["ProjectPolicies"]] == [f"p{i}" for i in range(5)]


def _statement(**fields: Any) -> str:
    base: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{DEST_ACCOUNT}:root"},
        "Action": "rekognition:CopyProjectVersion",
        "Resource": "*",
    }
    base.update(fields)
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{k: v for k, v in base.items() if v is not None}]}
    )


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        json.dumps({"Version": "2012-10-17"}),
        _statement(Action="rekognition:DeleteProjectVersion"),
        _statement(Action="rekognition:*"),
        _statement(Action=None, NotAction="rekognition:DeleteProjectVersion"),
        _statement(Resource=None, NotResource="*"),
        _statement(Principal=None, NotPrincipal={"AWS": DEST_ACCOUNT}),
        _statement(Effect=None),
        _statement(Effect="Maybe"),
        _statement(Principal={"AWS": "not-a-principal"}),
        _statement(Sid="x" * 2000),
    ],
    ids=[
        "not-json",
        "no-statement",
        "wrong-action",
        "wildcard-action",
        "not-action",
        "not-resource",
        "not-principal",
        "no-effect",
        "bad-effect",
        "bad-principal",
        "over-2000-chars",
    ],
)
def test_malformed_policy_documents_are_rejected(rek: Any, document: str) -> None:
    project, _ = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    with pytest.raises(rek.exceptions.MalformedPolicyDocumentException):
        rek.put_project_policy(ProjectArn=project, PolicyName="p", PolicyDocument=document)
    assert rek.list_project_policies(ProjectArn=project)["ProjectPolicies"] == []


# --- start, stop, delete ----------------------------------------------------------------------------


def test_start_stop_delete_transitions(rek: Any, clock: SimulatedClock) -> None:
    config = custom_labels.config
    project, version = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    with pytest.raises(rek.exceptions.ResourceInUseException):
        rek.stop_project_version(ProjectVersionArn=version)  # not running

    assert (
        rek.start_project_version(ProjectVersionArn=version, MinInferenceUnits=1, MaxInferenceUnits=2)[
            "Status"
        ]
        == "STARTING"
    )
    (starting,) = describe(rek, project)
    assert (starting["Status"], starting["MinInferenceUnits"], starting["MaxInferenceUnits"]) == (
        "STARTING",
        1,
        2,
    )
    with pytest.raises(rek.exceptions.ResourceInUseException):
        rek.delete_project_version(ProjectVersionArn=version)  # STARTING
    clock.advance(config.start_duration)
    assert status(rek, project, "v1") == "RUNNING"
    with pytest.raises(rek.exceptions.ResourceInUseException, match="Stop the model"):
        rek.delete_project_version(ProjectVersionArn=version)
    with pytest.raises(rek.exceptions.ResourceInUseException):
        rek.start_project_version(ProjectVersionArn=version, MinInferenceUnits=1)

    assert rek.stop_project_version(ProjectVersionArn=version)["Status"] == "STOPPING"
    with pytest.raises(rek.exceptions.ResourceInUseException):
        rek.stop_project_version(ProjectVersionArn=version)  # STOPPING is not RUNNING
    clock.advance(config.stop_duration)
    (stopped,) = describe(rek, project)
    assert stopped["Status"] == "STOPPED" and "MinInferenceUnits" not in stopped

    assert rek.delete_project_version(ProjectVersionArn=version)["Status"] == "DELETING"
    assert status(rek, project, "v1") == "DELETING"
    assert rek.delete_project_version(ProjectVersionArn=version)["Status"] == "DELETING"  # repeated delete
    with pytest.raises(rek.exceptions.ResourceInUseException):
        rek.delete_project(ProjectArn=project)  # a version is still there
    clock.advance(config.delete_duration)
    assert describe(rek, project) == []
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        rek.delete_project_version(ProjectVersionArn=version)
    assert rek.delete_project(ProjectArn=project)["Status"] == "DELETING"


def test_max_inference_units_below_min_is_invalid(rek: Any) -> None:
    _, version = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    with pytest.raises(rek.exceptions.InvalidParameterException, match="MaxInferenceUnits"):
        rek.start_project_version(ProjectVersionArn=version, MinInferenceUnits=3, MaxInferenceUnits=2)


def test_delete_while_training_is_refused(rek: Any) -> None:
    custom_labels.config.training_duration = 60
    project = rek.create_project(ProjectName="dev")["ProjectArn"]
    arn = rek.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)[
        "ProjectVersionArn"
    ]
    with pytest.raises(rek.exceptions.ResourceInUseException, match="TRAINING_IN_PROGRESS"):
        rek.delete_project_version(ProjectVersionArn=arn)


@pytest.mark.parametrize("allowed", [False, True])
def test_delete_while_copying_follows_config(rek: Any, clock: SimulatedClock, allowed: bool) -> None:
    custom_labels.config.delete_while_copying_allowed = allowed
    custom_labels.config.delete_duration = 600  # longer than the copy
    source = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    arn = copy(rek, source, destination, "prod-1")
    if not allowed:
        with pytest.raises(rek.exceptions.ResourceInUseException, match="COPYING_IN_PROGRESS"):
            rek.delete_project_version(ProjectVersionArn=arn)
        return
    assert rek.delete_project_version(ProjectVersionArn=arn)["Status"] == "DELETING"
    clock.advance(custom_labels.config.copy_duration)  # the abandoned copy never completes
    assert status(rek, destination, "prod-1") == "DELETING"
    clock.advance(custom_labels.config.delete_duration)
    assert describe(rek, destination) == []


def test_deleted_version_name_can_be_reused(rek: Any, clock: SimulatedClock) -> None:
    custom_labels.config.delete_duration = 0
    source = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    destination = rek.create_project(ProjectName="prod")["ProjectArn"]
    arn = copy(rek, source, destination, "prod-1")
    clock.advance(custom_labels.config.copy_duration)
    rek.delete_project_version(ProjectVersionArn=arn)
    assert describe(rek, destination) == []
    clock.advance(1)
    assert copy(rek, source, destination, "prod-1") != arn


# --- tags -------------------------------------------------------------------------------------------


def test_tags_on_versions_and_projects(rek: Any) -> None:
    project, version = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    rek.tag_resource(ResourceArn=version, Tags={"a": "1", "b": "2"})
    rek.tag_resource(ResourceArn=version, Tags={"b": "3"})
    rek.untag_resource(ResourceArn=version, TagKeys=["a", "never-set"])
    assert rek.list_tags_for_resource(ResourceArn=version)["Tags"] == {"b": "3"}
    rek.tag_resource(ResourceArn=project, Tags={"owner": "ml"})
    assert rek.list_tags_for_resource(ResourceArn=project)["Tags"] == {"owner": "ml"}

    with pytest.raises(rek.exceptions.InvalidParameterException):
        rek.tag_resource(ResourceArn=version, Tags={"aws:reserved": "x"})
    with pytest.raises(rek.exceptions.InvalidParameterException):  # past botocore's pattern: the emulator's
        rek.tag_resource(ResourceArn=version, Tags={"AWS:reserved": "x"})
    with pytest.raises(rek.exceptions.InvalidParameterException):
        rek.tag_resource(ResourceArn=version, Tags={"k" * 129: "x"})
    with pytest.raises(rek.exceptions.InvalidParameterException):
        rek.tag_resource(ResourceArn=version, Tags={"k": "v" * 257})
    with pytest.raises(rek.exceptions.InvalidParameterException):
        rek.tag_resource(ResourceArn=version, Tags={f"k{i}": "v" for i in range(201)})
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        rek.list_tags_for_resource(ResourceArn=version.replace("/v1/", "/v2/"))
    with pytest.raises(rek.exceptions.InvalidParameterException):
        rek.list_tags_for_resource(ResourceArn="arn:aws:s3:::some-bucket-name")
    with pytest.raises(rek.exceptions.InvalidParameterException):  # aws: prefix on copies too
        copy(rek, (project, version), project, "v2", Tags={"aws:cloudformation:stack-name": "x"})


# --- faults, validation, accounting -----------------------------------------------------------------


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError", "LimitExceededException"])
def test_injected_errors_surface_as_client_errors(rek: Any, code: str) -> None:
    project = rek.create_project(ProjectName="dev")["ProjectArn"]
    custom_labels.faults.inject("DescribeProjectVersions", code, times=2)
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            describe(rek, project)
        assert error_code(excinfo) == code
    assert describe(rek, project) == []
    assert custom_labels.calls.count("DescribeProjectVersions") == 3
    assert custom_labels.call_counts()[(DEFAULT_ACCOUNT, "DescribeProjectVersions")] == 3


def test_faults_can_target_one_account_and_last_until_cleared(clock: SimulatedClock) -> None:
    custom_labels.faults.inject("CreateProject", "AccessDeniedException", times=None, account_id=DEST_ACCOUNT)
    client_in(SOURCE_ACCOUNT).create_project(ProjectName="a")
    dest = client_in(DEST_ACCOUNT)
    for name in ("b", "c"):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            dest.create_project(ProjectName=name)
        assert error_code(excinfo) == "AccessDeniedException"
    custom_labels.faults.clear()
    dest.create_project(ProjectName="d")
    assert custom_labels.calls.count("CreateProject", account_id=DEST_ACCOUNT) == 3
    with pytest.raises(ValueError):
        custom_labels.faults.inject("CreateProject", "NoSuchError")
    with pytest.raises(ValueError):
        custom_labels.faults.inject("NoSuchOperation", "ThrottlingException")


def test_retrying_client_rides_out_throttling(clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # botocore's backoff
    client = boto3.client("rekognition", region_name=REGION, config=Config(retries={"max_attempts": 3}))
    custom_labels.faults.inject("CreateProject", "ThrottlingException", times=2)
    assert client.create_project(ProjectName="dev")["ProjectArn"]
    assert custom_labels.calls.count("CreateProject") == 3


def test_parameter_validation(rek: Any) -> None:
    project = rek.create_project(ProjectName="dev")["ProjectArn"]
    with pytest.raises(botocore.exceptions.ParamValidationError):  # client-side: required member
        rek.create_project_version(ProjectArn=project, VersionName="v1")
    with pytest.raises(rek.exceptions.InvalidParameterException, match="versionName"):  # server-side pattern
        rek.create_project_version(ProjectArn=project, VersionName="bad name!", OutputConfig=OUTPUT)
    with pytest.raises(rek.exceptions.InvalidParameterException, match="projectName"):  # server-side max
        rek.create_project(ProjectName="p" * 256)
    with pytest.raises(rek.exceptions.InvalidParameterException, match="projectArn"):
        rek.describe_project_versions(ProjectArn="arn:aws:rekognition:us-east-1:123456789012:project/x")

    unvalidated = boto3.client(
        "rekognition",
        region_name=REGION,
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        unvalidated.copy_project_version(SourceProjectArn=project, VersionName="v1")
    assert error_code(excinfo) == "InvalidParameterException"
    message = excinfo.value.response["Error"]["Message"]
    assert "sourceProjectVersionArn" in message and "destinationProjectArn" in message


def test_reset_clears_state_faults_counts_and_config(clock: SimulatedClock) -> None:
    custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
    custom_labels.config.copy_duration = 1
    custom_labels.faults.inject("CreateProject", "ThrottlingException", times=None)
    custom_labels.calls.record(DEFAULT_ACCOUNT, "CreateProject")
    custom_labels.reset(clock=clock)
    assert custom_labels.backend(DEFAULT_ACCOUNT, REGION).projects == {}
    assert custom_labels.config.copy_duration == 180
    assert custom_labels.call_counts() == {}
    assert custom_labels.get_clock() is clock
    custom_labels.install()  # idempotent
    rek = boto3.client("rekognition", region_name=REGION, config=NO_RETRIES)
    assert rek.create_project(ProjectName="dev")["ProjectArn"]


def test_a_new_mock_aws_starts_empty() -> None:
    custom_labels.reset(clock=SimulatedClock())
    with mock_aws():
        custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
        assert custom_labels.backend(DEFAULT_ACCOUNT, REGION).projects
    with mock_aws():  # moto resets every BackendDict, ours included
        assert custom_labels.backend(DEFAULT_ACCOUNT, REGION).projects == {}
    custom_labels.reset()


def test_moto_server_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clock = SimulatedClock()
    custom_labels.reset(clock=clock)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = boto3.client(
            "rekognition", region_name=REGION, endpoint_url=f"http://{host}:{port}", config=NO_RETRIES
        )
        destination = client.create_project(ProjectName="prod")["ProjectArn"]
        source = custom_labels.seed_trained_version(DEFAULT_ACCOUNT, REGION, "dev", "v1")
        arn = copy(client, source, destination, "prod-1")
        assert status(client, destination, "prod-1") == "COPYING_IN_PROGRESS"
        clock.advance(custom_labels.config.copy_duration)
        (copied,) = describe(client, destination)
        assert (copied["ProjectVersionArn"], copied["Status"]) == (arn, "COPYING_COMPLETED")
        with pytest.raises(client.exceptions.ResourceInUseException):
            copy(client, source, destination, "prod-1")
    finally:
        server.stop()
        custom_labels.reset()
