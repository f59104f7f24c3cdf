"""The one backing Lambda function per stack that serves ``Custom::RekognitionModelCopy`` and
``Custom::RekognitionProjectPolicy`` resources.

The function runs the handler in ``lambda/`` (shipped inside the wheel as ``rekognition_model_copy._handler``)
with crhelper copied next to it. No Docker: the asset directory is assembled by a plain packaging step
(:func:`build_handler_asset`) once per process, and its content alone decides the asset hash.

crhelper's polling schedules the function with EventBridge rules. The handler names those rules with the
``POLL_RULE_PREFIX`` environment variable and makes no IAM or ``lambda:AddPermission`` call at run time:
the rule permissions and the function's invoke permission for EventBridge are granted here, once, scoped
to rules whose names start with that prefix.

cdk-nag (AwsSolutions pack): the few wildcards the function's policy needs (the polling rules' name prefix,
the versions of a destination project, the objects under a copy's output prefix) are acknowledged here and
in the copy, each by its exact finding id (``AwsSolutions-IAM5[Resource::<resource>]``) with the reason, so
an app using these constructs gets a clean cdk-nag run without suppressing anything itself.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from . import contract, permissions, validation

PROVIDER_ID = "RekognitionModelCopyProvider"
"""Construct id of the provider at stack level. Public contract: changing it replaces the function."""

POLL_RULE_PREFIX_ENV = contract.POLL_RULE_PREFIX_ENV
"""Environment variable telling the handler how to name its polling rules."""

HANDLER_ENTRY_POINT = "index.handler"
HANDLER_PACKAGE = "_handler"
_TEST_FILE_PATTERNS = ("test_*.py", "*_test.py", "conftest.py")


def handler_source_dir() -> Path:
    """Where the handler sources are: inside the installed wheel, else ``lambda/`` of a source checkout."""
    here = Path(__file__).resolve().parent
    candidates = (here / HANDLER_PACKAGE, here.parents[1] / "lambda")
    for candidate in candidates:
        if (candidate / "index.py").is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"The model-copy handler (index.py) was not found in {looked}. Reinstall the "
        "rekognition-model-copy package, or run from a checkout that has lambda/index.py."
    )


def _crhelper_dir() -> Path:
    spec = importlib.util.find_spec("crhelper")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "crhelper is not installed; the handler asset bundles it. Install rekognition-model-copy "
            "with its dependencies (pip install rekognition-model-copy) or `pip install crhelper==2.0.12`."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _is_test_file(path: Path) -> bool:
    return any(path.match(pattern) for pattern in _TEST_FILE_PATTERNS)


def build_handler_asset(destination: Path, handler_dir: Path | None = None) -> Path:
    """Assemble the function's code in ``destination`` and return it.

    Copies every ``*.py`` of the handler directory (test modules left out) and the installed ``crhelper``
    package (``.py`` sources, ``py.typed`` and its licence files; no ``__pycache__``, no stubs). boto3 is
    not bundled: the Lambda runtime provides it. Only file contents and names end up in the asset hash.
    """
    source = handler_dir if handler_dir is not None else handler_source_dir()
    destination.mkdir(parents=True, exist_ok=True)
    for module in sorted(source.glob("*.py")):
        if not _is_test_file(module):
            shutil.copyfile(module, destination / module.name)

    crhelper_source = _crhelper_dir()
    crhelper_target = destination / "crhelper"
    crhelper_target.mkdir(exist_ok=True)
    for file in sorted(crhelper_source.iterdir()):
        if file.is_file() and (file.suffix == ".py" or file.name == "py.typed"):
            shutil.copyfile(file, crhelper_target / file.name)
    try:
        distribution = importlib.metadata.distribution("crhelper")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - crhelper vendored without metadata
        return destination
    for licence in ("LICENSE", "NOTICE"):
        text = distribution.read_text(licence)
        if text is not None:
            (crhelper_target / licence).write_text(text, encoding="utf-8")
    return destination


@functools.cache
def handler_asset_dir() -> Path:
    """The assembled handler asset, built once per process in a temporary directory removed at exit."""
    staging = Path(tempfile.mkdtemp(prefix="rekognition-model-copy-asset-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    return build_handler_asset(staging)


def poll_rule_prefix(stack: Stack) -> str:
    """A short prefix, unique per stack, for the names of the EventBridge rules crhelper's polling creates.

    ``rmc-`` and 8 hex characters of a hash of the stack's construct address: 12 characters of
    ``[a-z0-9-]``, stable across synths, leaving room in the 64-character rule name limit.
    """
    digest = hashlib.sha256(stack.node.addr.encode("utf-8")).hexdigest()
    return f"rmc-{digest[:8]}"


NAG_WILDCARD_RULE = "AwsSolutions-IAM5"
"""cdk-nag's rule for wildcards in identity policies; each wildcard resource is a finding of its own."""


