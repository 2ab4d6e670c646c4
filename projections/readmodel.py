"""The read model's storage on SQLite or PostgreSQL, written exactly once per event with tracking."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL

from projections import licence, worklist
from projections.sql import Sql

TABLES = licence.TABLES + worklist.TABLES
INDEXES = ("permits_by_uscc", "tasks_by_department")
DDL = licence.DDL + worklist.DDL
HANDLERS = {**licence.HANDLERS, **worklist.HANDLERS}


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

    def process(self, events: Sequence[Any], tracking: Tracking) -> None:
        """Apply events and advance the position in one transaction; a position already
        recorded raises IntegrityError and nothing is written (exactly once)."""
        with self._transaction(commit=True) as cursor:
            sql = self._sql(cursor)
            for event in events:
                handler = HANDLERS.get(type(event))
                if handler is not None:
                    handler(sql, event)
            self._insert_tracking(cursor, tracking)

    def rebuild(self, application_name: str, batches: Iterator[tuple[Sequence[Any], int]]) -> int:
        """Empty every table and replay from the first event, all in one transaction:
        readers keep seeing the old view until the new one is complete."""
        count = 0
        position = 0
        with self._transaction(commit=True) as cursor:
            sql = self._sql(cursor)
            for table in TABLES:
                sql.execute(f"DELETE FROM {{{table}}}")
            self._delete_tracking(sql, application_name)
            for events, position in batches:
                for event in events:
                    handler = HANDLERS.get(type(event))
                    if handler is not None:
                        handler(sql, event)
                count += len(events)
            if position:
                self._insert_tracking(cursor, Tracking(application_name, position))
        return count

    @abstractmethod
    def _delete_tracking(self, sql: Sql, application_name: str) -> None: ...

    def licence(self, uscc: str) -> dict[str, Any] | None:
        with self.reading() as sql:
            return licence.get_licence(sql, uscc)

    def tasks(self, department: str, **filters: Any) -> list[dict[str, Any]]:
        with self.reading() as sql:
            return worklist.list_tasks(sql, department, **filters)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, in a stable order (for comparing a rebuild with the live view)."""
        with self.reading() as sql:
            return {t: sql.all(f"SELECT * FROM {{{t}}} ORDER BY 1, 2") for t in TABLES}


class SQLiteReadModel(SQLiteTrackingRecorder, ReadModel):
    """The read model in its own SQLite file (the library fixes the tracking table's name)."""

    names = {name: name for name in TABLES + INDEXES}

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *(s.format(**self.names) for s in DDL)]

    def _sql(self, cursor: Any) -> Sql:
        return Sql(cursor, tables=self.names, pyformat=False)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def _delete_tracking(self, sql: Sql, application_name: str) -> None:
        sql.execute("DELETE FROM tracking WHERE application_name = :name", {"name": application_name})


class PostgresReadModel(PostgresTrackingRecorder, ReadModel):
    """The read model as `<name>_*` tables beside the library's `<name>_tracking`."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        prefix = self.tracking_table_name.removesuffix("_tracking")
        schema = self.datastore.schema
        self.names = {t: f'"{schema}"."{prefix}_{t}"' for t in TABLES}
        self.names |= {i: f'"{prefix}_{i}"' for i in INDEXES}
        for name in (*TABLES, *INDEXES):
            self.check_identifier_length(f"{prefix}_{name}")
        self.sql_create_statements.extend(SQL(s.format(**self.names)) for s in DDL)  # type: ignore[arg-type]

    def _sql(self, cursor: Any) -> Sql:
        return Sql(cursor, tables=self.names, pyformat=True)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def _delete_tracking(self, sql: Sql, application_name: str) -> None:
        table = f'"{self.datastore.schema}"."{self.tracking_table_name}"'
        sql.execute(f"DELETE FROM {table} WHERE application_name = :name", {"name": application_name})


__all__ = ["PostgresReadModel", "ReadModel", "SQLiteDatastore", "SQLiteReadModel"]
