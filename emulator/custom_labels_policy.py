"""Project policies: document validation (PutProjectPolicy), principals that must exist, role bindings.

Evaluation of project policies (with the caller's identity policies) is :mod:`emulator.custom_labels_authz`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.iam.models import Role, iam_backends

from .custom_labels_errors import MalformedPolicyDocumentException

COPY_ACTION = "rekognition:CopyProjectVersion"
MAX_DOCUMENT_CHARS = 2000

_TOP_LEVEL_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
_REJECTED_KEYS = ("NotAction", "NotResource", "NotPrincipal")
_VERSIONS = {"2012-10-17", "2008-10-17"}
_PRINCIPAL_RE = re.compile(
    r"^(\*|\d{12}|arn:[a-z\d-]+:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)"
    r"|arn:[a-z\d-]+:sts::\d{12}:assumed-role/[\w+=,.@/-]+)$"
)


@dataclass(frozen=True)
class CallerIdentity:
    """Who is calling: the account, the ARN AWS names the caller by (the session ARN for an assumed
    role), the role of assumed-role credentials, and whether it is the account root."""

    account_id: str
    arn: str
    role_arn: str | None = None
    is_root: bool = False


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _malformed(reason: str) -> MalformedPolicyDocumentException:
    return MalformedPolicyDocumentException(f"The policy document is malformed: {reason}")


def validate_document(document: str) -> dict[str, Any]:
    """Parse and check a project policy document; raise MalformedPolicyDocumentException."""
    if len(document) > MAX_DOCUMENT_CHARS:
        raise _malformed(f"it has {len(document)} characters, the maximum is {MAX_DOCUMENT_CHARS}.")
    try:
        parsed = json.loads(document)
    except ValueError as error:
        raise _malformed(f"it is not valid JSON ({error}).") from None
    if not isinstance(parsed, dict):
        raise _malformed("the document must be a JSON object.")
    unknown = set(parsed) - _TOP_LEVEL_KEYS
    if unknown:
        raise _malformed(f"unsupported top-level element(s) {sorted(unknown)}.")
    if "Version" in parsed and parsed["Version"] not in _VERSIONS:
        raise _malformed(f'unsupported Version {parsed["Version"]!r}; use "2012-10-17".')
    statements = parsed.get("Statement")
    if statements is None or statements == []:
        raise _malformed("Statement is required.")
    for index, statement in enumerate(_as_list(statements)):
        _validate_statement(statement, index)
    return parsed


def _validate_statement(statement: Any, index: int) -> None:
    where = f"Statement[{index}]"
    if not isinstance(statement, dict):
        raise _malformed(f"{where} must be a JSON object.")
    for key in _REJECTED_KEYS:
        if key in statement:
            raise _malformed(f"{where}: {key} is not supported in project policies.")
    unknown = set(statement) - _STATEMENT_KEYS
    if unknown:
        raise _malformed(f"{where}: unsupported element(s) {sorted(unknown)}.")
    for key in ("Effect", "Principal", "Action", "Resource"):
        if key not in statement:
            raise _malformed(f"{where}: {key} is required.")
    if statement["Effect"] not in ("Allow", "Deny"):
        raise _malformed(f'{where}: Effect must be "Allow" or "Deny", got {statement["Effect"]!r}.')
    for principal in _principal_values(statement["Principal"], where):
        if not isinstance(principal, str) or not _PRINCIPAL_RE.match(principal):
            raise _malformed(f"{where}: invalid principal {principal!r}.")
    for action in _strings(statement["Action"], where, "Action"):
        if action.lower() != COPY_ACTION.lower():
            raise _malformed(
                f"{where}: action {action!r} is not allowed; the only supported action is {COPY_ACTION}."
            )
    for resource in _strings(statement["Resource"], where, "Resource"):
        if resource != "*" and not resource.startswith("arn:"):
            raise _malformed(f"{where}: invalid resource {resource!r}.")
    if "Condition" in statement and not isinstance(statement["Condition"], dict):
        raise _malformed(f"{where}: Condition must be a JSON object.")


def _strings(value: Any, where: str, key: str) -> list[str]:
    values = _as_list(value)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise _malformed(f"{where}: {key} must be a non-empty string or list of strings.")
    return values


def _principal_values(principal: Any, where: str) -> list[Any]:
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict) and set(principal) == {"AWS"}:
        values = _as_list(principal["AWS"])
        if values:
            return values
    raise _malformed(f'{where}: Principal must be "*" or {{"AWS": <account id or ARN, or a list of them>}}.')


def find_role(role_arn: str) -> Role | None:
    """The role that exists now under ``role_arn`` (path included), or None."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return None
    backend = iam_backends[parts[4]][parts[1]]
    name = parts[5].rsplit("/", 1)[-1]
    for role in backend.roles.values():
        if role.name == name and role.arn == role_arn:
            return role
    return None


def user_of(user_arn: str) -> Any:
    """The IAM user named by ``user_arn`` (moto's object), or None."""
    parts = user_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("user/"):
        return None
    return iam_backends[parts[4]][parts[1]].users.get(parts[5].rsplit("/", 1)[-1])


def principal_exists(name: str) -> bool:
    """Whether a principal named in a resource policy exists (account ids and roots always do)."""
    if name == "*" or name.isdigit():
        return True
    parts = name.split(":", 5)
    if len(parts) != 6:
        return False
    resource = parts[5]
    if parts[2] == "iam" and resource == "root":
        return True
    if parts[2] == "iam" and resource.startswith("role/"):
        return find_role(name) is not None
    if parts[2] == "iam" and resource.startswith("user/"):
        return user_of(name) is not None
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        # A session principal: IAM checks the role part (sessions themselves come and go).
        role_name = resource.split("/")[1]
        return find_role(f"arn:{parts[1]}:iam::{parts[4]}:role/{role_name}") is not None
    return False


def role_bindings(
    document: Mapping[str, Any], check: Callable[[str], bool] = principal_exists
) -> dict[str, str]:
    """Role ARN -> unique id for every role principal of a validated project policy document.

    Raises MalformedPolicyDocumentException naming a principal that does not exist: IAM-integrated
    resource policies reject those (DOMAIN.md "Permissions"); for project policies that is UNCONFIRMED
    and the stricter behaviour. An account (``arn:aws:iam::<account>:root`` or a bare account id) always
    exists.
    """
    bindings: dict[str, str] = {}
    statements = document.get("Statement", [])
    for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
        principal = statement.get("Principal")
        names = principal.get("AWS", []) if isinstance(principal, dict) else [principal]
        for name in names if isinstance(names, list) else [names]:
            if not isinstance(name, str) or name == "*":
                continue
            if not check(name):
                raise _malformed(f"Statement[{index}]: invalid principal {name!r}: it does not exist.")
            if ":role/" in name:
                role = find_role(name)
                if role is not None:
                    bindings[name] = role.id
    return bindings


def displayed_document(document: str, bindings: Mapping[str, str]) -> str:
    """The document as ListProjectPolicies shows it: a role principal whose role was deleted (or replaced
    by a new role of the same name) shows as the old role's unique id.

    IAM documents this for role trust policies and S3/KMS resource policies; for project policies it is
    UNCONFIRMED and the stricter choice: a handler that compares documents then sees the drift.
    """
    for arn, role_id in bindings.items():
        role = find_role(arn)
        if role is None or role.id != role_id:
            document = document.replace(json.dumps(arn), json.dumps(role_id))
    return document
