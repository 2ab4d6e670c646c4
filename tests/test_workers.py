"""`licensing serve --workers N`: several API processes beside one projector."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import httpx

from domain.actor import Actor, Role
from licensing.catalogue import default_catalogue
from licensing.settings import Settings
from licensing.signing import mint_access_token
from tests.conftest import SECRET, auth
from tests.stories import submission
from tests.test_cli import _env_of, _free_port
from tests.test_prints import RESTAURANT


def test_two_workers_answer_and_the_supervisor_projects_once(settings: Settings) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = shutil.which("licensing")
    argv = [command] if command else [sys.executable, "-m", "licensing.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSING_")}
    env |= _env_of(settings) | {
        "LICENSING_AUTH_SECRET": SECRET,
        "LICENSING_ISSUER": settings.issuer,
        "LICENSING_BASE_URL": base,
    }
    process = subprocess.Popen(
        [*argv, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "serve --workers 2 did not come up in 90 s"
            time.sleep(0.2)
        # No worker projects: the supervising process does, once for all of them.
        probes = [httpx.get(f"{base}/readyz").json() for _ in range(6)]
        assert not any(p["projector_in_process"] for p in probes)

        # The form from the catalogue alone: no third set of connections to the database.
        body = submission(
            SimpleNamespace(catalogue=default_catalogue()),  # type: ignore[arg-type]
            "open_restaurant",
            RESTAURANT,
            "桂城饭店",
        )
        clerk = mint_access_token(
            SECRET,
            Actor(id="clerk-1", role=Role.CLERK, district="chancheng"),
            issuer=settings.issuer,
        )
        submitted = httpx.post(
            f"{base}/api/v1/applications", json=body, headers=auth(clerk), timeout=60
        )
        assert submitted.status_code == 201, submitted.text
        # Projected by the supervisor's projector: the live licence appears.
        deadline = time.monotonic() + 30
        while (answer := httpx.get(f"{base}/api/v1/licences/{RESTAURANT}")).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.1)
        assert answer.json()["uscc"] == RESTAURANT
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
