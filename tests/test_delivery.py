"""Electronic delivery (电子送达): a decision reaches the applicant's e-mail and mobile, or says why not."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from licensing.delivery import (
    SMS_LIMIT,
    Channel,
    DeliveryFailed,
    Document,
    EmailSender,
    RetryPolicy,
    SmsGateway,
    is_email,
    is_mobile,
    message_id,
    sms_text,
)

SENDER = "证照通 <noreply@zzt.example.cn>"
TO = "zhangsan@example.cn"
MOBILE = "13800138000"

DECISION = Document(
    id="DEC-2024-000123",
    subject="准予行政许可决定书（食品经营许可）/ Decision granting the food business permit",
    body=(
        "张三：\n"
        "你单位提交的食品经营许可申请，经审查，符合法定条件，决定准予许可。\n"
        "许可证编号：JY13101010000001，有效期五年。\n"
        "\n"
        "Dear Zhang San,\n"
        "your application for a food business permit meets the statutory conditions and is granted.\n"
        "Permit no. JY13101010000001, valid for five years."
    ),
    recipient_name="张三",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The stub gateway lives on 127.0.0.1; a developer's proxy settings must not reroute it.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


# --- a real SMTP server on 127.0.0.1 ---------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


class Mailbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 OK"


class RefusingMailbox(Mailbox):
    """Answers every RCPT TO with a fixed reply."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        return self.reply


def _only_clerk(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = auth_data.login == b"clerk" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., int]]:
    """Starts aiosmtpd controllers on free local ports; returns their port; stops them all."""
    running: list[Controller] = []

    def start(handler: Mailbox, **smtp_options: Any) -> int:
        controller = Controller(
            handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=5.0, **smtp_options
        )
        controller.start()
        running.append(controller)
        return int(controller.port)

    try:
        yield start
    finally:
        for controller in running:
            controller.stop()


def _sender(port: int, **options: Any) -> EmailSender:
    return EmailSender(host="127.0.0.1", port=port, sender=SENDER, timeout=5.0, **options)


def _parse(raw: bytes) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_decision_arrives_by_email_with_chinese_text_intact(
    smtp_server: Callable[..., int],
) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)

    sent_id = _sender(port).send(DECISION, to=TO)

    assert len(mailbox.received) == 1
    got = mailbox.received[0]
    assert got.mail_from == "noreply@zzt.example.cn"
    assert got.rcpt_tos == [TO]
    assert got.content.isascii()  # safe through relays without 8BITMIME
    message = _parse(got.content)
    assert message["Subject"] == DECISION.subject
    assert message["From"].addresses[0].display_name == "证照通"
    assert message["From"].addresses[0].addr_spec == "noreply@zzt.example.cn"
    assert message["To"].addresses[0].display_name == "张三"
    assert message["To"].addresses[0].addr_spec == TO
    assert message["Message-ID"] == sent_id == "<doc.DEC-2024-000123@zzt.example.cn>"
    assert message["X-Document-Id"] == DECISION.id
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content() == DECISION.body + "\n"


def test_a_retried_email_carries_the_same_message_id(smtp_server: Callable[..., int]) -> None:
    mailbox = Mailbox()
    sender = _sender(smtp_server(mailbox))

    first = sender.send(DECISION, to=TO)
    second = sender.send(DECISION, to=TO)

    assert first == second
    assert [_parse(r.content)["Message-ID"] for r in mailbox.received] == [first, second]


def test_line_breaks_in_the_subject_cannot_break_the_headers(
    smtp_server: Callable[..., int],
) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    multiline = Document(
        id="DEC-2", subject="准予许可\r\nBcc: x@y.cn", body="正文", recipient_name="张三"
    )

    _sender(port).send(multiline, to=TO)
    with pytest.raises(DeliveryFailed) as caught:
        _sender(port).send(Document(id="D\nX", subject="s", body="b", recipient_name="n"), to=TO)

    message = _parse(mailbox.received[0].content)
    assert message["Subject"] == "准予许可 Bcc: x@y.cn"
    assert message["Bcc"] is None
    assert mailbox.received[0].rcpt_tos == [TO]
    assert caught.value.retryable is False


