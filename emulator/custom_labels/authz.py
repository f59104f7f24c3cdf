"""Authorization of every Custom Labels call: the caller's IAM policies, project, bucket and key policies.

Each request is made by a principal (the account root for plain credentials, the role of assumed-role
credentials, an IAM user). :func:`authorize_call` evaluates, with :mod:`emulator.iam`:

* the Rekognition actions of the operation on their resources (:data:`.iam_actions.OPERATIONS`), against
  the caller's identity policies as moto IAM holds them and, for resources of another account (or a
  project policy naming the caller), the project policies of the resource's project;
* what the service does with the caller's credentials (:mod:`.iam_actions`): S3 on the output
  bucket and prefix (identity policy + bucket policy), KMS on the output key and on the key of the source
  model (identity policy + key policy).

A denial raises ``AccessDeniedException`` worded as AWS words it. Identity policies come from moto IAM:
the roles, users and groups a test (or the CloudFormation driver, from the synthesised template) put there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.kms.models import kms_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from emulator.iam import (
    ContextValue,
    Outcome,
    Principal,
    Request,
    authorize,
    find_role,
    iam_backend,
    identity_history,
    user_of,
)

from . import iam_actions, runtime
from .backends import CustomLabelsBackend, custom_labels_backends
from .errors import AccessDeniedException, CustomLabelsError
from .models import PROJECT_ARN_RE, VERSION_ARN_RE, epoch_ms
from .policy import CallerIdentity, binds_role_ids

Params = dict[str, Any]

#: Evaluation on/off. Always True in tests and demos; a unit test of the unenforced baseline may switch
#: it off for one block with :func:`unenforced` (the emulator's behaviour before it enforced IAM).
ENFORCED = True


class _Unenforced:
    def __enter__(self) -> None:
        global ENFORCED
        self._saved = ENFORCED
        ENFORCED = False

    def __exit__(self, *exc: object) -> None:
        global ENFORCED
        ENFORCED = self._saved


def unenforced() -> _Unenforced:
    """A context manager in which no Custom Labels call is authorized (for a baseline unit test only)."""
    return _Unenforced()


# ---------------------------------------------------------------------------------------------------------
# Principals and their identity policies (moto IAM)
# ---------------------------------------------------------------------------------------------------------
def principal_of(caller: CallerIdentity) -> Principal:
    """The evaluator's view of a caller, with the unique id of its role as it exists now."""
    role = find_role(caller.role_arn) if caller.role_arn else None
    return Principal(
        account_id=caller.account_id,
        arn=caller.arn,
        role_arn=caller.role_arn,
        role_id=role.id if role is not None else None,
        is_root=caller.is_root,
    )


def _default_document(policy: Any) -> str:
    for version in policy.versions:
        if version.version_id == policy.default_version_id:
            return str(version.document)
    return "{}"


def _policies(owner: Any, prefix: str = "") -> dict[str, str]:
    """Inline and attached managed policies of a role, user or group: policy key -> document."""
    return {
        **{f"{prefix}inline:{name}": str(doc) for name, doc in owner.policies.items()},
        **{f"{prefix}managed:{arn}": _default_document(p) for arn, p in owner.managed_policies.items()},
    }


def identity_documents(caller: CallerIdentity) -> list[str]:
    """The identity-based policies of the caller in force now: inline and attached managed (groups for
    users), each change taking effect ``config.iam_propagation_delay`` seconds after it was made."""
    if caller.is_root:
        return []
    if caller.role_arn:
        role = find_role(caller.role_arn)
        if role is None:
            return []  # the role was deleted: its sessions are allowed nothing
        owner, current = str(role.id), _policies(role)
    else:
        user = user_of(caller.arn)
        if user is None:
            return []
        owner, current = str(user.id), _policies(user)
        for group in iam_backend(caller.account_id).groups.values():
            if user in group.users:
                current.update(_policies(group, f"group/{group.name}/"))
    return identity_history.in_force(owner, current, runtime.now(), runtime.config.iam_propagation_delay)


def observe_role(role_arn: str) -> None:
    """Date a change of a role's policies now (``config.iam_propagation_delay``): the CloudFormation driver
    may call this right after it changes a role, instead of letting the role's next call date it."""
    role = find_role(role_arn)
    if role is not None:
        identity_history.in_force(
            str(role.id), _policies(role), runtime.now(), runtime.config.iam_propagation_delay
        )


# ---------------------------------------------------------------------------------------------------------
# Resources and their resource-based policies
# ---------------------------------------------------------------------------------------------------------
def _account_of(arn: str, default: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4] else default


