"""Where the test suite and the benches find PostgreSQL (LICENSING_TEST_POSTGRES_*)."""

from __future__ import annotations

import os
from typing import Any

from licensing.settings import Settings

PG: dict[str, Any] = {
    "host": os.environ.get("LICENSING_TEST_POSTGRES_HOST", "127.0.0.1"),
    "port": int(os.environ.get("LICENSING_TEST_POSTGRES_PORT", "5432")),
    "dbname": os.environ.get("LICENSING_TEST_POSTGRES_DBNAME", "test"),
    "user": os.environ.get("LICENSING_TEST_POSTGRES_USER", "postgres"),
    "password": os.environ.get("LICENSING_TEST_POSTGRES_PASSWORD", ""),
}


def postgres_settings(*, schema: str, **common: Any) -> Settings:
    """Settings for a throw-away schema on the test PostgreSQL."""
    return Settings(
        store="postgres",
        postgres_host=PG["host"],
        postgres_port=PG["port"],
        postgres_dbname=PG["dbname"],
        postgres_user=PG["user"],
        postgres_password=PG["password"],
        postgres_schema=schema,
        **common,
    )


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(**PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
