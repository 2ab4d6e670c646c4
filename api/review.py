"""A department's desk: its worklist, its decisions on its own tasks, and its later acts on the
permits it issued (先证后核, 整改, 暂停, 恢复, 吊销, 注销)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query

from api.answers import answer_with_application, answer_with_licence
from api.auth import Reviewer, RuntimeDep
from api.schemas import (
    ApproveIn,
    Decision,
    FindingIn,
    Reasoned,
    ReasonedWithBasis,
    RectificationIn,
    SupplementRequestIn,
    VerificationIn,
)
from domain.actor import Actor
from domain.errors import InvalidParam, ValidationFailed
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


# After issuance: the department's acts on its own permits answer with the public licence.


@router.post(
    "/licences/{uscc}/permits/{permit_type}/suspension",
    tags=["departments"],
    summary="Suspend one's own permit",
)
def suspend_permit(
    uscc: str, permit_type: str, body: ReasonedWithBasis, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    return answer_with_licence(
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
    return answer_with_licence(
        rt,
        review.resume_permit(
            rt.licensing, uscc=uscc, permit_type=permit_type, actor=actor, reason=body.reason
        ),
    )


@router.post(
    "/licences/{uscc}/permits/{permit_type}/revocation",
    tags=["departments"],
    summary="Revoke one's own permit (吊销)",
)
def revoke_permit(
    uscc: str, permit_type: str, body: ReasonedWithBasis, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    return answer_with_licence(
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
    return answer_with_licence(
        rt,
        review.cancel_permit(
            rt.licensing, uscc=uscc, permit_type=permit_type, actor=actor, reason=body.reason
        ),
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
        receipt = review.confirm_commitment(
            rt.licensing, uscc=uscc, permit_type=permit_type, actor=actor
        )
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
    return answer_with_licence(rt, receipt)


@router.post(
    "/licences/{uscc}/permits/{permit_type}/rectification",
    tags=["departments"],
    summary="Close a rectification: rectified (有效) or failed (不合格)",
)
def close_rectification(
    uscc: str, permit_type: str, body: RectificationIn, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    return answer_with_licence(
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
