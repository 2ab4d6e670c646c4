"""What can go wrong while projecting: a database that will answer again, or an event that never will."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import InterfaceError as LibraryInterfaceError

# PostgreSQL error classes that say "try again": connection exception, transaction rollback
# (serialization failure, deadlock), insufficient resources, operator intervention (a
# restart or pg_terminate_backend), system error; and lock not available / object in use.
_TRANSIENT_PG_CLASSES = ("08", "40", "53", "57", "58")
_TRANSIENT_PG_STATES = ("55P03", "55006")
# SQLite's primary result codes that pass: busy, locked, I/O error, full, cannot open.
_TRANSIENT_SQLITE_CODES = (5, 6, 10, 13, 14)


class PositionMoved(IntegrityError):
    """The read model's position is no longer where a projector read from: a rival projector
    got there first, and the projector reads the position again. Not the event's fault."""


class Poison(Exception):
    """An event the read model cannot take: its topic does not resolve, its state does not
    decode, or a handler raised. A bug, never retried in a tight loop, never passed over
    without an operator's recorded skip."""

    def __init__(self, notification: Any, error: BaseException) -> None:
        self.position = int(notification.id)
        self.topic = str(notification.topic)
        self.originator_id = str(notification.originator_id)
        self.originator_version = int(notification.originator_version)
        self.error = error
        super().__init__(
            f"event at position {self.position} ({self.topic}, originator "
            f"{self.originator_id} v{self.originator_version}) cannot be projected: "
            f"{describe(error)}"
        )


def describe(error: BaseException) -> str:
    """One line naming the error and its message, for logs and the status."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_transient(error: BaseException) -> bool:
    """True for a database error that may pass if the same work is tried again later (a lost
    connection, a serialization failure, a locked file); False for anything that will fail the
    same way every time. The library wraps the driver's error: the driver's one decides."""
    for link in _chain(error):
        if isinstance(link, psycopg_pool.PoolTimeout):
            return True
        if isinstance(link, psycopg.Error):
            state = link.sqlstate
            if state is None:  # no answer from the server at all: the connection is gone
                return isinstance(link, psycopg.OperationalError | psycopg.InterfaceError)
            return state[:2] in _TRANSIENT_PG_CLASSES or state in _TRANSIENT_PG_STATES
        if isinstance(link, sqlite3.ProgrammingError) and "closed" in str(link):
            return True  # a connection closed under the reader: a new one will do
        if isinstance(link, sqlite3.Error):
            code = getattr(link, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in _TRANSIENT_SQLITE_CODES
            return "locked" in str(link) or "busy" in str(link)
    return isinstance(error, LibraryInterfaceError)


def refresh_pool(datastore: Any) -> None:
    """Replace the dead connections of a PostgreSQL pool (after a restart) in one go, so the
    next use gets a live one instead of failing once per dead pooled connection."""
    pool = getattr(datastore, "pool", None)
    if isinstance(pool, psycopg_pool.ConnectionPool):
        pool.check()
