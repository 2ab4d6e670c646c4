"""The business registration behind the 营业执照: who the business is, and whether it exists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor
from domain.errors import Conflict
from domain.status import RegistrationStatus

ENTITY_TYPES = {
    "limited_company": ("有限责任公司", "limited liability company"),
    "joint_stock_company": ("股份有限公司", "joint-stock company"),
    "sole_proprietorship": ("个人独资企业", "sole proprietorship"),
    "partnership": ("合伙企业", "partnership"),
    "individual_business": ("个体工商户", "individual business"),
    "branch": ("分公司", "branch"),
}


class BusinessRegistration(Aggregate):
    """One business, keyed by its USCC; its registration permit decides whether it exists."""

    @staticmethod
    def create_id(uscc: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/registrations/{uscc}")

    class Applied(Aggregate.Created):
        uscc: str
        name: str
        entity_type: str
        legal_representative: dict[str, Any]
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
        legal_representative: dict[str, Any],
        domicile: str,
        business_scope: str,
        registered_capital: Decimal,
        application_id: UUID,
        actor: Actor,
    ) -> None:
        self.uscc = uscc
        self.name = name
        self.entity_type = entity_type
        # Personal data: kept in the event store for the registrar, never projected publicly.
        self.legal_representative = dict(legal_representative)
        self.domicile = domicile
        self.business_scope = business_scope
        self.registered_capital = registered_capital
        self.status = RegistrationStatus.ESTABLISHING
        self.print_version = 1

    def establish(self, *, actor: Actor, permit_number: str) -> None:
        if self.status is not RegistrationStatus.ESTABLISHING:
            msg = f"registration {self.uscc} is {self.status.english}, not being established"
            raise Conflict(msg)
        self._established(actor=actor, permit_number=permit_number)

    @event("Established")
    def _established(self, *, actor: Actor, permit_number: str) -> None:
        self.status = RegistrationStatus.ACTIVE

    def refuse(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        if self.status is not RegistrationStatus.ESTABLISHING:
            msg = f"registration {self.uscc} is {self.status.english}, not being established"
            raise Conflict(msg)
        self._refused(actor=actor, reason=reason, legal_basis=legal_basis)

    @event("Refused")
    def _refused(self, *, actor: Actor, reason: str, legal_basis: str) -> None:
        self.status = RegistrationStatus.REFUSED