def test_message_id_is_deterministic_and_well_formed_for_any_document_id() -> None:
    odd = "决定书 2024/第1号 <x>"
    assert message_id(odd, domain="zzt.example.cn") == message_id(odd, domain="zzt.example.cn")
    local, _, domain = message_id(odd, domain="zzt.example.cn").strip("<>").partition("@")
    assert local.startswith("doc.") and local.isascii() and " " not in local
    assert domain == "zzt.example.cn"
    assert message_id("a", domain="d.cn") != message_id("b", domain="d.cn")


def test_recipient_refused_with_550_is_permanent(smtp_server: Callable[..., int]) -> None:
    port = smtp_server(RefusingMailbox("550 5.1.1 mailbox unavailable"))

    with pytest.raises(DeliveryFailed) as caught:
        _sender(port).send(DECISION, to=TO)

    assert caught.value.retryable is False
    assert "550" in caught.value.reason


def test_recipient_deferred_with_451_is_retryable(smtp_server: Callable[..., int]) -> None:
    port = smtp_server(RefusingMailbox("451 4.3.0 try again later"))

    with pytest.raises(DeliveryFailed) as caught:
        _sender(port).send(DECISION, to=TO)

    assert caught.value.retryable is True
    assert "451" in caught.value.reason


def test_closed_smtp_port_is_retryable() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        _sender(_free_port()).send(DECISION, to=TO)

    assert caught.value.retryable is True


def test_email_login_when_username_is_configured(smtp_server: Callable[..., int]) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox, authenticator=_only_clerk, auth_require_tls=False)

    _sender(port, username="clerk", password="s3cret").send(DECISION, to=TO)
    with pytest.raises(DeliveryFailed) as caught:
        _sender(port, username="clerk", password="wrong").send(DECISION, to=TO)

    assert len(mailbox.received) == 1
    assert caught.value.retryable is False  # 535: retrying the same credentials cannot help


def test_starttls_required_but_not_offered_is_permanent(smtp_server: Callable[..., int]) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)

    with pytest.raises(DeliveryFailed) as caught:
        _sender(port, starttls=True).send(DECISION, to=TO)

    assert caught.value.retryable is False
    assert mailbox.received == []


def test_bad_email_address_fails_before_any_connection() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        _sender(_free_port()).send(DECISION, to="not an address\r\nBcc: x@y.cn")

    assert caught.value.retryable is False


# --- a stub SMS gateway on 127.0.0.1 --------------------------------------------------------


@dataclass
class Recorded:
    path: str
    headers: Message
    body: Any


@dataclass
class Gateway:
    url: str = ""
    status: int = 200
    answer: bytes = b'{"id":"sms-1"}'
    delay: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(Recorded(self.path, self.headers, json.loads(raw)))
            if state.delay:
                state.release.wait(state.delay)
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(state.answer)))
                self.end_headers()
                self.wfile.write(state.answer)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/v1/sms"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_decision_notice_reaches_the_mobile(gateway: Gateway) -> None:
    sms = SmsGateway(url=gateway.url, token="tok-123", timeout=5.0)

    assert sms.send(DECISION, to=MOBILE) == "sms-1"

    [request] = gateway.requests
    assert request.path == "/v1/sms"
    assert request.headers["Idempotency-Key"] == DECISION.id
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "to": MOBILE,
        "text": sms_text(DECISION),
        "idempotency_key": DECISION.id,
    }
    assert DECISION.subject in request.body["text"]
    assert DECISION.id in request.body["text"]


def test_no_token_means_no_authorization_header(gateway: Gateway) -> None:
    SmsGateway(url=gateway.url, timeout=5.0).send(DECISION, to=MOBILE)

    assert gateway.requests[0].headers["Authorization"] is None


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (408, True), (429, True), (400, False), (401, False), (404, False)],
)
def test_gateway_status_decides_whether_to_retry(
    gateway: Gateway, status: int, retryable: bool
) -> None:
    gateway.status = status
    gateway.answer = b'{"error":"x"}'

    with pytest.raises(DeliveryFailed) as caught:
        SmsGateway(url=gateway.url, timeout=5.0).send(DECISION, to=MOBILE)

    assert caught.value.retryable is retryable
    assert str(status) in caught.value.reason


