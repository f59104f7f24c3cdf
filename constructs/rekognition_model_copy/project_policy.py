"""``RekognitionProjectPolicy``: a project policy on a Rekognition Custom Labels project of this stack.

A project policy lets another account (or one of its roles) copy model versions of the project with
CopyProjectVersion. CloudFormation has no resource for it: ``Custom::RekognitionProjectPolicy`` is served
by the stack's one backing function (:class:`RekognitionModelCopyProvider`), which calls PutProjectPolicy
on create and update and DeleteProjectPolicy on delete.

The document is built with :meth:`RekognitionProjectPolicy.add_copy_permission` (or
:meth:`~RekognitionProjectPolicy.add_statement`), each statement checked when it is added, and rendered
into the ``PolicyDocument`` property (a JSON string) when the app synthesises. A document holds at most
2000 characters: permissions that do not fit in one are packed (:mod:`.packing`) into several
``Custom::RekognitionProjectPolicy`` resources, the *parts*, named by their content; the synthesis fails,
naming the limits, when they cannot fit in the parts the project allows (:func:`.packing.max_parts`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import jsii
from aws_cdk import (
    Aspects,
    CfnDeletionPolicy,
    CfnResource,
    CustomResource,
    Duration,
    IAnyProducer,
    IAspect,
    IResolveContext,
    IStringProducer,
    Lazy,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rekognition as rekognition
from constructs import Construct, IValidation

from . import compat, contract, packing, permissions, policy_validation, validation
from .provider import RekognitionModelCopyProvider

RESOURCE_TYPE = contract.PROJECT_POLICY_TYPE
DEFAULT_POLICY_TIMEOUT = Duration.minutes(10)
_MAX_NAME = 128
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.\-]")


def default_policy_name(scope: Construct, id: str) -> str:
    """The policy name used when none is given: ``<stack name>.<construct path below the stack>``.

    For ``RekognitionProjectPolicy(dev_stack, "PromoteToProd")`` in a stack named ``Dev``:
    ``Dev.PromoteToProd``.
    Characters outside ``[a-zA-Z0-9_.-]`` become ``-``; a name over 128 characters is cut to 119 and ends
    with ``-`` and 8 hex characters of a hash of the full name. Stable across synths; unique per stack name,
    so two stacks of one account and Region never manage the same policy.
    """
    stack = Stack.of(scope)
    below_stack = scope.node.path[len(stack.node.path) :].strip("/")
    parts = [stack.stack_name, *[p for p in below_stack.split("/") if p], id]
    name = _NAME_UNSAFE.sub("-", ".".join(parts))
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
        name = f"{name[: _MAX_NAME - 9]}-{digest}"
    return name


@jsii.implements(IStringProducer)
class _PartProducer:
    """Renders part ``index``'s document or name when the template is written (after every statement was
    added)."""

    def __init__(self, policy: RekognitionProjectPolicy, index: int, what: str) -> None:
        self._policy, self._index, self._what = policy, index, what

    def produce(self, context: IResolveContext) -> str | None:
        documents = self._policy.documents()
        if self._index >= len(documents):  # a failed packing: the validation reports it
            return documents[0] if self._what == "document" else self._policy.policy_name
        if self._what == "document":
            return documents[self._index]
        return packing.part_names(self._policy.policy_name, documents)[self._index]


@jsii.implements(IAnyProducer)
class _BarProducer:
    """``MinF1Score``: the policy's bar (a number), or nothing without one."""

    def __init__(self, policy: RekognitionProjectPolicy) -> None:
        self._policy = policy

    def produce(self, context: IResolveContext) -> float | None:
        return self._policy.min_f1_score


@jsii.implements(IAspect)
class _PartsAspect:
    """Before the synthesis: as many part resources as the packed documents (see :mod:`.packing`)."""

    def __init__(self, policy: RekognitionProjectPolicy) -> None:
        self._policy = policy

    def visit(self, node: Any) -> None:
        if node is self._policy:
            self._policy._sync_parts()


