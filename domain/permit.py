"""A permit held (or applied for) by one business: one aggregate per business and permit type."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor, Role
from domain.errors import Conflict, Forbidden
from domain.status import PermitStatus, Standing

# Lifecycle states (internal) and the public word each shows (000:133's five words).
UNDER_REVIEW = "under_review"
VALID = "valid"
SUSPENDED = "suspended"
REFUSED = "refused"
REVOKED = "revoked"
CANCELLED = "cancelled"
EXPIRED = "expired"
EXITED = "business_exited"
WITHDRAWN = "withdrawn"
RECTIFYING = "rectifying"
NON_COMPLIANT = "non_compliant"
PUBLIC_STATUS = {
    UNDER_REVIEW: PermitStatus.UNDER_VERIFICATION,
    VALID: PermitStatus.VALID,
    SUSPENDED: PermitStatus.INVALID,
    REFUSED: PermitStatus.INVALID,
    REVOKED: PermitStatus.INVALID,
    CANCELLED: PermitStatus.INVALID,
    EXPIRED: PermitStatus.INVALID,
    EXITED: PermitStatus.INVALID,
    WITHDRAWN: PermitStatus.INVALID,
    RECTIFYING: PermitStatus.UNDER_RECTIFICATION,
    NON_COMPLIANT: PermitStatus.NON_COMPLIANT,
}
# The state each event leads to: the read model takes a permit's public status from here
# (through PUBLIC_STATUS), so the aggregate and the public page cannot disagree.
STATE_AFTER = {
    "Applied": UNDER_REVIEW,
    "Reapplied": UNDER_REVIEW,
    "Approved": VALID,
    "Filed": VALID,
    "GrantedOnCommitment": VALID,
    "Refused": REFUSED,
    "Withdrawn": WITHDRAWN,
    "CommitmentConfirmed": VALID,
    "RectificationOrdered": RECTIFYING,
    "Rectified": VALID,
    "RectificationFailed": NON_COMPLIANT,
    "CommitmentFalse": REVOKED,
    "Suspended": SUSPENDED,
    "Resumed": VALID,
    "Revoked": REVOKED,
    "Cancelled": CANCELLED,
    "Expired": EXPIRED,
    "BusinessExited": EXITED,
    "RegistrationRefused": EXITED,
}
# Where each event leaves a permit in the public's words (the scan page and the status
# document): finer than the five statuses, it names the act (吊销 is a penalty, 撤销 undoes a
# grant obtained on a false commitment). The read model records it beside the status.
STANDING_AFTER = {
    "Applied": Standing.UNDER_REVIEW,
    "Reapplied": Standing.UNDER_REVIEW,
    "Approved": Standing.IN_FORCE,
    "Filed": Standing.IN_FORCE,
    "GrantedOnCommitment": Standing.IN_FORCE,
    "Refused": Standing.REFUSED,
    "Withdrawn": Standing.WITHDRAWN,
    "CommitmentConfirmed": Standing.IN_FORCE,
    "RectificationOrdered": Standing.RECTIFYING,
    "Rectified": Standing.IN_FORCE,
    "RectificationFailed": Standing.NON_COMPLIANT,
    "CommitmentFalse": Standing.RESCINDED,
    "Suspended": Standing.SUSPENDED,
    "Resumed": Standing.IN_FORCE,
    "Revoked": Standing.REVOKED,
    "Cancelled": Standing.CANCELLED,
    "Expired": Standing.EXPIRED,
    "BusinessExited": Standing.BUSINESS_EXITED,
    "RegistrationRefused": Standing.LICENCE_REFUSED,
}
# The public reason each event gives, filled from the event's own fields (a decision's
# reason is the decider's own); the aggregate and the read model both word it from here.
UNDER_REVIEW_REASON = "申请审查中 application under review"
WORDING = {
    "Applied": UNDER_REVIEW_REASON,
    "Reapplied": UNDER_REVIEW_REASON,
    "Approved": "{reason}",
    "Filed": "{reason}",
    "GrantedOnCommitment": "{reason}",
    "Refused": "{reason}",
    "Suspended": "暂停 suspended: {reason}",
    "Resumed": "恢复 resumed: {reason}",
    "Revoked": "吊销 revoked: {reason}",
    "Cancelled": "注销 cancelled: {reason}",
    "Expired": "有效期届满 expired (found on {on})",
    "BusinessExited": "主体已退出 business exited ({how})",
    "RegistrationRefused": "营业执照不予登记 business licence refused: {reason}",
    "Withdrawn": "申请已撤回 application withdrawn: {reason}",
    "CommitmentConfirmed": "告知承诺核查通过 commitment verified",
    # The findings of a check stay off the public page (product: no inspection details);
    # the business is served them in the document (licensing/outbox.py).
    "RectificationOrdered": "限期整改至 {deadline} rectify by {deadline}",
    "Rectified": "整改完成 rectified: {reason}",
    "RectificationFailed": "整改不合格 rectification failed: {reason}",
    "CommitmentFalse": "承诺不实，撤销许可 commitment found false, permit withdrawn",
}
# A permit still valid on record but past its validity is shown 无效 at once, before the
# daily job records its expiry.
PAST_VALIDITY = "有效期届满 expired on {valid_until}"


def public_status(event: object) -> PermitStatus:
    return PUBLIC_STATUS[STATE_AFTER[type(event).__name__]]


def public_standing(event: object) -> Standing:
    return STANDING_AFTER[type(event).__name__]


def public_reason(event: object) -> str:
    return WORDING[type(event).__name__].format(**vars(event))


# A permit in one of these is over; the business may apply for it again.
ENDED = (REFUSED, REVOKED, CANCELLED, EXPIRED, EXITED, WITHDRAWN)


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
        if state in ENDED:
            self.verification_due: date | None = None  # an ended permit has nothing to verify
        self.state = state
        self.status = PUBLIC_STATUS[state]
        self.reason = reason
        self.legal_basis = legal_basis

    def _under_review(self) -> None:
        self._become(UNDER_REVIEW, "申请审查中 application under review")
        self.verification_due = None
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

    class Reapplied(Aggregate.Event):
        application_id: UUID
        actor: Actor

    @event(Reapplied)
    def _reapplied(self, *, application_id: UUID, actor: Actor) -> None:
        self.application_id = application_id
        self._under_review()

    def _check_decidable(self, actor: Actor) -> None:
        if actor.role != Role.DEPARTMENT or actor.department != self.department:
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

    class Approved(Aggregate.Event):
        actor: Actor
        number: str
        valid_from: date
        valid_until: date | None
        reason: str
        legal_basis: str | None

    @event(Approved)
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
        self._approved_body(number, valid_from, valid_until, reason, legal_basis)

    def refuse(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_decidable(actor)
        self._refused(actor=actor, reason=reason, legal_basis=legal_basis)

    class Refused(Aggregate.Event):
        actor: Actor
        reason: str
        legal_basis: str

    @event(Refused)
    def _refused(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._become(REFUSED, reason, legal_basis)

    def deemed(
        self,
        *,
        actor: Actor,
        approved: bool,
        number: str,
        valid_from: date,
        valid_until: date | None,
        reason: str,
        legal_basis: str,
    ) -> None:
        """The statutory limit passed undecided and a rule deems the outcome: recorded as the
        system's decision, with that rule as its legal basis."""
        if actor.role != Role.SYSTEM:
            msg = "an outcome is deemed by the daily job, never by a person"
            raise Forbidden(msg)
        if self.state != UNDER_REVIEW:
            msg = f"permit {self.permit_type} is not under review (it is {self.state})"
            raise Conflict(msg)
        if approved:
            self._approved(
                actor=actor,
                number=number,
                valid_from=valid_from,
                valid_until=valid_until,
                reason=reason,
                legal_basis=legal_basis,
            )
        else:
            self._refused(actor=actor, reason=reason, legal_basis=legal_basis)

    def withdraw(self, *, actor: Actor, reason: str) -> None:
        if self.state != UNDER_REVIEW:
            msg = f"permit {self.permit_type} is {self.state}; its application cannot be withdrawn"
            raise Conflict(msg)
        self._withdrawn(actor=actor, reason=reason)

    class Withdrawn(Aggregate.Event):
        actor: Actor
        reason: str

    @event(Withdrawn)
    def _withdrawn(self, *, actor: Actor, reason: str) -> None:
        self._become(WITHDRAWN, WORDING["Withdrawn"].format(reason=reason))

    # The reform modes that make a permit effective without a department's decision.

    def file(
        self, *, actor: Actor, number: str, valid_from: date, valid_until: date | None
    ) -> None:
        """审批改为备案: the filing is complete on the spot, in the submission itself."""
        if self.state != UNDER_REVIEW:
            msg = f"permit {self.permit_type} is {self.state}; it cannot be filed"
            raise Conflict(msg)
        self._filed(
            actor=actor,
            number=number,
            valid_from=valid_from,
            valid_until=valid_until,
            reason="备案完成 filed",
            legal_basis=None,
        )

    class Filed(Aggregate.Event):
        actor: Actor
        number: str
        valid_from: date
        valid_until: date | None
        reason: str
        legal_basis: str | None

    @event(Filed)
    def _filed(
        self,
        *,
        actor: Actor,
        number: str,
        valid_from: date,
        valid_until: date | None,
        reason: str,
        legal_basis: str | None,
    ) -> None:
        self._approved_body(number, valid_from, valid_until, reason, legal_basis)

    def grant_on_commitment(
        self,
        *,
        actor: Actor,
        number: str,
        valid_from: date,
        valid_until: date | None,
        letter_version: str,
        letter_text: str,
        signed_by: str,
        verification_due: date,
    ) -> None:
        """实行告知承诺: effective at once on the signed letter; verified afterwards (先证后核)."""
        if self.state != UNDER_REVIEW:
            msg = f"permit {self.permit_type} is {self.state}; it cannot be granted on commitment"
            raise Conflict(msg)
        self._granted_on_commitment(
            actor=actor,
            number=number,
            valid_from=valid_from,
            valid_until=valid_until,
            reason="告知承诺 granted on commitment",
            legal_basis=None,
            letter_version=letter_version,
            letter_text=letter_text,
            signed_by=signed_by,
            verification_due=verification_due,
        )

    class GrantedOnCommitment(Aggregate.Event):
        actor: Actor
        number: str
        valid_from: date
        valid_until: date | None
        reason: str
        legal_basis: str | None
        letter_version: str
        letter_text: str
        signed_by: str
        verification_due: date

    @event(GrantedOnCommitment)
    def _granted_on_commitment(
        self,
        *,
        actor: Actor,
        number: str,
        valid_from: date,
        valid_until: date | None,
        reason: str,
        legal_basis: str | None,
        letter_version: str,
        letter_text: str,
        signed_by: str,
        verification_due: date,
    ) -> None:
        self._approved_body(number, valid_from, valid_until, reason, legal_basis)
        self.verification_due = verification_due
        self.letter_version = letter_version

    def _approved_body(
        self,
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

    # Verifying a commitment (先证后核), by the issuing department.

    def _check_verifiable(self, actor: Actor, act: str) -> None:
        self._check_own(actor, act, allowed=(VALID,))
        if self.verification_due is None:
            msg = f"permit {self.permit_type} has no commitment awaiting verification"
            raise Conflict(msg)

    def confirm_commitment(self, *, actor: Actor) -> None:
        self._check_verifiable(actor, "verify")
        self._commitment_confirmed(actor=actor)

    class CommitmentConfirmed(Aggregate.Event):
        actor: Actor

    @event(CommitmentConfirmed)
    def _commitment_confirmed(self, *, actor: Actor) -> None:
        self._become(VALID, WORDING["CommitmentConfirmed"])
        self.verification_due = None

    def order_rectification(self, *, actor: Actor, findings: str, deadline: date) -> None:
        """Defects found (at verification or a later check): 整改中 until the deadline."""
        self._check_own(actor, "order rectification of", allowed=(VALID,))
        self._rectification_ordered(actor=actor, findings=findings, deadline=deadline)

    class RectificationOrdered(Aggregate.Event):
        actor: Actor
        findings: str
        deadline: date

    @event(RectificationOrdered)
    def _rectification_ordered(self, *, actor: Actor, findings: str, deadline: date) -> None:
        self._become(RECTIFYING, WORDING["RectificationOrdered"].format(deadline=deadline))
        self.verification_due = None

    def rectified(self, *, actor: Actor, reason: str) -> None:
        self._check_own(actor, "close rectification of", allowed=(RECTIFYING,))
        self._rectified(actor=actor, reason=reason)

    class Rectified(Aggregate.Event):
        actor: Actor
        reason: str

    @event(Rectified)
    def _rectified(self, *, actor: Actor, reason: str) -> None:
        self._become(VALID, WORDING["Rectified"].format(reason=reason))

    def rectification_failed(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_own(actor, "fail rectification of", allowed=(RECTIFYING,))
        self._rectification_failed(actor=actor, reason=reason, legal_basis=legal_basis)

    class RectificationFailed(Aggregate.Event):
        actor: Actor
        reason: str
        legal_basis: str

    @event(RectificationFailed)
    def _rectification_failed(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._become(
            NON_COMPLIANT, WORDING["RectificationFailed"].format(reason=reason), legal_basis
        )

    def commitment_found_false(self, *, actor: Actor, findings: str, legal_basis: str) -> None:
        """撤销: the permit was obtained on a false commitment."""
        self._check_verifiable(actor, "withdraw")
        self._commitment_false(actor=actor, findings=findings, legal_basis=legal_basis)

    class CommitmentFalse(Aggregate.Event):
        actor: Actor
        findings: str
        legal_basis: str

    @event(CommitmentFalse)
    def _commitment_false(self, *, actor: Actor, findings: str, legal_basis: str) -> None:
        self._become(REVOKED, WORDING["CommitmentFalse"], legal_basis)
        self.verification_due = None

    # After issuance: the issuing department's own acts.

    def _check_own(self, actor: Actor, act: str, *, allowed: tuple[str, ...]) -> None:
        if actor.role != Role.DEPARTMENT or actor.department != self.department:
            msg = f"only department {self.department} may {act} permit {self.permit_type}"
            raise Forbidden(msg)
        if self.state not in allowed:
            msg = f"permit {self.permit_type} is {self.state}; cannot {act} it"
            raise Conflict(msg)

    def suspend(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_own(actor, "suspend", allowed=(VALID,))
        self._suspended(actor=actor, reason=reason, legal_basis=legal_basis)

    class Suspended(Aggregate.Event):
        actor: Actor
        reason: str
        legal_basis: str

    @event(Suspended)
    def _suspended(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._become(SUSPENDED, WORDING["Suspended"].format(reason=reason), legal_basis)

    def resume(self, *, actor: Actor, reason: str) -> None:
        self._check_own(actor, "resume", allowed=(SUSPENDED,))
        self._resumed(actor=actor, reason=reason)

    class Resumed(Aggregate.Event):
        actor: Actor
        reason: str

    @event(Resumed)
    def _resumed(self, *, actor: Actor, reason: str) -> None:
        self._become(VALID, WORDING["Resumed"].format(reason=reason))

    def revoke(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._check_own(actor, "revoke", allowed=(VALID, SUSPENDED, RECTIFYING, NON_COMPLIANT))
        self._revoked(actor=actor, reason=reason, legal_basis=legal_basis)

    class Revoked(Aggregate.Event):
        actor: Actor
        reason: str
        legal_basis: str

    @event(Revoked)
    def _revoked(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self._become(REVOKED, WORDING["Revoked"].format(reason=reason), legal_basis)

    def cancel(self, *, actor: Actor, reason: str) -> None:
        self._check_own(actor, "cancel", allowed=(VALID, SUSPENDED))
        self._cancelled(actor=actor, reason=reason)

    class Cancelled(Aggregate.Event):
        actor: Actor
        reason: str

    @event(Cancelled)
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

    class Expired(Aggregate.Event):
        actor: Actor
        on: date

    @event(Expired)
    def _expired(self, *, actor: Actor, on: date) -> None:
        self._become(EXPIRED, WORDING["Expired"].format(on=on))

    def business_exited(self, *, actor: Actor, how: str) -> None:
        """Every exit of the business (注销, 吊销, 撤销登记) ends every permit it still holds."""
        if self.state in ENDED:
            return
        self._business_exited(actor=actor, how=how)

    def registration_refused(self, *, actor: Actor, reason: str) -> None:
        """The 营业执照 was refused: the business does not exist, so nothing it holds stands."""
        if self.state in ENDED:
            return
        self._registration_refused(actor=actor, reason=reason)

    class RegistrationRefused(Aggregate.Event):
        actor: Actor
        reason: str

    @event(RegistrationRefused)
    def _registration_refused(self, *, actor: Actor, reason: str) -> None:
        self._become(EXITED, WORDING["RegistrationRefused"].format(reason=reason))

    class BusinessExited(Aggregate.Event):
        actor: Actor
        how: str

    @event(BusinessExited)
    def _business_exited(self, *, actor: Actor, how: str) -> None:
        self._become(EXITED, WORDING["BusinessExited"].format(how=how))
