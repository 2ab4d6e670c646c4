"""Signed webhooks: a department's own system receives its feed, in order, once, and can tell
a genuine entry from a forged one with nothing but the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import httpx
import pytest
from click.testing import CliRunner
from prometheus_client import REGISTRY

from domain.delivery import WEBHOOK, Delivery
from licensing.cli import main
from licensing.delivery import RetryPolicy
from licensing.outbox import Outbox
from licensing.runtime import Runtime
from licensing.webhooks import WebhookOutbox, new_secret
from tests.conftest import auth
from tests.test_cli import _env_of
from tests.test_delivery import _no_proxy  # noqa: F401 — the stub is on 127.0.0.1
from tests.test_feed import PERSONAL, RESTAURANT, _change_name_and_representative, _open_restaurant

SECRET = new_secret()
TOLERANCE = 300  # seconds a signature's timestamp may be off, as the Standard Webhooks scheme says


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a department's system does, with the standard library only (README: Webhooks)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, candidate.removeprefix("v1,"))
        for candidate in headers.get("webhook-signature", "").split()
        if candidate.startswith("v1,")
    )


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """A department's system: checks each signature, answers as scripted (then 200)."""

    secret: str
    url: str = ""
    script: list[int] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    @property
    def accepted(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests if r.answered == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    stub = Receiver(secret=SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if not verify(stub.secret, headers, body):
                status = 401
            else:
                status = stub.script.pop(0) if stub.script else 200
            stub.requests.append(Request(headers, body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/zzt/feed"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _revoke(client: httpx.Client, token: Callable[..., str]) -> None:
    client.post(
        f"/api/v1/registrations/{RESTAURANT}/revocation",
        json={"reason": "无证经营被吊销", "legal_basis": "市场主体登记管理条例第四十四条"},
        headers=auth(token("registrar", sub="reg-1")),
    ).raise_for_status()


def _push(runtime: Runtime, outbox: WebhookOutbox) -> tuple[int, int]:
    runtime.index()
    return outbox.collect(), outbox.deliver_due()


def _delivery_counts() -> tuple[float, float, float]:
    """The webhook channel's attempts, failures to retry and final failures (/metrics)."""
    sample = REGISTRY.get_sample_value
    return (
        sample("licensing_delivery_attempts_total", {"channel": WEBHOOK}) or 0.0,
        sample("licensing_delivery_failures_total", {"channel": WEBHOOK, "final": "false"}) or 0.0,
        sample("licensing_delivery_failures_total", {"channel": WEBHOOK, "final": "true"}) or 0.0,
    )


def _events_of(runtime: Runtime, entry_id: str) -> list[str]:
    delivery_id = Delivery.create_id(entry_id, WEBHOOK)
    return [type(e).__name__ for e in runtime.app.events.get(delivery_id)]


def test_the_receiver_gets_the_new_task_a_change_and_an_exit_in_order_signed(
    server: str, runtime: Runtime, token: Callable[..., str], receiver: Receiver
) -> None:
    runtime.webhook_registry().add(
        department="water", url=receiver.url, secret=SECRET, since=0, replace=False
    )
    outbox = runtime.webhooks()
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        assert _push(runtime, outbox) == (2, 2)  # the new task; the business established
        _change_name_and_representative(client, token)
        _revoke(client, token)
        assert _push(runtime, outbox) == (2, 2)
        pulled = client.get(
            "/api/v1/departments/water/feed", headers=auth(token("department", "water"))
        ).json()["entries"]
    assert [e["type"] for e in receiver.accepted] == [
        "task.created",
        "registration.established",
        "registration.changed",
        "registration.exited",
    ]
    assert receiver.accepted == pulled  # the same entries as the pull feed, in its order
    assert [r.headers["webhook-id"] for r in receiver.requests] == [e["id"] for e in pulled]
    assert receiver.accepted[-1]["registration"]["exit"] == "revoked"
    assert all(r.answered == 200 for r in receiver.requests)  # every signature checked out
    for text in PERSONAL:  # need to know, on the wire too
        assert not any(text.encode() in r.body for r in receiver.requests)
    # Nothing is queued or sent twice: not again, not after a restart.
    assert _push(runtime, outbox) == (0, 0)
    assert _push(runtime, runtime.webhooks()) == (0, 0)
    assert len(receiver.requests) == 4
    assert _events_of(runtime, pulled[0]["id"]) == ["Queued", "Delivered"]
    # The applicants' outbox reads the same log and leaves the departments' entries alone.
    applicants = Outbox(runtime.licensing, channels={})
    applicants.collect()
    assert applicants.pending == {}


def test_a_failing_receiver_gets_each_entry_once_in_order_after_two_failed_attempts(
    server: str, runtime: Runtime, token: Callable[..., str], receiver: Receiver
) -> None:
    runtime.webhook_registry().add(
        department="water", url=receiver.url, secret=SECRET, since=0, replace=False
    )
    clock = [datetime(2026, 11, 23, 9, 0, tzinfo=UTC)]
    outbox = WebhookOutbox(
        runtime.licensing,
        feed=runtime.view,
        registry=runtime.webhook_registry(),
        policy=RetryPolicy(max_attempts=5, first_delay=60, factor=4),
        now=lambda: clock[0],
    )
    receiver.script = [500, 500]
    counted = _delivery_counts()
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
    assert _push(runtime, outbox) == (2, 0)  # the first entry fails; the second waits for it
    assert [r.answered for r in receiver.requests] == [500]
    first = receiver.requests[0].headers["webhook-id"]
    clock[0] += timedelta(seconds=30)
    assert outbox.deliver_due() == 0 and len(receiver.requests) == 1  # not due yet
    clock[0] += timedelta(seconds=31)
    assert outbox.deliver_due() == 0  # the second attempt fails too; retry in 240 s
    clock[0] += timedelta(seconds=241)
    assert outbox.deliver_due() == 2  # through at last, and the one behind it follows
    assert [(r.headers["webhook-id"], r.answered) for r in receiver.requests[:3]] == [
        (first, 500),
        (first, 500),
        (first, 200),
    ]
    assert [e["type"] for e in receiver.accepted] == ["task.created", "registration.established"]
    assert receiver.accepted[0]["id"] == first  # arrived once
    assert _events_of(runtime, first) == ["Queued", "AttemptFailed", "AttemptFailed", "Delivered"]
    # /metrics counts each attempt, and the failures that will be retried.
    attempts, retried, final = (
        now - then for now, then in zip(_delivery_counts(), counted, strict=True)
    )
    assert (attempts, retried, final) == (4, 2, 0)
    failures = [
        e
        for e in runtime.app.events.get(Delivery.create_id(first, WEBHOOK))
        if isinstance(e, Delivery.AttemptFailed)
    ]
    assert [f.reason for f in failures] == ["webhook answered 500"] * 2
    assert [f.retry_at for f in failures] == [
        datetime(2026, 11, 23, 9, 1, tzinfo=UTC),
        datetime(2026, 11, 23, 9, 1, 1, tzinfo=UTC) + timedelta(seconds=240),
    ]


def test_the_receiver_refuses_a_tampered_body_and_a_wrong_key(
    server: str, runtime: Runtime, token: Callable[..., str], receiver: Receiver
) -> None:
    runtime.webhook_registry().add(
        department="water", url=receiver.url, secret=SECRET, since=0, replace=False
    )
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
    _push(runtime, runtime.webhooks())
    genuine = receiver.requests[0]
    assert genuine.answered == 200
    headers = {k: v for k, v in genuine.headers.items() if k.startswith("webhook-")}
    entry = json.loads(genuine.body)
    entry["business"]["name"] = "冒名饭店"
    tampered = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    with httpx.Client() as client:
        refused = client.post(receiver.url, content=tampered, headers=headers)
        replayed = client.post(receiver.url, content=genuine.body, headers=headers)
    assert refused.status_code == 401  # the stub's check works
    assert replayed.status_code == 200  # the genuine bytes still verify (dedupe on webhook-id)
    # Signed with a key the receiver does not hold: refused, and a 401 will not change by
    # retrying, so the entry fails for good and the next one goes (the feed still has both).
    receiver.secret = new_secret()
    runtime.webhook_registry().add(
        department="samr", url=receiver.url, secret=SECRET, since=0, replace=False
    )
    samr = runtime.webhooks()
    queued, sent = _push(runtime, samr)
    assert queued >= 3 and sent == 0
    assert all(r.answered == 401 for r in receiver.requests[-queued:])
    assert samr.waiting == 0
    first = receiver.requests[-queued].headers["webhook-id"]
    assert _events_of(runtime, first) == ["Queued", "AttemptFailed"]
    assert runtime.app.repository.get(Delivery.create_id(first, WEBHOOK)).state == "failed"


def test_the_operator_adds_a_webhook_and_deliver_pushes_it(
    server: str, runtime: Runtime, token: Callable[..., str], receiver: Receiver
) -> None:
    env = _env_of(runtime.settings)
    secret_file = runtime.settings.data_dir / "water.secret"
    cli = CliRunner()
    made = cli.invoke(main, ["webhooks", "new-secret", str(secret_file)], env=env)
    assert made.exit_code == 0, made.output
    receiver.secret = secret_file.read_text().strip()
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)  # before the webhook: pull it, not pushed
        args = ["webhooks", "add", "--department", "water", "--url", receiver.url]
        added = cli.invoke(main, [*args, "--secret-file", str(secret_file)], env=env)
        assert added.exit_code == 0, added.output
        again = cli.invoke(main, [*args, "--secret-file", str(secret_file)], env=env)
        assert again.exit_code != 0 and "--replace" in again.output
        _revoke(client, token)
    stored = runtime.settings.data_dir / "webhooks" / "water.secret"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    listed = cli.invoke(main, ["webhooks", "list"], env=env)
    assert receiver.url in listed.output and receiver.secret not in listed.output
    delivered = cli.invoke(main, ["deliver"], env=env)
    assert delivered.exit_code == 0, delivered.output
    assert "webhooks: queued 1, delivered 1, waiting 0" in delivered.output
    assert receiver.secret not in delivered.output
    assert [e["type"] for e in receiver.accepted] == ["registration.exited"]
    bad = runtime.settings.data_dir / "bad.secret"
    bad.write_text("not-a-secret")
    refused = cli.invoke(
        main,
        [
            "webhooks",
            "add",
            "--department",
            "fire",
            "--url",
            receiver.url,
            "--secret-file",
            str(bad),
        ],
        env=env,
    )
    assert refused.exit_code != 0 and "whsec_" in refused.output
    assert cli.invoke(main, ["webhooks", "remove", "--department", "water"], env=env).exit_code == 0
    assert not stored.exists()
    UUID(receiver.accepted[0]["id"])  # the entry id is a UUID, as the contract says
