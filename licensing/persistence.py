"""How the event store and the read model are stored: a SQLite file by default, PostgreSQL by
choice, or (for the tests' service layer) the events in memory."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Transcoding
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.actor import Actor
from licensing.cipher import CipherKeys, resolve_keys
from licensing.settings import Settings


def eventsourcing_env(
    settings: Settings, *, read_model: str, cipher: CipherKeys | None = None
) -> dict[str, str]:
    """The `eventsourcing` library's environment for our application and for the read model
    named `read_model`, a name (with its schema version) that only the runtime knows; every
    event's state encrypted under `cipher` (by default the keys the settings name)."""
    keys = (cipher or resolve_keys(settings)).env()
    if settings.store == "memory":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # The events in this process's memory (the library's plain-Python recorder); the read
        # model keeps its SQLite file (its own setting, by the read model's name): the same
        # read-model code as the embedded default, the same WAL reader beside the projector.
        # A shared-cache ":memory:" database would lock tables between that reader and the
        # writer, which a file in WAL mode never does.
        prefix = read_model.upper()
        return {
            "PERSISTENCE_MODULE": "eventsourcing.popo",
            f"{prefix}_PERSISTENCE_MODULE": "eventsourcing.sqlite",
            f"{prefix}_SQLITE_DBNAME": str(settings.data_dir / f"{read_model.lower()}.db"),
            "SQLITE_LOCK_TIMEOUT": "10",
            **keys,
        }
    if settings.store == "sqlite":
        private_folder(settings.data_dir)
        events = settings.data_dir / "events.db"
        view = settings.data_dir / f"{read_model.lower()}.db"
        for path in (events, view):
            private_file(path)
        # SQLite table names are fixed, so the write and read sides need a file each.
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "LICENSING_SQLITE_DBNAME": str(events),
            f"{read_model.upper()}_SQLITE_DBNAME": str(view),
            "SQLITE_LOCK_TIMEOUT": "10",
            **keys,
        }
    # Never set POSTGRES_ENABLE_DB_FUNCTIONS: it drops tracking records and lets
    # notification ids become visible out of order, which breaks the projector.
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_HOST": settings.postgres_host,
        "POSTGRES_PORT": str(settings.postgres_port),
        "POSTGRES_DBNAME": settings.postgres_dbname,
        "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_PASSWORD": settings.postgres_password,
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.postgres_pool_size),
        **keys,
    }


def private_folder(path: Path) -> None:
    """The data folder: only its owner may list or enter it (0700), also when it existed."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def private_file(path: Path) -> None:
    """A SQLite file created 0600 before the library opens it (its -wal and -shm files take
    the same mode), and tightened to 0600 if an older version left it readable."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists():
            each.chmod(0o600)


@dataclass(frozen=True)
class StoredRow:
    """One stored event as the notification log holds it: position, id, version, topic and
    the state's bytes exactly as stored (JSON, unless a cipher or compressor is configured)."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


class StoreNotEmpty(Exception):
    """Rows were to be loaded into a store that already holds events."""


def load_rows(
    recorder: ApplicationRecorder, rows: Iterable[StoredRow], *, batch: int = 1000
) -> int:
    """Load rows into an empty store, each at its own position, in one transaction (all or
    nothing); returns how many. Positions are kept, not renumbered, so that anything that
    remembers one (a projection, a department's feed cursor) means the same event after a
    restore. StoreNotEmpty if the store holds any event."""
    if isinstance(recorder, PostgresApplicationRecorder):
        return _load_rows_postgres(recorder, rows, batch)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _load_rows_sqlite(recorder, rows, batch)
    msg = f"cannot load rows into a {type(recorder).__name__}"
    raise TypeError(msg)


def _load_rows_sqlite(
    recorder: SQLiteApplicationRecorder, rows: Iterable[StoredRow], batch: int
) -> int:
    table = recorder.events_table_name
    insert = (
        # The library's own table name, never input.
        f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, state)"  # noqa: S608
        " VALUES (?, ?, ?, ?, ?)"
    )
    count = 0
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608
        if cursor.fetchone() is not None:
            raise StoreNotEmpty(table)
        # The library keys SQLite rows by the id's 32 hex digits; the rowid is the position.
        for chunk in _batched(rows, batch):
            cursor.executemany(
                insert,
                [
                    (r.position, r.originator_id.hex, r.originator_version, r.topic, r.state)
                    for r in chunk
                ],
            )
            count += len(chunk)
    return count


def _load_rows_postgres(
    recorder: PostgresApplicationRecorder, rows: Iterable[StoredRow], batch: int
) -> int:
    from psycopg.sql import SQL, Identifier, Literal

    table = SQL("{}.{}").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    )
    insert = SQL(
        "INSERT INTO {} (notification_id, originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s, %s)"
    ).format(table)
    count = 0
    last = 0
    with recorder.datastore.transaction(commit=True) as cursor:
        # The library's own insert takes this lock too: nothing else writes meanwhile.
        cursor.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        cursor.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(table))
        if cursor.fetchone() is not None:
            raise StoreNotEmpty(recorder.events_table_name)
        for chunk in _batched(rows, batch):
            cursor.executemany(
                insert,
                [
                    (r.position, r.originator_id, r.originator_version, r.topic, r.state)
                    for r in chunk
                ],
            )
            count += len(chunk)
            last = max(last, chunk[-1].position)
        if last:
            # The sequence must continue after the last position loaded, not from 1.
            qualified = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
            cursor.execute(
                SQL("SELECT setval(pg_get_serial_sequence({}, 'notification_id'), %s)").format(
                    Literal(qualified)
                ),
                (last,),
            )
    return count


def _batched(rows: Iterable[StoredRow], size: int) -> Iterator[list[StoredRow]]:
    # itertools.batched arrives in Python 3.12.
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class DateAsISO(Transcoding):
    """`datetime.date` is not built into the library's JSON transcoder."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ActorAsDict(Transcoding):
    """The actor on every event."""

    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return asdict(obj)

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor(**data)
