"""Random command sequences against a hand-written model of each lifecycle, in memory.

Three machines — a permit, a business registration, a bundle application — each drive one
aggregate with every public command and every kind of actor, and check after each step that
the aggregate did what our reading of the rules says: the allowed command moves the state, the
refused one raises (Forbidden for the wrong actor, Conflict for the wrong state) and leaves no
event behind, and replaying the events gives exactly the live aggregate.

The models are written out here on purpose, not imported from the domain: a test that reads
the code's own tables would agree with any mistake in them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain.actor import SYSTEM, Actor
from domain.bundle import BundleApplication
from domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from domain.permit import PUBLIC_STATUS, Permit
from domain.registration import BusinessRegistration
from domain.status import PermitStatus, RegistrationStatus
from domain.uscc import make_uscc

USCC = make_uscc("91440101MA5LT0E01")
DAY0 = date(2025, 3, 3)

# Short runs, so that a failing sequence shrinks to a readable one; many of them, so that the
# deep states (an expiry, a deregistration after its notice) are reached. About 8 s a machine.
RUN = settings(max_examples=250, stateful_step_count=30, deadline=None)

SAMR = Actor(id="samr-officer", role="department", department="samr")
MEM = Actor(id="mem-officer", role="department", department="mem")
CLERK = Actor(id="window-clerk", role="clerk", district="越秀")
REGISTRAR = Actor(id="registrar", role="registrar", district="越秀")
PEOPLE = st.sampled_from([SAMR, MEM, CLERK, REGISTRAR])
# Half the time the one actor the command is meant for, so that lifecycles get somewhere.
PERMIT_PEOPLE = st.one_of(st.just(SAMR), PEOPLE)
REGISTRATION_PEOPLE = st.one_of(st.just(REGISTRAR), PEOPLE)


class EventSourcedMachine(RuleBasedStateMachine):
    """What holds for every aggregate: refusals change nothing, every event names its actor,
    the version counts the events, and the events replay to the live state."""

    aggregate: Aggregate

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Any] = []

    def start(self, aggregate: Aggregate, created: str) -> None:
        self.aggregate = aggregate
        self.collect([created])

    def collect(self, emits: list[str]) -> None:
        new = self.aggregate.collect_events()
        assert [type(e).__name__ for e in new] == emits
        for e in new:
            assert isinstance(getattr(e, "actor", None), Actor), f"{type(e).__name__} has no actor"
        self.events.extend(new)

    def run(
        self,
        command: Callable[[], None],
        *,
        refused_with: type[DomainError] | None,
        emits: list[str],
    ) -> bool:
        """Run one command; expect it refused with that error (and nothing recorded or changed),
        or accepted with exactly those events. Says whether it was accepted."""
        if refused_with is None:
            command()
            self.collect(emits)
            return True
        before = copy.deepcopy(vars(self.aggregate))
        pending = len(self.aggregate.pending_events)
        with pytest.raises(refused_with):
            command()
        assert len(self.aggregate.pending_events) == pending, "a refused command left an event"
        assert vars(self.aggregate) == before, "a refused command changed the aggregate"
        return False

    @invariant()
    def no_event_is_lost(self) -> None:
        assert self.aggregate.version == len(self.events)
        assert [e.originator_version for e in self.events] == list(range(1, len(self.events) + 1))
        assert self.aggregate.pending_events == []

    @invariant()
    def replaying_the_events_gives_the_live_state(self) -> None:
        replayed = None
        for e in self.events:
            replayed = e.mutate(replayed)
        assert type(replayed) is type(self.aggregate)
        # Nothing excluded: both have empty pending lists (the live one's are collected after
        # every command), the same id, version and timestamps.
        assert vars(replayed) == vars(self.aggregate)


# --- Permit -------------------------------------------------------------------------------

# Acts only the issuing department may do: the states each may start from, where it leads,
# and the event it records.
PERMIT_DEPARTMENT_ACTS = {
    "approve": ({"under_review"}, "valid", "Approved"),
    "refuse": ({"under_review"}, "refused", "Refused"),
    "suspend": ({"valid"}, "suspended", "Suspended"),
    "resume": ({"suspended"}, "valid", "Resumed"),
    "revoke": ({"valid", "suspended", "rectifying", "non_compliant"}, "revoked", "Revoked"),
    "cancel": ({"valid", "suspended"}, "cancelled", "Cancelled"),
    # 先证后核: verifying a commitment, and the checks that may follow any issuance. The two
    # verification acts also need a commitment still awaiting verification.
    "confirm_commitment": ({"valid"}, "valid", "CommitmentConfirmed"),
    "commitment_found_false": ({"valid"}, "revoked", "CommitmentFalse"),
    "order_rectification": ({"valid"}, "rectifying", "RectificationOrdered"),
    "rectified": ({"rectifying"}, "valid", "Rectified"),
    "rectification_failed": ({"rectifying"}, "non_compliant", "RectificationFailed"),
}
# Acts the domain does not ask who does (the service checks the submitting clerk): each ends
# the review, only from it.
PERMIT_SUBMISSION_ACTS = {
    "withdraw": ("withdrawn", "Withdrawn"),
    "file": ("valid", "Filed"),
    "grant_on_commitment": ("valid", "GrantedOnCommitment"),
}
# Over: the business may apply again, and a business exit has nothing left to end.
PERMIT_ENDED = {"refused", "revoked", "cancelled", "expired", "business_exited", "withdrawn"}
PERMIT_PUBLIC = {
    "under_review": PermitStatus.UNDER_VERIFICATION,
    "valid": PermitStatus.VALID,
    "rectifying": PermitStatus.UNDER_RECTIFICATION,
    "non_compliant": PermitStatus.NON_COMPLIANT,
    **dict.fromkeys({"suspended", *PERMIT_ENDED}, PermitStatus.INVALID),
}
# The events that settle a commitment's pending verification.
# Events after which no commitment verification is pending: a verification act, or the end
# of the permit (an ended permit has nothing left to verify).
SETTLES_COMMITMENT = {
    "CommitmentConfirmed",
    "RectificationOrdered",
    "CommitmentFalse",
    "Revoked",
    "Cancelled",
    "Expired",
    "BusinessExited",
    "RegistrationRefused",
    "Withdrawn",
    "Refused",
}
# Mostly a dated permit (it can expire), now and then an open-ended one.
VALID_UNTIL = st.integers(0, 20).map(lambda n: DAY0 + timedelta(days=n) if n else None)
TODAY = st.dates(DAY0, DAY0 + timedelta(days=30))
# Days past the permit's last valid day: both sides of it.
PAST_VALID_UNTIL = st.sampled_from([0, 1])
REASON = st.sampled_from(["现场核查", "材料不全"])
LAW = st.sampled_from(["《食品安全法》第35条", "《行政许可法》第38条"])
FINDINGS = st.sampled_from(["消防通道堵塞", "承诺内容与现场不符"])
# Working days after the grant, as a date: when the commitment must be verified by.
VERIFICATION_DUE = st.integers(1, 30).map(lambda n: DAY0 + timedelta(days=n))
# Who submits (the clerk), or anyone: the domain does not ask.
SUBMITTERS = st.one_of(st.just(CLERK), PEOPLE, st.just(SYSTEM))


class PermitLifecycle(EventSourcedMachine):
    """One food-business permit of samr, from application to every end and back: decided,
    filed (审批改为备案) or granted on commitment (告知承诺) and then verified, rectified or
    found false, withdrawn before a decision."""

    def __init__(self) -> None:
        super().__init__()
        self.application_id = UUID("00000000-0000-4000-8000-000000000001")
        self.start(
            Permit(
                uscc=USCC,
                permit_type="food_business",
                department="samr",
                application_id=self.application_id,
                actor=CLERK,
            ),
            "Applied",
        )
        self.state = "under_review"
        self.valid_until: date | None = None
        self.number: str | None = None
        self.legal_basis: str | None = None
        self.verification_due: date | None = None

    @initialize(
        how=st.sampled_from(
            [None, "approve", "file", "grant_on_commitment", "rectifying", "non_compliant"]
        ),
        valid_until=VALID_UNTIL,
        due=VERIFICATION_DUE,
    )
    def perhaps_already_issued(self, how: str | None, valid_until: date | None, due: date) -> None:
        # Most runs start from an issued permit (granted on commitment, perhaps already
        # under rectification or found non-compliant), where the verification and
        # post-issuance acts live.
        if how == "approve":
            self.approve(actor=SAMR, valid_until=valid_until, reason="准予许可")
        elif how == "file":
            self.file(actor=CLERK, valid_until=valid_until)
        elif how is not None:
            self.grant_on_commitment(actor=CLERK, valid_until=valid_until, due=due)
        if how in {"rectifying", "non_compliant"}:
            self.order_rectification(actor=SAMR, findings="消防通道堵塞", days=10)
        if how == "non_compliant":
            self.rectification_failed(actor=SAMR, reason="逾期未整改", law="《行政许可法》第69条")

    @property
    def permit(self) -> Permit:
        return self.aggregate  # type: ignore[return-value]

    def department_act(
        self,
        act: str,
        actor: Actor,
        command: Callable[[], None],
        *,
        legal_basis: str | None = None,
        otherwise: type[DomainError] | None = None,
    ) -> bool:
        """`otherwise`: the act's own refusal, checked after the actor and the state."""
        allowed_from, leads_to, event_name = PERMIT_DEPARTMENT_ACTS[act]
        refused: type[DomainError] | None = otherwise
        if actor != SAMR:
            refused = Forbidden
        elif self.state not in allowed_from:
            refused = Conflict
        accepted = self.run(command, refused_with=refused, emits=[event_name])
        if accepted:
            self.state = leads_to
            if self.state in PERMIT_ENDED:
                self.verification_due = None
            self.legal_basis = legal_basis
        return accepted

    def submission_act(self, act: str, command: Callable[[], None]) -> bool:
        leads_to, event_name = PERMIT_SUBMISSION_ACTS[act]
        accepted = self.run(
            command,
            refused_with=None if self.state == "under_review" else Conflict,
            emits=[event_name],
        )
        if accepted:
            self.state = leads_to
            if self.state in PERMIT_ENDED:
                self.verification_due = None
            self.legal_basis = None
        return accepted

    def issued(self, number: str, valid_until: date | None) -> None:
        self.number = number
        self.valid_until = valid_until

    @rule(actor=PERMIT_PEOPLE, valid_until=VALID_UNTIL, reason=REASON)
    def approve(self, actor: Actor, valid_until: date | None, reason: str) -> None:
        def command() -> None:
            self.permit.approve(
                actor=actor,
                number="JY14401010000001",
                valid_from=DAY0,
                valid_until=valid_until,
                reason=reason,
                legal_basis=None,
            )

        if self.department_act("approve", actor, command):
            self.issued("JY14401010000001", valid_until)

    @rule(actor=PERMIT_PEOPLE, reason=REASON, law=LAW)
    def refuse(self, actor: Actor, reason: str, law: str) -> None:
        self.department_act(
            "refuse",
            actor,
            lambda: self.permit.refuse(actor=actor, reason=reason, legal_basis=law),
            legal_basis=law,
        )

    @rule(actor=SUBMITTERS, reason=REASON)
    def withdraw(self, actor: Actor, reason: str) -> None:
        self.submission_act("withdraw", lambda: self.permit.withdraw(actor=actor, reason=reason))

    @rule(actor=SUBMITTERS, valid_until=VALID_UNTIL)
    def file(self, actor: Actor, valid_until: date | None) -> None:
        if self.submission_act(
            "file",
            lambda: self.permit.file(
                actor=actor, number="BA-0001", valid_from=DAY0, valid_until=valid_until
            ),
        ):
            self.issued("BA-0001", valid_until)

    @rule(actor=SUBMITTERS, valid_until=VALID_UNTIL, due=VERIFICATION_DUE)
    def grant_on_commitment(self, actor: Actor, valid_until: date | None, due: date) -> None:
        if self.submission_act(
            "grant_on_commitment",
            lambda: self.permit.grant_on_commitment(
                actor=actor,
                number="CN-0001",
                valid_from=DAY0,
                valid_until=valid_until,
                letter_version="2025-01",
                letter_text="本人承诺符合许可条件",
                signed_by="李四",
                verification_due=due,
            ),
        ):
            self.issued("CN-0001", valid_until)
            self.verification_due = due

    @rule(actor=PERMIT_PEOPLE)
    def confirm_commitment(self, actor: Actor) -> None:
        if self.department_act(
            "confirm_commitment",
            actor,
            lambda: self.permit.confirm_commitment(actor=actor),
            otherwise=Conflict if self.verification_due is None else None,
        ):
            self.verification_due = None

    @rule(actor=PERMIT_PEOPLE, findings=FINDINGS, law=LAW)
    def commitment_found_false(self, actor: Actor, findings: str, law: str) -> None:
        if self.department_act(
            "commitment_found_false",
            actor,
            lambda: self.permit.commitment_found_false(
                actor=actor, findings=findings, legal_basis=law
            ),
            legal_basis=law,
            otherwise=Conflict if self.verification_due is None else None,
        ):
            self.verification_due = None

    @rule(actor=PERMIT_PEOPLE, findings=FINDINGS, days=st.integers(1, 30))
    def order_rectification(self, actor: Actor, findings: str, days: int) -> None:
        # At a commitment's verification or at any later check of an issued permit.
        deadline = DAY0 + timedelta(days=days)
        if self.department_act(
            "order_rectification",
            actor,
            lambda: self.permit.order_rectification(
                actor=actor, findings=findings, deadline=deadline
            ),
        ):
            self.verification_due = None

    @rule(actor=PERMIT_PEOPLE, reason=REASON)
    def rectified(self, actor: Actor, reason: str) -> None:
        self.department_act(
            "rectified", actor, lambda: self.permit.rectified(actor=actor, reason=reason)
        )

    @rule(actor=PERMIT_PEOPLE, reason=REASON, law=LAW)
    def rectification_failed(self, actor: Actor, reason: str, law: str) -> None:
        self.department_act(
            "rectification_failed",
            actor,
            lambda: self.permit.rectification_failed(actor=actor, reason=reason, legal_basis=law),
            legal_basis=law,
        )

    @rule(actor=PERMIT_PEOPLE, reason=REASON, law=LAW)
    def suspend(self, actor: Actor, reason: str, law: str) -> None:
        self.department_act(
            "suspend",
            actor,
            lambda: self.permit.suspend(actor=actor, reason=reason, legal_basis=law),
            legal_basis=law,
        )

    @rule(actor=PERMIT_PEOPLE, reason=REASON)
    def resume(self, actor: Actor, reason: str) -> None:
        self.department_act("resume", actor, lambda: self.permit.resume(actor=actor, reason=reason))

    @rule(actor=PERMIT_PEOPLE, reason=REASON, law=LAW)
    def revoke(self, actor: Actor, reason: str, law: str) -> None:
        self.department_act(
            "revoke",
            actor,
            lambda: self.permit.revoke(actor=actor, reason=reason, legal_basis=law),
            legal_basis=law,
        )

    @rule(actor=PERMIT_PEOPLE, reason=REASON)
    def cancel(self, actor: Actor, reason: str) -> None:
        self.department_act("cancel", actor, lambda: self.permit.cancel(actor=actor, reason=reason))

    @rule(actor=PERMIT_PEOPLE | st.just(SYSTEM), days=PAST_VALID_UNTIL)
    def expire(self, actor: Actor, days: int) -> None:
        # Expiry is a fact about dates, not anyone's decision: the nightly job runs it as
        # SYSTEM and the domain does not ask who. A permit under rectification (or found
        # non-compliant) is not expired by the job: only a valid or suspended one is.
        today = (self.valid_until or DAY0) + timedelta(days=days)
        due = (
            self.state in {"valid", "suspended"}
            and self.valid_until is not None
            and self.valid_until < today
        )
        if self.run(
            lambda: self.permit.expire(actor=actor, today=today),
            refused_with=None if due else Conflict,
            emits=["Expired"],
        ):
            self.state = "expired"
            if self.state in PERMIT_ENDED:
                self.verification_due = None
            self.legal_basis = None

    @rule(actor=st.one_of(st.just(SYSTEM), PEOPLE), approved=st.booleans(), law=LAW)
    def deemed(self, actor: Actor, approved: bool, law: str) -> None:
        # The statutory limit passed undecided and a rule deems the outcome: the daily job
        # only, and only on a permit still under review.
        refused: type[DomainError] | None = None
        if actor != SYSTEM:
            refused = Forbidden
        elif self.state != "under_review":
            refused = Conflict
        if self.run(
            lambda: self.permit.deemed(
                actor=actor,
                approved=approved,
                number="DEEMED-1",
                valid_from=DAY0,
                valid_until=None,
                reason="逾期未作决定",
                legal_basis=law,
            ),
            refused_with=refused,
            emits=["Approved" if approved else "Refused"],
        ):
            self.state = "valid" if approved else "refused"
            self.legal_basis = law
            if approved:
                self.issued("DEEMED-1", None)

    @rule(actor=PERMIT_PEOPLE, reason=REASON)
    def registration_refused(self, actor: Actor, reason: str) -> None:
        # Like an exit: the refused 营业执照 ends whatever is not over yet; no-op otherwise.
        ended = self.state in PERMIT_ENDED
        self.run(
            lambda: self.permit.registration_refused(actor=actor, reason=reason),
            refused_with=None,
            emits=[] if ended else ["RegistrationRefused"],
        )
        if not ended:
            self.state = "business_exited"
            self.verification_due = None
            self.legal_basis = None

    @rule(actor=PERMIT_PEOPLE, how=st.sampled_from(["注销", "吊销", "撤销登记"]))
    def business_exited(self, actor: Actor, how: str) -> None:
        # The exit cascade (run by the registrar's command) ends whatever is not over yet —
        # a permit under rectification or non-compliant too; on an ended permit it is a
        # no-op, never an error.
        ended = self.state in PERMIT_ENDED
        self.run(
            lambda: self.permit.business_exited(actor=actor, how=how),
            refused_with=None,
            emits=[] if ended else ["BusinessExited"],
        )
        if not ended:
            self.state = "business_exited"
            if self.state in PERMIT_ENDED:
                self.verification_due = None
            self.legal_basis = None

    @rule(actor=PERMIT_PEOPLE, application_id=st.uuids(version=4))
    def reapply(self, actor: Actor, application_id: UUID) -> None:
        # The clerk's submission applies again; who may submit is checked by the service.
        if self.run(
            lambda: self.permit.reapply(application_id=application_id, actor=actor),
            refused_with=None if self.state in PERMIT_ENDED else Conflict,
            emits=["Reapplied"],
        ):
            self.state = "under_review"
            self.application_id = application_id
            self.valid_until = None
            self.number = None
            self.legal_basis = None
            self.verification_due = None

    @invariant()
    def the_permit_is_where_the_model_says(self) -> None:
        permit = self.permit
        assert permit.state == self.state
        assert permit.application_id == self.application_id
        assert permit.valid_until == self.valid_until
        assert permit.number == self.number
        assert permit.legal_basis == self.legal_basis
        assert permit.verification_due == self.verification_due
        assert permit.reason
        if self.state == "under_review":
            assert permit.number is None
            assert permit.verification_due is None

    @invariant()
    def a_verification_is_pending_only_for_an_unsettled_commitment(self) -> None:
        # Read from the events alone: the due date of the last grant on commitment since the
        # last (re)application, unless a verification act or the permit's end settled it.
        due: date | None = None
        for e in self.events:
            name = type(e).__name__
            if name in {"Applied", "Reapplied"} or name in SETTLES_COMMITMENT:
                due = None
            elif name == "GrantedOnCommitment":
                due = e.verification_due
        assert self.permit.verification_due == due

    @invariant()
    def the_public_status_follows_the_state(self) -> None:
        permit = self.permit
        assert permit.status is PUBLIC_STATUS[permit.state]
        assert permit.status is PERMIT_PUBLIC[self.state]
        assert (permit.status is PermitStatus.VALID) == (permit.state == "valid")


