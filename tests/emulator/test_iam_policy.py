"""The IAM policy evaluator, against the examples and rules of AWS's "Policy evaluation logic" pages.

Sources: IAM User Guide, "Policy evaluation for requests within a single account" (the carlossalazar
example), "Cross-account policy evaluation logic", "IAM JSON policy elements: Condition operators",
"Key policies in AWS KMS".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.iam import (
    Principal,
    Request,
    arn_match,
    authorize,
    evaluate_identity,
    parse,
)

ACCOUNT = "123456789012"
OTHER = "444455556666"
CARLOS = Principal(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/carlossalazar")
ROLE = Principal(
    ACCOUNT,
    f"arn:aws:sts::{ACCOUNT}:assumed-role/copier/session",
    role_arn=f"arn:aws:iam::{ACCOUNT}:role/copier",
    role_id="AROAEXAMPLECOPIER",
)
FOREIGN_ROLE = Principal(
    OTHER,
    f"arn:aws:sts::{OTHER}:assumed-role/copier/session",
    role_arn=f"arn:aws:iam::{OTHER}:role/copier",
    role_id="AROAEXAMPLEFOREIGN",
)


def doc(*statements: dict[str, Any]) -> str:
    """A policy document."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """An Allow statement."""
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """A Deny statement."""
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(
    principal: Principal,
    action: str,
    resource: str,
    identity: list[str],
    resource_policy: list[str] | None = None,
    *,
    owner: str = ACCOUNT,
    key_policy: bool = False,
    context: dict[str, Any] | None = None,
) -> tuple[bool, str]:
    """(allowed, AccessDenied message)."""
    request = Request(principal, action, resource, context or {})
    outcome = authorize(request, identity, resource_policy, owner, key_policy=key_policy)
    return outcome.allowed, outcome.message(request)


# --- The documented single-account example (carlossalazar) --------------------------------------------
CARLOS_POLICY = doc(
    {
        "Sid": "AllowS3ListRead",
        "Effect": "Allow",
        "Action": [
            "s3:GetBucketLocation",
            "s3:GetAccountPublicAccessBlock",
            "s3:ListAccessPoints",
            "s3:ListAllMyBuckets",
        ],
        "Resource": "arn:aws:s3:::*",
    },
    {
        "Sid": "AllowS3Self",
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": [
            "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*",
            "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar",
        ],
    },
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
)
LOGS_BUCKET_POLICY = doc(  # a bucket policy that would allow Carlos: the identity policy's Deny still wins
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"},
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/*",
    }
)


def test_carlos_cannot_save_to_the_logs_bucket_an_explicit_deny_wins() -> None:
    allowed, message = decide(
        CARLOS,
        "s3:PutObject",
        "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/file.txt",
        [CARLOS_POLICY],
        [LOGS_BUCKET_POLICY],
    )
    assert not allowed
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/carlossalazar is not authorized to perform: s3:PutObject on "
        "resource: arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/file.txt with an explicit deny in an "
        "identity-based policy"
    )


def test_carlos_may_use_his_own_bucket_and_list_every_bucket_but_nothing_else() -> None:
    own = "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"
    assert decide(CARLOS, "s3:PutObject", f"{own}/file.txt", [CARLOS_POLICY])[0]
    assert decide(CARLOS, "s3:DeleteBucket", own, [CARLOS_POLICY])[0]
    assert decide(CARLOS, "s3:GetBucketLocation", "arn:aws:s3:::someone-else", [CARLOS_POLICY])[0]
    allowed, message = decide(CARLOS, "s3:GetObject", "arn:aws:s3:::someone-else/x", [CARLOS_POLICY])
    assert not allowed
    assert message.endswith("because no identity-based policy allows the s3:GetObject action")


# --- Single account: either side may allow; cross-account: both must ------------------------------------
BUCKET = "arn:aws:s3:::shared"
ROLE_BUCKET_POLICY = doc(
    allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/copier"})
)


def test_same_account_a_resource_policy_naming_the_principal_is_enough() -> None:
    assert decide(ROLE, "s3:GetObject", f"{BUCKET}/x", [], [ROLE_BUCKET_POLICY])[0]
    assert decide(ROLE, "s3:GetObject", f"{BUCKET}/x", [doc(allow("s3:GetObject"))], None)[0]


def test_same_account_a_resource_policy_naming_only_the_account_delegates_to_iam() -> None:
    account_policy = doc(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ACCOUNT}))
    allowed, message = decide(ROLE, "s3:GetObject", f"{BUCKET}/x", [], [account_policy])
    assert not allowed and "because no identity-based policy allows" in message


def test_cross_account_needs_both_sides() -> None:
    identity = [doc(allow("s3:GetObject", f"{BUCKET}/*"))]
    foreign_policy = doc(
        allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{OTHER}:root"})
    )
    allowed, message = decide(FOREIGN_ROLE, "s3:GetObject", f"{BUCKET}/x", identity, None)
    assert not allowed and message.endswith("because no resource-based policy allows the s3:GetObject action")
    allowed, message = decide(FOREIGN_ROLE, "s3:GetObject", f"{BUCKET}/x", [], [foreign_policy])
    assert not allowed and message.endswith("because no identity-based policy allows the s3:GetObject action")
    assert decide(FOREIGN_ROLE, "s3:GetObject", f"{BUCKET}/x", identity, [foreign_policy])[0]


def test_an_explicit_deny_in_the_resource_policy_wins() -> None:
    resource_policy = doc(deny("s3:*", f"{BUCKET}/*", Principal="*"))
    allowed, message = decide(ROLE, "s3:GetObject", f"{BUCKET}/x", [doc(allow("*"))], [resource_policy])
    assert not allowed and message.endswith("with an explicit deny in a resource-based policy")


def test_the_root_user_is_allowed_in_its_own_account_but_not_across_accounts() -> None:
    root = Principal(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", is_root=True)
    assert decide(root, "rekognition:DeleteProject", "arn:aws:rekognition:us-east-1:1:project/x/1", [])[0]
    assert not decide(root, "s3:GetObject", f"{BUCKET}/x", [], None, owner=OTHER)[0]


# --- Elements: NotAction, NotResource, wildcards ---------------------------------------------------------
def test_not_action_and_not_resource() -> None:
    everything_but_delete = doc({"Effect": "Allow", "NotAction": "rekognition:Delete*", "Resource": "*"})
    assert decide(ROLE, "rekognition:DescribeProjects", "*", [everything_but_delete])[0]
    assert not decide(ROLE, "rekognition:DeleteProject", "*", [everything_but_delete])[0]
    outside_prod = doc(
        {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::prod*"},
    )
    assert decide(ROLE, "s3:GetObject", "arn:aws:s3:::dev/x", [outside_prod])[0]
    assert not decide(ROLE, "s3:GetObject", "arn:aws:s3:::prod/x", [outside_prod])[0]


def test_action_wildcards_are_case_insensitive_and_resource_wildcards_stay_in_their_arn_part() -> None:
    policy = doc(allow("Rekognition:describe*", "arn:aws:rekognition:*:*:project/dev/*"))
    project = f"arn:aws:rekognition:us-east-1:{ACCOUNT}:project/dev/1"
    assert decide(ROLE, "rekognition:DescribeProjectVersions", project, [policy])[0]
    assert not decide(ROLE, "rekognition:DeleteProject", project, [policy])[0]
    assert arn_match("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c")
    assert not arn_match("arn:aws:rekognition:*:111111111111:*", project)  # each part on its own
    assert arn_match("arn:aws:rekognition:us-east-?:*:project/*", project)


def test_policy_variables_are_resolved_from_the_request_context() -> None:
    policy = doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:PrincipalAccount}/*"))
    context = {"aws:PrincipalAccount": ACCOUNT}
    assert decide(ROLE, "s3:GetObject", f"arn:aws:s3:::home/{ACCOUNT}/x", [policy], context=context)[0]
    assert not decide(ROLE, "s3:GetObject", "arn:aws:s3:::home/1/x", [policy], context=context)[0]
    assert not decide(ROLE, "s3:GetObject", f"arn:aws:s3:::home/{ACCOUNT}/x", [policy])[0]  # no value


# --- Conditions -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"StringLike": {"s3:prefix": "copies/*"}}, {"s3:prefix": "copies/v1/"}, True),
        ({"StringLike": {"s3:prefix": "copies/*"}}, {"s3:prefix": "other/"}, False),
        ({"StringLike": {"s3:prefix": "copies/*"}}, {}, False),  # missing key: false
        ({"StringNotLike": {"s3:prefix": "secret/*"}}, {}, True),  # negated, missing key: true
        ({"StringEqualsIfExists": {"s3:prefix": "a"}}, {}, True),
        ({"StringEqualsIfExists": {"s3:prefix": "a"}}, {"s3:prefix": "b"}, False),
        ({"Bool": {"kms:GrantIsForAWSResource": "true"}}, {"kms:GrantIsForAWSResource": "true"}, True),
        ({"Bool": {"kms:GrantIsForAWSResource": True}}, {}, False),
        (
            {"StringEquals": {"kms:ViaService": "rekognition.us-east-1.amazonaws.com"}},
            {"kms:ViaService": "rekognition.us-east-1.amazonaws.com"},
            True,
        ),
        ({"StringEquals": {"kms:CallerAccount": ["1", ACCOUNT]}}, {"kms:CallerAccount": ACCOUNT}, True),
        ({"StringEquals": {"aws:ResourceTag/stage": "prod"}}, {"aws:resourcetag/stage": "prod"}, True),
        ({"StringEquals": {"aws:ResourceTag/stage": "prod"}}, {"aws:ResourceTag/stage": "dev"}, False),
        (
            {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/copier"}},
            {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/copier"},
            True,
        ),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["b", "c"]}, True),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["b", "c"]}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {}, True),
        ({"Null": {"aws:RequestTag/stage": "true"}}, {}, True),
        ({"Null": {"aws:RequestTag/stage": "false"}}, {}, False),
        ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"}, True),
    ],
)
def test_condition_operators(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    policy = doc(allow("s3:ListBucket", Condition=condition))
    assert decide(ROLE, "s3:ListBucket", BUCKET, [policy], context=context)[0] is expected


def test_an_unknown_condition_operator_denies_with_a_clear_reason() -> None:
    policy = doc(
        allow("s3:ListBucket", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})
    )
    allowed, message = decide(ROLE, "s3:ListBucket", BUCKET, [policy])
    assert not allowed
    assert "cannot evaluate" in message and "'DateGreaterThan'" in message
    denying = doc(allow("*"), deny("s3:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert not decide(ROLE, "s3:ListBucket", BUCKET, [denying])[0]  # an unknown Deny never becomes an Allow


# --- KMS: the key policy is always required ------------------------------------------------------------
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234"
DEFAULT_KEY_POLICY = doc(allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))


def test_a_key_policy_naming_the_account_delegates_to_iam() -> None:
    identity = [doc(allow("kms:Decrypt", KEY))]
    assert decide(ROLE, "kms:Decrypt", KEY, identity, [DEFAULT_KEY_POLICY], key_policy=True)[0]
    allowed, message = decide(ROLE, "kms:Decrypt", KEY, [], [DEFAULT_KEY_POLICY], key_policy=True)
    assert not allowed and message.endswith("because no identity-based policy allows the kms:Decrypt action")


def test_a_key_policy_that_does_not_name_the_caller_denies_even_with_an_identity_allow() -> None:
    someone_else = doc(allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"}))
    identity = [doc(allow("kms:*"))]
    allowed, message = decide(ROLE, "kms:Decrypt", KEY, identity, [someone_else], key_policy=True)
    assert not allowed and message.endswith("because no resource-based policy allows the kms:Decrypt action")


def test_a_key_policy_naming_the_role_is_enough_in_its_account_but_not_across_accounts() -> None:
    direct = doc(
        allow(
            "kms:Decrypt",
            Principal={"AWS": [f"arn:aws:iam::{ACCOUNT}:role/copier", f"arn:aws:iam::{OTHER}:role/copier"]},
        )
    )
    assert decide(ROLE, "kms:Decrypt", KEY, [], [direct], key_policy=True)[0]
    assert not decide(FOREIGN_ROLE, "kms:Decrypt", KEY, [], [direct], key_policy=True)[0]
    assert decide(FOREIGN_ROLE, "kms:Decrypt", KEY, [doc(allow("kms:Decrypt"))], [direct], key_policy=True)[0]


# --- Role principals bound to the role's unique id -------------------------------------------------------
def test_a_role_principal_matches_only_the_role_it_was_bound_to() -> None:
    policy = doc(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{OTHER}:role/copier"}))
    identity = [doc(allow("s3:GetObject"))]
    request = Request(FOREIGN_ROLE, "s3:GetObject", f"{BUCKET}/x")
    bound = {f"arn:aws:iam::{OTHER}:role/copier": FOREIGN_ROLE.role_id or ""}
    assert authorize(request, identity, [policy], ACCOUNT, bindings=bound).allowed
    stale = {f"arn:aws:iam::{OTHER}:role/copier": "AROAOLDROLEID"}
    assert not authorize(request, identity, [policy], ACCOUNT, bindings=stale).allowed


def test_parsing_is_cached_by_document_text() -> None:
    text = doc(allow("s3:GetObject"))
    assert parse(text) is parse(text)
    assert evaluate_identity([text], Request(ROLE, "s3:GetObject", BUCKET)).value == "allow"


def test_a_statement_without_action_or_resource_applies_to_nothing() -> None:
    assert not decide(ROLE, "s3:GetObject", BUCKET, [doc({"Effect": "Allow", "Resource": "*"})])[0]
    assert not decide(ROLE, "s3:GetObject", BUCKET, [doc({"Effect": "Allow", "Action": "*"})])[0]
