"""What every part of the write side shares: the receipt a command hands back, the loaders
of the aggregates, and the retry that makes a command safe under concurrent change."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Recording
from eventsourcing.utils import get_topic

from domain.bundle import BundleApplication
from domain.credit import CreditRecord
from domain.errors import DomainError, InvalidParam, NotFound, ValidationFailed
from domain.permit import Permit
from domain.registration import BusinessRegistration

if TYPE_CHECKING:
    from licensing.calendar import WorkingCalendar
    from licensing.catalogue import Catalogue

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BusinessDetails:
    """What the 营业执照 records; the legal representative's details are personal data."""

    uscc: str
    name: str
    entity_type: str
    legal_representative: dict[str, Any]
    domicile: str
    business_scope: str
    registered_capital: Decimal


@dataclass(frozen=True)
class Receipt:
    """What a command hands back: the thing it touched and its position in the event log."""

    id: UUID
    uscc: str
    position: int


class Commands:
    """The base of the write side's parts (intake, lifecycle, credit): what they may use of
    the application that assembles them (`licensing.service.Licensing`)."""

    repository: Repository[UUID]
    recorder: ApplicationRecorder
    catalogue: Catalogue
    calendar: WorkingCalendar
    today: Callable[[], date]

    if TYPE_CHECKING:

        def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]: ...

    # Queries (strongly consistent: they read the aggregates, not the read model).

    def get_application(self, application_id: UUID) -> BundleApplication:
        try:
            application = self.repository.get(application_id)
        except AggregateNotFoundError:
            msg = f"no application {application_id}"
            raise NotFound(msg) from None
        if not isinstance(application, BundleApplication):
            msg = f"no application {application_id}"
            raise NotFound(msg)
        return application

    def get_registration(self, uscc: str) -> BusinessRegistration:
        try:
            return self.repository.get(BusinessRegistration.create_id(uscc))
        except AggregateNotFoundError:
            msg = f"no business registered with USCC {uscc}"
            raise NotFound(msg) from None

    def get_permit(self, uscc: str, permit_type: str) -> Permit:
        try:
            return self.repository.get(Permit.create_id(uscc, permit_type))
        except AggregateNotFoundError:
            msg = f"business {uscc} has no permit {permit_type}"
            raise NotFound(msg) from None

    def _credit_record(self, uscc: str) -> CreditRecord:
        """The business's credit record; a new, empty one if it was never listed."""
        try:
            return self.repository.get(CreditRecord.create_id(uscc))
        except AggregateNotFoundError:
            return CreditRecord(uscc=uscc)

    def _credit_snapshot(self, uscc: str, today: date) -> dict[str, Any]:
        """What an application records of the applicant's credit when it is submitted."""
        listings = self._credit_record(uscc).active_listings()
        return {"checked_on": today.isoformat(), "listings": listings}

    @staticmethod
    def _require(**texts: str) -> None:
        """Each named text must say something; every empty one is named, nothing written."""
        problems = [
            InvalidParam(name, "must not be empty")
            for name, text in texts.items()
            if not text.strip()
        ]
        if problems:
            raise ValidationFailed(problems)

    def _each(self, created: type, job: str, act: Callable[[UUID], list[Receipt]]) -> list[Receipt]:
        """A daily job's pass over every aggregate of a kind (`created`: its first event).
        One that cannot be done now (a rule changed, a conflict) is logged and skipped, so
        that it does not stop the others, nor the jobs after this one."""
        receipts: list[Receipt] = []
        for notification in self.recorder.select_notifications(
            start=None, limit=1_000_000, topics=[get_topic(created)]
        ):
            try:
                receipts += act(notification.originator_id)
            except DomainError as error:
                log.warning("%s: %s skipped: %s", job, notification.originator_id, error)
        return receipts

    @staticmethod
    def _retry(command: Callable[[], T], *, attempts: int = 40) -> T:
        """Optimistic concurrency: departments deciding one bundle at once collide on its
        version; re-run the whole command on fresh state, with jittered backoff."""
        for attempt in range(attempts):
            try:
                return command()
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0, 0.002 * (2 ** min(attempt, 6))))  # noqa: S311
        raise AssertionError  # pragma: no cover
