"""How the event store and the read model are stored: a SQLite file by default, PostgreSQL by choice."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.actor import Actor
from licensing.settings import Settings
from projections.readmodel import NAME as READ_MODEL


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    """The `eventsourcing` library's environment for our application and read model."""
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # SQLite table names are fixed, so the write and read sides need a file each.
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "LICENSING_SQLITE_DBNAME": str(settings.data_dir / "events.db"),
            f"{READ_MODEL.upper()}_SQLITE_DBNAME": str(
                settings.data_dir / f"{READ_MODEL.lower()}.db"
            ),
            "SQLITE_LOCK_TIMEOUT": "10",
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
    }


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
