"""Custom::RekognitionProjectPolicy: a project policy on a (source) project, for cross-account copies.

PutProjectPolicy on create; on update, PutProjectPolicy with the revision id the project has now (read
with ListProjectPolicies, so a revision changed outside the stack does not fail the update); a new
project or policy name is a replacement. DeleteProjectPolicy on delete; already gone is success.
All of it is synchronous: every outcome is complete at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError
from errors import ResourceError, failure
from outcome import Outcome

RESOURCE_TYPE = "Custom::RekognitionProjectPolicy"
_SEPARATOR = "/policy/"


def physical_id(project_arn: str, policy_name: str) -> str:
    """``<project ARN>/policy/<policy name>``: stable, and names both halves of the policy's identity."""
    return f"{project_arn}{_SEPARATOR}{policy_name}"


def _parse(props: Mapping[str, Any]) -> tuple[str, str, str]:
    values = []
    for name in ("ProjectArn", "PolicyName", "PolicyDocument"):
        value = props.get(name)
        if not isinstance(value, str) or not value:
            raise ResourceError(f"Property {name} is required and must be a non-empty string.")
        values.append(value)
    try:
        json.loads(values[2])
    except ValueError as error:
        raise ResourceError(f"Property PolicyDocument is not valid JSON: {error}") from error
    return values[0], values[1], values[2]


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


def _put(client: Any, project_arn: str, policy_name: str, document: str, revision_id: str | None) -> Outcome:
    request = {"ProjectArn": project_arn, "PolicyName": policy_name, "PolicyDocument": document}
    if revision_id:
        request["PolicyRevisionId"] = revision_id
    try:
        response = client.put_project_policy(**request)
    except (ClientError, ParamValidationError) as error:
        raise failure("PutProjectPolicy", error) from error
    return Outcome(
        physical_id(project_arn, policy_name),
        {"PolicyRevisionId": str(response.get("PolicyRevisionId", ""))},
        complete=True,
    )


def _same_document(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b


def create(client: Any, props: Mapping[str, Any], owner: str = "") -> Outcome:
    """Attach the policy. A policy of that name already on the project is adopted only when it is this
    very document (a redelivered Create); any other is left alone and the Create fails."""
    project_arn, policy_name, document = _parse(props)
    existing = current_policy(client, project_arn, policy_name)
    if existing is not None:
        if _same_document(str(existing.get("PolicyDocument", "")), document):
            return Outcome(
                physical_id(project_arn, policy_name),
                {"PolicyRevisionId": str(existing.get("PolicyRevisionId", ""))},
                complete=True,
            )
        raise ResourceError(
            f"The project {project_arn} already has a policy named {policy_name} that this stack did not "
            "create; choose another policy name, or delete that policy first."
        )
    return _put(client, project_arn, policy_name, document, None)


def update(
    client: Any, props: Mapping[str, Any], old_props: Mapping[str, Any], physical: str, owner: str = ""
) -> Outcome:
    """A new project or name is a new policy (replacement); otherwise the document, in place."""
    project_arn, policy_name, document = _parse(props)
    if physical_id(project_arn, policy_name) != physical:
        return create(client, props)
    existing = current_policy(client, project_arn, policy_name)
    revision = str(existing["PolicyRevisionId"]) if existing and existing.get("PolicyRevisionId") else None
    return _put(client, project_arn, policy_name, document, revision)


def delete(client: Any, props: Mapping[str, Any], physical: str, owner: str = "") -> Outcome:
    """Remove the policy this resource put; gone already, or never made (a failed create), is success."""
    if _SEPARATOR not in (physical or ""):
        return Outcome(physical, complete=True)
    project_arn, policy_name = physical.rsplit(_SEPARATOR, 1)
    try:
        client.delete_project_policy(ProjectArn=project_arn, PolicyName=policy_name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise failure("DeleteProjectPolicy", error) from error
    return Outcome(physical, complete=True)