TestPermitLifecycle = PermitLifecycle.TestCase
TestPermitLifecycle.settings = RUN


def _granted_on_commitment() -> Permit:
    permit = Permit(
        uscc=USCC,
        permit_type="food_business",
        department="samr",
        application_id=UUID("00000000-0000-4000-8000-000000000001"),
        actor=CLERK,
    )
    permit.grant_on_commitment(
        actor=CLERK,
        number="CN-0001",
        valid_from=DAY0,
        valid_until=None,
        letter_version="2025-01",
        letter_text="本人承诺符合许可条件",
        signed_by="李四",
        verification_due=DAY0 + timedelta(days=20),
    )
    return permit


def test_an_ended_permit_has_no_verification_pending() -> None:
    """Found by the machine: once a commitment permit is over, nothing is left to verify."""
    permit = _granted_on_commitment()
    permit.revoke(actor=SAMR, reason="现场核查", legal_basis="《行政许可法》第69条")
    with pytest.raises(Conflict):
        permit.confirm_commitment(actor=SAMR)  # it can never be settled now
    assert permit.verification_due is None


# --- Business registration ------------------------------------------------------------------

NOTICE_DAYS = 20  # 简易注销's public notice
REGISTRATION_EXITS = {"deregistered", "revoked", "cancelled"}
BEFORE_NOTICE = "(the state before the notice)"
# The registrar's acts: the states each may start from, where it leads (None: stays), event.
REGISTRAR_ACTS: dict[str, tuple[set[str], str | None, str]] = {
    "change": ({"active", "suspended"}, None, "Changed"),
    "suspend": ({"active"}, "suspended", "Suspended"),
    "resume": ({"suspended"}, "active", "Resumed"),
    "give_deregistration_notice": (
        {"active", "suspended"},
        "deregistration_notice",
        "DeregistrationNoticed",
    ),
    # Back to where it stood before the notice: 存续, or 休业.
    "object": ({"deregistration_notice"}, BEFORE_NOTICE, "ObjectionRaised"),
    "deregister": ({"deregistration_notice"}, "deregistered", "Exited"),
    "revoke": ({"active", "suspended", "deregistration_notice"}, "revoked", "Exited"),
    "cancel": (
        {"establishing", "active", "suspended", "deregistration_notice"},
        "cancelled",
        "Exited",
    ),
}
CHANGEABLE = {"name", "domicile", "business_scope", "legal_representative"}
CHANGES = st.dictionaries(
    st.sampled_from([*sorted(CHANGEABLE), "registered_capital", "uscc"]),
    st.sampled_from(["甲", "乙"]),
    max_size=3,
)
PERMIT_TYPES = st.lists(
    st.sampled_from(["business_licence", "food_business", "fire_safety"]), unique=True, max_size=3
)


