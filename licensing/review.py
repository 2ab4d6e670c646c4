"""A department's acts (部门审批): claim, release or take over its own tasks (办理人), read the
personal data a task needs (logged), decide them — approve, refuse, approve jointly, ask for
supplements, record its inspection finding — and later act on the permits it issued: verify a
commitment (先证后核), order and close rectification, suspend, resume, revoke, cancel."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from domain.acceptance import BUSINESS_LICENCE, system_number
from domain.access import AccessLog, items_of
from domain.actor import SYSTEM, Actor
from domain.bundle import BundleApplication
from domain.errors import (
    Conflict,
    Forbidden,
    InvalidParam,
    NotFound,
    ValidationFailed,
    require,
)
from domain.permit import UNDER_REVIEW, Permit
from domain.registration import BusinessRegistration
from domain.status import RegistrationStatus
from licensing.unit_of_work import UnitOfWork, command

# What the rectification period is when the catalogue names none, in working days.
RECTIFICATION_DAYS = 20


@command
def claim(
    uow: UnitOfWork, *, application_id: UUID, permit_type: str, actor: Actor
) -> BundleApplication:
    """An officer takes an open task of the department on (办理人); claiming one's own again
    changes nothing."""
    application = uow.application(application_id)
    application.claim(permit_type=permit_type, actor=actor)
    return application


@command
def release(
    uow: UnitOfWork, *, application_id: UUID, permit_type: str, actor: Actor
) -> BundleApplication:
    """The claimant hands the task back to the department."""
    application = uow.application(application_id)
    application.release(permit_type=permit_type, actor=actor)
    return application


@command
def take_over(
    uow: UnitOfWork, *, application_id: UUID, permit_type: str, actor: Actor, reason: str
) -> BundleApplication:
    """Another officer of the department takes a claimed task, on the record and saying why."""
    require(reason=reason)
    application = uow.application(application_id)
    application.take_over(permit_type=permit_type, actor=actor, reason=reason)
    return application


@command
def read_personal_data(
    uow: UnitOfWork, *, application_id: UUID, permit_type: str, actor: Actor
) -> AccessLog:
    """Record that an officer reads the personal data its task needs (the catalogue's
    `personal_data` of the permit type): who, when, for which task, which items. The read
    is served only once this is saved."""
    application = uow.application(application_id)
    application.task_of(permit_type, actor)
    kinds = uow.catalogue.permit_type(permit_type).personal_data
    if not kinds:
        msg = f"permit {permit_type} needs no personal data; none is disclosed for its task"
        raise Forbidden(msg)
    log = uow.access_log(application)
    log.personal_data_read(actor=actor, permit_type=permit_type, items=items_of(kinds))
    return log


@command
def read_document(
    uow: UnitOfWork, *, application_id: UUID, permit_type: str, actor: Actor, document_id: UUID
) -> AccessLog:
    """Record that an officer downloads a material file of its task (who, when, which task,
    which file): only a file answering a material its own permit type asks. The bytes are
    served only once this is saved."""
    application = uow.application(application_id)
    application.task_of(permit_type, actor)
    document = application.documents.get(str(document_id))
    if document is None:
        msg = f"application {application_id} holds no document {document_id}"
        raise NotFound(msg)
    asked = {use.code for use in uow.catalogue.permit_type(permit_type).materials}
    if document["material"] not in asked:
        msg = f"document {document_id} answers {document['material']}, not a material of {permit_type}"
        raise Forbidden(msg)
    log = uow.access_log(application)
    log.document_read(
        actor=actor, permit_type=permit_type, document_id=document_id, material=document["material"]
    )
    return log


@command
def approve(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    permit_type: str,
    actor: Actor,
    permit_number: str,
    valid_from: date | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
    legal_basis: str | None = None,
) -> BundleApplication:
    """A department grants its own permit: number and validity; the permit becomes 有效."""
    start = valid_from or uow.today
    until = valid_until or uow.expiry(permit_type, start)
    problems = []
    if not permit_number.strip():
        problems.append(InvalidParam("permit_number", "must not be empty"))
    if until is not None and until <= start:
        problems.append(InvalidParam("valid_until", f"must be after valid_from ({start})"))
    if problems:
        raise ValidationFailed(problems)
    application = uow.application(application_id)
    _approve_task(
        uow,
        application,
        permit_type,
        actor=actor,
        number=permit_number,
        valid_from=start,
        valid_until=until,
        reason=reason or "准予许可 approved",
        legal_basis=legal_basis,
    )
    return application


@command
def approve_jointly(uow: UnitOfWork, *, application_id: UUID, actor: Actor) -> BundleApplication:
    """One joint acceptance (合并受理、合并发证): the department approves every task of its
    own still awaiting a decision, in one transaction; numbers are assigned here."""
    application = uow.application(application_id)
    tasks = application.queued_tasks_of(actor.department or "")
    if actor.role != "department" or not tasks:
        msg = f"application {application_id} has no task awaiting {actor.department or actor.role}"
        raise Conflict(msg)
    for task in tasks:
        assert task.permit_id is not None  # queued tasks always have a permit
        _approve_task(
            uow,
            application,
            task.permit_type,
            actor=actor,
            number=system_number(task.department, uow.today, task.permit_id),
            valid_from=uow.today,
            valid_until=uow.expiry(task.permit_type, uow.today),
            reason="合并受理 准予许可 approved jointly",
            legal_basis=None,
        )
    return application


def _approve_task(
    uow: UnitOfWork,
    application: BundleApplication,
    permit_type: str,
    *,
    actor: Actor,
    number: str,
    valid_from: date,
    valid_until: date | None,
    reason: str,
    legal_basis: str | None,
) -> None:
    """The task, its permit and (for the 营业执照) the registration, together."""
    application.approve(
        permit_type=permit_type,
        actor=actor,
        permit_number=number,
        reason=reason,
        legal_basis=legal_basis,
    )
    permit = _permit_of(uow, application, permit_type)
    permit.approve(
        actor=actor,
        number=number,
        valid_from=valid_from,
        valid_until=valid_until,
        reason=reason,
        legal_basis=legal_basis,
    )
    if permit_type == BUSINESS_LICENCE:
        uow.registration(application.uscc).establish(actor=actor, permit_number=number)


@command
def refuse(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    permit_type: str,
    actor: Actor,
    reason: str,
    legal_basis: str,
) -> BundleApplication:
    """A department refuses its own permit, with the reason and legal basis the public sees.
    A refused 营业执照 ends everything the business applied for meanwhile."""
    require(reason=reason, legal_basis=legal_basis)
    application = uow.application(application_id)
    application.refuse(permit_type=permit_type, actor=actor, reason=reason, legal_basis=legal_basis)
    permit = _permit_of(uow, application, permit_type)
    permit.refuse(actor=actor, reason=reason, legal_basis=legal_basis)
    if permit_type == BUSINESS_LICENCE:
        registration = uow.registration(application.uscc)
        registration.refuse(actor=actor, reason=reason, legal_basis=legal_basis)
        if registration.status is RegistrationStatus.REFUSED:
            _end_with_refused_registration(uow, application, registration, permit)
    return application


def _permit_of(uow: UnitOfWork, application: BundleApplication, permit_type: str) -> Permit:
    permit_id = application.task(permit_type).permit_id
    assert permit_id is not None  # a decidable task has a permit
    return uow.permit_by_id(permit_id)


def _end_with_refused_registration(
    uow: UnitOfWork,
    application: BundleApplication,
    registration: BusinessRegistration,
    licence: Permit,
) -> None:
    """No business, no permits: every other permit is 无效, and the open tasks end — of
    this application and of any other the business filed while being established."""
    reason = licence.reason or "营业执照不予登记"
    application.end_open_tasks(actor=SYSTEM, reason=reason)
    others: dict[UUID, BundleApplication] = {}
    for permit_type in registration.permit_types:
        if permit_type == BUSINESS_LICENCE:
            continue
        permit = uow.permit(registration.uscc, permit_type)
        if permit.state == UNDER_REVIEW and permit.application_id != application.id:
            others.setdefault(permit.application_id, uow.application(permit.application_id))
        permit.registration_refused(actor=SYSTEM, reason=reason)
    for other in others.values():
        other.end_open_tasks(actor=SYSTEM, reason=reason)


@command
def request_supplement(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    permit_type: str,
    actor: Actor,
    items: list[str],
    note: str,
) -> BundleApplication:
    """Ask the applicant for more: this task's clock stops until the one resubmission."""
    application = uow.application(application_id)
    application.request_supplement(
        permit_type=permit_type, actor=actor, items=items, note=note, on=uow.today
    )
    return application


