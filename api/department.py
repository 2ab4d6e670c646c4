"""The reviewer's desk: a department's own worklist and its own decisions."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query

from api.answers import answer_with_application
from api.auth import Reviewer, RuntimeDep
from api.schemas import ApproveIn, Decision, FindingIn, SupplementRequestIn
from domain.actor import Actor
from licensing import review
from projections.views import commitments_to_verify, department_worklist

router = APIRouter(prefix="/api/v1", tags=["departments"])


def _own(actor: Actor, department: str) -> None:
    if actor.department != department:
        msg = f"department {actor.department} may not read {department}'s worklist"
        raise HTTPException(403, msg)


@router.get("/departments/{department}/tasks", summary="A department's worklist, oldest first")
def worklist(
    department: str,
    actor: Reviewer,
    rt: RuntimeDep,
    state: Literal[
        "queued",
        "approved",
        "refused",
        "filed",
        "approved_on_commitment",
        "informed",
        "supplement_requested",
        "withdrawn",
    ]
    | None = None,
    overdue: Annotated[
        bool, Query(description="only undecided tasks past their promised date")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    _own(actor, department)
    rt.catalogue.department(department)
    today = rt.licensing.today()
    overdue_on = today.isoformat() if overdue else None
    tasks = rt.view.tasks(
        department, state=state, overdue_on=overdue_on, limit=limit, offset=offset
    )
    return department_worklist(tasks, department=department, today=today)


@router.get(
    "/departments/{department}/verifications",
    summary="先证后核: permits granted on commitment that the department must still verify",
)
def verifications(department: str, actor: Reviewer, rt: RuntimeDep) -> dict[str, Any]:
    _own(actor, department)
    permits = rt.view.verifications(department)
    return commitments_to_verify(permits, department=department, today=rt.licensing.today())


@router.post(
    "/applications/{application_id}/tasks/{permit_type}/decision",
    summary="Approve (number, validity) or refuse (reason, legal basis) one's own task",
)
def decide(
    application_id: UUID, permit_type: str, body: Decision, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    if isinstance(body, ApproveIn):
        receipt = review.approve(
            rt.licensing,
            application_id=application_id,
            permit_type=permit_type,
            actor=actor,
            permit_number=body.permit_number,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            reason=body.reason,
            legal_basis=body.legal_basis,
        )
    else:
        receipt = review.refuse(
            rt.licensing,
            application_id=application_id,
            permit_type=permit_type,
            actor=actor,
            reason=body.reason,
            legal_basis=body.legal_basis,
        )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/tasks/{permit_type}/supplement-request",
    summary="Ask the applicant for more (pauses this task's clock until resubmission)",
)
def request_supplement(
    application_id: UUID,
    permit_type: str,
    body: SupplementRequestIn,
    actor: Reviewer,
    rt: RuntimeDep,
) -> dict[str, Any]:
    receipt = review.request_supplement(
        rt.licensing,
        application_id=application_id,
        permit_type=permit_type,
        actor=actor,
        items=body.items,
        note=body.note,
    )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/joint-decision",
    summary="合并受理: approve every task of one's own department in one act",
)
def joint_decision(application_id: UUID, actor: Reviewer, rt: RuntimeDep) -> dict[str, Any]:
    receipt = review.approve_jointly(rt.licensing, application_id=application_id, actor=actor)
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/tasks/{permit_type}/inspection-finding",
    summary="Record one's own finding at the joint inspection",
)
def record_finding(
    application_id: UUID, permit_type: str, body: FindingIn, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = review.record_finding(
        rt.licensing,
        application_id=application_id,
        permit_type=permit_type,
        actor=actor,
        passed=body.outcome == "pass",
        notes=body.notes,
    )
    return answer_with_application(rt, receipt)
