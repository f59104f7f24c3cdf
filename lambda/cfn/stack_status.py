"""Whether the request's stack is rolling back an update: CloudFormation's own answer.

A custom resource's request does not say whether it is part of a rollback: the rollback of an Update is
one more Update, with the previous properties as ``ResourceProperties`` and the rejected ones as
``OldResourceProperties`` (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html),
exactly the shape of a forward update back to those properties. Where a resource must tell the two apart,
it asks DescribeStacks for the stack's status (``UPDATE_ROLLBACK_IN_PROGRESS`` while CloudFormation rolls
back an update: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html). It asks
only then,
and a status it cannot read (no permission, no endpoint in a VPC, throttling after retries) counts as
no rollback: the resource then takes the answer that is safe for a forward update. A stack whose
operation is over (a status ending in ``_COMPLETE`` or ``_FAILED``) waits for no Update's answer, nor does
one in a cleanup phase (``*_CLEANUP_IN_PROGRESS``: CloudFormation only deletes the resources it replaced
then): an Update read then is a late delivery of one answered already (Lambda delivers at least once), and
it raises :class:`StaleRequest`, so that it answers nothing.

So does a request answered FAILED already, delivered again (Lambda delivers at least once) where no
claim tells the deliveries apart: at EventBridge's rules quota the first delivery had no rule to claim the
request with, and a second one may find room (another rule went) and copy, or run while the stack rolls the
update back and take itself for the rollback (its request has the rollback's shape, the stack the
rollback's status). The stack's event history tells: a FAILED answer carries the request's mark
(:func:`request_mark`) at the end of its Reason, and CloudFormation records that Reason in the resource's
``CREATE_FAILED`` or ``UPDATE_FAILED`` event as soon as it receives it. :func:`answered_failed` reads the
events of the operation in progress (DescribeStackEvents, newest first, back to the stack's event that began
it); every Create and Update asks it before its work (``polling.PollingResource.patiently``), and so does
:func:`rolling_back` when the stack is rolling back. CloudFormation does not document how a custom
resource's Reason appears in its event (``ResourceStatusReason`` is only "success/failure message associated
with the resource", https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackEvent.html);
what users see is "Received response status [FAILED] from custom resource. Message returned: <Reason>
(RequestId: <id>)". The mark is the request's own, so the check holds whether the Reason is wrapped so or
recorded as it is (the emulator's ``custom_resource_event_reason``). Events it cannot read (no permission,
throttling after retries) leave the answer as before; an endpoint it cannot reach (a VPC with no route to
CloudFormation) is not asked again for 15 minutes in that execution environment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ConnectionError as BotoConnectionError

from cfn.request_rule import request_digest

logger = logging.getLogger(__name__)

ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"
STACK_TYPE = "AWS::CloudFormation::Stack"
OPERATION_STARTS = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "IMPORT_IN_PROGRESS")
ANSWERED_FAILED = ("CREATE_FAILED", "UPDATE_FAILED")
# After CloudFormation's endpoint could not be reached, the events are not asked again for this long in the
# execution environment (module state: each cold start imports the handler afresh).
UNREACHABLE_SECONDS = 900.0
_unreachable = {"until": 0.0}
# DescribeStackEvents pages read at most, looking for the update's start (a page is up to 1 MB of events)
EVENT_PAGES_MAX = 10


class StaleRequest(Exception):
    """The request's stack is not in an operation: nothing waits for its answer (``stale``)."""

    stale = True


def request_mark(request_id: str) -> str:
    """What ends every FAILED Reason: the request's mark (the digest its rule is named with)."""
    return f" [request {request_digest(request_id)}]"


def rolling_back(
    cloudformation: Callable[[], Any], stack_id: str, logical_id: str = "", request_id: str = ""
) -> bool | str:
    """True when the stack ``stack_id`` is rolling back an update, False when it is not, and what went
    wrong (a sentence) when its status could not be read; ``cloudformation`` makes a client. Raises
    :class:`StaleRequest` when the stack's operation is over, or when it rolls back an update whose events
    show the request ``request_id`` (of the resource ``logical_id``) answered FAILED."""
    try:
        stacks = cloudformation().describe_stacks(StackName=stack_id).get("Stacks") or []
    except Exception as error:  # noqa: BLE001 - not known: the caller takes the forward update's answer
        code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
        logger.warning("Could not read the status of stack %s: %s", stack_id, error)
        return f"cloudformation:DescribeStacks failed ({code})"
    status = str(stacks[0].get("StackStatus", "")) if stacks else ""
    logger.info("Stack %s is %s", stack_id, status or "not found")
    if status.endswith(("_COMPLETE", "_FAILED", "_CLEANUP_IN_PROGRESS")):
        raise StaleRequest(f"The stack is {status}: this request was answered already")
    answered = status == ROLLING_BACK and request_id
    if answered and answered_failed(cloudformation, stack_id, logical_id, request_id):
        raise StaleRequest(f"The stack is {status}, rolling back this request, answered FAILED already")
    return status == ROLLING_BACK


def answered_failed(
    cloudformation: Callable[[], Any], stack_id: str, logical_id: str, request_id: str
) -> bool:
    """Whether the events of the stack's operation in progress show ``request_id`` answered FAILED (False
    when they cannot be read: nothing is known). Events come newest first; the walk stops at the stack's
    own event that began the operation (its ``CREATE_IN_PROGRESS``, ``UPDATE_IN_PROGRESS`` or
    ``IMPORT_IN_PROGRESS``: the stack's events carry its name as logical id, its type and its id)."""
    if time.monotonic() < _unreachable["until"]:
        return False  # CloudFormation's endpoint did not answer a while ago: not asked again yet
    mark = request_mark(request_id).strip()
    wrapped = f"(RequestId: {request_id})"
    stack_name = stack_id.split("/")[1] if stack_id.count("/") >= 2 else stack_id
    try:
        pages = cloudformation().get_paginator("describe_stack_events").paginate(StackName=stack_id)
        for number, page in enumerate(pages):
            for event in page.get("StackEvents") or []:
                status = event.get("ResourceStatus")
                if event.get("ResourceType") == STACK_TYPE and event.get("LogicalResourceId") == stack_name:
                    if event.get("PhysicalResourceId") in (None, "", stack_id) and status in OPERATION_STARTS:
                        return False  # older events are other operations'
                    continue
                if event.get("LogicalResourceId") == logical_id and status in ANSWERED_FAILED:
                    reason = str(event.get("ResourceStatusReason") or "")
                    if mark in reason or wrapped in reason:
                        logger.warning("This request was answered FAILED already: %s", reason)
                        return True
            if number + 1 >= EVENT_PAGES_MAX:
                return False
    except Exception as error:  # noqa: BLE001 - not known: the request is taken as not answered
        logger.warning("Could not read the events of stack %s: %s", stack_id, error)
        if isinstance(error, BotoConnectionError):
            # (a function in a VPC with no route to CloudFormation: each try costs its connect timeouts)
            _unreachable["until"] = time.monotonic() + UNREACHABLE_SECONDS
    return False