@jsii.implements(IValidation)
class _DocumentValidation:
    """Fails the synthesis when the statements cannot be put within the limits of PutProjectPolicy."""

    def __init__(self, policy: RekognitionProjectPolicy) -> None:
        self._policy = policy

    def validate(self) -> list[str]:
        if not self._policy.statements:
            return [
                f"The project policy {self._policy.policy_name!r} has no statements; PutProjectPolicy needs "
                "at least one. Call add_copy_permission(principal=..., source_project_version_arn=...) or "
                "remove the policy."
            ]
        return self._policy._packing_errors()


class RekognitionProjectPolicy(Construct):
    """A project policy (PutProjectPolicy) on a Rekognition Custom Labels project of this stack's account.

    Use it on the SOURCE project of a cross-account copy: each :meth:`add_copy_permission` lets one
    principal (a role or an account of the destination) copy one exact model version. The policy is
    replaced when the project or the name changes, updated in place (with the current revision id) when
    the document changes, and deleted with the resource unless ``removal_policy`` is RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        project: rekognition.CfnProject | str,
        policy_name: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        timeout: Duration = DEFAULT_POLICY_TIMEOUT,
        min_f1_score: float | None = None,
    ) -> None:
        """Create an (initially empty) policy named ``policy_name`` on ``project``.

        :param project: the project the policy is attached to: a project ARN, or an
            ``AWS::Rekognition::Project`` of this app (``CfnProject``). It must belong to the stack's account
            and Region: only the project's owner can put a policy on it.
        :param policy_name: the policy's name (``PolicyName``, 1-128 characters of ``[a-zA-Z0-9_.-]``).
            Default: :func:`default_policy_name`, ``<stack name>.<construct path below the stack>``. A project
            holds at most 5 policies; changing the name replaces the policy.
        :param removal_policy: what happens to the policy when the resource is deleted or replaced.
            Default: ``DESTROY``, the policy is deleted (DeleteProjectPolicy). ``RETAIN`` leaves it on the
            project.
        :param timeout: the longest CloudFormation waits for the function's answer (``ServiceTimeout``,
            1 second to 1 hour). Default: 10 minutes.
        :param min_f1_score: the quality bar: the policy is put only when every version it allows has an
            F1 score of at least this (0 < x <= 1); see :meth:`raise_min_f1_score`. Default: none.
        :raises validation.ModelCopyValidationError: a value that can never deploy (project ARN shape,
            project of another account or Region, policy name, timeout, a sixth policy on one project or a
            second policy of the same name in this app). Tokens are not checked.
        """
        if policy_name is None:
            policy_name = default_policy_name(scope, id)
        stack = Stack.of(scope)

        # Validate everything before creating any construct.
        parsed: validation.ParsedArn | None
        if isinstance(project, rekognition.CfnProject):
            validation.check_project_name(project.project_name)
            project_stack = Stack.of(project)
            parsed = validation.ParsedArn(
                partition=project_stack.partition,
                region=project_stack.region,
                account=project_stack.account,
                project_name=project.project_name,
            )
            description = f"{project.project_name!r} ({project.node.path})"
            project_arn = project.attr_arn
        else:
            parsed = validation.parse_project_arn("project", project)
            description = repr(project)
            project_arn = project
        policy_validation.check_project_owner("project", parsed, stack.account, stack.region)
        policy_validation.check_policy_name(policy_name)
        validation.check_timeout(timeout)
        validation.check_min_f1_score("min_f1_score", min_f1_score)
        self._project_key = _project_key(parsed)
        _check_policies_per_project(scope, self._project_key, policy_name, description)

        super().__init__(scope, id)

        self.project_arn: str = project_arn
        """ARN of the project the policy is attached to."""
        self.policy_name: str = policy_name
        """The policy's name on the project."""
        self._project = parsed
        self._project_description = description
        self._statements: list[dict[str, Any]] = []

        self.provider = RekognitionModelCopyProvider.of(self)
        """The stack's shared backing function (one per stack)."""
        self._removal_policy = removal_policy
        self._timeout = timeout
        self._min_f1_score: float | None = None
        self._documents: list[str] | None = None
        self._parts: list[CustomResource] = []

        self.resource: CustomResource = self._add_part()
        """The (first) ``Custom::RekognitionProjectPolicy`` resource; see :attr:`resources`."""
        # the role and all its policies are already dependencies through provider.ready
        self.provider.allow(permissions.policy_statements([project_arn]))
        self.node.add_validation(_DocumentValidation(self))
        Aspects.of(self).add(_PartsAspect(self))
        self.raise_min_f1_score(min_f1_score)

        self.policy_revision_id: str = self.resource.get_att_string("PolicyRevisionId")
        """The (first part's) policy's current revision id (PutProjectPolicy's ``PolicyRevisionId``)."""

    def _add_part(self) -> CustomResource:
        index = len(self._parts)
        properties: dict[str, object] = {
            "ProjectArn": self.project_arn,
            "PolicyName": Lazy.uncached_string(_PartProducer(self, index, "name")),
            "PolicyDocument": Lazy.uncached_string(_PartProducer(self, index, "document")),
            "MinF1Score": Lazy.uncached_any(_BarProducer(self)),
        }
        part = CustomResource(
            self,
            "Resource" if index == 0 else f"Part{index + 1}",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            removal_policy=self._removal_policy,
            **compat.service_timeout(properties, self._timeout),
            properties=properties,
        )
        part.node.add_dependency(*self.provider.ready)
        self._parts.append(part)
        if len(self._parts) > 1:
            # Parts are named by their content: a changed part is a replacement, and the old part must go
            # even when the policy is retained on delete (RETAIN), or a removed destination would keep
            # its permission and the project would fill up to its 5 policies.
            for each in self._parts:
                cfn = each.node.default_child
                assert isinstance(cfn, CfnResource)
                cfn.cfn_options.update_replace_policy = CfnDeletionPolicy.DELETE
        return part

    @property
    def resources(self) -> list[CustomResource]:
        """Every part's ``Custom::RekognitionProjectPolicy`` resource (one while the document fits in 2000
        characters; set when the app synthesises)."""
        return list(self._parts)

    @property
    def min_f1_score(self) -> float | None:
        """The policy's quality bar (``MinF1Score`` of every part): the strictest given, or ``None``."""
        return self._min_f1_score

    def raise_min_f1_score(self, min_f1_score: float | None) -> None:
        """Raise the policy's bar to ``min_f1_score`` (the strictest bar given wins; ``None`` keeps it).

        With a bar, the handler reads each allowed version (DescribeProjectVersions on this project) and
        refuses to put the policy when its F1 score is below the bar.

        :raises validation.ModelCopyValidationError: not 0 < ``min_f1_score`` <= 1, or a token.
        """
        validation.check_min_f1_score("min_f1_score", min_f1_score)
        if min_f1_score is None:
            return
        if Token.is_unresolved(min_f1_score):
            raise validation.ModelCopyValidationError(
                f"min_f1_score of the project policy {self.node.path!r} must be a literal number, got a "
                "token (a parameter or reference): the policy takes the strictest of the bars given to it, "
                "which cannot be known from a token. Use a number such as 0.9."
            )
        if self._min_f1_score is None:
            self.provider.allow(permissions.gate_statements(self.project_arn))
        self._min_f1_score = max(self._min_f1_score or 0.0, min_f1_score)

    def add_copy_permission(
        self,
        *,
        principal: str,
        source_project_version_arn: str,
        sid: str | None = None,
        min_f1_score: float | None = None,
    ) -> None:
        """Allow ``principal`` to copy the model version ``source_project_version_arn`` of this project.

        Adds ``{Effect: Allow, Principal: {AWS: principal}, Action: rekognition:CopyProjectVersion,
        Resource: source_project_version_arn}``. Adding the same permission twice adds one statement.

        :param principal: who may copy: an IAM role ARN (``arn:aws:iam::<account>:role/<name>``, the least
            privilege), an account root ARN (``arn:aws:iam::<account>:root``: any principal of that account
            its own IAM policies allow) or a 12-digit account id (written as the account root ARN).
            Wildcards are rejected.
        :param source_project_version_arn: the exact ARN of a model version of this policy's project.
        :param sid: the statement id (ASCII letters and digits). Default: none.
        :param min_f1_score: raise the policy's quality bar to this (:meth:`raise_min_f1_score`; the bar
            holds for every version the policy allows). Default: none, the bar stays as it is.
        :raises validation.ModelCopyValidationError: a principal or version ARN that is not allowed, a bar
            not within 0 < x <= 1.
        """
        validation.check_min_f1_score("min_f1_score", min_f1_score)
        # checked here first for its own message (an exact version ARN, no wildcard); the statement is
        # checked as a whole again when it is added
        policy_validation.check_resource_of_project(
            source_project_version_arn, self._project, self._project_description
        )
        partition = None
        if self._project is not None and not validation.is_token(self._project.partition):
            partition = self._project.partition
        version = validation.parse_project_version_arn(
            "source_project_version_arn", source_project_version_arn
        )
        if version is not None and partition is None:
            partition = version.partition
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": policy_validation.normalize_principal(principal, partition)},
            "Action": policy_validation.COPY_ACTION,
            "Resource": source_project_version_arn,
        }
        if sid is not None:
            statement = {"Sid": sid, **statement}
        self._add(statement)
        self.raise_min_f1_score(min_f1_score)

    def add_statement(self, statement: iam.PolicyStatement) -> None:
        """Add any statement that follows the rules of project policies (for a Deny, say).

        :raises validation.ModelCopyValidationError: an action other than ``rekognition:CopyProjectVersion``,
            NotAction/NotResource/NotPrincipal, a principal that is not an account or role (or a wildcard),
            or a resource that is not a version ARN of this project.
        """
        rendered = statement.to_statement_json()
        if not isinstance(rendered, dict):  # pragma: no cover - jsii always returns the JSON object
            raise TypeError(f"Cannot render the policy statement {statement!r}")
        self._add(rendered)

    def _add(self, statement: dict[str, Any]) -> None:
        policy_validation.check_policy_statement(statement, self._project, self._project_description)
        sid = statement.get("Sid")
        if sid is not None and any(s.get("Sid") == sid and s != statement for s in self._statements):
            raise validation.ModelCopyValidationError(
                f"The project policy {self.policy_name!r} already has a statement with sid {sid!r}; "
                "statement ids must be unique in a policy. Choose another sid or leave it out."
            )
        if statement not in self._statements:
            self._statements.append(statement)
            self._documents = None

    @property
    def statements(self) -> list[dict[str, Any]]:
        """The document's statements so far, as IAM JSON (a copy)."""
        return [dict(s) for s in self._statements]

    def render(self) -> str:
        """The statements as ONE document, compact JSON, in the order added: what is put while it fits in
        2000 characters (see :meth:`documents`)."""
        return packing.render(self._statements)

    def documents(self) -> list[str]:
        """The documents as put, one per part: :meth:`render` while it fits (or holds a token); else the
        copy permissions packed (:func:`.packing.pack`: one statement per version, its principals a list),
        after the other statements as they are. More than the parts allowed are reported by the validation.
        """
        if self._documents is None:
            self._documents = self._pack(max_documents=None)
        return self._documents

    def _pack(self, max_documents: int | None) -> list[str]:
        single = self.render()
        if len(single) <= packing.MAX_DOCUMENT_LENGTH or validation.is_token(single):
            return [single]
        grants = [_grant(s) for s in self._statements]
        leading = [s for s, grant in zip(self._statements, grants, strict=True) if grant is None]
        try:
            return packing.pack(
                [g for g in grants if g is not None],
                max_documents=max_documents or 2**31,
                leading=leading,
            )
        except packing.PolicyPackingError:
            if max_documents is not None:
                raise
            return [single]  # the validation reports why

    def _sync_parts(self) -> None:
        """One ``Custom::RekognitionProjectPolicy`` per document (called before the synthesis)."""
        wanted = min(len(self.documents()), packing.MAX_DOCUMENTS)
        while len(self._parts) < wanted:
            self._add_part()
        while len(self._parts) > max(wanted, 1):
            self.node.try_remove_child(self._parts.pop().node.id)

    def _packing_errors(self) -> list[str]:
        """Why the statements cannot be put within PutProjectPolicy's limits (empty when they can)."""
        other = sum(len(p.documents()) for p in _same_project(self, self._project_key) if p is not self)
        needed = len(self.documents())
        try:
            limit = packing.max_parts(other)
            if needed <= limit:
                self._pack(max_documents=limit)  # raises for a statement too long for any document
        except packing.PolicyPackingError as error:
            return [f"The project policy {self.policy_name!r}: {error}"]
        if needed > limit:
            versions = [g.version_arn for g in map(_grant, self._statements) if g is not None]
            fits = packing.max_destination_accounts(versions[0], limit) if versions else 0
            return [
                f"The project policy {self.policy_name!r} needs {needed} documents for its "
                f"{len(self._statements)} statements but may have at most {limit}: a document holds at most "
                f"{packing.MAX_DOCUMENT_LENGTH} characters, a project at most {packing.MAX_DOCUMENTS} "
                f"policies ({other} taken by other policies of this app on the project), and while "
                "CloudFormation replaces a changed part the old and the new part exist together "
                f"(2 x parts <= {packing.MAX_DOCUMENTS} - {other}). At most {fits} destination accounts "
                f"(account roots) fit for one version ({versions[0] if versions else '-'}). Promote to "
                "fewer accounts from this version, or from another project."
            ]
        return []


