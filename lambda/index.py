"""Lambda entry point for the project's custom resources: dispatch on ResourceType, always answer.

Only plumbing lives here: read the event, pick the resource (a module of ``resources/``, each an
``outcome.Resource``), hand its Outcome to the layer over crhelper (``cfn.polling.PollingResource``). The
two rooms share only ``outcome`` and ``contract``; ``tests/handler/test_rooms.py`` keeps them apart.
"""

from __future__ import annotations

import logging
from typing import Any

from cfn import polling, request_rule, stack_status
from cfn.polling import PollingResource
from contract import PROJECT_POLICY_TYPE
from outcome import Outcome, Resource

logger = logging.getLogger(__name__)

helper = PollingResource()

try:  # a failure here still answers every request (FAILED, with the error as the Reason)
    from resources import model_copy, project_policy
    from resources.copy_properties import owner_of
    from resources.errors import ResourceError

    RESOURCES: dict[str, Resource] = {
        model_copy.RESOURCE_TYPE: model_copy,
        project_policy.RESOURCE_TYPE: project_policy,
    }
except Exception as error:  # noqa: BLE001
    helper.init_failure(error)


def _rekognition() -> Any:
    """A Rekognition client whose retries and timeouts fit in the time this request has left."""
    return helper.client("rekognition")


def _request(resource: Resource, event: dict[str, Any]) -> dict[str, Any]:
    """A project policy's functions take the RequestId too (the mark of the request that puts it); a model
    copy's Update, a way to ask whether its stack is rolling back (asked only when it cannot tell; a
    delivery of a forward update that the stack rolls back, answered FAILED already, is told stale)."""
    if resource.RESOURCE_TYPE != PROJECT_POLICY_TYPE:
        if event.get("RequestType") != "Update":
            return {}
        return {
            "rolling_back": lambda: stack_status.rolling_back(
                lambda: helper.client("cloudformation"),
                str(event.get("StackId", "")),
                event,
                lambda seconds: polling.CLOCK.sleep(seconds),  # (the driver's clock in tests)
            ),
            "copy_refused": lambda: request_rule.RULES_QUOTA_REASON if helper.rules_quota_reached else "",
        }
    return {"request": str(event.get("RequestId", ""))}


def _resource(event: dict[str, Any]) -> Resource:
    resource = RESOURCES.get(str(event.get("ResourceType")))
    if resource is None:
        raise ResourceError(
            f"This function serves {', '.join(sorted(RESOURCES))}, not {event.get('ResourceType')!r}."
        )
    return resource


@helper.create
def create(event: dict[str, Any], context: Any) -> str:
    resource = _resource(event)
    props = event["ResourceProperties"]
    extra = _request(resource, event)
    return helper.finish(
        helper.patiently(
            lambda: resource.create(_rekognition(), props, owner_of(event), **extra),
            may_start_work=_may_start_work(resource, event),
        )
    )


@helper.update
def update(event: dict[str, Any], context: Any) -> str:
    resource = _resource(event)
    extra = _request(resource, event)
    return helper.finish(
        helper.patiently(
            lambda: resource.update(
                _rekognition(),
                event["ResourceProperties"],
                event.get("OldResourceProperties") or {},
                event["PhysicalResourceId"],
                owner_of(event),
                **extra,
            ),
            may_start_work=_may_start_work(resource, event),
        )
    )


def _may_start_work(resource: Resource, event: dict[str, Any]) -> bool:
    """Whether a Create or an Update may start something that outlasts its first invocation: a new copy.
    A project policy's outcome is complete at once; a copy's Update made in place starts no copy."""
    if resource.RESOURCE_TYPE == PROJECT_POLICY_TYPE:
        return False
    if event["RequestType"] == "Create":
        return True
    return not model_copy.makes_no_copy(event["ResourceProperties"], str(event["PhysicalResourceId"]))


@helper.delete
def delete(event: dict[str, Any], context: Any) -> str:
    if event.get("ResourceType") not in RESOURCES:
        logger.warning("Delete of an unknown resource type %s: nothing to do", event.get("ResourceType"))
        return helper.finish(Outcome(event["PhysicalResourceId"], complete=True))
    resource = _resource(event)
    return helper.finish(
        helper.patiently(
            lambda: resource.delete(
                _rekognition(), event["ResourceProperties"], event["PhysicalResourceId"], owner_of(event)
            )
        )
    )


# Only model copies poll; every project-policy outcome is complete at once.
def _poll(event: dict[str, Any], context: Any) -> str:
    data = event["CrHelperData"]
    physical_id = str(event.get("PhysicalResourceId") or data.get("PhysicalResourceId", ""))
    return helper.finish(model_copy.advance(_rekognition(), data, physical_id, helper.deadline()))


helper.poll_create(_poll)
helper.poll_update(_poll)
helper.poll_delete(_poll)
if "model_copy" in globals():  # what a model copy's request leaves for later (a copy still in progress)
    helper.cleanup(model_copy.RESOURCE_TYPE)(model_copy.cleanup)


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler."""
    helper(event, context)
