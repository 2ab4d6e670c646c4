"""The read model's storage on SQLite or PostgreSQL, written exactly once per event with tracking."""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL

from projections import applications, credit, feed, licence, worklist
from projections.sql import Sql

# The schema's version is part of the read model's name: a new schema is built beside the old
# one from the events (a fresh name has no tracking position), never migrated in place.
NAME = "ReadModelV5"  # v5: the departments' feeds
# In this order: the feed reads the licence and the worklist as each event left them.
MODULES = (licence, worklist, credit, applications, feed)
TABLES = tuple(table for module in MODULES for table in module.TABLES)
INDEXES = ("permits_by_uscc", "tasks_by_department", *applications.INDEXES)
DDL = tuple(statement for module in MODULES for statement in module.DDL)
# What each event does to the read model: every module's handler for it, in this order.
HANDLERS: dict[type, list[Any]] = {}
for _module in MODULES:
    for _event, _handler in _module.HANDLERS.items():
        HANDLERS.setdefault(_event, []).append(_handler)


class ReadModel(TrackingRecorder, ABC):
    """All read-model tables and one tracking position, so a batch of events lands atomically."""

    @abstractmethod
    def _sql(self, cursor: Any) -> Sql: ...

    @abstractmethod
    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]: ...

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        with self._transaction(commit=False) as cursor:
            yield self._sql(cursor)

    def close_readers(self) -> None:
        """Close connections opened for reading outside the library's pool (none by default)."""

    def process(
        self, events: Sequence[Any], positions: Sequence[int], tracking: Tracking, *, after: int
    ) -> None:
        """Apply events read after position `after` (each at its log position in
        `positions`) and move the position to `tracking.notification_id`, in one transaction. The position moves only if it is
        still `after` (compare and set, done first so it also takes the write lock); else
        IntegrityError, nothing is written, and the caller reads the position again.
        This is what makes several projectors on one read model exactly-once: a bare
        "newer than recorded" check would let a projector that started from an older
        position apply events a rival has already applied."""
        with self._transaction(commit=True) as cursor:
            sql = self._sql(cursor)
            self._advance(sql, tracking, after=after)
            self._apply(sql, events, positions)

    @staticmethod
    def _apply(sql: Sql, events: Iterable[Any], positions: Iterable[int | None]) -> None:
        for event, position in zip(events, positions, strict=True):
            sql.position = position
            for handler in HANDLERS.get(type(event), ()):
                handler(sql, event)
        sql.position = None

    @staticmethod
    def _advance(sql: Sql, tracking: Tracking, *, after: int) -> None:
        params = {"name": tracking.application_name, "to": tracking.notification_id, "after": after}
        if after:
            moved = sql.execute(
                "UPDATE {tracking} SET notification_id = :to"
                " WHERE application_name = :name AND notification_id = :after",
                params,
            )
        else:
            moved = sql.execute(
                "INSERT INTO {tracking} (application_name, notification_id) VALUES (:name, :to)"
                " ON CONFLICT (application_name) DO NOTHING",
                params,
            )
        if moved != 1:
            msg = f"position of {tracking.application_name} is no longer {after}"
            raise IntegrityError(msg)

    def rebuild(
        self, application_name: str, batches: Iterator[tuple[Sequence[Any], Sequence[int]]]
    ) -> int:
        """Empty every table and replay from the first event, all in one transaction:
        readers keep seeing the old view until the new one is complete. Each batch is its
        events and their log positions."""
        count = 0
        position = 0
        with self._transaction(commit=True) as cursor:
            sql = self._sql(cursor)
            sql.execute(
                "DELETE FROM {tracking} WHERE application_name = :name", {"name": application_name}
            )
            for table in TABLES:
                sql.execute(f"DELETE FROM {{{table}}}")
            for events, positions in batches:
                self._apply(sql, events, positions)
                count += len(events)
                position = positions[-1] if positions else position
            if position:
                self._advance(sql, Tracking(application_name, position), after=0)
        return count

    def licence(self, uscc: str) -> dict[str, Any] | None:
        with self.reading() as sql:
            return licence.get_licence(sql, uscc)

    def usccs(self) -> list[str]:
        """Every licence's USCC, in order."""
        with self.reading() as sql:
            return [row["uscc"] for row in sql.all("SELECT uscc FROM {licences} ORDER BY uscc")]

    def tasks(self, department: str, **filters: Any) -> list[dict[str, Any]]:
        with self.reading() as sql:
            return worklist.list_tasks(sql, department, **filters)

    def usccs_with_validity_before(self, day: str) -> list[str]:
        """Businesses holding a permit whose validity ended before `day` (candidates only:
        the aggregate decides)."""
        with self.reading() as sql:
            rows = sql.all(
                "SELECT DISTINCT uscc FROM {permits} WHERE valid_until IS NOT NULL"
                " AND valid_until < :day AND status = 'valid' ORDER BY uscc",
                {"day": day},
            )
        return [row["uscc"] for row in rows]

    # The daily jobs' index (licensing.jobs.Index): candidates only, the aggregates decide.

    def received_on_or_before(self, day: str) -> list[str]:
        with self.reading() as sql:
            return applications.received_on_or_before(sql, day)

    def with_material_overdue(self, day: str) -> list[str]:
        with self.reading() as sql:
            return applications.with_material_overdue(sql, day)

    def deemable_before(self, day: str) -> list[str]:
        with self.reading() as sql:
            return worklist.deemable_before(sql, day)

    def listed_on_or_before(self, list_code: str, day: str) -> list[tuple[str, str]]:
        with self.reading() as sql:
            return credit.listed_on_or_before(sql, list_code, day)

    def feed(
        self, department: str, *, after: str | None, since: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """A department's feed entries after a cursor (`projections.feed.entries`)."""
        with self.reading() as sql:
            return feed.entries(sql, department, after=after, since=since, limit=limit)

    def verifications(self, department: str) -> list[dict[str, Any]]:
        with self.reading() as sql:
            return licence.verifications(sql, department)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, in a stable order (for comparing a rebuild with the live view)."""
        with self.reading() as sql:
            return {t: sql.all(f"SELECT * FROM {{{t}}} ORDER BY 1, 2") for t in TABLES}


class SQLiteReadModel(SQLiteTrackingRecorder, ReadModel):
    """The read model in its own SQLite file (the library fixes the tracking table's name).

    Reads share one connection, one at a time, instead of the library's pool. A read is
    a fraction of a millisecond of work, but sqlite3 releases and retakes the GIL at every
    step, so many threads reading at once queue on the GIL: measured, 32 threads read
    about 6x fewer licences per second than the same threads taking turns. WAL mode lets
    this reader run beside the one writer."""

    names = {name: name for name in TABLES + INDEXES} | {"tracking": "tracking"}

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        with self._reader_lock:
            if self._reader is None:
                self._reader = sqlite3.connect(
                    self.datastore.pool.db_name, isolation_level=None, check_same_thread=False
                )
                self._reader.row_factory = sqlite3.Row
            cursor = self._reader.cursor()
            cursor.execute("BEGIN")  # one snapshot for the licence and its permits
            try:
                yield self._sql(cursor)
            finally:
                cursor.execute("ROLLBACK")
                cursor.close()

    def close_readers(self) -> None:
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *(s.format(**self.names) for s in DDL),
        ]

    def _sql(self, cursor: Any) -> Sql:
        return Sql(cursor, tables=self.names, pyformat=False)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            # The library wraps sqlite3's cursor; we need its rowcount for compare-and-set.
            yield cursor.sqlite_cursor


class PostgresReadModel(PostgresTrackingRecorder, ReadModel):
    """The read model as `<name>_*` tables beside the library's `<name>_tracking`."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        prefix = self.tracking_table_name.removesuffix("_tracking")
        schema = self.datastore.schema
        self.names = {t: f'"{schema}"."{prefix}_{t}"' for t in TABLES}
        self.names |= {i: f'"{prefix}_{i}"' for i in INDEXES}
        self.names["tracking"] = f'"{schema}"."{self.tracking_table_name}"'
        for name in (*TABLES, *INDEXES):
            self.check_identifier_length(f"{prefix}_{name}")
        # The library's list is typed for composed statements; plain SQL runs the same.
        self.sql_create_statements.extend(SQL(s.format(**self.names)) for s in DDL)  # type: ignore[misc]

    def _sql(self, cursor: Any) -> Sql:
        return Sql(cursor, tables=self.names, pyformat=True)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor


@contextmanager
def replayed(events: Iterable[Any]) -> Iterator[Sql]:
    """A throwaway read model in memory, `events` applied by the live one's handlers: read
    it with the live view's queries to see the past exactly as the live view showed it."""
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    try:
        cursor = connection.cursor()
        for statement in DDL:
            cursor.execute(statement.format(**SQLiteReadModel.names))
        sql = Sql(cursor, tables=SQLiteReadModel.names, pyformat=False)
        events = list(events)
        ReadModel._apply(sql, events, [None] * len(events))
        yield sql
    finally:
        connection.close()


__all__ = ["PostgresReadModel", "ReadModel", "SQLiteDatastore", "SQLiteReadModel", "replayed"]
