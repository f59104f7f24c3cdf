"""The custom resource protocol: a request in flight, and the checks on its answers (exactly one
response per request, well-formed bodies, physical id rules, no polling rule left behind).

The driver collects what these checks find in ``CloudFormation.violations``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from .lambda_runtime import Function, Invocation


class Sender(Protocol):
    """The stack a request is about (only its name is read here)."""

    name: str


MAX_RESPONSE_BYTES = 4096
MAX_PHYSICAL_ID = 1024


@dataclass
class Request:
    """A custom resource request in flight.

    Times (simulated epoch seconds): ``sent`` when CloudFormation invoked the function (asynchronously);
    ``deadline`` = sent + ServiceTimeout, when CloudFormation gives up; ``answered`` when the response it
    took arrived; ``reached`` (property) when the request first reached the handler, after Lambda's queue
    and any cold start. Before ``send``, ``deadline`` counts from when the request was made.
    """

    stack: Any  # the Stack that sent it (a :class:`Sender`)
    logical_id: str
    event: dict[str, Any]
    function: Function
    deadline: float
    response: dict[str, Any] | None = None
    deliveries: int = 1  # Lambda's asynchronous invocation may deliver an event more than once
    service_timeout: float = 3600.0
    sent: float | None = None
    answered: float | None = None
    #: the cloud's record of invocations (a live list), for ``reached``
    invocations: list[Invocation] = field(default_factory=list)

    @property
    def reached(self) -> float | None:
        """When the handler was first called with this request (not counting polls)."""
        request_id = self.event["RequestId"]
        times = [i.started for i in self.invocations if i.request_id == request_id and not i.poll]
        return min(times, default=None)

    @property
    def where(self) -> str:
        """The logical id and RequestType, as violations name the request."""
        return f"{self.logical_id} {self.event['RequestType']}"

    def time_out(self) -> str:
        """CloudFormation gives up on the request at its ServiceTimeout (counted from when it was sent):
        a FAILED answer at the deadline. Returns the violation."""
        physical_id = self.event.get("PhysicalResourceId")
        if physical_id is None:
            # A Create never answered has no id; CloudFormation's rollback still sends a Delete. Its id is
            # not documented: a generated one (stack-logical-random), never an id the handler made, is the
            # stricter choice.
            physical_id = f"{self.stack.name}-{self.logical_id}-{uuid.uuid4().hex[:12].upper()}"
        self.response = {
            "Status": "FAILED",
            "Reason": (
                "CloudFormation did not receive a response from your Custom Resource within the "
                "ServiceTimeout; it may not have been created or deleted correctly."
            ),
            "PhysicalResourceId": physical_id,
        }
        self.answered = self.deadline
        return f"{self.where}: no response before ServiceTimeout"


def response_violations(request: Request, body: dict[str, Any], size: int) -> list[str]:
    """What is wrong with the response CloudFormation took (``size``: its length in bytes)."""
    event, where = request.event, request.where
    found: list[str] = []
    if size > MAX_RESPONSE_BYTES:
        found.append(f"{where}: response of {size} bytes, over {MAX_RESPONSE_BYTES}")
    if body.get("Status") not in ("SUCCESS", "FAILED"):
        found.append(f"{where}: Status {body.get('Status')!r}")
    if body.get("Status") == "FAILED" and not body.get("Reason"):
        found.append(f"{where}: FAILED without a Reason")
    physical_id = str(body.get("PhysicalResourceId") or "")
    if not physical_id or len(physical_id) > MAX_PHYSICAL_ID:
        found.append(f"{where}: PhysicalResourceId {physical_id!r} empty or too long")
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        if body.get(key) != event.get(key):
            found.append(f"{where}: {key} {body.get(key)!r} does not echo the request")
    if event["RequestType"] == "Delete" and physical_id != event.get("PhysicalResourceId"):
        found.append(f"{where}: Delete answered another PhysicalResourceId {physical_id!r}")
    if (
        event["RequestType"] == "Update"
        and body.get("Status") == "FAILED"
        and physical_id != event.get("PhysicalResourceId")
    ):
        # The driver keeps the held id; what CloudFormation does with another id in a FAILED Update is
        # not documented (reports say it may record it and Delete it later): answer the held id.
        found.append(f"{where}: FAILED Update answered another PhysicalResourceId {physical_id!r}")
    if "ResponseURL" in json.dumps(body.get("Data", {})) or "X-Amz-Signature" in json.dumps(body):
        found.append(f"{where}: the response leaks the ResponseURL")
    return found


def answer_violations(request: Request, bodies: list[dict[str, Any]], left: list[str]) -> list[str]:
    """What is wrong once the request is answered: more than one response (also when the event was
    delivered more than once: one answer per request), contradicting ones, polling rules ``left``."""
    found: list[str] = []
    if len(bodies) > 1:
        found.append(f"{request.where}: {len(bodies)} responses to one request")
    answers = {(b.get("Status"), b.get("PhysicalResourceId")) for b in bodies}
    if len(answers) > 1:
        found.append(f"{request.where}: contradicting responses {sorted(map(str, answers))}")
    if left:
        found.append(f"{request.where}: polling rule(s) left behind: {left}")
    return found
