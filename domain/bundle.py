"""The themed bundle application: one merged form, one task per permit, each decided by its department."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor, Role
from domain.china import day_in_china
from domain.errors import Conflict, Forbidden, Locked, NotFound
from domain.payloads import (
    CreditSnapshot,
    Deficiency,
    DispatchedTask,
    DueDates,
    FastTrack,
    Finding,
    Inspection,
    NonAcceptance,
    OpenRequest,
    PromisedMaterial,
    ReceivedRequest,
    Supplement,
)


class TaskState(StrEnum):
    """Where a department's task stands; equal to the plain string stored in the events."""

    QUEUED = "queued"
    APPROVED = "approved"
    REFUSED = "refused"
    FILED = "filed"  # 审批改为备案: done on the spot
    ON_COMMITMENT = "approved_on_commitment"  # 实行告知承诺: effective now, verified later
    INFORMED = "informed"  # 直接取消审批: no permit; the department is only informed
    SUPPLEMENT = "supplement_requested"  # clock paused until the applicant resubmits
    WITHDRAWN = "withdrawn"


# The names the service and the read side know the states by.
TASK_QUEUED = TaskState.QUEUED
TASK_APPROVED = TaskState.APPROVED
TASK_REFUSED = TaskState.REFUSED
TASK_FILED = TaskState.FILED
TASK_ON_COMMITMENT = TaskState.ON_COMMITMENT
TASK_INFORMED = TaskState.INFORMED
TASK_SUPPLEMENT = TaskState.SUPPLEMENT
TASK_WITHDRAWN = TaskState.WITHDRAWN
OPEN_TASK_STATES = (TASK_QUEUED, TASK_SUPPLEMENT)
TERMINAL_TASK_STATES = (
    TASK_APPROVED,
    TASK_REFUSED,
    TASK_FILED,
    TASK_ON_COMMITMENT,
    TASK_INFORMED,
    TASK_WITHDRAWN,
)

RECEIVED = "received"  # 收件: materials received, acceptance (受理) not yet decided
NOT_ACCEPTED = "not_accepted"  # 不予受理
IN_REVIEW = "in_review"
DECIDED = "decided"
WITHDRAWN = "withdrawn"
LAPSED = "lapsed"  # 容缺: a promised material was not supplied in time

# 办件查询: the applicant follows the application with a code sent at acceptance. So many
# wrong codes within the window lock the application's progress for as long: guessing the
# code takes forever, and the log holds at most that many refusals per window.
WRONG_CODES_BEFORE_LOCK = 5
WRONG_CODE_WINDOW = timedelta(minutes=15)
CODE_LOCK = timedelta(minutes=15)


@dataclass
class Task:
    """One permit of the bundle, routed to the department that decides it."""

    permit_type: str
    department: str
    permit_id: UUID | None  # None for a cancelled-approval item: there is no permit
    state: TaskState = TASK_QUEUED
    mode: str = "approval"
    promised_days: int | None = None
    statutory_days: int | None = None
    due_on: str | None = None  # promised time limit, in working days from submission
    statutory_due_on: str | None = None
    # Supplement requests: what is asked, and the clock's pauses [paused_on, resumed_on]
    # (resumed_on None while paused).
    supplement: Supplement | None = None
    pauses: list[list[str | None]] = field(default_factory=list)
    needs_inspection: bool = False
    finding: Finding | None = None  # this department's own finding at the inspection
    # Where a rule deems the outcome when the statutory limit passes undecided (视为准予…).
    deemed_outcome: str | None = None  # "approve" | "refuse"
    deemed_basis: str | None = None
    decided_by: str | None = None
    claimed_by: str | None = None  # 办理人: the officer of its department who has claimed it
    reason: str | None = None
    legal_basis: str | None = None
    permit_number: str | None = None


