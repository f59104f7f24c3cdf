"""Policy documents and authorization requests: the types the evaluator works on, and parsing.

Part of :mod:`emulator.iam` (how AWS evaluates policies, and the sources, are described there).
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Mapping, Sequence
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


#: An AdministratorAccess-like identity policy (for the emulator's own driver role).
ADMINISTRATOR_ACCESS = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
