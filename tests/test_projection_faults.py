"""Never silently wrong: an event the projector cannot project stops it there, loudly and
visibly, until an operator records a skip; a database that hiccups is not such an event."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from click.testing import CliRunner
from eventsourcing.utils import get_topic

from domain.permit import Permit
from domain.registration import BusinessRegistration
from domain.uscc import make_uscc
from licensing.cli import main
from licensing.runtime import Runtime
from licensing.settings import Settings
from projections.errors import Poison
from projections.projector import Projector
from projections.readmodel import NAME as READ_MODEL
from projections.skips import ProjectionSkips
from tests.conftest import auth
from tests.pg import PG
from tests.stories import submission, submit
from tests.test_cli import _env_of

FIRST = make_uscc("91440607MA4R3PF01")
LATER = make_uscc("91440607MA4R3PF02")


def insert_raw(runtime: Runtime, *, originator_id: UUID, topic: str, state: bytes) -> int:
    """Write one row straight into the store's events table, as a bug or a hand edit would,
    as the next version of `originator_id`; returns its position in the log."""
    version = len(runtime.app.recorder.select_events(originator_id)) + 1
    settings = runtime.settings
    if settings.store == "sqlite":
        with closing(sqlite3.connect(settings.data_dir / "events.db")) as conn:
            cursor = conn.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
                " VALUES (?, ?, ?, ?)",
                (originator_id.hex, version, topic, state),
            )
            conn.commit()
            assert cursor.lastrowid is not None
            return cursor.lastrowid
    import psycopg
    from psycopg import sql

    insert = sql.SQL(
        "INSERT INTO {}.licensing_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s) RETURNING notification_id"
    ).format(sql.Identifier(settings.postgres_schema))
    with psycopg.connect(**PG, autocommit=True) as conn:
        row = conn.execute(insert, (originator_id, version, topic, state)).fetchone()
        assert row is not None
        return int(row[0])


def poison_kinds(runtime: Runtime, uscc: str) -> dict[str, tuple[UUID, str, bytes]]:
    """Three events the read model cannot take, each on one of the business's aggregates:
    a topic that resolves to nothing, a state that is not JSON, and a registration whose
    handler fails (its USCC's licence row exists already)."""
    permit_id = Permit.create_id(uscc, "food_operation")
    applied = runtime.app.recorder.select_events(BusinessRegistration.create_id(uscc), limit=1)[0]
    return {
        "unknown topic": (permit_id, "domain.permit:Permit.Teleported", b"{}"),
        "malformed state": (permit_id, get_topic(Permit.Suspended), b'{"actor": '),
        "handler raises": (uuid4(), applied.topic, applied.state),
    }


def _until(condition: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


@pytest.mark.parametrize("kind", ["unknown topic", "malformed state", "handler raises"])
def test_a_poison_event_stops_projection_there_until_an_operator_skips_it(
    server: str,
    runtime: Runtime,
    token: Callable[..., str],
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime.projector.recheck = 0.2  # look for a recorded skip often, to keep the test short
    with httpx.Client(base_url=server, timeout=30) as client:
        submit(client, token("clerk"), submission(runtime, "open_restaurant", FIRST, "工人饭店"))
        before = runtime.projector.position
        originator, topic, state = poison_kinds(runtime, FIRST)[kind]
        with caplog.at_level(logging.ERROR, logger="projections.projector"):
            poison = insert_raw(runtime, originator_id=originator, topic=topic, state=state)
            # A business that applies after it: accepted, but not in the read model yet.
            submit(client, token("clerk"), submission(runtime, "open_restaurant", LATER, "后来"))
            stuck = _until(lambda: runtime.projector.stuck, "the projector to stop")
        assert (stuck.position, stuck.topic, stuck.originator_id) == (
            poison,
            topic,
            str(originator),
        )
        assert runtime.projector.position == poison - 1 == before  # everything before it
        assert client.get(f"/api/v1/licences/{FIRST}").status_code == 200
        assert runtime.view.licence(LATER) is None  # not in the read model …
        # … but its public answer comes from its own events meanwhile, and says so.
        later = _until(
            lambda: (r := client.get(f"/api/v1/licences/{LATER}")).status_code == 200 and r,
            "the later business answered from its events",
        )
        assert later.headers["x-read-model"].startswith("catching-up")
        if kind != "handler raises":  # the poison is FIRST's own event: it cannot be replayed
            first = client.get(f"/api/v1/licences/{FIRST}")
            assert first.headers["x-read-model"].startswith("behind")
        logged = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert logged and f"STOPPED at position {poison}" in logged[0].getMessage()
        assert topic in logged[0].getMessage()

        # Visible from outside: readiness, and the status an operator prints.
        ready = _until(
            lambda: (r := client.get("/readyz")).status_code == 503 and r.json()["stuck"] and r,
            "/readyz to say not ready",
        ).json()
        assert ready["status"] == "not ready" and ready["projector_in_process"] is True
        assert (ready["stuck"]["position"], ready["stuck"]["topic"]) == (poison, topic)
        assert ready["projected"] == poison - 1 and ready["lag"]["events"] >= 2
        assert client.get("/healthz").status_code == 503
        env = _env_of(runtime.settings)
        status = CliRunner().invoke(main, ["projections", "status", "--json"], env=env)
        assert status.exit_code == 0, status.output
        figures = json.loads(status.stdout)  # the log lines go to stderr
        assert figures["stuck"]["position"] == poison and figures["skips"] == []
        text = CliRunner().invoke(main, ["projections", "status"], env=env)
        assert f"stuck     YES, at position {poison}" in text.output
        # docker-compose's health check of the worker: unhealthy while stuck.
        checked = CliRunner().invoke(main, ["projections", "status", "--check"], env=env)
        assert checked.exit_code == 1 and f"YES, at position {poison}" in checked.output

        # A rebuild stops at it too, loudly, and leaves the live view alone.
        live = runtime.view.dump()
        rebuilt = CliRunner().invoke(main, ["projections", "rebuild"], env=env)
        assert rebuilt.exit_code == 1 and f"position {poison}" in rebuilt.output
        assert "cannot be projected" in rebuilt.output
        assert runtime.view.dump() == live

        # Only where a projector stopped may be skipped, and only with a reason.
        wrong = CliRunner().invoke(
            main, ["projections", "skip", str(poison - 1), "--reason", "x"], env=env
        )
        assert wrong.exit_code == 1 and "no projector stopped" in wrong.output
        skipped = CliRunner().invoke(
            main,
            [
                "projections",
                "skip",
                str(poison),
                "--reason",
                "test row, see ticket 7",
                "--by",
                "ops",
            ],
            env=env,
        )
        assert skipped.exit_code == 0, skipped.output
        again = CliRunner().invoke(
            main, ["projections", "skip", str(poison), "--reason", "twice"], env=env
        )
        assert again.exit_code == 1 and "skipped already" in again.output

        # The projector moves on past exactly that position.
        _until(lambda: runtime.view.licence(LATER), "the later business to be projected")
        assert runtime.projector.stuck is None
        assert _until(lambda: client.get("/readyz").status_code == 200, "ready again")
        figures = json.loads(
            CliRunner().invoke(main, ["projections", "status", "--json"], env=env).stdout
        )
        assert figures["stuck"] is None and figures["projected"] == figures["head"]
        healthy = CliRunner().invoke(main, ["projections", "status", "--check"], env=env)
        assert healthy.exit_code == 0, healthy.output
        [skip] = figures["skips"]
        assert (skip["position"], skip["topic"], skip["originator_id"]) == (
            poison,
            topic,
            str(originator),
        )
        assert skip["reason"] == "test row, see ticket 7" and skip["actor"]["id"] == "ops"
        assert skip["error"]

        # A rebuild applies the recorded skip as well, and equals the live view.
        live = runtime.view.dump()
        rebuilt = CliRunner().invoke(main, ["projections", "rebuild"], env=env)
        assert rebuilt.exit_code == 0, rebuilt.output
        assert runtime.view.dump() == live

        # The licence whose permit the skipped event belonged to says so in its audit trail.
        trail = client.get(
            f"/api/v1/licences/{FIRST}/history", headers=auth(token("registrar"))
        ).json()["events"]
        skips = [e for e in trail if e["what"] == "ProjectionSkipped"]
        if kind == "handler raises":  # a registration no licence knows: no trail to show it in
            assert skips == []
        else:
            assert [(e["subject"], e["reason"], e["actor"]["id"]) for e in skips] == [
                ("permit:food_operation", "test row, see ticket 7", "ops")
            ]
            assert skips[0]["details"]["position"] == poison
            unreadable = [e for e in trail if e["what"] == "(unreadable event)"]
            assert [e["details"]["topic"] for e in unreadable] == [topic]


def test_in_a_failed_batch_every_event_before_the_poison_one_lands(runtime: Runtime) -> None:
    """The projector reads a batch of many events; the last one's handler fails. One event
    per transaction then finds it: all before it are projected, and it is not."""
    from licensing.demo import HOTEL, RESTAURANT, load

    load(runtime.licensing)
    originator, topic, state = poison_kinds(runtime, HOTEL.uscc)["handler raises"]
    poison = insert_raw(runtime, originator_id=originator, topic=topic, state=state)
    with pytest.raises(Poison) as raised:
        runtime.projector.catch_up()
    assert raised.value.position == poison and runtime.projector.position == poison - 1
    assert "IntegrityError" in raised.value.args[0]  # a handler's conflict, not a rival's
    assert runtime.view.licence(HOTEL.uscc) and runtime.view.licence(RESTAURANT.uscc)
    assert runtime.projection_status()["stuck"]["position"] == poison
    with pytest.raises(Poison):  # and again, the same, at the next look: no silent pass
        runtime.projector.catch_up()
    runtime.skip(poison, reason="duplicate registration written by hand", by="ops")
    [recorded] = runtime.app.recorder.select_notifications(
        start=runtime.app.recorder.max_notification_id(), limit=1
    )
    assert recorded.topic == get_topic(ProjectionSkips.Skipped)  # the skip is in the log
    assert runtime.projector.catch_up() == 2  # the skip record opened, and the skip: no rows
    assert runtime.projector.position > poison and runtime.projector.stuck is None


def test_a_database_error_that_passes_is_retried_not_called_poison(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Another session holds the read model's write lock, and the projector's connections
    give up waiting ("database is locked" on SQLite, lock not available on PostgreSQL): the
    projector says so, retries with backoff, and projects once the lock is gone."""
    from licensing.demo import HOTEL, load

    projector = Projector(runtime.app, runtime.view, idle_wait=0.05, max_backoff=0.2)
    load(runtime.licensing)
    thread = threading.Thread(target=projector.run, daemon=True)
    with caplog.at_level(logging.WARNING, logger="projections.projector"):
        try:
            with _read_model_write_locked(runtime):
                thread.start()
                _until(lambda: projector.error is not None, "the projector to meet the lock")
                time.sleep(0.5)  # a few retries while the lock is held
                assert projector.stuck is None and runtime.view.licence(HOTEL.uscc) is None
            _until(lambda: runtime.view.licence(HOTEL.uscc), "the demo to be projected")
        finally:
            projector.stop()
            thread.join(timeout=5)
    assert projector.stuck is None and runtime.projection_status()["stuck"] is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("not by an event" in w for w in warnings), warnings
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@contextmanager
def _read_model_write_locked(runtime: Runtime) -> Iterator[None]:
    """Another session holds the read model's write lock; the projector's pooled
    connections wait 100 ms for a lock, then fail as a busy database makes them."""
    pool = runtime.view.datastore.pool
    if runtime.settings.store == "sqlite":
        with ExitStack() as borrowed:
            for _ in range(pool.pool_size):
                connection = pool.get_connection(is_writer=False)
                borrowed.callback(pool.put_connection, connection)
                connection.cursor().execute("PRAGMA busy_timeout = 100")
        path = runtime.settings.data_dir / f"{READ_MODEL.lower()}.db"
        with closing(sqlite3.connect(path, isolation_level=None)) as blocker:
            blocker.execute("BEGIN IMMEDIATE")
            yield
            blocker.execute("ROLLBACK")
        return
    import psycopg

    with _borrowed(pool) as connections:
        for connection in connections:
            connection.execute("SET lock_timeout = '100ms'")
    schema = runtime.settings.postgres_schema
    with psycopg.connect(**PG) as blocker:  # one transaction until rolled back
        blocker.execute(f'LOCK TABLE "{schema}"."{READ_MODEL.lower()}_licences" IN EXCLUSIVE MODE')
        yield
        blocker.rollback()


@contextmanager
def _borrowed(pool: Any) -> Iterator[list[Any]]:
    """Every connection a psycopg pool holds, borrowed at once (so each is a distinct one)."""
    pool.open(wait=True)
    pool.wait()
    with ExitStack() as stack:
        yield [stack.enter_context(pool.connection()) for _ in range(pool.min_size)]


def _backends(pool: Any) -> list[int]:
    """The server process ids of every connection a psycopg pool holds now."""
    with _borrowed(pool) as connections:
        return [connection.info.backend_pid for connection in connections]


def _terminate(pids: list[int]) -> None:
    """What a PostgreSQL restart does to them, for exactly these connections."""
    import psycopg

    with psycopg.connect(**PG, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(%s)",
            (pids,),
        )


def test_read_model_reads_survive_dropped_connections(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """After the database dropped its connections (a restart), the next read is tried again
    once on a fresh connection instead of answering 500 once per dead pooled connection."""
    from licensing.demo import HOTEL, load

    load(runtime.licensing)
    runtime.projector.catch_up()
    first = runtime.view.licence(HOTEL.uscc)
    assert first is not None
    if runtime.settings.store == "postgres":
        pids = _backends(runtime.view.datastore.pool)
        _terminate(pids)
    else:  # SQLite has no server: its reader's own connection is closed under it
        assert runtime.view._reader is not None
        runtime.view._reader.close()
    with caplog.at_level(logging.WARNING, logger="projections.readmodel"):
        for _ in range(3):  # every pooled connection was dropped: none of these reads fails
            assert runtime.view.licence(HOTEL.uscc) == first
    assert any("on a fresh connection" in r.getMessage() for r in caplog.records)
    if runtime.settings.store == "postgres":
        assert not set(pids) & set(_backends(runtime.view.datastore.pool))


@pytest.fixture
def api_only(settings: Settings) -> Iterator[Runtime]:
    """The docker-compose API: it does not project (a worker does), and holds lag to 0.5 s."""
    rt = Runtime(
        settings.model_copy(
            update={
                "projector": "off",
                "projection_wait_seconds": 0.2,
                "ready_max_lag_seconds": 0.5,
                "freshness_cache_seconds": 0.2,
            }
        )
    )
    yield rt
    rt.close()


def test_an_api_that_does_not_project_still_sees_the_lag(
    api_only: Runtime, token: Callable[..., str]
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    worker = Runtime(api_only.settings)  # the worker that keeps the read model current
    try:
        worker.projector.catch_up()
        with TestClient(create_app(api_only)) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["projector_in_process"] is False
            client.post(
                "/api/v1/applications",
                json=submission(api_only, "open_restaurant", FIRST, "工人饭店"),
                headers=auth(token("clerk")),
            ).raise_for_status()
            time.sleep(0.7)  # the worker is idle: the new events grow older than the bound
            lagging = client.get("/readyz")
            assert lagging.status_code == 503, lagging.text
            body = lagging.json()
            assert body["status"] == "not ready" and body["stuck"] is None
            assert body["lag"]["events"] > 0 and body["lag"]["seconds"] > 0.5
            assert body["head"] - body["projected"] == body["lag"]["events"]
            assert api_only.freshness.behind_by_more_than(0.5)
            worker.projector.catch_up()  # the worker catches up
            time.sleep(0.25)  # the figures are cached for 0.2 s
            assert client.get("/readyz").json()["status"] == "ready"
            assert not api_only.freshness.behind_by_more_than(0.5)
    finally:
        worker.close()
