"""The window: themes and their merged forms, submitting a bundle, following it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response

from api.answers import answer_with_application
from api.auth import Clerk, RuntimeDep, WindowReader
from api.problems import documented
from api.responses import (
    Application,
    ApplicationList,
    ApplicationStatus,
    ScopeSuggestions,
    SupplementNotice,
    Theme,
    ThemeList,
)
from api.schemas import (
    AcceptanceIn,
    AcceptIn,
    Empty,
    JointInspectionIn,
    ResubmissionIn,
    ScopeIn,
    SubmissionIn,
    WithdrawalIn,
)
from domain.actor import Role
from domain.errors import InvalidParam, ValidationFailed
from domain.text import clean
from licensing import window
from licensing.catalogue import Catalogue
from licensing.scope import for_theme, scope_map
from licensing.unit_of_work import entity_tag
from licensing.window import application_at_window
from projections.applications import ANYWHERE
from projections.views import application_list, application_view, supplement_notice

router = APIRouter(prefix="/api/v1", tags=["window"])


def _theme_summary(catalogue: Catalogue, code: str) -> dict[str, Any]:
    return {**catalogue.theme_summary(code), "links": {"self": f"/api/v1/themes/{code}"}}


@router.get("/themes", summary="Themed items (主题事项)", response_model=ThemeList)
def list_themes(rt: RuntimeDep) -> dict[str, Any]:
    return {
        "catalogue_version": rt.catalogue.version,
        "themes": [_theme_summary(rt.catalogue, code) for code in rt.catalogue.themes],
    }


@router.get(
    "/themes/{code}",
    summary="A theme, its permits and its merged form (一表登记)",
    description="Anyone. With `scope`, also what that business scope points to (明确告知): "
    "which of the permits it probably needs this theme includes, which it does not.",
    response_model=Theme,
    responses=documented(404, 422),
)
def get_theme(
    code: str,
    rt: RuntimeDep,
    scope: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=2000,
            description="a business scope (经营范围): say which of its permits this theme "
            "includes and which it does not (明确告知)",
        ),
    ] = None,
) -> dict[str, Any]:
    theme = {**_theme_summary(rt.catalogue, code), **rt.catalogue.theme_outline(code)}
    if scope is not None:
        try:
            scope = clean(scope, multiline=True, max_length=2000)
        except ValueError as error:
            raise ValidationFailed([InvalidParam("scope", str(error))]) from None
        suggested = scope_map(rt.catalogue).suggest(scope)
        theme["scope"] = {"business_scope": scope, **for_theme(suggested, rt.catalogue, code)}
    return theme


@router.post(
    "/scope/permits",
    summary="明确告知: the permits and themes a business scope (经营范围) probably needs",
    description="Anyone (catalogue data; the window asks it before choosing a theme). Each "
    "permit and theme comes with the scope terms that point to it "
    "(`licensing/data/scope_terms.yaml`); the scope's items that point to nothing are listed "
    "apart. A suggestion: the theme's situation answers decide which permits apply.",
    response_model=ScopeSuggestions,
    responses=documented(422),
)
def suggest_permits(body: ScopeIn, rt: RuntimeDep) -> dict[str, Any]:
    return scope_map(rt.catalogue).suggest(body.business_scope)


@router.post(
    "/applications",
    status_code=201,
    summary="Submit a themed bundle (one window, one form)",
    description="Answers with the application and its `Location`. With `accept_now: false` it "
    "is only received (收件): nothing is dispatched until its acceptance.",
    response_model=Application,
    responses=documented(
        (
            409,
            "The business is on a credit list that bars the commitment route, 容缺 or the "
            "fast track (the list and the date are named), or it cannot apply now",
        ),
        422,
    ),
)
def submit_application(
    body: SubmissionIn, actor: Clerk, rt: RuntimeDep, response: Response
) -> dict[str, Any]:
    receipt = window.submit(
        rt.licensing,
        theme=body.theme,
        business=body.business.details(),
        applicant=body.applicant.model_dump(),
        answers=body.answers,
        situation=body.situation,
        commitments={code: letter.payload() for code, letter in body.commitments.items()},
        fast_track=body.fast_track.payload() if body.fast_track else None,
        deficiencies=[d.model_dump() for d in body.deficiencies],
        actor=actor,
        accept_now=body.accept_now,
    )
    rt.settle(receipt.position)
    response.headers["Location"] = f"/api/v1/applications/{receipt.id}"
    return application_view(rt.licensing.application(receipt.id))


_REACH = (
    "A clerk reaches only the applications filed at its own district's window (the "
    "`district` of its token); an administrator every district's. "
)
_ELSEWHERE = (
    "No such application — or another district's: a clerk is not told that it exists "
    "elsewhere, as its list does not show it"
)


@router.get(
    "/applications",
    summary="The window's applications, newest first, in pages and filtered",
    description=_REACH + "Filters combine; `district` is for an administrator (a clerk may "
    "name only its own). Paging is by `limit` and `offset`; `total` counts every "
    "application the filters match. Read from the read model: a submission appears once "
    "projected.",
    response_model=ApplicationList,
    responses=documented((403, "A clerk asked for another district's applications"), 422),
)
def list_applications(
    actor: WindowReader,
    rt: RuntimeDep,
    uscc: Annotated[str | None, Query(max_length=32, description="统一社会信用代码")] = None,
    status: Annotated[
        list[ApplicationStatus] | None, Query(description="any of these (repeat the parameter)")
    ] = None,
    district: Annotated[str | None, Query(max_length=64)] = None,
    theme: Annotated[str | None, Query(max_length=64)] = None,
    received_from: Annotated[
        date | None, Query(description="received (收件) on or after this day, in China")
    ] = None,
    received_to: Annotated[
        date | None, Query(description="received on or before this day, in China")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    scope: str | object | None = district if district is not None else ANYWHERE
    if actor.role is Role.CLERK:
        if district is not None and district != actor.district:
            mine = actor.district or "none"
            raise HTTPException(403, f"a clerk sees only its own district's applications ({mine})")
        scope = actor.district
    rows, total = rt.view.applications(
        district=scope,
        uscc=uscc.strip().upper() if uscc else None,
        statuses=tuple(status) if status else None,
        theme=theme,
        received_from=received_from.isoformat() if received_from else None,
        received_to=received_to.isoformat() if received_to else None,
        limit=limit,
        offset=offset,
    )
    return application_list(rows, total=total, limit=limit, offset=offset)


@router.get(
    "/applications/{application_id}",
    summary="An application with each task's state",
    description=_REACH,
    response_model=Application,
    responses=documented((404, _ELSEWHERE), 422),
)
def get_application(
    application_id: UUID, actor: WindowReader, rt: RuntimeDep, response: Response
) -> dict[str, Any]:
    application = application_at_window(rt.licensing, application_id, actor)
    response.headers["ETag"] = entity_tag(application.version)  # for If-Match on its acts
    return application_view(application)


@router.get(
    "/applications/{application_id}/supplement-notice",
    summary="一次性告知: every department's open request, as one notice to the applicant",
    description=_REACH,
    response_model=SupplementNotice,
    responses=documented((404, _ELSEWHERE), 422),
)
def get_supplement_notice(
    application_id: UUID, actor: WindowReader, rt: RuntimeDep
) -> dict[str, Any]:
    return supplement_notice(application_at_window(rt.licensing, application_id, actor))


@router.post(
    "/applications/{application_id}/resubmission",
    summary="One resubmission answers the notice and restarts every paused clock",
    response_model=Application,
    responses=documented(404, (409, "No supplement request is open"), 422),
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
    response_model=Application,
    responses=documented(
        404,
        (
            409,
            "Its acceptance is decided already, a promised 容缺 date has passed, a signed "
            "commitment letter was republished meanwhile, or a credit listing bars what it asks",
        ),
        422,
    ),
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


@router.post(
    "/applications/{application_id}/withdrawal",
    summary="Withdraw before decision",
    response_model=Application,
    responses=documented(404, (409, "The application is decided or ended already"), 422),
)
def withdraw_application(
    application_id: UUID, body: WithdrawalIn, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = window.withdraw(
        rt.licensing, application_id=application_id, actor=actor, reason=body.reason
    )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/joint-inspection",
    summary="联合勘查: one site visit for every task that needs one",
    response_model=Application,
    responses=documented(
        404, (409, "Already scheduled, or fewer than two open tasks inspect the site"), 422
    ),
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
    response_model=Application,
    responses=documented(404, (409, "Supplied already, or the application lapsed meanwhile"), 422),
)
def supply_material(
    application_id: UUID, material: str, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = window.supply_material(
        rt.licensing, application_id=application_id, actor=actor, material=material
    )
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/progress-code",
    summary="办件查询: send the applicant a new progress code",
    description="The applicant lost the code, or locked it with wrong tries: a new code goes to "
    "the applicant's mobile; the code before stops working and the lock ends. The code is "
    "never in an answer, the log or the store (only its hash). " + _REACH,
    response_model=Application,
    responses=documented((404, _ELSEWHERE), (409, "Not accepted (yet): no code to send"), 422),
)
def reissue_progress_code(
    application_id: UUID, body: Empty, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = window.reissue_progress_code(rt.licensing, application_id=application_id, actor=actor)
    return answer_with_application(rt, receipt)