def _rekognition_resource(arn: str, region: str) -> tuple[list[str] | None, dict[str, str], dict[str, str]]:
    """(project policy documents, role bindings, resource tags) of a project or version ARN."""
    match = VERSION_ARN_RE.match(arn) or PROJECT_ARN_RE.match(arn)
    if match is None:
        return None, {}, {}
    parts = match.groupdict()
    try:
        backend: CustomLabelsBackend = custom_labels_backends[parts["account"]][parts["region"] or region]
    except KeyError:  # a Region moto does not know: no such resource
        return None, {}, {}
    project = backend.projects.get(parts["project"])
    if project is None:
        return None, {}, {}
    in_force = project.policies_in_force(runtime.now(), runtime.config.policy_propagation_delay)
    documents = [p.document for p in in_force]
    bindings: dict[str, str] = {}
    if binds_role_ids():
        for policy in in_force:
            bindings.update(policy.bindings)
    tags: dict[str, str] = {}
    if "version" in parts:
        version = project.versions.get(parts["version"])
        if version is not None and version.arn == arn:
            tags = version.tags
    elif project.arn == arn:
        tags = project.tags
    return (documents or None), bindings, tags


def _bucket(name: str) -> tuple[str | None, str | None]:
    """(owner account, bucket policy) of a bucket; (None, None) when it does not exist."""
    located = s3_backends.bucket_accounts.get(name)
    if located is None:
        return None, None
    partition, account = located
    bucket = s3_backends[account][partition].buckets.get(name)
    if bucket is None:
        return None, None
    policy = bucket.policy.decode() if bucket.policy else None
    return account, policy


def _key(key_id: str, account_id: str, region: str) -> tuple[str, str, str] | None:
    """(key ARN, owner account, key policy) of a key id, key ARN, alias name or alias ARN."""
    parts = key_id.split(":", 5)
    if len(parts) == 6:
        account_id, region = parts[4], parts[3]
    try:
        backend = kms_backends[account_id][region]
        key = backend.keys[backend.any_id_to_key_id(key_id)]
    except Exception:  # noqa: BLE001 - moto raises KeyError or its own NotFound for an unknown key
        return None
    return str(key.arn), account_id, str(key.policy)


# ---------------------------------------------------------------------------------------------------------
# The decision
# ---------------------------------------------------------------------------------------------------------
def global_context(caller: CallerIdentity, principal: Principal, region: str) -> dict[str, ContextValue]:
    """The global condition keys of every request of ``caller`` (aws:PrincipalArn, aws:userid ...)."""
    return {
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalArn": caller.role_arn or caller.arn,
        "aws:PrincipalType": "Account" if caller.is_root else ("AssumedRole" if caller.role_arn else "User"),
        "aws:SecureTransport": "true",
        "aws:RequestedRegion": region,
        **(
            {"aws:userid": f"{principal.role_id}:{caller.arn.rsplit('/', 1)[-1]}"}
            if principal.role_id
            else {}
        ),
    }


def _deny(outcome: Outcome, request: Request) -> CustomLabelsError:
    return AccessDeniedException(outcome.message(request))


