"""The one backing Lambda function per stack that serves ``Custom::RekognitionModelCopy`` and
``Custom::RekognitionProjectPolicy`` resources.

The function runs the handler in ``lambda/`` with crhelper copied next to it, assembled without Docker
(:mod:`.asset`).

crhelper's polling schedules the function with EventBridge rules. The handler names those rules with the
``POLL_RULE_PREFIX`` environment variable and makes no IAM or ``lambda:AddPermission`` call at run time:
the rule permissions and the function's invoke permission for EventBridge are granted here, once, scoped
to rules whose names start with that prefix.

cdk-nag (AwsSolutions pack): the few wildcards the function's policy needs are acknowledged here and in the
copy, each by its exact finding id with the reason (:mod:`.nag`), so an app using these constructs gets a
clean cdk-nag run without suppressing anything itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from . import compat, contract, nag, permissions, validation
from .asset import HANDLER_ENTRY_POINT
from .asset import handler_asset_dir as handler_asset_dir  # bench/machine.py reads it here

PROVIDER_ID = "RekognitionModelCopyProvider"
"""Construct id of the provider at stack level. Public contract: changing it replaces the function."""

POLL_RULE_PREFIX_ENV = contract.POLL_RULE_PREFIX_ENV
"""Environment variable telling the handler how to name its polling rules."""


def poll_rule_prefix(stack: Stack) -> str:
    """A short prefix, unique per stack, for the names of the EventBridge rules crhelper's polling creates.

    ``rmc-`` and 8 hex characters of a hash of the stack's construct address: 12 characters of
    ``[a-z0-9-]``, stable across synths, leaving room in the 64-character rule name limit.
    """
    digest = hashlib.sha256(stack.node.addr.encode("utf-8")).hexdigest()
    return f"rmc-{digest[:8]}"


HANDLER_RUNTIME = compat.python_runtime("python3.13")
"""The function's runtime: the newest Python the handler's tests have been run on."""


MAX_ROLE_NAME_LENGTH = 64
ROLE_NAME_SUFFIX = "ModelCopy"


def default_role_name(stack: Stack) -> str:
    """A deterministic name for a stack's copy role: ``<stack name>-ModelCopy-<region>``.

    Used by promotions so another account's stack can name the role in a literal ARN. IAM role names are
    global to an account, hence the Region. When that is over 64 characters the stack name is cut and
    followed by ``-`` and 8 hex characters of a hash of the full stack name (so names stay unique).
    Stack names (``[A-Za-z][A-Za-z0-9-]*``) and Regions only hold characters IAM allows.
    """
    region = stack.region
    if validation.is_token(region):
        raise validation.ModelCopyValidationError(
            f"The stack {stack.stack_name!r} has no concrete Region, so its copy role cannot get a "
            "deterministic name. Give the stack env=Environment(account=..., region=...), or pass role_name."
        )
    tail = f"-{ROLE_NAME_SUFFIX}-{region}"
    name = f"{stack.stack_name}{tail}"
    if len(name) <= MAX_ROLE_NAME_LENGTH:
        return name
    digest = hashlib.sha256(stack.stack_name.encode("utf-8")).hexdigest()[:8]
    keep = MAX_ROLE_NAME_LENGTH - len(tail) - len(digest) - 1
    return f"{stack.stack_name[:keep]}-{digest}{tail}"


@jsii.implements(iam.IGrantable)
class RekognitionModelCopyProvider(Construct):
    """The Lambda function (with its role, log group and polling permissions) behind every copy in a stack.

    Use :meth:`of` rather than the constructor: it finds the stack's provider or creates it, so all
    ``RekognitionModelCopy`` and ``RekognitionProjectPolicy`` resources of a stack share one function and
    one ServiceToken.
    """

    def __init__(self, scope: Construct, id: str, *, role_name: str | None = None) -> None:
        """Create the function, its role and log group.

        :param role_name: a fixed name for the function's role (1-64 characters of ``[\\w+=,.@-]``), so that
            another account can name the role in a policy. Default: a name CloudFormation generates.
        """
        if role_name is not None:
            validation.check_role_name(role_name)
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.poll_rule_prefix: str = poll_rule_prefix(stack)
        """Name prefix of the polling rules (``POLL_RULE_PREFIX``)."""

        self.log_group = logs.LogGroup(self, "LogGroup", retention=logs.RetentionDays.ONE_MONTH)
        """The function's log group, kept one month."""

        self.role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=(
                "Copies Rekognition Custom Labels model versions and puts project policies "
                "(Custom::RekognitionModelCopy, Custom::RekognitionProjectPolicy)"
            ),
            role_name=role_name,
        )
        """The function's execution role. Each copy and each project policy adds its own statements to it."""
        self.role_name: str | None = role_name
        """The role's fixed name, or ``None`` when CloudFormation names it."""
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            description=(
                "Custom::RekognitionModelCopy and Custom::RekognitionProjectPolicy: copies Rekognition "
                "Custom Labels model versions, puts project policies"
            ),
            runtime=HANDLER_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER_ENTRY_POINT,
            code=lambda_.Code.from_asset(str(handler_asset_dir())),
            # Lambda's maximum: the first invocation waits in-process (the fast path)
            # for up to 10 minutes, so shorter copies are answered within seconds of finishing.
            timeout=Duration.minutes(15),
            memory_size=128,  # it waits on I/O: the least memory bills the least for the fast path
            role=self.role,
            log_group=self.log_group,
            environment={POLL_RULE_PREFIX_ENV: self.poll_rule_prefix},
        )
        """The backing function; its ARN is every copy's ServiceToken."""
        nag.acknowledge_runtime(self.function)

        self.poll_rule_arn_pattern: str = stack.format_arn(
            service="events", resource="rule", resource_name=f"{self.poll_rule_prefix}*"
        )
        """``arn:<partition>:events:<region>:<account>:rule/<prefix>*``: the rules polling may touch."""
        self._wildcards = nag.WildcardAcknowledgments(self.role)
        self.acknowledge_wildcard(
            self.poll_rule_arn_pattern,
            "crhelper creates one EventBridge rule per polling resource at run time, named by the handler "
            "with this stack's prefix and a random suffix, so no rule ARN is known at synth time. The "
            "wildcard only covers rules whose names start with the prefix, in this account and Region.",
        )
        self.function.add_permission(
            "PollingRulesInvoke",
            principal=iam.ServicePrincipal("events.amazonaws.com"),
            action=permissions.POLLING_INVOKE_ACTION,
            source_arn=self.poll_rule_arn_pattern,
            source_account=stack.account,
        )
        self._shared_statements: dict[str, iam.PolicyStatement] = {}
        self._shared_resources: dict[str, list[str]] = {}
        self.allow(permissions.polling_statements([self.poll_rule_arn_pattern]))
        self.ready: list[IConstruct] = [
            self.role,
            self.log_group,
            self.function.node.find_child("PollingRulesInvoke"),
        ]
        """What must exist before the first request beyond the function itself: the role with its policy,
        the log group and EventBridge's invoke permission. Custom resources depend on these."""

    def acknowledge_wildcard(self, resource: str, reason: str) -> None:
        """Acknowledge, on the role, cdk-nag's finding for exactly this wildcard resource (other wildcards
        in its policy are still reported), once per finding however many copies share it
        (:class:`.nag.WildcardAcknowledgments`). Nothing is recorded for a resource without ``*``."""
        self._wildcards.acknowledge(resource, reason)

    def allow(self, statements: Iterable[permissions.Statement]) -> None:
        """Let the function do what ``statements`` say (built by :mod:`.permissions`). Statements of one kind
        (sid, actions and conditions) share one statement of the role: each copy adds only its resource
        ARNs, so a stack of many copies stays far inside IAM's policy size and managed-policies-per-role
        quotas. (The role and all its policies are dependencies of every custom resource through
        :attr:`ready`.)"""
        for wanted in statements:
            statement = self._shared_statements.get(wanted.key)
            if statement is None:
                statement = wanted.to_policy_statement()
                self._shared_statements[wanted.key] = statement
                self._shared_resources[wanted.key] = list(wanted.resources)
                self.role.add_to_principal_policy(statement)
                continue
            known = self._shared_resources[wanted.key]
            new = [r for r in wanted.resources if r not in known]
            known.extend(new)
            if new:
                statement.add_resources(*new)

    @classmethod
    def of(cls, scope: IConstruct, *, role_name: str | None = None) -> RekognitionModelCopyProvider:
        """The provider of ``scope``'s stack, created on first use with the id :data:`PROVIDER_ID`.

        :param role_name: give the function's role this name. Default: leave the role's name as it is
            (generated by CloudFormation unless named before). Naming the role of a provider created before
            (by a copy or a policy) sets ``RoleName`` on it; asking for another name than the one it has
            is an error.
        """
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if existing is None:
            return cls(stack, PROVIDER_ID, role_name=role_name)
        if not isinstance(existing, cls):
            raise TypeError(
                f"The construct id {PROVIDER_ID!r} at the top of stack {stack.node.path!r} is taken by a "
                f"{type(existing).__name__}; rename that construct, it is reserved for the model-copy "
                "provider."
            )
        if role_name is not None and role_name != existing.role_name:
            existing._set_role_name(role_name)
        return existing

    def _set_role_name(self, role_name: str) -> None:
        if self.role_name is not None:
            raise validation.ModelCopyValidationError(
                f"The copy role of stack {Stack.of(self).stack_name!r} is already named {self.role_name!r}; "
                f"it cannot also be named {role_name!r}. Use one role_name for every promotion into this "
                "stack."
            )
        validation.check_role_name(role_name)
        cfn_role = self.role.node.default_child
        assert isinstance(cfn_role, iam.CfnRole)
        cfn_role.role_name = role_name
        self.role_name = role_name

    @property
    def service_token(self) -> str:
        """The ServiceToken of the custom resources: the function's ARN (crhelper answers directly)."""
        return self.function.function_arn

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The principal the handler runs as, for grants on resources it must reach."""
        return self.role
