"""The registration officer's acts on a business (变更, 休业, 简易注销, 注销, 吊销, 撤销登记)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from api.answers import answer_with_licence
from api.auth import Registrar, RuntimeDep
from api.problems import documented
from api.responses import Licence
from api.schemas import (
    ChangesIn,
    DeregistrationObjectionIn,
    Empty,
    Reasoned,
    ReasonedWithBasis,
    SuspensionIn,
)
from licensing import registrar

router = APIRouter(prefix="/api/v1", tags=["registration lifecycle"])
NoBody = Annotated[Empty | None, Body()]
# Every act answers with the public licence, names an existing business, and checks its state.
_ACT: dict[str, Any] = {
    "response_model": Licence,
    "responses": documented(404, (409, "The registration's status does not allow this act"), 422),
}


@router.post(
    "/registrations/{uscc}/changes",
    summary="变更登记: change name, domicile, scope or legal representative",
    **_ACT,
)
def change_registration(
    uscc: str, body: ChangesIn, actor: Registrar, rt: RuntimeDep
) -> dict[str, Any]:
    changes = body.changes.model_dump(exclude_none=True)
    return answer_with_licence(
        rt,
        registrar.change(rt.licensing, uscc=uscc, actor=actor, changes=changes, reason=body.reason),
    )


@router.post(
    "/registrations/{uscc}/suspension", summary="休业: suspend business on request", **_ACT
)
def suspend_business(
    uscc: str, body: SuspensionIn, actor: Registrar, rt: RuntimeDep
) -> dict[str, Any]:
    return answer_with_licence(
        rt,
        registrar.suspend(
            rt.licensing, uscc=uscc, actor=actor, reason=body.reason, until=body.until
        ),
    )


@router.post("/registrations/{uscc}/resumption", summary="Resume business after 休业", **_ACT)
def resume_business(uscc: str, body: Reasoned, actor: Registrar, rt: RuntimeDep) -> dict[str, Any]:
    return answer_with_licence(
        rt, registrar.resume(rt.licensing, uscc=uscc, actor=actor, reason=body.reason)
    )


@router.post(
    "/registrations/{uscc}/deregistration-notice",
    summary="简易注销: start the 20-day public notice",
    **_ACT,
)
def give_deregistration_notice(
    uscc: str, actor: Registrar, rt: RuntimeDep, body: NoBody = None
) -> dict[str, Any]:
    return answer_with_licence(
        rt, registrar.give_deregistration_notice(rt.licensing, uscc=uscc, actor=actor)
    )


@router.post(
    "/registrations/{uscc}/objections", summary="Record an objection during the notice", **_ACT
)
def object_to_deregistration(
    uscc: str, body: DeregistrationObjectionIn, actor: Registrar, rt: RuntimeDep
) -> dict[str, Any]:
    return answer_with_licence(
        rt,
        registrar.object_to_deregistration(
            rt.licensing, uscc=uscc, actor=actor, objector=body.objector, grounds=body.grounds
        ),
    )


@router.post(
    "/registrations/{uscc}/deregistration",
    summary="注销 after the notice; every permit becomes 无效",
    **_ACT,
)
def deregister(uscc: str, actor: Registrar, rt: RuntimeDep, body: NoBody = None) -> dict[str, Any]:
    return answer_with_licence(rt, registrar.deregister(rt.licensing, uscc=uscc, actor=actor))


@router.post(
    "/registrations/{uscc}/revocation", summary="吊销营业执照; every permit becomes 无效", **_ACT
)
def revoke_business_licence(
    uscc: str, body: ReasonedWithBasis, actor: Registrar, rt: RuntimeDep
) -> dict[str, Any]:
    return answer_with_licence(
        rt,
        registrar.revoke(
            rt.licensing, uscc=uscc, actor=actor, reason=body.reason, legal_basis=body.legal_basis
        ),
    )


@router.post(
    "/registrations/{uscc}/cancellation", summary="撤销登记; every permit becomes 无效", **_ACT
)
def cancel_registration(
    uscc: str, body: ReasonedWithBasis, actor: Registrar, rt: RuntimeDep
) -> dict[str, Any]:
    return answer_with_licence(
        rt,
        registrar.cancel(
            rt.licensing, uscc=uscc, actor=actor, reason=body.reason, legal_basis=body.legal_basis
        ),
    )
