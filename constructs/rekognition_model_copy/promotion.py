"""``RekognitionModelPromotion``: one description of a model promotion from a source to a destination stack.

A promotion copies one trained model version from a project of the SOURCE account (say dev) into a project
of the DESTINATION account (say prod), in one Region. It creates:

- in the destination stack, a :class:`RekognitionModelCopy` whose backing function runs as the stack's
  *copy role*, given the deterministic name :func:`default_role_name` (``<stack name>-ModelCopy-<region>``)
  unless the provider's role was named before (``RekognitionModelCopyProvider.of(stack, role_name=...)``);
- in the source stack, when the accounts differ, a :class:`RekognitionProjectPolicy` on the source project
  allowing the destination account (``principal="account"``, the default: ``arn:<partition>:iam::<destination
  account>:root``) or exactly the copy role (``principal="role"``) ``rekognition:CopyProjectVersion`` on
  exactly the source version. A same-account promotion needs and creates no policy;
- a dependency of the destination stack on the source stack, so ``cdk deploy --all`` puts the policy in
  place before the copy runs. When the two stacks are in different :class:`~aws_cdk.Stage` s (CDK
  Pipelines), CDK refuses that dependency (``NoCrossStageDependency``): the pipeline's order (the source
  stage first, the destination stages in a later wave) gives it instead.

Fan-out: the promotions of one source project from one source stack share ONE policy (per ``policy_name``;
the first promotion's, created under its ``id``), whose permissions are packed into as few documents as
PutProjectPolicy's limits allow (:mod:`.packing`). Removing the first promotion moves the policy to the
next one's id: a replacement, which puts the new policy before the old one is deleted (with an explicit
``policy_name``, which stays the same, give a new one in that change: the new resource would find a policy
of its name that it did not create).

A quality bar (``min_f1_score``) of a cross-account promotion goes to the source project's policy (the
source account reads the version's F1 score before it allows the copy: the strictest bar of the promotions
sharing it); of a same-account promotion, to the copy.

Why the account by default: resource policies of IAM-integrated services reject a principal that does not
exist, and store a role principal as the role's unique id (PutProjectPolicy has
``MalformedPolicyDocumentException``; assumed to behave alike). The account root always exists and the
copy role's own identity policy still limits the copy to this version, this destination and this output.
``principal="role"`` narrows the policy to the role, with two hazards:

1. the role must exist before the source stack deploys, which is first: deploy the destination stack once
   without the promotion (``RekognitionModelCopyProvider.of(stack, role_name=...)`` alone, or any other
   copy, creates the named role), then add the promotion;
2. a role deleted and recreated under the same name (the destination stack deleted and deployed again)
   has a new unique id, which the policy does not match: the copy is denied until the source stack puts
   the policy again (e.g. with another ``policy_name``, which replaces it).

Keys and buckets: the copy role gets kms:CreateGrant (only for AWS resources), DescribeKey, GenerateDataKey
and Decrypt on the encryption key (and on the output bucket's key) alone, DescribeKey, Decrypt and
CreateGrant on the source model's key (``source_kms_key``) alone, and reads and writes only the output
prefix of the bucket (see :class:`RekognitionModelCopy`). A key this app does not own gets no key policy
from the CDK: the owner of the source key adds :meth:`RekognitionModelPromotion.source_key_policy_statements`
to its key policy, the owner of each key in :attr:`RekognitionModelPromotion.imported_keys`
:meth:`RekognitionModelPromotion.key_policy_statements`.
"""

from __future__ import annotations

from typing import Any, Literal, Unpack

from aws_cdk import Annotations, Aws, Stack, Stage, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from . import compat, permissions, policy_validation, validation
from .arguments import CopyArguments, CopyProps, check_keywords, with_source_arns
from .model_copy import RekognitionModelCopy, check_source_stack
from .project_policy import RekognitionProjectPolicy
from .provider import PROVIDER_ID, RekognitionModelCopyProvider, default_role_name

Principal = Literal["account", "role"]
"""Whom a promotion's project policy allows: the destination ``"account"`` (root) or its copy ``"role"``."""



