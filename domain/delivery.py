"""One document's delivery to one address, every attempt an event: 电子送达 or a webhook push."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"  # permanently, or out of attempts: an operator must look
WEBHOOK = "webhook"  # the channel of feed entries pushed to a department's own system


class Delivery(Aggregate):
    """Queued once per document and channel; every attempt is an event."""

    @staticmethod
    def create_id(document_id: str, channel: str) -> UUID:
        # Deterministic: the outbox may see a decision twice, but queues it once.
        return uuid5(NAMESPACE_URL, f"/deliveries/{document_id}/{channel}")

    class Queued(Aggregate.Created):
        document_id: str
        # None for a feed entry pushed to a department (its body says what it concerns);
        # every delivery stored before webhooks has one.
        application_id: UUID | None
        channel: str
        to: str
        subject: str
        body: str
        recipient_name: str

    @event(Queued)
    def __init__(
        self,
        *,
        document_id: str,
        application_id: UUID | None,
        channel: str,
        to: str,
        subject: str,
        body: str,
        recipient_name: str,
    ) -> None:
        self.document_id = document_id
        self.application_id = application_id
        self.channel = channel
        self.to = to
        self.subject = subject
        self.body = body
        self.recipient_name = recipient_name
        self.state = PENDING
        self.attempts = 0
        self.next_attempt_at: datetime | None = None

    def _check_pending(self) -> None:
        if self.state != PENDING:
            msg = f"delivery of {self.document_id} by {self.channel} is {self.state}"
            raise Conflict(msg)

    def delivered(self, *, transport_id: str) -> None:
        self._check_pending()
        self._delivered(transport_id=transport_id)

    class Delivered(Aggregate.Event):
        transport_id: str

    @event(Delivered)
    def _delivered(self, *, transport_id: str) -> None:
        self.attempts += 1
        self.state = DELIVERED
        self.next_attempt_at = None

    def failed(self, *, reason: str, retry_at: datetime | None) -> None:
        """A failed attempt; `retry_at` None means no further attempt (permanent or exhausted)."""
        self._check_pending()
        self._failed(reason=reason, retry_at=retry_at)

    class AttemptFailed(Aggregate.Event):
        reason: str
        retry_at: datetime | None

    @event(AttemptFailed)
    def _failed(self, *, reason: str, retry_at: datetime | None) -> None:
        self.attempts += 1
        self.last_failure = reason
        self.next_attempt_at = retry_at
        if retry_at is None:
            self.state = FAILED
