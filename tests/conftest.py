"""The fixtures of every layer (see tests/README.md).

- `settings` / `runtime`: one store on the embedded SQLite file and on PostgreSQL (the HTTP
  stories, the kill and restart stories, anything about one real backend).
- `service`: the service layer's stories, on the memory store (the library's POPO recorder)
  and on both real backends: the actors' commands called directly (`tests/service.py`).
- `server` / `token`: the real API on a real socket, for the HTTP wiring and contract."""

from __future__ import annotations

import inspect
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest

from domain.actor import Actor
from licensing import logs
from licensing.catalogue import Catalogue
from licensing.runtime import Runtime
from licensing.settings import Settings
from licensing.signing import mint_access_token
from tests.pg import PG, drop_schema, postgres_settings
from tests.service import Service

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
        # Off here; tests/test_public_limits.py turns it on where it is the subject.
        "public_rate_limit": "off",
        "cipher_key": CIPHER_KEY,
    }
    if backend in ("sqlite", "memory"):
        yield Settings(store=backend, **common)
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


@pytest.fixture(autouse=True)
def _log_set_up_ends_with_the_test() -> Iterator[None]:
    """A test that runs the CLI sets up the process's log; the next test starts without it."""
    yield
    logs.reset()


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from _settings(request.param, tmp_path)


@pytest.fixture
def catalogue() -> Catalogue | None:
    """The catalogue a `service` runs on: the shipped one unless a module overrides this."""
    return None


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def service(
    request: pytest.FixtureRequest, tmp_path: Path, catalogue: Catalogue | None
) -> Iterator[Service]:
    """A runtime (no projector thread: `Service` catches the read model up after each act) on
    the memory store and on both real backends, for the service layer's stories."""
    for settings in _settings(request.param, tmp_path):
        rt = Runtime(settings, catalogue=catalogue)
        try:
            yield Service(rt)
        finally:
            rt.close()


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

    # As `licensing serve`: X-Forwarded-For is the app's to read (LICENSING_TRUSTED_PROXIES).
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=0, log_level="warning", proxy_headers=False
    )
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


# The layers of the pyramid (tests/README.md), as markers: `-m service` runs one layer. Each
# test is marked by what it uses, so that a new test lands in its layer without a decorator.
_WHOLE_PROCESSES = {"test_cli", "test_kill"}  # modules that start and kill real processes
_CONTRACT = {"test_openapi", "test_api_edges"}  # modules about the published contract
_OVER_HTTP = ("create_app(", "TestClient(", "ASGITransport(", "serve(", "httpx.Client(")
_ONE_STORE = {"settings", "runtime", "pg_settings"}


def _layer(item: pytest.Function) -> str:
    module = item.module.__name__.rsplit(".", 1)[-1]
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        source = ""
    names = set(item.fixturenames)
    if module in _WHOLE_PROCESSES or "subprocess" in source:
        return "system"
    if "service" in names:
        return "service"
    if "server" in names or module in _CONTRACT or any(call in source for call in _OVER_HTTP):
        return "http"
    if names & _ONE_STORE:
        return "backend"
    return "domain"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, pytest.Function):
            item.add_marker(_layer(item))