class BundleApplication(Aggregate):
    """A clerk's one submission for a theme; it is decided when every task is."""

    @staticmethod
    def create_id(application_id: UUID) -> UUID:
        # Chosen by the command, so the permits' events can name it before it exists.
        return application_id

    class Submitted(Aggregate.Created):
        # v2: the situation answers that chose the conditional permits;
        # v3: the credit snapshot the application was accepted on;
        # v4: the 守信快批 fast track (chain headquarters, written declaration), if chosen;
        # v5: materials accepted as missing (容缺受理), each with its promised date;
        # v6: accepted on the spot (and on which day), or only received (收件) with the
        # request kept for 受理.
        class_version = 6

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["situation"] = {}

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["credit"] = None

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state["fast_track"] = None

        @staticmethod
        def upcast_v4_v5(state: dict[str, Any]) -> None:
            state["deficiencies"] = []

        @staticmethod
        def upcast_v5_v6(state: dict[str, Any]) -> None:
            state["accepted"] = True  # before v6 every submission was accepted on the spot
            state["request"] = None
            state["accepted_on"] = None  # the day it was created, in China

        application_id: UUID
        theme: str
        catalogue_version: str
        uscc: str
        registration_id: UUID
        applicant: dict[str, Any]
        answers: dict[str, Any]
        situation: dict[str, Any]
        tasks: list[DispatchedTask]
        actor: Actor
        credit: CreditSnapshot | None
        fast_track: FastTrack | None
        deficiencies: list[Deficiency]
        accepted: bool
        request: ReceivedRequest | None
        accepted_on: date | None

    @event(Submitted)
    def __init__(
        self,
        *,
        application_id: UUID,
        theme: str,
        catalogue_version: str,
        uscc: str,
        registration_id: UUID,
        applicant: dict[str, Any],
        answers: dict[str, Any],
        situation: dict[str, Any],
        tasks: list[DispatchedTask],
        actor: Actor,
        credit: CreditSnapshot | None,
        fast_track: FastTrack | None,
        deficiencies: list[Deficiency],
        accepted: bool,
        request: ReceivedRequest | None,
        accepted_on: date | None,
    ) -> None:
        self.theme = theme
        self.situation = dict(situation)
        self.catalogue_version = catalogue_version
        self.uscc = uscc
        self.registration_id = registration_id
        self.applicant = dict(applicant)
        self.answers = dict(answers)
        self.submitted_by = actor.id
        # The window's district it was filed at: a clerk of another district does not see it.
        self.district = actor.district
        # 办件查询: the latest progress code's number and hash (never the code), and the
        # wrong codes tried lately.
        self.progress_code_issue = 0
        self.progress_code_hash: str | None = None
        self.wrong_codes: list[datetime] = []
        self.progress_locked_until: datetime | None = None
        self.inspection: Inspection | None = None
        # Only received (收件): what the window will dispatch once it accepts (受理).
        self.request = request
        self.acceptance: NonAcceptance | None = None  # 不予受理: its reason and legal basis
        self._dispatch(tasks, credit, fast_track, deficiencies)
        self.status = IN_REVIEW if accepted else RECEIVED
        self.accepted_on = accepted_on

    def dispatched_on(self) -> date:
        """The day its clocks started: its acceptance (受理), on the spot or later."""
        return self.accepted_on or day_in_china(self.created_on)

    def _dispatch(
        self,
        tasks: list[DispatchedTask],
        credit: CreditSnapshot | None,
        fast_track: FastTrack | None,
        deficiencies: list[Deficiency],
    ) -> None:
        """Accepted: one task per permit, with the credit it was accepted on."""
        self.credit = credit
        self.fast_track = fast_track
        # 容缺受理: each material accepted as missing, by name.
        self.deficiencies: dict[str, PromisedMaterial] = {
            d["material"]: {"supply_by": d["supply_by"], "supplied_on": None} for d in deficiencies
        }
        self.tasks: dict[str, Task] = {
            t["permit_type"]: Task(
                permit_type=t["permit_type"],
                department=t["department"],
                permit_id=UUID(str(t["permit_id"])) if t.get("permit_id") else None,
                state=TaskState(t.get("state", TASK_QUEUED)),
                mode=t.get("mode", "approval"),
                promised_days=t.get("promised_days"),
                statutory_days=t.get("statutory_days"),
                needs_inspection=bool(t.get("needs_inspection")),
                due_on=t.get("due_on"),
                statutory_due_on=t.get("statutory_due_on"),
                permit_number=t.get("permit_number"),
                deemed_outcome=t.get("deemed_outcome"),
                deemed_basis=t.get("deemed_basis"),
            )
            for t in tasks
        }

    # Acceptance (受理 / 不予受理) of an application the window only received.

    def _check_received(self, actor: Actor, act: str) -> None:
        if actor.role not in (Role.CLERK, Role.SYSTEM):
            msg = f"the window decides acceptance; {actor.role} may not {act} an application"
            raise Forbidden(msg)
        if self.status != RECEIVED:
            msg = f"application {self.id} is {self.status}; its acceptance is already decided"
            raise Conflict(msg)

    def accept(
        self,
        *,
        actor: Actor,
        on: date,
        catalogue_version: str,
        tasks: list[DispatchedTask],
        credit: CreditSnapshot,
        fast_track: FastTrack | None,
        deficiencies: list[Deficiency],
    ) -> None:
        self._check_received(actor, "accept")
        self._accepted(
            actor=actor,
            on=on,
            catalogue_version=catalogue_version,
            theme=self.theme,
            uscc=self.uscc,
            tasks=tasks,
            credit=credit,
            fast_track=fast_track,
            deficiencies=deficiencies,
        )
        self._decide_when_complete(actor)

    class Accepted(Aggregate.Event):
        actor: Actor
        on: date
        catalogue_version: str
        theme: str
        uscc: str
        tasks: list[DispatchedTask]
        credit: CreditSnapshot
        fast_track: FastTrack | None
        deficiencies: list[Deficiency]

    @event(Accepted)
    def _accepted(
        self,
        *,
        actor: Actor,
        on: date,
        catalogue_version: str,
        theme: str,
        uscc: str,
        tasks: list[DispatchedTask],
        credit: CreditSnapshot,
        fast_track: FastTrack | None,
        deficiencies: list[Deficiency],
    ) -> None:
        # theme and uscc ride along so that a worklist can file the tasks from this event.
        # The tasks are those of the catalogue in force at acceptance, and say so.
        self.catalogue_version = catalogue_version
        self._dispatch(tasks, credit, fast_track, deficiencies)
        self.request = None
        self.accepted_on = on
        self.status = IN_REVIEW

    def refuse_acceptance(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        """不予受理: the application ends before any department sees it."""
        self._check_received(actor, "refuse to accept")
        self._not_accepted(actor=actor, reason=reason, legal_basis=legal_basis)

    class NotAccepted(Aggregate.Event):
        actor: Actor
        reason: str
        legal_basis: str

    @event(NotAccepted)
    def _not_accepted(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self.acceptance = {"reason": reason, "legal_basis": legal_basis, "by": actor.id}
        self.request = None
        self.status = NOT_ACCEPTED

    def task(self, permit_type: str) -> Task:
        try:
            return self.tasks[permit_type]
        except KeyError:
            msg = f"application {self.id} has no task for permit {permit_type!r}"
            raise NotFound(msg) from None

    def task_of(self, permit_type: str, actor: Actor) -> Task:
        """The task a department officer may read: its own department's, on this application
        (any other answer is Forbidden, a task that does not exist included, so that a
        department learns nothing of what others do)."""
        task = self.tasks.get(permit_type)
        if task is None or actor.role != Role.DEPARTMENT or actor.department != task.department:
            msg = (
                f"{actor.department or actor.role} has no task for permit {permit_type} "
                f"on application {self.id}"
            )
            raise Forbidden(msg)
        return task

    def _check_own(self, permit_type: str, actor: Actor, act: str = "decide") -> Task:
        """The task, if the actor is an officer of the department it belongs to."""
        task = self.task(permit_type)
        if actor.role != Role.DEPARTMENT or actor.department != task.department:
            msg = (
                f"the task for permit {permit_type} belongs to department {task.department}; "
                f"{actor.department or actor.role} may not {act} it"
            )
            raise Forbidden(msg)
        return task

    def _check_claimant(self, task: Task, actor: Actor) -> None:
        """A task claimed by one officer is acted on by that officer, or taken over first."""
        if task.claimed_by is not None and task.claimed_by != actor.id:
            msg = (
                f"the task for permit {task.permit_type} is claimed by {task.claimed_by}; "
                "take it over first (with a reason) to act on it"
            )
            raise Conflict(msg)

    def _check_decidable(self, permit_type: str, actor: Actor) -> Task:
        task = self._check_own(permit_type, actor)
        if task.state != TASK_QUEUED:
            msg = f"the task for permit {permit_type} is {task.state}, not awaiting a decision"
            raise Conflict(msg)
        self._check_claimant(task, actor)
        return task

    # 办理人: an officer claims an open task of the department, releases it, or takes it over.

    def _check_open(self, task: Task, act: str) -> None:
        if task.state not in OPEN_TASK_STATES:
            msg = f"the task for permit {task.permit_type} is {task.state}; it cannot be {act}"
            raise Conflict(msg)

    def claim(self, *, permit_type: str, actor: Actor) -> bool:
        """The officer takes the task on; False if it is theirs already (nothing to record)."""
        task = self._check_own(permit_type, actor, "claim")
        self._check_open(task, "claimed")
        if task.claimed_by == actor.id:
            return False
        self._check_claimant(task, actor)
        self._task_claimed(permit_type=permit_type, actor=actor)
        return True

    class TaskClaimed(Aggregate.Event):
        permit_type: str
        actor: Actor

    @event(TaskClaimed)
    def _task_claimed(self, *, permit_type: str, actor: Actor) -> None:
        self.tasks[permit_type].claimed_by = actor.id

    def release(self, *, permit_type: str, actor: Actor) -> None:
        """The claimant hands the task back to the department's pool."""
        task = self._check_own(permit_type, actor, "release")
        self._check_open(task, "released")  # a decided task keeps its 办理人 on the record
        if task.claimed_by is None:
            msg = f"the task for permit {permit_type} is not claimed; nothing to release"
            raise Conflict(msg)
        self._check_claimant(task, actor)
        self._task_released(permit_type=permit_type, actor=actor)

    class TaskReleased(Aggregate.Event):
        permit_type: str
        actor: Actor

    @event(TaskReleased)
    def _task_released(self, *, permit_type: str, actor: Actor) -> None:
        self.tasks[permit_type].claimed_by = None

    def take_over(self, *, permit_type: str, actor: Actor, reason: str) -> None:
        """Another officer of the department takes a claimed task, saying why; the officer
        it is taken from is recorded."""
        task = self._check_own(permit_type, actor, "take over")
        self._check_open(task, "taken over")
        if task.claimed_by is None:
            msg = f"the task for permit {permit_type} is not claimed; claim it instead"
            raise Conflict(msg)
        if task.claimed_by == actor.id:
            msg = f"the task for permit {permit_type} is already claimed by {actor.id}"
            raise Conflict(msg)
        self._task_taken_over(
            permit_type=permit_type, actor=actor, reason=reason, previous=task.claimed_by
        )

    class TaskTakenOver(Aggregate.Event):
        permit_type: str
        actor: Actor
        reason: str
        previous: str  # the officer whose claim it was

    @event(TaskTakenOver)
    def _task_taken_over(
        self, *, permit_type: str, actor: Actor, reason: str, previous: str
    ) -> None:
        self.tasks[permit_type].claimed_by = actor.id

    def approve(
        self,
        *,
        permit_type: str,
        actor: Actor,
        permit_number: str,
        reason: str,
        legal_basis: str | None,
    ) -> None:
        self._check_decidable(permit_type, actor)
        self._check_inspected(permit_type)
        self._task_approved(
            permit_type=permit_type,
            actor=actor,
            permit_number=permit_number,
            reason=reason,
            legal_basis=legal_basis,
        )
        self._decide_when_complete(actor)

    class TaskApproved(Aggregate.Event):
        permit_type: str
        actor: Actor
        permit_number: str
        reason: str
        legal_basis: str | None

    @event(TaskApproved)
    def _task_approved(
        self,
        *,
        permit_type: str,
        actor: Actor,
        permit_number: str,
        reason: str,
        legal_basis: str | None,
    ) -> None:
        task = self.tasks[permit_type]
        task.state = TASK_APPROVED
        task.permit_number = permit_number
        task.reason = reason
        task.legal_basis = legal_basis
        task.decided_by = actor.id

    def refuse(self, *, permit_type: str, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_decidable(permit_type, actor)
        self._task_refused(
            permit_type=permit_type, actor=actor, reason=reason, legal_basis=legal_basis
        )
        self._decide_when_complete(actor)

    class TaskRefused(Aggregate.Event):
        permit_type: str
        actor: Actor
        reason: str
        legal_basis: str

    @event(TaskRefused)
    def _task_refused(
        self, *, permit_type: str, actor: Actor, reason: str, legal_basis: str
    ) -> None:
        task = self.tasks[permit_type]
        task.state = TASK_REFUSED
        task.reason = reason
        task.legal_basis = legal_basis
        task.decided_by = actor.id

    # Deemed outcome: the statutory limit passed undecided, and a rule says what that means.

    def deemable_on(self, today: date) -> list[str]:
        """The queued tasks whose statutory limit ended before `today` and whose rule deems
        an outcome (a paused task's clock is stopped, so it is not among them)."""
        if self.status != IN_REVIEW:
            return []
        return [
            t.permit_type
            for t in self.tasks.values()
            if t.state == TASK_QUEUED
            and t.deemed_outcome is not None
            and t.statutory_due_on is not None
            and t.statutory_due_on < today.isoformat()
        ]

    def deem(self, *, permit_type: str, actor: Actor, today: date, permit_number: str) -> None:
        task = self.task(permit_type)
        if actor.role != Role.SYSTEM:
            msg = "an outcome is deemed by the daily job, never by a person"
            raise Forbidden(msg)
        if permit_type not in self.deemable_on(today):
            msg = (
                f"the task for {permit_type} is {task.state} with statutory date "
                f"{task.statutory_due_on} and deemed outcome {task.deemed_outcome}: not deemable"
            )
            raise Conflict(msg)
        assert task.deemed_basis is not None  # the catalogue pairs the two
        if task.deemed_outcome == "approve":
            self._task_approved(
                permit_type=permit_type,
                actor=actor,
                permit_number=permit_number,
                reason=f"逾期未作决定，视为准予 deemed approved: the limit ended {task.statutory_due_on}",
                legal_basis=task.deemed_basis,
            )
        else:
            self._task_refused(
                permit_type=permit_type,
                actor=actor,
                reason=f"逾期未作决定，视为不予许可 deemed refused: the limit ended {task.statutory_due_on}",
                legal_basis=task.deemed_basis,
            )
        self._decide_when_complete(actor)

    # Joint inspection (联合勘查): one visit for every task that needs the site seen.

    def schedule_joint_inspection(self, *, actor: Actor, on: date) -> None:
        if actor.role != Role.CLERK:
            msg = "the window schedules the joint inspection for all departments"
            raise Forbidden(msg)
        if self.inspection is not None:
            msg = f"a joint inspection is already scheduled for {self.inspection['on']}"
            raise Conflict(msg)
        due = [t for t in self.tasks.values() if t.needs_inspection and t.state in OPEN_TASK_STATES]
        if len(due) < 2:
            msg = "a joint inspection needs two or more tasks that inspect the site"
            raise Conflict(msg)
        self._joint_inspection_scheduled(
            actor=actor,
            on=on,
            permit_types=[t.permit_type for t in due],
            departments=sorted({t.department for t in due}),
        )

    class JointInspectionScheduled(Aggregate.Event):
        actor: Actor
        on: date
        permit_types: list[str]
        departments: list[str]

    @event(JointInspectionScheduled)
    def _joint_inspection_scheduled(
        self, *, actor: Actor, on: date, permit_types: list[str], departments: list[str]
    ) -> None:
        self.inspection = {
            "on": on.isoformat(),
            "permit_types": list(permit_types),
            "departments": list(departments),
        }

    def record_finding(self, *, permit_type: str, actor: Actor, passed: bool, notes: str) -> None:
        """Each department records its own finding; the decision stays its own, too."""
        task = self.task(permit_type)
        if actor.role != Role.DEPARTMENT or actor.department != task.department:
            msg = f"the finding for {permit_type} is recorded by department {task.department}"
            raise Forbidden(msg)
        self._check_claimant(task, actor)
        if self.inspection is None or permit_type not in self.inspection["permit_types"]:
            msg = f"permit {permit_type} is not part of a scheduled joint inspection"
            raise Conflict(msg)
        if task.finding is not None:
            msg = f"the finding for {permit_type} is already recorded"
            raise Conflict(msg)
        self._finding_recorded(permit_type=permit_type, actor=actor, passed=passed, notes=notes)

    class FindingRecorded(Aggregate.Event):
        permit_type: str
        actor: Actor
        passed: bool
        notes: str

    @event(FindingRecorded)
    def _finding_recorded(
        self, *, permit_type: str, actor: Actor, passed: bool, notes: str
    ) -> None:
        self.tasks[permit_type].finding = {"passed": passed, "notes": notes, "by": actor.id}

    def _check_inspected(self, permit_type: str) -> None:
        """A task in the joint inspection is approved only on its department's passing finding."""
        if self.inspection is None or permit_type not in self.inspection["permit_types"]:
            return
        finding = self.tasks[permit_type].finding
        if finding is None:
            msg = f"permit {permit_type} awaits the joint inspection of {self.inspection['on']}"
            raise Conflict(msg)
        if not finding["passed"]:
            msg = f"the joint inspection found {permit_type} not compliant; it can only be refused"
            raise Conflict(msg)

    def queued_tasks_of(self, department: str) -> list[Task]:
        return [
            t for t in self.tasks.values() if t.department == department and t.state == TASK_QUEUED
        ]

    # Supplements (一次性告知) and withdrawal.

    def request_supplement(
        self, *, permit_type: str, actor: Actor, items: list[str], note: str, on: date
    ) -> None:
        """A department asks for more; its clock stops until the applicant resubmits."""
        self._check_decidable(permit_type, actor)
        self._supplement_requested(
            permit_type=permit_type, actor=actor, items=items, note=note, on=on
        )

    class SupplementRequested(Aggregate.Event):
        permit_type: str
        actor: Actor
        items: list[str]
        note: str
        on: date

    @event(SupplementRequested)
    def _supplement_requested(
        self, *, permit_type: str, actor: Actor, items: list[str], note: str, on: date
    ) -> None:
        task = self.tasks[permit_type]
        task.state = TASK_SUPPLEMENT
        task.supplement = {
            "items": list(items),
            "note": note,
            "requested_on": on.isoformat(),
            "by": actor.id,
        }
        task.pauses = [*task.pauses, [on.isoformat(), None]]

    def supplement_notice(self) -> list[OpenRequest]:
        """Every open request of every department, as one notice to the applicant."""
        return [
            {"permit_type": t.permit_type, "department": t.department, **t.supplement}
            for t in self.tasks.values()
            if t.state == TASK_SUPPLEMENT and t.supplement is not None
        ]

    def resubmit(
        self,
        *,
        actor: Actor,
        answers: dict[str, Any],
        materials: list[str],
        on: date,
        due_dates: dict[str, DueDates],
    ) -> None:
        """One resubmission answers the consolidated notice and resumes every paused task;
        `due_dates` are the tasks' deadlines pushed out by the working days paused."""
        if self.status != IN_REVIEW:
            msg = f"application {self.id} is {self.status}; nothing to resubmit"
            raise Conflict(msg)
        if not self.supplement_notice():
            msg = f"application {self.id} has no open supplement request"
            raise Conflict(msg)
        paused = {t.permit_type for t in self.tasks.values() if t.state == TASK_SUPPLEMENT}
        if not paused <= set(due_dates):
            msg = f"new due dates are needed for every paused task: {sorted(paused)}"
            raise ValueError(msg)
        self._resubmitted(
            actor=actor, answers=answers, materials=materials, on=on, due_dates=due_dates
        )

    class Resubmitted(Aggregate.Event):
        actor: Actor
        answers: dict[str, Any]
        materials: list[str]
        on: date
        due_dates: dict[str, DueDates]

    @event(Resubmitted)
    def _resubmitted(
        self,
        *,
        actor: Actor,
        answers: dict[str, Any],
        materials: list[str],
        on: date,
        due_dates: dict[str, DueDates],
    ) -> None:
        self.answers = {**self.answers, **answers}
        for task in self.tasks.values():
            if task.state == TASK_SUPPLEMENT:
                task.state = TASK_QUEUED
                task.supplement = None
                task.pauses = [*task.pauses[:-1], [task.pauses[-1][0], on.isoformat()]]
                task.due_on = due_dates[task.permit_type]["due_on"]
                task.statutory_due_on = due_dates[task.permit_type]["statutory_due_on"]

    def withdraw(self, *, actor: Actor, reason: str) -> list[str]:
        """The applicant withdraws before decision; returns the permit types withdrawn."""
        if actor.role != Role.CLERK:
            msg = "an application is withdrawn at the window"
            raise Forbidden(msg)
        if self.status not in (RECEIVED, IN_REVIEW):
            msg = f"application {self.id} is {self.status}; it can no longer be withdrawn"
            raise Conflict(msg)
        withdrawn = [t.permit_type for t in self.tasks.values() if t.state in OPEN_TASK_STATES]
        self._withdrawn(actor=actor, reason=reason, permit_types=withdrawn)
        return withdrawn

    class Withdrawn(Aggregate.Event):
        actor: Actor
        reason: str
        permit_types: list[str]

    @event(Withdrawn)
    def _withdrawn(self, *, actor: Actor, reason: str, permit_types: list[str]) -> None:
        for permit_type in permit_types:
            self.tasks[permit_type].state = TASK_WITHDRAWN
        self.request = None
        self.status = WITHDRAWN

    # 容缺受理: accepted with a missing material, to be supplied by a promised date.

    def supply(self, *, actor: Actor, material: str, on: date) -> None:
        if actor.role != Role.CLERK:
            msg = "missing materials are received at the window"
            raise Forbidden(msg)
        entry = self.deficiencies.get(material)
        if entry is None:
            msg = f"application {self.id} accepted no missing material {material!r}"
            raise NotFound(msg)
        if entry["supplied_on"] is not None:
            msg = f"{material!r} was supplied on {entry['supplied_on']}"
            raise Conflict(msg)
        if self.status == LAPSED:
            msg = f"application {self.id} lapsed; {material!r} came too late"
            raise Conflict(msg)
        self._supplied(actor=actor, material=material, on=on)

    class MaterialSupplied(Aggregate.Event):
        actor: Actor
        material: str
        on: date

    @event(MaterialSupplied)
    def _supplied(self, *, actor: Actor, material: str, on: date) -> None:
        self.deficiencies = {
            **self.deficiencies,
            material: {**self.deficiencies[material], "supplied_on": on.isoformat()},
        }

    def overdue_materials(self, today: date) -> list[str]:
        return [
            material
            for material, entry in self.deficiencies.items()
            if entry["supplied_on"] is None and entry["supply_by"] < today.isoformat()
        ]

    def lapse(self, *, actor: Actor, today: date) -> list[str]:
        """A promised material not supplied in time ends the application: its undecided
        tasks end; decisions already made stand. Returns the permit types ended."""
        missing = self.overdue_materials(today)
        if self.status != IN_REVIEW or not missing:
            msg = f"application {self.id} has no overdue missing material"
            raise Conflict(msg)
        ended = [t.permit_type for t in self.tasks.values() if t.state in OPEN_TASK_STATES]
        self._lapsed(actor=actor, missing=missing, permit_types=ended)
        return ended

    class Lapsed(Aggregate.Event):
        actor: Actor
        missing: list[str]
        permit_types: list[str]

    @event(Lapsed)
    def _lapsed(self, *, actor: Actor, missing: list[str], permit_types: list[str]) -> None:
        for permit_type in permit_types:
            self.tasks[permit_type].state = TASK_WITHDRAWN
        self.status = LAPSED

    def end_open_tasks(self, *, actor: Actor, reason: str) -> list[str]:
        """The 营业执照 was refused: the undecided tasks end with it. Returns their types."""
        ended = [t.permit_type for t in self.tasks.values() if t.state in OPEN_TASK_STATES]
        if ended:
            self._open_tasks_ended(actor=actor, reason=reason, permit_types=ended)
        self._decide_when_complete(actor)
        return ended

    class OpenTasksEnded(Aggregate.Event):
        actor: Actor
        reason: str
        permit_types: list[str]

    @event(OpenTasksEnded)
    def _open_tasks_ended(self, *, actor: Actor, reason: str, permit_types: list[str]) -> None:
        for permit_type in permit_types:
            task = self.tasks[permit_type]
            task.state = TASK_WITHDRAWN
            task.reason = reason

    def _decide_when_complete(self, actor: Actor) -> None:
        if self.status == IN_REVIEW and all(
            t.state in TERMINAL_TASK_STATES for t in self.tasks.values()
        ):
            self._decided(actor=actor)

    def decide_if_complete(self, *, actor: Actor) -> None:
        """A bundle of filings and commitments is decided the moment it is submitted."""
        self._decide_when_complete(actor)

    class Decided(Aggregate.Event):
        actor: Actor

    @event(Decided)
    def _decided(self, *, actor: Actor) -> None:
        self.status = DECIDED

    # --- 办件查询: the applicant's progress code -----------------------------------------

    def issue_progress_code(self, *, actor: Actor, code_hash: str) -> int:
        """A new code for the applicant (at acceptance, or again at the window): the one
        before stops working, and so does any lock. Returns the code's number, which with
        the application's id is what the code is derived from."""
        if self.status in (RECEIVED, NOT_ACCEPTED):
            msg = f"application {self.id} is {self.status}; its code is issued at acceptance"
            raise Conflict(msg)
        issue = self.progress_code_issue + 1
        self._progress_code_issued(actor=actor, issue=issue, code_hash=code_hash)
        return issue

    class ProgressCodeIssued(Aggregate.Event):
        actor: Actor
        issue: int
        code_hash: str  # see licensing.progress: a slow, salted hash; the code is never stored

    @event(ProgressCodeIssued)
    def _progress_code_issued(self, *, actor: Actor, issue: int, code_hash: str) -> None:
        self.progress_code_issue = issue
        self.progress_code_hash = code_hash
        self.wrong_codes = []
        self.progress_locked_until = None

    def progress_locked(self, now: datetime) -> datetime | None:
        """Until when the progress is locked after too many wrong codes (None: it is not)."""
        until = self.progress_locked_until
        return until if until is not None and now < until else None

    def refuse_progress_code(self, *, at: datetime) -> int:
        """A wrong code was tried at `at`: recorded; the last of `WRONG_CODES_BEFORE_LOCK`
        within `WRONG_CODE_WINDOW` locks the progress for `CODE_LOCK`. While locked nothing is
        recorded (Locked). Returns how many tries are left before the lock."""
        locked = self.progress_locked(at)
        if locked is not None:
            raise Locked(f"too many wrong codes; try again after {locked.isoformat()}", locked)
        lock = at + CODE_LOCK if self.wrong_codes_left(at) <= 1 else None
        self._progress_code_refused(at=at, locked_until=lock)
        return self.wrong_codes_left(at)

    def wrong_codes_left(self, at: datetime) -> int:
        """How many wrong codes may still be tried at `at` before the lock."""
        if self.progress_locked(at) is not None:
            return 0
        recent = [t for t in self.wrong_codes if at - t < WRONG_CODE_WINDOW]
        return WRONG_CODES_BEFORE_LOCK - len(recent)

    class ProgressCodeRefused(Aggregate.Event):
        at: datetime
        locked_until: datetime | None

    @event(ProgressCodeRefused)
    def _progress_code_refused(self, *, at: datetime, locked_until: datetime | None) -> None:
        self.wrong_codes = [t for t in self.wrong_codes if at - t < WRONG_CODE_WINDOW] + [at]
        if locked_until is not None:
            self.wrong_codes = []
            self.progress_locked_until = locked_until
