"""Whether the request's stack is rolling back an update, and whether the request was answered already:
CloudFormation's own answers.

A custom resource's request does not say whether it is part of a rollback: the rollback of an Update is
one more Update, with the previous properties as ``ResourceProperties`` and the rejected ones as
``OldResourceProperties`` (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html),
exactly the shape of a forward update back to those properties. Where a resource must tell the two apart,
it asks DescribeStacks for the stack's status (``UPDATE_ROLLBACK_IN_PROGRESS`` while CloudFormation rolls
back an update: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html). It asks
only then, and a status it cannot read (no permission, no endpoint in a VPC, throttling after retries)
counts as no rollback: the resource then takes the answer that is safe for a forward update. A stack whose
operation is over (a status ending in ``_COMPLETE`` or ``_FAILED``) waits for no Update's answer, nor does
one in a cleanup phase (``*_CLEANUP_IN_PROGRESS``: CloudFormation only deletes the resources it replaced
then), nor one whose operation sends no Update (a stack create, delete, or the rollback of a create:
CloudFormation sends Updates only while it updates a stack or rolls an update back): an Update read then is
a late delivery of one answered already (Lambda delivers at least once), and it raises
:class:`StaleRequest`, so that it answers nothing.

Every Create and Update of a copy also asks the events of its stack's operation in progress before its work
(:func:`answered`, from ``polling.PollingResource.patiently``; DescribeStackEvents, newest first, back to
the stack's own event that began the operation). They tell two things:

- A request answered FAILED already, delivered again where no claim tells the deliveries apart (at
  EventBridge's rules quota the first delivery had no rule to claim the request with; a second one may find
  room and copy, or run while the stack rolls the update back and take itself for the rollback): a FAILED
  answer carries the request's mark (:func:`request_mark`) at the end of its Reason, and CloudFormation
  records that Reason in the resource's ``CREATE_FAILED`` or ``UPDATE_FAILED`` event. CloudFormation does
  not document how a custom resource's Reason appears in its event (``ResourceStatusReason`` is only
  "success/failure message associated with the resource",
  https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackEvent.html); what users see is
  "Received response status [FAILED] from custom resource. Message returned: <Reason> (RequestId: <id>)".
  The mark is the request's own, so the check holds whether the Reason is wrapped so or recorded as it is
  (the emulator's ``custom_resource_event_reason``).
- A request of an earlier operation, delivered again in a later one, whatever it answered: CloudFormation
  records a resource's ``*_IN_PROGRESS`` event before it sends a request and its ``*_COMPLETE`` or
  ``*_FAILED`` event as it takes the answer, so a resource that waits for this request has the
  ``*_IN_PROGRESS`` of the request's kind as its newest event (:func:`_awaits`). Where the events show each
  request's properties (``ResourceProperties``: "BLOB of the properties used to create the resource", for
  which events and in which form not documented; the emulator's ``stack_event_properties``), they tell a
  request from another one the resource waits for. The events are read again after 5 and 20 s before a
  resource is taken to wait for none (CloudFormation does not document how soon DescribeStackEvents shows
  an event). Left unknown where the events show no properties: a late request that runs while its resource
  waits for the next operation's own request of the same kind.

Events it cannot read (no permission, throttling after retries) leave the answer as before; an endpoint it
cannot reach (a VPC with no route to CloudFormation) is not asked again for 15 minutes in that execution
environment.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ConnectionError as BotoConnectionError

from cfn.request_rule import request_digest

logger = logging.getLogger(__name__)

ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"
STACK_TYPE = "AWS::CloudFormation::Stack"
OPERATION_STARTS = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "IMPORT_IN_PROGRESS", "DELETE_IN_PROGRESS")
ANSWERED_FAILED = ("CREATE_FAILED", "UPDATE_FAILED")
# The stack statuses in which CloudFormation sends a custom resource an Update: an update, and its rollback
UPDATE_PHASES = ("UPDATE_IN_PROGRESS", ROLLING_BACK)
# The pauses (seconds) after which the events are read again when they show the resource waiting for no
# answer to the request
RECHECK_SECONDS = (5.0, 20.0)
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
    request: Mapping[str, Any] | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> bool | str:
    """True when the stack ``stack_id`` is rolling back an update, False when it is not, and what went
    wrong (a sentence) when its status could not be read; ``cloudformation`` makes a client. Raises
    :class:`StaleRequest` when no Update can be waiting for an answer: the stack's operation is over, or it
    is one that sends no Update (a create, a delete, the rollback of a create), or its events show the
    Update ``request`` (the custom resource request) answered already (:func:`answered`, which ``pause`` is
    for)."""
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
    why = answered(cloudformation, request, pause) if status and request else ""
    if why:
        raise StaleRequest(f"The stack is {status}, and {why}")
    return status == ROLLING_BACK


def answered(
    cloudformation: Callable[[], Any], request: Mapping[str, Any], pause: Callable[[float], None] = time.sleep
) -> str:
    """Why the events of the stack's operation in progress show that the Create or Update ``request`` (the
    custom resource request) was answered already, or "" when they do not (or cannot be read: nothing is
    known): its own FAILED answer (its mark), or its resource waiting for no answer to it. CloudFormation
    records a resource's ``*_IN_PROGRESS`` event before it sends a request and its ``*_COMPLETE`` or
    ``*_FAILED`` event as it takes the answer, so a resource waiting for this request has as its newest
    event the ``*_IN_PROGRESS`` of its kind (:func:`_awaits`). Before a resource is taken to wait for none,
    the events are read again after each pause of :data:`RECHECK_SECONDS` (``pause`` waits): an event
    CloudFormation recorded just before it sent the request may not be shown at once."""
    stack_id = str(request.get("StackId", ""))
    logical_id, request_id = str(request.get("LogicalResourceId", "")), str(request.get("RequestId", ""))
    if not (logical_id and request_id):
        return ""
    events = operation_events(cloudformation, stack_id)
    if events is not None and _failed_with_mark(events, logical_id, request_id):
        return "this request was answered FAILED already (the stack's events)"
    for seconds in RECHECK_SECONDS:
        if events is None or _awaits(events, request):
            return ""
        pause(seconds)
        events = operation_events(cloudformation, stack_id)
    if events is None or _awaits(events, request):
        return ""
    return f"{logical_id} waits for no answer to it in the stack's operation (its events): it was answered"


def operation_events(cloudformation: Callable[[], Any], stack_id: str) -> list[dict[str, Any]] | None:
    """The events of the stack's operation in progress, newest first, or None when they cannot be read
    (nothing is known then). Events come newest first; the walk stops at the stack's own event that began
    the operation (its ``CREATE_IN_PROGRESS``, ``UPDATE_IN_PROGRESS``, ``IMPORT_IN_PROGRESS`` or
    ``DELETE_IN_PROGRESS``: the stack's events carry its name as logical id, its type and its id); the
    rollback of an update, continued or not, is part of the update's operation. The stack's own events in
    it are kept, marked ``Own``."""
    if time.monotonic() < _unreachable["until"]:
        return None  # CloudFormation's endpoint did not answer a while ago: not asked again yet
    stack_name = stack_id.split("/")[1] if stack_id.count("/") >= 2 else stack_id
    found: list[dict[str, Any]] = []
    try:
        pages = cloudformation().get_paginator("describe_stack_events").paginate(StackName=stack_id)
        for number, page in enumerate(pages):
            for event in page.get("StackEvents") or []:
                status = event.get("ResourceStatus")
                own = event.get("ResourceType") == STACK_TYPE and event.get("LogicalResourceId") == stack_name
                if own and event.get("PhysicalResourceId") == stack_id:
                    # (the stack's own event carries the stack's id: a nested stack of the stack's name, its
                    # own id or none yet)
                    if status in OPERATION_STARTS:
                        return found  # older events are other operations'
                    event = {**event, "Own": True}  # (a phase of the operation)
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


def _awaits(events: list[dict[str, Any]], request: Mapping[str, Any]) -> bool:
    """Whether the resource of ``request`` waits for the answer to it in the operation whose ``events``
    these are (newest first): its newest event is the ``*_IN_PROGRESS`` of the request's kind (an Update's
    ``UPDATE_IN_PROGRESS``; a Create's ``CREATE_IN_PROGRESS``, or ``UPDATE_IN_PROGRESS`` for a replacement,
    never in a rollback, which creates nothing). Where events show the properties of the request they
    record (``ResourceProperties``, not documented: the emulator's ``stack_event_properties``), that event
    shows the request's ``ResourceProperties`` (:func:`_alike`), and the request of a rollback has as its
    ``OldResourceProperties`` properties one of the resource's events of the operation shows: the update's
    own request's, or, for a continued rollback, those of the rollback that failed (asked only where the
    update itself changed the resource). Otherwise the resource waits for another request (a late delivery
    of an earlier operation's, with other properties)."""
    logical_id, kind = str(request.get("LogicalResourceId", "")), str(request.get("RequestType", ""))
    mine = [(index, e) for index, e in enumerate(events) if _of(e, logical_id)]
    kinds = ("UPDATE_IN_PROGRESS",) if kind == "Update" else ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")
    if not mine or mine[0][1].get("ResourceStatus") not in kinds:
        return False
    # The stack's own rollback events: the newest begins the phase in progress (a rollback may be continued
    # after it failed), the oldest ends the update's own phase.
    own = [i for i, e in enumerate(events) if e.get("Own") and "ROLLBACK" in str(e.get("ResourceStatus"))]
    in_rollback = bool(own) and mine[0][0] < own[0]
    if kind == "Create" and in_rollback:
        return False
    shown = _shown_properties(mine[0][1])
    if shown is not None and not _alike(shown, request.get("ResourceProperties")):
        return False
    old = request.get("OldResourceProperties")
    forward = [e for index, e in mine if own and index > own[-1]]
    if not in_rollback or old is None or not any(_shown_properties(e) is not None for e in forward):
        # (not a rollback's request; or the update did not change the resource, which a rollback may still
        # send back to the last stable state of an earlier update: RollbackStack after DisableRollback)
        return True
    seen = [p for p in (_shown_properties(e) for _, e in mine) if p is not None]
    return any(_alike(p, old) for p in seen)


def _shown_properties(event: dict[str, Any]) -> Any:
    """The properties an event shows (``ResourceProperties``, a JSON text), or None when it shows none."""
    try:
        shown = json.loads(str(event.get("ResourceProperties") or "null"))
    except ValueError:
        return None
    return shown if isinstance(shown, dict) else None


def _alike(shown: Any, sent: Any) -> bool:
    """Whether properties an event shows may be those a request carries. CloudFormation sends every scalar
    as a string ("true", "1"), while an event may show the template's own types (true, 1, 1.0): scalars are
    compared as text, numbers as numbers. The properties CloudFormation itself reads (``ServiceToken``,
    ``ServiceTimeout``) are left out, and a value the event masks (``****``: a NoEcho parameter, whole or
    in part) or leaves unresolved (a ``{{resolve:...}}`` dynamic reference) matches any value: a
    difference must be certain."""
    if isinstance(shown, dict) and isinstance(sent, dict):
        return _alike_values(_own(shown), _own(sent))
    return _alike_values(shown, sent)


def _own(properties: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in properties.items() if k not in ("ServiceToken", "ServiceTimeout")}


def _alike_values(shown: Any, sent: Any) -> bool:
    if isinstance(shown, str) and ("****" in shown or "{{resolve:" in shown):
        return True
    if isinstance(shown, dict) and isinstance(sent, dict):
        one_sided = [v for k, v in {**shown, **sent}.items() if (k in shown) != (k in sent)]
        if any(v not in ("", {}, [], None) for v in one_sided):
            return False  # (a value on one side only; an empty one may be left out of an event)
        return all(_alike_values(shown[k], sent[k]) for k in shown.keys() & sent.keys())
    if isinstance(shown, list) and isinstance(sent, list):
        pairs = zip(shown, sent, strict=False)
        return len(shown) == len(sent) and all(_alike_values(a, b) for a, b in pairs)
    if isinstance(shown, dict | list) or isinstance(sent, dict | list):
        return True  # (a form this does not know: not a certain difference)
    a, b = _scalar(shown), _scalar(sent)
    try:
        return a == b or float(a) == float(b)
    except ValueError:
        return False


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text.lower() if text.lower() in ("true", "false") else text