class _Authorizer:
    """Evaluates the checks of one call; holds what every check of the call shares."""

    def __init__(self, operation: str, params: Params, caller: CallerIdentity, region: str) -> None:
        self.operation = operation
        self.params = params
        self.caller = caller
        self.region = region
        self.principal = principal_of(caller)
        self.identity = identity_documents(caller)
        self.base = global_context(caller, self.principal, region)
        self.partition = get_partition(region)

    def check(
        self,
        action: str,
        resource: str,
        *,
        resource_account: str,
        resource_documents: list[str] | None,
        context: Mapping[str, ContextValue] | None = None,
        key_policy: bool = False,
        bindings: Mapping[str, str] | None = None,
    ) -> None:
        request = Request(self.principal, action, resource, {**self.base, **(context or {})})
        outcome = authorize(
            request,
            self.identity,
            resource_documents,
            resource_account,
            key_policy=key_policy,
            bindings=bindings,
        )
        if not outcome.allowed:
            raise _deny(outcome, request)

    # -- Rekognition ------------------------------------------------------------------------------------
    def _new_arn(self, which: str) -> str:
        now = epoch_ms(runtime.now())
        if which == iam_actions.NEW_PROJECT:
            return (
                f"arn:{self.partition}:rekognition:{self.region}:{self.caller.account_id}:"
                f"project/{self.params.get('ProjectName', '')}/{now}"
            )
        project = str(self.params.get("DestinationProjectArn") or self.params.get("ProjectArn") or "")
        return f"{project.rsplit('/', 1)[0]}/version/{self.params.get('VersionName', '')}/{now}"

    def _tag_context(self, action: str) -> dict[str, ContextValue]:
        context: dict[str, ContextValue] = {}
        tags = self.params.get("Tags")
        if isinstance(tags, dict) and tags and action != "rekognition:UntagResource":
            context["aws:TagKeys"] = sorted(tags)
            context.update({f"aws:RequestTag/{k}": str(v) for k, v in tags.items()})
        keys = self.params.get("TagKeys")
        if action == "rekognition:UntagResource" and isinstance(keys, list):
            context["aws:TagKeys"] = [str(k) for k in keys]
        return context

    def rekognition(self) -> None:
        for check in iam_actions.OPERATIONS[self.operation]:
            if check.only_if is not None and not self.params.get(check.only_if):
                continue
            for name in check.resources:
                if name == iam_actions.ANY:
                    arn = "*"
                elif name in (iam_actions.NEW_PROJECT, iam_actions.NEW_VERSION):
                    arn = self._new_arn(name)
                else:
                    arn = str(self.params.get(name, ""))
                documents, bindings, tags = (
                    _rekognition_resource(arn, self.region) if arn != "*" else (None, {}, {})
                )
                if name in check.identity_only:
                    documents, bindings = None, {}
                context: dict[str, ContextValue] = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
                context.update(self._tag_context(check.action))
                account = self.caller.account_id if arn == "*" else _account_of(arn, self.caller.account_id)
                if name in check.identity_only and account != self.caller.account_id:
                    # no resource policy of its own: the identity side alone decides (see iam_actions)
                    account = self.caller.account_id
                self.check(
                    check.action,
                    arn,
                    resource_account=account,
                    resource_documents=documents,
                    context=context,
                    bindings=bindings,
                )

    # -- S3 and KMS, as the caller --------------------------------------------------------------------
    def _service_context(self) -> dict[str, ContextValue]:
        return {"aws:ViaAWSService": "true"}

    def output(self) -> None:
        config = self.params.get("OutputConfig") or {}
        bucket = str(config.get("S3Bucket") or "")
        prefix = str(config.get("S3KeyPrefix") or "")
        if bucket:
            owner, policy = _bucket(bucket)
            owner = owner or self.caller.account_id
            documents = [policy] if policy else None
            for action in iam_actions.OUTPUT_BUCKET_ACTIONS:
                context = self._service_context()
                if action == "s3:ListBucket":
                    context["s3:prefix"] = prefix
                self.check(
                    action,
                    f"arn:{self.partition}:s3:::{bucket}",
                    resource_account=owner,
                    resource_documents=documents,
                    context=context,
                )
            for action in iam_actions.OUTPUT_OBJECT_ACTIONS:
                self.check(
                    action,
                    f"arn:{self.partition}:s3:::{bucket}/{prefix}{iam_actions.OUTPUT_OBJECT}",
                    resource_account=owner,
                    resource_documents=documents,
                    context=self._service_context(),
                )
        key_id = self.params.get("KmsKeyId")
        if key_id:
            self.key(str(key_id), iam_actions.OUTPUT_KEY_ACTIONS, self.caller.account_id)

    def key(self, key_id: str, actions: tuple[str, ...], default_account: str) -> None:
        found = _key(key_id, default_account, self.region)
        if found is None:
            name = key_id if key_id.startswith(("arn:", "alias/")) else f"key/{key_id}"
            prefix = f"arn:{self.partition}:kms:{self.region}:{default_account}:"
            arn = name if name.startswith("arn:") else prefix + name
            request = Request(self.principal, actions[0], arn, self.base)
            raise _deny(
                Outcome(False, "because the key does not exist (or is not visible to the caller)"), request
            )
        arn, owner, policy = found
        for action in actions:
            context = self._service_context()
            context.update(
                {
                    "kms:ViaService": f"rekognition.{self.region}.amazonaws.com",
                    "kms:CallerAccount": self.caller.account_id,
                }
            )
            if action == "kms:CreateGrant":
                context["kms:GrantIsForAWSResource"] = "true"
            self.check(
                action,
                arn,
                resource_account=owner,
                resource_documents=[policy],
                context=context,
                key_policy=True,
            )

    def source_model(self) -> None:
        arn = str(self.params.get("SourceProjectVersionArn") or "")
        match = VERSION_ARN_RE.match(arn)
        if match is None:
            return
        parts = match.groupdict()
        if parts["region"] != self.region:
            return  # the copy is refused (source and destination in one Region) before it reads anything
        project = custom_labels_backends[parts["account"]][parts["region"]].projects.get(parts["project"])
        version = project.versions.get(parts["version"]) if project is not None else None
        if version is None or version.arn != arn or not version.kms_key_id:
            return
        self.key(version.kms_key_id, iam_actions.SOURCE_KEY_ACTIONS, parts["account"])


def authorize_call(operation: str, params: Params, caller: CallerIdentity, region: str) -> None:
    """Raise AccessDeniedException unless ``caller`` may make this call and what the service then does."""
    if not ENFORCED:
        return
    authorizer = _Authorizer(operation, params, caller, region)
    authorizer.rekognition()
    if operation in iam_actions.READS_SOURCE_MODEL:
        authorizer.source_model()
    if operation in iam_actions.WRITES_OUTPUT:
        authorizer.output()