class RekognitionModelPromotion:
    """A promotion of one model version: the copy in the destination stack, the policy in the source stack.

    Not a construct itself (it spans two stacks): it creates a construct with the id ``id`` in each stack,
    ``destination_stack/<id>`` (the copy) and, for the first cross-account promotion of a source project
    (and ``policy_name``) in the source stack, ``source_stack/<id>`` (the policy the later ones share).
    Those ids are public contract: changing them replaces the resources.
    """

    def __init__(
        self,
        *,
        id: str,
        source_stack: Stack,
        destination_stack: Stack,
        principal: Principal = "account",
        policy_name: str | None = None,
        project_policy: RekognitionProjectPolicy | None = None,
        **props: Unpack[CopyProps],
    ) -> None:
        """Promote the ``source`` version (source account) into ``destination_project``.

        The copy's keyword arguments are those of :class:`RekognitionModelCopy` (:class:`CopyProps`), with
        the same defaults: ``source`` (an :class:`IProjectVersion`, typically
        ``ProjectVersion.from_project_version_attributes``), or its two ARNs; its account must be the
        source stack's. The copy's
        ``removal_policy`` and ``timeout`` are the copy's alone: the policy is always deleted with the
        source stack's resource (it is only needed while copying). An ``encryption_key`` of another account
        needs :meth:`key_policy_statements` in its key policy.

        :param id: construct id of the copy in ``destination_stack`` and of the policy in ``source_stack``.
        :param source_stack: a stack of the source account (the version's account), in the destination's
            Region, with a concrete account and Region. It holds the project policy.
        :param destination_stack: the stack of the destination account (concrete account and Region) that
            holds the copy.
        :param principal: whom the project policy (and :meth:`key_policy_statements`) allows: ``"account"``
            (default), the destination account root: any principal of the destination account that its own
            IAM policies allow, which for this version is the copy role; ``"role"``, the copy role only. The
            role must then exist before the source stack deploys, and a recreated role no longer matches
            (see the module's documentation).
        :param policy_name: name of the project policy. Default: that of :class:`RekognitionProjectPolicy`,
            ``<source stack name>.<id>``. Ignored for same-account promotions and with ``project_policy``.
            Promotions of one source project and stack with the same ``policy_name`` (or none) share one
            policy: the first one's.
        :param project_policy: add the permission to this existing policy (of ``source_stack``, on the
            source project) instead of the shared one. Default: the policy the promotions of this source
            stack and project share, created by the first of them.
        :raises validation.ModelCopyValidationError: environments that are not concrete or differ in Region,
            a version of another account than the source stack's, an unknown ``principal``, a construct id
            already taken, or any error of :class:`RekognitionModelCopy` and
            :class:`RekognitionProjectPolicy`. Nothing is created in either stack then.
        """
        # Validate everything before creating any construct, in either stack.
        check_source_stack(props.get("source"), destination_stack)
        given: dict[str, Any] = with_source_arns(props)
        check_keywords(given)
        min_f1_score = given.get("min_f1_score")
        validation.check_min_f1_score("min_f1_score", min_f1_score)
        source_project_arn = given["source_project_arn"]
        source_project_version_arn = given["source_project_version_arn"]
        if principal not in ("role", "account"):
            raise validation.ModelCopyValidationError(
                f"principal must be 'account' (the destination account root) or 'role' (the destination's "
                f"copy role); got {principal!r}."
            )
        _check_environments(source_stack, destination_stack)
        source_account = source_stack.account
        destination_account = destination_stack.account
        version = validation.parse_project_version_arn(
            "source_project_version_arn", source_project_version_arn
        )
        if version is not None and version.account != source_account:
            raise validation.ModelCopyValidationError(
                f"source_project_version_arn is in account {version.account!r} but source_stack "
                f"{source_stack.stack_name!r} deploys to account {source_account!r}; the project policy must "
                f"be put by the version's account. Deploy source_stack to account {version.account!r}, or "
                "promote a version of its account."
            )
        self.cross_account: bool = source_account != destination_account
        """Whether source and destination accounts differ (only then is there a project policy)."""
        if project_policy is not None and self.cross_account:
            _check_shared_policy(project_policy, source_stack, source_project_arn)
        if policy_name is not None:
            policy_validation.check_policy_name(policy_name)
        shared = None
        if self.cross_account and project_policy is None:
            shared = _shared_policy(source_stack, source_project_arn, policy_name)
        new_policy = self.cross_account and project_policy is None and shared is None
        for stack in (destination_stack, source_stack) if new_policy else (destination_stack,):
            if stack.node.try_find_child(id) is not None:
                raise validation.ModelCopyValidationError(
                    f"The construct id {id!r} is already taken in stack {stack.stack_name!r}; give the "
                    "promotion another id."
                )
        provider = _existing_provider(destination_stack)
        role_name = provider.role_name if provider is not None and provider.role_name else None
        role_name = role_name or default_role_name(destination_stack)
        validation.check_role_name(role_name)
        if self.cross_account:  # the bar is checked by the source account's policy, not by the copy
            given = {k: v for k, v in given.items() if k != "min_f1_score"}
        arguments = CopyArguments(stack=destination_stack, **given)
        source_key_arn = arguments.source_key_arn
        if source_key_arn is not None and self.cross_account and Token.is_unresolved(source_key_arn):
            raise validation.ModelCopyValidationError(
                "source_kms_key must be given as a literal key ARN for a promotion across accounts (the "
                f"destination stack {destination_stack.stack_name!r} cannot reference a key of another "
                "account's stack): use kms.Key.from_key_arn(scope, id, '<key ARN>') or the ARN string."
            )

        partition = version.partition if version is not None else Aws.PARTITION
        self.copy_role_name: str = role_name
        """Name of the destination's copy role (the role of its stack's backing function)."""
        self.copy_role_arn: str = f"arn:{partition}:iam::{destination_account}:role/{role_name}"
        """ARN of the copy role as a literal string: usable in any account's policies."""
        self.principal_arn: str = (
            self.copy_role_arn if principal == "role" else f"arn:{partition}:iam::{destination_account}:root"
        )
        """The principal the project policy allows."""
        self.source_project_version_arn: str = source_project_version_arn
        """The promoted model version (source account)."""

        # The policy first: its own checks (a name taken in the app, a sixth policy on the project) can still
        # fail, and then nothing may be left in the destination stack. The copy's checks have all passed.
        self.policy: RekognitionProjectPolicy | None = None
        """The project policy holding this promotion's permission (source stack); ``None`` within one
        account."""
        if self.cross_account:
            self.policy = (
                project_policy
                or shared
                or _new_shared_policy(source_stack, id, source_project_arn, policy_name)
            )
            self.policy.add_copy_permission(
                principal=self.principal_arn,
                source_project_version_arn=source_project_version_arn,
                min_f1_score=min_f1_score,
            )
            if Stage.of(source_stack) is Stage.of(destination_stack):
                compat.add_stack_dependency(
                    destination_stack,
                    source_stack,
                    reason="the source project's policy must allow the copy before it runs",
                )
            else:
                Annotations.of(destination_stack).add_warning_v2(
                    "rekognition-model-copy:cross-stage-promotion",
                    f"The promotion {id!r} copies from stack {source_stack.stack_name!r} of another Stage; "
                    "CDK allows no dependency between Stages, so deploy that Stage first (in CDK Pipelines: "
                    "the source stage before the wave of this one), or the copy fails with AccessDenied.",
                )

        RekognitionModelCopyProvider.of(destination_stack, role_name=role_name)
        self.copy = RekognitionModelCopy(destination_stack, id, **given)
        """The :class:`RekognitionModelCopy` in the destination stack."""

        self._keys: list[kms.IKey] = arguments.output_keys
        self.source_kms_key_arn: str | None = source_key_arn
        """ARN of the source model's customer managed key (``source_kms_key``), or ``None``."""

    @property
    def imported_keys(self) -> list[kms.IKey]:
        """The copy's keys this app does not manage (not a ``kms.Key`` construct): encryption key, bucket key.

        Their owners must add :meth:`key_policy_statements` to their key policies (for a key of the
        destination account whose policy delegates to IAM, the copy role's own policy is already enough).
        """
        return [key for key in self._keys if not isinstance(key, kms.Key)]

    def key_policy_statements(self) -> list[iam.PolicyStatement]:
        """The key policy statements a key owner adds so the copy role may encrypt the copied model.

        Two statements, identical for every key of :attr:`imported_keys` (``Resource: "*"`` is the key
        itself in a key policy): DescribeKey, GenerateDataKey and Decrypt; CreateGrant only for AWS
        resources (``kms:GrantIsForAWSResource``). The principal is :attr:`principal_arn` (the destination
        account by default: a key policy, too, rejects a role that does not exist yet). Empty when the
        promotion uses no customer managed output key. ``[s.to_json() for s in
        promotion.key_policy_statements()]`` gives the JSON to paste into the key policy.
        """
        return permissions.key_policy_statements(self.principal_arn) if self._keys else []

    def source_key_policy_statements(self) -> list[iam.PolicyStatement]:
        """The key policy statements the owner of ``source_kms_key`` (the source account) adds so the copy
        role may read the source model: DescribeKey and Decrypt; CreateGrant only for AWS resources. The
        principal is :attr:`principal_arn`. Empty without ``source_kms_key``."""
        if self.source_kms_key_arn is None:
            return []
        return permissions.key_policy_statements(self.principal_arn, source=True)


