"""Amazon Rekognition Custom Labels model management, emulated inside moto.

Importing this module calls :func:`install`, which adds the Custom Labels operations (CreateProject,
DescribeProjectVersions, CopyProjectVersion, project policies, tags ...) to moto's own
``RekognitionResponse``. A plain ``boto3.client("rekognition")`` then sees them under
``moto.mock_aws()`` and through a moto server (``ThreadedMotoServer``) running in this process.

State lives in :data:`custom_labels_backends` (a moto ``BackendDict``: one backend per account and
Region, reset by moto like any other). Tests steer the emulator through :data:`config` (durations),
:data:`faults` (scripted errors and failed copies), :data:`calls` (call counts), :func:`set_clock`
(a :class:`~emulator.clock.SimulatedClock` makes asynchronous transitions instant and deterministic)
and :func:`reset`.

Example::

    from emulator import custom_labels
    from emulator.clock import SimulatedClock

    clock = SimulatedClock()
    custom_labels.reset(clock=clock)
    with moto.mock_aws():
        project_arn, version_arn = custom_labels.seed_trained_version(
            "111111111111", "us-east-1", "source", "v1")
        ...  # CopyProjectVersion with boto3: COPYING_IN_PROGRESS
        clock.advance(custom_labels.config.copy_duration)  # now COPYING_COMPLETED
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.rekognition.responses import RekognitionResponse
from moto.utilities.utils import get_partition

from . import custom_labels_runtime as _runtime
from .clock import Clock, RealClock, SimulatedClock
from .custom_labels_authz import authorize_call
from .custom_labels_errors import ERRORS_BY_CODE, CustomLabelsError, InvalidParameterException
from .custom_labels_models import CustomLabelsBackend, custom_labels_backends
from .custom_labels_policy import CallerIdentity
from .custom_labels_runtime import (
    OPERATIONS,
    CallCounter,
    EmulatorConfig,
    FaultInjector,
    calls,
    config,
    faults,
    get_clock,
    set_clock,
)
from .custom_labels_validation import validate_input

__all__ = [
    "ERRORS_BY_CODE",
    "OPERATIONS",
    "CallCounter",
    "CallerIdentity",
    "Clock",
    "CustomLabelsBackend",
    "CustomLabelsError",
    "EmulatorConfig",
    "FaultInjector",
    "RealClock",
    "SimulatedClock",
    "backend",
    "call_counts",
    "caller_identity",
    "calls",
    "config",
    "custom_labels_backends",
    "faults",
    "get_clock",
    "install",
    "now",
    "reset",
    "seed_trained_version",
    "set_clock",
]

# One lock around every state change and read: the moto server handles requests on several threads.
_state_lock = threading.RLock()

Params = dict[str, Any]
Handler = Callable[[CustomLabelsBackend, Params, CallerIdentity], dict[str, Any]]


def backend(account_id: str, region: str) -> CustomLabelsBackend:
    """The Custom Labels backend of ``account_id`` in ``region`` (created on first use)."""
    return custom_labels_backends[account_id][region]


def call_counts() -> dict[tuple[str, str], int]:
    """Calls received so far, keyed by (account id, operation name)."""
    return calls.snapshot()


def seed_trained_version(
    account_id: str,
    region: str,
    project_name: str,
    version_name: str,
    *,
    output_config: dict[str, Any] | None = None,
    kms_key_id: str | None = None,
) -> tuple[str, str]:
    """Create (or reuse) a project and add a TRAINING_COMPLETED version directly in the backend.

    Returns ``(project_arn, version_arn)``. Call it inside ``mock_aws()`` (which resets backends when it
    starts). Scripted training failures are not consumed. ``kms_key_id``: the customer managed key the
    model was trained with (a KMS key ARN in ``account_id``); a copy then needs Decrypt, DescribeKey and
    CreateGrant on it, allowed by that key's policy. No authorization applies to seeding itself.
    """
    with _state_lock:
        return backend(account_id, region).seed_trained_version(
            project_name, version_name, output_config, kms_key_id
        )


def reset(*, clock: Clock | None = None) -> None:
    """Back to a fresh emulator: no resources, faults or counts, default config, and ``clock``.

    ``clock`` defaults to a new :class:`RealClock`.
    """
    with _state_lock:
        for _, _, region_backend in list(custom_labels_backends.iter_backends()):
            region_backend.reset()
        custom_labels_backends.clear()
        faults.clear()
        calls.clear()
        config.reset()
        set_clock(clock if clock is not None else RealClock())


# --- request handling ---------------------------------------------------------------------------


def caller_identity(response: BaseResponse) -> CallerIdentity:
    """Who sent the request: account root, plus the role (and session) of assumed-role credentials."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    account = response.current_account
    partition = get_partition(response.region)
    root = f"arn:{partition}:iam::{account}:root"
    arn = root
    role_arn: str | None = None
    access_key = response.get_access_key()
    key = iam_backends[account][partition].access_keys.get(access_key)
    if key is not None and key.role_arn:
        role_arn = arn = key.role_arn
        session = sts_backends[account][partition].get_assumed_role_from_access_key(access_key)
        if session is not None:
            arn = session.arn
    elif key is not None and key.user_name:
        arn = f"arn:{partition}:iam::{account}:user/{key.user_name}"
    return CallerIdentity(
        account_id=account,
        arn=arn,
        role_arn=role_arn,
        is_root=arn == root,
    )