def new_registration() -> BusinessRegistration:
    return BusinessRegistration(
        uscc=USCC,
        name="状态机饭店",
        entity_type="limited_company",
        legal_representative={"name": "张三"},
        domicile="广州市越秀区中山五路1号",
        business_scope="餐饮服务",
        registered_capital=Decimal("100000"),
        application_id=UUID("00000000-0000-4000-8000-000000000002"),
        actor=CLERK,
    )


class RegistrationLifecycle(EventSourcedMachine):
    """One business: established or refused, changed, 休业, 简易注销 with its 20-day notice,
    吊销 and 撤销登记 — with a calendar that moves forward."""

    def __init__(self) -> None:
        super().__init__()
        self.start(new_registration(), "Applied")
        self.status = "establishing"
        self.today = DAY0
        self.notice_until: date | None = None
        self.before_notice: str | None = None
        self.deregistered_on: date | None = None
        self.exited_as: str | None = None
        self.details: dict[str, Any] = {
            "name": "状态机饭店",
            "domicile": "广州市越秀区中山五路1号",
            "business_scope": "餐饮服务",
            "legal_representative": {"name": "张三"},
        }
        self.permit_types: list[str] = []

    @initialize(opened=st.booleans())
    def perhaps_already_open(self, opened: bool) -> None:
        # Half the runs start from an open business, where most of the registrar's acts live.
        if opened:
            self.registration.establish(actor=SAMR, permit_number="91440101-001")
            self.collect(["Established"])
            self.status = "active"

    @property
    def registration(self) -> BusinessRegistration:
        return self.aggregate  # type: ignore[return-value]

    def registrar_act(
        self,
        act: str,
        actor: Actor,
        command: Callable[[], None],
        *,
        otherwise: type[DomainError] | None = None,
    ) -> bool:
        """`otherwise`: the act's own refusal, checked after the actor and the state."""
        allowed_from, leads_to, event_name = REGISTRAR_ACTS[act]
        refused: type[DomainError] | None = otherwise
        if actor.role != "registrar":
            refused = Forbidden
        elif self.status not in allowed_from:
            refused = Conflict
        before = self.status
        accepted = self.run(command, refused_with=refused, emits=[event_name])
        if accepted and leads_to == BEFORE_NOTICE:
            assert self.before_notice is not None
            self.status = self.before_notice
        elif accepted and leads_to is not None:
            self.status = leads_to
            if leads_to in REGISTRATION_EXITS:
                self.exited_as = leads_to
        if accepted and leads_to == "deregistration_notice":
            self.before_notice = before
        return accepted

    # Steps that land on both sides of the notice's last day.
    @rule(days=st.sampled_from([1, 19, 20, 21]))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    # The 营业执照 decision: by a department reviewer only (which department is checked by the
    # permit, decided in the same transaction by the service).
    @staticmethod
    def _licence_decision_refusal(actor: Actor, status: str) -> type[DomainError] | None:
        if actor.role != "department":
            return Forbidden
        return None if status == "establishing" else Conflict

    @rule(actor=REGISTRATION_PEOPLE)
    def establish(self, actor: Actor) -> None:
        if self.run(
            lambda: self.registration.establish(actor=actor, permit_number="91440101-001"),
            refused_with=self._licence_decision_refusal(actor, self.status),
            emits=["Established"],
        ):
            self.status = "active"

    @rule(actor=REGISTRATION_PEOPLE, reason=REASON, law=LAW)
    def refuse(self, actor: Actor, reason: str, law: str) -> None:
        if self.run(
            lambda: self.registration.refuse(actor=actor, reason=reason, legal_basis=law),
            refused_with=self._licence_decision_refusal(actor, self.status),
            emits=["Refused"],
        ):
            self.status = "refused"

    @rule(name=st.sampled_from(["状态机饭店", "新名饭店"]))
    def reapply(self, name: str) -> None:
        """Only a refused registration is applied for again (same code, new form data)."""
        if self.run(
            lambda: self.registration.reapply(
                actor=CLERK,
                application_id=UUID("00000000-0000-4000-8000-000000000003"),
                name=name,
                entity_type="limited_company",
                legal_representative={"name": "张三"},
                domicile=self.details["domicile"],
                business_scope=self.details["business_scope"],
                registered_capital=Decimal("100000"),
            ),
            refused_with=None if self.status == "refused" else Conflict,
            emits=["Reapplied"],
        ):
            self.status = "establishing"
            self.details.update(name=name, legal_representative={"name": "张三"})

    @rule(actor=REGISTRATION_PEOPLE, drawn=CHANGES, reason=REASON)
    def change(self, actor: Actor, drawn: dict[str, str], reason: str) -> None:
        changes: dict[str, Any] = {
            key: {"name": value} if key == "legal_representative" else value
            for key, value in drawn.items()
        }
        bad_input = not changes or not set(changes) <= CHANGEABLE
        if self.registrar_act(
            "change",
            actor,
            lambda: self.registration.change(actor=actor, changes=changes, reason=reason),
            otherwise=ValidationFailed if bad_input else None,
        ):
            self.details.update(copy.deepcopy(changes))

    @rule(actor=REGISTRATION_PEOPLE, reason=REASON, until=st.none() | TODAY)
    def suspend(self, actor: Actor, reason: str, until: date | None) -> None:
        self.registrar_act(
            "suspend",
            actor,
            lambda: self.registration.suspend(actor=actor, reason=reason, until=until),
        )

    @rule(actor=REGISTRATION_PEOPLE, reason=REASON)
    def resume(self, actor: Actor, reason: str) -> None:
        self.registrar_act(
            "resume", actor, lambda: self.registration.resume(actor=actor, reason=reason)
        )

    @rule(actor=REGISTRATION_PEOPLE)
    def give_deregistration_notice(self, actor: Actor) -> None:
        today = self.today
        if self.registrar_act(
            "give_deregistration_notice",
            actor,
            lambda: self.registration.give_deregistration_notice(actor=actor, today=today),
        ):
            self.notice_until = today + timedelta(days=NOTICE_DAYS)

    @rule(actor=REGISTRATION_PEOPLE, objector=st.sampled_from(["债权人", "税务局"]))
    def object(self, actor: Actor, objector: str) -> None:
        self.registrar_act(
            "object",
            actor,
            lambda: self.registration.object(actor=actor, objector=objector, grounds="未清偿债务"),
        )

    @rule(actor=REGISTRATION_PEOPLE, wait=st.sampled_from([20, 21]))
    def deregister(self, actor: Actor, wait: int) -> None:
        # Waiting is part of the step, so that a deregistration can follow its notice.
        self.today += timedelta(days=wait)
        today = self.today
        too_early = self.notice_until is None or today <= self.notice_until
        if self.registrar_act(
            "deregister",
            actor,
            lambda: self.registration.deregister(actor=actor, today=today),
            otherwise=Conflict if too_early else None,
        ):
            self.deregistered_on = today

    @rule(actor=REGISTRATION_PEOPLE, reason=REASON, law=LAW)
    def revoke(self, actor: Actor, reason: str, law: str) -> None:
        self.registrar_act(
            "revoke",
            actor,
            lambda: self.registration.revoke(actor=actor, reason=reason, legal_basis=law),
        )

    @rule(actor=REGISTRATION_PEOPLE, reason=REASON, law=LAW)
    def cancel(self, actor: Actor, reason: str, law: str) -> None:
        self.registrar_act(
            "cancel",
            actor,
            lambda: self.registration.cancel(actor=actor, reason=reason, legal_basis=law),
        )

    @rule(actor=REGISTRATION_PEOPLE, permit_types=PERMIT_TYPES, application_id=st.uuids(version=4))
    def attach(self, actor: Actor, permit_types: list[str], application_id: UUID) -> None:
        new = [t for t in permit_types if t not in self.permit_types]
        if self.run(
            lambda: self.registration.attach(
                actor=actor, application_id=application_id, permit_types=permit_types
            ),
            refused_with=Conflict if self.exited_as else None,
            emits=["PermitsAttached"] if new else [],
        ):
            self.permit_types += new

    @invariant()
    def the_registration_is_where_the_model_says(self) -> None:
        registration = self.registration
        assert registration.status.value == self.status
        assert registration.notice_until == self.notice_until
        assert registration.permit_types == self.permit_types
        for key, value in self.details.items():
            assert getattr(registration, key) == value

    @invariant()
    def an_exit_is_final(self) -> None:
        registration = self.registration
        assert registration.has_exited == (registration.status.value in REGISTRATION_EXITS)
        if self.exited_as is not None:
            assert registration.status.value == self.exited_as

    @invariant()
    def deregistered_only_after_the_notice(self) -> None:
        if self.registration.status is RegistrationStatus.DEREGISTERED:
            assert self.deregistered_on is not None
            assert self.registration.notice_until is not None
            assert self.deregistered_on > self.registration.notice_until


