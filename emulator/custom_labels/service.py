"""Custom Labels requests as moto receives them: who calls, what each operation does with its parameters, and
the order of checks (count, injected fault, input validation, authorization, then the backend).

:func:`install` adds the operations to moto's own ``RekognitionResponse``; importing this module (and so
``emulator.custom_labels``) calls it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.rekognition.responses import RekognitionResponse
from moto.utilities.utils import get_partition

from .authz import authorize_call
from .backends import CustomLabelsBackend, backend
from .errors import InvalidParameterException
from .policy import CallerIdentity
from .runtime import OPERATIONS, calls, faults, get_clock, state_lock
from .validation import validate_input

Params = dict[str, Any]
Handler = Callable[[CustomLabelsBackend, Params, CallerIdentity], dict[str, Any]]


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
    :mod:`emulator.custom_labels.authz`), then act on the caller's backend (the account of the
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
    with state_lock:
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


install()
