"""The emulator authorizes every Custom Labels call like AWS: identity policies, project, bucket and key
policies, and what the service does with the caller's credentials (S3 output, KMS keys).

Roles are created in moto IAM with exactly the identity policy a test gives; calls go through real boto3
clients with the role's assumed-role credentials.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from moto.iam.models import iam_backends

from emulator import custom_labels
from emulator.clock import SimulatedClock
from emulator.custom_labels import iam_actions
from emulator.custom_labels.authz import unenforced
from emulator.iam import ensure_role
from tests.conftest import role_client

REGION = "us-east-1"
SOURCE = "111111111111"
DEST = "222222222222"
BUCKET = "prod-models"
PREFIX = "copies/v1/"
OUTPUT = {"S3Bucket": BUCKET, "S3KeyPrefix": PREFIX}

S3_OUTPUT: list[dict[str, Any]] = [
    {
        "Effect": "Allow",
        "Action": ["s3:GetBucketLocation", "s3:GetBucketAcl"],
        "Resource": f"arn:aws:s3:::{BUCKET}",
    },
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{BUCKET}",
        "Condition": {"StringLike": {"s3:prefix": "copies/*"}},
    },
    {
        "Effect": "Allow",
        "Action": [
            "s3:PutObject",
            "s3:GetObject",
            "s3:GetObjectAcl",
            "s3:GetObjectTagging",
            "s3:GetObjectVersion",
        ],
        "Resource": f"arn:aws:s3:::{BUCKET}/copies/*",
    },
]
COPY: list[dict[str, Any]] = [
    {
        "Effect": "Allow",
        "Action": ["rekognition:CopyProjectVersion", "rekognition:CreateProjectVersion"],
        "Resource": "*",
    },
    *S3_OUTPUT,
]


def doc(*statements: dict[str, Any]) -> str:
    """A policy document."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def as_role(account: str, name: str, *statements: dict[str, Any], service: str = "rekognition") -> Any:
    """A client of ``service`` acting as role ``name`` of ``account``, created with exactly ``statements``
    (no identity policy at all when none are given)."""
    backend = iam_backends[account]["aws"]
    if not any(role.name == name for role in backend.roles.values()):
        backend.create_role(name, "{}", "/", None, "", [], None)
    role = backend.get_role(name)
    role.policies.clear()
    if statements:
        role.policies["test"] = doc(*statements)
    return role_client(account, name, service)


def admin(account: str, service: str) -> Any:
    """A client of an administrator role of ``account``."""
    ensure_role(account, "admin")
    return as_role(account, "admin", {"Effect": "Allow", "Action": "*", "Resource": "*"}, service=service)


def denied(call: Any, **kwargs: Any) -> str:
    """Make a call that must be denied; return the AccessDenied message."""
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call(**kwargs)
    assert excinfo.value.response["Error"]["Code"] == "AccessDeniedException", excinfo.value
    return str(excinfo.value.response["Error"]["Message"])


def session_arn(account: str, name: str) -> str:
    """How AWS names an assumed-role caller."""
    return f"arn:aws:sts::{account}:assumed-role/{name}/test"


@pytest.fixture
def world(clock: SimulatedClock) -> dict[str, Any]:
    """A trained model in SOURCE, a destination project and output bucket in DEST."""
    source = custom_labels.seed_trained_version(SOURCE, REGION, "dev", "v1")
    same = custom_labels.seed_trained_version(DEST, REGION, "dev", "v1")
    destination = admin(DEST, "rekognition").create_project(ProjectName="prod")["ProjectArn"]
    admin(DEST, "s3").create_bucket(Bucket=BUCKET)
    return {"source": source, "same": same, "destination": destination}


def copy(client: Any, source: tuple[str, str], destination: str, name: str = "prod-1", **extra: Any) -> Any:
    """CopyProjectVersion with the standard output."""
    return client.copy_project_version(
        SourceProjectArn=source[0],
        SourceProjectVersionArn=source[1],
        DestinationProjectArn=destination,
        VersionName=name,
        OutputConfig=extra.pop("OutputConfig", OUTPUT),
        **extra,
    )


def allow_copy_from(project_arn: str, principal: str, name: str = "promotion") -> None:
    """The source account's project policy allowing ``principal`` to copy every version of the project."""
    admin(SOURCE, "rekognition").put_project_policy(
        ProjectArn=project_arn,
        PolicyName=name,
        PolicyDocument=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "rekognition:CopyProjectVersion",
                "Resource": f"{project_arn.rsplit('/', 1)[0]}/version/*",
            }
        ),
    )