TestRegistrationLifecycle = RegistrationLifecycle.TestCase
TestRegistrationLifecycle.settings = RUN


def test_an_objection_leaves_a_suspended_business_suspended() -> None:
    """The path the machine found: 休业, then 简易注销 notice, then an objection — the business
    is still 休业, not silently 存续 again."""
    registration = new_registration()
    registration.establish(actor=SAMR, permit_number="91440101-001")
    registration.suspend(actor=REGISTRAR, reason="休业", until=None)
    registration.give_deregistration_notice(actor=REGISTRAR, today=DAY0)
    registration.object(actor=REGISTRAR, objector="债权人", grounds="未清偿债务")
    assert registration.status is RegistrationStatus.SUSPENDED


# --- Bundle application ---------------------------------------------------------------------

DEPARTMENTS = ["samr", "mem", "fire", "health", "ecology"]
OFFICERS = {d: Actor(id=f"{d}-officer", role="department", department=d) for d in DEPARTMENTS}
BUNDLE_PEOPLE = st.sampled_from([*OFFICERS.values(), CLERK, REGISTRAR])
# Resubmission: the clerk half the time (the domain does not ask; the service does).
WINDOW_PEOPLE = st.one_of(st.just(CLERK), BUNDLE_PEOPLE)
# Taken modulo the bundle's size, over its tasks waiting for a department first: small picks
# (Hypothesis's favourites) land on a task that can still be acted on.
TASK = st.integers(0, 8)
# None: the task's own department, half the time, so that bundles get decided.
DECIDER = st.one_of(st.none(), BUNDLE_PEOPLE)
# A task is open while it waits for its department (or, paused, for the applicant); every
# other state is final: decided, done at submission by a reform mode, or withdrawn.
OPEN = {"queued", "supplement_requested"}
TERMINAL = {"approved", "refused", "filed", "approved_on_commitment", "informed", "withdrawn"}
# What a task starts as: waiting for its department, or done on the spot by a reform mode
# (备案, 告知承诺, 直接取消审批 — the last with no permit at all).
SUBMITTED_AS = ["queued", "filed", "approved_on_commitment", "informed"]
# Mostly waiting for a department; now and then (one bundle in five) nothing to decide at all.
INITIAL_STATES = st.integers(0, 4).flatmap(
    lambda n: st.lists(
        st.sampled_from(SUBMITTED_AS[1:] if n == 0 else ["queued"] * 3 + SUBMITTED_AS),
        min_size=9,
        max_size=9,
    )
)
MODE = {"queued": "approval", "filed": "filing", "approved_on_commitment": "commitment"}
WAIT = st.integers(0, 5)  # days between two steps of the applicant or a department
ITEMS = st.lists(
    st.sampled_from(["营业场所平面图", "法定代表人身份证明", "消防验收意见"]), min_size=1
)
ANSWERS = st.dictionaries(st.sampled_from(["seats", "area"]), st.integers(1, 200), max_size=2)


