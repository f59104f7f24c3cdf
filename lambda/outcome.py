"""The vocabulary the two rooms of the handler share: what a resource function is given and reports.

``resources/`` (the resources) and ``cfn/`` (the layer over crhelper) both import this module and
``contract``, never each other; ``index.py`` wires a :class:`Resource` of ``resources/`` to the layer. A
resource reports an :class:`Outcome` (the physical id, the Data, done or not), is told its time by a
:class:`Deadline`, and reads the request's ServiceTimeout with :func:`service_timeout`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# CloudFormation's ServiceTimeout of a custom resource: 1-3600 seconds, 3600 when the template sets none
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-customresource.html).
DEFAULT_SERVICE_TIMEOUT = 3600.0


def service_timeout(props: Mapping[str, Any]) -> float:
    """The template's ServiceTimeout (1-3600 s, CloudFormation's default 3600), from the properties."""
    try:
        value = float(str(props.get("ServiceTimeout") or DEFAULT_SERVICE_TIMEOUT))
    except ValueError:
        return DEFAULT_SERVICE_TIMEOUT
    return min(max(value, 1.0), DEFAULT_SERVICE_TIMEOUT)


@dataclass
class Outcome:
    """``complete=False`` hands over to polling; ``complete=True`` answers CloudFormation now.

    Data keys starting with ``_`` are private: carried to the polls of the same request, never returned
    to CloudFormation. ``cleanup``, on a complete outcome, is work left for later: the polling layer
    keeps the request's rule as a schedule that hands it to the resource's ``cleanup`` function until
    that says it is done (it is opaque to the layer).
    """

    physical_id: str
    data: dict[str, str] = field(default_factory=dict)
    complete: bool = False
    cleanup: dict[str, str] = field(default_factory=dict)


class Clock(Protocol):
    def now(self) -> float: ...


@dataclass
class Deadline:
    """When a request must be answered (``answer_by``, on ``clock``) and how long looking takes: a step's
    calls (``step``, their whole retry budget and the response) and the wait to the next look (``round``)."""

    answer_by: float
    clock: Clock
    step: float
    round: float

    def no_time_for_step(self) -> bool:
        """True when a step started now could end after ``answer_by``."""
        return self.clock.now() + self.step > self.answer_by

    def no_time_for_next_round(self) -> bool:
        """True when the next look would come too late to answer in time: answer now."""
        return self.clock.now() + self.round + self.step > self.answer_by


class _Never:
    def now(self) -> float:
        return 0.0


NO_DEADLINE = Deadline(math.inf, _Never(), 0.0, 0.0)


class Resource(Protocol):
    """What ``index.py`` dispatches a request's first invocation to: a module of ``resources/`` serving
    one ResourceType. ``client`` is a Rekognition client fitted to the time left; ``owner`` the owner
    marker of the resource the request is about. A resource whose outcomes may be incomplete also
    provides the polls (``model_copy.advance``, ``model_copy.cleanup``), wired in ``index.py``."""

    RESOURCE_TYPE: str

    def create(self, client: Any, props: Mapping[str, Any], owner: str) -> Outcome: ...

    def update(
        self,
        client: Any,
        props: Mapping[str, Any],
        old_props: Mapping[str, Any],
        physical_id: str,
        owner: str,
    ) -> Outcome: ...

    def delete(self, client: Any, props: Mapping[str, Any], physical_id: str, owner: str) -> Outcome: ...