def _truthy(value: Any) -> bool:
    """JavaScript's truthiness (cdk-nag tests intrinsics with ``!!node[field]``): ``[]`` and ``{}`` count."""
    if value is None or value is False or value == "":
        return False
    return not (isinstance(value, int | float) and value == 0)


def _flatten_cfn_reference(node: Any) -> str:
    """A resolved CloudFormation value as one string, the way cdk-nag names resources in finding ids.

    A port of cdk-nag's ``flattenCfnReference``: ``Fn::Join`` joined, ``Ref`` as ``<name>``, ``Fn::GetAtt``
    as ``<logical id.attribute>``, ``${...}`` of ``Fn::Sub`` as ``<...>``, anything else as compact JSON.
    """
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if _truthy(node.get("Fn::Join")):
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten_cfn_reference(item) for item in items)
        if _truthy(node.get("Fn::Sub")):
            return _flatten_cfn_reference(node["Fn::Sub"])
        if _truthy(node.get("Fn::GetAtt")):
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten_cfn_reference(resource)}.{_flatten_cfn_reference(attribute)}>"
        if _truthy(node.get("Fn::ImportValue")):
            return _flatten_cfn_reference(node["Fn::ImportValue"])
        if _truthy(node.get("Ref")):
            return f"<{_flatten_cfn_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


def nag_wildcard_finding_id(scope: IConstruct, resource: str) -> str:
    """cdk-nag's finding id for the wildcard ``resource`` in an identity policy of ``scope``'s stack:
    ``AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:us-east-1:222222222222:rule/rmc-1a2b3c4d*]``.

    Tokens are resolved now: a logical id overridden later, or a reference to another stack (written as
    ``Fn::ImportValue`` at synth), gives another id, and cdk-nag reports that finding instead.
    """
    flattened = _flatten_cfn_reference(Stack.of(scope).resolve(resource))
    return f"{NAG_WILDCARD_RULE}[Resource::{flattened}]"


HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_13
"""The function's runtime: the newest Python the handler's tests have been run on."""
_UNTESTED_NEWER_RUNTIMES = frozenset({"python3.14"})
"""Python runtimes aws-cdk-lib knows that are newer than :data:`HANDLER_RUNTIME` and that the handler has not
been tested on (no such interpreter on the project's machines). cdk-nag's AwsSolutions-L1 (latest runtime)
is acknowledged only while these are the only newer ones: an aws-cdk-lib with a further runtime brings the
finding back."""


def _python_version(runtime: lambda_.Runtime) -> tuple[int, ...]:
    return tuple(int(part) for part in runtime.name.removeprefix("python").split(".") if part.isdigit())


def newer_python_runtimes() -> set[str]:
    """Names of the Python runtimes aws-cdk-lib knows that are newer than :data:`HANDLER_RUNTIME`."""
    ours = _python_version(HANDLER_RUNTIME)
    return {
        runtime.name
        for runtime in lambda_.Runtime.ALL
        if runtime.family == lambda_.RuntimeFamily.PYTHON and _python_version(runtime) > ours
    }


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
        self._acknowledge_runtime()

        self.poll_rule_arn_pattern: str = stack.format_arn(
            service="events", resource="rule", resource_name=f"{self.poll_rule_prefix}*"
        )
        """``arn:<partition>:events:<region>:<account>:rule/<prefix>*``: the rules polling may touch."""
        self._acknowledged: set[str] = set()
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
        in its policy are still reported), once per finding however many copies share it: remembered here,
        as reading the role's metadata back through jsii for every copy made synth time quadratic. Nothing
        is recorded for a resource without ``*``. Acknowledgments are metadata: templates do not change."""
        finding = nag_wildcard_finding_id(self.role, resource)
        if "*" not in finding or finding in self._acknowledged:
            return
        self._acknowledged.add(finding)
        Validations.of(self.role).acknowledge(Acknowledgment(id=finding, reason=reason))

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

    def _acknowledge_runtime(self) -> None:
        """Acknowledge cdk-nag's AwsSolutions-L1 (not the latest runtime) on the function alone, and only
        while every newer Python runtime aws-cdk-lib knows is one the handler has not been tested on."""
        newer = newer_python_runtimes()
        if not newer or not newer <= _UNTESTED_NEWER_RUNTIMES:
            return
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        ours, untested = HANDLER_RUNTIME.name, ", ".join(sorted(newer))
        reason = (
            f"{ours} is the newest Python the handler (pure Python: crhelper 2.0.12, boto3 from the "
            f"runtime) has been tested on: its handler tests pass on CPython {ours.removeprefix('python')}. "
            f"{untested} is newer, but no such interpreter is available here to test it, and this function "
            "answers CloudFormation for production models. Only that runtime is acknowledged: a later one "
            "brings the finding back."
        )
        Validations.of(cfn_function).acknowledge(Acknowledgment(id="AwsSolutions-L1", reason=reason))

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
