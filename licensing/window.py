"""The window's acts (综合服务窗口, a clerk): receive and accept a themed bundle, 不予受理, the
joint inspection, the one resubmission, a missing material arriving, withdrawal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from domain import acceptance
from domain.actor import Actor, Role
from domain.bundle import BundleApplication
from domain.errors import Conflict, Forbidden, InvalidParam, NotFound, ValidationFailed, require
from domain.payloads import (
    DueDates,
    FastTrack,
    FastTrackRequest,
    LegalRepresentative,
    ReceivedRequest,
    SignedCommitment,
)
from domain.permit import Permit
from domain.registration import ENTITY_TYPES, BusinessRegistration
from domain.status import RegistrationStatus
from domain.uscc import validate_uscc
from licensing import progress
from licensing.catalogue import Catalogue
from licensing.unit_of_work import Licensing, UnitOfWork, command


def within_reach(district: str | None, actor: Actor) -> bool:
    """Whether the actor may see an application filed at a window of `district`: a clerk
    only its own district's (a clerk token without a district: those filed without one);
    an administrator, the system's jobs and every other role that reaches it, all."""
    return actor.role is not Role.CLERK or district == actor.district


def application_at_window(
    licensing: Licensing, application_id: UUID, actor: Actor
) -> BundleApplication:
    """The application, if the actor's district reaches it. Another district's is answered
    as not found, as the clerk's list answers it: nothing tells a clerk that the number
    exists elsewhere."""
    application = licensing.application(application_id)
    if not within_reach(application.district, actor):
        raise NotFound(f"no application {application_id}")
    return application


def _at_window(uow: UnitOfWork, application_id: UUID, actor: Actor) -> BundleApplication:
    application = uow.application(application_id)
    if not within_reach(application.district, actor):
        raise NotFound(f"no application {application_id}")
    return application


@command
def reissue_progress_code(
    uow: UnitOfWork, *, application_id: UUID, actor: Actor
) -> BundleApplication:
    """办件查询: a new progress code, sent again (the applicant lost it, or locked it with
    wrong tries): the code before stops working, and the lock ends."""
    application = _at_window(uow, application_id, actor)
    if uow.licensing.progress_codes is None:
        msg = "this installation issues no progress codes"
        raise Conflict(msg)
    progress.issue_code(uow, application, actor=actor)
    return application


@dataclass(frozen=True)
class BusinessDetails:
    """What the 营业执照 records; the legal representative's details are personal data."""

    uscc: str
    name: str
    entity_type: str
    legal_representative: LegalRepresentative
    domicile: str
    business_scope: str
    registered_capital: Decimal


@command
def submit(
    uow: UnitOfWork,
    *,
    theme: str,
    business: BusinessDetails,
    applicant: dict[str, Any],
    answers: dict[str, Any],
    actor: Actor,
    situation: dict[str, Any] | None = None,
    commitments: Mapping[str, SignedCommitment] | None = None,
    fast_track: FastTrackRequest | None = None,
    deficiencies: Sequence[Mapping[str, Any]] | None = None,
    accept_now: bool = True,
) -> BundleApplication:
    """A clerk submits one merged form for a theme; a task per permit goes to its department.
    The situation answers decide which of the theme's conditional permits apply. With
    `accept_now` false the window only receives it (收件) and decides acceptance later."""
    if actor.role != "clerk":
        msg = "only a window clerk submits themed applications"
        raise Forbidden(msg)
    situation = dict(situation or {})
    signed = dict(commitments or {})
    if fast_track is not None:
        fast_track = _check_fast_track(uow.catalogue, theme, fast_track)
    checked = acceptance.check_deficiencies(
        deficiencies or [], today=uow.today, calendar=uow.calendar
    )
    uscc, cleaned = _check_submission(
        uow.catalogue,
        theme=theme,
        business=business,
        answers=answers,
        situation=situation,
        commitments=signed,
    )
    request: ReceivedRequest = {
        "business": {
            "uscc": uscc,
            "name": business.name,
            "entity_type": business.entity_type,
            "legal_representative": business.legal_representative,
            "domicile": business.domicile,
            "business_scope": business.business_scope,
            "registered_capital": business.registered_capital,
        },
        "commitments": signed,
        "fast_track": fast_track,
        "deficiencies": checked,
    }
    application_id = uuid4()  # a fresh id per attempt: a failed attempt wrote nothing
    plan = (
        _dispatch(uow, theme, situation, request, application_id, actor, uow.today)
        if accept_now
        else None  # 收件 only: the window decides acceptance (受理) later, and dispatches then
    )
    application = uow.add(
        BundleApplication(
            application_id=application_id,
            theme=theme,
            catalogue_version=uow.catalogue.version,
            uscc=uscc,
            registration_id=BusinessRegistration.create_id(uscc),
            applicant=applicant,
            answers=cleaned,
            situation=situation,
            credit=plan.credit if plan else None,
            fast_track=plan.fast_track if plan else None,
            deficiencies=plan.deficiencies if plan else [],
            tasks=plan.tasks if plan else [],
            actor=actor,
            accepted=accept_now,
            request=None if accept_now else request,
            accepted_on=uow.today if accept_now else None,
        )
    )
    if accept_now:
        progress.issue_code(uow, application, actor=actor)
    application.decide_if_complete(actor=actor)
    return application


