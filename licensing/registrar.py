"""The registration officer's acts (市场监管 登记) on a business: 变更, 休业 and back, 简易注销
with its notice and objections, 注销, 吊销, 撤销登记 (every exit ends every permit with it),
and the licence's reprints, which the window may also make."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.actor import Actor
from domain.registration import BusinessRegistration
from licensing.unit_of_work import UnitOfWork, command


def _end_permits_if_exited(
    uow: UnitOfWork, registration: BusinessRegistration, actor: Actor
) -> BusinessRegistration:
    """An exit (注销, 吊销, 撤销登记) ends every permit of the business in the same transaction."""
    if registration.has_exited:
        how = registration.status.word
        for permit_type in registration.permit_types:
            uow.permit(registration.uscc, permit_type).business_exited(actor=actor, how=how)
    return registration


@command
def change(
    uow: UnitOfWork, *, uscc: str, actor: Actor, changes: dict[str, Any], reason: str
) -> BusinessRegistration:
    """变更登记 of name, domicile, scope or legal representative; the printed QR keeps working."""
    registration = uow.registration(uscc)
    registration.change(actor=actor, changes=changes, reason=reason)
    return registration


@command
def suspend(
    uow: UnitOfWork, *, uscc: str, actor: Actor, reason: str, until: date | None = None
) -> BusinessRegistration:
    """休业, on the business's request."""
    registration = uow.registration(uscc)
    registration.suspend(actor=actor, reason=reason, until=until)
    return registration


@command
def resume(uow: UnitOfWork, *, uscc: str, actor: Actor, reason: str) -> BusinessRegistration:
    registration = uow.registration(uscc)
    registration.resume(actor=actor, reason=reason)
    return registration


@command
def give_deregistration_notice(uow: UnitOfWork, *, uscc: str, actor: Actor) -> BusinessRegistration:
    """简易注销 starts with a 20-day public notice."""
    registration = uow.registration(uscc)
    registration.give_deregistration_notice(actor=actor, today=uow.today)
    return registration


@command
def object_to_deregistration(
    uow: UnitOfWork, *, uscc: str, actor: Actor, objector: str, grounds: str
) -> BusinessRegistration:
    registration = uow.registration(uscc)
    registration.object(actor=actor, objector=objector, grounds=grounds)
    return registration


@command
def deregister(uow: UnitOfWork, *, uscc: str, actor: Actor) -> BusinessRegistration:
    """注销, once the notice has run without objection."""
    registration = uow.registration(uscc)
    registration.deregister(actor=actor, today=uow.today)
    return _end_permits_if_exited(uow, registration, actor)


@command
def revoke(
    uow: UnitOfWork, *, uscc: str, actor: Actor, reason: str, legal_basis: str
) -> BusinessRegistration:
    """吊销营业执照."""
    registration = uow.registration(uscc)
    registration.revoke(actor=actor, reason=reason, legal_basis=legal_basis)
    return _end_permits_if_exited(uow, registration, actor)


@command
def cancel(
    uow: UnitOfWork, *, uscc: str, actor: Actor, reason: str, legal_basis: str
) -> BusinessRegistration:
    """撤销登记."""
    registration = uow.registration(uscc)
    registration.cancel(actor=actor, reason=reason, legal_basis=legal_basis)
    return _end_permits_if_exited(uow, registration, actor)


@command
def reprint(
    uow: UnitOfWork, *, uscc: str, actor: Actor, reason: str, void_previous: bool = False
) -> BusinessRegistration:
    """A new printed copy of the licence (补发/换发): copies printed before are superseded,
    or void with `void_previous` (a copy reported lost)."""
    registration = uow.registration(uscc)
    registration.reprint(actor=actor, reason=reason, void_previous=void_previous)
    return registration
