"""Electronic delivery (电子送达) of documents to applicants by e-mail and SMS, and its retry policy."""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

import httpx

SMS_LIMIT = 500  # gateway limit; the text we send is always strictly shorter

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
_MSGID_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Document:
    """A document (decision, notice, reminder) ready to be delivered; `id` is stable across
    retries, and ASCII: the SMS gateway gets it in an HTTP header."""

    id: str
    subject: str
    body: str
    recipient_name: str


class DeliveryFailed(Exception):
    """A send that did not go through; `retryable` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"DeliveryFailed({self.reason!r}, retryable={self.retryable})"


class Channel(Protocol):
    """Anything that delivers a document to one address and returns the transport's message id."""

    def send(self, document: Document, *, to: str) -> str: ...


def is_mobile(s: str) -> bool:
    """A mainland China mobile number: 11 ASCII digits starting with 1 (then 3–9)."""
    return _MOBILE.fullmatch(s) is not None


def is_email(s: str) -> bool:
    """A plain ASCII addr-spec such as `name@example.cn`; syntax only, no DNS."""
    return len(s) <= 254 and _EMAIL.fullmatch(s) is not None


def message_id(document_id: str, *, domain: str) -> str:
    """The Message-ID for a document: the same id always gives the same header."""
    local = (
        document_id
        if _MSGID_SAFE.fullmatch(document_id)
        else hashlib.sha256(document_id.encode()).hexdigest()[:40]
    )
    return f"<doc.{local}@{domain}>"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _smtp_failure(phase: str, code: int, text: bytes | str) -> DeliveryFailed:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    # 4xx is the server saying "not now"; 5xx is "never, as things stand".
    return DeliveryFailed(f"smtp {phase} {code}: {detail}".strip(), retryable=400 <= code < 500)


class EmailSender:
    """Sends documents as UTF-8 plain-text e-mail through one SMTP relay."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    def _build(self, document: Document, *, to: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = _one_line(document.subject)
        msg["From"] = self.sender
        msg["To"] = Address(display_name=_one_line(document.recipient_name), addr_spec=to)
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = message_id(document.id, domain=self._domain)
        msg["X-Document-Id"] = document.id
        # base64 keeps the Chinese text intact through relays that lack 8BITMIME.
        msg.set_content(document.body, charset="utf-8", cte="base64")
        return msg

    def send(self, document: Document, *, to: str) -> str:
        if not is_email(to):
            raise DeliveryFailed("invalid e-mail address", retryable=False)
        try:
            msg = self._build(document, to=to)
        except ValueError as error:  # e.g. a line break in the document id
            raise DeliveryFailed(
                f"document does not fit an e-mail: {error}", retryable=False
            ) from error
        envelope_from = parseaddr(self.sender)[1]
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg, from_addr=envelope_from, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients.get(to, (550, b"recipient refused"))
            raise _smtp_failure("recipient refused", code, text) from error
        except smtplib.SMTPSenderRefused as error:
            raise _smtp_failure("sender refused", error.smtp_code, error.smtp_error) from error
        except smtplib.SMTPAuthenticationError as error:
            raise _smtp_failure("login", error.smtp_code, error.smtp_error) from error
        except smtplib.SMTPConnectError as error:
            # A refused greeting is a transport problem, not a verdict on this document.
            raise DeliveryFailed(
                f"smtp connect {error.smtp_code}: {error.smtp_error!r}", retryable=True
            ) from error
        except smtplib.SMTPResponseException as error:
            raise _smtp_failure("reply", error.smtp_code, error.smtp_error) from error
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryFailed(f"smtp relay lacks a feature: {error}", retryable=False) from error
        except smtplib.SMTPServerDisconnected as error:
            raise DeliveryFailed(f"smtp disconnected: {error}", retryable=True) from error
        except smtplib.SMTPException as error:
            raise DeliveryFailed(f"smtp error: {error}", retryable=True) from error
        except TimeoutError as error:
            raise DeliveryFailed("smtp timeout", retryable=True) from error
        except OSError as error:
            raise DeliveryFailed(f"smtp connection failed: {error}", retryable=True) from error
        return str(msg["Message-ID"])


def sms_text(document: Document) -> str:
    """The short notice sent by SMS: who, the subject (shortened if needed), where to read it."""
    head = f"【证照通】{_one_line(document.recipient_name)}："
    tail = (
        f"\n文书全文（编号 {document.id}）已电子送达，请登录证照通或到办理窗口查阅。"
        f"\nFull document no. {document.id}: see 证照通 online or at the service window."
    )
    subject = _one_line(document.subject)
    room = SMS_LIMIT - 1 - len(head) - len(tail)
    if len(subject) > room:
        subject = subject[: max(room - 1, 0)] + "…"
    # Only an absurdly long id or name can still overflow; the gateway limit wins.
    return (head + subject + tail)[: SMS_LIMIT - 1]


class SmsGateway:
    """Sends a short notice of a document to a mobile number through an HTTP SMS gateway."""

    def __init__(self, *, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, document: Document, *, to: str) -> str:
        if not is_mobile(to):
            raise DeliveryFailed("invalid mobile number", retryable=False)
        headers = {"Idempotency-Key": document.id}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = {"to": to, "text": sms_text(document), "idempotency_key": document.id}
        try:
            response = httpx.post(self.url, json=payload, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException as error:
            raise DeliveryFailed("gateway timeout", retryable=True) from error
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"gateway unreachable: {error}", retryable=True) from error
        status = response.status_code
        if not 200 <= status < 300:
            retryable = status >= 500 or status in (408, 429)
            raise DeliveryFailed(f"gateway answered {status}", retryable=retryable)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        gateway_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(gateway_id, str) or not gateway_id:
            raise DeliveryFailed("gateway answered without an id", retryable=False)
        return gateway_id


@dataclass(frozen=True)
class RetryPolicy:
    """Deterministic exponential backoff, without jitter so replays schedule exactly alike."""

    max_attempts: int = 6
    first_delay: float = 30.0
    factor: float = 4.0
    max_delay: float = 6 * 3600

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.first_delay < 0 or self.max_delay < self.first_delay:
            raise ValueError("need 0 <= first_delay <= max_delay")
        if self.factor < 1:
            raise ValueError("factor must be at least 1")

    def next_delay(self, attempt: int) -> float | None:
        """Seconds to wait after failed attempt number `attempt` (from 1); None when spent."""
        if attempt < 1:
            raise ValueError("attempt counts from 1")
        if attempt >= self.max_attempts:
            return None
        try:
            delay = self.first_delay * self.factor ** (attempt - 1)
        except OverflowError:
            return self.max_delay
        return min(delay, self.max_delay)
