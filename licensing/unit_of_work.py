"""One command, one unit of work: load the aggregates it acts on, let the domain act, save
every change in one transaction, and on a concurrent change run the whole command again."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.acceptance import credit_snapshot, default_expiry
from domain.access import AccessLog
from domain.actor import Actor
from domain.bundle import BundleApplication
from domain.china import today_in_china
from domain.credit import CreditRecord
from domain.errors import InvalidParam, NotFound, PreconditionFailed, ValidationFailed
from domain.payloads import CreditSnapshot
from domain.permit import Permit
from domain.registration import BusinessRegistration
from domain.text import check_event
from licensing.calendar import WorkingCalendar
from licensing.catalogue import Catalogue
from licensing.conditions import AnsweredRequest, Conditions
from licensing.conditions import current as current_conditions
from licensing.store import EventStore

P = ParamSpec("P")
A = TypeVar("A", bound=Aggregate)
log = logging.getLogger(__name__)

# Departments deciding one bundle at once collide on its version; each collision re-runs the
# whole command on fresh state, with jittered, growing backoff.
ATTEMPTS = 40


@dataclass(frozen=True)
class Receipt:
    """What a command hands back: the thing it acted on and its position in the event log
    (0 for a request answered before: nothing new was written)."""

    id: UUID
    uscc: str
    position: int
    replayed: bool = False


class Subject(Protocol):
    """What a command acted on: an aggregate of one business."""

    @property
    def id(self) -> UUID: ...

    @property
    def uscc(self) -> str: ...


class CodeDeriver(Protocol):
    """Derives an application's progress codes (`licensing.progress.ProgressCodes`)."""

    def code(self, application_id: UUID, issue: int) -> str: ...


class Licensing:
    """What every command needs besides its input: the event store, the catalogue, the
    working-day calendar and the clock (replaceable, so that deadlines can be tested).
    Its queries read the aggregates themselves: strongly consistent, unlike the read model."""

    def __init__(
        self,
        store: EventStore,
        *,
        catalogue: Catalogue,
        calendar: WorkingCalendar,
        today: Callable[[], date] = today_in_china,
        progress_codes: CodeDeriver | None = None,
    ) -> None:
        self.store = store
        # 办件查询: derives each accepted application's code (none: no codes are issued).
        self.progress_codes = progress_codes
        self.catalogue = catalogue
        self.calendar = calendar
        self.today = today

    def load(self, aggregate_id: UUID, kind: type[A], missing: str) -> A:
        """The aggregate of that kind, or NotFound saying `missing`."""
        try:
            aggregate: Aggregate = self.store.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(missing) from None
        if not isinstance(aggregate, kind):
            raise NotFound(missing)
        return aggregate

    def application(self, application_id: UUID) -> BundleApplication:
        return self.load(application_id, BundleApplication, f"no application {application_id}")

    def registration(self, uscc: str) -> BusinessRegistration:
        return self.load(
            BusinessRegistration.create_id(uscc),
            BusinessRegistration,
            f"no business registered with USCC {uscc}",
        )

    def permit(self, uscc: str, permit_type: str) -> Permit:
        return self.load(
            Permit.create_id(uscc, permit_type),
            Permit,
            f"business {uscc} has no permit {permit_type}",
        )

    def answered(self, caller: str, key: str) -> AnsweredRequest | None:
        """The request answered under this idempotency key, if there was one."""
        try:
            record: Aggregate = self.store.repository.get(AnsweredRequest.create_id(caller, key))
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, AnsweredRequest) else None

    def credit_record(self, uscc: str) -> CreditRecord | None:
        """None for a business never listed: its record opens with its first listing."""
        try:
            record: Aggregate = self.store.repository.get(CreditRecord.create_id(uscc))
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, CreditRecord) else None


