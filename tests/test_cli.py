"""The README's commands and the CLI, run as a newcomer and an operator would."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from licensing.cli import main
from licensing.settings import Settings
from licensing.signing import read_access_token


def _env_of(settings: Settings) -> dict[str, str]:
    return {
        "LICENSING_DATA_DIR": str(settings.data_dir),
        "LICENSING_STORE": settings.store,
        "LICENSING_POSTGRES_HOST": settings.postgres_host,
        "LICENSING_POSTGRES_PORT": str(settings.postgres_port),
        "LICENSING_POSTGRES_DBNAME": settings.postgres_dbname,
        "LICENSING_POSTGRES_USER": settings.postgres_user,
        "LICENSING_POSTGRES_PASSWORD": settings.postgres_password,
        "LICENSING_POSTGRES_SCHEMA": settings.postgres_schema,
    } | ({"LICENSING_CIPHER_KEY": settings.cipher_key} if settings.cipher_key else {})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_first_command_serves_the_demo_from_a_fresh_folder(tmp_path: Path) -> None:
    """`licensing serve --demo` in an empty folder: data under ./var, a live hotel and restaurant."""
    port = _free_port()
    command = shutil.which("licensing")
    argv = [command] if command else [sys.executable, "-m", "licensing.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSING_")}
    process = subprocess.Popen(
        [*argv, "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "serve --demo did not come up in 60 s"
            time.sleep(0.2)
        assert (tmp_path / "var" / "events.db").exists() and (tmp_path / "var" / "keys").is_dir()
        licences = [httpx.get(f"{base}/api/v1/licences/{u}").json() for u in _printed_usccs(base)]
        words = [sorted({p["status"]["word"] for p in lic["permits"]}) for lic in licences]
        assert len(licences[0]["permits"]) == 9 and words[0] == ["有效"]
        assert words[1] == ["无效", "有效"]
        scan = httpx.get(f"{base}/api/v1/licences/{licences[1]['uscc']}").json()["links"][
            "verification"
        ]
        assert scan.startswith(f"{base}/v/")
        assert "部分经营项目不可经营" in httpx.get(scan).text
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0]
    assert "Demo data loaded" in output and "scan target" in output


def _printed_usccs(base: str) -> list[str]:
    from licensing.demo import HOTEL, RESTAURANT

    return [HOTEL.uscc, RESTAURANT.uscc]


def test_tokens_mint_issues_a_token_the_api_secret_accepts(tmp_path: Path) -> None:
    env = {"LICENSING_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(
        main,
        ["tokens", "mint", "--role", "department", "--sub", "fire-1", "--department", "fire"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    secret = (tmp_path / "auth.secret").read_text().strip()
    assert oct((tmp_path / "auth.secret").stat().st_mode & 0o777) == "0o600"
    actor = read_access_token(secret, result.output.strip(), issuer="zzt-demo")
    assert (actor.id, actor.role, actor.department) == ("fire-1", "department", "fire")
    refused = CliRunner().invoke(
        main, ["tokens", "mint", "--role", "department", "--sub", "x"], env=env
    )
    assert refused.exit_code == 2 and "must name its department" in refused.output


def test_the_operator_rebuilds_the_read_model_from_the_events(settings: Settings) -> None:
    env = _env_of(settings)
    loaded = CliRunner().invoke(main, ["demo"], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert re.search(r"licence JSON : \S+/api/v1/licences/\w{18}", loaded.output)
    rebuilt = CliRunner().invoke(main, ["projections", "rebuild"], env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    count = int(re.search(r"from (\d+) events", rebuilt.output).group(1))  # type: ignore[union-attr]
    assert count > 20
    expired = CliRunner().invoke(main, ["permits", "expire"], env=env)
    assert expired.exit_code == 0 and "Expired 0 permits" in expired.output  # all still valid
    daily = CliRunner().invoke(main, ["daily"], env=env)
    assert daily.exit_code == 0, daily.output
    assert daily.stdout.splitlines() == [  # log lines, if any, go to stderr
        "Deemed 0 acceptances and outcomes",
        "Lapsed 0 applications",
        "Expired 0 permits",
        "Moved out 0 listings",
    ]
    for job in (["applications", "deem"], ["credit", "expire"], ["applications", "lapse"]):
        ran = CliRunner().invoke(main, job, env=env)
        assert ran.exit_code == 0 and " 0 " in ran.output, ran.output
    jwks = CliRunner().invoke(main, ["jwks"], env=env)
    assert jwks.exit_code == 0 and '"kty": "EC"' in jwks.output and '"d"' not in jwks.output


def test_deliver_refuses_to_run_without_a_channel(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["deliver"], env={"LICENSING_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "LICENSING_SMTP_HOST" in result.output


def test_every_command_refuses_the_memory_store(tmp_path: Path) -> None:
    """The memory store is for tests: a command would lose its events when it ends."""
    env = {"LICENSING_STORE": "memory", "LICENSING_DATA_DIR": str(tmp_path / "data")}
    for argv in (["init"], ["demo"], ["applications", "lapse"]):
        result = CliRunner().invoke(main, argv, env=env)
        assert result.exit_code == 1, (argv, result.output)
        assert "LICENSING_STORE=memory" in result.output
    assert not (tmp_path / "data" / "keys").exists()  # nothing was set up
