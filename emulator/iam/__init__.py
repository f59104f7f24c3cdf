"""IAM for the emulator: identity-based and resource-based policies evaluated as AWS documents it, and the
principals moto IAM holds.

Modules: :mod:`.policy` (documents, requests, parsing), :mod:`.matching` (wildcards, ARNs, variables,
principals, condition operators), :mod:`.evaluation` (identity and resource decisions, the final answer),
:mod:`.principals` (roles and users in moto IAM; the emulator's tooling role and AWS managed policies).

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
Date/IpAddress/Binary operators. An operator this package does not know raises
:class:`UnsupportedPolicyError`, which callers turn into a denial naming the operator: a policy the
emulator cannot evaluate never grants access (stricter than guessing).

Parsed documents and compiled patterns are cached by their text, so a call costs dictionary lookups.

Why our own: no maintained Python library evaluates a request against identity AND resource policies with
conditions. moto 5.2's IAM enforcement checks actions only (no resources, no conditions);
principalmapper 1.1.5 does not import on Python 3.10+; policyuniverse parses and expands policies but
does not decide requests; iam-ape computes an entity's effective permissions (no resource policies,
no request context); iamspy (0.0.1, 2022) is unmaintained.
"""

from .evaluation import Outcome, authorize, evaluate_identity, evaluate_resource
from .matching import (
    SUPPORTED_OPERATORS,
    arn_match,
    conditions_hold,
    glob_match,
    principal_grant,
    statement_applies,
)
from .policy import (
    ADMINISTRATOR_ACCESS,
    Condition,
    ContextValue,
    Decision,
    Grant,
    Principal,
    Request,
    Statement,
    UnsupportedPolicyError,
    parse,
)
from .principals import (
    IdentityPolicyHistory,
    ensure_aws_managed_policy,
    ensure_role,
    find_role,
    iam_backend,
    identity_history,
    missing_principals,
    principal_exists,
    user_of,
)

__all__ = [
    "ADMINISTRATOR_ACCESS",
    "SUPPORTED_OPERATORS",
    "Condition",
    "ContextValue",
    "Decision",
    "Grant",
    "IdentityPolicyHistory",
    "Outcome",
    "Principal",
    "Request",
    "Statement",
    "UnsupportedPolicyError",
    "arn_match",
    "authorize",
    "conditions_hold",
    "ensure_aws_managed_policy",
    "ensure_role",
    "evaluate_identity",
    "evaluate_resource",
    "find_role",
    "glob_match",
    "iam_backend",
    "identity_history",
    "missing_principals",
    "parse",
    "principal_exists",
    "principal_grant",
    "statement_applies",
    "user_of",
]