@command
def record_finding(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    permit_type: str,
    actor: Actor,
    passed: bool,
    notes: str,
) -> BundleApplication:
    """The department's own finding at the joint inspection (联合勘查)."""
    application = uow.application(application_id)
    application.record_finding(permit_type=permit_type, actor=actor, passed=passed, notes=notes)
    return application


# After issuance: the department's acts on its own permits.


@command
def suspend_permit(
    uow: UnitOfWork, *, uscc: str, permit_type: str, actor: Actor, reason: str, legal_basis: str
) -> Permit:
    permit = uow.permit(uscc, permit_type)
    permit.suspend(actor=actor, reason=reason, legal_basis=legal_basis)
    return permit


@command
def resume_permit(
    uow: UnitOfWork, *, uscc: str, permit_type: str, actor: Actor, reason: str
) -> Permit:
    permit = uow.permit(uscc, permit_type)
    permit.resume(actor=actor, reason=reason)
    return permit


@command
def revoke_permit(
    uow: UnitOfWork, *, uscc: str, permit_type: str, actor: Actor, reason: str, legal_basis: str
) -> Permit:
    """吊销."""
    permit = uow.permit(uscc, permit_type)
    permit.revoke(actor=actor, reason=reason, legal_basis=legal_basis)
    return permit


