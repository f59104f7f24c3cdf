"""Custom::RekognitionProjectPolicy: a project policy on a (source) project, for cross-account copies.

Project policies carry no tags, so what a stack owns is recorded in its physical id:

* ``<project ARN>/policy/<name>/revision/<revision id>``: this resource put the policy, and owns it as
  long as the policy is at that revision. Each put (Create, a document change) answers the new revision;
  the Delete that follows (CloudFormation's cleanup, or the stack's delete) deletes the policy only at the
  revision it names (DeleteProjectPolicy with PolicyRevisionId), so a policy someone else put under the
  same name after an out-of-band delete, or edited since, is never deleted by this stack.
* ``<project ARN>/policy/<name>/adopted``: the policy was already there with this very document (another
  stack declares it too): this resource relies on it and never changes or deletes it.
* ``<project ARN>/policy/<name>``: written by earlier versions of this handler; deleted as before.

A new project or policy name is a replacement. All of it is synchronous: every outcome is complete at once.

With ``MinF1Score`` (``quality_gate.py``), a Create first reads every version the document lets another
account copy, and refuses (nothing put, nothing relied on) a version that does not meet the bar. An Update
checks the versions the project's current policy does not allow yet; those it allows already are checked
again only when the bar is raised, and then refused only for a known score below it (see ``_gate``).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import contract
import quality_gate
from botocore.exceptions import ClientError, ParamValidationError
from copy_calls import check_version
from copy_decisions import Version
from copy_properties import PROJECT_ARN, VERSION_ARN
from errors import ResourceError, failure
from outcome import Outcome

RESOURCE_TYPE = contract.PROJECT_POLICY_TYPE
_SEPARATOR = "/policy/"
_REVISION = "/revision/"
_ADOPTED = "/adopted"
POLICY_NAME = re.compile(r"^[a-zA-Z0-9_.\-]{1,128}$")
MAX_POLICIES = 5  # per project, a hard limit (PutProjectPolicy)
COPY_ACTION = "rekognition:copyprojectversion"  # IAM action names are case-insensitive


@dataclass(frozen=True)
class Held:
    """What a physical id says this resource holds."""

    project_arn: str
    policy_name: str
    revision: str | None  # the revision it put (owned), or None
    adopted: bool  # relies on a policy another stack put


def physical_id(project_arn: str, policy_name: str, revision: str | None) -> str:
    """The physical id for a policy this resource put at ``revision`` (None: adopted as it was)."""
    base = f"{project_arn}{_SEPARATOR}{policy_name}"
    return f"{base}{_REVISION}{revision}" if revision else f"{base}{_ADOPTED}"


def held(physical: str) -> Held | None:
    """Parse a physical id (None: not one of ours, e.g. the generated id of a failed Create)."""
    if _SEPARATOR not in (physical or ""):
        return None
    project_arn, rest = physical.rsplit(_SEPARATOR, 1)
    if rest.endswith(_ADOPTED):
        return Held(project_arn, rest[: -len(_ADOPTED)], None, True)
    name, _, revision = rest.partition(_REVISION)
    return Held(project_arn, name, revision or None, False)


@dataclass(frozen=True)
class Declared:
    """The properties being applied, checked."""

    project_arn: str
    policy_name: str
    document: str
    bar: float | None  # MinF1Score


def _parse(props: Mapping[str, Any]) -> Declared:
    values = []
    for name in ("ProjectArn", "PolicyName", "PolicyDocument"):
        value = props.get(name)
        if not isinstance(value, str) or not value:
            raise ResourceError(f"Property {name} is required and must be a non-empty string.")
        values.append(value)
    if not PROJECT_ARN.match(values[0]):
        raise ResourceError(f"Property ProjectArn is not a Rekognition project ARN: {values[0][:300]!r}.")
    if not POLICY_NAME.match(values[1]):
        raise ResourceError(
            f"Property PolicyName is not valid (1-128 of a-z A-Z 0-9 _ . -): {values[1][:130]!r}."
        )
    try:
        json.loads(values[2])
    except ValueError as error:
        raise ResourceError(f"Property PolicyDocument is not valid JSON: {error}") from error
    return Declared(values[0], values[1], values[2], quality_gate.min_f1_score(props))


def allowed_versions(document: str, project_arn: str) -> list[str]:
    """The versions the document lets another account copy (its Allow statements'
    rekognition:CopyProjectVersion resources), in order; ResourceError for a resource the quality gate
    cannot check (a wildcard, not a version ARN, a version of another project)."""
    parsed = json.loads(document)
    statements = parsed.get("Statement", []) if isinstance(parsed, dict) else []
    found: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatch.fnmatch(COPY_ACTION, str(a).lower()) for a in actions):
            continue
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, str) else resources:
            match = VERSION_ARN.match(str(resource))
            if match is None or match.group("project") != project_arn.rsplit("/", 1)[0]:
                raise ResourceError(
                    f"With {quality_gate.PROPERTY}, every resource the policy allows to copy must be a "
                    f"version of {project_arn}, named exactly (no wildcard), so that it can be checked "
                    f"against the bar; the policy allows {str(resource)[:300]!r}."
                )
            if resource not in found:
                found.append(str(resource))
    return found


def current_policy(client: Any, project_arn: str, policy_name: str) -> dict[str, Any] | None:
    """The project's policy of that name (document and revision id), or None."""
    kwargs: dict[str, Any] = {"ProjectArn": project_arn}
    try:
        while True:
            page = client.list_project_policies(**kwargs)
            for policy in page.get("ProjectPolicies", []):
                if policy.get("PolicyName") == policy_name:
                    return dict(policy)
            if not page.get("NextToken"):
                return None
            kwargs["NextToken"] = page["NextToken"]
    except (ClientError, ParamValidationError) as error:
        raise failure("ListProjectPolicies", error) from error


