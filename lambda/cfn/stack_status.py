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
then), nor one whose operation sends no Update (a stack create, delete, or the rollback of a create:
CloudFormation sends Updates only while it updates a stack or rolls an update back,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html): an
Update read then is a late delivery of one answered already (Lambda delivers at least once), and it raises
:class:`StaleRequest`, so that it answers nothing. In an update or its rollback, the stack's events tell
too: CloudFormation records a resource's ``UPDATE_IN_PROGRESS`` before it sends the request and its
``UPDATE_COMPLETE`` or ``UPDATE_FAILED`` once answered, so an Update whose resource's newest event in the
operation is no ``*_IN_PROGRESS`` (or which has none: the operation has not come to it yet) was sent in an
earlier operation and answered there. Its events are read twice, a few seconds apart, before it is taken
for stale (CloudFormation does not document how soon DescribeStackEvents shows an event). Left unknown: a
late Update that runs while its resource waits for the next operation's own Update; no part of the request
says which operation sent it.

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

import json
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
# The stack statuses in which CloudFormation sends a custom resource an Update: an update, and its rollback
UPDATE_PHASES = ("UPDATE_IN_PROGRESS", ROLLING_BACK)
# Seconds before the events are read a second time when they show the resource waiting for no answer
RECHECK_SECONDS = 5.0
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
    cloudformation: Callable[[], Any],
    stack_id: str,
    logical_id: str = "",
    request_id: str = "",
    pause: Callable[[float], None] = time.sleep,
    properties: Any = None,
    old_properties: Any = None,
) -> bool | str:
    """True when the stack ``stack_id`` is rolling back an update, False when it is not, and what went
    wrong (a sentence) when its status could not be read; ``cloudformation`` makes a client. Raises
    :class:`StaleRequest` when no Update of the resource ``logical_id`` can be waiting for an answer: the
    stack's operation is over, or it is one that sends no Update (a create, a delete, the rollback of a
    create), or its events (given ``request_id``) show that the resource waits for no answer or that this
    request was answered FAILED (see :func:`answered`, which ``pause`` and ``properties`` are for)."""
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
    if status and status not in UPDATE_PHASES:
        raise StaleRequest(f"The stack is {status}, which sends no Update: this request was answered already")
    why = answered(cloudformation, stack_id, logical_id, request_id, pause, properties, old_properties)
    why = why if status else ""
    if why:
        raise StaleRequest(f"The stack is {status}, and {why}")
    return status == ROLLING_BACK


def answered(
    cloudformation: Callable[[], Any],
    stack_id: str,
    logical_id: str,
    request_id: str,
    pause: Callable[[float], None] = time.sleep,
    properties: Any = None,
    old_properties: Any = None,
) -> str:
    """Why the stack's events show that the request ``request_id`` of the resource ``logical_id`` was
    answered already, or "" when they do not (or cannot be read: nothing is known): its own FAILED answer
    (its mark), or the resource waiting for no answer in the operation in progress, or for the answer to a
    request with other properties than ``properties`` and ``old_properties`` (the request's own). The events
    are read a second time after ``pause`` (:data:`RECHECK_SECONDS`) before a resource is taken to wait for
    none: an event CloudFormation recorded just before it sent the request may not be shown at once."""
    if not (logical_id and request_id):
        return ""
    events = operation_events(cloudformation, stack_id)
    if events is not None and _failed_with_mark(events, logical_id, request_id):
        return "this request was answered FAILED already (the stack's events)"
    if events is None or _awaits_answer(events, logical_id, properties, old_properties):
        return ""
    pause(RECHECK_SECONDS)
    events = operation_events(cloudformation, stack_id)
    if events is None or _awaits_answer(events, logical_id, properties, old_properties):
        return ""
    return f"{logical_id} waits for no answer to it in the stack's operation (its events): it was answered"


def answered_failed(
    cloudformation: Callable[[], Any], stack_id: str, logical_id: str, request_id: str
) -> bool:
    """Whether the events of the stack's operation in progress show ``request_id`` answered FAILED (False
    when they cannot be read: nothing is known)."""
    events = operation_events(cloudformation, stack_id)
    return events is not None and _failed_with_mark(events, logical_id, request_id)