def _task_fields(permit_type: str, department: str, state: str) -> dict[str, Any]:
    """The task as the service submits it, in each starting state."""
    task: dict[str, Any] = {
        "permit_type": permit_type,
        "department": department,
        "permit_id": None if state == "informed" else Permit.create_id(USCC, permit_type),
    }
    if state == "queued":
        # The default state: left out, as an older submission would.
        return task | {
            "mode": "approval",
            "promised_days": 5,
            "statutory_days": 20,
            "due_on": (DAY0 + timedelta(days=7)).isoformat(),
            "statutory_due_on": (DAY0 + timedelta(days=28)).isoformat(),
        }
    if state == "informed":
        return task | {"state": state, "mode": "cancelled"}
    return task | {"state": state, "mode": MODE[state], "permit_number": f"N-{permit_type}"}


class BundleLifecycle(EventSourcedMachine):
    """A themed bundle of 3–9 tasks over 2–5 departments, some done at submission, decided
    in any order by anyone, paused for supplements and resumed, or withdrawn at the window."""

    @initialize(
        departments=st.integers(2, 5),
        more_owners=st.lists(st.integers(0, 4), min_size=1, max_size=7),
        states=INITIAL_STATES,
    )
    def submit(self, departments: int, more_owners: list[int], states: list[str]) -> None:
        # The first two tasks go to two different departments, so every bundle spans two.
        owners = [DEPARTMENTS[i % departments] for i in [0, 1, *more_owners]]
        submitted = [
            _task_fields(f"permit_{n}", d, state)
            for (n, d), state in zip(enumerate(owners), states, strict=False)
        ]
        self.tasks: dict[str, dict[str, Any]] = {
            t["permit_type"]: {
                "department": t["department"],
                "permit_id": t["permit_id"],
                "state": t.get("state", "queued"),
                "decided_by": None,
                "supplement": None,
                "pauses": [],
                "due_on": t.get("due_on"),
                "statutory_due_on": t.get("statutory_due_on"),
                "permit_number": t.get("permit_number"),
            }
            for t in submitted
        }
        self.status = "in_review"
        self.decided_as: Actor | None = None  # who the Decided event names
        self.final_status: str | None = None  # the first status out of review, as seen
        self.answers: dict[str, Any] = {"seats": 40}
        self.today = DAY0
        self.start(
            BundleApplication(
                application_id=UUID("00000000-0000-4000-8000-000000000003"),
                theme="open_restaurant",
                catalogue_version="test",
                uscc=USCC,
                registration_id=BusinessRegistration.create_id(USCC),
                applicant={"name": "李四"},
                answers=dict(self.answers),
                situation={},
                tasks=submitted,
                actor=CLERK,
                credit=None,
                fast_track=None,
                deficiencies=[],
                accepted=True,
                request=None,
                accepted_on=DAY0,
            ),
            "Submitted",
        )
        # Still in review even when nothing is left to decide: the aggregate does not decide
        # itself; the service calls decide_if_complete, as the rule below does.

    @property
    def application(self) -> BundleApplication:
        return self.aggregate  # type: ignore[return-value]

    def complete_after(self, permit_type: str | None) -> bool:
        """Whether the application is still in review and every task but this one is final."""
        return self.status == "in_review" and all(
            t["state"] in TERMINAL for p, t in self.tasks.items() if p != permit_type
        )

    def decided_by(self, actor: Actor) -> None:
        self.status = "decided"
        self.decided_as = actor

    def departments_task(
        self, pick: int, who: Actor | None
    ) -> tuple[str, dict[str, Any], Actor, type[DomainError] | None]:
        """The task picked, who acts on it, and how a department's act on it is refused."""
        waiting = [p for p, t in self.tasks.items() if t["state"] == "queued"]
        rest = [p for p in self.tasks if p not in waiting]
        permit_type = [*waiting, *rest][pick % len(self.tasks)]
        task = self.tasks[permit_type]
        actor = who or OFFICERS[task["department"]]
        refused: type[DomainError] | None = None
        if actor.role != "department" or actor.department != task["department"]:
            refused = Forbidden
        elif task["state"] != "queued":
            refused = Conflict
        return permit_type, task, actor, refused

    def decide(
        self,
        pick: int,
        who: Actor | None,
        outcome: str,
        command: Callable[[str, Actor], None],
    ) -> None:
        permit_type, task, actor, refused = self.departments_task(pick, who)
        last = self.complete_after(permit_type)
        event_name = "TaskApproved" if outcome == "approved" else "TaskRefused"
        if self.run(
            lambda: command(permit_type, actor),
            refused_with=refused,
            emits=[event_name, "Decided"] if last else [event_name],
        ):
            task.update(state=outcome, decided_by=actor.id)
            if outcome == "approved":
                task["permit_number"] = f"N-{permit_type}"
            if last:
                self.decided_by(actor)

    @rule(pick=TASK, who=DECIDER)
    def approve(self, pick: int, who: Actor | None) -> None:
        self.decide(
            pick,
            who,
            "approved",
            lambda permit_type, actor: self.application.approve(
                permit_type=permit_type,
                actor=actor,
                permit_number=f"N-{permit_type}",
                reason="准予许可",
                legal_basis=None,
            ),
        )

    @rule(pick=TASK, who=DECIDER, reason=REASON, law=LAW)
    def refuse(self, pick: int, who: Actor | None, reason: str, law: str) -> None:
        self.decide(
            pick,
            who,
            "refused",
            lambda permit_type, actor: self.application.refuse(
                permit_type=permit_type, actor=actor, reason=reason, legal_basis=law
            ),
        )

    @rule(actor=BUNDLE_PEOPLE)
    def decide_a_task_the_bundle_does_not_have(self, actor: Actor) -> None:
        self.run(
            lambda: self.application.approve(
                permit_type="no_such_permit",
                actor=actor,
                permit_number="N-0",
                reason="准予许可",
                legal_basis=None,
            ),
            refused_with=NotFound,
            emits=[],
        )

    @rule(pick=TASK, who=DECIDER, items=ITEMS, wait=WAIT)
    def request_supplement(self, pick: int, who: Actor | None, items: list[str], wait: int) -> None:
        self.today += timedelta(days=wait)
        on = self.today
        permit_type, task, actor, refused = self.departments_task(pick, who)
        if self.run(
            lambda: self.application.request_supplement(
                permit_type=permit_type, actor=actor, items=items, note="一次性告知", on=on
            ),
            refused_with=refused,
            emits=["SupplementRequested"],
        ):
            task["state"] = "supplement_requested"
            task["supplement"] = {
                "items": list(items),
                "note": "一次性告知",
                "requested_on": on.isoformat(),
                "by": actor.id,
            }
            task["pauses"] = [*task["pauses"], [on.isoformat(), None]]

    @rule(actor=WINDOW_PEOPLE, answers=ANSWERS, wait=WAIT, later=st.integers(0, 9))
    def resubmit(self, actor: Actor, answers: dict[str, Any], wait: int, later: int) -> None:
        # Who may resubmit (the clerk) is the service's check; the domain asks only whether
        # anything is waiting for the applicant.
        self.today += timedelta(days=wait)
        on = self.today
        paused = [p for p, t in self.tasks.items() if t["state"] == "supplement_requested"]
        due_dates: dict[str, dict[str, str | None]] = {
            p: {
                "due_on": (on + timedelta(days=later)).isoformat(),
                "statutory_due_on": (on + timedelta(days=later + 20)).isoformat()
                if later
                else None,
            }
            for p in paused
        }
        waiting = self.status == "in_review" and bool(paused)
        if self.run(
            lambda: self.application.resubmit(
                actor=actor,
                answers=answers,
                materials=["补正材料.pdf"],
                on=on,
                due_dates=due_dates,
            ),
            refused_with=None if waiting else Conflict,
            emits=["Resubmitted"],
        ):
            self.answers.update(answers)
            for permit_type in paused:
                task = self.tasks[permit_type]
                opened = task["pauses"][-1][0]
                task.update(
                    state="queued",
                    supplement=None,
                    pauses=[*task["pauses"][:-1], [opened, on.isoformat()]],
                    **due_dates[permit_type],
                )

    # Rarely: the refused 营业执照 ends every open task, then the bundle is decided.
    @precondition(lambda self: len(self.events) % 5 == 4)
    @rule(reason=REASON)
    def the_business_licence_is_refused(self, reason: str) -> None:
        still_open = [p for p, t in self.tasks.items() if t["state"] in OPEN]
        in_review = self.status == "in_review"
        ended: list[list[str]] = []
        emits = (["OpenTasksEnded"] if in_review and still_open else []) + (
            ["Decided"] if in_review else []
        )
        self.run(
            lambda: ended.append(self.application.end_open_tasks(actor=SYSTEM, reason=reason)),
            refused_with=None,
            emits=emits,
        )
        assert ended == [still_open if in_review else []]
        for permit_type in still_open if in_review else []:
            self.tasks[permit_type]["state"] = "withdrawn"
        if in_review:
            self.decided_by(SYSTEM)

    # The clerk one time in seven only: a withdrawal ends the run's interesting part.
    @rule(actor=BUNDLE_PEOPLE, reason=REASON)
    def withdraw(self, actor: Actor, reason: str) -> None:
        refused: type[DomainError] | None = None
        if actor.role != "clerk":
            refused = Forbidden
        elif self.status != "in_review":
            refused = Conflict
        still_open = [p for p, t in self.tasks.items() if t["state"] in OPEN]
        answer: list[list[str]] = []
        if self.run(
            lambda: answer.append(self.application.withdraw(actor=actor, reason=reason)),
            refused_with=refused,
            emits=["Withdrawn"],
        ):
            # The permits the service must withdraw as well: exactly the open ones.
            assert answer == [still_open]
            for permit_type in still_open:
                self.tasks[permit_type]["state"] = "withdrawn"
            self.status = "withdrawn"

    @rule(actor=st.one_of(BUNDLE_PEOPLE, st.just(SYSTEM)))
    def decide_if_complete(self, actor: Actor) -> None:
        # Never refused: it decides a complete application still in review, or does nothing.
        complete = self.complete_after(None)
        self.run(
            lambda: self.application.decide_if_complete(actor=actor),
            refused_with=None,
            emits=["Decided"] if complete else [],
        )
        if complete:
            self.decided_by(actor)

    @invariant()
    def each_task_is_where_the_model_says(self) -> None:
        for permit_type, model in self.tasks.items():
            task = self.application.task(permit_type)
            assert task.department == model["department"]
            assert task.permit_id == model["permit_id"]
            assert task.state == model["state"]
            assert task.decided_by == model["decided_by"]
            assert task.supplement == model["supplement"]
            assert task.pauses == model["pauses"]
            assert task.due_on == model["due_on"]
            assert task.statutory_due_on == model["statutory_due_on"]
            assert task.permit_number == model["permit_number"]
            if task.decided_by is not None:
                assert task.decided_by == OFFICERS[task.department].id
            # A clock is paused while the applicant is asked for more — and stays paused if
            # the application is withdrawn meanwhile (its request stays on record too).
            open_pauses = [p for p in task.pauses if p[1] is None]
            if task.state == "supplement_requested":
                assert task.supplement is not None
                assert len(open_pauses) == 1 and task.pauses[-1] is open_pauses[0]
            elif task.state != "withdrawn":
                assert task.supplement is None and open_pauses == []
        assert self.application.answers == self.answers

    @invariant()
    def each_task_is_decided_once_by_its_own_department(self) -> None:
        decisions = [
            e.permit_type
            for e in self.events
            if type(e).__name__ in {"TaskApproved", "TaskRefused"}
        ]
        assert len(decisions) == len(set(decisions))
        for permit_type in decisions:
            assert self.tasks[permit_type]["state"] in {"approved", "refused"}

    @invariant()
    def the_notice_lists_every_open_request(self) -> None:
        expected = [
            {"permit_type": p, "department": t["department"], **t["supplement"]}
            for p, t in self.tasks.items()
            if t["state"] == "supplement_requested"
        ]
        assert self.application.supplement_notice() == expected

    @invariant()
    def decided_or_withdrawn_once_and_for_good(self) -> None:
        application = self.application
        assert application.status == self.status
        names = [type(e).__name__ for e in self.events]
        assert names.count("Decided") == (1 if self.status == "decided" else 0)
        assert names.count("Withdrawn") == (1 if self.status == "withdrawn" else 0)
        if self.status == "decided":
            # Decided comes with the last decision (or the first look at a bundle with none
            # to make), names who made it, and nothing follows it.
            assert all(t.state in TERMINAL for t in application.tasks.values())
            assert names[-1] == "Decided"
            assert self.events[-1].actor == self.decided_as
        if self.status == "withdrawn":
            # Nothing follows a withdrawal either, and it left nothing open.
            assert names[-1] == "Withdrawn"
            assert not any(t.state in OPEN for t in application.tasks.values())
            assert sorted(self.events[-1].permit_types) == sorted(
                p for p, t in self.tasks.items() if t["state"] == "withdrawn"
            )
        if application.status != "in_review":
            # Once out of review, the status never changes again.
            self.final_status = self.final_status or application.status
            assert application.status == self.final_status