class UnitOfWork:
    """The aggregates one command loaded or made, each loaded once; `commit` saves all their
    new events in one transaction, or none."""

    def __init__(self, licensing: Licensing) -> None:
        self.licensing = licensing
        self.catalogue = licensing.catalogue
        self.calendar = licensing.calendar
        self.today = licensing.today()  # one day for the whole command
        self._seen: dict[UUID, Aggregate] = {}

    def add(self, aggregate: A) -> A:
        """A new aggregate, saved with the rest."""
        self._seen[aggregate.id] = aggregate
        return aggregate

    def _load(self, aggregate_id: UUID, get: Callable[[], A]) -> A:
        seen = self._seen.get(aggregate_id)
        if seen is not None:
            return seen  # type: ignore[return-value]  # ids are per kind (uuid5 namespaces)
        return self.add(get())

    def application(self, application_id: UUID) -> BundleApplication:
        return self._load(application_id, lambda: self.licensing.application(application_id))

    def registration(self, uscc: str) -> BusinessRegistration:
        return self._load(
            BusinessRegistration.create_id(uscc), lambda: self.licensing.registration(uscc)
        )

    def permit(self, uscc: str, permit_type: str) -> Permit:
        return self._load(
            Permit.create_id(uscc, permit_type), lambda: self.licensing.permit(uscc, permit_type)
        )

    def permit_by_id(self, permit_id: UUID) -> Permit:
        return self._load(
            permit_id,
            lambda: self.licensing.load(permit_id, Permit, f"no permit {permit_id}"),
        )

    def registration_or_none(self, uscc: str) -> BusinessRegistration | None:
        try:
            return self.registration(uscc)
        except NotFound:
            return None

    def permit_or_none(self, uscc: str, permit_type: str) -> Permit | None:
        try:
            return self.permit(uscc, permit_type)
        except NotFound:
            return None

    def credit_record(self, uscc: str) -> CreditRecord:
        """The business's credit record; a new, empty one if it was never listed (it is
        saved only if the command lists it)."""
        record_id = CreditRecord.create_id(uscc)
        return self._load(
            record_id, lambda: self.licensing.credit_record(uscc) or CreditRecord(uscc=uscc)
        )

    def access_log(self, application: BundleApplication) -> AccessLog:
        """The application's access log; a new one at its first read."""
        log_id = AccessLog.create_id(application.id)

        def load() -> AccessLog:
            try:
                return self.licensing.load(log_id, AccessLog, "no access log")
            except NotFound:
                return AccessLog(application_id=application.id, uscc=application.uscc)

        return self._load(log_id, load)

    def expiry(self, permit_type: str, start: date) -> date | None:
        """The end of a permit's default validity period, if it takes effect on `start`
        (None for a permit type without one, or unknown: its task will say so)."""
        rules = self.catalogue.permit_types.get(permit_type)
        return default_expiry(rules.validity_years if rules else None, start)

    def credit_snapshot(self, uscc: str, *, on: date) -> CreditSnapshot:
        """What an application records of a business's credit, checked on day `on`."""
        record = self.licensing.credit_record(uscc)
        return credit_snapshot(record.active_listings() if record else [], on)

    def commit(self) -> int:
        """Save every change in one transaction; the log position of the last event (0 when
        the command changed nothing)."""
        changed = [a for a in self._seen.values() if a.pending_events]
        if not changed:
            return 0
        for aggregate in changed:
            for event in aggregate.pending_events:
                check_event(event)
        recordings = self.licensing.store.save(*changed)
        return recordings[-1].notification.id if recordings else 0


def command(
    handler: Callable[Concatenate[UnitOfWork, P], Subject],
) -> Callable[Concatenate[Licensing, P], Receipt]:
    """Make a handler `(uow, …) -> what it acted on` a command `(licensing, …) -> Receipt`:
    a fresh unit of work per attempt, committed at the end, the whole handler re-run when a
    concurrent change got there first (the store refuses the stale version). The request's
    conditions are kept in the same transaction: an idempotency key answered before gives
    the first receipt again, and a precondition on the version the caller saw is checked
    against the version the command found."""

    @functools.wraps(handler)
    def run(licensing: Licensing, /, *args: P.args, **kwargs: P.kwargs) -> Receipt:
        asked = current_conditions() or Conditions()
        actor = kwargs.get("actor")
        caller = f"{actor.role}:{actor.id}" if isinstance(actor, Actor) else None
        for attempt in range(ATTEMPTS):
            if caller and asked.idempotency_key:
                earlier = licensing.answered(caller, asked.idempotency_key)
                if earlier is not None:
                    return _replay(earlier, asked)
            uow = UnitOfWork(licensing)
            subject = handler(uow, *args, **kwargs)
            if asked.if_match is not None:
                _check_precondition(uow, subject, asked.if_match)
            if caller and asked.idempotency_key and asked.fingerprint:
                uow.add(
                    AnsweredRequest(
                        caller=caller,
                        key=asked.idempotency_key,
                        fingerprint=asked.fingerprint,
                        subject_id=subject.id,
                        uscc=subject.uscc,
                    )
                )
            try:
                position = uow.commit()
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.002 * (2 ** min(attempt, 6))))  # noqa: S311
                continue
            return Receipt(id=subject.id, uscc=subject.uscc, position=position)
        raise AssertionError  # pragma: no cover

    return run


def _replay(earlier: AnsweredRequest, asked: Conditions) -> Receipt:
    """The first answer again; the same key for another request is the caller's mistake."""
    if earlier.fingerprint != asked.fingerprint:
        problem = "was used for another request; a new request needs a new key"
        raise ValidationFailed([InvalidParam("Idempotency-Key", problem)])
    return Receipt(id=earlier.subject_id, uscc=earlier.uscc, position=0, replayed=True)


def entity_tag(version: int) -> str:
    """The entity tag of a resource at `version` (an application's, a credit record's, or a
    licence's: the events of its registration, permits and credit record)."""
    return f'"v{version}"'


def _original(aggregate: Aggregate) -> int:
    """The version an aggregate had before this command."""
    return aggregate.version - len(aggregate.pending_events)


def _check_precondition(uow: UnitOfWork, subject: Subject, if_match: str) -> None:
    """If-Match: act only on the version the caller saw (`*`: on any existing version)."""
    if if_match.strip() == "*":
        return
    if isinstance(subject, BundleApplication | CreditRecord):
        version = _original(subject)
    else:  # a registration or a permit: the resource is the licence they make up
        registration = uow.registration(subject.uscc)
        record = uow.licensing.credit_record(subject.uscc)
        version = (
            _original(registration)
            + sum(_original(uow.permit(subject.uscc, t)) for t in registration.permit_types)
            + (record.version if record else 0)
        )
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if entity_tag(version) not in tags:
        msg = f"the resource is at {entity_tag(version)}, not {if_match.strip()}; read it again"
        raise PreconditionFailed(msg)
