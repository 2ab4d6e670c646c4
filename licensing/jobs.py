"""The date-driven jobs (run daily): deemed acceptances and outcomes, 容缺 lapses, permit
expiry and the end of credit listings' periods. Each item is its own command: one that cannot
be done now is logged and skipped, so that it stops neither the others nor the next job."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Protocol, TypeVar
from uuid import UUID

from domain.acceptance import ACCEPTANCE_DAYS, system_number
from domain.actor import SYSTEM
from domain.bundle import IN_REVIEW, RECEIVED, TASK_APPROVED, BundleApplication
from domain.china import day_in_china
from domain.credit import REMOVED, CreditRecord
from domain.dates import add_years
from domain.errors import DomainError
from domain.permit import Permit
from licensing.metrics import JOB_SKIPPED, counted_job
from licensing.unit_of_work import Licensing, Receipt, UnitOfWork, command
from licensing.window import accept_received, end_undecided_permits

log = logging.getLogger(__name__)
T = TypeVar("T")


class Index(Protocol):
    """Where the jobs find their candidates: the read model knows what is open and due, so
    no job loads every aggregate ever recorded. A candidate is only that: the aggregate,
    loaded in the job's own command, decides. Days are ISO dates in China."""

    def received_on_or_before(self, day: str) -> list[str]: ...

    def deemable_before(self, day: str) -> list[str]: ...

    def with_material_overdue(self, day: str) -> list[str]: ...

    def usccs_with_validity_before(self, day: str) -> list[str]: ...

    def listed_on_or_before(self, list_code: str, day: str) -> list[tuple[str, str]]: ...


def _each(job: str, items: Iterable[T], act: Callable[[T], list[Receipt]]) -> list[Receipt]:
    """Each candidate in its own command; one that cannot be done now is logged and skipped."""
    receipts: list[Receipt] = []
    for item in items:
        try:
            receipts += act(item)
        except DomainError as error:
            JOB_SKIPPED.labels(job).inc()
            log.warning("%s: %s skipped: %s", job, item, error)
    return receipts


@counted_job("deem")
def deem_overdue(licensing: Licensing, index: Index) -> list[Receipt]:
    """Where a rule deems the outcome of a task whose statutory limit passed undecided, record
    it — as the system's decision, citing the rule. An application only received and not
    answered within five working days is accepted from its day of receipt (行政许可法 art. 32).
    What cannot be accepted as it stands (a listed applicant asking for commitment mode, a
    promised date passed) is logged and left to the window."""
    today = licensing.today()

    def deem(candidate: str) -> list[Receipt]:
        application_id = UUID(str(candidate))
        application = licensing.application(application_id)
        if application.status == RECEIVED:
            received_on = day_in_china(application.created_on)
            if licensing.calendar.add_working_days(received_on, ACCEPTANCE_DAYS) >= today:
                return []
            return [_accept_from_receipt(licensing, application_id=application_id)]
        return [
            _deem(licensing, application_id=application_id, permit_type=p)
            for p in application.deemable_on(today)
        ]

    # The last day of receipt whose five working days are over by today.
    unanswered = today - timedelta(days=1)
    while licensing.calendar.add_working_days(unanswered, ACCEPTANCE_DAYS) >= today:
        unanswered -= timedelta(days=1)
    candidates = dict.fromkeys(
        index.received_on_or_before(unanswered.isoformat())
        + index.deemable_before(today.isoformat())
    )
    return _each("deem", candidates, deem)


@command
def _accept_from_receipt(uow: UnitOfWork, *, application_id: UUID) -> BundleApplication:
    application = uow.application(application_id)
    accept_received(uow, application, actor=SYSTEM, on=day_in_china(application.created_on))
    return application


@command
def _deem(uow: UnitOfWork, *, application_id: UUID, permit_type: str) -> BundleApplication:
    application = uow.application(application_id)
    task = application.task(permit_type)
    assert task.permit_id is not None  # only approval-mode tasks are deemed
    number = system_number(task.department, uow.today, task.permit_id)
    application.deem(permit_type=permit_type, actor=SYSTEM, today=uow.today, permit_number=number)
    assert task.reason is not None and task.legal_basis is not None
    uow.permit_by_id(task.permit_id).deemed(
        actor=SYSTEM,
        approved=task.state == TASK_APPROVED,
        number=number,
        valid_from=uow.today,
        valid_until=uow.expiry(permit_type, uow.today),
        reason=task.reason,
        legal_basis=task.legal_basis,
    )
    return application