def _check_environments(source_stack: Stack, destination_stack: Stack) -> None:
    """Both stacks need a concrete account and the same concrete Region."""
    for argument, stack in (("source_stack", source_stack), ("destination_stack", destination_stack)):
        missing = [part for part in ("account", "region") if Token.is_unresolved(getattr(stack, part))]
        if missing:
            raise validation.ModelCopyValidationError(
                f"{argument} {stack.stack_name!r} has no concrete {' and '.join(missing)}; a promotion names "
                "accounts in policies at synth time. Create the stack with "
                "env=Environment(account='<12-digit id>', region='<region>')."
            )
    if source_stack.region != destination_stack.region:
        raise validation.ModelCopyValidationError(
            f"CopyProjectVersion copies within one Region: source_stack {source_stack.stack_name!r} deploys "
            f"to {source_stack.region!r} but destination_stack {destination_stack.stack_name!r} to "
            f"{destination_stack.region!r}. Deploy both stacks to the source version's Region."
        )


def _check_shared_policy(
    policy: RekognitionProjectPolicy, source_stack: Stack, source_project_arn: str
) -> None:
    if Stack.of(policy) is not source_stack:
        raise validation.ModelCopyValidationError(
            f"project_policy {policy.node.path!r} is not in source_stack {source_stack.stack_name!r}; give a "
            "policy of the source stack, or none to create one."
        )
    if not Token.is_unresolved(policy.project_arn) and policy.project_arn != source_project_arn:
        raise validation.ModelCopyValidationError(
            f"project_policy {policy.node.path!r} is on project {policy.project_arn!r}, not on the source "
            f"project {source_project_arn!r}; give a policy of the source project, or none to create one."
        )


def _shared_policy(
    source_stack: Stack, source_project_arn: str, policy_name: str | None
) -> RekognitionProjectPolicy | None:
    """The policy the promotions of ``source_stack`` share on the project (and name), if one exists."""
    key = (source_project_arn, policy_name)
    for child in source_stack.node.children:
        if isinstance(child, _SharedProjectPolicy) and child.shared_key == key:
            return child
    return None


def _new_shared_policy(
    source_stack: Stack, id: str, source_project_arn: str, policy_name: str | None
) -> RekognitionProjectPolicy:
    return _SharedProjectPolicy(source_stack, id, source_project_arn, policy_name)


class _SharedProjectPolicy(RekognitionProjectPolicy):
    """A project policy a promotion created, which the later promotions of its source project (and
    ``policy_name``) in the same source stack share."""

    def __init__(self, scope: Stack, id: str, source_project_arn: str, policy_name: str | None) -> None:
        super().__init__(scope, id, project=source_project_arn, policy_name=policy_name)
        self.shared_key = (source_project_arn, policy_name)


def _existing_provider(stack: Stack) -> RekognitionModelCopyProvider | None:
    existing = stack.node.try_find_child(PROVIDER_ID)
    return existing if isinstance(existing, RekognitionModelCopyProvider) else None
