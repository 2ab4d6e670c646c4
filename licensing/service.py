"""Commands and queries over the event store: submit a themed bundle, decide a task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, Recording

from domain.actor import SYSTEM, Actor
from domain.bundle import (
    RECEIVED,
    TASK_APPROVED,
    TASK_FILED,
    TASK_INFORMED,
    TASK_ON_COMMITMENT,
    TASK_QUEUED,
    BundleApplication,
)
from domain.china import day_in_china, today_in_china
from domain.credit import LISTS
from domain.errors import Conflict, Forbidden, InvalidParam, NotFound, ValidationFailed
from domain.permit import UNDER_REVIEW, Permit
from domain.registration import BusinessRegistration
from domain.status import RegistrationStatus
from licensing.calendar import WorkingCalendar
from licensing.catalogue import Catalogue
from licensing.commands import BusinessDetails, Receipt
from licensing.credit import CreditOffice
from licensing.intake import Intake
from licensing.lifecycle import Lifecycle
from licensing.persistence import ActorAsDict, DateAsISO

__all__ = ["BusinessDetails", "Licensing", "Receipt"]

BUSINESS_LICENCE = "business_licence"
T = TypeVar("T")


@dataclass(frozen=True)
class _Dispatch:
    """What accepting an application makes: the registration and permits it changes, and
    the tasks, credit snapshot, fast track and missing materials the application records."""

    registration: Any
    permits: list[Any]
    tasks: list[dict[str, Any]]
    credit: dict[str, Any] | None
    fast_track: dict[str, Any] | None
    deficiencies: list[dict[str, Any]]


class Licensing(Intake, Lifecycle, CreditOffice, Application[UUID]):
    """The 证照通 write side: every approval is an event, saved atomically with its permit."""

    name = "Licensing"

    def __init__(
        self,
        *,
        catalogue: Catalogue,
        env: dict[str, str] | None = None,
        today: Callable[[], date] = today_in_china,
        calendar: WorkingCalendar | None = None,
    ) -> None:
        super().__init__(env=env)
        self.catalogue = catalogue
        self.calendar = calendar or WorkingCalendar.load()
        self.today = today  # the clock, injectable so deadlines and notices can be tested
        self.listeners: list[Callable[[int], None]] = []

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(ActorAsDict())

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        if recordings:
            position = recordings[-1].notification.id
            for listener in self.listeners:
                listener(position)

    # Commands.

    def submit(
        self,
        *,
        theme: str,
        business: BusinessDetails,
        applicant: dict[str, Any],
        answers: dict[str, Any],
        actor: Actor,
        situation: dict[str, Any] | None = None,
        commitments: dict[str, dict[str, str]] | None = None,
        fast_track: dict[str, str] | None = None,
        deficiencies: list[dict[str, Any]] | None = None,
        accept_now: bool = True,
    ) -> Receipt:
        """A clerk submits one merged form for a theme; a task per permit goes to its department.
        The situation answers decide which of the theme's conditional permits apply. With
        `accept_now` false the window only receives it (收件) and decides acceptance later."""
        if actor.role != "clerk":
            msg = "only a window clerk submits themed applications"
            raise Forbidden(msg)
        situation = dict(situation or {})
        commitments = dict(commitments or {})
        if fast_track is not None:
            fast_track = self._validate_fast_track(theme, fast_track)
        deficiencies = self._validate_deficiencies(deficiencies or [])
        uscc, cleaned = self._validate_submission(
            theme=theme,
            business=business,
            answers=answers,
            situation=situation,
            commitments=commitments,
        )
        return self._retry(
            lambda: self._submit(
                theme=theme,
                uscc=uscc,
                business=business,
                applicant=applicant,
                answers=cleaned,
                situation=situation,
                commitments=commitments,
                fast_track=fast_track,
                deficiencies=deficiencies,
                actor=actor,
                accept_now=accept_now,
            )
        )

    # 行政许可法 art. 32: acceptance is decided (or the missing items told) within five
    # working days of receipt (art. 82: time limits count working days).
    ACCEPTANCE_DAYS = 5

    def _submit(
        self,
        *,
        theme: str,
        uscc: str,
        business: BusinessDetails,
        applicant: dict[str, Any],
        answers: dict[str, Any],
        situation: dict[str, Any],
        commitments: dict[str, dict[str, str]],
        fast_track: dict[str, str] | None,
        deficiencies: list[dict[str, Any]],
        actor: Actor,
        accept_now: bool,
    ) -> Receipt:
        # A fresh id per attempt: a failed attempt wrote nothing.
        application_id = uuid4()
        request = {
            "business": asdict(business),
            "commitments": commitments,
            "fast_track": fast_track,
            "deficiencies": deficiencies,
        }
        today = self.today()
        if accept_now:
            dispatch = self._dispatch(theme, situation, request, application_id, actor, today)
            changed = [dispatch.registration, *dispatch.permits]
        else:  # 收件 only: the window decides acceptance (受理) later, and dispatches then
            dispatch, changed = _Dispatch(None, [], [], None, None, []), []
        application = BundleApplication(
            application_id=application_id,
            theme=theme,
            catalogue_version=self.catalogue.version,
            uscc=uscc,
            registration_id=BusinessRegistration.create_id(uscc),
            applicant=applicant,
            answers=answers,
            situation=situation,
            credit=dispatch.credit,
            fast_track=dispatch.fast_track,
            deficiencies=dispatch.deficiencies,
            tasks=dispatch.tasks,
            actor=actor,
            accepted=accept_now,
            request=None if accept_now else request,
            accepted_on=today if accept_now else None,
        )
        application.decide_if_complete(actor=actor)
        recordings = self.save(*changed, application)
        return Receipt(id=application.id, uscc=uscc, position=recordings[-1].notification.id)

    def accept(self, *, application_id: UUID, actor: Actor) -> Receipt:
        """受理 an application the window only received: its tasks go to the departments now,
        on the credit of today."""
        return self._accept(application_id, actor, self.today())

    def _accept(self, application_id: UUID, actor: Actor, today: date) -> Receipt:
        def act(application: BundleApplication) -> list[Any]:
            if application.request is None:
                msg = f"application {application_id} is {application.status}; nothing to accept"
                raise Conflict(msg)
            dispatch = self._dispatch(
                application.theme,
                application.situation,
                application.request,
                application.id,
                actor,
                today,
            )
            application.accept(
                actor=actor,
                on=today,
                catalogue_version=self.catalogue.version,
                tasks=dispatch.tasks,
                credit=dispatch.credit or {},
                fast_track=dispatch.fast_track,
                deficiencies=dispatch.deficiencies,
            )
            return [dispatch.registration, *dispatch.permits]

        return self._on_application(application_id, act)

    def refuse_acceptance(
        self, *, application_id: UUID, actor: Actor, reason: str, legal_basis: str
    ) -> Receipt:
        """不予受理, with the reason and legal basis the applicant is told."""
        self._require(reason=reason, legal_basis=legal_basis)

        def act(application: BundleApplication) -> list[Any]:
            application.refuse_acceptance(actor=actor, reason=reason, legal_basis=legal_basis)
            return []

        return self._on_application(application_id, act)

    def _check_still_valid(
        self, commitments: dict[str, dict[str, str]], deficiencies: list[dict[str, Any]]
    ) -> None:
        """What was valid at receipt may not be at acceptance: a promised date passed, or a
        commitment letter republished. The window must then not accept it as it stands."""
        today = self.today().isoformat()
        late = [
            f"{d['material']} (by {d['supply_by']})"
            for d in deficiencies
            if d["supply_by"] <= today
        ]
        if late:
            msg = (
                "the promised date of a missing material (容缺) has passed: "
                + ", ".join(late)
                + "; 不予受理, or take a new submission with new dates"
            )
            raise Conflict(msg)
        republished = [
            code
            for code, signed in commitments.items()
            if (letter := self.catalogue.permit_type(code).commitment) is None
            or letter.version != signed["version"]
        ]
        if republished:
            msg = (
                "the commitment letter signed for "
                + ", ".join(republished)
                + " is no longer the published version; the applicant signs the new one"
            )
            raise Conflict(msg)

    def _dispatch(
        self,
        theme: str,
        situation: dict[str, Any],
        request: dict[str, Any],
        application_id: UUID,
        actor: Actor,
        today: date,
    ) -> _Dispatch:
        """Accept: the registration, a task per permit, the filings and commitments made
        effective, the credit checked, the deadlines counted from `today`."""
        details = dict(request["business"])
        uscc = details.pop("uscc")
        commitments: dict[str, dict[str, str]] = request["commitments"]
        fast_track: dict[str, Any] | None = request["fast_track"]
        deficiencies: list[dict[str, Any]] = request["deficiencies"]
        self._check_still_valid(commitments, deficiencies)
        registration_id = BusinessRegistration.create_id(uscc)
        try:
            registration: BusinessRegistration = self.repository.get(registration_id)
            is_new_business = False
        except AggregateNotFoundError:
            registration = BusinessRegistration(
                uscc=uscc, **details, application_id=application_id, actor=actor
            )
            is_new_business = True
        if registration.status is RegistrationStatus.REFUSED:
            # Refused once, applied for again: same code, the form's (perhaps corrected) data.
            registration.reapply(actor=actor, application_id=application_id, **details)
            is_new_business = True
        changed: list[Any] = []
        credit = self._credit_snapshot(uscc, today)
        if commitments and credit["listings"]:
            barred = "; ".join(
                f"{LISTS[x['list']][0]} {LISTS[x['list']][1]} since {x['listed_on']}"
                for x in credit["listings"]
            )
            msg = f"commitment mode is not available: {uscc} is listed ({barred})"
            raise Conflict(msg)
        if deficiencies and credit["listings"]:
            msg = (
                "容缺受理 (acceptance with a missing material) needs good credit: "
                f"{uscc} is listed on " + ", ".join(LISTS[x["list"]][0] for x in credit["listings"])
            )
            raise Conflict(msg)
        if fast_track is not None:
            days = self.catalogue.theme(theme).fast_track_days
            assert days is not None  # checked when the submission was validated
            fast_track = self._fast_track_record(uscc, credit, fast_track, today, days)
        target_days = fast_track["target_days"] if fast_track else None
        tasks = []
        for code in self.catalogue.permits_for(theme, situation):
            if code == BUSINESS_LICENCE and not is_new_business:
                continue  # an existing business already has its 营业执照
            permit_type = self.catalogue.permit_type(code)
            # The task keeps the mode and limits of the catalogue it was submitted under.
            task: dict[str, Any] = {
                "permit_type": code,
                "department": permit_type.department,
                "mode": permit_type.mode,
                "permit_id": None,
            }
            tasks.append(task)
            if permit_type.mode == "cancelled":
                task["state"] = TASK_INFORMED  # no permit; the department is informed
                continue
            permit = self._permit_to_apply(
                uscc, code, permit_type.department, application_id, actor
            )
            changed.append(permit)
            task["permit_id"] = permit.id
            number = self._permit_number(permit_type.department, today, permit.id)
            expiry = self._default_expiry(code, today)
            if permit_type.mode == "filing":
                permit.file(actor=actor, number=number, valid_from=today, valid_until=expiry)
                task |= {"state": TASK_FILED, "permit_number": number}
            elif permit_type.mode == "commitment" and code in commitments:
                letter = permit_type.commitment
                assert letter is not None and permit_type.verification_days is not None
                due = self.calendar.add_working_days(today, permit_type.verification_days)
                permit.grant_on_commitment(
                    actor=actor,
                    number=number,
                    valid_from=today,
                    valid_until=expiry,
                    letter_version=letter.version,
                    letter_text=letter.text_zh,
                    signed_by=commitments[code]["signed_by"],
                    verification_due=due,
                )
                task |= {"state": TASK_ON_COMMITMENT, "permit_number": number}
            else:
                promised = target_days or permit_type.promised_days  # 守信快批: one day
                task |= {
                    "state": TASK_QUEUED,
                    "promised_days": promised,
                    "statutory_days": permit_type.statutory_days,
                    "needs_inspection": permit_type.site_inspection,
                    "deemed_outcome": permit_type.deemed_outcome,
                    "deemed_basis": permit_type.deemed_basis,
                    "due_on": self.calendar.add_working_days(today, promised).isoformat(),
                    "statutory_due_on": self.calendar.add_working_days(
                        today, permit_type.statutory_days
                    ).isoformat(),
                }
        registration.attach(
            actor=actor,
            application_id=application_id,
            permit_types=[task["permit_type"] for task in tasks if task["permit_id"]],
        )
        return _Dispatch(registration, changed, tasks, credit, fast_track, deficiencies)

    def approve(
        self,
        *,
        application_id: UUID,
        permit_type: str,
        actor: Actor,
        permit_number: str,
        valid_from: date | None = None,
        valid_until: date | None = None,
        reason: str | None = None,
        legal_basis: str | None = None,
    ) -> Receipt:
        """A department grants its own permit: number and validity; the permit becomes 有效."""
        start = valid_from or self.today()
        until = valid_until or self._default_expiry(permit_type, start)
        problems = []
        if not permit_number.strip():
            problems.append(InvalidParam("permit_number", "must not be empty"))
        if until is not None and until <= start:
            problems.append(InvalidParam("valid_until", f"must be after valid_from ({start})"))
        if problems:
            raise ValidationFailed(problems)

        return self._decide(
            application_id,
            permit_type,
            *self._approval(
                permit_type=permit_type,
                actor=actor,
                number=permit_number,
                valid_from=start,
                valid_until=until,
                reason=reason or "准予许可 approved",
                legal_basis=legal_basis,
            ),
        )

    @staticmethod
    def _approval(
        *,
        permit_type: str,
        actor: Actor,
        number: str,
        valid_from: date,
        valid_until: date | None,
        reason: str,
        legal_basis: str | None,
    ) -> tuple[
        Callable[[BundleApplication], None],
        Callable[[Permit], None],
        Callable[[BusinessRegistration], None],
    ]:
        """What approving one task does to the bundle, the permit and (营业执照) the registration."""
        return (
            lambda application: application.approve(
                permit_type=permit_type,
                actor=actor,
                permit_number=number,
                reason=reason,
                legal_basis=legal_basis,
            ),
            lambda permit: permit.approve(
                actor=actor,
                number=number,
                valid_from=valid_from,
                valid_until=valid_until,
                reason=reason,
                legal_basis=legal_basis,
            ),
            lambda registration: registration.establish(actor=actor, permit_number=number),
        )

    def approve_jointly(self, *, application_id: UUID, actor: Actor) -> Receipt:
        """One joint acceptance (合并受理、合并发证): the department approves every task of
        its own still awaiting a decision, in one transaction; numbers are assigned here."""

        def act(application: BundleApplication) -> list[Any]:
            tasks = application.queued_tasks_of(actor.department or "")
            if actor.role != "department" or not tasks:
                msg = f"application {application_id} has no task awaiting {actor.department or actor.role}"
                raise Conflict(msg)
            today = self.today()
            changed: list[Any] = []
            for task in tasks:
                assert task.permit_id is not None  # queued tasks always have a permit
                changed += self._decide_task(
                    application,
                    task.permit_type,
                    *self._approval(
                        permit_type=task.permit_type,
                        actor=actor,
                        number=self._permit_number(task.department, today, task.permit_id),
                        valid_from=today,
                        valid_until=self._default_expiry(task.permit_type, today),
                        reason="合并受理 准予许可 approved jointly",
                        legal_basis=None,
                    ),
                )
            return changed

        return self._on_application(application_id, act)

    def refuse(
        self,
        *,
        application_id: UUID,
        permit_type: str,
        actor: Actor,
        reason: str,
        legal_basis: str,
    ) -> Receipt:
        """A department refuses its own permit, with the reason and legal basis the public sees."""
        self._require(reason=reason, legal_basis=legal_basis)

        return self._decide(
            application_id,
            permit_type,
            lambda application: application.refuse(
                permit_type=permit_type, actor=actor, reason=reason, legal_basis=legal_basis
            ),
            lambda permit: permit.refuse(actor=actor, reason=reason, legal_basis=legal_basis),
            lambda registration: registration.refuse(
                actor=actor, reason=reason, legal_basis=legal_basis
            ),
        )

    def _decide(
        self,
        application_id: UUID,
        permit_type: str,
        on_application: Callable[[BundleApplication], None],
        on_permit: Callable[[Permit], None],
        on_registration: Callable[[BusinessRegistration], None],
    ) -> Receipt:
        """One decision: the task, its permit and (for the 营业执照) the registration change
        together in one transaction; on a concurrent change the whole decision is re-run."""
        return self._on_application(
            application_id,
            lambda application: self._decide_task(
                application, permit_type, on_application, on_permit, on_registration
            ),
        )

    def _decide_task(
        self,
        application: BundleApplication,
        permit_type: str,
        on_application: Callable[[BundleApplication], None],
        on_permit: Callable[[Permit], None],
        on_registration: Callable[[BusinessRegistration], None],
    ) -> list[Any]:
        """Decide one task on a loaded bundle; returns the other aggregates it changed."""
        on_application(application)
        permit: Permit = self.repository.get(application.task(permit_type).permit_id)
        on_permit(permit)
        changed: list[Any] = [permit]
        if permit_type == BUSINESS_LICENCE:
            registration: BusinessRegistration = self.repository.get(application.registration_id)
            on_registration(registration)
            changed.append(registration)
            if registration.status is RegistrationStatus.REFUSED:
                changed += self._end_with_refused_registration(application, registration, permit)
        return changed

    def _end_with_refused_registration(
        self, application: BundleApplication, registration: BusinessRegistration, licence: Permit
    ) -> list[Any]:
        """No business, no permits: every other permit is 无效, and the open tasks end — of
        this application and of any other the business filed while being established."""
        reason = licence.reason or "营业执照不予登记"
        application.end_open_tasks(actor=SYSTEM, reason=reason)
        ended: list[Any] = []
        others: dict[UUID, BundleApplication] = {}
        for permit_type in registration.permit_types:
            if permit_type == BUSINESS_LICENCE:
                continue
            permit: Permit = self.repository.get(Permit.create_id(registration.uscc, permit_type))
            if permit.state == UNDER_REVIEW and permit.application_id != application.id:
                if permit.application_id not in others:
                    others[permit.application_id] = self.get_application(permit.application_id)
            permit.registration_refused(actor=SYSTEM, reason=reason)
            ended.append(permit)
        for other in others.values():
            other.end_open_tasks(actor=SYSTEM, reason=reason)
        return [*ended, *others.values()]

    # Supplements (一次性告知), resubmission and withdrawal.

    def _on_application(
        self, application_id: UUID, act: Callable[[BundleApplication], list[Any]]
    ) -> Receipt:
        """One act on an application (and whatever aggregates it returns), in one transaction."""

        def command() -> Receipt:
            application = self.get_application(application_id)
            others = act(application)
            recordings = self.save(application, *others)
            return Receipt(
                id=application.id, uscc=application.uscc, position=recordings[-1].notification.id
            )

        return self._retry(command)

    def request_supplement(
        self, *, application_id: UUID, permit_type: str, actor: Actor, items: list[str], note: str
    ) -> Receipt:
        def act(application: BundleApplication) -> list[Any]:
            application.request_supplement(
                permit_type=permit_type, actor=actor, items=items, note=note, on=self.today()
            )
            return []

        return self._on_application(application_id, act)

    def schedule_joint_inspection(self, *, application_id: UUID, actor: Actor, on: date) -> Receipt:
        if on < self.today():
            raise ValidationFailed([InvalidParam("on", "must not be in the past")])

        def act(application: BundleApplication) -> list[Any]:
            application.schedule_joint_inspection(actor=actor, on=on)
            return []

        return self._on_application(application_id, act)

    def record_finding(
        self, *, application_id: UUID, permit_type: str, actor: Actor, passed: bool, notes: str
    ) -> Receipt:
        def act(application: BundleApplication) -> list[Any]:
            application.record_finding(
                permit_type=permit_type, actor=actor, passed=passed, notes=notes
            )
            return []

        return self._on_application(application_id, act)

    def resubmit(
        self,
        *,
        application_id: UUID,
        actor: Actor,
        answers: dict[str, Any],
        materials: list[str],
    ) -> Receipt:
        """The applicant answers the consolidated notice once; every paused clock restarts,
        its deadline moved by the working days it was paused."""
        if actor.role != "clerk":
            msg = "resubmissions are made at the window"
            raise Forbidden(msg)
        today = self.today()

        def act(application: BundleApplication) -> list[Any]:
            merged = {**application.answers, **answers}
            cleaned = self.catalogue.validate_answers(
                application.theme, merged, application.situation
            )
            changed = {k: v for k, v in cleaned.items() if application.answers.get(k) != v}
            submitted = application.dispatched_on()
            due_dates = {}
            for task in application.tasks.values():
                if task.supplement is None:
                    continue
                pauses = [
                    (date.fromisoformat(p[0]), date.fromisoformat(p[1]) if p[1] else today)
                    for p in task.pauses
                ]
                due_dates[task.permit_type] = {
                    key: (
                        self.calendar.deadline(submitted, days, pauses=pauses).isoformat()
                        if days is not None
                        else None
                    )
                    for key, days in (
                        ("due_on", task.promised_days),
                        ("statutory_due_on", task.statutory_days),
                    )
                }
            application.resubmit(
                actor=actor, answers=changed, materials=materials, on=today, due_dates=due_dates
            )
            return []

        return self._on_application(application_id, act)

    def supply_material(self, *, application_id: UUID, actor: Actor, material: str) -> Receipt:
        def act(application: BundleApplication) -> list[Any]:
            application.supply(actor=actor, material=material, on=self.today())
            return []

        return self._on_application(application_id, act)

    def lapse_overdue(self) -> list[Receipt]:
        """Operator job: end every application whose promised missing material is overdue."""
        today = self.today()

        def lapse(application_id: UUID) -> list[Receipt]:
            application = self.get_application(application_id)
            if application.status == "in_review" and application.overdue_materials(today):
                return [self._lapse(application.id)]
            return []

        return self._each(BundleApplication.Submitted, "lapse", lapse)

    def deem_overdue(self) -> list[Receipt]:
        """Operator job (daily): where a rule deems the outcome of a task whose statutory
        limit passed undecided, record it — as the system's decision, citing the rule. An
        application only received and not answered within five working days is accepted."""
        today = self.today()

        def deem(application_id: UUID) -> list[Receipt]:
            application = self.get_application(application_id)
            received_on = day_in_china(application.created_on)
            if application.status == RECEIVED:
                if self.calendar.add_working_days(received_on, self.ACCEPTANCE_DAYS) >= today:
                    return []
                # 行政许可法 art. 32: not told within five days, it is accepted from receipt.
                # What cannot be accepted as it stands (a listed applicant asking for
                # commitment mode, a promised date passed) is logged and left to the window.
                return [self._accept(application.id, SYSTEM, received_on)]
            return [self._deem(application.id, p, today) for p in application.deemable_on(today)]

        return self._each(BundleApplication.Submitted, "deem", deem)

    def _deem(self, application_id: UUID, permit_type: str, today: date) -> Receipt:
        def act(application: BundleApplication) -> list[Any]:
            task = application.task(permit_type)
            assert task.permit_id is not None  # only approval-mode tasks are deemed
            number = self._permit_number(task.department, today, task.permit_id)
            application.deem(
                permit_type=permit_type, actor=SYSTEM, today=today, permit_number=number
            )
            permit: Permit = self.repository.get(task.permit_id)
            assert task.reason is not None and task.legal_basis is not None
            permit.deemed(
                actor=SYSTEM,
                approved=task.state == TASK_APPROVED,
                number=number,
                valid_from=today,
                valid_until=self._default_expiry(permit_type, today),
                reason=task.reason,
                legal_basis=task.legal_basis,
            )
            return [permit]

        return self._on_application(application_id, act)

    def _withdraw_permits(
        self, application: BundleApplication, permit_types: list[str], actor: Actor, reason: str
    ) -> list[Permit]:
        """The permits of tasks that ended undecided end with them (no permit: nothing to do)."""
        permits = []
        for permit_type in permit_types:
            permit_id = application.task(permit_type).permit_id
            if permit_id is not None:
                permit: Permit = self.repository.get(permit_id)
                permit.withdraw(actor=actor, reason=reason)
                permits.append(permit)
        return permits

    def _lapse(self, application_id: UUID) -> Receipt:
        def act(application: BundleApplication) -> list[Any]:
            missing = ", ".join(application.overdue_materials(self.today()))
            ended = application.lapse(actor=SYSTEM, today=self.today())
            return self._withdraw_permits(
                application, ended, SYSTEM, f"容缺材料逾期未补正 not supplied: {missing}"
            )

        return self._on_application(application_id, act)

    def withdraw(self, *, application_id: UUID, actor: Actor, reason: str) -> Receipt:
        """Before decision the applicant may withdraw; undecided permits end with it."""

        def act(application: BundleApplication) -> list[Any]:
            ended = application.withdraw(actor=actor, reason=reason)
            return self._withdraw_permits(application, ended, actor, reason)

        return self._on_application(application_id, act)

    # Helpers.

    @staticmethod
    def _permit_number(department: str, day: date, permit_id: UUID) -> str:
        """A number for a permit the system grants itself (filing, commitment, joint act)."""
        return f"{department.upper()}-{day:%Y%m%d}-{permit_id.hex[:8].upper()}"

    def _permit_to_apply(
        self, uscc: str, code: str, department: str, application_id: UUID, actor: Actor
    ) -> Permit:
        try:
            permit: Permit = self.repository.get(Permit.create_id(uscc, code))
        except AggregateNotFoundError:
            return Permit(
                uscc=uscc,
                permit_type=code,
                department=department,
                application_id=application_id,
                actor=actor,
            )
        permit.reapply(application_id=application_id, actor=actor)
        return permit

    def _default_expiry(self, permit_type: str, start: date) -> date | None:
        try:
            years = self.catalogue.permit_type(permit_type).validity_years
        except NotFound:
            return None  # the application will say the task does not exist
        if not years:
            return None
        try:
            return start.replace(year=start.year + years)
        except ValueError:  # 29 February
            return start.replace(year=start.year + years, day=28)
