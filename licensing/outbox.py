"""The outbox: decision documents out of the event log, to the applicant's e-mail and phone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.bundle import BundleApplication
from domain.delivery import PENDING, Delivery
from licensing.delivery import Channel, DeliveryFailed, Document, RetryPolicy, is_email, is_mobile
from licensing.service import Licensing

log = logging.getLogger(__name__)
DECISIONS = (BundleApplication.TaskApproved, BundleApplication.TaskRefused)


class Outbox:
    """Reads the log for decisions, queues one delivery per document and channel (idempotent:
    a delivery's id derives from the document), and sends what is due with retries. Its
    index of pending deliveries is rebuilt from the log, so a restart loses nothing."""

    def __init__(
        self,
        app: Licensing,
        *,
        channels: dict[str, Channel],
        policy: RetryPolicy | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    ) -> None:
        self.app = app
        self.channels = channels
        self.policy = policy or RetryPolicy()
        self.now = now
        self.position = 0
        self.pending: dict[UUID, datetime | None] = {}  # delivery id -> not before

    def collect(self) -> int:
        """Queue deliveries for decisions not seen yet; returns how many were queued."""
        queued = 0
        while True:
            notifications = self.app.recorder.select_notifications(
                start=self.position, limit=500, inclusive_of_start=False
            )
            if not notifications:
                return queued
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                if isinstance(event, DECISIONS):
                    queued += self._queue(event)
                elif isinstance(event, Delivery.Queued):
                    self.pending.setdefault(event.originator_id, None)
                elif isinstance(event, Delivery.AttemptFailed | Delivery.Delivered):
                    if getattr(event, "retry_at", None) is None:
                        self.pending.pop(event.originator_id, None)
                    else:
                        self.pending[event.originator_id] = event.retry_at
            self.position = notifications[-1].id

    def _queue(self, decision: Any) -> int:
        application = self.app.get_application(decision.originator_id)
        document = decision_document(self.app, application, decision)
        addresses = {
            "email": application.applicant.get("email"),
            "sms": application.applicant.get("mobile"),
        }
        queued = 0
        for channel, to in addresses.items():
            if channel not in self.channels or not to:
                continue
            if not (is_email(to) if channel == "email" else is_mobile(to)):
                continue
            delivery = Delivery(
                document_id=document.id,
                application_id=application.id,
                channel=channel,
                to=to,
                subject=document.subject,
                body=document.body,
                recipient_name=document.recipient_name,
            )
            try:
                self.app.save(delivery)
            except IntegrityError:
                continue  # queued before (a restart, or another outbox)
            self.pending[delivery.id] = None
            queued += 1
        return queued

    def deliver_due(self) -> int:
        """Attempt every pending delivery whose time has come; returns how many were sent."""
        sent = 0
        now = self.now()
        for delivery_id, not_before in sorted(self.pending.items(), key=lambda kv: str(kv[0])):
            if not_before is not None and not_before > now:
                continue
            delivery: Delivery = self.app.repository.get(delivery_id)
            if delivery.state != PENDING:
                self.pending.pop(delivery_id, None)
                continue
            document = Document(
                id=delivery.document_id,
                subject=delivery.subject,
                body=delivery.body,
                recipient_name=delivery.recipient_name,
            )
            try:
                transport_id = self.channels[delivery.channel].send(document, to=delivery.to)
            except DeliveryFailed as error:
                delay = self.policy.next_delay(delivery.attempts + 1) if error.retryable else None
                retry_at = now + timedelta(seconds=delay) if delay is not None else None
                delivery.failed(reason=error.reason, retry_at=retry_at)
                if retry_at is None:
                    log.error(
                        "delivery %s by %s failed for good: %s",
                        delivery.document_id,
                        delivery.channel,
                        error.reason,
                    )
                    self.pending.pop(delivery_id, None)
                else:
                    self.pending[delivery_id] = retry_at
            else:
                delivery.delivered(transport_id=transport_id)
                self.pending.pop(delivery_id, None)
                sent += 1
            self.app.save(delivery)
        return sent


def decision_document(app: Licensing, application: BundleApplication, decision: Any) -> Document:
    """The decision document (许可决定书) of one task, in Chinese first, then English."""
    catalogue = app.catalogue
    permit = catalogue.permit_types.get(decision.permit_type)
    department = catalogue.departments.get(permit.department) if permit else None
    name_zh = permit.name_zh if permit else decision.permit_type
    name_en = permit.name_en if permit else decision.permit_type
    approved = isinstance(decision, BundleApplication.TaskApproved)
    title = "准予许可决定书" if approved else "不予许可决定书"
    lines = [
        f"{title}（{name_zh}）",
        f"统一社会信用代码：{application.uscc}",
        f"决定机关：{department.name_zh if department else decision.actor.department}",
        f"决定日期：{decision.timestamp.date().isoformat()}",
    ]
    if approved:
        lines.append(f"许可证编号：{decision.permit_number}")
    else:
        lines += [
            f"理由：{decision.reason}",
            f"依据：{decision.legal_basis}",
            "如不服本决定，可依法申请行政复议或者提起行政诉讼。",
        ]
    lines += [
        "",
        f"{'Decision to grant' if approved else 'Decision to refuse'}: {name_en}",
        f"USCC {application.uscc}; decided {decision.timestamp.date().isoformat()}.",
    ]
    return Document(
        id=f"{application.id}.{decision.permit_type}.{decision.originator_version}",
        subject=f"{title}：{name_zh}",
        body="\n".join(lines),
        recipient_name=str(application.applicant.get("contact_name", "")),
    )
