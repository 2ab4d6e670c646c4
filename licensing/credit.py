"""The credit office's acts: list a business (经营异常名录, 严重违法失信名单, 承诺履行黑名单)
with grounds and legal basis, take an objection (异议) and decide it, remove a listing (信用修复)."""

from __future__ import annotations

from domain.actor import Actor
from domain.credit import CreditRecord
from licensing.unit_of_work import UnitOfWork, command


@command
def list_business(
    uow: UnitOfWork, *, uscc: str, actor: Actor, list_code: str, grounds: str, legal_basis: str
) -> CreditRecord:
    """Only a registered business is listed; one listing per list at a time."""
    uow.registration(uscc)
    record = uow.credit_record(uscc)
    record.list(
        actor=actor, list_code=list_code, grounds=grounds, legal_basis=legal_basis, on=uow.today
    )
    return record


@command
def object_to_listing(
    uow: UnitOfWork, *, uscc: str, listing_id: str, actor: Actor, grounds: str
) -> CreditRecord:
    """The business objects, through the window or the credit office."""
    record = uow.credit_record(uscc)
    record.object(actor=actor, listing_id=listing_id, grounds=grounds)
    return record


@command
def decide_listing_objection(
    uow: UnitOfWork, *, uscc: str, listing_id: str, actor: Actor, upheld: bool, reason: str
) -> CreditRecord:
    """Upheld: the listing is removed; dismissed: it applies again."""
    record = uow.credit_record(uscc)
    record.decide_objection(actor=actor, listing_id=listing_id, upheld=upheld, reason=reason)
    return record


@command
def remove_listing(
    uow: UnitOfWork, *, uscc: str, listing_id: str, actor: Actor, reason: str, repaired: bool
) -> CreditRecord:
    """信用修复 (repaired), or removal decided by the credit office."""
    record = uow.credit_record(uscc)
    record.remove(actor=actor, listing_id=listing_id, reason=reason, repaired=repaired)
    return record
