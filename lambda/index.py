"""Lambda entry point for the project's custom resources: dispatch on ResourceType, always answer.

Only plumbing lives here: read the event, pick the resource module, hand its Outcome to crhelper. The work
is in plain functions (``model_copy``), the crhelper compensation in ``polling``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
import model_copy
from botocore.config import Config
from polling import Outcome, PollingResource

logger = logging.getLogger(__name__)

# botocore's standard retry mode retries throttling and internal errors with backoff; no hand-written loop.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 6}, connect_timeout=10, read_timeout=30)

helper = PollingResource(poll_properties=model_copy.poll_properties)


def _rekognition() -> Any:
    """A client per invocation: credentials and Region are the invocation's own."""
    return boto3.client("rekognition", region_name=os.environ.get("AWS_REGION"), config=RETRY_CONFIG)


def _check_type(event: dict[str, Any]) -> None:
    if event.get("ResourceType") != model_copy.RESOURCE_TYPE:
        raise model_copy.ResourceError(
            f"This function serves {model_copy.RESOURCE_TYPE}, not {event.get('ResourceType')!r}."
        )


@helper.create
def create(event: dict[str, Any], context: Any) -> str:
    _check_type(event)
    return helper.finish(model_copy.create(_rekognition(), event["ResourceProperties"]))


@helper.update
def update(event: dict[str, Any], context: Any) -> str:
    _check_type(event)
    return helper.finish(
        model_copy.update(
            _rekognition(),
            event["ResourceProperties"],
            event.get("OldResourceProperties", {}),
            event["PhysicalResourceId"],
        )
    )


@helper.delete
def delete(event: dict[str, Any], context: Any) -> str:
    if event.get("ResourceType") != model_copy.RESOURCE_TYPE:
        logger.warning("Delete of an unknown resource type %s: nothing to do", event.get("ResourceType"))
        return helper.finish(Outcome(event["PhysicalResourceId"], complete=True))
    return helper.finish(
        model_copy.delete(_rekognition(), event["ResourceProperties"], event["PhysicalResourceId"])
    )


@helper.poll_create
def poll_create(event: dict[str, Any], context: Any) -> str:
    helper.check_deadline()
    return helper.finish(
        model_copy.poll_copy(
            _rekognition(), event["PollProperties"], event["CrHelperData"]["PhysicalResourceId"]
        )
    )


@helper.poll_update
def poll_update(event: dict[str, Any], context: Any) -> str:
    client = _rekognition()
    new_arn = event["CrHelperData"]["PhysicalResourceId"]
    try:
        helper.check_deadline()
        return helper.finish(model_copy.poll_copy(client, event["PollProperties"], new_arn))
    except Exception:
        model_copy.abandon_copy(client, event["PollProperties"], new_arn)
        raise


@helper.poll_delete
def poll_delete(event: dict[str, Any], context: Any) -> str:
    helper.check_deadline()
    return helper.finish(
        model_copy.advance_delete(
            _rekognition(), event["PollProperties"]["DestinationProjectArn"], event["PhysicalResourceId"]
        )
    )


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler."""
    helper(event, context)
