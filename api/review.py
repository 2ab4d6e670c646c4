"""A department's desk: its worklist, its view of each of its tasks (and the personal data a task
needs, logged), claiming them (办理人), its decisions on them, and its later acts on the permits
it issued (先证后核, 整改, 暂停, 恢复, 吊销, 注销)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import AfterValidator

from api.answers import answer_with_application, answer_with_licence
from api.auth import Reviewer, RuntimeDep
from api.problems import documented
from api.responses import (
    Application,
    CommitmentsToVerify,
    DepartmentFeed,
    Licence,
    PersonalData,
    TaskView,
    Worklist,
)
from api.schemas import (
    ApproveIn,
    ConfirmedIn,
    Decision,
    DefectsIn,
    FindingIn,
    Reasoned,
    ReasonedWithBasis,
    RectificationIn,
    RectifiedIn,
    SupplementRequestIn,
    VerificationIn,
)
from domain.actor import Actor
from domain.bundle import TaskState
from licensing import review, window
from projections.desk import personal_data, task_view
from projections.feed import parse_cursor
from projections.views import (
    commitments_to_verify,
    department_feed,
    department_worklist,
    worklist_states,
)

router = APIRouter(prefix="/api/v1", tags=["departments"])


def _own(actor: Actor, department: str) -> None:
    if actor.department != department:
        msg = f"department {actor.department} may not read {department}'s desk"
        raise HTTPException(403, msg)


# A department acts on its own tasks and permits only; another's are 403.
_OWN = "Only the department's own (another department's: 403)."
_STATE = "The task is not awaiting this act (decided, paused, or its inspection is pending)"
_CLAIMED = "; or another officer has claimed it (named): take it over first"
_PERMIT_STATE = "The permit's status does not allow this act"
_NO_TASK = "The department has no task for this permit on the application (another's, or none)"


@router.get(
    "/departments/{department}/tasks",
    summary="A department's worklist: open tasks by default, soonest due first, in pages",
    description=_OWN + " Filters combine. Paging is by `limit` and `offset`; `total` counts "
    "every task the filters match.",
    response_model=Worklist,
    responses=documented((404, "No such department"), 422),
)
def get_worklist(
    department: str,
    actor: Reviewer,
    rt: RuntimeDep,
    state: Annotated[TaskState | None, Query(description="only tasks in this state")] = None,
    status: Annotated[
        Literal["open", "decided", "all"] | None,
        Query(
            description="`open` (queued or paused for a supplement), `decided` (every final "
            "state) or `all`; default `open`, or `all` when `state` is given"
        ),
    ] = None,
    overdue: Annotated[
        bool, Query(description="only undecided tasks past their promised date")
    ] = False,
    theme: Annotated[str | None, Query(max_length=64, description="only this theme's")] = None,
    officer: Annotated[
        str | None,
        Query(max_length=128, description="only tasks this officer (id) has claimed or decided"),
    ] = None,
    unclaimed: Annotated[bool, Query(description="only tasks nobody has claimed")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    _own(actor, department)
    rt.catalogue.department(department)
    today = rt.licensing.today()
    tasks, total = rt.view.tasks(
        department,
        states=worklist_states(state, status),
        overdue_on=today.isoformat() if overdue else None,
        theme=theme,
        officer=officer,
        unclaimed=unclaimed,
        limit=limit,
        offset=offset,
    )
    return department_worklist(
        tasks, department=department, today=today, total=total, limit=limit, offset=offset
    )


@router.get(
    "/departments/{department}/tasks/{application_id}/{permit_type}",
    summary="The department's view of its own task: the business, its permit's answers, "
    "materials, commitment, credit snapshot, history and deadlines",
    description=_OWN + " Only the answers of the fields its permit type uses; no personal data "
    "(`personal_data` says whether its permit needs any, and where to read it).",
    response_model=TaskView,
    responses=documented((403, _NO_TASK), (404, "No such application"), 422),
)
def get_task(
    department: str, application_id: UUID, permit_type: str, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    _own(actor, department)
    application = rt.licensing.application(application_id)
    task = application.task_of(permit_type, actor)
    view = f"/api/v1/departments/{department}/tasks/{application_id}/{permit_type}/documents"
    return task_view(
        application,
        permit_type=permit_type,
        events=list(rt.app.events.get(application.id)),
        registration=rt.licensing.registration(application.uscc),
        permit_events=list(rt.app.events.get(task.permit_id)) if task.permit_id else [],
        rules=rt.catalogue,
        today=rt.licensing.today(),
        materials=window.material_standing(
            rt.catalogue, application, [permit_type], link=lambda d: f"{view}/{d}"
        ),
    )


_MEDIA_SUFFIX = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@router.get(
    "/departments/{department}/tasks/{application_id}/{permit_type}/documents/{document_id}",
    summary="Download a material file of its task (材料同步流转); every download is recorded in "
    "the licence's audit trail",
    description=_OWN + " Only a file answering a material its permit type asks (another: 403). "
    "Sent as an attachment with `Cache-Control: no-store`.",
    response_class=Response,
    responses={
        200: {
            "description": "The file as uploaded",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in _MEDIA_SUFFIX
            },
        },
        **documented(
            (403, _NO_TASK + "; or the file answers a material its permit does not ask"),
            (404, "No such application, or no such file on it"),
            422,
        ),
    },
)
def get_document(
    department: str,
    application_id: UUID,
    permit_type: str,
    document_id: UUID,
    actor: Reviewer,
    rt: RuntimeDep,
) -> Response:
    _own(actor, department)
    # Recorded first: if the record cannot be written, nothing is disclosed.
    review.read_document(
        rt.licensing,
        application_id=application_id,
        permit_type=permit_type,
        actor=actor,
        document_id=document_id,
    )
    document = rt.licensing.application(application_id).documents[str(document_id)]
    suffix = _MEDIA_SUFFIX[document["media_type"]]
    name = f"{document['material']}-{document_id}.{suffix}"
    return Response(
        rt.documents.get(document_id),
        media_type=document["media_type"],
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


@router.get(
    "/departments/{department}/tasks/{application_id}/{permit_type}/personal-data",
    summary="The personal data its task needs (the catalogue's `personal_data` of the permit "
    "type); every read is recorded in the licence's audit trail",
    description=_OWN + " A permit type that needs none: 403. Sent with `Cache-Control: no-store`.",
    response_model=PersonalData,
    responses=documented(
        (403, _NO_TASK + "; or its permit type needs no personal data"),
        (404, "No such application"),
        422,
    ),
)
def get_personal_data(
    department: str,
    application_id: UUID,
    permit_type: str,
    actor: Reviewer,
    rt: RuntimeDep,
    response: Response,
) -> dict[str, Any]:
    _own(actor, department)
    # Recorded first: if the record cannot be written, nothing is disclosed.
    review.read_personal_data(
        rt.licensing, application_id=application_id, permit_type=permit_type, actor=actor
    )
    application = rt.licensing.application(application_id)
    response.headers["Cache-Control"] = "no-store"
    return personal_data(
        application,
        rt.licensing.registration(application.uscc),
        permit_type=permit_type,
        kinds=rt.catalogue.permit_type(permit_type).personal_data,
    )


@router.post(
    "/applications/{application_id}/tasks/{permit_type}/claim",
    summary="Claim one's own department's open task (办理人); again by its claimant: no change",
    description=_OWN,
    response_model=Application,
    responses=documented(
        404, (409, "The task is decided or ended, or another officer has claimed it (named)"), 422
    ),
)
def claim_task(
    application_id: UUID, permit_type: str, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = review.claim(
        rt.licensing, application_id=application_id, permit_type=permit_type, actor=actor
    )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/tasks/{permit_type}/release",
    summary="Release a task one has claimed",
    description=_OWN,
    response_model=Application,
    responses=documented(
        404, (409, "The task is not claimed, or is claimed by another officer (named)"), 422
    ),
)
def release_task(
    application_id: UUID, permit_type: str, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = review.release(
        rt.licensing, application_id=application_id, permit_type=permit_type, actor=actor
    )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/tasks/{permit_type}/takeover",
    summary="Take over a task another officer of the department has claimed, with a reason "
    "(recorded, with whose claim it was)",
    description=_OWN,
    response_model=Application,
    responses=documented(
        404, (409, "The task is decided or ended, unclaimed, or already one's own"), 422
    ),
)
def take_over_task(
    application_id: UUID, permit_type: str, body: Reasoned, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = review.take_over(
        rt.licensing,
        application_id=application_id,
        permit_type=permit_type,
        actor=actor,
        reason=body.reason,
    )
    return answer_with_application(rt, receipt)


@router.get(
    "/departments/{department}/verifications",
    summary="先证后核: permits granted on commitment that the department must still verify",
    description=_OWN,
    response_model=CommitmentsToVerify,
)
def get_verifications(department: str, actor: Reviewer, rt: RuntimeDep) -> dict[str, Any]:
    _own(actor, department)
    permits = rt.view.verifications(department)
    return commitments_to_verify(permits, department=department, today=rt.licensing.today())


def _cursor(text: str | None) -> str | None:
    if text is not None:
        parse_cursor(text)  # ValueError: a 422 naming `after`
    return text


@router.get(
    "/departments/{department}/feed",
    summary="推送 / 双告知: what concerns the department, in log order, from a cursor",
    description=_OWN
    + " New tasks (and 直接取消审批 items it is informed of), supplement requests, resumed "
    "rounds, joint inspections, decisions and ended tasks of its own; registrations, changes "
    "(变更), suspensions, deregistration notices, refusals and exits (注销, 吊销, 撤销登记) of "
    "every business that holds or sought one of its permits. Entries never change; "
    "`cursor` resumes exactly after the last one read. The same entries are pushed to the "
    "department's webhook, if it has one (README: Webhooks).",
    response_model=DepartmentFeed,
    responses=documented((404, "No such department"), 422),
)
def get_feed(
    department: str,
    actor: Reviewer,
    rt: RuntimeDep,
    after: Annotated[
        str | None,
        Query(description="the `cursor` of the last entry read; absent: from the first"),
        AfterValidator(_cursor),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    _own(actor, department)
    rt.catalogue.department(department)
    rows = rt.view.feed(department, after=after, limit=limit)
    return department_feed(rows, department=department, after=after, limit=limit)


@router.post(
    "/applications/{application_id}/tasks/{permit_type}/decision",
    summary="Approve (number, validity) or refuse (reason, legal basis) one's own task",
    description=_OWN,
    response_model=Application,
    responses=documented(404, (409, _STATE + _CLAIMED), 422),
)
def decide_task(
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
    description=_OWN,
    response_model=Application,
    responses=documented(404, (409, _STATE + _CLAIMED), 422),
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
    description=_OWN,
    response_model=Application,
    responses=documented(
        404, (409, "Not on the fast track, or none of its tasks awaits a decision"), 422
    ),
)
def decide_jointly(application_id: UUID, actor: Reviewer, rt: RuntimeDep) -> dict[str, Any]:
    receipt = review.approve_jointly(rt.licensing, application_id=application_id, actor=actor)
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/tasks/{permit_type}/inspection-finding",
    summary="Record one's own finding at the joint inspection",
    description=_OWN,
    response_model=Application,
    responses=documented(
        404,
        (409, "Not part of a scheduled joint inspection, or recorded already" + _CLAIMED),
        422,
    ),
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
    summary="Suspend one's own permit",
    description=_OWN,
    response_model=Licence,
    responses=documented(404, (409, _PERMIT_STATE), 422),
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
    summary="Resume one's own permit",
    description=_OWN,
    response_model=Licence,
    responses=documented(404, (409, _PERMIT_STATE), 422),
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
    summary="Revoke one's own permit (吊销)",
    description=_OWN,
    response_model=Licence,
    responses=documented(404, (409, _PERMIT_STATE), 422),
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
    summary="Cancel one's own permit (注销)",
    description=_OWN,
    response_model=Licence,
    responses=documented(404, (409, _PERMIT_STATE), 422),
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
    summary="先证后核: confirm a commitment, order rectification (整改中), or find it false (撤销)",
    description=_OWN,
    response_model=Licence,
    responses=documented(404, (409, _PERMIT_STATE), 422),
)
def verify_commitment(
    uscc: str, permit_type: str, body: VerificationIn, actor: Reviewer, rt: RuntimeDep
) -> dict[str, Any]:
    if isinstance(body, ConfirmedIn):
        receipt = review.confirm_commitment(
            rt.licensing, uscc=uscc, permit_type=permit_type, actor=actor
        )
    elif isinstance(body, DefectsIn):
        receipt = review.order_rectification(
            rt.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor,
            findings=body.findings,
            deadline=body.deadline,
        )
    else:
        receipt = review.commitment_found_false(
            rt.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor,
            findings=body.findings,
            legal_basis=body.legal_basis,
        )
    return answer_with_licence(rt, receipt)


@router.post(
    "/licences/{uscc}/permits/{permit_type}/rectification",
    summary="Close a rectification: rectified (有效) or failed (不合格)",
    description=_OWN,
    response_model=Licence,
    responses=documented(404, (409, _PERMIT_STATE), 422),
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
            passed=isinstance(body, RectifiedIn),
            reason=body.reason,
            legal_basis=None if isinstance(body, RectifiedIn) else body.legal_basis,
        ),
    )
