"""The business registration behind the 营业执照: who the business is, and whether it exists."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor, Role
from domain.errors import Conflict, Forbidden, InvalidParam, ValidationFailed
from domain.payloads import LegalRepresentative
from domain.status import RegistrationStatus

# 简易注销: the public notice period, in days (002:53).
DEREGISTRATION_NOTICE_DAYS = 20
CHANGEABLE = ("name", "domicile", "business_scope", "legal_representative")
S = RegistrationStatus
EXITS = {
    S.DEREGISTERED: "注销 deregistered",
    S.REVOKED: "吊销 revoked",
    S.CANCELLED: "撤销登记 registration cancelled",
}

ENTITY_TYPES = {
    "limited_company": ("有限责任公司", "limited liability company"),
    "joint_stock_company": ("股份有限公司", "joint-stock company"),
    "sole_proprietorship": ("个人独资企业", "sole proprietorship"),
    "partnership": ("合伙企业", "partnership"),
    "individual_business": ("个体工商户", "individual business"),
    "branch": ("分公司", "branch"),
}
# A licence is reprinted (补发, 换发) while the business exists; a reprint is the window's or
# the registration office's act.
REPRINTABLE = (S.ACTIVE, S.SUSPENDED, S.DEREGISTRATION_NOTICE)
REPRINTERS = (Role.REGISTRAR, Role.CLERK)


class CopyState(StrEnum):
    """What a printed copy is, by the print version its QR carries."""

    CURRENT = "current"  # the latest print
    SUPERSEDED = "superseded"  # an earlier print a reprint replaced: the live state, with a warning
    VOID = "void"  # declared void (reported lost): never shown as if valid
    UNKNOWN = "unknown"  # a print version never issued: not a copy of ours


def copy_state(presented: int, *, current: int, void_below: int) -> CopyState:
    """The state of the copy printed as `presented`, when the latest print is `current` and
    every print below `void_below` has been declared void."""
    if presented > current or presented < 1:
        return CopyState.UNKNOWN
    if presented < void_below:
        return CopyState.VOID
    return CopyState.CURRENT if presented == current else CopyState.SUPERSEDED


class BusinessRegistration(Aggregate):
    """One business, keyed by its USCC; its registration permit decides whether it exists."""

    @staticmethod
    def create_id(uscc: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/registrations/{uscc}")

    class Applied(Aggregate.Created):
        uscc: str
        name: str
        entity_type: str
        legal_representative: LegalRepresentative
        domicile: str
        business_scope: str
        registered_capital: Decimal
        application_id: UUID
        actor: Actor

    @event(Applied)
    def __init__(
        self,
        *,
        uscc: str,
        name: str,
        entity_type: str,
        legal_representative: LegalRepresentative,
        domicile: str,
        business_scope: str,
        registered_capital: Decimal,
        application_id: UUID,
        actor: Actor,
    ) -> None:
        self.uscc = uscc
        self._record_details(
            name, entity_type, legal_representative, domicile, business_scope, registered_capital
        )
        self.print_version = 1
        self.void_below = 1  # no print is void yet
        self.notice_until: date | None = None
        self.permit_types: list[str] = []

    def attach(self, *, actor: Actor, application_id: UUID, permit_types: list[str]) -> None:
        """Record which permits the business holds or applies for, so that an exit can end
        every one of them in the same transaction."""
        if self.has_exited:
            msg = f"business {self.uscc} has exited ({self.status.english}); it cannot apply"
            raise Conflict(msg)
        new = [t for t in dict.fromkeys(permit_types) if t not in self.permit_types]
        if new:
            self._attached(actor=actor, application_id=application_id, permit_types=new)

    class PermitsAttached(Aggregate.Event):
        actor: Actor
        application_id: UUID
        permit_types: list[str]

    @event(PermitsAttached)
    def _attached(self, *, actor: Actor, application_id: UUID, permit_types: list[str]) -> None:
        self.permit_types = [*self.permit_types, *permit_types]

    def establish(self, *, actor: Actor, permit_number: str) -> None:
        self._check_licensing_department(actor)
        if self.status is not RegistrationStatus.ESTABLISHING:
            msg = f"registration {self.uscc} is {self.status.english}, not being established"
            raise Conflict(msg)
        self._established(actor=actor, permit_number=permit_number)

    class Established(Aggregate.Event):
        actor: Actor
        permit_number: str

    @event(Established)
    def _established(self, *, actor: Actor, permit_number: str) -> None:
        self.status = RegistrationStatus.ACTIVE

    @staticmethod
    def _check_licensing_department(actor: Actor) -> None:
        # The 营业执照 is decided by a department reviewer (its task's department is checked
        # by the permit in the same transaction); a clerk or registrar never decides it.
        if actor.role != Role.DEPARTMENT:
            msg = "the business licence is decided by its department's reviewer"
            raise Forbidden(msg)

    def refuse(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_licensing_department(actor)
        if self.status is not RegistrationStatus.ESTABLISHING:
            msg = f"registration {self.uscc} is {self.status.english}, not being established"
            raise Conflict(msg)
        self._refused(actor=actor, reason=reason, legal_basis=legal_basis)

    class Refused(Aggregate.Event):
        actor: Actor
        reason: str
        legal_basis: str

    @event(Refused)
    def _refused(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self.status = RegistrationStatus.REFUSED

    def reapply(
        self,
        *,
        actor: Actor,
        application_id: UUID,
        name: str,
        entity_type: str,
        legal_representative: LegalRepresentative,
        domicile: str,
        business_scope: str,
        registered_capital: Decimal,
    ) -> None:
        """A refused registration may be applied for again under the same code."""
        if self.status is not RegistrationStatus.REFUSED:
            msg = f"registration {self.uscc} is {self.status.english}; only a refused one is re-applied"
            raise Conflict(msg)
        self._reapplied(
            actor=actor,
            application_id=application_id,
            name=name,
            entity_type=entity_type,
            legal_representative=legal_representative,
            domicile=domicile,
            business_scope=business_scope,
            registered_capital=registered_capital,
        )

    class Reapplied(Aggregate.Event):
        actor: Actor
        application_id: UUID
        name: str
        entity_type: str
        legal_representative: LegalRepresentative
        domicile: str
        business_scope: str
        registered_capital: Decimal

    @event(Reapplied)
    def _reapplied(
        self,
        *,
        actor: Actor,
        application_id: UUID,
        name: str,
        entity_type: str,
        legal_representative: LegalRepresentative,
        domicile: str,
        business_scope: str,
        registered_capital: Decimal,
    ) -> None:
        self._record_details(
            name, entity_type, legal_representative, domicile, business_scope, registered_capital
        )

    def _record_details(
        self,
        name: str,
        entity_type: str,
        legal_representative: LegalRepresentative,
        domicile: str,
        business_scope: str,
        registered_capital: Decimal,
    ) -> None:
        """What the application says the business is; it is being established until decided."""
        self.name = name
        self.entity_type = entity_type
        # Personal data: kept in the event store for the registrar, never projected publicly.
        self.legal_representative = legal_representative.copy()
        self.domicile = domicile
        self.business_scope = business_scope
        self.registered_capital = registered_capital
        self.status = RegistrationStatus.ESTABLISHING

    def reprint(self, *, actor: Actor, reason: str, void_previous: bool) -> None:
        """Print the licence again (补发/换发): the new copy's print version supersedes every
        copy printed before; with `void_previous` (a copy reported lost) those are void."""
        if actor.role not in REPRINTERS:
            msg = "only a registration officer or a window clerk may reprint a licence"
            raise Forbidden(msg)
        if self.status not in REPRINTABLE:
            msg = f"registration {self.uscc} is {self.status.english}; its licence cannot be reprinted"
            raise Conflict(msg)
        self._reprinted(
            actor=actor,
            reason=reason,
            print_version=self.print_version + 1,
            void_previous=void_previous,
        )

    class Reprinted(Aggregate.Event):
        actor: Actor
        reason: str
        print_version: int  # the new copy's
        void_previous: bool  # every earlier copy is void, not merely superseded

    @event(Reprinted)
    def _reprinted(
        self, *, actor: Actor, reason: str, print_version: int, void_previous: bool
    ) -> None:
        self.print_version = print_version
        if void_previous:
            self.void_below = print_version

    # The registrar's acts on an existing business.

    def _check(self, actor: Actor, act: str, *, allowed: tuple[RegistrationStatus, ...]) -> None:
        if actor.role != Role.REGISTRAR:
            msg = f"only a registration officer may {act} a registration"
            raise Forbidden(msg)
        if self.status not in allowed:
            msg = f"registration {self.uscc} is {self.status.english}; cannot {act} it"
            raise Conflict(msg)

    def change(self, *, actor: Actor, changes: dict[str, Any], reason: str) -> None:
        """变更登记: name, domicile, scope or legal representative; the printed QR keeps working."""
        self._check(actor, "change", allowed=(S.ACTIVE, S.SUSPENDED))
        unknown = sorted(set(changes) - set(CHANGEABLE))
        if unknown or not changes:
            problems = [
                InvalidParam(f"changes.{k}", "cannot be changed by 变更登记") for k in unknown
            ]
            raise ValidationFailed(problems or [InvalidParam("changes", "nothing to change")])
        self._changed(actor=actor, changes=dict(changes), reason=reason)

    class Changed(Aggregate.Event):
        actor: Actor
        changes: dict[str, Any]
        reason: str

    @event(Changed)
    def _changed(self, *, actor: Actor, changes: dict[str, Any], reason: str) -> None:
        for key, value in changes.items():
            setattr(self, key, dict(value) if isinstance(value, dict) else value)

    def suspend(self, *, actor: Actor, reason: str, until: date | None) -> None:
        """休业 on the business's request: not an unauthorised stop (002:53)."""
        self._check(actor, "suspend", allowed=(S.ACTIVE,))
        self._suspended(actor=actor, reason=reason, until=until)

    class Suspended(Aggregate.Event):
        actor: Actor
        reason: str
        until: date | None

    @event(Suspended)
    def _suspended(self, *, actor: Actor, reason: str, until: date | None) -> None:
        self.status = S.SUSPENDED

    def resume(self, *, actor: Actor, reason: str) -> None:
        self._check(actor, "resume", allowed=(S.SUSPENDED,))
        self._resumed(actor=actor, reason=reason)

    class Resumed(Aggregate.Event):
        actor: Actor
        reason: str

    @event(Resumed)
    def _resumed(self, *, actor: Actor, reason: str) -> None:
        self.status = S.ACTIVE

    def give_deregistration_notice(self, *, actor: Actor, today: date) -> None:
        """简易注销 starts with a 20-day public notice; objections may be raised meanwhile."""
        self._check(actor, "start simple deregistration of", allowed=(S.ACTIVE, S.SUSPENDED))
        self._deregistration_noticed(
            actor=actor,
            notice_from=today,
            notice_until=today + timedelta(days=DEREGISTRATION_NOTICE_DAYS),
        )

    class DeregistrationNoticed(Aggregate.Event):
        actor: Actor
        notice_from: date
        notice_until: date

    @event(DeregistrationNoticed)
    def _deregistration_noticed(
        self, *, actor: Actor, notice_from: date, notice_until: date
    ) -> None:
        self.status_before_notice = self.status
        self.status = S.DEREGISTRATION_NOTICE
        self.notice_until = notice_until

    def object(self, *, actor: Actor, objector: str, grounds: str) -> None:
        """An objection during the notice ends the simple procedure; the business returns to
        where it stood before the notice (存续, or 休业)."""
        self._check(actor, "record an objection against", allowed=(S.DEREGISTRATION_NOTICE,))
        self._objection_raised(
            actor=actor,
            objector=objector,
            grounds=grounds,
            returns_to=self.status_before_notice.value,
        )

    class ObjectionRaised(Aggregate.Event):
        class_version = 2  # v2: where the business returns to (it may have been in 休业)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["returns_to"] = RegistrationStatus.ACTIVE.value

        actor: Actor
        objector: str
        grounds: str
        returns_to: str

    @event(ObjectionRaised)
    def _objection_raised(
        self, *, actor: Actor, objector: str, grounds: str, returns_to: str
    ) -> None:
        self.status = S(returns_to)

    def deregister(self, *, actor: Actor, today: date) -> None:
        self._check(actor, "deregister", allowed=(S.DEREGISTRATION_NOTICE,))
        assert self.notice_until is not None  # the notice set it
        if today <= self.notice_until:
            msg = f"the deregistration notice of {self.uscc} runs until {self.notice_until}"
            raise Conflict(msg)
        self._exited(
            actor=actor,
            status=S.DEREGISTERED.value,
            reason="简易注销 simple deregistration",
            legal_basis=None,
        )

    def revoke(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        """吊销营业执照, as a penalty."""
        allowed = (S.ACTIVE, S.SUSPENDED, S.DEREGISTRATION_NOTICE)
        self._check(actor, "revoke", allowed=allowed)
        self._exited(actor=actor, status=S.REVOKED.value, reason=reason, legal_basis=legal_basis)

    def cancel(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        """撤销登记, e.g. registered with a false domicile (002:53)."""
        allowed = (S.ESTABLISHING, S.ACTIVE, S.SUSPENDED, S.DEREGISTRATION_NOTICE)
        self._check(actor, "cancel", allowed=allowed)
        self._exited(actor=actor, status=S.CANCELLED.value, reason=reason, legal_basis=legal_basis)

    class Exited(Aggregate.Event):
        actor: Actor
        status: str
        reason: str
        legal_basis: str | None

    @event(Exited)
    def _exited(self, *, actor: Actor, status: str, reason: str, legal_basis: str | None) -> None:
        self.status = S(status)

    @property
    def has_exited(self) -> bool:
        return self.status in EXITS