@command
def accept(uow: UnitOfWork, *, application_id: UUID, actor: Actor) -> BundleApplication:
    """受理 an application the window only received: its tasks go to the departments now,
    on the credit of today."""
    application = _at_window(uow, application_id, actor)
    accept_received(uow, application, actor=actor, on=uow.today)
    return application


def accept_received(
    uow: UnitOfWork, application: BundleApplication, *, actor: Actor, on: date
) -> None:
    """Dispatch a received application as of `on` (today, or — deemed by the daily job —
    its day of receipt)."""
    if application.request is None:
        msg = f"application {application.id} is {application.status}; nothing to accept"
        raise Conflict(msg)
    plan = _dispatch(
        uow,
        application.theme,
        application.situation,
        application.request,
        application.id,
        actor,
        on,
    )
    application.accept(
        actor=actor,
        on=on,
        catalogue_version=uow.catalogue.version,
        tasks=plan.tasks,
        credit=plan.credit,
        fast_track=plan.fast_track,
        deficiencies=plan.deficiencies,
    )
    progress.issue_code(uow, application, actor=actor)


@command
def refuse_acceptance(
    uow: UnitOfWork, *, application_id: UUID, actor: Actor, reason: str, legal_basis: str
) -> BundleApplication:
    """不予受理, with the reason and legal basis the applicant is told."""
    require(reason=reason, legal_basis=legal_basis)
    application = _at_window(uow, application_id, actor)
    application.refuse_acceptance(actor=actor, reason=reason, legal_basis=legal_basis)
    return application


@command
def schedule_joint_inspection(
    uow: UnitOfWork, *, application_id: UUID, actor: Actor, on: date
) -> BundleApplication:
    """联合勘查: one visit for every task that inspects the site."""
    if on < uow.today:
        raise ValidationFailed([InvalidParam("on", "must not be in the past")])
    application = _at_window(uow, application_id, actor)
    application.schedule_joint_inspection(actor=actor, on=on)
    return application


@command
def resubmit(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    actor: Actor,
    answers: dict[str, Any],
    materials: list[str],
) -> BundleApplication:
    """The applicant answers the consolidated notice once; every paused clock restarts,
    its deadline moved by the working days it was paused."""
    if actor.role != "clerk":
        msg = "resubmissions are made at the window"
        raise Forbidden(msg)
    application = _at_window(uow, application_id, actor)
    merged = {**application.answers, **answers}
    cleaned = uow.catalogue.validate_answers(application.theme, merged, application.situation)
    changed = {k: v for k, v in cleaned.items() if application.answers.get(k) != v}
    application.resubmit(
        actor=actor,
        answers=changed,
        materials=materials,
        on=uow.today,
        due_dates=_resumed_due_dates(uow, application),
    )
    return application


def _resumed_due_dates(uow: UnitOfWork, application: BundleApplication) -> dict[str, DueDates]:
    """Each paused task's deadlines, pushed out by the working days it was paused."""
    started = application.dispatched_on()

    def deadline(days: int | None, pauses: list[tuple[date, date | None]]) -> str | None:
        end = None if days is None else uow.calendar.deadline(started, days, pauses=pauses)
        return end.isoformat() if end else None

    due_dates: dict[str, DueDates] = {}
    for task in application.tasks.values():
        if task.supplement is None:
            continue
        # The pause still open ends today, with this resubmission.
        pauses: list[tuple[date, date | None]] = []
        for start, end in task.pauses:
            assert start is not None  # a pause always has its first day
            pauses.append(
                (date.fromisoformat(start), date.fromisoformat(end) if end else uow.today)
            )
        due_dates[task.permit_type] = {
            "due_on": deadline(task.promised_days, pauses),
            "statutory_due_on": deadline(task.statutory_days, pauses),
        }
    return due_dates


