"""Rebuilding the read model at scale: beside the live one, in batches, resumable after an
interruption, readers served all along, and switched in at once with the same names."""

from __future__ import annotations

import re
import sqlite3
import threading
from contextlib import closing
from typing import Any

import pytest
from click.testing import CliRunner

from domain.actor import Actor, Role
from licensing import registrar
from licensing.cli import main
from licensing.demo import HOTEL, RESTAURANT, load
from licensing.runtime import Runtime
from projections.readmodel import NAME as READ_MODEL
from tests.pg import PG
from tests.test_cli import _env_of

REGISTRAR = Actor(id="reg-1", role=Role.REGISTRAR)


def _index_names(runtime: Runtime) -> list[str]:
    """Every index of the read model, by name (the primary keys' too on PostgreSQL)."""
    if runtime.settings.store == "sqlite":
        path = runtime.settings.data_dir / f"{READ_MODEL.lower()}.db"
        with closing(sqlite3.connect(path)) as conn:
            rows = conn.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' ORDER BY name"
            ).fetchall()
        return [f"{name} ON {table}" for name, table in rows]
    import psycopg

    with psycopg.connect(**PG) as conn:
        rows = conn.execute(
            "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = %s ORDER BY 1",
            (runtime.settings.postgres_schema,),
        ).fetchall()
    return [f"{name} ON {table}" for name, table in rows]


class Readers:
    """Threads reading the live view over and over while a rebuild runs, keeping what failed."""

    def __init__(self, runtime: Runtime, count: int = 3) -> None:
        self.runtime = runtime
        self.failures: list[BaseException] = []
        self.reads = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, daemon=True) for _ in range(count)]

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                assert self.runtime.view.licence(HOTEL.uscc) is not None
                assert self.runtime.view.tasks("fire") is not None
                self.reads += 1
            except BaseException as error:
                self.failures.append(error)
                return

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)


def test_rebuild_in_batches_survives_an_interruption_and_keeps_readers_served(
    runtime: Runtime,
) -> None:
    load(runtime.licensing)
    runtime.start()  # the live projector keeps going all along
    runtime.projector.catch_up()
    assert runtime.settle(runtime.app.recorder.max_notification_id())
    live = runtime.view.dump()
    names = _index_names(runtime)
    total = len(runtime.app.recorder.select_notifications(start=1, limit=10_000))
    runtime.projector.batch_size = 5
    seen: list[int] = []

    def interrupted(done: int, _total: int) -> None:
        """A kill -9 after the third batch: what is committed is all that is left."""
        seen.append(done)
        assert runtime.view.dump() == live  # readers still see the live view, whole
        if len(seen) == 3:
            raise KeyboardInterrupt

    with Readers(runtime) as readers, pytest.raises(KeyboardInterrupt):
        runtime.projector.rebuild(progress=interrupted)
    assert not readers.failures and readers.reads
    reached = runtime.view.tracked(runtime.projector.rebuild_name)
    assert reached is not None and 0 < reached < total
    assert seen == [5, 10, 15]

    # Meanwhile the business changes its name: the live projector shows it, and so must
    # the rebuilt view, which catches up to the head before it is switched in.
    registrar.change(
        runtime.licensing,
        uscc=HOTEL.uscc,
        actor=REGISTRAR,
        changes={"name": "南海新旅馆"},
        reason="变更登记",
    )
    assert runtime.settle(runtime.app.recorder.max_notification_id())
    live = runtime.view.dump()

    # A second run, as another process would after the first was killed: it goes on.
    again = Runtime(runtime.settings)
    try:
        with Readers(runtime) as readers:
            replayed = again.projector.rebuild()
        assert not readers.failures
        assert replayed == total + 1 - reached  # only what the first run had not done
        assert runtime.view.dump() == live
        assert runtime.view.licence(HOTEL.uscc)["name"] == "南海新旅馆"  # type: ignore[index]
        assert runtime.view.tracked(runtime.projector.rebuild_name) is None
        assert _index_names(runtime) == names  # same names, on the same tables

        # And again from nothing: the shadow's names were freed by the switch.
        assert again.projector.rebuild(afresh=True) == total + 1
        assert runtime.view.dump() == live and _index_names(runtime) == names
    finally:
        again.close()

    # The live projector goes on in the new tables.
    registrar.change(
        runtime.licensing,
        uscc=RESTAURANT.uscc,
        actor=REGISTRAR,
        changes={"name": "工人新饭店"},
        reason="变更登记",
    )
    assert runtime.settle(runtime.app.recorder.max_notification_id())
    assert runtime.view.licence(RESTAURANT.uscc)["name"] == "工人新饭店"  # type: ignore[index]


def test_the_rebuild_command_shows_progress_and_continues_an_interrupted_run(
    runtime: Runtime,
) -> None:
    load(runtime.licensing)
    runtime.projector.catch_up()
    live = runtime.view.dump()
    runtime.projector.batch_size = 10

    def stop(_done: int, _total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runtime.projector.rebuild(progress=stop)
    reached = runtime.view.tracked(runtime.projector.rebuild_name)
    env = _env_of(runtime.settings)
    result = CliRunner().invoke(main, ["projections", "rebuild", "--batch-size", "7"], env=env)
    assert result.exit_code == 0, result.output
    assert f"Continuing the interrupted rebuild from position {reached}" in result.output
    done = re.search(
        r"Rebuilt the read model from (\d+) events in [\d.]+ s \(([\d,]+) events/s\)", result.output
    )
    assert done is not None, result.output
    head = runtime.app.recorder.max_notification_id()
    assert int(done.group(1)) == len(runtime.app.recorder.select_notifications(reached + 1, 10_000))
    assert f"switched to the new tables at position {head}" in result.output
    assert runtime.view.dump() == live
    status = CliRunner().invoke(main, ["projections", "status"], env=env)
    assert "rebuild   none under way" in status.output and "stuck     no" in status.output
