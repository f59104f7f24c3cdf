"""Synth-time checks of project policies (PutProjectPolicy): names, principals, statements, the document.

Like :mod:`.validation` (whose :class:`~.validation.ModelCopyValidationError` these raise), every check skips
an unresolved token. The rules are PutProjectPolicy's: one action (``rekognition:CopyProjectVersion``), no
``Not*`` elements, principals that are accounts or roles and never a wildcard, resources that are exact
version ARNs of the policy's own project, at most 2000 characters and 5 policies per project.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .permissions import COPY_ACTIONS
from .validation import (
    ModelCopyValidationError,
    ParsedArn,
    check_match,
    check_same_project,
    is_token,
    parse_project_version_arn,
)

POLICY_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_.\-]{1,128}$")
MAX_POLICY_DOCUMENT_LENGTH = 2000
MAX_POLICIES_PER_PROJECT = 5
COPY_ACTION = COPY_ACTIONS[0]
"""The one action a project policy may allow."""
ROLE_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>[a-z\d-]+):iam::(?P<account>\d{12}):role\/(?:[\x21-\x7e]*\/)?(?P<name>[\w+=,.@-]{1,64})$"
)
ACCOUNT_ROOT_ARN_PATTERN = re.compile(r"^arn:(?P<partition>[a-z\d-]+):iam::(?P<account>\d{12}):root$")
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")
# IAM statement ids: ASCII letters and digits.
SID_PATTERN = re.compile(r"^[A-Za-z0-9]{1,128}$")
_NOT_ELEMENTS = ("NotAction", "NotResource", "NotPrincipal")


def check_policy_name(value: str) -> None:
    """PolicyName of PutProjectPolicy: 1-128 characters of ``[a-zA-Z0-9_.-]``."""
    check_match(
        POLICY_NAME_PATTERN,
        value,
        f"policy_name must be 1-128 characters of letters, digits, '_', '.' or '-'; got {value!r}. "
        "Choose a name such as 'promote-to-prod'.",
    )


def check_project_owner(
    argument: str, project: ParsedArn | None, stack_account: str, stack_region: str
) -> None:
    """A project policy is put by the project's own account, in the project's Region: the stack's."""
    if project is None:
        return
    if not is_token(stack_account) and not is_token(project.account) and project.account != stack_account:
        raise ModelCopyValidationError(
            f"{argument} is in account {project.account!r} but the stack deploys to account "
            f"{stack_account!r}; only the project's own account can put a policy on it. Create the "
            f"policy in a stack of account {project.account!r} (the source account of the copy)."
        )
    if not is_token(stack_region) and not is_token(project.region) and project.region != stack_region:
        raise ModelCopyValidationError(
            f"{argument} is in Region {project.region!r} but the stack deploys to {stack_region!r}. Deploy "
            f"the stack to {project.region!r} (env=Environment(region=...))."
        )


def normalize_principal(value: str, partition: str | None) -> str:
    """An allowed project-policy principal as an ARN: a role ARN or an account root ARN.

    A 12-digit account id becomes ``arn:<partition>:iam::<account>:root`` (``partition`` is the source
    version's; ``aws`` when unknown). Tokens are returned unchanged.
    """
    if is_token(value):
        return value
    if not isinstance(value, str) or "*" in value:
        raise ModelCopyValidationError(
            f"principal must name one account or one role; got {value!r}. Wildcard principals would let "
            "any AWS account copy the model: give the destination's IAM role ARN "
            "(arn:aws:iam::<account>:role/<name>), its account root ARN (arn:aws:iam::<account>:root) or its "
            "12-digit account id."
        )
    if ACCOUNT_ID_PATTERN.match(value):
        return f"arn:{partition or 'aws'}:iam::{value}:root"
    match = ROLE_ARN_PATTERN.match(value) or ACCOUNT_ROOT_ARN_PATTERN.match(value)
    if match is None:
        raise ModelCopyValidationError(
            "principal must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), an account root ARN "
            f"(arn:aws:iam::<account>:root) or a 12-digit account id; got {value!r}. Users, groups, "
            "assumed-role sessions and service principals cannot be named in a project policy."
        )
    if partition is not None and match["partition"] != partition:
        raise ModelCopyValidationError(
            f"principal {value!r} is in partition {match['partition']!r} but the project is in "
            f"{partition!r}; copies stay within one partition. Give a principal of {partition!r}."
        )
    return value


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]


def check_policy_statement(
    statement: Mapping[str, object],
    project: ParsedArn | None,
    project_description: str,
) -> None:
    """A statement of a project policy, as IAM JSON, against the rules of PutProjectPolicy.

    Effect, Principal, Action and Resource are required; the only action is
    ``rekognition:CopyProjectVersion``; NotAction, NotResource and NotPrincipal are rejected; principals are
    accounts or roles, never a wildcard; resources are version ARNs of ``project`` (when known).
    """
    for element in _NOT_ELEMENTS:
        if element in statement:
            raise ModelCopyValidationError(
                f"A project policy statement cannot use {element} (Rekognition rejects it); got "
                f"{statement!r}. Use {element[3:]} with the exact values instead."
            )
    for element in ("Effect", "Principal", "Action", "Resource"):
        if element not in statement:
            raise ModelCopyValidationError(
                f"A project policy statement needs {element}; got {statement!r}. Use "
                "add_copy_permission(principal=..., source_project_version_arn=...) to build one."
            )
    effect = statement["Effect"]
    if not is_token(effect) and effect not in ("Allow", "Deny"):
        raise ModelCopyValidationError(
            f"Effect must be 'Allow' or 'Deny'; got {effect!r}. Use iam.Effect.ALLOW or iam.Effect.DENY."
        )
    sid = statement.get("Sid")
    if sid is not None and not is_token(sid) and not (isinstance(sid, str) and SID_PATTERN.match(sid)):
        raise ModelCopyValidationError(
            f"sid must be 1-128 ASCII letters and digits (an IAM statement id); got {sid!r}. Remove other "
            "characters, or leave sid out."
        )
    for action in _as_list(statement["Action"]):
        if not is_token(action) and action != COPY_ACTION:
            raise ModelCopyValidationError(
                f"A project policy may only allow or deny {COPY_ACTION!r}; got action {action!r}. Remove "
                "the other actions (wildcards such as 'rekognition:*' are rejected too)."
            )
    principal = statement["Principal"]
    if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
        raise ModelCopyValidationError(
            f"A project policy principal must be {{'AWS': <account or role ARN>}}; got {principal!r}. "
            "Service, federated and wildcard ('*') principals are not allowed."
        )
    partition = project.partition if project is not None and not is_token(project.partition) else None
    for value in _as_list(principal["AWS"]):
        normalize_principal(value, partition)  # type: ignore[arg-type]
    for resource in _as_list(statement["Resource"]):
        check_resource_of_project(resource, project, project_description)  # type: ignore[arg-type]


def check_resource_of_project(value: str, project: ParsedArn | None, project_description: str) -> None:
    """A policy resource must be the exact ARN of a model version of the policy's own project."""
    if is_token(value):
        return
    if not isinstance(value, str) or "*" in value or "?" in value:
        raise ModelCopyValidationError(
            f"A project policy resource must be the exact ARN of one model version; got {value!r}. "
            "Wildcards would allow copying every version: name each version ARN."
        )
    check_same_project(
        project,
        parse_project_version_arn("source_project_version_arn", value),
        lambda label, got, expected: (
            f"source_project_version_arn must be a version of the policy's project "
            f"{project_description}: its {label} is {got} in {value!r} but {expected} for the "
            "project. Put the permission on the policy of the version's own project."
        ),
    )
