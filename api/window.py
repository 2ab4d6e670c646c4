"""The window: themes and their merged forms, submitting a bundle, following it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.answers import answer_with_application
from api.auth import Clerk, RuntimeDep
from api.schemas import (
    AcceptanceIn,
    AcceptIn,
    JointInspectionIn,
    ResubmissionIn,
    SubmissionIn,
    WithdrawalIn,
)
from licensing import window
from licensing.catalogue import Catalogue
from licensing.window import BusinessDetails
from projections.views import application_view

router = APIRouter(prefix="/api/v1", tags=["window"])


def _theme_summary(catalogue: Catalogue, code: str) -> dict[str, Any]:
    return {**catalogue.theme_summary(code), "links": {"self": f"/api/v1/themes/{code}"}}


@router.get("/themes", summary="Themed items (主题事项)")
def list_themes(rt: RuntimeDep) -> dict[str, Any]:
    return {
        "catalogue_version": rt.catalogue.version,
        "themes": [_theme_summary(rt.catalogue, code) for code in rt.catalogue.themes],
    }


@router.get("/themes/{code}", summary="A theme, its permits and its merged form (一表登记)")
def get_theme(code: str, rt: RuntimeDep) -> dict[str, Any]:
    return {**_theme_summary(rt.catalogue, code), **rt.catalogue.theme_outline(code)}


@router.post(
    "/applications", status_code=201, summary="Submit a themed bundle (one window, one form)"
)
def submit(body: SubmissionIn, actor: Clerk, rt: RuntimeDep, response: Response) -> dict[str, Any]:
    receipt = window.submit(
        rt.licensing,
        theme=body.theme,
        business=BusinessDetails(
            uscc=body.business.uscc,
            name=body.business.name,
            entity_type=body.business.entity_type,
            legal_representative=body.business.legal_representative.model_dump(),
            domicile=body.business.domicile,
            business_scope=body.business.business_scope,
            registered_capital=body.business.registered_capital,
        ),
        applicant=body.applicant.model_dump(),
        answers=body.answers,
        situation=body.situation,
        commitments={code: letter.model_dump() for code, letter in body.commitments.items()},
        fast_track=body.fast_track.model_dump() if body.fast_track else None,
        deficiencies=[d.model_dump() for d in body.deficiencies],
        actor=actor,
        accept_now=body.accept_now,
    )
    rt.settle(receipt.position)
    response.headers["Location"] = f"/api/v1/applications/{receipt.id}"
    return application_view(rt.licensing.application(receipt.id))


@router.get("/applications/{application_id}", summary="An application with each task's state")
def get_application(application_id: UUID, actor: Clerk, rt: RuntimeDep) -> dict[str, Any]:
    return application_view(rt.licensing.application(application_id))


@router.get(
    "/applications/{application_id}/supplement-notice",
    summary="一次性告知: every department's open request, as one notice to the applicant",
)
def supplement_notice(application_id: UUID, actor: Clerk, rt: RuntimeDep) -> dict[str, Any]:
    application = rt.licensing.application(application_id)
    requests = application.supplement_notice()
    return {
        "application_id": str(application.id),
        "uscc": application.uscc,
        "departments": sorted({r["department"] for r in requests}),
        "requests": requests,
    }


@router.post(
    "/applications/{application_id}/resubmission",
    summary="One resubmission answers the notice and restarts every paused clock",
)
def resubmit(
    application_id: UUID, body: ResubmissionIn, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = window.resubmit(
        rt.licensing,
        application_id=application_id,
        actor=actor,
        answers=body.answers,
        materials=body.materials,
    )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/acceptance",
    summary="受理 or 不予受理 an application the window only received",
)
def decide_acceptance(
    application_id: UUID, body: AcceptanceIn, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    if isinstance(body, AcceptIn):
        receipt = window.accept(rt.licensing, application_id=application_id, actor=actor)
    else:
        receipt = window.refuse_acceptance(
            rt.licensing,
            application_id=application_id,
            actor=actor,
            reason=body.reason,
            legal_basis=body.legal_basis,
        )
    return answer_with_application(rt, receipt)


@router.post("/applications/{application_id}/withdrawal", summary="Withdraw before decision")
def withdraw(
    application_id: UUID, body: WithdrawalIn, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = window.withdraw(
        rt.licensing, application_id=application_id, actor=actor, reason=body.reason
    )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/joint-inspection",
    summary="联合勘查: one site visit for every task that needs one",
)
def schedule_joint_inspection(
    application_id: UUID, body: JointInspectionIn, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = window.schedule_joint_inspection(
        rt.licensing, application_id=application_id, actor=actor, on=body.on
    )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/materials/{material}",
    summary="容缺受理: the missing material arrives",
)
def supply_material(
    application_id: UUID, material: str, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = window.supply_material(
        rt.licensing, application_id=application_id, actor=actor, material=material
    )
    return answer_with_application(rt, receipt)