def operation_events(cloudformation: Callable[[], Any], stack_id: str) -> list[dict[str, Any]] | None:
    """The events of the stack's operation in progress, newest first, or None when they cannot be read
    (nothing is known then). Events come newest first; the walk stops at the stack's own event that began
    the operation (its ``CREATE_IN_PROGRESS``, ``UPDATE_IN_PROGRESS`` or ``IMPORT_IN_PROGRESS``: the
    stack's events carry its name as logical id, its type and its id); the rollback of an update is part
    of the update's operation."""
    if time.monotonic() < _unreachable["until"]:
        return None  # CloudFormation's endpoint did not answer a while ago: not asked again yet
    stack_name = stack_id.split("/")[1] if stack_id.count("/") >= 2 else stack_id
    found: list[dict[str, Any]] = []
    try:
        pages = cloudformation().get_paginator("describe_stack_events").paginate(StackName=stack_id)
        for number, page in enumerate(pages):
            for event in page.get("StackEvents") or []:
                status = event.get("ResourceStatus")
                if event.get("ResourceType") == STACK_TYPE and event.get("LogicalResourceId") == stack_name:
                    if event.get("PhysicalResourceId") in (None, "", stack_id) and status in OPERATION_STARTS:
                        return found  # older events are other operations'
                    event = {**event, "Own": True}  # (the stack's own: a phase of the operation)
                found.append(event)
            if number + 1 >= EVENT_PAGES_MAX:
                return None  # the operation's start is further back than this reads: not known
    except Exception as error:  # noqa: BLE001 - not known: the request is taken as not answered
        logger.warning("Could not read the events of stack %s: %s", stack_id, error)
        if isinstance(error, BotoConnectionError):
            # (a function in a VPC with no route to CloudFormation: each try costs its connect timeouts)
            _unreachable["until"] = time.monotonic() + UNREACHABLE_SECONDS
        return None
    return found  # (the stack's first events: its operation began before they were kept)


def _failed_with_mark(events: list[dict[str, Any]], logical_id: str, request_id: str) -> bool:
    mark = request_mark(request_id).strip()
    wrapped = f"(RequestId: {request_id})"
    for event in events:
        if _of(event, logical_id) and event.get("ResourceStatus") in ANSWERED_FAILED:
            reason = str(event.get("ResourceStatusReason") or "")
            if mark in reason or wrapped in reason:
                logger.warning("This request was answered FAILED already: %s", reason)
                return True
    return False


def _of(event: dict[str, Any], logical_id: str) -> bool:
    """Whether ``event`` is the resource ``logical_id``'s (not the stack's own, whatever its name)."""
    return event.get("LogicalResourceId") == logical_id and not event.get("Own")


def _awaits_answer(
    events: list[dict[str, Any]], logical_id: str, properties: Any = None, old_properties: Any = None
) -> bool:
    """Whether the resource waits for the answer to a request with ``properties`` (and, in a rollback,
    ``old_properties``) in the operation: CloudFormation records its ``*_IN_PROGRESS`` event before it
    sends a request, and its ``*_COMPLETE`` or ``*_FAILED`` event once answered, so a resource waiting has
    an ``*_IN_PROGRESS`` event as its newest. Where that event shows the properties of the request it
    records (``ResourceProperties``) and they are not ``properties``, the resource waits for another
    request's answer. The rollback of an update sends the properties of the update's own request as
    ``OldResourceProperties``: where the resource's event of the update (before the stack's
    ``UPDATE_ROLLBACK_IN_PROGRESS``) shows other properties than ``old_properties``, the rollback's
    request is another one (of an earlier operation's rollback, with the same properties)."""
    mine = [(e, index) for index, e in enumerate(events) if _of(e, logical_id)]
    if not mine or not str(mine[0][0].get("ResourceStatus", "")).endswith("_IN_PROGRESS"):
        return False
    shown = _shown_properties(mine[0][0])
    if shown is not None and properties is not None and not _alike(shown, properties):
        return False
    rollback = next(
        (i for i, e in enumerate(events) if e.get("Own") and e.get("ResourceStatus") == ROLLING_BACK), None
    )
    if old_properties is None or rollback is None or mine[0][1] > rollback:
        return True  # (not a rollback's request: its newest event is older than the rollback's start)
    forward = next((e for e, index in mine if index > rollback and _shown_properties(e) is not None), None)
    return forward is None or _alike(_shown_properties(forward), old_properties)


def _shown_properties(event: dict[str, Any]) -> Any:
    """The properties an event shows (``ResourceProperties``, a JSON text), or None when it shows none."""
    try:
        shown = json.loads(str(event.get("ResourceProperties") or "null"))
    except ValueError:
        return None
    return shown if isinstance(shown, dict) else None


def _alike(shown: Any, sent: Any) -> bool:
    """Whether properties an event shows are those a request carries: CloudFormation sends every scalar as
    a string (true as "true"), while an event may show the template's own types; a value the event masks
    (a NoEcho parameter's ``****``) or leaves unresolved (a ``{{resolve:...}}`` dynamic reference) matches
    any value."""
    if isinstance(shown, str) and (set(shown) == {"*"} or "{{resolve:" in shown):
        return True
    if isinstance(shown, dict) and isinstance(sent, dict):
        return shown.keys() == sent.keys() and all(_alike(shown[k], sent[k]) for k in shown)
    if isinstance(shown, list) and isinstance(sent, list):
        return len(shown) == len(sent) and all(_alike(a, b) for a, b in zip(shown, sent, strict=True))
    return bool(_scalar(shown) == _scalar(sent))


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value