def _gate(client: Any, declared: Declared, on_project: str | None = None, raised: bool = True) -> None:
    """Raise ResourceError unless every version the declared document allows meets the bar (if any).

    ``on_project``: the document the project holds now under this name. A version it allows already was
    promoted: it is checked again only when the bar is ``raised`` (new or higher than the previous
    properties'), and then refused only for a known F1 score below it (``held``), so that a change of
    principals, or the rollback of a refused document, never fails on a version deleted since."""
    if declared.bar is None:
        return
    try:
        allowed_now = set(allowed_versions(on_project, declared.project_arn)) if on_project else set()
    except (ResourceError, ValueError):
        allowed_now = set()  # a document put outside the stack that the gate cannot read: nothing held
    for version_arn in allowed_versions(declared.document, declared.project_arn):
        held = version_arn in allowed_now
        if held and not raised:
            continue
        check_version(
            client,
            Version(declared.project_arn, version_arn),
            declared.bar,
            "it is not promoted (the project policy is not put).",
            held=held,
        )


def _put(client: Any, declared: Declared, revision_id: str | None) -> Outcome:
    """Put the declared document (checked against the bar by :func:`_gate` before)."""
    project_arn, policy_name, document = declared.project_arn, declared.policy_name, declared.document
    request = {"ProjectArn": project_arn, "PolicyName": policy_name, "PolicyDocument": document}
    if revision_id:
        request["PolicyRevisionId"] = revision_id
    try:
        response = client.put_project_policy(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "LimitExceededException":
            raise ResourceError(
                f"PutProjectPolicy failed: the project {project_arn} already has {MAX_POLICIES} project "
                f"policies, the most a project can have (a fixed limit, not a quota to raise). Delete one "
                "it no longer needs, or reuse one of them, then deploy again."
            ) from error
        raise failure("PutProjectPolicy", error) from error
    except ParamValidationError as error:
        raise failure("PutProjectPolicy", error) from error
    revision = str(response.get("PolicyRevisionId", ""))
    return Outcome(
        physical_id(project_arn, policy_name, revision), {"PolicyRevisionId": revision}, complete=True
    )


def _same_document(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b


def create(client: Any, props: Mapping[str, Any], owner: str = "") -> Outcome:
    """Attach the policy. A policy of that name already there with this very document (another stack
    declares it too) is relied on, never owned; any other document fails the Create and is left alone."""
    declared = _parse(props)
    project_arn, policy_name, document = declared.project_arn, declared.policy_name, declared.document
    existing = current_policy(client, project_arn, policy_name)
    _gate(client, declared)  # also before relying on a policy that is there already
    if existing is not None:
        if _same_document(str(existing.get("PolicyDocument", "")), document):
            return Outcome(
                physical_id(project_arn, policy_name, None),
                {"PolicyRevisionId": str(existing.get("PolicyRevisionId", ""))},
                complete=True,
            )
        raise ResourceError(
            f"The project {project_arn} already has a policy named {policy_name} that this stack did not "
            "create; choose another policy name, or delete that policy first."
        )
    return _put(client, declared, None)


def update(
    client: Any, props: Mapping[str, Any], old_props: Mapping[str, Any], physical: str, owner: str = ""
) -> Outcome:
    """A new project or name is a new policy (replacement); otherwise the document, in place (with the
    revision the project has now, so an edit made outside the stack does not fail the update)."""
    declared = _parse(props)
    project_arn, policy_name, document = declared.project_arn, declared.policy_name, declared.document
    holding = held(physical)
    if holding is None or (holding.project_arn, holding.policy_name) != (project_arn, policy_name):
        return create(client, props)
    existing = current_policy(client, project_arn, policy_name)
    if existing is None:
        _gate(client, declared)
        return _put(client, declared, None)
    on_project = str(existing.get("PolicyDocument", ""))
    _gate(client, declared, on_project, quality_gate.raised(declared.bar, old_props))
    if holding.adopted:
        if _same_document(str(existing.get("PolicyDocument", "")), document):
            return Outcome(physical, {"PolicyRevisionId": str(existing.get("PolicyRevisionId", ""))}, True)
        raise ResourceError(
            f"The policy {policy_name} on {project_arn} was put by another stack (this one relies on it as "
            "it is); changing its document here would change theirs. Choose another policy name."
        )
    return _put(client, declared, str(existing.get("PolicyRevisionId") or "") or None)


def delete(client: Any, props: Mapping[str, Any], physical: str, owner: str = "") -> Outcome:
    """Remove the policy this resource put, only at the revision it put; gone already, changed since,
    adopted, or never made (a failed create) leaves the project as it is."""
    holding = held(physical)
    if holding is None or holding.adopted:
        return Outcome(physical, complete=True)
    request = {"ProjectArn": holding.project_arn, "PolicyName": holding.policy_name}
    if holding.revision:
        request["PolicyRevisionId"] = holding.revision
    try:
        client.delete_project_policy(**request)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code not in ("ResourceNotFoundException", "InvalidPolicyRevisionIdException"):
            raise failure("DeleteProjectPolicy", error) from error
    except ParamValidationError:
        pass  # an id this handler never wrote: nothing of ours to delete
    return Outcome(physical, complete=True)
