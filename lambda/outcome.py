"""What a resource function reports, independent of crhelper: the physical id, the Data, done or not."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol


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
