"""Project policies: document validation (PutProjectPolicy) and evaluation (cross-account copies)."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
    """Who is calling: the account and every principal string a policy may name to match the caller."""

    account_id: str
    arn: str
    principals: frozenset[str]


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


def _principal_matches(principal: Any, caller: CallerIdentity) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(p == "*" or p in caller.principals for p in _as_list(principal.get("AWS", [])))
    return False


def _statement_matches(statement: dict[str, Any], caller: CallerIdentity, action: str, resource: str) -> bool:
    if not _principal_matches(statement.get("Principal"), caller):
        return False
    if not any(a.lower() == action.lower() for a in _as_list(statement.get("Action", []))):
        return False
    return any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement.get("Resource", [])))


def is_allowed(documents: Iterable[str], caller: CallerIdentity, action: str, resource: str) -> bool:
    """True when some statement allows ``caller`` to do ``action`` on ``resource`` and none denies it.

    Condition blocks are accepted but not evaluated (treated as satisfied).
    """
    allowed = False
    for document in documents:
        for statement in _as_list(json.loads(document).get("Statement", [])):
            if not _statement_matches(statement, caller, action, resource):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = True
    return allowed
