"""The one backing Lambda function per stack that serves ``Custom::RekognitionModelCopy`` and
``Custom::RekognitionProjectPolicy`` resources.

The function runs the handler in ``lambda/`` with crhelper copied next to it, assembled without Docker
(:mod:`.asset`).

crhelper's polling schedules the function with EventBridge rules. The handler names those rules with the
``POLL_RULE_PREFIX`` environment variable and makes no IAM or ``lambda:AddPermission`` call at run time:
the rule permissions and the function's invoke permission for EventBridge are granted here, once, scoped
to rules whose names start with that prefix.

The function's setup a compliance scan asks for (a VPC, a role of your own, reserved concurrency, a log group
of your own with a KMS key, a customer managed key for the environment, a dead-letter queue) is chosen once
per stack, with the keyword arguments of :meth:`RekognitionModelCopyProvider.of` (aws-cdk-lib's Lambda
``Function`` names), before the stack's first copy or policy creates the provider.

cdk-nag (AwsSolutions pack): the few wildcards the function's policy needs are acknowledged here and in the
copy, each by its exact finding id with the reason (:mod:`.nag`), so an app using these constructs gets a
clean cdk-nag run without suppressing anything itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import jsii
from aws_cdk import Annotations, Aspects, Duration, IAspect, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
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


VPC_ACCESS_ACTIONS = permissions.VPC_ACCESS_ACTIONS
LOG_ACTIONS = permissions.LOG_ACTIONS
DEAD_LETTER_ACTIONS = permissions.DEAD_LETTER_ACTIONS


@dataclass(frozen=True)
class ProviderOptions:
    """How the function is set up; chosen once per stack (:meth:`RekognitionModelCopyProvider.of`).

    The names and types are those of aws-cdk-lib's ``aws_lambda.Function`` (all present at the library's
    floor, aws-cdk-lib 2.110.0); ``None`` is the library's default.
    """

    vpc: ec2.IVpc | None = None
    vpc_subnets: ec2.SubnetSelection | None = None
    security_groups: Sequence[ec2.ISecurityGroup] | None = None
    role: iam.IRole | None = None
    reserved_concurrent_executions: int | float | None = None  # jsii's Number: a token is a float
    log_group: logs.ILogGroup | None = None
    environment_encryption: kms.IKey | None = None
    dead_letter_queue: sqs.IQueue | None = None

    def given(self) -> list[str]:
        """Names of the options set."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def check(self, *, role_name: str | None) -> None:
        """Reject, at synth, what Lambda would refuse at deploy or what cannot work."""
        error = validation.ModelCopyValidationError
        if self.role is not None and role_name is not None:
            raise error(
                "Pass either role= (your own role; its name is the one it has) or role_name= (a name for the "
                "role the library creates), not both."
            )
        if self.vpc is None:
            for name in ("vpc_subnets", "security_groups"):
                if getattr(self, name) is not None:
                    raise error(f"{name}= needs vpc= too: it selects within the VPC the function runs in.")
        if self.security_groups is not None and not isinstance(self.security_groups, list | tuple):
            # one group (made or imported) given alone, or a string: Function takes a list
            raise error("security_groups must be a list of security groups, e.g. security_groups=[group].")
        concurrency = self.reserved_concurrent_executions
        if concurrency is not None and not Token.is_unresolved(concurrency):
            if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
                # 0 is valid for Lambda but stops the function: asynchronous events go to the dead-letter
                # queue without a try (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html),
                # and no request would be answered.
                raise error(
                    "reserved_concurrent_executions must be a whole number of at least 1 (each copy in "
                    f"flight holds one execution for up to 10 minutes); got {concurrency!r}."
                )
        queue = self.dead_letter_queue
        if queue is not None and queue.fifo:
            # Lambda sends failed asynchronous events to a standard queue only
            # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
            raise error(
                f"dead_letter_queue {queue.node.path!r} is a FIFO queue; Lambda's dead-letter queue must be "
                "a standard SQS queue."
            )


