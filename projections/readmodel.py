"""The read model's storage on SQLite or PostgreSQL, written exactly once per event with tracking."""

from __future__ import annotations

import logging
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL

from projections import applications, credit, feed, licence, worklist
from projections.errors import PositionMoved, describe, is_transient, refresh_pool
from projections.freshness import Stuck
from projections.sql import Sql

T = TypeVar("T")
log = logging.getLogger(__name__)

# The schema's version is part of the read model's name: a new schema is built beside the old
# one from the events (a fresh name has no tracking position), never migrated in place.
# v4: the daily jobs' index (applications, promised materials, deemed); v5: tasks' claimants;
# v6: the licence's void prints (void_below), for reprints; v7: the departments' feeds;
# v8: each application's district and instant of receipt, for the window's list.
NAME = "ReadModelV8"
# In this order: the feed reads the licence and the worklist as each event left them.
MODULES = (licence, worklist, credit, applications, feed)
TABLES = tuple(table for module in MODULES for table in module.TABLES)
INDEXES = ("permits_by_uscc", "tasks_by_department", *applications.INDEXES)
DDL = tuple(statement for module in MODULES for statement in module.DDL)
# A rebuild creates the tables beside the live ones and the indexes after the swap (SQLite
# cannot rename an index), so the two kinds of statement are kept apart.
TABLE_DDL = tuple(s for s in DDL if not s.startswith("CREATE INDEX"))
INDEX_DDL = tuple(s for s in DDL if s.startswith("CREATE INDEX"))
# Where a projector stopped, per tracking name: operational state beside the tracking
# position (not a view, never rebuilt), so that another process (the API, `projections
# status`) can tell that a worker is stuck, at what and why.
STUCK_DDL = (
    "CREATE TABLE IF NOT EXISTS {stuck} ("
    " application_name TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL,"
    " topic TEXT NOT NULL,"
    " originator_id TEXT NOT NULL,"
    " originator_version BIGINT NOT NULL,"
    " error TEXT NOT NULL,"
    " since TEXT NOT NULL)"
)
# The shadow tables a rebuild fills have the live names with this in front.
SHADOW = "rebuild_"
# What each event does to the read model: every module's handler for it, in this order.
HANDLERS: dict[type, list[Any]] = {}
for _module in MODULES:
    for _event, _handler in _module.HANDLERS.items():
        HANDLERS.setdefault(_event, []).append(_handler)


