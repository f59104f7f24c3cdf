"""``RekognitionProjectPolicy``: a project policy on a Rekognition Custom Labels project of this stack.

A project policy lets another account (or one of its roles) copy model versions of the project with
CopyProjectVersion. CloudFormation has no resource for it: ``Custom::RekognitionProjectPolicy`` is served
by the stack's one backing function (:class:`RekognitionModelCopyProvider`), which calls PutProjectPolicy
on create and update and DeleteProjectPolicy on delete.

The document is built with :meth:`RekognitionProjectPolicy.add_copy_permission` (or
:meth:`~RekognitionProjectPolicy.add_statement`), each statement checked when it is added, and rendered
into the ``PolicyDocument`` property (a JSON string) when the app synthesises; its length (at most 2000
characters) is checked then, and the synthesis fails if it is longer.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import jsii
from aws_cdk import CustomResource, Duration, IResolveContext, IStringProducer, Lazy, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rekognition as rekognition
from constructs import Construct, IValidation

from . import contract, permissions, policy_validation, validation
from .provider import RekognitionModelCopyProvider

RESOURCE_TYPE = contract.PROJECT_POLICY_TYPE
POLICY_VERSION = "2012-10-17"
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
class _DocumentProducer:
    """Renders the policy document when the template is written (after every statement was added)."""

    def __init__(self, policy: RekognitionProjectPolicy) -> None:
        self._policy = policy

    def produce(self, context: IResolveContext) -> str | None:
        return self._policy.render()


@jsii.implements(IValidation)
class _DocumentValidation:
    """Fails the synthesis when the rendered document breaks a limit of PutProjectPolicy."""

    def __init__(self, policy: RekognitionProjectPolicy) -> None:
        self._policy = policy

    def validate(self) -> list[str]:
        if not self._policy.statements:
            return [
                f"The project policy {self._policy.policy_name!r} has no statements; PutProjectPolicy needs "
                "at least one. Call add_copy_permission(principal=..., source_project_version_arn=...) or "
                "remove the policy."
            ]
        return policy_validation.check_policy_document_length(self._policy.render())


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

        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties={
                "ProjectArn": project_arn,
                "PolicyName": policy_name,
                "PolicyDocument": Lazy.uncached_string(_DocumentProducer(self)),
            },
            removal_policy=removal_policy,
            service_timeout=timeout,
        )
        """The ``Custom::RekognitionProjectPolicy`` resource."""
        self.resource.node.add_dependency(*self.provider.ready)
        # the role and all its policies are already dependencies through provider.ready
        self.provider.allow(permissions.policy_statements([project_arn]))
        self.node.add_validation(_DocumentValidation(self))

        self.policy_revision_id: str = self.resource.get_att_string("PolicyRevisionId")
        """The policy's current revision id (PutProjectPolicy's ``PolicyRevisionId``)."""

    def add_copy_permission(
        self,
        *,
        principal: str,
        source_project_version_arn: str,
        sid: str | None = None,
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
        :raises validation.ModelCopyValidationError: a principal or version ARN that is not allowed.
        """
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

    @property
    def statements(self) -> list[dict[str, Any]]:
        """The document's statements so far, as IAM JSON (a copy)."""
        return [dict(s) for s in self._statements]

    def render(self) -> str:
        """The policy document as it will be put: compact JSON (the 2000-character limit counts)."""
        document = {"Version": POLICY_VERSION, "Statement": self._statements}
        return json.dumps(document, separators=(",", ":"))


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
    if key is None:
        return
    same_project = [
        c
        for c in scope.node.root.node.find_all()
        if isinstance(c, RekognitionProjectPolicy) and c._project_key == key
    ]
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