# --- identity policies ---------------------------------------------------------------------------------
def test_a_role_without_policies_is_denied_with_aws_wording(clock: SimulatedClock) -> None:
    client = as_role(DEST, "nobody")
    message = denied(client.describe_projects)
    assert message == (
        f"User: {session_arn(DEST, 'nobody')} is not authorized to perform: rekognition:DescribeProjects "
        "on resource: * because no identity-based policy allows the rekognition:DescribeProjects action"
    )


def test_the_unenforced_baseline_allows_anything(clock: SimulatedClock) -> None:
    client = as_role(DEST, "nobody")
    with unenforced():
        assert client.describe_projects()["ProjectDescriptions"] == []
    denied(client.describe_projects)  # and enforcement is back


def test_copy_needs_create_project_version_on_the_destination(world: dict[str, Any]) -> None:
    client = as_role(
        DEST,
        "copier",
        {"Effect": "Allow", "Action": "rekognition:CopyProjectVersion", "Resource": "*"},
        *S3_OUTPUT,
    )
    message = denied(copy, client=client, source=world["same"], destination=world["destination"])
    assert message == (
        f"User: {session_arn(DEST, 'copier')} is not authorized to perform: rekognition:CreateProjectVersion "
        f"on resource: {world['destination']} because no identity-based policy allows the "
        "rekognition:CreateProjectVersion action"
    )
    as_role(DEST, "copier", *COPY)
    assert copy(client, world["same"], world["destination"])["ProjectVersionArn"]


def test_copy_evaluates_copy_on_source_project_version_and_destination(world: dict[str, Any]) -> None:
    only_destination = {
        "Effect": "Allow",
        "Action": ["rekognition:CopyProjectVersion", "rekognition:CreateProjectVersion"],
        "Resource": world["destination"],
    }
    client = as_role(DEST, "copier", only_destination, *S3_OUTPUT)
    message = denied(copy, client=client, source=world["same"], destination=world["destination"])
    assert f"rekognition:CopyProjectVersion on resource: {world['same'][0]} " in message


def test_tags_on_a_copy_need_tag_resource_on_the_new_version(world: dict[str, Any]) -> None:
    client = as_role(DEST, "copier", *COPY)
    message = denied(
        copy, client=client, source=world["same"], destination=world["destination"], Tags={"a": "b"}
    )
    prefix = world["destination"].rsplit("/", 1)[0]
    assert f"rekognition:TagResource on resource: {prefix}/version/prod-1/" in message
    as_role(
        DEST,
        "copier",
        *COPY,
        {
            "Effect": "Allow",
            "Action": "rekognition:TagResource",
            "Resource": f"{prefix}/version/*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
        },
    )
    arn = copy(client, world["same"], world["destination"], Tags={"a": "b"})["ProjectVersionArn"]
    assert admin(DEST, "rekognition").list_tags_for_resource(ResourceArn=arn)["Tags"] == {"a": "b"}


def test_an_explicit_deny_in_the_identity_policy_wins(world: dict[str, Any]) -> None:
    client = as_role(
        DEST,
        "copier",
        *COPY,
        {"Effect": "Deny", "Action": "rekognition:CopyProjectVersion", "Resource": world["same"][1]},
    )
    message = denied(copy, client=client, source=world["same"], destination=world["destination"])
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_resource_tag_conditions_are_evaluated(world: dict[str, Any]) -> None:
    rekognition = admin(DEST, "rekognition")
    client = as_role(
        DEST,
        "reader",
        {
            "Effect": "Allow",
            "Action": "rekognition:DescribeProjectVersions",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/stage": "prod"}},
        },
    )
    message = denied(client.describe_project_versions, ProjectArn=world["destination"])
    assert "rekognition:DescribeProjectVersions" in message
    rekognition.tag_resource(ResourceArn=world["destination"], Tags={"stage": "prod"})
    assert (
        client.describe_project_versions(ProjectArn=world["destination"])["ProjectVersionDescriptions"] == []
    )