@command
def cancel_permit(
    uow: UnitOfWork, *, uscc: str, permit_type: str, actor: Actor, reason: str
) -> Permit:
    """注销."""
    permit = uow.permit(uscc, permit_type)
    permit.cancel(actor=actor, reason=reason)
    return permit


@command
def confirm_commitment(uow: UnitOfWork, *, uscc: str, permit_type: str, actor: Actor) -> Permit:
    """先证后核: the commitment was true."""
    permit = uow.permit(uscc, permit_type)
    permit.confirm_commitment(actor=actor)
    return permit


@command
def order_rectification(
    uow: UnitOfWork,
    *,
    uscc: str,
    permit_type: str,
    actor: Actor,
    findings: str,
    deadline: date | None = None,
) -> Permit:
    """Defects found: 整改中 until a deadline (by default the permit type's rectification
    period, in working days)."""
    if deadline is None:
        days = uow.catalogue.permit_type(permit_type).rectification_days or RECTIFICATION_DAYS
        deadline = uow.calendar.add_working_days(uow.today, days)
    elif deadline <= uow.today:
        raise ValidationFailed([InvalidParam("deadline", "must be after today")])
    permit = uow.permit(uscc, permit_type)
    permit.order_rectification(actor=actor, findings=findings, deadline=deadline)
    return permit


@command
def close_rectification(
    uow: UnitOfWork,
    *,
    uscc: str,
    permit_type: str,
    actor: Actor,
    passed: bool,
    reason: str,
    legal_basis: str | None = None,
) -> Permit:
    """Rectified (有效 again), or failed (不合格, on a legal basis)."""
    if not passed and not (legal_basis or "").strip():
        raise ValidationFailed([InvalidParam("legal_basis", "required when rectification fails")])
    permit = uow.permit(uscc, permit_type)
    if passed:
        permit.rectified(actor=actor, reason=reason)
    else:
        permit.rectification_failed(actor=actor, reason=reason, legal_basis=legal_basis or "")
    return permit


@command
def commitment_found_false(
    uow: UnitOfWork, *, uscc: str, permit_type: str, actor: Actor, findings: str, legal_basis: str
) -> Permit:
    """撤销 the permit, and list the business on the commitment blacklist, atomically."""
    permit = uow.permit(uscc, permit_type)
    permit.commitment_found_false(actor=actor, findings=findings, legal_basis=legal_basis)
    record = uow.credit_record(uscc)
    if not any(x["list"] == "commitment_blacklist" for x in record.active_listings()):
        record.list(
            actor=actor,
            list_code="commitment_blacklist",
            # The grounds as published (公示): the act, not the inspection's details.
            grounds=(
                "告知承诺不实，许可被撤销 commitment found false, permit withdrawn: "
                f"{uow.catalogue.permit_type(permit_type).name_zh}"
            ),
            legal_basis=legal_basis,
            on=uow.today,
        )
    return permit
