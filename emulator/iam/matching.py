"""Matching a request against a policy statement: wildcards, ARNs, policy variables, principals and
condition operators. Part of :mod:`emulator.iam`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from .policy import Condition, Grant, Principal, Request, Statement, UnsupportedPolicyError


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