TestBundleLifecycle = BundleLifecycle.TestCase
# A bundle has few deep states: fewer runs reach every corner.
TestBundleLifecycle.settings = settings(RUN, max_examples=150)


# --- Acceptance (受理) of an application only received ----------------------------------------

ACCEPTERS = st.sampled_from([CLERK, SYSTEM, SAMR, REGISTRAR])
RECEIVED_REQUEST = {"business": {"uscc": USCC}, "commitments": {}, "fast_track": None}


class AcceptanceLifecycle(EventSourcedMachine):
    """An application only received (收件) is accepted, not accepted or withdrawn — once. Until
    then it has no task and keeps its request; afterwards acceptance is never decided again."""

    def __init__(self) -> None:
        super().__init__()
        self.status = "received"
        self.planned: dict[str, dict[str, Any]] = {}
        self.start(
            BundleApplication(
                application_id=UUID("00000000-0000-4000-8000-000000000004"),
                theme="open_restaurant",
                catalogue_version="v1",
                uscc=USCC,
                registration_id=BusinessRegistration.create_id(USCC),
                applicant={"name": "李四"},
                answers={"seats": 40},
                situation={},
                tasks=[],
                actor=CLERK,
                credit=None,
                fast_track=None,
                deficiencies=[],
                accepted=False,
                request=dict(RECEIVED_REQUEST),
                accepted_on=None,
            ),
            "Submitted",
        )

    @property
    def application(self) -> BundleApplication:
        return self.aggregate  # type: ignore[return-value]

    def _refusal(self, actor: Actor) -> type[DomainError] | None:
        if actor.role not in ("clerk", "system"):
            return Forbidden
        return None if self.status == "received" else Conflict

    @rule(actor=ACCEPTERS, count=st.integers(1, 4), queued=st.booleans())
    def accept(self, actor: Actor, count: int, queued: bool) -> None:
        # A bundle of filings only is decided by its acceptance; one with a queued task is not.
        planned = [
            _task_fields(f"permit_{n}", DEPARTMENTS[n % 2], "queued" if queued else "filed")
            for n in range(count)
        ]
        if self.run(
            lambda: self.application.accept(
                actor=actor,
                on=DAY0,
                catalogue_version="v2",
                tasks=planned,
                credit={"checked_on": DAY0.isoformat(), "listings": []},
                fast_track=None,
                deficiencies=[],
            ),
            refused_with=self._refusal(actor),
            emits=["Accepted"] if queued else ["Accepted", "Decided"],
        ):
            self.status = "in_review" if queued else "decided"
            self.planned = {t["permit_type"]: t for t in planned}

    @rule(actor=ACCEPTERS, reason=REASON, law=LAW)
    def refuse_acceptance(self, actor: Actor, reason: str, law: str) -> None:
        if self.run(
            lambda: self.application.refuse_acceptance(actor=actor, reason=reason, legal_basis=law),
            refused_with=self._refusal(actor),
            emits=["NotAccepted"],
        ):
            self.status = "not_accepted"
            assert self.application.acceptance == {
                "reason": reason,
                "legal_basis": law,
                "by": actor.id,
            }

    @rule(actor=ACCEPTERS, reason=REASON)
    def withdraw(self, actor: Actor, reason: str) -> None:
        refused: type[DomainError] | None = None
        if actor.role != "clerk":
            refused = Forbidden
        elif self.status not in ("received", "in_review"):
            refused = Conflict
        if self.run(
            lambda: self.application.withdraw(actor=actor, reason=reason),
            refused_with=refused,
            emits=["Withdrawn"],
        ):
            self.status = "withdrawn"

    @invariant()
    def acceptance_is_decided_once_and_dispatches_exactly_the_tasks_given(self) -> None:
        application = self.application
        assert application.status == self.status
        names = [type(e).__name__ for e in self.events]
        assert names.count("Accepted") + names.count("NotAccepted") <= 1
        if self.status == "received":
            assert application.tasks == {} and application.request == RECEIVED_REQUEST
            assert application.catalogue_version == "v1"
        else:
            assert application.request is None
        if "Accepted" in names:
            assert set(application.tasks) == set(self.planned)
            assert application.catalogue_version == "v2"
            assert application.credit == {"checked_on": DAY0.isoformat(), "listings": []}
        else:
            assert application.tasks == {}


TestAcceptanceLifecycle = AcceptanceLifecycle.TestCase
TestAcceptanceLifecycle.settings = settings(RUN, max_examples=100)
