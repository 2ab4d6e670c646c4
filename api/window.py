"""The window: themes and their merged forms, submitting a bundle, following it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Form, HTTPException, Query, Response, UploadFile

from api.answers import answer_with_application
from api.auth import Clerk, RuntimeDep, WindowReader
from api.problems import documented
from api.responses import (
    Application,
    ApplicationList,
    ApplicationMaterials,
    ApplicationStatus,
    Archive,
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
    ReuseIn,
    ScopeIn,
    SubmissionIn,
    WithdrawalIn,
)
from domain.actor import Role
from domain.errors import InvalidParam, ValidationFailed
from domain.text import clean
from domain.uscc import validate_uscc
from licensing import window
from licensing.catalogue import Catalogue
from licensing.documents import DocumentRefused, check_file
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


def parse_situation(catalogue: Catalogue, theme: str, text: str) -> dict[str, Any]:
    """`food_sales:other_food,sells_tobacco:true` as situation answers (booleans for the yes/no
    questions); ValidationFailed naming each malformed pair."""
    questions = {q.code: q for q in catalogue.theme(theme).situations}
    answers: dict[str, Any] = {}
    problems = []
    for pair in filter(None, (part.strip() for part in text.split(","))):
        code, sep, value = (part.strip() for part in pair.partition(":"))
        question = questions.get(code)
        if not sep or not code or not value:
            problems.append(InvalidParam("situation", f"expected question:answer, got {pair!r}"))
        elif question is not None and question.type == "boolean":
            if value not in ("true", "false"):
                reason = f"expected true or false, got {value!r}"
                problems.append(InvalidParam(f"situation.{code}", reason))
            answers[code] = value == "true"
        else:
            answers[code] = value
    if problems:
        raise ValidationFailed(problems)
    return answers


@router.get(
    "/themes/{code}",
    summary="A theme, its permits, its merged form (一表登记) and material list (一套材料)",
    description="Anyone. `?situation=food_sales:other_food,sells_tobacco:true` gives the form "
    "and materials of that situation (every question answered: 422 naming those missing); "
    "without it, a theme whose situation decides some permits shows its mandatory permits' "
    "only, and `depends_on_situation` and `form_note` say so. `?uscc=` gives each material's "
    "files in that business's archive (`on_file`, 一档通办), to reuse by id. With `scope`, also what that business scope points "
    "to (明确告知): which of the permits it probably needs this theme includes, which it does "
    "not.",
    response_model=Theme,
    responses=documented(404, 422),
)
def get_theme(
    code: str,
    rt: RuntimeDep,
    situation: Annotated[
        str | None, Query(max_length=1000, description="answers as question:answer pairs")
    ] = None,
    uscc: Annotated[
        str | None, Query(max_length=18, description="a business whose archive to look in")
    ] = None,
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
    answers = parse_situation(rt.catalogue, code, situation) if situation is not None else None
    outline = rt.catalogue.theme_outline(code, answers)
    if uscc is not None:
        archive = window.archived_documents(rt.licensing, _uscc(uscc))
        for material in outline["materials"]:
            material["on_file"] = [
                {k: d[k] for k in ("document_id", "media_type", "size", "archived_on")}
                for d in archive.get(material["code"], [])
            ]
    theme = {**_theme_summary(rt.catalogue, code), **outline}
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
        reuse=body.reuse,
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
    "/applications/{application_id}/documents",
    status_code=201,
    summary="Attach a material file (申请材料电子件): PDF, JPEG or PNG, checked by its content",
    description="Clerk. Multipart: `material` (the catalogue's material code, one the "
    "application's permits ask) and `file`. The type is read from the content (magic bytes, "
    "and for a PDF its structure: pages, no scripts or embedded files, no stream that inflates "
    "into a compression bomb), never from the name; the size limit is "
    "`LICENSING_DOCUMENT_MAX_BYTES`. The bytes go to the document store; the event records "
    "only id, SHA-256, size, type and material. Once an application holds a file, its "
    "acceptance requires every material its permits need (a 422 names each missing one).",
    response_model=Application,
    responses=documented(
        404,
        (409, "The application is decided, withdrawn or lapsed: it takes no more files"),
        413,
        415,
        (422, "Empty or damaged file, or a material its permits do not ask"),
    ),
)
def attach_document(
    application_id: UUID,
    actor: Clerk,
    rt: RuntimeDep,
    material: Annotated[str, Form(min_length=1, max_length=64)],
    file: UploadFile,
) -> dict[str, Any]:
    limit = rt.settings.document_max_bytes
    data = file.file.read(limit + 1)
    try:
        checked = check_file(data, max_bytes=limit, filename=file.filename)
    except DocumentRefused as refused:
        raise HTTPException(refused.status, refused.reason) from None
    document_id = uuid4()
    rt.documents.put(document_id, data)
    try:
        receipt = window.attach_document(
            rt.licensing,
            application_id=application_id,
            actor=actor,
            material=material,
            document_id=document_id,
            checked=checked,
        )
    except BaseException:
        rt.documents.discard(document_id)  # nothing names it
        raise
    if receipt.replayed:
        rt.documents.discard(document_id)  # the first upload under this key is the one kept
    return answer_with_application(rt, receipt)


@router.post(
    "/applications/{application_id}/reuse",
    summary="一档通办: file documents of the business's archive instead of uploading them again",
    description="Clerk. `document_ids`: files the business's archive holds (accepted with an "
    "earlier application); each must answer a material this application's permits ask.",
    response_model=Application,
    responses=documented(
        404,
        (409, "The application is decided, withdrawn or lapsed, or already holds the file"),
        (422, "A file not in the business's archive, or one answering no material it asks"),
    ),
)
def reuse_documents(
    application_id: UUID, body: ReuseIn, actor: Clerk, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = window.reuse_documents(
        rt.licensing, application_id=application_id, actor=actor, document_ids=body.document_ids
    )
    return answer_with_application(rt, receipt)


@router.get(
    "/archives/{uscc}",
    summary="一档通办: the business's archive of accepted material files",
    description="Clerk. Every file accepted with one of the business's applications, by "
    "material; an application's end removes none.",
    response_model=Archive,
    responses=documented(422),
)
def get_archive(uscc: str, actor: Clerk, rt: RuntimeDep) -> dict[str, Any]:
    code = _uscc(uscc)
    files = window.archived_documents(rt.licensing, code)
    return {"uscc": code, "documents": [d for docs in files.values() for d in docs]}


def _uscc(text: str) -> str:
    try:
        return validate_uscc(text)
    except ValidationFailed as error:
        raise ValidationFailed([InvalidParam("uscc", p.reason) for p in error.problems]) from None


@router.get(
    "/applications/{application_id}/materials",
    summary="The application's materials (申请材料): each once, its standing and its files",
    description="Clerk. Each material its permits need, with the permits asking it and "
    "whether it is documented, promised (容缺), replaced by a signed commitment, missing, or "
    "on paper (an application with no files at all).",
    response_model=ApplicationMaterials,
    responses=documented(404, 422),
)
def get_materials(application_id: UUID, actor: Clerk, rt: RuntimeDep) -> dict[str, Any]:
    application = application_at_window(rt.licensing, application_id, actor)
    permits = window.permits_of(rt.catalogue, application)
    return {
        "application_id": str(application.id),
        "uscc": application.uscc,
        "materials": window.material_standing(rt.catalogue, application, permits),
    }


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
