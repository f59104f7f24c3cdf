"""Lambda entry point for the project's custom resources: dispatch on ResourceType, always answer.

Only plumbing lives here: read the event, pick the resource module, hand its Outcome to crhelper. The work
is in plain functions (``model_copy``, ``project_policy``), the crhelper compensation in ``polling``.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

from polling import Outcome, PollingResource

logger = logging.getLogger(__name__)


def _poll_properties(event: dict[str, Any]) -> dict[str, Any]:
    return dict(model_copy.poll_properties(event))


helper = PollingResource(poll_properties=_poll_properties)

try:  # a failure here still answers every request (FAILED, with the error as the Reason)
    import model_copy
    import project_policy
    from botocore.config import Config
    from errors import ResourceError

    # botocore's standard retry mode: exponential backoff with jitter on throttling and internal errors.
    # (Adaptive mode adds a client-side token bucket; at one call per 10 s per invocation it never engages.)
    RETRY_CONFIG = Config(
        retries={"mode": "standard", "max_attempts": 6}, connect_timeout=10, read_timeout=30
    )
    RESOURCES: dict[str, ModuleType] = {
        model_copy.RESOURCE_TYPE: model_copy,
        project_policy.RESOURCE_TYPE: project_policy,
    }
except Exception as error:  # noqa: BLE001
    helper.init_failure(error)


def _rekognition() -> Any:
    """The invocation's Rekognition client (one per invocation, however often the fast path polls)."""
    return helper.client("rekognition", RETRY_CONFIG)


def _resource(event: dict[str, Any]) -> ModuleType:
    resource = RESOURCES.get(str(event.get("ResourceType")))
    if resource is None:
        raise ResourceError(
            f"This function serves {', '.join(sorted(RESOURCES))}, not {event.get('ResourceType')!r}."
        )
    return resource


@helper.create
def create(event: dict[str, Any], context: Any) -> str:
    return helper.finish(
        _resource(event).create(_rekognition(), event["ResourceProperties"], model_copy.owner_of(event))
    )


@helper.update
def update(event: dict[str, Any], context: Any) -> str:
    return helper.finish(
        _resource(event).update(
            _rekognition(),
            event["ResourceProperties"],
            event.get("OldResourceProperties", {}),
            event["PhysicalResourceId"],
            model_copy.owner_of(event),
        )
    )


@helper.delete
def delete(event: dict[str, Any], context: Any) -> str:
    if event.get("ResourceType") not in RESOURCES:
        logger.warning("Delete of an unknown resource type %s: nothing to do", event.get("ResourceType"))
        return helper.finish(Outcome(event["PhysicalResourceId"], complete=True))
    return helper.finish(
        _resource(event).delete(
            _rekognition(),
            event["ResourceProperties"],
            event["PhysicalResourceId"],
            model_copy.owner_of(event),
        )
    )


# Only model copies poll; every project-policy outcome is complete at once.
@helper.poll_create
def poll_create(event: dict[str, Any], context: Any) -> str:
    helper.check_deadline()
    data = event["CrHelperData"]
    return helper.finish(
        model_copy.converge(
            _rekognition(), event["PollProperties"], data["PhysicalResourceId"], data[model_copy.SERVING_GOAL]
        )
    )


@helper.poll_update
def poll_update(event: dict[str, Any], context: Any) -> str:
    client = _rekognition()
    data = event["CrHelperData"]
    version_arn = data["PhysicalResourceId"]
    try:
        helper.check_deadline()
        return helper.finish(
            model_copy.converge(client, event["PollProperties"], version_arn, data[model_copy.SERVING_GOAL])
        )
    except Exception:
        if data.get(model_copy.REPLACING):  # a new copy that will not be used: remove it
            model_copy.abandon_copy(client, event["PollProperties"], version_arn)
        raise


@helper.poll_delete
def poll_delete(event: dict[str, Any], context: Any) -> str:
    helper.check_deadline()
    target = event["CrHelperData"].get(model_copy.DELETE_TARGET) or event["PhysicalResourceId"]
    gone = model_copy.advance_delete(_rekognition(), event["PollProperties"]["DestinationProjectArn"], target)
    return helper.finish(Outcome(event["PhysicalResourceId"], complete=gone))


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler."""
    helper(event, context)