def _max_results(params: Params, default: int) -> int:
    value = params.get("MaxResults")
    return default if value is None else int(value)


def _create_project(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    project = b.create_project(p["ProjectName"], p.get("Feature"), p.get("AutoUpdate"), p.get("Tags"))
    return {"ProjectArn": project.arn}


def _describe_projects(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    items, token = b.describe_projects(
        p.get("ProjectNames"), p.get("Features"), _max_results(p, 100), p.get("NextToken")
    )
    return {"ProjectDescriptions": items, **({"NextToken": token} if token else {})}


def _delete_project(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    return {"Status": b.delete_project(p["ProjectArn"], c)}


def _create_project_version(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    version = b.create_project_version(
        p["ProjectArn"],
        p["VersionName"],
        p["OutputConfig"],
        tags=p.get("Tags"),
        kms_key_id=p.get("KmsKeyId"),
        version_description=p.get("VersionDescription"),
        caller=c,
    )
    return {"ProjectVersionArn": version.arn}


def _describe_project_versions(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    items, token = b.describe_project_versions(
        p["ProjectArn"], p.get("VersionNames"), _max_results(p, 100), p.get("NextToken"), c
    )
    return {"ProjectVersionDescriptions": items, **({"NextToken": token} if token else {})}


def _copy_project_version(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    version = b.copy_project_version(
        c,
        p["SourceProjectArn"],
        p["SourceProjectVersionArn"],
        p["DestinationProjectArn"],
        p["VersionName"],
        p["OutputConfig"],
        p.get("Tags"),
        p.get("KmsKeyId"),
    )
    return {"ProjectVersionArn": version.arn}


def _delete_project_version(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    return {"Status": b.delete_project_version(p["ProjectVersionArn"], c)}


def _start_project_version(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    status = b.start_project_version(
        p["ProjectVersionArn"], p["MinInferenceUnits"], p.get("MaxInferenceUnits"), c
    )
    return {"Status": status}


def _stop_project_version(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    return {"Status": b.stop_project_version(p["ProjectVersionArn"], c)}


def _put_project_policy(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    revision = b.put_project_policy(
        p["ProjectArn"], p["PolicyName"], p["PolicyDocument"], p.get("PolicyRevisionId"), c
    )
    return {"PolicyRevisionId": revision}


def _delete_project_policy(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    b.delete_project_policy(p["ProjectArn"], p["PolicyName"], p.get("PolicyRevisionId"), c)
    return {}


def _list_project_policies(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    items, token = b.list_project_policies(p["ProjectArn"], _max_results(p, 5), p.get("NextToken"), c)
    return {"ProjectPolicies": items, **({"NextToken": token} if token else {})}


def _tag_resource(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    b.tag_resource(p["ResourceArn"], p["Tags"], c)
    return {}


def _untag_resource(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    b.untag_resource(p["ResourceArn"], p["TagKeys"], c)
    return {}


def _list_tags_for_resource(b: CustomLabelsBackend, p: Params, c: CallerIdentity) -> dict[str, Any]:
    return {"Tags": b.list_tags_for_resource(p["ResourceArn"], c)}


_HANDLERS: dict[str, Handler] = {
    "CreateProject": _create_project,
    "DescribeProjects": _describe_projects,
    "DeleteProject": _delete_project,
    "CreateProjectVersion": _create_project_version,
    "DescribeProjectVersions": _describe_project_versions,
    "CopyProjectVersion": _copy_project_version,
    "DeleteProjectVersion": _delete_project_version,
    "StartProjectVersion": _start_project_version,
    "StopProjectVersion": _stop_project_version,
    "PutProjectPolicy": _put_project_policy,
    "DeleteProjectPolicy": _delete_project_policy,
    "ListProjectPolicies": _list_project_policies,
    "TagResource": _tag_resource,
    "UntagResource": _untag_resource,
    "ListTagsForResource": _list_tags_for_resource,
}
if set(_HANDLERS) != set(OPERATIONS):  # pragma: no cover - a programming error
    raise RuntimeError("every operation needs exactly one handler")


def _request_params(response: BaseResponse) -> Params:
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    try:
        params = json.loads(body) if body else {}
    except ValueError:
        raise InvalidParameterException("The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise InvalidParameterException("The request body must be a JSON object.")
    return params


def handle(response: BaseResponse, operation: str) -> str:
    """Serve one Custom Labels request received by moto's RekognitionResponse; return the JSON body.

    Order: count the call, raise an injected fault, validate the input, authorize the caller (identity
    and resource policies, and what the service does with the caller's credentials:
    :mod:`emulator.custom_labels_authz`), then act on the caller's backend (the account of the
    credentials, the Region of the endpoint).
    """
    account = response.current_account
    calls.record(account, operation)
    latency = faults.take_latency(operation, account)
    if latency:
        get_clock().sleep(latency)  # a slow answer, in the clock's time (a driver's clock lets others run)
    faults.raise_if_injected(operation, account)
    params = _request_params(response)
    validate_input(operation, params)
    caller = caller_identity(response)
    with _state_lock:
        authorize_call(operation, params, caller, response.region)
        result = _HANDLERS[operation](backend(account, response.region), params, caller)
    return json.dumps(result)


def _response_method(operation: str) -> Callable[[BaseResponse], str]:
    def method(self: BaseResponse) -> str:
        return handle(self, operation)

    name = camelcase_to_underscores(operation)
    method.__name__ = name
    method.__qualname__ = f"RekognitionResponse.{name}"
    method.__doc__ = f"Custom Labels {operation} (emulator.custom_labels)."
    method._custom_labels_operation = operation  # type: ignore[attr-defined]
    return method


def install() -> None:
    """Register the Custom Labels operations on moto's RekognitionResponse (idempotent).

    moto dispatches a JSON request to the method named after its X-Amz-Target action, in decorator
    mode and in the server alike, so adding methods to the class is enough.
    """
    for operation in OPERATIONS:
        name = camelcase_to_underscores(operation)
        current = RekognitionResponse.__dict__.get(name)
        if getattr(current, "_custom_labels_operation", None) == operation:
            continue
        setattr(RekognitionResponse, name, _response_method(operation))


def now() -> float:
    """The current time of the emulator clock, in epoch seconds."""
    return _runtime.now()


install()
