"""A permit held (or applied for) by one business: one aggregate per business and permit type."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor
from domain.errors import Conflict, Forbidden
from domain.status import PermitStatus

# Lifecycle states (internal) and the public word each shows (000:133's five words).
UNDER_REVIEW = "under_review"
VALID = "valid"
SUSPENDED = "suspended"
REFUSED = "refused"
REVOKED = "revoked"
CANCELLED = "cancelled"
EXPIRED = "expired"
EXITED = "business_exited"
PUBLIC_STATUS = {
    UNDER_REVIEW: PermitStatus.UNDER_VERIFICATION,
    VALID: PermitStatus.VALID,
    SUSPENDED: PermitStatus.INVALID,
    REFUSED: PermitStatus.INVALID,
    REVOKED: PermitStatus.INVALID,
    CANCELLED: PermitStatus.INVALID,
    EXPIRED: PermitStatus.INVALID,
    EXITED: PermitStatus.INVALID,
}
# The public reason each post-issuance event gives, filled from the event's own fields;
# the aggregate and the read model both word it from here.
WORDING = {
    "Suspended": "暂停 suspended: {reason}",
    "Resumed": "恢复 resumed: {reason}",
    "Revoked": "吊销 revoked: {reason}",
    "Cancelled": "注销 cancelled: {reason}",
    "Expired": "有效期届满 expired (found on {on})",
    "BusinessExited": "主体已退出 business exited ({how})",
}


def public_reason(event: object) -> str:
    return WORDING[type(event).__name__].format(**vars(event))


# A permit in one of these is over; the business may apply for it again.
ENDED = (REFUSED, REVOKED, CANCELLED, EXPIRED, EXITED)


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

    def _become(self, state: str, reason: str, legal_basis: str | None = None) -> None:
        self.state = state
        self.status = PUBLIC_STATUS[state]
        self.reason = reason
        self.legal_basis = legal_basis

    def _under_review(self) -> None:
        self._become(UNDER_REVIEW, "申请审查中 application under review")
        self.legal_basis: str | None = None
        self.number: str | None = None
        self.valid_from: date | None = None
        self.valid_until: date | None = None

    def reapply(self, *, application_id: UUID, actor: Actor) -> None:
        if self.state not in ENDED:
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
        if self.state != UNDER_REVIEW:
            msg = f"permit {self.permit_type} is not under review (it is {self.state})"
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
        self._become(VALID, reason, legal_basis)
        self.number = number
        self.valid_from = valid_from
        self.valid_until = valid_until

    def refuse(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_decidable(actor)
        self._refused(actor=actor, reason=reason, legal_basis=legal_basis)

    @event("Refused")
    def _refused(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._become(REFUSED, reason, legal_basis)

    # After issuance: the issuing department's own acts.

    def _check_own(self, actor: Actor, act: str, *, allowed: tuple[str, ...]) -> None:
        if actor.role != "department" or actor.department != self.department:
            msg = f"only department {self.department} may {act} permit {self.permit_type}"
            raise Forbidden(msg)
        if self.state not in allowed:
            msg = f"permit {self.permit_type} is {self.state}; it cannot be {act}ed"
            raise Conflict(msg)

    def suspend(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_own(actor, "suspend", allowed=(VALID,))
        self._suspended(actor=actor, reason=reason, legal_basis=legal_basis)

    @event("Suspended")
    def _suspended(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._become(SUSPENDED, WORDING["Suspended"].format(reason=reason), legal_basis)

    def resume(self, *, actor: Actor, reason: str) -> None:
        self._check_own(actor, "resume", allowed=(SUSPENDED,))
        self._resumed(actor=actor, reason=reason)

    @event("Resumed")
    def _resumed(self, *, actor: Actor, reason: str) -> None:
        self._become(VALID, WORDING["Resumed"].format(reason=reason))

    def revoke(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_own(actor, "revoke", allowed=(VALID, SUSPENDED))
        self._revoked(actor=actor, reason=reason, legal_basis=legal_basis)

    @event("Revoked")
    def _revoked(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._become(REVOKED, WORDING["Revoked"].format(reason=reason), legal_basis)

    def cancel(self, *, actor: Actor, reason: str) -> None:
        self._check_own(actor, "cancel", allowed=(VALID, SUSPENDED))
        self._cancelled(actor=actor, reason=reason)

    @event("Cancelled")
    def _cancelled(self, *, actor: Actor, reason: str) -> None:
        self._become(CANCELLED, WORDING["Cancelled"].format(reason=reason))

    def is_due_to_expire(self, today: date) -> bool:
        return (
            self.state in (VALID, SUSPENDED)
            and self.valid_until is not None
            and (self.valid_until < today)
        )

    def expire(self, *, actor: Actor, today: date) -> None:
        if not self.is_due_to_expire(today):
            msg = f"permit {self.permit_type} is not past its validity on {today}"
            raise Conflict(msg)
        self._expired(actor=actor, on=today)

    @event("Expired")
    def _expired(self, *, actor: Actor, on: date) -> None:
        self._become(EXPIRED, WORDING["Expired"].format(on=on))

    def business_exited(self, *, actor: Actor, how: str) -> None:
        """Every exit of the business (注销, 吊销, 撤销登记) ends every permit it still holds."""
        if self.state in ENDED:
            return
        self._business_exited(actor=actor, how=how)

    @event("BusinessExited")
    def _business_exited(self, *, actor: Actor, how: str) -> None:
        self._become(EXITED, WORDING["BusinessExited"].format(how=how))
