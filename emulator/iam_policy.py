"""IAM policy evaluation for the emulator: identity-based and resource-based policies, as AWS documents it.

Sources (IAM User Guide):

* "Policy evaluation logic" and "Policy evaluation for requests within a single account": within one
  account, an Allow in EITHER the identity-based or the resource-based policy suffices; an explicit Deny in
  any policy wins; otherwise the request is implicitly denied. The account root user has full access to
  its own account.
* "Cross-account policy evaluation logic": across accounts, the identity-based policy of the caller AND
  the resource-based policy of the resource must both allow.
* KMS ("Key policies in AWS KMS"): a key policy is always required; a statement naming the account
  (``arn:aws:iam::<account>:root``) delegates to that account's IAM policies, a statement naming the
  principal itself grants directly (same account only; other accounts also need their identity policy).
* "IAM JSON policy elements: Condition operators": a key missing from the request context makes a
  condition false, except for negated operators (``StringNotEquals``, ``ArnNotLike`` ...), which are then
  true, ``...IfExists`` (true) and ``Null``. ``ForAllValues`` is true for a missing key,
  ``ForAnyValue`` false.
* Wildcards: ``*`` and ``?`` in Action (case-insensitive) and Resource; in an ARN each of the six
  colon-separated parts is matched on its own (a wildcard does not span a ``:``).

Not modelled (the emulator never needs them): permissions boundaries, session policies, SCPs/RCPs,
Date/IpAddress/Binary operators. An operator this module does not know raises
:class:`UnsupportedPolicyError`, which callers turn into a denial naming the operator: a policy the
emulator cannot evaluate never grants access (stricter than guessing).

Parsed documents and compiled patterns are cached by their text, so a call costs dictionary lookups.

Why our own: no maintained Python library evaluates a request against identity AND resource policies with
conditions. moto 5.2's IAM enforcement checks actions only (no resources, no conditions);
principalmapper 1.1.5 does not import on Python 3.10+; policyuniverse parses and expands policies but
does not decide requests; iam-ape computes an entity's effective permissions (no resource policies,
no request context); iamspy (0.0.1, 2022) is unmaintained.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ContextValue = str | Sequence[str]


class UnsupportedPolicyError(Exception):
    """A policy uses something this evaluator does not implement (the request is then denied)."""


class Decision(enum.Enum):
    """What one set of policies says about a request."""

    ALLOW = "allow"
    DENY = "deny"  # explicit
    IMPLICIT_DENY = "implicit"


class Grant(enum.Enum):
    """How a resource policy statement matched the caller."""

    NONE = 0
    ACCOUNT = 1  # through the caller's account (root ARN or account id): delegates to the account's IAM
    DIRECT = 2  # the caller itself (its role, session or user ARN, role unique id, or "*")


@dataclass(frozen=True)
class Principal:
    """Who makes a request.

    ``arn`` is how AWS names the caller in an AccessDenied message (the session ARN for an assumed role).
    ``role_id`` is the unique id of the role as it exists NOW (None when the role no longer exists).
    """

    account_id: str
    arn: str
    role_arn: str | None = None
    role_id: str | None = None
    is_root: bool = False

    def names(self) -> frozenset[str]:
        """Every principal string a resource policy may use to name this caller directly."""
        found = {self.arn}
        if self.role_arn:
            found.add(self.role_arn)
        return frozenset(found)


@dataclass(frozen=True)
class Request:
    """One authorization question: may ``principal`` do ``action`` on ``resource`` given ``context``.

    Context keys are matched case-insensitively (store them in any case).
    """

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    @functools.cached_property
    def lowered(self) -> dict[str, ContextValue]:
        """The context with lower-case keys."""
        return {k.lower(): v for k, v in self.context.items()}


# ---------------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """One operator/key/values triple of a Condition block."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """A parsed policy statement."""

    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principals: tuple[str, ...] | None  # AWS principals ("*" for everyone); None: no Principal element
    not_principals: tuple[str, ...] | None
    conditions: tuple[Condition, ...]
    variables: bool  # policy variables are substituted (Version 2012-10-17 only)
    sid: str = ""


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple("true" if v is True else "false" if v is False else str(v) for v in items)


def _principals(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if value == "*":
        return ("*",)
    if isinstance(value, dict):
        found: list[str] = []
        for kind, names in value.items():
            if kind == "AWS":
                found.extend(_strings(names))
            else:  # Service / Federated / CanonicalUser principals never match an IAM caller here
                found.extend(f"{kind}:{name}" for name in _strings(names))
        return tuple(found)
    return _strings(value)


@functools.lru_cache(maxsize=2048)
def parse(document: str) -> tuple[Statement, ...]:
    """Parse a JSON policy document into statements (cached by the document's text)."""
    parsed = json.loads(document)
    if not isinstance(parsed, dict):
        raise ValueError("a policy document must be a JSON object")
    variables = parsed.get("Version") == "2012-10-17"
    raw = parsed.get("Statement", [])
    statements: list[Statement] = []
    for item in raw if isinstance(raw, list) else [raw]:
        conditions: list[Condition] = []
        for operator, keys in (item.get("Condition") or {}).items():
            for key, values in keys.items():
                conditions.append(Condition(operator, key, _strings(values)))
        statements.append(
            Statement(
                effect=str(item.get("Effect", "")),
                actions=_strings(item["Action"]) if "Action" in item else None,
                not_actions=_strings(item["NotAction"]) if "NotAction" in item else None,
                resources=_strings(item["Resource"]) if "Resource" in item else None,
                not_resources=_strings(item["NotResource"]) if "NotResource" in item else None,
                principals=_principals(item.get("Principal")),
                not_principals=_principals(item.get("NotPrincipal")),
                conditions=tuple(conditions),
                variables=variables,
                sid=str(item.get("Sid", "")),
            )
        )
    return tuple(statements)


# ---------------------------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """``*`` any run of characters, ``?`` one character."""
    return _glob(pattern, ignore_case).match(value) is not None


@functools.lru_cache(maxsize=4096)
def _arn_pattern(pattern: str) -> re.Pattern[str] | None:
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        return None

    def segment(text: str, last: bool) -> str:
        star, one = (".*", ".") if last else ("[^:]*", "[^:]")
        return "".join(star if c == "*" else one if c == "?" else re.escape(c) for c in text)

    body = ":".join(segment(part, index == 5) for index, part in enumerate(parts))
    return re.compile(f"^{body}$", re.DOTALL)


def arn_match(pattern: str, arn: str) -> bool:
    """ARN matching: ``*`` alone matches everything; otherwise each of the six parts on its own."""
    if pattern == "*":
        return True
    compiled = _arn_pattern(pattern)
    if compiled is None:
        return glob_match(pattern, arn)
    return compiled.match(arn) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _substitute(text: str, request: Request, enabled: bool) -> str | None:
    """Replace policy variables; None when one has no value (the statement then does not apply)."""
    if not enabled or "${" not in text:
        return text
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name in ("*", "?", "$"):
            return name
        value = request.lowered.get(name.lower())
        if isinstance(value, str):
            return value
        missing = True
        return ""

    result = _VARIABLE.sub(replace, text)
    return None if missing else result


def _action_matches(patterns: tuple[str, ...], action: str) -> bool:
    return any(glob_match(p, action, ignore_case=True) for p in patterns)


@functools.lru_cache(maxsize=4096)
def _any_arn(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for a list of ARN patterns (None when one of them is not an ARN pattern)."""
    if "*" in patterns:
        return re.compile(".*", re.DOTALL)
    compiled = [_arn_pattern(p) for p in patterns]
    if any(c is None for c in compiled):
        return None
    return re.compile("|".join(f"(?:{c.pattern})" for c in compiled if c is not None), re.DOTALL)


def _resource_matches(patterns: tuple[str, ...], request: Request, variables: bool) -> bool:
    if not (variables and any("${" in p for p in patterns)):
        combined = _any_arn(patterns)
        if combined is not None:
            return combined.match(request.resource) is not None
    for pattern in patterns:
        resolved = _substitute(pattern, request, variables)
        if resolved is not None and arn_match(resolved, request.resource):
            return True
    return False


def principal_grant(
    names: tuple[str, ...], principal: Principal, bindings: Mapping[str, str] | None = None
) -> Grant:
    """How a list of principal names (a resource policy's ``Principal``) matches ``principal``.

    ``bindings`` maps a role ARN to the unique id of the role it named when the policy was stored: a
    role deleted and recreated under the same name then no longer matches (AWS stores the unique id).
    """
    best = Grant.NONE
    account_names = {principal.account_id, f"arn:aws:iam::{principal.account_id}:root"}
    for name in names:
        if name == "*":
            return Grant.DIRECT
        if name in account_names:
            best = Grant.ACCOUNT if best is Grant.NONE else best
            continue
        if principal.role_id is not None and name == principal.role_id:
            return Grant.DIRECT
        if name in principal.names():
            bound = (bindings or {}).get(name)
            if name == principal.role_arn and bound is not None and bound != principal.role_id:
                continue  # the role this policy named was deleted; this is another role of that name
            return Grant.DIRECT
    return best


# ---------------------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------------------
def _string_equals(policy: str, value: str) -> bool:
    return policy == value


def _string_equals_ignore_case(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


def _string_like(policy: str, value: str) -> bool:
    return glob_match(policy, value)


def _bool(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


def _numeric(compare: str) -> Any:
    def match(policy: str, value: str) -> bool:
        try:
            a, b = float(value), float(policy)
        except ValueError:
            return False
        return {
            "eq": a == b,
            "ne": a != b,
            "lt": a < b,
            "le": a <= b,
            "gt": a > b,
            "ge": a >= b,
        }[compare]

    return match


# operator -> (value matcher, negated)
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (arn_match, False),
    "ArnLike": (arn_match, False),
    "ArnNotEquals": (arn_match, True),
    "ArnNotLike": (arn_match, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric("eq"), False),
    "NumericNotEquals": (_numeric("eq"), True),
    "NumericLessThan": (_numeric("lt"), False),
    "NumericLessThanEquals": (_numeric("le"), False),
    "NumericGreaterThan": (_numeric("gt"), False),
    "NumericGreaterThanEquals": (_numeric("ge"), False),
}

#: Operators this module evaluates (``...IfExists`` variants and ``ForAnyValue:``/``ForAllValues:`` too).
SUPPORTED_OPERATORS = frozenset(_OPERATORS) | {"Null"}


def _condition_holds(condition: Condition, request: Request, variables: bool) -> bool:
    operator = condition.operator
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            raise UnsupportedPolicyError(f"condition operator {condition.operator!r} is not supported")
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    base = operator[: -len("IfExists")] if if_exists else operator
    present = condition.key.lower() in request.lowered
    raw = request.lowered.get(condition.key.lower())
    if base == "Null" and not qualifier and not if_exists:
        return all((v.lower() == "true") == (not present) for v in condition.values)
    if base not in _OPERATORS:
        raise UnsupportedPolicyError(
            f"condition operator {condition.operator!r} is not supported by the emulator's evaluator "
            f"(supported: {', '.join(sorted(SUPPORTED_OPERATORS))}, "
            "with IfExists, ForAnyValue: and ForAllValues:)"
        )
    matcher, negated = _OPERATORS[base]
    policy_values = []
    for value in condition.values:
        resolved = _substitute(value, request, variables)
        if resolved is not None:
            policy_values.append(resolved)
    values: list[str] = [] if raw is None else ([raw] if isinstance(raw, str) else list(raw))

    def one(value: str) -> bool:
        hit = any(matcher(p, value) for p in policy_values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)  # true for a missing or empty key, as documented
    if qualifier == "ForAnyValue":
        return any(one(v) for v in values)  # false for a missing key
    if not present:
        return if_exists or negated
    if negated:
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def conditions_hold(statement: Statement, request: Request) -> bool:
    """Every condition of the statement holds (AND of operators and keys, OR of a key's values)."""
    return all(_condition_holds(c, request, statement.variables) for c in statement.conditions)


# ---------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------
def statement_applies(statement: Statement, request: Request) -> bool:
    """Action, resource and conditions of the statement match the request (Principal not checked).

    A statement with neither Action nor NotAction (or neither Resource nor NotResource) is invalid in
    the policies evaluated here (IAM and the services reject it when it is stored) and applies to nothing.
    """
    if statement.actions is None and statement.not_actions is None:
        return False
    if statement.resources is None and statement.not_resources is None:
        return False
    if statement.actions is not None and not _action_matches(statement.actions, request.action):
        return False
    if statement.not_actions is not None and _action_matches(statement.not_actions, request.action):
        return False
    if statement.resources is not None and not _resource_matches(
        statement.resources, request, statement.variables
    ):
        return False
    if statement.not_resources is not None and _resource_matches(
        statement.not_resources, request, statement.variables
    ):
        return False
    return conditions_hold(statement, request)


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


#: An AdministratorAccess-like identity policy (for the emulator's own driver role).
ADMINISTRATOR_ACCESS = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