@jsii.implements(iam.IGrantable)
class RekognitionModelCopyProvider(Construct):
    """The Lambda function (with its role, log group and polling permissions) behind every copy in a stack.

    Use :meth:`of` rather than the constructor: it finds the stack's provider or creates it, so all
    ``RekognitionModelCopy`` and ``RekognitionProjectPolicy`` resources of a stack share one function and
    one ServiceToken.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        role_name: str | None = None,
        options: ProviderOptions | None = None,
    ) -> None:
        """Create the function, its role (unless given) and log group (unless given).

        :param role_name: a fixed name for the function's role (1-64 characters of ``[\\w+=,.@-]``), so that
            another account can name the role in a policy. Default: a name CloudFormation generates.
        :param options: the function's setup (:class:`ProviderOptions`, see :meth:`of`).
        """
        options = options or ProviderOptions()
        options.check(role_name=role_name)
        if role_name is not None:
            validation.check_role_name(role_name)
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.options: ProviderOptions = options
        """The options the provider was created with."""
        self.poll_rule_prefix: str = poll_rule_prefix(stack)
        """Name prefix of the polling rules (``POLL_RULE_PREFIX``)."""
        self.reserved_concurrent_executions: int | float | None = options.reserved_concurrent_executions
        """The function's reserved concurrency, ``None`` for the account's unreserved pool: the one place
        that says how many copies the function can serve at once."""

        self.log_group: logs.ILogGroup = options.log_group or logs.LogGroup(
            self, "LogGroup", retention=logs.RetentionDays.ONE_MONTH
        )
        """The function's log group: the one given, or one of the library's kept one month."""

        self.role: iam.IRole
        """The function's execution role. Each copy and each project policy adds its own statements to it
        (to a role given as immutable they are listed instead: :attr:`unattached_statements`)."""
        if options.role is None:
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
        else:
            self.role = options.role
            role_name = None if Token.is_unresolved(options.role.role_name) else options.role.role_name
        self.role_name: str | None = role_name
        """The role's fixed name, or ``None`` when CloudFormation names it."""
        self.unattached_statements: list[iam.PolicyStatement] = []
        """The statements the function needs that could not be added to its role (a role given as
        immutable, ``Role.from_role_arn(..., mutable=False)``): attach them to the role yourself. They are
        also written, as a policy document, into a synth warning on this construct."""
        self.role_is_immutable: bool = False
        """Whether the role takes no statements (given as immutable): see :attr:`unattached_statements`."""
        self._add_to_role(
            iam.PolicyStatement(actions=list(LOG_ACTIONS), resources=[self.log_group.log_group_arn])
        )
        # An immutable role (Role.from_role_arn(..., mutable=False)) answers that it added a statement but
        # keeps none: a role that takes statements has made its policy (a Role its DefaultPolicy, an
        # imported mutable role its Policy) by now.
        if not any(self.role.node.try_find_child(name) for name in ("DefaultPolicy", "Policy")):
            self.role_is_immutable = True
            self.unattached_statements.append(
                iam.PolicyStatement(actions=list(LOG_ACTIONS), resources=[self.log_group.log_group_arn])
            )
        self._wildcards = nag.WildcardAcknowledgments(self.role)

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
            environment=self._environment(options),
            vpc=options.vpc,
            vpc_subnets=options.vpc_subnets,
            security_groups=list(options.security_groups) if options.security_groups is not None else None,
            reserved_concurrent_executions=options.reserved_concurrent_executions,
            environment_encryption=options.environment_encryption,
            dead_letter_queue=options.dead_letter_queue,
            # No retry of an invocation that errored or timed out: the handler answers every request itself
            # (crhelper answers an exception, the pre-timeout timer a request out of time) or leaves it to
            # its rule's tick, so a retry could only answer it again. Throttled events are still tried
            # until they are 6 hours old (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
            retry_attempts=0,
        )
        """The backing function; its ARN is every copy's ServiceToken."""
        nag.acknowledge_runtime(self.function)
        if options.role is not None:
            # The statements below must be in place before Lambda creates the function (it checks the ENI
            # permissions of a function in a VPC at creation).
            self.function.node.add_dependency(self.role)
        if options.environment_encryption is not None:
            # Lambda's page on the environment's key does not say which principal decrypts it when the
            # function starts (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html);
            # the role may, so the function starts under either reading.
            key_arn = options.environment_encryption.key_arn
            self._add_to_role(
                iam.PolicyStatement(actions=list(permissions.ENVIRONMENT_KEY_ACTIONS), resources=[key_arn])
            )
        queue = options.dead_letter_queue
        if queue is not None:
            if self.role_is_immutable:  # aws-cdk-lib adds sqs:SendMessage to a mutable role itself
                self.unattached_statements.append(
                    iam.PolicyStatement(actions=list(DEAD_LETTER_ACTIONS), resources=[queue.queue_arn])
                )
            if queue.encryption_master_key is not None:  # sending to an SSE-KMS queue uses its key
                self._add_to_role(
                    iam.PolicyStatement(
                        actions=list(permissions.DEAD_LETTER_KEY_ACTIONS),
                        resources=[queue.encryption_master_key.key_arn],
                    )
                )

        self.poll_rule_arn_pattern: str = stack.format_arn(
            service="events", resource="rule", resource_name=f"{self.poll_rule_prefix}*"
        )
        """``arn:<partition>:events:<region>:<account>:rule/<prefix>*``: the rules polling may touch."""
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
        self.allow(permissions.concurrency_statements())
        unscoped = (
            "lambda:GetAccountSettings has no resource type (the Service Authorization Reference lists only "
            "*): the handler reads the account's unreserved Lambda concurrency once per execution "
            "environment, to keep its in-process wait short when executions are scarce."
        )
        if options.vpc is not None:
            self.allow([permissions.Statement("VpcNetworkInterfaces", VPC_ACCESS_ACTIONS, ("*",))])
            unscoped += (
                " A function in a VPC creates, describes and deletes its own network interfaces: the actions "
                "of AWSLambdaVPCAccessExecutionRole, which name no interface or subnet known at synth time "
                "(EC2's Describe actions take no resource at all)."
            )
        self.acknowledge_wildcard("*", unscoped)
        self.ready: list[IConstruct] = [
            self.role,
            self.log_group,
            self.function.node.find_child("PollingRulesInvoke"),
            self.function.node.find_child("EventInvokeConfig"),
        ]
        """What must exist before the first request beyond the function itself: the role with its policy,
        the log group, EventBridge's invoke permission and the function's EventInvokeConfig (no retries).
        Custom resources depend on these."""
        Aspects.of(self).add(_UnattachedStatementsWarning(self))

    def _environment(self, options: ProviderOptions) -> dict[str, str]:
        """The function's environment: the rule prefix, and its reserved concurrency when it has one (the
        handler then knows its pool without asking Lambda)."""
        environment = {POLL_RULE_PREFIX_ENV: self.poll_rule_prefix}
        reserved = options.reserved_concurrent_executions
        if reserved is not None:
            environment[contract.RESERVED_CONCURRENCY_ENV] = (
                Token.as_string(reserved) if Token.is_unresolved(reserved) else str(int(reserved))
            )
        return environment

    def _add_to_role(self, statement: iam.PolicyStatement) -> None:
        added = self.role.add_to_principal_policy(statement).statement_added
        if self.role_is_immutable or not added:
            self.unattached_statements.append(statement)

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
                self._add_to_role(statement)
                continue
            known = self._shared_resources[wanted.key]
            new = [r for r in wanted.resources if r not in known]
            known.extend(new)
            if new:
                statement.add_resources(*new)

    @classmethod
    def of(
        cls,
        scope: IConstruct,
        *,
        role_name: str | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        role: iam.IRole | None = None,
        reserved_concurrent_executions: int | float | None = None,
        log_group: logs.ILogGroup | None = None,
        environment_encryption: kms.IKey | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> RekognitionModelCopyProvider:
        """The provider of ``scope``'s stack, created on first use with the id :data:`PROVIDER_ID`.

        The options other than ``role_name`` set the function up and can only be given by the call that
        creates the provider: call ``of(stack, ...)`` with them before the stack's first copy, policy or
        promotion (which call ``of()`` without options). Asking for options once the provider exists is
        an error; ``of()`` without options returns the existing provider.

        :param role_name: give the function's role this name. Default: leave the role's name as it is
            (generated by CloudFormation unless named before). Naming the role of a provider created before
            (by a copy or a policy) sets ``RoleName`` on it; asking for another name than the one it has
            is an error. Not with ``role``.
        :param vpc: run the function in this VPC. It must reach Rekognition, EventBridge, KMS and S3 (the
            presigned response URL of CloudFormation) through VPC endpoints or a NAT gateway (README, "In a
            VPC"). The role gets the network-interface actions of AWSLambdaVPCAccessExecutionRole inline.
        :param vpc_subnets: which of the VPC's subnets. Default: aws-cdk-lib's (the private subnets).
        :param security_groups: the function's security groups. Default: one created by aws-cdk-lib that
            allows all outbound traffic.
        :param role: the function's execution role, your own (trusting ``lambda.amazonaws.com``). A mutable
            role (an ``iam.Role``, or ``Role.from_role_arn(...)``) gets the library's statements; an
            immutable one (``mutable=False``) gets none: they are listed in
            :attr:`unattached_statements` and in a synth warning, to attach yourself.
        :param reserved_concurrent_executions: the function's reserved concurrency (at least 1). Each copy
            in flight holds one execution for up to 10 minutes.
        :param log_group: the function's log group (with your KMS key and retention). Default: a log group
            kept one month.
        :param environment_encryption: a KMS key for the function's environment variables. Default: Lambda's
            AWS managed key.
        :param dead_letter_queue: a standard SQS queue for the asynchronous invocations that fail all
            attempts (the role gets ``sqs:SendMessage`` on it). Default: none.
        """
        options = ProviderOptions(
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            role=role,
            reserved_concurrent_executions=reserved_concurrent_executions,
            log_group=log_group,
            environment_encryption=environment_encryption,
            dead_letter_queue=dead_letter_queue,
        )
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if existing is None:
            return cls(stack, PROVIDER_ID, role_name=role_name, options=options)
        if not isinstance(existing, cls):
            raise TypeError(
                f"The construct id {PROVIDER_ID!r} at the top of stack {stack.node.path!r} is taken by a "
                f"{type(existing).__name__}; rename that construct, it is reserved for the model-copy "
                "provider."
            )
        asked = options.given()
        if asked:
            has = existing.options.given()
            raise validation.ModelCopyValidationError(
                f"The model-copy provider of stack {stack.stack_name!r} exists already (with "
                f"{', '.join(has) if has else 'no options'}); {', '.join(asked)} can only be given when it "
                "is created. Call RekognitionModelCopyProvider.of(stack, "
                f"{'=..., '.join(asked)}=...) once, before the first copy, policy or promotion of the stack."
            )
        if role_name is not None and role_name != existing.role_name:
            existing._set_role_name(role_name)
        return existing

    def _set_role_name(self, role_name: str) -> None:
        if self.options.role is not None:
            raise validation.ModelCopyValidationError(
                f"The copy role of stack {Stack.of(self).stack_name!r} is the role given with role= "
                f"({self.role_name or 'its name unknown at synth'}); it cannot be named {role_name!r}. Give "
                "role= a role with a fixed name (e.g. Role.from_role_name or role_name= on your Role), and "
                "use that name."
            )
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

    def role_policy_document(self) -> iam.PolicyDocument:
        """:attr:`unattached_statements` as one policy document (empty when the role took them all)."""
        return iam.PolicyDocument(statements=list(self.unattached_statements))

    @property
    def service_token(self) -> str:
        """The ServiceToken of the custom resources: the function's ARN (crhelper answers directly)."""
        return self.function.function_arn

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The principal the handler runs as, for grants on resources it must reach."""
        return self.role


@jsii.implements(IAspect)
class _UnattachedStatementsWarning:
    """At synth, once every copy has added its statements: a warning on the provider listing what an
    immutable role must be given (nothing when the role took every statement)."""

    def __init__(self, provider: RekognitionModelCopyProvider) -> None:
        self._provider = provider
        self._done = False

    def visit(self, node: IConstruct) -> None:
        if node is not self._provider or self._done:
            return
        self._done = True
        if not self._provider.unattached_statements:
            return
        document = Stack.of(node).resolve(self._provider.role_policy_document().to_json())
        Annotations.of(node).add_warning(
            "The function's role is immutable: the library added none of the permissions the function needs. "
            "Attach this policy to the role before deploying (also in RekognitionModelCopyProvider."
            f"unattached_statements): {json.dumps(document, sort_keys=True)}"
        )
