"""Project policies: document validation, principals that must exist, role bindings, and the policies of a
project (PutProjectPolicy, DeleteProjectPolicy, ListProjectPolicies).

Evaluation of project policies (with the caller's identity policies) is :mod:`.authz`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.iam import find_role, principal_exists

from . import runtime
from .errors import (
    CustomLabelsError,
    InvalidPolicyRevisionIdException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    ResourceNotFoundException,
)
from .models import Project, ProjectPolicy, paginate

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


def _malformed(reason: str) -> CustomLabelsError:
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


def binds_role_ids() -> bool:
    """Whether a project policy binds a role principal to the role's unique id
    (``config.role_principal_binding``).

    The IAM User Guide (reference_policies_elements_principal, "IAM role principals") says that a role
    ARN in a resource-based policy is transformed to the role's unique principal id: a role deleted and
    created again under its name no longer matches, and the policy shows the id. No Rekognition page says
    whether project policies do this: "unique_id" does, "name" matches the ARN as written.
    """
    return runtime.config.role_principal_binding == "unique_id"


def role_bindings(
    document: Mapping[str, Any], check: Callable[[str], bool] = principal_exists
) -> dict[str, str]:
    """Role ARN -> unique id for every role principal of a validated project policy document.

    Raises MalformedPolicyDocumentException naming a principal that does not exist: IAM-integrated
    resource policies reject those (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_elements_principal.html); for project policies that is UNCONFIRMED and the stricter
    behaviour. An account (``arn:aws:iam::<account>:root`` or a bare account id) always
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
    UNCONFIRMED and the stricter choice: a handler that compares documents then sees the drift. Bound by
    name (:func:`binds_role_ids` false), the document shows as written.
    """
    if not binds_role_ids():
        return document
    for arn, role_id in bindings.items():
        role = find_role(arn)
        if role is None or role.id != role_id:
            document = document.replace(json.dumps(arn), json.dumps(role_id))
    return document


# ---------------------------------------------------------------------------------------------------------
# The policies of a project (PutProjectPolicy, DeleteProjectPolicy, ListProjectPolicies)
# ---------------------------------------------------------------------------------------------------------
def put_policy(project: Project, name: str, document: str, revision_id: str | None, now: float) -> str:
    """Create (no revision id) or update (the current revision id) a policy; returns the new revision id."""
    bindings = role_bindings(validate_document(document))
    existing = project.policies.get(name)
    if existing is None:
        if revision_id:
            raise InvalidPolicyRevisionIdException(
                f"The policy {name!r} does not exist; omit PolicyRevisionId to create it."
            )
        if len(project.policies) >= runtime.config.max_policies_per_project:
            raise LimitExceededException(
                f"The project {project.arn} already has {len(project.policies)} project policies "
                f"(the maximum is {runtime.config.max_policies_per_project})."
            )
        policy = ProjectPolicy(
            name=name,
            document=document,
            revision_id=uuid.uuid4().hex,
            created=now,
            updated=now,
            bindings=bindings,
        )
        project.policies[name] = policy
        project.policy_log.append((now, name, dataclasses.replace(policy)))
        return policy.revision_id
    if revision_id != existing.revision_id:
        given = "no PolicyRevisionId" if not revision_id else f"PolicyRevisionId {revision_id!r}"
        raise InvalidPolicyRevisionIdException(
            f"The policy {name!r} exists with revision {existing.revision_id}; {given} was given."
        )
    existing.document = document
    existing.bindings = bindings
    existing.revision_id = uuid.uuid4().hex
    existing.updated = now
    project.policy_log.append((now, name, dataclasses.replace(existing)))
    return existing.revision_id


def delete_policy(project: Project, name: str, revision_id: str | None, now: float) -> None:
    """Delete a policy: at ``revision_id`` when one is given, or whatever its revision
    (``config.delete_policy_revision``).

    The API reference lists PolicyRevisionId as an optional parameter ("the ID of the project policy
    revision that you want to delete") and InvalidPolicyRevisionIdException among the errors; the guide
    (md-delete-project-policy) says it "can be included for the purposes of atomic updates". Neither says
    that a stale id is refused: "checks" refuses it, "ignores" deletes the policy of that name.
    """
    existing = project.policies.get(name)
    if existing is None:
        raise ResourceNotFoundException(f"The project policy {name!r} does not exist on {project.arn}.")
    checks = runtime.config.delete_policy_revision == "checks"
    if checks and revision_id and revision_id != existing.revision_id:
        raise InvalidPolicyRevisionIdException(
            f"The policy {name!r} is at revision {existing.revision_id}, not {revision_id!r}."
        )
    del project.policies[name]
    project.policy_log.append((now, name, None))


def list_policies(
    project: Project, max_results: int, next_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the project's policies, oldest first, as ListProjectPolicies shows them."""
    page, token = paginate(
        list(project.policies.values()),
        lambda p: (p.created, p.seq),
        max_results=max_results,
        next_token=next_token,
        descending=False,
    )
    return [
        {
            "ProjectArn": project.arn,
            "PolicyName": p.name,
            "PolicyRevisionId": p.revision_id,
            "PolicyDocument": displayed_document(p.document, p.bindings),
            "CreationTimestamp": p.created,
            "LastUpdatedTimestamp": p.updated,
        }
        for p in page
    ], token
