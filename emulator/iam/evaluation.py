"""Evaluation: what identity-based and resource-based policies say about a request, and the final
answer combining them as AWS does. Part of :mod:`emulator.iam`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .matching import principal_grant, statement_applies
from .policy import Decision, Grant, Request, UnsupportedPolicyError, parse


def evaluate_identity(documents: Iterable[str], request: Request) -> Decision:
    """What the caller's identity-based policies say (Principal elements are ignored)."""
    decision = Decision.IMPLICIT_DENY
    for document in documents:
        for statement in parse(document):
            if not statement_applies(statement, request):
                continue
            if statement.effect == "Deny":
                return Decision.DENY
            if statement.effect == "Allow":
                decision = Decision.ALLOW
    return decision


def evaluate_resource(
    documents: Iterable[str], request: Request, bindings: Mapping[str, str] | None = None
) -> tuple[Decision, Grant]:
    """What resource-based policies say, and how the best Allow named the caller."""
    grant = Grant.NONE
    for document in documents:
        for statement in parse(document):
            if statement.principals is not None:
                matched = principal_grant(statement.principals, request.principal, bindings)
            elif statement.not_principals is not None:
                excluded = principal_grant(statement.not_principals, request.principal, bindings)
                matched = Grant.DIRECT if excluded is Grant.NONE else Grant.NONE
            else:
                matched = Grant.NONE
            if matched is Grant.NONE or not statement_applies(statement, request):
                continue
            if statement.effect == "Deny":
                return Decision.DENY, matched
            if statement.effect == "Allow" and matched.value > grant.value:
                grant = matched
    return (Decision.ALLOW if grant is not Grant.NONE else Decision.IMPLICIT_DENY), grant


@dataclass(frozen=True)
class Outcome:
    """The final answer, with the reason AWS would give for a denial."""

    allowed: bool
    reason: str = ""

    def message(self, request: Request) -> str:
        """The AccessDenied message, worded as AWS words it."""
        return (
            f"User: {request.principal.arn} is not authorized to perform: {request.action} on resource: "
            f"{request.resource} {self.reason}"
        )


def authorize(
    request: Request,
    identity_documents: Iterable[str],
    resource_documents: Iterable[str] | None,
    resource_account: str,
    *,
    key_policy: bool = False,
    bindings: Mapping[str, str] | None = None,
) -> Outcome:
    """Decide one request, combining identity-based and resource-based policies as AWS does.

    ``resource_documents`` None: the resource has no resource-based policy at all. ``key_policy`` True:
    the resource is a KMS key, whose key policy must always allow (directly, or through the account).
    The root user of an account is allowed everything by its identity side (it has no policies).
    """
    action = request.action
    principal = request.principal
    try:
        if principal.is_root:
            identity = Decision.ALLOW
        else:
            identity = evaluate_identity(identity_documents, request)
        resource, grant = (
            evaluate_resource(resource_documents, request, bindings)
            if resource_documents is not None
            else (Decision.IMPLICIT_DENY, Grant.NONE)
        )
    except UnsupportedPolicyError as error:
        return Outcome(False, f"because the emulator cannot evaluate a policy that applies: {error}")
    if identity is Decision.DENY:
        return Outcome(False, "with an explicit deny in an identity-based policy")
    if resource is Decision.DENY:
        return Outcome(False, "with an explicit deny in a resource-based policy")
    same_account = principal.account_id == resource_account
    identity_allows = identity is Decision.ALLOW
    if key_policy:
        if same_account and grant is Grant.DIRECT:
            return Outcome(True)
        if grant is not Grant.NONE and identity_allows:
            return Outcome(True)
    elif same_account:
        if identity_allows or grant is Grant.DIRECT:
            return Outcome(True)
    elif identity_allows and grant is not Grant.NONE:
        return Outcome(True)
    if key_policy and grant is Grant.NONE:
        return Outcome(False, f"because no resource-based policy allows the {action} action")
    if not identity_allows:
        return Outcome(False, f"because no identity-based policy allows the {action} action")
    return Outcome(False, f"because no resource-based policy allows the {action} action")
