"""What an operator watches: a JSON log line per request and per business act (ids, never a
token or personal data), and /metrics that moves when a department decides."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from domain.uscc import make_uscc
from licensing import jobs, logs
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import APPLICANT, LEGAL_REP, submission

HOTEL = make_uscc("91440605MA4DB5001")
METRICS_TOKEN = "m" * 40
PERSONAL = (*LEGAL_REP.values(), APPLICANT["email"])
DASHBOARD = Path(__file__).parent.parent / "deploy" / "grafana-dashboard.json"


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The process's log as JSON lines, as a server without a terminal writes it."""
    out = io.StringIO()
    handle = logs.configure(format="json", level="INFO", stream=out)

    def lines() -> list[dict[str, Any]]:
        handle.flush()
        return [json.loads(line) for line in out.getvalue().splitlines()]

    lines.text = out.getvalue  # type: ignore[attr-defined]
    yield lines
    handle.close()


def scrape(client: httpx.Client, bearer: str = METRICS_TOKEN) -> dict[tuple[str, tuple], float]:
    """/metrics, read with prometheus-client's own parser: {(sample, labels): value}."""
    response = client.get("/metrics", headers=auth(bearer))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, tuple], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _hotel(client: httpx.Client, runtime: Runtime, token: Callable[..., str]) -> dict[str, Any]:
    body = submission(runtime, "open_hotel", HOTEL, "观测旅馆")
    response = client.post(
        "/api/v1/applications",
        json=body,
        headers={**auth(token("clerk")), "X-Request-ID": "window-7f3a"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "window-7f3a"  # echoed
    return response.json()  # type: ignore[no-any-return]


def test_a_submission_leaves_one_request_line_and_one_act_line_without_tokens_or_ids(
    server: str, runtime: Runtime, token: Callable[..., str], log_lines: Any
) -> None:
    with httpx.Client(base_url=server) as client:
        application = _hotel(client, runtime, token)
        scanned = client.get("/v/some.forged.token")
    assert scanned.status_code == 400
    lines = log_lines()
    mine = [line for line in lines if line.get("request_id") == "window-7f3a"]
    [request] = [line for line in mine if line["logger"] == logs.ACCESS_LOG]
    assert request["event"] == "request"
    assert request["method"] == "POST"
    assert request["route"] == "/api/v1/applications"
    assert request["status"] == 201
    assert isinstance(request["duration_ms"], float) and request["duration_ms"] > 0
    assert request["role"] == "clerk" and request["district"] == "chancheng"
    assert request["time"].endswith("+00:00") and request["level"] == "info"
    [act] = [line for line in mine if line["logger"] == logs.ACTS_LOG]
    assert act["act"] == "submit"
    assert act["aggregate"] == application["id"]
    assert act["aggregate_type"] == "BundleApplication" and act["uscc"] == HOTEL
    assert act["position"] > 0 and act["version"] >= 1
    assert "BundleApplication.Submitted" in act["events"]
    # A scan logs its route template, never the token in its path; each request its own id.
    [scan] = [line for line in lines if line.get("route") == "/v/{token}"]
    assert scan["status"] == 400 and scan["request_id"] not in ("", "window-7f3a")
    assert "role" not in scan  # the public has no role
    text = log_lines.text()
    assert "some.forged.token" not in text
    assert token("clerk").split(".")[2] not in text and "Bearer" not in text
    for personal in PERSONAL:
        assert personal not in text, personal


def test_a_request_id_that_could_forge_a_line_is_replaced(server: str, log_lines: Any) -> None:
    with httpx.Client(base_url=server) as client:
        answer = client.get("/livez", headers={"X-Request-ID": 'x" injected="1'})
    rid = answer.headers["x-request-id"]
    assert rid != 'x" injected="1' and len(rid) == 32
    assert [line["request_id"] for line in log_lines() if line.get("route") == "/livez"] == [rid]


def test_no_line_is_made_when_the_level_is_off(server: str) -> None:
    made: list[logging.LogRecord] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            made.append(record)

    handle = logs.configure(format="json", level="WARNING", stream=io.StringIO())
    counter = Count()
    logging.getLogger().addHandler(counter)
    try:
        with httpx.Client(base_url=server) as client:
            assert client.get("/livez").status_code == 200
    finally:
        logging.getLogger().removeHandler(counter)
        handle.close()
    assert [r for r in made if r.name == logs.ACCESS_LOG] == []


def test_a_terminal_gets_readable_lines_and_the_setting_forces_either() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, asked, kind in (
        (Terminal(), "auto", "console"),
        (io.StringIO(), "auto", "json"),
        (Terminal(), "json", "json"),
        (io.StringIO(), "console", "console"),
    ):
        handle = logs.configure(format=asked, stream=stream)  # type: ignore[arg-type]
        logging.getLogger(logs.ACTS_LOG).info("act", extra={"act": "decide_task"})
        handle.flush()
        handle.close()
        line = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue()).strip()  # colours off
        assert handle.kind == kind
        if kind == "json":
            assert json.loads(line)["act"] == "decide_task"
        else:
            assert "act=decide_task" in line and not line.startswith("{")


def test_metrics_need_the_metrics_token_or_an_admin(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    runtime.settings.metrics_token = METRICS_TOKEN
    with httpx.Client(base_url=server) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=auth("n" * 40)).status_code == 401
        assert client.get("/metrics", headers=auth(token("clerk"))).status_code == 403
        assert client.get("/metrics", headers=auth(token("admin"))).status_code == 200
        assert "licensing_projection_lag_seconds" in scrape(client, METRICS_TOKEN).__repr__()


def test_metrics_move_when_a_department_decides_and_a_daily_job_runs(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    admin = token("admin")
    with httpx.Client(base_url=server) as client:
        before = scrape(client, admin)
        application = _hotel(client, runtime, token)
        runtime.projector.catch_up()
        runtime.freshness.invalidate()
        submitted = scrape(client, admin)
        task = next(t for t in application["tasks"] if t["department"] == "fire")
        decided = client.post(
            f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
            json={"outcome": "refuse", "reason": "疏散通道不足", "legal_basis": "消防法第十五条"},
            headers=auth(token("department", "fire")),
        )
        assert decided.status_code == 200, decided.text
        jobs.expire_permits(runtime.licensing, runtime.index())
        runtime.freshness.invalidate()
        after = scrape(client, admin)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("licensing_decisions_total", department="fire", outcome="refused") == 1
    assert moved("licensing_acts_total", act="submit") == 1
    assert moved("licensing_acts_total", act="refuse") == 1
    assert moved("licensing_daily_job_runs_total", job="expire_permits") == 1
    route = {"method": "POST", "route": "/api/v1/applications", "status": "201"}
    assert moved("licensing_http_requests_total", **route) == 1
    assert moved("licensing_http_request_duration_seconds_count", **route) == 1
    # The worklists, measured at the scrape: fire had one open task, and now none.
    assert _value(submitted, "licensing_tasks_open", department="fire") == 1
    assert _value(submitted, "licensing_tasks_overdue", department="fire") == 0
    assert _value(after, "licensing_tasks_open", department="fire") == 0
    assert _value(after, "licensing_tasks_open", department="samr") >= 1
    # Projection's figures, caught up.
    head = _value(after, "licensing_projection_head")
    assert head > 0 and _value(after, "licensing_projection_position") == head
    assert ("licensing_projection_lag_seconds", ()) in after
    assert _value(after, "licensing_projection_lag_events") == 0
    assert _value(after, "licensing_projection_stuck") == 0
    assert _value(after, "licensing_scrape_errors", figure="tasks") == 0


def _family(name: str) -> str:
    return re.sub(r"_(total|bucket|count|sum)$", "", name)


def test_the_grafana_dashboard_graphs_metrics_the_api_exposes(
    server: str, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        text = client.get("/metrics", headers=auth(token("admin"))).text
    exposed = {_family(line.split()[2]) for line in text.splitlines() if line.startswith("# TYPE")}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    graphed = {
        _family(name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"licensing_[a-z_]+", target["expr"])
    }
    assert len(graphed) >= 10 and graphed <= exposed, graphed - exposed


def test_scans_are_counted_by_verdict(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    admin = token("admin")
    with httpx.Client(base_url=server) as client:
        _hotel(client, runtime, token)
        runtime.projector.catch_up()
        before = scrape(client, admin)
        row = runtime.view.licence(HOTEL)
        assert row is not None
        url = runtime.verification_url(HOTEL, row["print_version"])
        assert client.get(url.removeprefix(runtime.settings.base_url)).status_code == 200
        assert client.get("/v/forged").status_code == 400
        after = scrape(client, admin)
    for verdict in ("current", "refused"):
        assert _value(after, "licensing_scans_total", kind="pointer", verdict=verdict) == (
            _value(before, "licensing_scans_total", kind="pointer", verdict=verdict) + 1
        )


_COUNT_IN_ANOTHER_PROCESS = """
from licensing import metrics
metrics.count_delivery("sms", failed=True, final=True)
metrics.count_delivery("sms")
"""


def test_counters_of_several_processes_add_up_in_the_multiprocess_folder(tmp_path: Path) -> None:
    """Several API workers, `licensing deliver` and `licensing daily` sharing one
    PROMETHEUS_MULTIPROC_DIR: a scrape of any of them counts them all."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", _COUNT_IN_ANOTHER_PROCESS], env=env, check=True, timeout=60
        )
    from licensing.metrics import exposition

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(
            exposition(multiprocess_dir=str(folder)).decode()
        )
        for s in family.samples
    }
    assert samples[("licensing_delivery_attempts_total", (("channel", "sms"),))] == 4
    failed = (("channel", "sms"), ("final", "true"))
    assert samples[("licensing_delivery_failures_total", failed)] == 2


def test_a_multiprocess_folder_that_is_not_there_stops_the_command_with_why(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from licensing.cli import main

    missing = tmp_path / "not-made"
    result = CliRunner().invoke(main, ["jwks"], env={"PROMETHEUS_MULTIPROC_DIR": str(missing)})
    assert result.exit_code == 1
    assert f"PROMETHEUS_MULTIPROC_DIR={missing} is not a folder" in result.output


def test_a_worker_serves_its_own_counters_on_its_metrics_port() -> None:
    """`licensing deliver --loop --metrics-port`: the delivery worker in a container of its
    own, sharing no multiprocess folder with the API."""
    import socket

    from licensing import metrics

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = metrics.serve(port)
    try:
        before = (
            REGISTRY.get_sample_value("licensing_delivery_attempts_total", {"channel": "email"})
            or 0.0
        )
        metrics.count_delivery("email", failed=True)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    finally:
        server.shutdown()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("licensing_delivery_attempts_total", (("channel", "email"),))] == before + 1
    retried = (("channel", "email"), ("final", "false"))
    assert samples[("licensing_delivery_failures_total", retried)] >= 1
