"""How far behind the log the read model is, measured now and then and asked for cheaply."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Stuck:
    """Where a projector stopped: the event it cannot project, and why."""

    position: int
    topic: str
    originator_id: str
    originator_version: int
    error: str
    since: datetime

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "since": self.since.isoformat()}


@dataclass(frozen=True)
class Lag:
    """The read model against the log, as measured once.

    `events` counts positions between the projected one and the head (PostgreSQL may leave a
    gap where a transaction rolled back, so it is an upper bound); `seconds` is how long ago
    the first event not yet projected was recorded (0 when there is none)."""

    position: int
    head: int
    events: int
    seconds: float
    stuck: Stuck | None
    in_process: bool
    measured_at: float  # time.monotonic() of the measurement

    def as_dict(self) -> dict[str, Any]:
        return {
            "projected": self.position,
            "head": self.head,
            "lag": {"events": self.events, "seconds": round(self.seconds, 3)},
            "stuck": self.stuck.as_dict() if self.stuck else None,
            "projector_in_process": self.in_process,
        }


class Freshness:
    """Answers "may the read model be trusted?" from a measurement at most `max_age` seconds
    old, so that a probe storm or every page view costs no database query: one caller
    measures, the others meanwhile take the last figures.

    `behind_by_more_than(n)` is what a reader asks before trusting the read model. While the
    read model was behind at the last measurement, the lag is counted on from it (the same
    unprojected event only grows older); when it was current, it is taken as current until
    the next measurement, so an answer is at most `max_age` seconds late."""

    def __init__(
        self,
        measure: Callable[[], Lag],
        *,
        max_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._measure = measure
        self.max_age = max_age
        self._clock = clock
        self._last: Lag | None = None
        self._lock = threading.Lock()

    def lag(self) -> Lag:
        """The last measurement, measured again if older than `max_age`."""
        last = self._last
        if last is not None and self._clock() - last.measured_at < self.max_age:
            return last
        with self._lock:  # one caller measures; the ones queued behind it reuse its figures
            last = self._last
            if last is None or self._clock() - last.measured_at >= self.max_age:
                last = self._last = self._measure()
            return last

    def seconds_behind(self) -> float:
        lag = self.lag()
        if lag.events == 0:
            return 0.0
        return lag.seconds + max(0.0, self._clock() - lag.measured_at)

    def stuck(self) -> Stuck | None:
        return self.lag().stuck

    def behind_by_more_than(self, seconds: float) -> bool:
        """True when stuck, or when the first unprojected event is older than `seconds`."""
        return self.stuck() is not None or self.seconds_behind() > seconds

    def known_behind_by_more_than(self, seconds: float) -> bool | None:
        """`behind_by_more_than` from the last measurement alone, or None when that is older
        than `max_age` (or there is none): never measures, so it may be asked on an event loop."""
        last = self._last
        if last is None or self._clock() - last.measured_at >= self.max_age:
            return None
        if last.stuck is not None:
            return True
        if last.events == 0:
            return False
        return last.seconds + max(0.0, self._clock() - last.measured_at) > seconds

    def invalidate(self) -> None:
        """Measure afresh at the next question (after this process changed the position)."""
        self._last = None