def test_a_deleted_role_is_allowed_nothing(world: dict[str, Any]) -> None:
    client = as_role(DEST, "copier", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    iam_backends[DEST]["aws"].get_role("copier").policies.clear()
    iam_backends[DEST]["aws"].delete_role("copier")
    denied(client.describe_projects)


# --- cross-account: the project policy ------------------------------------------------------------------
def test_cross_account_copy_needs_the_project_policy_and_the_identity_policy(world: dict[str, Any]) -> None:
    client = as_role(DEST, "copier", *COPY)
    message = denied(copy, client=client, source=world["source"], destination=world["destination"])
    assert message == (
        f"User: {session_arn(DEST, 'copier')} is not authorized to perform: rekognition:CopyProjectVersion "
        f"on resource: {world['source'][1]} because no resource-based policy allows the "
        "rekognition:CopyProjectVersion action"
    )
    allow_copy_from(world["source"][0], f"arn:aws:iam::{DEST}:root")
    as_role(
        DEST,
        "copier",
        *S3_OUTPUT,
        {"Effect": "Allow", "Action": "rekognition:CreateProjectVersion", "Resource": "*"},
    )
    message = denied(copy, client=client, source=world["source"], destination=world["destination"])
    assert "because no identity-based policy allows the rekognition:CopyProjectVersion action" in message
    as_role(DEST, "copier", *COPY)
    assert copy(client, world["source"], world["destination"])["ProjectVersionArn"]


def test_a_project_policy_naming_a_missing_principal_is_malformed(world: dict[str, Any]) -> None:
    owner = admin(SOURCE, "rekognition")
    with pytest.raises(owner.exceptions.MalformedPolicyDocumentException) as excinfo:
        allow_copy_from(world["source"][0], f"arn:aws:iam::{DEST}:role/not-yet")
    assert f"'arn:aws:iam::{DEST}:role/not-yet': it does not exist" in str(excinfo.value)
    allow_copy_from(world["source"][0], DEST, "account-id")  # an account is always fine
    allow_copy_from(world["source"][0], f"arn:aws:iam::{DEST}:root", "account-root")


def test_a_recreated_role_no_longer_matches_the_project_policy(world: dict[str, Any]) -> None:
    client = as_role(DEST, "copier", *COPY)
    role_arn = f"arn:aws:iam::{DEST}:role/copier"
    old_id = iam_backends[DEST]["aws"].get_role("copier").id
    allow_copy_from(world["source"][0], role_arn)
    assert copy(client, world["source"], world["destination"], "prod-1")["ProjectVersionArn"]

    backend = iam_backends[DEST]["aws"]
    backend.get_role("copier").policies.clear()
    backend.delete_role("copier")
    client = as_role(DEST, "copier", *COPY)  # same name, new unique id
    message = denied(
        copy, client=client, source=world["source"], destination=world["destination"], name="prod-2"
    )
    assert "because no resource-based policy allows the rekognition:CopyProjectVersion action" in message
    (listed,) = admin(SOURCE, "rekognition").list_project_policies(ProjectArn=world["source"][0])[
        "ProjectPolicies"
    ]
    assert json.loads(listed["PolicyDocument"])["Statement"][0]["Principal"] == {"AWS": old_id}


# --- what the service does with the caller's credentials: S3 ---------------------------------------------
def test_the_copy_writes_under_the_output_prefix_as_the_caller(world: dict[str, Any]) -> None:
    client = as_role(DEST, "copier", *COPY)
    message = denied(
        copy,
        client=client,
        source=world["same"],
        destination=world["destination"],
        OutputConfig={"S3Bucket": BUCKET, "S3KeyPrefix": "elsewhere/"},
    )
    assert message == (
        f"User: {session_arn(DEST, 'copier')} is not authorized to perform: s3:ListBucket on resource: "
        f"arn:aws:s3:::{BUCKET} because no identity-based policy allows the s3:ListBucket action"
    )
    assert copy(client, world["same"], world["destination"])["ProjectVersionArn"]


@pytest.mark.parametrize(
    "missing",
    ["s3:GetBucketLocation", "s3:GetBucketAcl", "s3:PutObject", "s3:GetObjectAcl", "s3:GetObjectTagging"],
)
def test_each_s3_action_of_the_output_is_needed(world: dict[str, Any], missing: str) -> None:
    client = as_role(DEST, "copier", *COPY, {"Effect": "Deny", "Action": missing, "Resource": "*"})
    message = denied(copy, client=client, source=world["same"], destination=world["destination"])
    assert f"perform: {missing} on resource: arn:aws:s3:::{BUCKET}" in message


def test_an_output_bucket_of_another_account_needs_its_bucket_policy(world: dict[str, Any]) -> None:
    admin(SOURCE, "s3").create_bucket(Bucket="shared-output")
    output = {"S3Bucket": "shared-output", "S3KeyPrefix": PREFIX}
    everything_s3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    client = as_role(DEST, "copier", *COPY, everything_s3)
    message = denied(
        copy, client=client, source=world["same"], destination=world["destination"], OutputConfig=output
    )
    assert message.endswith("because no resource-based policy allows the s3:GetBucketLocation action")
    admin(SOURCE, "s3").put_bucket_policy(
        Bucket="shared-output",
        Policy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEST}:role/copier"},
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::shared-output", "arn:aws:s3:::shared-output/*"],
            }
        ),
    )
    assert copy(client, world["same"], world["destination"], OutputConfig=output)["ProjectVersionArn"]


# --- KMS: the output key and the source model's key -------------------------------------------------------
KMS_USE: dict[str, Any] = {
    "Effect": "Allow",
    "Action": ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
    "Resource": "*",
    "Condition": {"StringEquals": {"kms:ViaService": f"rekognition.{REGION}.amazonaws.com"}},
}
KMS_GRANT: dict[str, Any] = {
    "Effect": "Allow",
    "Action": "kms:CreateGrant",
    "Resource": "*",
    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
}


def test_the_output_key_needs_identity_and_key_policy(world: dict[str, Any]) -> None:
    key = admin(DEST, "kms").create_key()["KeyMetadata"]["Arn"]  # default key policy: the account
    client = as_role(DEST, "copier", *COPY)
    message = denied(
        copy, client=client, source=world["same"], destination=world["destination"], KmsKeyId=key
    )
    assert message.endswith("because no identity-based policy allows the kms:DescribeKey action")
    as_role(DEST, "copier", *COPY, KMS_USE)
    message = denied(
        copy, client=client, source=world["same"], destination=world["destination"], KmsKeyId=key
    )
    assert "kms:CreateGrant" in message
    as_role(DEST, "copier", *COPY, KMS_USE, KMS_GRANT)
    arn = copy(client, world["same"], world["destination"], KmsKeyId=key)["ProjectVersionArn"]
    (description,) = admin(DEST, "rekognition").describe_project_versions(
        ProjectArn=world["destination"], VersionNames=["prod-1"]
    )["ProjectVersionDescriptions"]
    assert description["ProjectVersionArn"] == arn and description["KmsKeyId"] == key
    assert description["SourceProjectVersionArn"] == world["same"][1]


def test_a_key_policy_that_leaves_the_caller_out_denies(world: dict[str, Any]) -> None:
    locked = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{DEST}:role/admin"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    ensure_role(DEST, "admin")
    key = admin(DEST, "kms").create_key(Policy=locked)["KeyMetadata"]["Arn"]
    client = as_role(DEST, "copier", *COPY, KMS_USE, KMS_GRANT)
    message = denied(
        copy, client=client, source=world["same"], destination=world["destination"], KmsKeyId=key
    )
    assert message.endswith("because no resource-based policy allows the kms:DescribeKey action")


def test_the_source_models_key_must_let_the_destination_decrypt(clock: SimulatedClock) -> None:
    source_kms = admin(SOURCE, "kms")
    key = source_kms.create_key()["KeyMetadata"]["Arn"]  # default policy: the source account only
    source = custom_labels.seed_trained_version(SOURCE, REGION, "dev", "v1", kms_key_id=key)
    destination = admin(DEST, "rekognition").create_project(ProjectName="prod")["ProjectArn"]
    admin(DEST, "s3").create_bucket(Bucket=BUCKET)
    allow_copy_from(source[0], f"arn:aws:iam::{DEST}:root")
    client = as_role(DEST, "copier", *COPY, KMS_USE, KMS_GRANT)
    message = denied(copy, client=client, source=source, destination=destination)
    assert message == (
        f"User: {session_arn(DEST, 'copier')} is not authorized to perform: kms:DescribeKey on resource: "
        f"{key} because no resource-based policy allows the kms:DescribeKey action"
    )
    key_id = key.rsplit("/", 1)[-1]
    source_kms.put_key_policy(
        KeyId=key_id,
        PolicyName="default",
        Policy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{SOURCE}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEST}:root"},
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"],
                "Resource": "*",
            },
        ),
    )
    assert copy(client, source, destination)["ProjectVersionArn"]
    without_kms = as_role(DEST, "other", *COPY)  # the key policy alone is not enough across accounts
    message = denied(copy, client=without_kms, source=source, destination=destination, name="prod-2")
    assert message.endswith("because no identity-based policy allows the kms:DescribeKey action")


# --- the operation -> action data ------------------------------------------------------------------------
def test_every_emulated_operation_has_its_actions_from_the_service_authorization_reference() -> None:
    assert set(iam_actions.OPERATIONS) == set(custom_labels.OPERATIONS)
    copy_actions = {check.action for check in iam_actions.OPERATIONS["CopyProjectVersion"]}
    assert copy_actions == {
        "rekognition:CopyProjectVersion",
        "rekognition:CreateProjectVersion",
        "rekognition:TagResource",
    }
    for operation, checks in iam_actions.OPERATIONS.items():
        assert f"rekognition:{operation}" == checks[0].action  # the action of the same name comes first


def test_the_action_data_is_independent_of_the_construct() -> None:
    tree = ast.parse(Path(iam_actions.__file__).read_text())
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    assert not [
        name for name in imported if "rekognition_model_copy" in name or name.startswith("constructs")
    ]
