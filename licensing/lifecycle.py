"""After the decision: the registration's lifecycle (registrar) and each permit's (its own
department), 先证后核 verification included. Every exit ends every permit in the same
transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from domain.actor import SYSTEM, Actor
from domain.errors import InvalidParam, ValidationFailed
from domain.permit import Permit
from domain.registration import BusinessRegistration
from licensing.commands import Commands, Receipt


class Lifecycle(Commands):
    """The registrar's acts on a business and the departments' acts on their permits."""

    def _on_registration(
        self, uscc: str, actor: Actor, act: Callable[[BusinessRegistration], None]
    ) -> Receipt:
        """One registrar act; an exit ends every permit of the business in the same transaction."""

        def command() -> Receipt:
            registration = self.get_registration(uscc)
            act(registration)
            changed: list[Any] = [registration]
            if registration.has_exited:
                how = registration.status.word
                for permit_type in registration.permit_types:
                    permit: Permit = self.repository.get(Permit.create_id(uscc, permit_type))
                    permit.business_exited(actor=actor, how=how)
                    changed.append(permit)
            recordings = self.save(*changed)
            return Receipt(id=registration.id, uscc=uscc, position=recordings[-1].notification.id)

        return self._retry(command)

    def change_registration(
        self, *, uscc: str, actor: Actor, changes: dict[str, Any], reason: str
    ) -> Receipt:
        return self._on_registration(
            uscc, actor, lambda r: r.change(actor=actor, changes=changes, reason=reason)
        )

    def suspend_business(
        self, *, uscc: str, actor: Actor, reason: str, until: date | None = None
    ) -> Receipt:
        return self._on_registration(
            uscc, actor, lambda r: r.suspend(actor=actor, reason=reason, until=until)
        )

    def resume_business(self, *, uscc: str, actor: Actor, reason: str) -> Receipt:
        return self._on_registration(uscc, actor, lambda r: r.resume(actor=actor, reason=reason))

    def give_deregistration_notice(self, *, uscc: str, actor: Actor) -> Receipt:
        return self._on_registration(
            uscc, actor, lambda r: r.give_deregistration_notice(actor=actor, today=self.today())
        )

    def object_to_deregistration(
        self, *, uscc: str, actor: Actor, objector: str, grounds: str
    ) -> Receipt:
        return self._on_registration(
            uscc, actor, lambda r: r.object(actor=actor, objector=objector, grounds=grounds)
        )

    def deregister(self, *, uscc: str, actor: Actor) -> Receipt:
        return self._on_registration(
            uscc, actor, lambda r: r.deregister(actor=actor, today=self.today())
        )

    def revoke_registration(
        self, *, uscc: str, actor: Actor, reason: str, legal_basis: str
    ) -> Receipt:
        return self._on_registration(
            uscc, actor, lambda r: r.revoke(actor=actor, reason=reason, legal_basis=legal_basis)
        )

    def cancel_registration(
        self, *, uscc: str, actor: Actor, reason: str, legal_basis: str
    ) -> Receipt:
        return self._on_registration(
            uscc, actor, lambda r: r.cancel(actor=actor, reason=reason, legal_basis=legal_basis)
        )

    def _on_permit(self, uscc: str, permit_type: str, act: Callable[[Permit], None]) -> Receipt:
        def command() -> Receipt:
            permit = self.get_permit(uscc, permit_type)
            act(permit)
            recordings = self.save(permit)
            return Receipt(id=permit.id, uscc=uscc, position=recordings[-1].notification.id)

        return self._retry(command)

    def suspend_permit(
        self, *, uscc: str, permit_type: str, actor: Actor, reason: str, legal_basis: str
    ) -> Receipt:
        return self._on_permit(
            uscc,
            permit_type,
            lambda p: p.suspend(actor=actor, reason=reason, legal_basis=legal_basis),
        )

    def resume_permit(self, *, uscc: str, permit_type: str, actor: Actor, reason: str) -> Receipt:
        return self._on_permit(uscc, permit_type, lambda p: p.resume(actor=actor, reason=reason))

    def revoke_permit(
        self, *, uscc: str, permit_type: str, actor: Actor, reason: str, legal_basis: str
    ) -> Receipt:
        return self._on_permit(
            uscc,
            permit_type,
            lambda p: p.revoke(actor=actor, reason=reason, legal_basis=legal_basis),
        )

    def cancel_permit(self, *, uscc: str, permit_type: str, actor: Actor, reason: str) -> Receipt:
        return self._on_permit(uscc, permit_type, lambda p: p.cancel(actor=actor, reason=reason))

    def confirm_commitment(self, *, uscc: str, permit_type: str, actor: Actor) -> Receipt:
        return self._on_permit(uscc, permit_type, lambda p: p.confirm_commitment(actor=actor))

    def order_rectification(
        self,
        *,
        uscc: str,
        permit_type: str,
        actor: Actor,
        findings: str,
        deadline: date | None = None,
    ) -> Receipt:
        """Defects found: 整改中 until a deadline (by default the permit type's rectification
        period, in working days)."""
        if deadline is None:
            days = self.catalogue.permit_type(permit_type).rectification_days or 20
            deadline = self.calendar.add_working_days(self.today(), days)
        elif deadline <= self.today():
            raise ValidationFailed([InvalidParam("deadline", "must be after today")])
        chosen = deadline
        return self._on_permit(
            uscc,
            permit_type,
            lambda p: p.order_rectification(actor=actor, findings=findings, deadline=chosen),
        )

    def close_rectification(
        self,
        *,
        uscc: str,
        permit_type: str,
        actor: Actor,
        passed: bool,
        reason: str,
        legal_basis: str | None = None,
    ) -> Receipt:
        if not passed and not (legal_basis or "").strip():
            raise ValidationFailed(
                [InvalidParam("legal_basis", "required when rectification fails")]
            )
        return self._on_permit(
            uscc,
            permit_type,
            lambda p: (
                p.rectified(actor=actor, reason=reason)
                if passed
                else p.rectification_failed(
                    actor=actor, reason=reason, legal_basis=legal_basis or ""
                )
            ),
        )

    def commitment_found_false(
        self, *, uscc: str, permit_type: str, actor: Actor, findings: str, legal_basis: str
    ) -> Receipt:
        """撤销 the permit, and list the business on the commitment blacklist, atomically."""

        def command() -> Receipt:
            permit = self.get_permit(uscc, permit_type)
            permit.commitment_found_false(actor=actor, findings=findings, legal_basis=legal_basis)
            record = self._credit_record(uscc)
            if not any(x["list"] == "commitment_blacklist" for x in record.active_listings()):
                record.list(
                    actor=actor,
                    list_code="commitment_blacklist",
                    # The grounds as published (公示): the act, not the inspection's details.
                    grounds=(
                        "告知承诺不实，许可被撤销 commitment found false, permit withdrawn: "
                        f"{self.catalogue.permit_type(permit_type).name_zh}"
                    ),
                    legal_basis=legal_basis,
                    on=self.today(),
                )
            recordings = self.save(permit, record)
            return Receipt(id=permit.id, uscc=uscc, position=recordings[-1].notification.id)

        return self._retry(command)

    def expire_permits(self, *, uscc: str) -> list[Receipt]:
        """Permits of one business past their validity become 无效 (run daily by the operator)."""
        today = self.today()
        receipts = []
        for permit_type in self.get_registration(uscc).permit_types:
            permit = self.get_permit(uscc, permit_type)
            if permit.is_due_to_expire(today):
                receipts.append(
                    self._on_permit(
                        uscc, permit_type, lambda p: p.expire(actor=SYSTEM, today=today)
                    )
                )
        return receipts