def _grant(statement: dict[str, Any]) -> packing.Grant | None:
    """The statement as a copy grant (Allow, one principal, the copy action, one version), or ``None``."""
    if set(statement) != {"Effect", "Principal", "Action", "Resource"} or statement["Effect"] != "Allow":
        return None
    principal, action, resource = statement["Principal"], statement["Action"], statement["Resource"]
    if not (isinstance(principal, dict) and set(principal) == {"AWS"} and isinstance(principal["AWS"], str)):
        return None
    if action != policy_validation.COPY_ACTION or not isinstance(resource, str):
        return None
    return packing.Grant(resource, principal["AWS"])


def _project_key(parsed: validation.ParsedArn | None) -> tuple[str, str, str] | None:
    """What identifies a project within the app (account, Region, name), when known at synth time."""
    if parsed is None:
        return None
    key = (parsed.account, parsed.region, parsed.project_name)
    return None if any(validation.is_token(part) for part in key) else key


def _check_policies_per_project(
    scope: Construct, key: tuple[str, str, str] | None, policy_name: str, description: str
) -> None:
    """At most 5 policies per project, each name once, among the policies of this app."""
    same_project = _same_project(scope, key)
    for other in same_project:
        if other.policy_name == policy_name:
            raise validation.ModelCopyValidationError(
                f"The project {description} already has a policy named {policy_name!r} in this app "
                f"({other.node.path}); two resources would overwrite each other. Give another policy_name, "
                "or add the statement to the existing policy."
            )
    if len(same_project) >= policy_validation.MAX_POLICIES_PER_PROJECT:
        paths = ", ".join(c.node.path for c in same_project)
        limit = policy_validation.MAX_POLICIES_PER_PROJECT
        raise validation.ModelCopyValidationError(
            f"The project {description} can hold at most {limit} project "
            f"policies and this app already defines {len(same_project)} ({paths}). Add this permission "
            "to one of them with add_copy_permission instead."
        )


def _same_project(scope: Construct, key: tuple[str, str, str] | None) -> list[RekognitionProjectPolicy]:
    """The policies of this app on the project ``key`` (none when the project is not known at synth)."""
    if key is None:
        return []
    return [
        c
        for c in scope.node.root.node.find_all()
        if isinstance(c, RekognitionProjectPolicy) and c._project_key == key
    ]
