"""Keeps the read model current: pulls new events from the log and projects them, exactly once,
and stops loudly at an event it cannot project; rebuilds the read model beside the live one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from projections.errors import Poison, PositionMoved, describe, is_transient, refresh_pool
from projections.freshness import Lag, Stuck
from projections.readmodel import ReadModel
from projections.skips import ProjectionSkips, recorded_skips

log = logging.getLogger(__name__)

# A rebuild's own tracking name, beside the live one's (the application's name).
REBUILD = ":rebuild"
# How many events after the projected position are looked at to date the lag.
_LAG_LOOKAHEAD = 10
# How often a rebuild tries to switch in while readers keep the live tables busy.
_SWITCH_ATTEMPTS = 20


class Projector:
    """Pulls the application's notification log into a read model.

    The same pull loop serves both backends: SQLite has no subscription in the
    `eventsourcing` 9.5 line, and PostgreSQL commits notification ids in order (the
    library's table lock), so a reader that tails by id never skips one. Several
    projectors on one read model are safe: the tracking record refuses a position
    twice, and the loser re-reads where the winner got to.

    An event that cannot be projected is a bug, not a reason to stop everything silently
    or to retry it once a second: everything before it is projected, the projector stops
    AT it (`stuck`, logged at ERROR, recorded for other processes to see), and looks
    again every `recheck` seconds for a skip an operator recorded. A database error that
    may pass (a lost connection, a serialization failure) is not the event's fault: it is
    retried with a growing backoff, and said so.
    """

    def __init__(
        self,
        app: Application[Any],
        view: ReadModel,
        *,
        batch_size: int = 500,
        idle_wait: float = 0.25,
        recheck: float = 5.0,
        max_backoff: float = 30.0,
    ) -> None:
        self.app = app
        self.view = view
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.recheck = recheck
        self.max_backoff = max_backoff
        self._wake = threading.Event()
        self._recheck = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = False
        self._skips: set[int] | None = None
        self._first_seen: tuple[int, float] | None = None
        self.stuck: Stuck | None = None
        self.error: BaseException | None = None  # the database error being retried, if any
        # Moves whenever this projector commits a batch, switches a rebuild in, or finds the
        # position moved by someone else: what this process has read from the read model
        # before it moved may be out of date (the public answers' cache keys on it).
        self.generation = 0
        self._observed = -1

    @property
    def name(self) -> str:
        """The live read model's tracking name."""
        return str(self.app.name)

    @property
    def rebuild_name(self) -> str:
        return self.name + REBUILD

    @property
    def position(self) -> int:
        return self.view.position(self.name)

    @property
    def running(self) -> bool:
        """Whether this process keeps the read model current."""
        return self._running

    def skipped(self, *, refresh: bool = False) -> set[int]:
        """The positions an operator recorded a skip for (read from the log when asked to)."""
        if self._skips is None or refresh:
            self._skips = set(recorded_skips(self.app))
        return self._skips

    def _after(self, position: int, limit: int | None = None) -> Sequence[Notification]:
        return self.app.recorder.select_notifications(
            start=position, limit=limit or self.batch_size, inclusive_of_start=False
        )

    def _project(
        self, notifications: Sequence[Notification], *, name: str, after: int, shadow: bool
    ) -> int:
        """Project notifications read after position `after`, in one transaction; returns how
        many events were applied. Raises PositionMoved (a rival was first), Poison (after
        projecting every event before it), or a transient database error."""
        skipped = self.skipped()
        batch: list[tuple[Notification, Any]] = []  # (notification, event or None if skipped)
        poison: Poison | None = None
        for notification in notifications:
            if notification.id in skipped:
                batch.append((notification, None))
                continue
            try:
                event = self.app.mapper.to_domain_event(notification)
            except Exception as error:  # decoding is pure: whatever it raises, it always will
                poison = Poison(notification, error)
                break
            if isinstance(event, ProjectionSkips.Skipped):
                skipped.add(event.position)
            batch.append((notification, event))
        applied = 0
        if batch:
            events = [e for _, e in batch if e is not None]
            positions = [n.id for n, e in batch if e is not None]
            tracking = Tracking(name, batch[-1][0].id)
            try:
                self.view.process(events, positions, tracking, after=after, shadow=shadow)
                applied = len(events)
            except PositionMoved:
                raise
            except Exception as error:
                if is_transient(error):
                    raise
                applied = self._one_by_one(batch, name=name, after=after, shadow=shadow)
        if poison is not None:
            raise poison
        return applied

    def _one_by_one(
        self, batch: list[tuple[Notification, Any]], *, name: str, after: int, shadow: bool
    ) -> int:
        """The batch failed: find the event that did, by projecting one event per
        transaction; every event before it lands, and it raises Poison."""
        applied = 0
        for notification, event in batch:
            events = [] if event is None else [event]
            positions = [] if event is None else [notification.id]
            try:
                self.view.process(
                    events,
                    positions,
                    Tracking(name, notification.id),
                    after=after,
                    shadow=shadow,
                )
            except PositionMoved:
                raise
            except Exception as error:
                if is_transient(error):
                    raise
                raise Poison(notification, error) from error
            after = notification.id
            applied += len(events)
        return applied

    def catch_up(self) -> int:
        """Project everything not yet projected; returns how many events were applied.
        Raises Poison when it reaches an event it cannot project (and is then `stuck`)."""
        if self.stuck is not None:
            self.skipped(refresh=True)  # an operator may have recorded a skip meanwhile
        processed = 0
        while True:
            start = self.position
            if start != self._observed:  # moved by this projector, or by another one
                self._observed = start
                self.generation += 1
            notifications = self._after(start)
            if not notifications:
                self._unstick()
                return processed
            try:
                processed += self._project(notifications, name=self.name, after=start, shadow=False)
            except PositionMoved:
                continue  # another projector got there first; read its position again
            except Poison as poison:
                self._notify()  # what came before it did land
                self._stick(poison, self.name)
                raise
            self._unstick()
            self._notify()

    def _notify(self) -> None:
        self.generation += 1  # before anyone is told: a reader after this reads afresh
        with self._progress:
            self._progress.notify_all()

    def _stick(self, poison: Poison, name: str) -> Stuck:
        previous = self.stuck if name == self.name else None
        stuck = Stuck(
            position=poison.position,
            topic=poison.topic,
            originator_id=poison.originator_id,
            originator_version=poison.originator_version,
            error=describe(poison.error),
            since=(
                previous.since
                if previous is not None and previous.position == poison.position
                else datetime.now(UTC)
            ),
        )
        if stuck != previous:
            log.error(
                "projection %s STOPPED at position %d: topic %s, originator %s v%d: %s — "
                "everything before it is projected; nothing after it will be until the "
                "code is fixed or an operator records "
                "`licensing projections skip %d --reason ...`",
                name,
                stuck.position,
                stuck.topic,
                stuck.originator_id,
                stuck.originator_version,
                stuck.error,
                stuck.position,
                exc_info=poison.error,
            )
        if name == self.name:
            self.stuck = stuck
        if stuck == previous:
            return stuck  # recorded at the first stop; each re-check need not write it again
        try:
            self.view.record_stuck(name, stuck)
        except Exception:  # the log above said it; other processes see the lag grow
            log.exception("could not record where projection %s stopped", name)
        return stuck

    def _unstick(self) -> None:
        if self.stuck is None:
            return
        log.warning("projection %s moved on past position %d", self.name, self.stuck.position)
        self.stuck = None
        self.view.clear_stuck(self.name)

    # Rebuilding beside the live read model.

    def rebuild(
        self,
        *,
        afresh: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Build the read model again from the first event, in shadow tables beside the live
        one (readers keep seeing the live view), a batch per transaction under its own
        tracking position (a second run after an interruption continues where the first got
        to; `afresh` starts over), then swap it in for the live one in one transaction once
        caught up. `progress(done, total)` is called after every batch. Returns how many
        events this run applied; raises Poison at an event it cannot project."""
        name = self.rebuild_name
        position = self.view.start_rebuild(name, afresh=afresh)
        if position:
            log.info("resuming the rebuild at position %d", position)
        self.skipped(refresh=True)
        done = 0
        switch_attempts = 0
        total = self._count_after(position)
        while True:
            notifications = self._after(position)
            if notifications:
                try:
                    done += self._project(notifications, name=name, after=position, shadow=True)
                except PositionMoved:
                    pass  # another rebuild is running too: go on from where it got to
                except Poison as poison:
                    self._stick(poison, name)
                    raise
                position = self.view.position(name)
                if progress is not None:
                    progress(done, max(total, done))
                continue
            tail: list[Any] = []
            try:
                reached = self.view.switch(self.name, name, partial(self._tail, applied=tail))
            except Poison:
                position = self.view.position(name)  # the batches find it, and stop at it
                continue
            except Exception as error:
                if not is_transient(error) or switch_attempts >= _SWITCH_ATTEMPTS:
                    raise
                switch_attempts += 1  # readers held the live tables: let them finish, again
                log.warning("switching the rebuilt tables in: %s; again", describe(error))
                time.sleep(min(0.05 * 2**switch_attempts, 2.0))
                position = self.view.position(name)
                continue
            if reached is None:
                log.warning("another rebuild switched its tables in first")
                return done
            done += len(tail)
            if progress is not None:
                progress(done, done)
            self.view.clear_stuck(name)
            log.info("rebuilt read model switched in at position %d", reached)
            self._notify()
            return done

    def _tail(self, position: int, applied: list[Any]) -> tuple[list[Any], list[int], int]:
        """Every event after `position`, decoded and not skipped, with its position, for the
        switch to apply."""
        skipped = self.skipped()
        positions: list[int] = []
        while notifications := self._after(position):
            for notification in notifications:
                if notification.id not in skipped:
                    try:
                        applied.append(self.app.mapper.to_domain_event(notification))
                    except Exception as error:
                        raise Poison(notification, error) from error
                    positions.append(notification.id)
                position = notification.id
        return applied, positions, position

    def abandon_rebuild(self) -> None:
        self.view.abandon_rebuild(self.rebuild_name)
        self.view.clear_stuck(self.rebuild_name)

    def _count_after(self, position: int) -> int:
        """How many events the log holds after `position` (for a rebuild's progress)."""
        recorder = self.app.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    f'SELECT count(*) AS n FROM "{recorder.datastore.schema}".'
                    f'"{recorder.events_table_name}" WHERE notification_id > %s',
                    (position,),
                )
                row = cursor.fetchone()
                return int(row["n"]) if row else 0
        if isinstance(recorder, SQLiteApplicationRecorder):
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    f"SELECT count(*) FROM {recorder.events_table_name} WHERE rowid > ?",
                    (position,),
                )
                return int(cursor.fetchone()[0])
        return max(0, (recorder.max_notification_id() or 0) - position)

    # How far behind.

    def measure(self) -> Lag:
        """The read model against the log now: a few small queries (see `Freshness`)."""
        position = self.position
        head = self.app.recorder.max_notification_id() or 0
        stuck = self.stuck or self.view.stuck(self.name)
        seconds = 0.0
        if head > position:
            ahead = self._after(position, limit=_LAG_LOOKAHEAD)
            first_dated = False
            for n, notification in enumerate(ahead):
                try:
                    event: Any = self.app.mapper.to_domain_event(notification)
                    recorded: datetime = event.timestamp
                except Exception:  # noqa: S112 — an undecodable one is dated below
                    continue
                seconds = (datetime.now(UTC) - recorded).total_seconds()
                first_dated = n == 0
                break
            if ahead and not first_dated:
                # The first unprojected event cannot be dated (it does not decode): it is at
                # least as old as a later one, and as old as this process has seen it waiting.
                seconds = max(seconds, self._waiting_since(ahead[0].id))
        return Lag(
            position=position,
            head=head,
            events=max(0, head - position),
            seconds=max(0.0, seconds),
            stuck=stuck,
            in_process=self.running,
            measured_at=time.monotonic(),
        )

    def _waiting_since(self, position: int) -> float:
        now = time.monotonic()
        if self._first_seen is None or self._first_seen[0] != position:
            self._first_seen = (position, now)
        return now - self._first_seen[1]

    # Running.

    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    def recheck_now(self) -> None:
        """Look again at once (a skip was recorded), instead of at the next periodic re-check."""
        self._recheck.set()
        self._wake.set()

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until the read model has projected `position`; False on timeout, or at once
        when this process's projector is stuck before it."""
        deadline = time.monotonic() + timeout
        while self.position < position:
            if self.stuck is not None and self.stuck.position <= position:
                return False
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
        self._running = True
        backoff = 0.0
        try:
            while not self._stopping.is_set():
                try:
                    self.catch_up()
                    self.error = None
                    backoff = 0.0
                except Poison:
                    # Stopped at it; quiet until the re-check or a recorded skip says look again.
                    self._recheck.wait(self.recheck)
                    self._recheck.clear()
                    continue
                except Exception as error:
                    self.error = error
                    backoff = min(max(backoff * 2, 0.1), self.max_backoff)
                    if is_transient(error):
                        log.warning(
                            "projection paused by a database error, not by an event (%s): "
                            "retrying in %.1f s",
                            describe(error),
                            backoff,
                        )
                        self._refresh_connections()
                    else:
                        log.exception(
                            "projection failed outside any event; retrying in %.1f s", backoff
                        )
                    self._stopping.wait(backoff)
                    continue
                self._wake.wait(self.idle_wait)
                self._wake.clear()
        finally:
            self._running = False

    def _refresh_connections(self) -> None:
        for datastore in (self.view.datastore, getattr(self.app.recorder, "datastore", None)):
            try:
                refresh_pool(datastore)
            except Exception:
                log.debug("connections not refreshed yet", exc_info=True)

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self.run, name="projector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._recheck.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


__all__ = ["REBUILD", "Projector"]