class ReadModel(TrackingRecorder, ABC):
    """All read-model tables and one tracking position, so a batch of events lands atomically.

    `names` maps each table (and index, and the tracking table) to its name in the database;
    `shadow_names` does the same for the tables a rebuild fills beside the live ones."""

    names: Mapping[str, str]
    shadow_names: Mapping[str, str]
    datastore: Any  # the library's, of either backend

    @abstractmethod
    def _sql(self, cursor: Any, names: Mapping[str, str] | None = None) -> Sql: ...

    @abstractmethod
    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]: ...

    @abstractmethod
    def _swap(self, sql: Sql) -> None:
        """Drop the live tables and put the shadow ones, and their indexes, in their place."""

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        with self._transaction(commit=False) as cursor:
            yield self._sql(cursor)

    def close_readers(self) -> None:
        """Close connections opened for reading outside the library's pool (none by default)."""

    def refresh_readers(self) -> None:
        """Let the next read have a live connection (after the database dropped them)."""
        refresh_pool(self.datastore)

    def read(self, query: Callable[[Sql], T]) -> T:
        """Run a query in one read transaction. A dropped connection (the database restarted)
        fails the first attempt: it is tried once more on a fresh connection, instead of
        failing once per dead pooled connection. Only reads are retried like this: running
        one again changes nothing."""
        try:
            with self.reading() as sql:
                return query(sql)
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning(
                "read-model read failed (%s); once more, on a fresh connection", describe(error)
            )
            self.refresh_readers()
            with self.reading() as sql:
                return query(sql)

    def position(self, application_name: str) -> int:
        """The last position projected under that tracking name (0 if none)."""
        return self.tracked(application_name) or 0

    def tracked(self, application_name: str) -> int | None:
        """The position recorded under that tracking name, or None if there is no record."""
        row = self.read(
            lambda sql: sql.one(
                "SELECT notification_id FROM {tracking} WHERE application_name = :name",
                {"name": application_name},
            )
        )
        return int(row["notification_id"]) if row else None

    def process(
        self,
        events: Sequence[Any],
        positions: Sequence[int],
        tracking: Tracking,
        *,
        after: int,
        shadow: bool = False,
    ) -> None:
        """Apply events read after position `after` (each at its log position in
        `positions`) and move the position to `tracking.notification_id`, in one transaction. The position moves only if it is
        still `after` (compare and set, done first so it also takes the write lock); else
        PositionMoved (an IntegrityError), nothing is written, and the caller reads the
        position again. This is what makes several projectors on one read model exactly-once:
        a bare "newer than recorded" check would let a projector that started from an older
        position apply events a rival has already applied. With `shadow`, the events go to
        a rebuild's tables (its tracking name says which position moves)."""
        with self._transaction(commit=True) as cursor:
            self._advance(self._sql(cursor), tracking, after=after)
            sql = self._sql(cursor, self.shadow_names if shadow else None)
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
            raise PositionMoved(msg)

    def rebuild(
        self, application_name: str, batches: Iterator[tuple[Sequence[Any], Sequence[int]]]
    ) -> int:
        """Empty every table and replay `batches` (events, their positions), all in one
        transaction. For a read model nobody reads while it is built (the backup's check
        copy); the live one is rebuilt beside itself by `Projector.rebuild`."""
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

    # A rebuild: shadow tables filled in batches under their own tracking name (so a second
    # run continues where a killed one got to), then swapped for the live ones at once.

    def start_rebuild(self, rebuild_name: str, *, afresh: bool = False) -> int:
        """The position a rebuild under `rebuild_name` has reached; with none recorded (or
        `afresh`), empty shadow tables are made and 0 is returned."""
        with self._transaction(commit=True) as cursor:
            sql = self._sql(cursor)
            params = {"name": rebuild_name}
            row = sql.one(
                "SELECT notification_id FROM {tracking} WHERE application_name = :name", params
            )
            if row is not None and not afresh:
                return int(row["notification_id"])
            sql.execute("DELETE FROM {tracking} WHERE application_name = :name", params)
            shadow = self._sql(cursor, self.shadow_names)
            for table in TABLES:
                shadow.execute(f"DROP TABLE IF EXISTS {{{table}}}")
            for statement in (*TABLE_DDL, *INDEX_DDL):
                shadow.execute(statement)
        return 0

    def switch(
        self,
        application_name: str,
        rebuild_name: str,
        tail: Callable[[int], tuple[Sequence[Any], Sequence[int], int]],
    ) -> int | None:
        """Swap the rebuilt tables in for the live ones, in one transaction: take the live
        position's lock first (a live projector's next batch waits, and then goes on in the
        new tables), apply `tail(position)` — the events after the rebuild's position — to
        the shadow, move the live position to where the shadow got, and rename. Readers see
        the old tables until the commit and the new ones after it. Returns the position (None: no rebuild under way, another
        run switched first)."""
        with self._transaction(commit=True) as cursor:
            sql = self._sql(cursor)
            names = {"live": application_name, "rebuild": rebuild_name}
            # A write first: on SQLite it takes the file's write lock, on PostgreSQL the row's.
            sql.execute(
                "UPDATE {tracking} SET notification_id = notification_id"
                " WHERE application_name = :live",
                names,
            )
            row = sql.one(
                "SELECT notification_id FROM {tracking} WHERE application_name = :rebuild", names
            )
            if row is None:
                return None
            events, positions, reached = tail(int(row["notification_id"]))
            self._apply(self._sql(cursor, self.shadow_names), events, positions)
            position = max(reached, int(row["notification_id"]))
            sql.execute("DELETE FROM {tracking} WHERE application_name IN (:live, :rebuild)", names)
            if position:  # position 0 has no row: the first batch inserts it
                sql.execute(
                    "INSERT INTO {tracking} (application_name, notification_id)"
                    " VALUES (:live, :position)",
                    {**names, "position": position},
                )
            self._swap(sql)
        return position

    def abandon_rebuild(self, rebuild_name: str) -> None:
        """Forget a rebuild and drop its shadow tables."""
        with self._transaction(commit=True) as cursor:
            self._sql(cursor).execute(
                "DELETE FROM {tracking} WHERE application_name = :name", {"name": rebuild_name}
            )
            shadow = self._sql(cursor, self.shadow_names)
            for table in TABLES:
                shadow.execute(f"DROP TABLE IF EXISTS {{{table}}}")

    # Where a projector (or a rebuild) is stuck, for other processes to see.

    def record_stuck(self, application_name: str, stuck: Stuck) -> None:
        with self._transaction(commit=True) as cursor:
            sql = self._sql(cursor)
            params = {"name": application_name}
            sql.execute("DELETE FROM {stuck} WHERE application_name = :name", params)
            sql.execute(
                "INSERT INTO {stuck} VALUES (:name, :position, :topic, :originator_id,"
                " :originator_version, :error, :since)",
                {
                    **params,
                    "position": stuck.position,
                    "topic": stuck.topic,
                    "originator_id": stuck.originator_id,
                    "originator_version": stuck.originator_version,
                    "error": stuck.error,
                    "since": stuck.since.isoformat(),
                },
            )

    def clear_stuck(self, application_name: str) -> None:
        with self._transaction(commit=True) as cursor:
            self._sql(cursor).execute(
                "DELETE FROM {stuck} WHERE application_name = :name", {"name": application_name}
            )

    def stuck(self, application_name: str) -> Stuck | None:
        """Where a projector under that tracking name said it stopped, if it has not moved
        past it since (a record behind the position is stale: whoever recorded it died)."""

        def query(sql: Sql) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
            params = {"name": application_name}
            return (
                sql.one("SELECT * FROM {stuck} WHERE application_name = :name", params),
                sql.one(
                    "SELECT notification_id FROM {tracking} WHERE application_name = :name",
                    params,
                ),
            )

        row, tracked = self.read(query)
        if row is None or (tracked and int(tracked["notification_id"]) >= int(row["position"])):
            return None
        return Stuck(
            position=int(row["position"]),
            topic=row["topic"],
            originator_id=row["originator_id"],
            originator_version=int(row["originator_version"]),
            error=row["error"],
            since=datetime.fromisoformat(row["since"]),
        )

    # The queries the application and the API ask.

    def licence(self, uscc: str) -> dict[str, Any] | None:
        return self.read(lambda sql: licence.get_licence(sql, uscc))

    def usccs(self) -> list[str]:
        """Every licence's USCC, in order."""
        rows = self.read(lambda sql: sql.all("SELECT uscc FROM {licences} ORDER BY uscc"))
        return [row["uscc"] for row in rows]

    def tasks(self, department: str, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        """One page of a department's worklist and the number of tasks the filters match."""
        return self.read(lambda sql: worklist.list_tasks(sql, department, **filters))

    def applications(self, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        """One page of applications and the number the filters match
        (`projections.applications.list_applications`)."""
        return self.read(lambda sql: applications.list_applications(sql, **filters))

    def usccs_with_validity_before(self, day: str) -> list[str]:
        """Businesses holding a permit whose validity ended before `day` (candidates only:
        the aggregate decides)."""
        rows = self.read(
            lambda sql: sql.all(
                "SELECT DISTINCT uscc FROM {permits} WHERE valid_until IS NOT NULL"
                " AND valid_until < :day AND status = 'valid' ORDER BY uscc",
                {"day": day},
            )
        )
        return [row["uscc"] for row in rows]

    # The daily jobs' index (licensing.jobs.Index): candidates only, the aggregates decide.

    def received_on_or_before(self, day: str) -> list[str]:
        return self.read(lambda sql: applications.received_on_or_before(sql, day))

    def with_material_overdue(self, day: str) -> list[str]:
        return self.read(lambda sql: applications.with_material_overdue(sql, day))

    def deemable_before(self, day: str) -> list[str]:
        return self.read(lambda sql: worklist.deemable_before(sql, day))

    def listed_on_or_before(self, list_code: str, day: str) -> list[tuple[str, str]]:
        return self.read(lambda sql: credit.listed_on_or_before(sql, list_code, day))

    def feed(
        self, department: str, *, after: str | None, since: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """A department's feed entries after a cursor (`projections.feed.entries`)."""
        with self.reading() as sql:
            return feed.entries(sql, department, after=after, since=since, limit=limit)

    def verifications(self, department: str) -> list[dict[str, Any]]:
        return self.read(lambda sql: licence.verifications(sql, department))

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, in a stable order (for comparing a rebuild with the live view)."""
        return self.read(
            lambda sql: {t: sql.all(f"SELECT * FROM {{{t}}} ORDER BY 1, 2") for t in TABLES}
        )


def _shadowed(names: Mapping[str, str], shadow: Callable[[str], str]) -> dict[str, str]:
    """The shadow's names: every table and index renamed; the tracking and stuck tables shared."""
    return {
        key: (value if key in ("tracking", "stuck") else shadow(value))
        for key, value in names.items()
    }


class SQLiteReadModel(SQLiteTrackingRecorder, ReadModel):
    """The read model in its own SQLite file (the library fixes the tracking table's name).

    Reads share one connection, one at a time, instead of the library's pool. A read is
    a fraction of a millisecond of work, but sqlite3 releases and retakes the GIL at every
    step, so many threads reading at once queue on the GIL: measured, 32 threads read
    about 6x fewer licences per second than the same threads taking turns. WAL mode lets
    this reader run beside the one writer."""

    names = {name: name for name in TABLES + INDEXES} | {
        "tracking": "tracking",
        "stuck": "projection_stuck",
    }
    shadow_names = _shadowed(names, lambda name: SHADOW + name)

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
                try:
                    cursor.execute("ROLLBACK")
                    cursor.close()
                except sqlite3.Error:  # the connection broke: open another next time
                    self._reader.close()
                    self._reader = None

    def close_readers(self) -> None:
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def refresh_readers(self) -> None:
        self.close_readers()

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *(s.format(**self.names) for s in (*DDL, STUCK_DDL)),
        ]

    def _sql(self, cursor: Any, names: Mapping[str, str] | None = None) -> Sql:
        return Sql(cursor, tables=names or self.names, pyformat=False)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            # The library wraps sqlite3's cursor; we need its rowcount for compare-and-set.
            yield cursor.sqlite_cursor

    def _swap(self, sql: Sql) -> None:
        # SQLite cannot rename an index: the shadow's go, and the live names are created on
        # the renamed tables. Only writers wait for that; WAL readers keep their snapshot.
        for table in TABLES:
            sql.execute(f"DROP TABLE IF EXISTS {{{table}}}")
        for index in INDEXES:
            sql.execute(f"DROP INDEX IF EXISTS {self.shadow_names[index]}")
        for table in TABLES:
            sql.execute(f"ALTER TABLE {self.shadow_names[table]} RENAME TO {self.names[table]}")
        for statement in INDEX_DDL:
            sql.execute(statement)


class PostgresReadModel(PostgresTrackingRecorder, ReadModel):
    """The read model as `<name>_*` tables beside the library's `<name>_tracking`."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.prefix = self.tracking_table_name.removesuffix("_tracking")
        schema = self.datastore.schema
        names = {t: f'"{schema}"."{self.prefix}_{t}"' for t in TABLES}
        names |= {i: f'"{self.prefix}_{i}"' for i in INDEXES}
        names["tracking"] = f'"{schema}"."{self.tracking_table_name}"'
        names["stuck"] = f'"{schema}"."{self.prefix}_stuck"'
        self.names = names
        self.shadow_names = _shadowed(
            names, lambda name: name.replace(f'"{self.prefix}_', f'"{self.prefix}_{SHADOW}')
        )
        for name in (*TABLES, *INDEXES, "stuck"):
            # PostgreSQL would cut a longer name short, silently: a shadow pkey is the longest.
            self.check_identifier_length(f"{self.prefix}_{SHADOW}{name}_pkey")
        # The library's list is typed for composed statements; plain SQL runs the same.
        self.sql_create_statements.extend(
            SQL(s.format(**self.names))  # type: ignore[misc]
            for s in (*DDL, STUCK_DDL)
        )

    def _sql(self, cursor: Any, names: Mapping[str, str] | None = None) -> Sql:
        return Sql(cursor, tables=names or self.names, pyformat=True)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def _swap(self, sql: Sql) -> None:
        schema = self.datastore.schema
        tables = [self.names[t] for t in TABLES]
        # A reader holding one live table may be waiting for another the swap holds: rather
        # than wait into a deadlock (where the server might pick the reader as its victim),
        # the swap gives up first, well within deadlock_timeout, and is tried again.
        sql.execute("SET LOCAL lock_timeout = '300ms'")
        sql.execute("LOCK TABLE " + ", ".join(tables) + " IN ACCESS EXCLUSIVE MODE")
        for table in tables:
            sql.execute(f"DROP TABLE {table}")
        for table in TABLES:
            sql.execute(f'ALTER TABLE {self.shadow_names[table]} RENAME TO "{self.prefix}_{table}"')
        # Each index (the primary keys' too) takes the live name back, freed by the drop, so
        # that the next rebuild's shadow names are free again.
        shadow_prefix = f"{self.prefix}_{SHADOW}"
        indexes = sql.all(
            "SELECT indexname FROM pg_indexes WHERE schemaname = :schema"
            " AND tablename = ANY(:tables) AND indexname LIKE :like",
            {
                "schema": schema,
                "tables": [f"{self.prefix}_{t}" for t in TABLES],
                "like": shadow_prefix.replace("_", r"\_") + "%",
            },
        )
        for row in indexes:
            old = row["indexname"]
            new = f"{self.prefix}_{old.removeprefix(shadow_prefix)}"
            sql.execute(f'ALTER INDEX "{schema}"."{old}" RENAME TO "{new}"')


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
