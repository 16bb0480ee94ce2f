"""One clock for the engine and for SpiffWorkflow's timers, so tests move time instead of sleeping."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class Clock:
    """Real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        with self._lock:
            self._now += delta or timedelta(**kwargs)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


_current: Clock = Clock()


def now() -> datetime:
    return _current.now()


def use(clock: Clock) -> Clock:
    """Install `clock` for the engine and Spiff's timers; returns the previous one."""
    global _current
    previous, _current = _current, clock
    return previous


class _ClockedDatetime(datetime):
    """Spiff's timer module calls `datetime.now(timezone.utc)`; this routes it through our clock."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        moment = _current.now()
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


# The one deliberate patch of SpiffWorkflow: its timer module reads time only through this name.
vars(_spiff_timer)["datetime"] = _ClockedDatetime
