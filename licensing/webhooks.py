"""Signed webhooks to the departments' own systems (推送): where each listens, the signature, the ordered push."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import standardwebhooks
import yaml
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.delivery import DELIVERED, PENDING, WEBHOOK, Delivery
from licensing.delivery import Channel, DeliveryFailed, Document, RetryPolicy
from licensing.metrics import count_delivery
from licensing.unit_of_work import Licensing

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 — the scheme's marker, not a secret
# The Standard Webhooks scheme asks for 24 to 64 random bytes.
SECRET_BYTES = (24, 64)
PAGE = 500
_DELIVERY_TOPICS = get_topic(Delivery) + "."


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def check_secret(secret: str) -> str:
    """The secret, stripped, if it is `whsec_` and base64 of 24–64 bytes; else ValueError
    (whose message never repeats the secret)."""
    secret = secret.strip()
    try:
        raw = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    low, high = SECRET_BYTES
    if not secret.startswith(SECRET_PREFIX) or not low <= len(raw) <= high:
        msg = f"a webhook secret is {SECRET_PREFIX} and base64 of {low} to {high} random bytes"
        raise ValueError(msg)
    return secret


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"not an http(s) URL: {url!r}"
        raise ValueError(msg)
    return url


@dataclass(frozen=True)
class Webhook:
    """A department's webhook: where it listens, its shared secret, and from which log
    position on its feed entries are pushed (earlier ones stay in the pull feed)."""

    department: str
    url: str
    since: int
    secret: str = field(repr=False)  # never in a log line, a message or an error


class WebhookRegistry:
    """The operator's list, in a folder of the data folder (`webhooks/`, mode 0700):
    `webhooks.yaml` (department, URL, since) and one `<department>.secret` (mode 0600) per
    department. Secrets live only there: never in the store, the settings or a log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index = folder / "webhooks.yaml"

    def _entries(self) -> list[dict[str, Any]]:
        if not self.index.exists():
            return []
        loaded = yaml.safe_load(self.index.read_text(encoding="utf-8")) or []
        assert isinstance(loaded, list), f"{self.index}: expected a list"
        return loaded

    def all(self) -> dict[str, Webhook]:
        hooks = {}
        for entry in self._entries():
            department = str(entry["department"])
            secret = (self.folder / f"{department}.secret").read_text(encoding="utf-8")
            hooks[department] = Webhook(
                department=department,
                url=str(entry["url"]),
                since=int(entry["since"]),
                secret=secret.strip(),
            )
        return hooks

    def get(self, department: str) -> Webhook | None:
        return self.all().get(department)

    def add(self, *, department: str, url: str, secret: str, since: int, replace: bool) -> Webhook:
        """Register (or, with `replace`, re-point or re-key) a department's webhook. Replacing
        keeps its `since`, so that nothing is skipped and nothing pushed again."""
        check_url(url)
        secret = check_secret(secret)
        entries = self._entries()
        existing = next((e for e in entries if e["department"] == department), None)
        if existing is not None and not replace:
            msg = f"department {department} already has a webhook; --replace to change it"
            raise ValueError(msg)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(self.folder / f"{department}.secret", secret + "\n")
        if existing is not None:
            existing["url"] = url
            since = int(existing["since"])
        else:
            entries.append({"department": department, "url": url, "since": since})
        _write_private(self.index, yaml.safe_dump(entries, allow_unicode=True, sort_keys=False))
        return Webhook(department=department, url=url, since=since, secret=secret)

    def remove(self, department: str) -> bool:
        entries = self._entries()
        kept = [e for e in entries if e["department"] != department]
        if len(kept) == len(entries):
            return False
        _write_private(self.index, yaml.safe_dump(kept, allow_unicode=True, sort_keys=False))
        (self.folder / f"{department}.secret").unlink(missing_ok=True)
        return True


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class WebhookSender:
    """The webhook channel: POSTs a feed entry (its JSON, byte for byte as written) to its
    department's URL, signed by the Standard Webhooks scheme (README: Webhooks):
    `webhook-id` (the entry's id), `webhook-timestamp` (Unix seconds) and `webhook-signature`
    (`v1,` and the base64 HMAC-SHA256, keyed with the secret's bytes, of
    `{webhook-id}.{webhook-timestamp}.{body}`)."""

    def __init__(
        self,
        registry: WebhookRegistry,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.timeout = timeout
        self.clock = clock

    def send(self, document: Document, *, to: str) -> str:
        hook = self.registry.get(to)
        if hook is None:  # removed meanwhile; re-adding it resumes
            raise DeliveryFailed(f"department {to} has no webhook", retryable=True)
        signed_at = datetime.fromtimestamp(int(self.clock()), tz=UTC)
        signature = standardwebhooks.Webhook(hook.secret).sign(
            msg_id=document.id, timestamp=signed_at, data=document.body
        )
        headers = {
            "Content-Type": "application/json",
            "webhook-id": document.id,
            "webhook-timestamp": str(int(signed_at.timestamp())),
            "webhook-signature": signature,
        }
        try:
            response = httpx.post(
                hook.url, content=document.body.encode(), headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException as error:
            raise DeliveryFailed("webhook timeout", retryable=True) from error
        except httpx.HTTPError as error:
            raise DeliveryFailed(
                f"webhook unreachable: {type(error).__name__}", retryable=True
            ) from error
        status = response.status_code
        if not 200 <= status < 300:
            # 5xx, 408 and 429 say "not now"; any other answer will not change by itself.
            retryable = status >= 500 or status in (408, 429)
            raise DeliveryFailed(f"webhook answered {status}", retryable=retryable)
        return f"HTTP {status}"


class FeedSource(Protocol):
    """Where the push finds the entries: the read model's feeds (`projections.feed.entries`)."""

    def feed(
        self, department: str, *, after: str | None, since: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]: ...


class WebhookOutbox:
    """Queues one delivery per feed entry for every department with a webhook (its id derives
    from the entry's: never queued twice), and sends them with retries, in feed order per
    department: the next entry waits until the one before is delivered or has failed for
    good. Its memory is rebuilt from the log, so a restart loses and repeats nothing.

    The order holds because a department's deliveries enter the log in feed order: every
    queuer walks the feed in order and goes past an entry only once it is queued, by itself
    or (the store refuses the same id twice) by another; the queue is that log order."""

    def __init__(
        self,
        licensing: Licensing,
        *,
        feed: FeedSource,
        registry: WebhookRegistry,
        sender: Channel | None = None,
        policy: RetryPolicy | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    ) -> None:
        self.licensing = licensing
        self.feed = feed
        self.registry = registry
        self.sender = sender or WebhookSender(registry)
        self.policy = policy or RetryPolicy()
        self.now = now
        self.position = 0
        # Per department, its pending deliveries in log order (dicts keep insertion order).
        self.queues: dict[str, dict[UUID, None]] = {}
        self.not_before: dict[UUID, datetime] = {}
        self.department_of: dict[UUID, str] = {}
        self.queued_up_to: dict[str, str] = {}  # department -> cursor of its last entry queued

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self.queues.values())

    def _read_log(self) -> None:
        store = self.licensing.store
        while True:
            notifications = store.recorder.select_notifications(
                start=self.position, limit=PAGE, inclusive_of_start=False
            )
            if not notifications:
                return
            for notification in notifications:
                if not notification.topic.startswith(_DELIVERY_TOPICS):
                    continue  # skip decoding what is not a delivery's
                event = store.mapper.to_domain_event(notification)
                self._follow(event)
            self.position = notifications[-1].id

    def _follow(self, event: Any) -> None:
        delivery_id: UUID = event.originator_id
        if isinstance(event, Delivery.Queued):
            if event.channel == WEBHOOK:
                self.queues.setdefault(event.to, {})[delivery_id] = None
                self.department_of[delivery_id] = event.to
                self.queued_up_to[event.to] = _entry_cursor(event.body)
        elif delivery_id not in self.department_of:
            return  # an applicant's delivery
        elif isinstance(event, Delivery.AttemptFailed) and event.retry_at is not None:
            self.not_before[delivery_id] = event.retry_at
        else:  # delivered, or failed for good
            self._done(delivery_id)

    def _done(self, delivery_id: UUID) -> None:
        department = self.department_of.pop(delivery_id, None)
        if department is not None:
            self.queues[department].pop(delivery_id, None)
        self.not_before.pop(delivery_id, None)

    def collect(self) -> int:
        """Queue every new feed entry of every department with a webhook; returns how many."""
        self._read_log()
        queued = 0
        for hook in self.registry.all().values():
            after = self.queued_up_to.get(hook.department)
            while True:
                rows = self.feed.feed(hook.department, after=after, since=hook.since, limit=PAGE)
                for row in rows:
                    queued += self._queue(hook.department, row)
                    after = row["cursor"]
                if len(rows) < PAGE:
                    break
        self._read_log()  # the queues are the log's order, whoever queued
        return queued

    def _queue(self, department: str, row: dict[str, Any]) -> int:
        delivery = Delivery(
            document_id=row["entry_id"],
            application_id=None,
            channel=WEBHOOK,
            to=department,
            subject=row["type"],
            body=row["body"],
            recipient_name=department,
        )
        try:
            self.licensing.store.save(delivery)
        except IntegrityError:
            return 0  # queued before (a restart, or another process)
        return 1

    def deliver_due(self) -> int:
        """Send each department's next entries while they go through; returns how many."""
        sent = 0
        now = self.now()
        hooks = self.registry.all()
        for department in sorted(self.queues):
            if department not in hooks:
                continue  # its webhook was removed: its entries wait (and stay in the feed)
            queue = self.queues[department]
            while queue:
                delivery_id = next(iter(queue))
                not_before = self.not_before.get(delivery_id)
                if not_before is not None and not_before > now:
                    break  # the head waits for its retry, and the rest wait for the head
                outcome = self._attempt(delivery_id, now)
                if outcome is None:
                    break
                sent += outcome
        return sent

    def _attempt(self, delivery_id: UUID, now: datetime) -> int | None:
        """One attempt at the head of a queue: 1 delivered, 0 over with (failed for good, or
        done elsewhere), None when the queue must wait."""
        delivery: Delivery = self.licensing.store.repository.get(delivery_id)
        if delivery.state != PENDING:
            self._done(delivery_id)
            return 0
        document = Document(
            id=delivery.document_id,
            subject=delivery.subject,
            body=delivery.body,
            recipient_name=delivery.recipient_name,
        )
        retry_at: datetime | None = None
        try:
            transport_id = self.sender.send(document, to=delivery.to)
        except DeliveryFailed as error:
            delay = self.policy.next_delay(delivery.attempts + 1) if error.retryable else None
            retry_at = now + timedelta(seconds=delay) if delay is not None else None
            delivery.failed(reason=error.reason, retry_at=retry_at)
            count_delivery(WEBHOOK, failed=True, final=retry_at is None)
        else:
            delivery.delivered(transport_id=transport_id)
            count_delivery(WEBHOOK)
        try:
            self.licensing.store.save(delivery)
        except IntegrityError:
            return None  # another process attempted it meanwhile; the log will say how
        if retry_at is not None:
            self.not_before[delivery_id] = retry_at
            return None
        self._done(delivery_id)
        if delivery.state != DELIVERED:
            log.error(
                "webhook entry %s to %s failed for good: %s",
                delivery.document_id,
                delivery.to,
                delivery.last_failure,
            )
            return 0
        return 1


def _entry_cursor(body: str) -> str:
    return str(json.loads(body)["cursor"])