@counted_job("lapse")
def lapse_overdue(licensing: Licensing, index: Index) -> list[Receipt]:
    """End every application whose promised missing material (容缺) is overdue."""
    today = licensing.today()

    def lapse(candidate: str) -> list[Receipt]:
        application_id = UUID(str(candidate))
        application = licensing.application(application_id)
        if application.status == IN_REVIEW and application.overdue_materials(today):
            return [_lapse(licensing, application_id=application_id)]
        return []

    return _each("lapse", index.with_material_overdue(today.isoformat()), lapse)


@command
def _lapse(uow: UnitOfWork, *, application_id: UUID) -> BundleApplication:
    application = uow.application(application_id)
    missing = ", ".join(application.overdue_materials(uow.today))
    ended = application.lapse(actor=SYSTEM, today=uow.today)
    end_undecided_permits(
        uow, application, ended, actor=SYSTEM, reason=f"容缺材料逾期未补正 not supplied: {missing}"
    )
    return application


@counted_job("expire_permits")
def expire_permits(licensing: Licensing, index: Index) -> list[Receipt]:
    """Every permit past its validity becomes 无效; the read model names the businesses."""
    today = licensing.today()

    def expire(uscc: str) -> list[Receipt]:
        return [
            _expire_permit(licensing, uscc=uscc, permit_type=permit_type)
            for permit_type in licensing.registration(uscc).permit_types
            if licensing.permit(uscc, permit_type).is_due_to_expire(today)
        ]

    return _each("expire_permits", index.usccs_with_validity_before(today.isoformat()), expire)


@command
def _expire_permit(uow: UnitOfWork, *, uscc: str, permit_type: str) -> Permit:
    permit = uow.permit(uscc, permit_type)
    permit.expire(actor=SYSTEM, today=uow.today)
    return permit


@counted_job("expire_listings")
def expire_listings(licensing: Licensing, index: Index) -> list[Receipt]:
    """Move out every listing whose period is over (移出)."""
    today = licensing.today()
    candidates: list[tuple[str, str]] = []
    for code, kind in licensing.catalogue.credit_lists.items():
        if kind.period_years is not None:
            # A day's slack: a listing of 29 February ends on 28 February.
            cutoff = add_years(today, -kind.period_years) + timedelta(days=1)
            candidates += index.listed_on_or_before(code, cutoff.isoformat())

    def expire(candidate: tuple[str, str]) -> list[Receipt]:
        uscc, listing_id = candidate
        record = licensing.credit_record(uscc)
        listing = record.listings.get(listing_id) if record else None
        if listing is None or listing["state"] == REMOVED:
            return []
        kind = licensing.catalogue.credit_lists[listing["list"]]
        ends_on = kind.ends_on(date.fromisoformat(listing["listed_on"]))
        if ends_on is None or ends_on > today:
            return []
        reason = f"列入期满移出 listing period of {kind.period_years} years ended"
        return [_expire_listing(licensing, uscc=uscc, listing_id=listing_id, reason=reason)]

    return _each("expire_listings", candidates, expire)


@command
def _expire_listing(uow: UnitOfWork, *, uscc: str, listing_id: str, reason: str) -> CreditRecord:
    record = uow.credit_record(uscc)
    record.expire(actor=SYSTEM, listing_id=listing_id, on=uow.today, reason=reason)
    return record


Job = Callable[[Licensing, Index], list[Receipt]]
# Every date-driven job, in the order `licensing daily` runs them, with what it reports.
DAILY: tuple[tuple[str, Job], ...] = (
    ("Deemed {} acceptances and outcomes", deem_overdue),
    ("Lapsed {} applications", lapse_overdue),
    ("Expired {} permits", expire_permits),
    ("Moved out {} listings", expire_listings),
)
