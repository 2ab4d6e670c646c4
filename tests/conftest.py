"""One suite, two backends: every story runs on the embedded SQLite file and on PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest

from domain.actor import Actor
from licensing.runtime import Runtime
from licensing.settings import Settings
from licensing.signing import mint_access_token
from tests.pg import PG, drop_schema, postgres_settings

SECRET = "test-secret-" + "x" * 40
# As a deployment passes LICENSING_CIPHER_KEY: every process of a test (other hosts with data
# folders of their own included) reads the one store. tests/test_cipher.py covers the key
# made into the data folder when none is given.
CIPHER_KEY = "dGVzdC1jaXBoZXIta2V5LW9mLTMyLWJ5dGVzLi4uLi4="
BASE_URL = "https://zzt.test"


def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(**PG, connect_timeout=3):
            return None
    except Exception as error:
        return f"{type(error).__name__}: {error}".strip()


_PG_PROBLEM = _postgres_problem()


def _settings(backend: str, data_dir: Path) -> Iterator[Settings]:
    common = {
        "data_dir": data_dir,
        "auth_secret": SECRET,
        "base_url": BASE_URL,
        "issuer": "zzt-test",
        "cipher_key": CIPHER_KEY,
    }
    if backend == "sqlite":
        yield Settings(store="sqlite", **common)
        return
    if _PG_PROBLEM is not None:
        where = f"{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}"
        message = (
            f"PostgreSQL not reachable at {where} ({_PG_PROBLEM}); set LICENSING_TEST_POSTGRES_*"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL cases: {message}")
        pytest.skip(message)
    schema = f"t_{uuid4().hex[:16]}"
    yield postgres_settings(schema=schema, **common)
    drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from _settings(request.param, tmp_path)


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    """PostgreSQL only, for what only means something there (several hosts on one store)."""
    yield from _settings("postgres", tmp_path)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


@contextmanager
def serve(runtime: Runtime) -> Iterator[str]:
    """The real API around `runtime` on a real socket, so concurrent clients are really
    concurrent; yields its base URL."""
    import uvicorn

    from api.app import create_app

    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=0, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the API server did not start")
        time.sleep(0.01)
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    with serve(runtime) as url:
        yield url


@pytest.fixture
def token(runtime: Runtime) -> Callable[..., str]:
    """Bearer token for an actor: token("clerk"), token("department", "fire")."""

    def mint(role: str, department: str | None = None, *, sub: str | None = None) -> str:
        actor = Actor(
            id=sub or f"{role}-{department or 'x'}",
            role=role,
            department=department,
            district="chancheng" if role == "clerk" else None,
        )
        return mint_access_token(runtime.auth_secret, actor, issuer=runtime.settings.issuer)

    return mint


def auth(bearer: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer}"}
