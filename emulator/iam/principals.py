"""Principals in moto IAM: finding roles and users, whether a principal a policy names exists, and the
emulator's own tooling: an administrator role, AWS managed policies made attachable.

Part of :mod:`emulator.iam`; used by the Custom Labels emulator (identity policies of a caller, principals
of a project policy) and by the CloudFormation driver (its role, the templates' roles and policies).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from typing import Any

from moto.iam.models import Role, iam_backends

from .policy import ADMINISTRATOR_ACCESS


def iam_backend(account_id: str, partition: str = "aws") -> Any:
    """moto's IAM backend of an account (IAM is global: one per partition)."""
    return iam_backends[account_id][partition]


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


class IdentityPolicyHistory:
    """When each identity policy of a principal changed, as the emulator saw it; the documents in force.

    IAM documents its changes as eventually consistent: "changes that you make [...] take time to become
    visible from all possible endpoints" (IAM User Guide, troubleshoot_general, "Changes that I make are
    not always immediately visible"), without a figure. moto's IAM does not record when a policy changed,
    so the emulator remembers, per principal (its unique id) and policy, each document with the emulator
    time it first saw it; a document is in force ``delay`` seconds after that. What a principal holds when
    the emulator first sees it counts as settled long ago (a new role is not delayed: only changes are); a
    change is seen at the latest at the principal's next call, so it never takes effect earlier than the
    delay after it was made. The CloudFormation driver may date a change exactly, right after it changes a
    role (``emulator.custom_labels.authz.observe_role``).
    """

    def __init__(self) -> None:
        """An empty history."""
        self._history: dict[str, dict[str, list[tuple[float, str | None]]]] = {}

    def clear(self) -> None:
        """Forget everything seen."""
        self._history.clear()

    def in_force(self, owner: str, current: Mapping[str, str], now: float, delay: float) -> list[str]:
        """The documents of ``owner`` in force at ``now``, given its ``current`` ones (policy key ->
        document) and the seconds a change takes to take effect; records what changed."""
        known = self._history.get(owner)
        if known is None:
            self._history[owner] = {key: [(-math.inf, doc)] for key, doc in current.items()}
            return list(current.values())
        for key in set(known) | set(current):
            document = current.get(key)
            entries = known.setdefault(key, [])
            if not entries or entries[-1][1] != document:
                entries.append((now, document))
        if delay <= 0:
            return list(current.values())
        documents: list[str] = []
        for entries in known.values():
            settled = [doc for at, doc in entries if at + delay <= now]
            if settled and settled[-1] is not None:
                documents.append(settled[-1])
        return documents


#: The one history of the emulator (reset with the Custom Labels emulator).
identity_history = IdentityPolicyHistory()


def ensure_role(account_id: str, role_name: str, policy: str = ADMINISTRATOR_ACCESS) -> None:
    """Create ``role_name`` in moto IAM with ``policy`` inline (if absent): the emulator's own tooling roles.

    The CloudFormation driver acts as an administrator role in each account, the way a deployment
    role does; the handler's role is the template's.
    """
    backend = iam_backend(account_id)
    if any(role.name == role_name for role in backend.roles.values()):
        return
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    backend.create_role(role_name, json.dumps(trust), "/", None, "emulator tooling role", [], None)
    backend.put_role_policy(role_name, "AdministratorAccess", policy)


@functools.lru_cache(maxsize=1)
def _aws_managed_policies() -> dict[str, tuple[str, dict[str, Any]]]:
    """moto's copy of AWS's managed policies, by ARN (parsed once: the data is large)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return {
        f"arn:aws:iam::aws:policy{item.get('Path', '/')}{name}": (name, item) for name, item in data.items()
    }


def ensure_aws_managed_policy(account_id: str, policy_arn: str) -> None:
    """Make an AWS managed policy (``arn:aws:iam::aws:policy/...``) attachable in ``account_id``.

    moto loads AWS managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES (slow: every one of them);
    this loads the one a template attaches, with its real document from moto's copy of AWS's data.
    """
    from moto.iam.models import AWSManagedPolicy

    backend = iam_backend(account_id)
    if policy_arn in backend.managed_policies:
        return
    found = _aws_managed_policies().get(policy_arn)
    if found is None:
        raise ValueError(f"{policy_arn} is not an AWS managed policy moto knows")
    policy = AWSManagedPolicy.from_data(found[0], account_id, backend.region_name, found[1])
    backend.managed_policies[policy.arn] = policy


def missing_principals(document: Mapping[str, Any]) -> list[str]:
    """AWS principals a resource policy names that do not exist (KMS and S3 reject such a policy:
    MalformedPolicyDocumentException / "Invalid principal in policy")."""
    missing: list[str] = []
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for key in ("Principal", "NotPrincipal"):
            principal = statement.get(key)
            names = principal.get("AWS", []) if isinstance(principal, dict) else []
            for name in names if isinstance(names, list) else [names]:
                if isinstance(name, str) and not principal_exists(name):
                    missing.append(name)
    return missing
