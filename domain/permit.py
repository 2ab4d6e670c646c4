"""A permit held (or applied for) by one business: one aggregate per business and permit type."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor
from domain.errors import Conflict, Forbidden
from domain.status import PermitStatus


class Permit(Aggregate):
    """A permit's life as its department decides it; its status is what the QR shows."""

    @staticmethod
    def create_id(uscc: str, permit_type: str) -> UUID:
        # Deterministic: a business holds at most one permit of each type, and two
        # concurrent submissions for the same one collide on the event store's key.
        return uuid5(NAMESPACE_URL, f"/permits/{uscc}/{permit_type}")

    class Applied(Aggregate.Created):
        uscc: str
        permit_type: str
        department: str
        application_id: UUID
        actor: Actor

    @event(Applied)
    def __init__(
        self, *, uscc: str, permit_type: str, department: str, application_id: UUID, actor: Actor
    ) -> None:
        self.uscc = uscc
        self.permit_type = permit_type
        self.department = department
        self.application_id = application_id
        self._under_review()

    def _under_review(self) -> None:
        self.status = PermitStatus.UNDER_VERIFICATION
        self.reason = "申请审查中 application under review"
        self.legal_basis: str | None = None
        self.number: str | None = None
        self.valid_from: date | None = None
        self.valid_until: date | None = None

    def reapply(self, *, application_id: UUID, actor: Actor) -> None:
        if self.status is not PermitStatus.INVALID:
            msg = (
                f"the business already holds permit {self.permit_type} "
                f"({self.status.word} {self.status.english}); it cannot be applied for again"
            )
            raise Conflict(msg)
        self._reapplied(application_id=application_id, actor=actor)

    @event("Reapplied")
    def _reapplied(self, *, application_id: UUID, actor: Actor) -> None:
        self.application_id = application_id
        self._under_review()

    def _check_decidable(self, actor: Actor) -> None:
        if actor.role != "department" or actor.department != self.department:
            msg = f"permit {self.permit_type} is decided by department {self.department} only"
            raise Forbidden(msg)
        if self.status is not PermitStatus.UNDER_VERIFICATION:
            msg = f"permit {self.permit_type} is not under review (it is {self.status.english})"
            raise Conflict(msg)

    def approve(
        self,
        *,
        actor: Actor,
        number: str,
        valid_from: date,
        valid_until: date | None,
        reason: str,
        legal_basis: str | None,
    ) -> None:
        self._check_decidable(actor)
        self._approved(
            actor=actor,
            number=number,
            valid_from=valid_from,
            valid_until=valid_until,
            reason=reason,
            legal_basis=legal_basis,
        )

    @event("Approved")
    def _approved(
        self,
        *,
        actor: Actor,
        number: str,
        valid_from: date,
        valid_until: date | None,
        reason: str,
        legal_basis: str | None,
    ) -> None:
        self.status = PermitStatus.VALID
        self.number = number
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.reason = reason
        self.legal_basis = legal_basis

    def refuse(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_decidable(actor)
        self._refused(actor=actor, reason=reason, legal_basis=legal_basis)

    @event("Refused")
    def _refused(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self.status = PermitStatus.INVALID
        self.reason = reason
        self.legal_basis = legal_basis
