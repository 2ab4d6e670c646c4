"""Locks that let several processes start at once on one store and one data folder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as FileLockTimeout

from licensing.settings import Settings

# Long enough for a slow first start (tables, keys) on a busy machine; short enough that a
# process stuck behind a dead one says so instead of hanging.
TIMEOUT_SECONDS = 120
LOCK_FILE = ".init.lock"


class InitialisationTimeout(RuntimeError):
    """Another process held the store or the data folder for too long."""


@contextmanager
def initialisation(settings: Settings, *, timeout: float = TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the store and the data folder while tables are created and keys generated and
    published: every process that starts at once takes its turn, and each one after the
    first finds the tables and the keys in place.

    Always in this order (store, then folder), so that two processes never wait on each
    other. PostgreSQL's own lock covers processes with separate data folders (other hosts);
    the file lock covers processes sharing one, and a SQLite store, which lives in it."""
    with _postgres_lock(settings, timeout), _folder_lock(settings.data_dir, timeout):
        yield


@contextmanager
def _folder_lock(data_dir: Path, timeout: float) -> Iterator[None]:
    # The data folder holds private keys and personal data: its owner's only.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    lock = FileLock(data_dir / LOCK_FILE, timeout=timeout, mode=0o600)
    try:
        lock.acquire()
    except FileLockTimeout:
        msg = (
            f"another process has held the data folder {data_dir} for {timeout:.0f} s"
            f" (lock file {LOCK_FILE}); is a `licensing` process stuck?"
        )
        raise InitialisationTimeout(msg) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _postgres_lock(settings: Settings, timeout: float) -> Iterator[None]:
    """A session advisory lock per schema, on a connection of its own. Two processes running
    CREATE TABLE IF NOT EXISTS (or CREATE SCHEMA, or CREATE TYPE) at once can both see the
    name free and the second fails on a catalogue index (`pg_type_typname_nsp_index`): IF
    NOT EXISTS is not a lock. The schema is created here, under the lock, for that reason."""
    if settings.store != "postgres":
        yield
        return
    import psycopg

    with psycopg.connect(
        host=settings.postgres_host,
        port=settings.postgres_port,
        dbname=settings.postgres_dbname,
        user=settings.postgres_user,
        password=settings.postgres_password,
        autocommit=True,
        connect_timeout=int(timeout),
    ) as conn:
        # lock_timeout bounds the wait for an advisory lock as for any other lock.
        conn.execute(f"SET lock_timeout = '{int(timeout)}s'")
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (advisory_key(settings.postgres_schema),))
        except psycopg.errors.LockNotAvailable:
            msg = (
                f"another process has been initialising schema {settings.postgres_schema!r}"
                f" for {timeout:.0f} s"
            )
            raise InitialisationTimeout(msg) from None
        conn.execute("SET lock_timeout = 0")
        if settings.postgres_schema != "public":
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.postgres_schema}"')
        try:
            yield
        finally:
            # Closing the session would release it too; unlocking says so explicitly.
            conn.execute("SELECT pg_advisory_unlock(%s)", (advisory_key(settings.postgres_schema),))


def advisory_key(schema: str) -> int:
    """A stable 64-bit advisory lock key for one schema's initialisation."""
    digest = hashlib.sha256(f"zhengzhaotong:init:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
