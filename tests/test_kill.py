"""`kill -9` of the server mid-load, on PostgreSQL: every decision answered 2xx is in the store
afterwards, and the read model the killed server kept equals one built afresh from the events.
Bounded: three rounds of a few seconds each."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest

from domain.actor import Actor
from domain.bundle import TASK_APPROVED
from domain.uscc import make_uscc
from licensing.runtime import Runtime, construct_read_model
from licensing.settings import Settings
from licensing.signing import mint_access_token
from projections.projector import Projector
from tests.conftest import auth
from tests.stories import submission

ROUNDS = 3
HOTELS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSING_")}
    values: dict[str, Any] = {
        "STORE": settings.store,
        "DATA_DIR": settings.data_dir,
        "POSTGRES_HOST": settings.postgres_host,
        "POSTGRES_PORT": settings.postgres_port,
        "POSTGRES_DBNAME": settings.postgres_dbname,
        "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_PASSWORD": settings.postgres_password,
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "POSTGRES_POOL_SIZE": 4,
        "AUTH_SECRET": settings.auth_secret,
        "BASE_URL": settings.base_url,
        "ISSUER": settings.issuer,
        "CIPHER_KEY": settings.cipher_key,
    }
    return env | {f"LICENSING_{k}": str(v) for k, v in values.items() if v is not None}


class Server:
    """`licensing serve` in a process of its own, to be killed without warning."""

    def __init__(self, settings: Settings) -> None:
        self.env = _environment(settings)
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "licensing.cli", "serve", "--port", str(port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Generous: a loaded 2-core machine has taken over a minute to start the server.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/livez", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def test_every_acknowledged_decision_survives_kill_9_and_the_view_equals_a_fresh_build(
    pg_settings: Settings,
) -> None:
    runtime = Runtime(pg_settings)  # makes the schema and keys, as `licensing init` would
    clerk = mint_access_token(
        runtime.auth_secret, Actor(id="clerk-k", role="clerk", district="x"), issuer="zzt-test"
    )
    server = Server(pg_settings)
    server.start()
    try:
        tasks: list[tuple[str, str, str]] = []
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for n in range(HOTELS):
                body = submission(runtime, "open_hotel", make_uscc(f"91440606MA4K{n:05d}"), "旅馆")
                answer = client.post("/api/v1/applications", json=body, headers=auth(clerk))
                assert answer.status_code == 201, answer.text
                application = answer.json()
                tasks += [
                    (application["id"], t["permit_type"], t["department"])
                    for t in application["tasks"]
                    if t["state"] == "queued"
                ]
        acknowledged: set[tuple[str, str]] = set()
        remaining = list(tasks)
        lock = threading.Lock()

        def decide(batch: list[tuple[str, str, str]], url: str) -> None:
            with httpx.Client(base_url=url, timeout=10) as c:
                for application_id, permit_type, department in batch:
                    token = mint_access_token(
                        runtime.auth_secret,
                        Actor(id=f"rev-{department}", role="department", department=department),
                        issuer="zzt-test",
                    )
                    path = f"/api/v1/applications/{application_id}/tasks/{permit_type}/decision"
                    try:
                        reply = c.post(
                            path,
                            json={"outcome": "approve", "permit_number": f"K-{permit_type}"},
                            headers=auth(token),
                        )
                    except httpx.TransportError:
                        return  # the server is gone: the rest waits for the next round
                    if reply.status_code in (200, 409):  # 409: decided by an earlier try
                        with lock:
                            if reply.status_code == 200:
                                acknowledged.add((application_id, permit_type))
                            remaining.remove((application_id, permit_type, department))

        for round_ in range(ROUNDS + 1):
            by_department: dict[str, list[tuple[str, str, str]]] = {}
            for task in list(remaining):
                by_department.setdefault(task[2], []).append(task)
            threads = [
                threading.Thread(target=decide, args=(batch, server.url))
                for batch in by_department.values()
            ]
            for thread in threads:
                thread.start()
            if round_ < ROUNDS:
                # Mid-load: once a few decisions of this round are answered, or at most 5 s.
                before, deadline = len(acknowledged), time.monotonic() + 5
                while len(acknowledged) < before + 3 + 2 * round_ and time.monotonic() < deadline:
                    time.sleep(0.01)
                server.kill()
            for thread in threads:
                thread.join(timeout=60)
            print(f"round {round_}: {len(acknowledged)} answered 2xx, {len(remaining)} left")
            if round_ < ROUNDS:
                server.start()
            if not remaining:
                break
        assert not remaining, f"{len(remaining)} decisions never answered"
        assert acknowledged, "no decision was answered before the first kill"
        server.kill()
        # Every 2xx is in the store.
        for application_id, permit_type in acknowledged:
            from uuid import UUID

            task = runtime.licensing.application(UUID(application_id)).task(permit_type)
            assert task.state == TASK_APPROVED, (application_id, permit_type)
        # The read model the killed servers kept, caught up, equals one built afresh.
        runtime.projector.catch_up()
        fresh = construct_read_model(runtime.env, name="KillCheck")
        try:
            Projector(runtime.app, fresh).catch_up()
            assert runtime.view.dump() == fresh.dump()
        finally:
            fresh.close_readers()
            fresh.datastore.close()  # type: ignore[attr-defined]
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()
        runtime.close()