@pytest.mark.parametrize("answer", [b"{}", b'{"id":""}', b'{"id":7}', b"[]", b"not json"])
def test_gateway_answer_without_an_id_is_permanent(gateway: Gateway, answer: bytes) -> None:
    gateway.answer = answer

    with pytest.raises(DeliveryFailed) as caught:
        SmsGateway(url=gateway.url, timeout=5.0).send(DECISION, to=MOBILE)

    assert caught.value.retryable is False
    assert caught.value.reason == "gateway answered without an id"


def test_slow_gateway_times_out_and_is_retryable(gateway: Gateway) -> None:
    gateway.delay = 5.0  # released at teardown; the sender gives up after 0.2 s

    with pytest.raises(DeliveryFailed) as caught:
        SmsGateway(url=gateway.url, timeout=0.2).send(DECISION, to=MOBILE)

    assert caught.value.retryable is True


def test_unreachable_gateway_is_retryable() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        SmsGateway(url=f"http://127.0.0.1:{_free_port()}/", timeout=2.0).send(DECISION, to=MOBILE)

    assert caught.value.retryable is True


def test_bad_mobile_fails_before_any_request(gateway: Gateway) -> None:
    with pytest.raises(DeliveryFailed) as caught:
        SmsGateway(url=gateway.url).send(DECISION, to="1380013800")

    assert caught.value.retryable is False
    assert gateway.requests == []


def test_sms_text_stays_under_the_limit_and_keeps_where_to_read() -> None:
    long = Document(
        id="DEC-9", subject="准予许可决定 " * 200, body="…", recipient_name="某某餐饮有限公司"
    )

    text = sms_text(long)

    assert len(text) < SMS_LIMIT
    assert "…" in text
    assert text.startswith("【证照通】某某餐饮有限公司：准予许可决定")
    assert "DEC-9" in text and "证照通" in text.splitlines()[-1]
    assert len(sms_text(DECISION)) < SMS_LIMIT
    assert "…" not in sms_text(DECISION)


def test_both_transports_are_channels() -> None:
    channels: list[Channel] = [
        EmailSender(host="127.0.0.1", port=25, sender=SENDER),
        SmsGateway(url="http://127.0.0.1/"),
    ]
    assert len(channels) == 2


# --- addresses and retry policy --------------------------------------------------------------


@pytest.mark.parametrize("value", ["13800138000", "19912345678", "15000000000"])
def test_is_mobile_accepts_mainland_numbers(value: str) -> None:
    assert is_mobile(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1380013800",
        "138001380000",
        "23800138000",
        "10800138000",
        "+8613800138000",
        "138-0013-8000",
        "１３８００１３８０００",
        "13800138000\n",
    ],
)
def test_is_mobile_refuses_everything_else(value: str) -> None:
    assert not is_mobile(value)


@pytest.mark.parametrize(
    "value", ["a@b.cn", "zhang.san+permit@gov.example.cn", "x_1@sub-d.example.com"]
)
def test_is_email_accepts_plain_addresses(value: str) -> None:
    assert is_email(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a@b",
        "@b.cn",
        "a@",
        "a b@c.cn",
        "a@b..cn",
        "张三@example.cn",
        "a@b.cn\n",
        "a@b.cn>, c@d.cn",
        "a@-b.cn",
    ],
)
def test_is_email_refuses_everything_else(value: str) -> None:
    assert not is_email(value)


def test_default_retry_policy_backs_off_then_gives_up() -> None:
    policy_ = RetryPolicy()

    assert [policy_.next_delay(n) for n in range(1, 8)] == [
        30.0,
        120.0,
        480.0,
        1920.0,
        7680.0,
        None,
        None,
    ]


def test_retry_delay_is_capped_at_max_delay() -> None:
    policy_ = RetryPolicy(max_attempts=10)

    assert [policy_.next_delay(n) for n in range(1, 11)] == [
        30.0,
        120.0,
        480.0,
        1920.0,
        7680.0,
        21600.0,
        21600.0,
        21600.0,
        21600.0,
        None,
    ]
    assert RetryPolicy(max_attempts=10_000).next_delay(9_999) == 21600.0


def test_retry_policy_edges() -> None:
    assert RetryPolicy(max_attempts=1).next_delay(1) is None
    assert (
        RetryPolicy(first_delay=1.0, factor=2.0, max_delay=5.0, max_attempts=5).next_delay(4) == 5.0
    )
    with pytest.raises(ValueError, match="attempt counts from 1"):
        RetryPolicy().next_delay(0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="factor"):
        RetryPolicy(factor=0.5)
