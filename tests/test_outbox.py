"""电子送达: each decision document reaches the applicant's fixed e-mail and phone, with retries,
and every attempt is an event.

Service-layer stories (memory, SQLite, PostgreSQL) with real transports; the operator's
`licensing deliver` runs against a real store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

import httpx

from domain.delivery import Delivery
from domain.uscc import make_uscc
from licensing.delivery import EmailSender, RetryPolicy, SmsGateway
from licensing.outbox import Outbox
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.service import Service
from tests.stories import APPLICANT, submission, submit
from tests.test_delivery import Gateway, Mailbox, _no_proxy, gateway, smtp_server  # noqa: F401

SHOP = make_uscc("91440614MA4DE1W01")


def _decide_two(client: httpx.Client, runtime: Runtime, token: Callable[..., str]) -> dict:
    application = submit(
        client, token("clerk"), submission(runtime, "open_restaurant", SHOP, "送达饭店")
    )
    url = f"/api/v1/applications/{application['id']}/tasks"
    client.post(
        f"{url}/food_operation/decision",
        json={"outcome": "approve", "permit_number": "JY-88"},
        headers=auth(token("department", "samr")),
    ).raise_for_status()
    client.post(
        f"{url}/sewage_discharge/decision",
        json={"outcome": "refuse", "reason": "未设置隔油池", "legal_basis": "排水条例第二十一条"},
        headers=auth(token("department", "water")),
    ).raise_for_status()
    return application


def _decide_two_directly(service: Service) -> dict:
    application = service.submit(submission(service.runtime, "open_restaurant", SHOP, "送达饭店"))
    service.approve(application["id"], "food_operation", "samr", number="JY-88")
    service.refuse(
        application["id"],
        "sewage_discharge",
        "water",
        reason="未设置隔油池",
        basis="排水条例第二十一条",
    )
    return application


def _events_of(runtime: Runtime, delivery_id) -> list[str]:
    return [type(e).__name__ for e in runtime.app.events.get(delivery_id)]


def test_decisions_are_delivered_by_email_and_sms_and_recorded(
    service: Service,
    smtp_server,  # noqa: F811 — the transports' fixtures, shared
    gateway: Gateway,  # noqa: F811
) -> None:
    runtime = service.runtime
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    channels = {
        "email": EmailSender(host="127.0.0.1", port=port, sender="证照通 <noreply@zzt.test>"),
        "sms": SmsGateway(url=gateway.url, timeout=5.0),
    }
    application = _decide_two_directly(service)
    outbox = Outbox(runtime.licensing, channels=channels)
    assert outbox.collect() == 4  # two decision documents, two channels each
    assert outbox.collect() == 0  # nothing new
    assert outbox.deliver_due() == 4
    messages = [BytesParser(policy=policy.default).parsebytes(m.content) for m in mailbox.received]
    subjects = sorted(str(m["subject"]) for m in messages)
    assert subjects == [
        "不予许可决定书：城镇污水排入排水管网许可证",
        "准予许可决定书：食品经营许可证",
    ]
    refusal = next(m for m in messages if "不予" in str(m["subject"]))
    body = refusal.get_content()
    assert "未设置隔油池" in body and "排水条例第二十一条" in body and SHOP in body
    assert {m["to"].addresses[0].addr_spec for m in messages} == {APPLICANT["email"]}
    assert sorted(r.body["to"] for r in gateway.requests) == [APPLICANT["mobile"]] * 2
    # Each delivery's life is in the event store.
    emails = _deliveries(runtime, "email")
    assert len(emails) == 2
    for delivery_id in emails:
        delivery = runtime.app.repository.get(delivery_id)
        assert delivery.document_id.startswith(application["id"]) and delivery.state == "delivered"
        assert _events_of(runtime, delivery_id) == ["Queued", "Delivered"]
    # A restarted outbox finds nothing left to send and queues nothing twice.
    again = Outbox(runtime.licensing, channels=channels)
    assert again.collect() == 0 and again.deliver_due() == 0


def test_a_failing_gateway_is_retried_later_and_a_permanent_failure_stops(
    service: Service,
    gateway: Gateway,  # noqa: F811
) -> None:
    runtime = service.runtime
    clock = [datetime(2026, 11, 23, 9, 0, tzinfo=UTC)]
    outbox = Outbox(
        runtime.licensing,
        channels={"sms": SmsGateway(url=gateway.url, timeout=5.0)},
        policy=RetryPolicy(max_attempts=3, first_delay=60),
        now=lambda: clock[0],
    )
    _decide_two_directly(service)
    assert outbox.collect() == 2
    gateway.status = 503
    assert outbox.deliver_due() == 0
    assert sorted(outbox.pending.values()) == [clock[0] + timedelta(seconds=60)] * 2
    assert outbox.deliver_due() == 0 and len(gateway.requests) == 2  # not due yet: not tried
    clock[0] += timedelta(seconds=61)
    gateway.status = 400  # the gateway now refuses for good
    assert outbox.deliver_due() == 0
    assert outbox.pending == {}
    states = {runtime.app.repository.get(i).state for i in _deliveries(runtime, "sms")}
    assert states == {"failed"}
    for delivery_id in _deliveries(runtime, "sms"):
        assert _events_of(runtime, delivery_id) == ["Queued", "AttemptFailed", "AttemptFailed"]


def _deliveries(runtime: Runtime, channel: str) -> list:
    ids = []
    for notification in runtime.app.recorder.select_notifications(start=1, limit=1000):
        event = runtime.app.mapper.to_domain_event(notification)
        if isinstance(event, Delivery.Queued) and event.channel == channel:
            ids.append(event.originator_id)
    return ids


def test_the_operator_command_delivers_with_the_configured_smtp(
    server: str,
    runtime: Runtime,
    token: Callable[..., str],
    smtp_server,  # noqa: F811
) -> None:
    from click.testing import CliRunner

    from licensing.cli import main
    from tests.test_cli import _env_of

    mailbox = Mailbox()
    port = smtp_server(mailbox)
    with httpx.Client(base_url=server) as client:
        _decide_two(client, runtime, token)
    env = _env_of(runtime.settings) | {
        "LICENSING_SMTP_HOST": "127.0.0.1",
        "LICENSING_SMTP_PORT": str(port),
    }
    result = CliRunner().invoke(main, ["deliver"], env=env)
    assert result.exit_code == 0, result.output
    assert "queued 2, delivered 2, pending 0" in result.output
    assert len(mailbox.received) == 2
