"""Clocks for the emulator: one real, one simulated.

Every time-dependent behaviour of the emulator (asynchronous status transitions, timestamps in ARNs
and responses) reads the time from a single :class:`Clock`. Tests and the lifecycle driver install a
:class:`SimulatedClock` so that a three-minute copy takes no wall-clock time and runs are deterministic.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

#: Default start of a :class:`SimulatedClock`: 2024-01-01T00:00:00Z, so ARN timestamps have 13 digits.
DEFAULT_SIMULATED_START = 1_704_067_200.0


@runtime_checkable
class Clock(Protocol):
    """What the emulator needs from a clock."""

    def now(self) -> float:
        """Current time in epoch seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...


class RealClock:
    """The wall clock: ``time.time()`` and ``time.sleep()``."""

    def now(self) -> float:
        """Current wall-clock time in epoch seconds."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds`` (no-op when not positive)."""
        if seconds > 0:
            time.sleep(seconds)

    def __repr__(self) -> str:
        return "RealClock()"


class SimulatedClock:
    """A clock that only moves when told to; thread-safe.

    ``sleep`` advances the clock instead of blocking, so code that polls with ``clock.sleep(30)``
    sees the emulated world move forward by 30 s instantly.
    """

    def __init__(self, start: float = DEFAULT_SIMULATED_START) -> None:
        """Create a clock reading ``start`` epoch seconds."""
        self._lock = threading.Lock()
        self._now = float(start)

    def now(self) -> float:
        """Current simulated time in epoch seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (must not be negative); return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards: advance({seconds!r})")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds`` without blocking (negative values are ignored)."""
        if seconds > 0:
            self.advance(seconds)

    def set(self, epoch_seconds: float) -> None:
        """Set the clock to ``epoch_seconds`` (must not be earlier than the current time)."""
        with self._lock:
            if epoch_seconds < self._now:
                raise ValueError(f"a clock cannot go backwards: set({epoch_seconds!r}) < now ({self._now!r})")
            self._now = float(epoch_seconds)

    def __repr__(self) -> str:
        return f"SimulatedClock(start={self._now!r})"
