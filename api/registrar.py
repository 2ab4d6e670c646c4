"""The registration officer's acts on a business, and each department's acts on its permits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from api.answers import public_licence
from api.auth import Reviewer, RuntimeDep, role
from api.schemas import (
    ChangesIn,
    Empty,
    ObjectionIn,
    Reasoned,
    ReasonedWithBasis,
    RectificationIn,
    SuspensionIn,
    VerificationIn,
)
from domain.actor import Actor
from domain.errors import InvalidParam, ValidationFailed
from licensing import registrar, review
from licensing.runtime import Runtime
from licensing.unit_of_work import Receipt
from projections.history import audit_trail

router = APIRouter(prefix="/api/v1", tags=["registration lifecycle"])
Registrar = Annotated[Actor, Depends(role("registrar"))]
NoBody = Annotated[Empty | None, Body()]


Staff = Annotated[Actor, Depends(role("clerk", "department", "registrar", "credit", "admin"))]


@router.get(
    "/licences/{uscc}/history",
    tags=["audit"],
    summary="The licence's audit trail: who, when, what, why, in order",
)
def history(uscc: str, actor: Staff, rt: RuntimeDep) -> dict[str, Any]:
    return {"uscc": uscc, "events": audit_trail(rt.app, uscc)}


def _answer(rt: Runtime, receipt: Receipt) -> dict[str, Any]:
    rt.settle(receipt.position)
    row = rt.view.licence(receipt.uscc)
    assert row is not None  # the command succeeded, so the business exists
    return public_licence(rt, row)


@router.post(
    "/registrations/{uscc}/changes",
    summary="变更登记: change name, domicile, scope or legal representative",
)
def change(uscc: str, body: ChangesIn, actor: Registrar, rt: RuntimeDep) -> dict[str, Any]:
    changes = body.changes.model_dump(exclude_none=True)
    return _answer(
        rt, registrar.change(rt.licensing, uscc=uscc, actor=actor, changes=changes, reason=body.reason)
    )


@router.post("/registrations/{uscc}/suspension", summary="休业: suspend business on request")
def suspend(uscc: str, body: SuspensionIn, actor: Registrar, rt: RuntimeDep) -> dict[str, Any]:
    return _answer(
        rt, registrar.suspend(rt.licensing, uscc=uscc, actor=actor, reason=body.reason, until=body.until)
    )


@router.post("/registrations/{uscc}/resumption", summary="Resume business after 休业")
def resume(uscc: str, body: Reasoned, actor: Registrar, rt: RuntimeDep) -> dict[str, Any]:
    return _answer(rt, registrar.resume(rt.licensing, uscc=uscc, actor=actor, reason=body.reason))


@router.post(
    "/registrations/{uscc}/deregistration-notice",
    summary="简易注销: start the 20-day public notice",
)
def notice(uscc: str, actor: Registrar, rt: RuntimeDep, body: NoBody = None) -> dict[str, Any]:
    return _answer(rt, registrar.give_deregistration_notice(rt.licensing, uscc=uscc, actor=actor))


@router.post("/registrations/{uscc}/objections", summary="Record an objection during the notice")
def objection(uscc: str, body: ObjectionIn, actor: Registrar, rt: RuntimeDep) -> dict[str, Any]:
    return _answer(
        rt,
        registrar.object_to_deregistration(
            rt.licensing,
            uscc=uscc, actor=actor, objector=body.objector, grounds=body.grounds
        ),
    )


@router.post(
    "/registrations/{uscc}/deregistration",
    summary="注销 after the notice; every permit becomes 无效",
)
def deregister(uscc: str, actor: Registrar, rt: RuntimeDep, body: NoBody = None) -> dict[str, Any]:
    return _answer(rt, registrar.deregister(rt.licensing, uscc=uscc, actor=actor))


@router.post("/registrations/{uscc}/revocation", summary="吊销营业执照; every permit becomes 无效")
def revoke(uscc: str, body: ReasonedWithBasis, actor: Registrar, rt: RuntimeDep) -> dict[str, Any]:
    return _answer(
        rt,
        registrar.revoke(
            rt.licensing,
            uscc=uscc, actor=actor, reason=body.reason, legal_basis=body.legal_basis
        ),
    )


@router.post("/registrations/{uscc}/cancellation", summary="撤销登记; every permit becomes 无效")
def cancel(uscc: str, body: ReasonedWithBasis, actor: Registrar, rt: RuntimeDep) -> dict[str, Any]:
    return _answer(
        rt,
        registrar.cancel(
            rt.licensing,
            uscc=uscc, actor=actor, reason=body.reason, legal_basis=body.legal_basis
        ),
    )


@router.post(
    "/licences/{uscc}/permits/{permit_type}/suspension",
    tags=["departments"],
    summary="Suspend one's own permit",
)
def suspend_permit(
    uscc: str, permit_type: str, body: ReasonedWithBasis, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    return _answer(
        rt,
        review.suspend_permit(
            rt.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor,
            reason=body.reason,
            legal_basis=body.legal_basis,
        ),
    )


@router.post(
    "/licences/{uscc}/permits/{permit_type}/resumption",
    tags=["departments"],
    summary="Resume one's own permit",
)
def resume_permit(
    uscc: str, permit_type: str, body: Reasoned, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    return _answer(
        rt,
        review.resume_permit(rt.licensing, uscc=uscc, permit_type=permit_type, actor=actor, reason=body.reason),
    )


@router.post(
    "/licences/{uscc}/permits/{permit_type}/revocation",
    tags=["departments"],
    summary="Revoke one's own permit (吊销)",
)
def revoke_permit(
    uscc: str, permit_type: str, body: ReasonedWithBasis, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    return _answer(
        rt,
        review.revoke_permit(
            rt.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor,
            reason=body.reason,
            legal_basis=body.legal_basis,
        ),
    )


@router.post(
    "/licences/{uscc}/permits/{permit_type}/cancellation",
    tags=["departments"],
    summary="Cancel one's own permit (注销)",
)
def cancel_permit(
    uscc: str, permit_type: str, body: Reasoned, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    return _answer(
        rt,
        review.cancel_permit(rt.licensing, uscc=uscc, permit_type=permit_type, actor=actor, reason=body.reason),
    )


@router.post(
    "/licences/{uscc}/permits/{permit_type}/verification",
    tags=["departments"],
    summary="先证后核: confirm a commitment, order rectification (整改中), or find it false (撤销)",
)
def verify_commitment(
    uscc: str, permit_type: str, body: VerificationIn, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    problems = []
    if body.outcome != "confirmed" and not (body.findings or "").strip():
        problems.append(InvalidParam("findings", f"required when the outcome is {body.outcome}"))
    if body.outcome == "false" and not (body.legal_basis or "").strip():
        problems.append(InvalidParam("legal_basis", "required to withdraw a permit"))
    if problems:
        raise ValidationFailed(problems)
    if body.outcome == "confirmed":
        receipt = review.confirm_commitment(rt.licensing, uscc=uscc, permit_type=permit_type, actor=actor)
    elif body.outcome == "defects":
        receipt = review.order_rectification(
            rt.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor,
            findings=body.findings or "",
            deadline=body.deadline,
        )
    else:
        receipt = review.commitment_found_false(
            rt.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor,
            findings=body.findings or "",
            legal_basis=body.legal_basis or "",
        )
    return _answer(rt, receipt)


@router.post(
    "/licences/{uscc}/permits/{permit_type}/rectification",
    tags=["departments"],
    summary="Close a rectification: rectified (有效) or failed (不合格)",
)
def close_rectification(
    uscc: str, permit_type: str, body: RectificationIn, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    return _answer(
        rt,
        review.close_rectification(
            rt.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor,
            passed=body.outcome == "rectified",
            reason=body.reason,
            legal_basis=body.legal_basis,
        ),
    )