@command
def supply_material(
    uow: UnitOfWork, *, application_id: UUID, actor: Actor, material: str
) -> BundleApplication:
    """容缺受理: the material accepted as missing arrives."""
    application = _at_window(uow, application_id, actor)
    application.supply(actor=actor, material=material, on=uow.today)
    return application


@command
def withdraw(
    uow: UnitOfWork, *, application_id: UUID, actor: Actor, reason: str
) -> BundleApplication:
    """Before decision the applicant may withdraw; undecided permits end with it."""
    application = _at_window(uow, application_id, actor)
    ended = application.withdraw(actor=actor, reason=reason)
    end_undecided_permits(uow, application, ended, actor=actor, reason=reason)
    return application


def end_undecided_permits(
    uow: UnitOfWork,
    application: BundleApplication,
    permit_types: list[str],
    *,
    actor: Actor,
    reason: str,
) -> None:
    """The permits of tasks that ended undecided end with them (no permit: nothing to do)."""
    for permit_type in permit_types:
        permit_id = application.task(permit_type).permit_id
        if permit_id is not None:
            uow.permit_by_id(permit_id).withdraw(actor=actor, reason=reason)


# Acceptance: the registration, the permits and the plan the domain makes of them.


def _dispatch(
    uow: UnitOfWork,
    theme: str,
    situation: dict[str, Any],
    request: ReceivedRequest,
    application_id: UUID,
    actor: Actor,
    today: date,
) -> acceptance.Plan:
    """Accept: the registration (new, or re-applied after a refusal), the credit checked, the
    plan of the 证照分离 rules carried out on each permit, the permits attached."""
    details = request["business"]
    uscc = details["uscc"]
    commitments, deficiencies = request["commitments"], request["deficiencies"]
    catalogue = uow.catalogue
    acceptance.check_still_valid(
        rules={code: catalogue.permit_type(code) for code in commitments},
        commitments=commitments,
        deficiencies=deficiencies,
        today=uow.today,
    )
    registration = uow.registration_or_none(uscc)
    is_new_business = registration is None
    if registration is None:
        registration = uow.add(
            BusinessRegistration(
                uscc=uscc,
                name=details["name"],
                entity_type=details["entity_type"],
                legal_representative=details["legal_representative"],
                domicile=details["domicile"],
                business_scope=details["business_scope"],
                registered_capital=details["registered_capital"],
                application_id=application_id,
                actor=actor,
            )
        )
    elif registration.status is RegistrationStatus.REFUSED:
        # Refused once, applied for again: same code, the form's (perhaps corrected) data.
        registration.reapply(
            actor=actor,
            application_id=application_id,
            name=details["name"],
            entity_type=details["entity_type"],
            legal_representative=details["legal_representative"],
            domicile=details["domicile"],
            business_scope=details["business_scope"],
            registered_capital=details["registered_capital"],
        )
        is_new_business = True
    credit = uow.credit_snapshot(uscc, on=today)
    acceptance.check_credit(
        uscc=uscc, credit=credit, commitments=commitments, deficiencies=deficiencies
    )
    fast_track: FastTrack | None = None
    if (asked := request["fast_track"]) is not None:
        days = catalogue.theme(theme).fast_track_days
        assert days is not None  # checked when the submission was validated
        hq_credit = uow.credit_snapshot(asked["chain_hq_uscc"], on=today)
        fast_track = acceptance.fast_track_record(
            request=asked, credit=credit, hq_credit=hq_credit, target_days=days
        )
    plan = acceptance.plan(
        uscc=uscc,
        permits=[catalogue.permit_type(code) for code in catalogue.permits_for(theme, situation)],
        is_new_business=is_new_business,
        commitments=commitments,
        credit=credit,
        fast_track=fast_track,
        deficiencies=deficiencies,
        today=today,
        calendar=uow.calendar,
    )
    for act in plan.permits:
        _apply(uow, uscc, act, application_id, actor)
    registration.attach(actor=actor, application_id=application_id, permit_types=plan.permit_types)
    return plan


