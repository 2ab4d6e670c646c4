"""Keeps the read model current: pulls new events from the log and projects them, exactly once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Tracking

from projections.readmodel import ReadModel

log = logging.getLogger(__name__)


class Projector:
    """Pulls the application's notification log into a read model.

    The same pull loop serves both backends: SQLite has no subscription in the
    `eventsourcing` 9.5 line, and PostgreSQL commits notification ids in order (the
    library's table lock), so a reader that tails by id never skips one. Several
    projectors on one read model are safe: the tracking record refuses a position
    twice, and the loser re-reads where the winner got to.
    """

    def __init__(
        self,
        app: Application[Any],
        view: ReadModel,
        *,
        batch_size: int = 500,
        idle_wait: float = 0.25,
    ) -> None:
        self.app = app
        self.view = view
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def position(self) -> int:
        return self.view.max_tracking_id(self.app.name) or 0

    def _batches(self, start: int) -> Iterator[tuple[Sequence[Any], Sequence[int]]]:
        """The events after `start`, a batch at a time, each with its log position."""
        while True:
            notifications = self.app.recorder.select_notifications(
                start=start, limit=self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                return
            events = [self.app.mapper.to_domain_event(n) for n in notifications]
            start = notifications[-1].id
            yield events, [n.id for n in notifications]

    def catch_up(self) -> int:
        """Project everything not yet projected; returns how many events were processed."""
        processed = 0
        while True:
            start = self.position
            batch = next(self._batches(start), None)
            if batch is None:
                return processed
            events, positions = batch
            tracking = Tracking(self.app.name, positions[-1])
            try:
                self.view.process(events, positions, tracking, after=start)
            except IntegrityError:
                continue  # another projector got there first; read its position again
            processed += len(events)
            with self._progress:
                self._progress.notify_all()

    def rebuild(self) -> int:
        """Replay the whole log into an emptied read model, in one transaction."""
        count = self.view.rebuild(self.app.name, self._batches(0))
        with self._progress:
            self._progress.notify_all()
        return count

    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until the read model has projected `position`; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.position < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._thread is not None and self._thread.is_alive():
                with self._progress:
                    self._progress.wait(min(remaining, 0.05))
            else:  # projected by another process: poll its progress
                time.sleep(min(remaining, 0.01))
        return True

    def run(self) -> None:
        """The loop of a projector thread or worker process, until stop()."""
        while not self._stopping.is_set():
            try:
                self.catch_up()
                self.error = None
            except Exception as error:  # keep serving; say so loudly, retry shortly
                self.error = error
                log.exception("projection failed; retrying")
                self._stopping.wait(1.0)
            self._wake.wait(self.idle_wait)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="projector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