def _apply(
    uow: UnitOfWork, uscc: str, act: acceptance.PermitAct, application_id: UUID, actor: Actor
) -> None:
    """Open the permit (or re-apply for an ended one) and take it where the plan says."""
    permit = uow.permit_or_none(uscc, act.permit_type)
    if permit is None:
        permit = uow.add(
            Permit(
                uscc=uscc,
                permit_type=act.permit_type,
                department=act.department,
                application_id=application_id,
                actor=actor,
            )
        )
    else:
        permit.reapply(application_id=application_id, actor=actor)
    if act.route == "file":
        assert act.number is not None and act.valid_from is not None
        permit.file(
            actor=actor, number=act.number, valid_from=act.valid_from, valid_until=act.valid_until
        )
    elif act.route == "commitment":
        assert act.number is not None and act.valid_from is not None
        assert act.letter_version and act.letter_text and act.signed_by and act.verification_due
        permit.grant_on_commitment(
            actor=actor,
            number=act.number,
            valid_from=act.valid_from,
            valid_until=act.valid_until,
            letter_version=act.letter_version,
            letter_text=act.letter_text,
            signed_by=act.signed_by,
            verification_due=act.verification_due,
        )


# Checks on a submission before anything is written: every problem named at once.


def _check_submission(
    catalogue: Catalogue,
    *,
    theme: str,
    business: BusinessDetails,
    answers: dict[str, Any],
    situation: dict[str, Any],
    commitments: Mapping[str, SignedCommitment],
) -> tuple[str, dict[str, Any]]:
    problems: list[InvalidParam] = []
    uscc = business.uscc
    try:
        uscc = validate_uscc(business.uscc)
    except ValidationFailed as error:
        problems += [InvalidParam(f"business.{p.name}", p.reason) for p in error.problems]
    if business.entity_type not in ENTITY_TYPES:
        problems.append(
            InvalidParam(
                "business.entity_type",
                f"unknown entity type {business.entity_type!r}; expected one of "
                + ", ".join(ENTITY_TYPES),
            )
        )
    if business.registered_capital < 0:
        problems.append(InvalidParam("business.registered_capital", "must not be negative"))
    cleaned: dict[str, Any] = {}
    if theme not in catalogue.themes:
        problems.append(
            InvalidParam(
                "theme",
                f"unknown theme {theme!r}; expected one of " + ", ".join(catalogue.themes),
            )
        )
    else:
        try:
            cleaned = catalogue.validate_answers(theme, answers, situation)
            applicable = catalogue.permits_for(theme, situation)
        except ValidationFailed as error:
            problems += error.problems
        else:
            problems += _commitment_problems(catalogue, applicable, commitments)
    if problems:
        raise ValidationFailed(problems)
    return uscc, cleaned


def _check_fast_track(
    catalogue: Catalogue, theme: str, fast_track: Mapping[str, object]
) -> FastTrackRequest:
    problems = []
    known = catalogue.themes.get(theme)
    if known is not None and known.fast_track_days is None:
        problems.append(InvalidParam("fast_track", f"theme {theme} has no fast track"))
    hq = str(fast_track.get("chain_hq_uscc", ""))
    try:
        hq = validate_uscc(hq)
    except ValidationFailed as error:
        problems += [
            InvalidParam(f"fast_track.chain_hq_{p.name}", p.reason) for p in error.problems
        ]
    if not str(fast_track.get("declaration", "")).strip():
        problems.append(
            InvalidParam("fast_track.declaration", "the written declaration (书面声明) is required")
        )
    if problems:
        raise ValidationFailed(problems)
    return {"chain_hq_uscc": hq, "declaration": str(fast_track["declaration"])}


def _commitment_problems(
    catalogue: Catalogue, applicable: tuple[str, ...], commitments: Mapping[str, SignedCommitment]
) -> list[InvalidParam]:
    """A signed letter must be for a commitment-mode permit of this application, and be
    the version now published (the applicant signs what they were shown)."""
    problems = []
    for code, signed in commitments.items():
        name = f"commitments.{code}"
        permit_type = catalogue.permit_types.get(code)
        if code not in applicable or permit_type is None or permit_type.mode != "commitment":
            problems.append(InvalidParam(name, "not a commitment-mode permit of this application"))
        elif permit_type.commitment is not None and (
            signed.get("version") != permit_type.commitment.version
        ):
            problems.append(
                InvalidParam(
                    f"{name}.version",
                    f"the published letter is version {permit_type.commitment.version}; "
                    f"got {signed.get('version')!r}",
                )
            )
        elif not str(signed.get("signed_by", "")).strip():
            problems.append(InvalidParam(f"{name}.signed_by", "must name who signed"))
    return problems


__all__ = [
    "BusinessDetails",
    "accept",
    "accept_received",
    "end_undecided_permits",
    "refuse_acceptance",
    "resubmit",
    "schedule_joint_inspection",
    "submit",
    "supply_material",
    "withdraw",
]
