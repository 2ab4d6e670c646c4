"""What anyone may read: the live licence, its QR, the scanned verification page and the JWKS."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from api.answers import live_licence, public_licence
from api.auth import RuntimeDep
from api.page import LIVE, SECURITY, Lang, beijing, page
from api.problems import documented
from api.responses import Jwks, LiveLicence, PastLicence, SnapshotAnswer, StatusAnswer
from api.throttle import LIMITED, THROTTLED
from domain.china import CHINA, day_in_china, today_in_china
from domain.errors import InvalidParam, NotFound, ValidationFailed
from domain.registration import CopyState, copy_state
from domain.uscc import validate_uscc
from licensing.metrics import SCANS
from licensing.qr import qr_png, qr_svg
from licensing.runtime import Runtime
from licensing.signing import KeyRevoked, Pointer, TokenInvalid, read_pointer, signed_status
from licensing.snapshots import Snapshot, SnapshotExpired, read_snapshot
from projections.history import licence_as_of
from projections.views import present_licence, scan_page, status_document

router = APIRouter(tags=["public"])
BEIJING = CHINA

NO_STORE = {"Cache-Control": "no-store"}


def _code(uscc: str) -> str:
    try:
        return validate_uscc(uscc)
    except ValidationFailed as error:
        raise HTTPException(404, f"no licence {uscc!r}: {error}") from None


def load_licence(rt: Runtime, uscc: str) -> dict[str, Any]:
    code = _code(uscc)
    row = live_licence(rt, code)
    if row is None:
        msg = f"no licence with USCC {code}"
        raise NotFound(msg)
    return row


def _moment(as_of: str) -> datetime:
    """A date means the close of that day in Beijing (or now, for today); an instant is itself."""
    try:
        if len(as_of) == len("2026-11-17"):
            day = date.fromisoformat(as_of)
            if day > today_in_china():
                raise ValidationFailed([InvalidParam("as_of", "is in the future")])
            day_end = datetime.combine(day, time.max, tzinfo=BEIJING)
            return min(day_end, datetime.now(tz=BEIJING))
        moment = datetime.fromisoformat(as_of)
    except ValueError:
        problem = "must be an ISO 8601 date (2026-11-17) or instant (2026-11-17T09:00:00+08:00)"
        raise ValidationFailed([InvalidParam("as_of", problem)]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


# The public read path answers with a ready response (FastAPI does not validate it again):
# its models document the body, and the contract tests check real answers against them.
_TAG = '`"v"` and the licence version: send it back in If-None-Match'
_ETAG = {"description": _TAG, "schema": {"type": "string"}}
_LICENCE_HEADERS = {
    "ETag": {"description": f"{_TAG} (the live licence only)", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "`no-store` live; `public, max-age=60` as of a past instant",
        "schema": {"type": "string"},
    },
}


@router.get(
    "/api/v1/licences/{uscc}",
    summary="The live licence with every permit, or as of a past instant",
    description="Live: with links to its QR code and scan page. With `as_of`: the licence "
    "as it stood then, replayed from the events, with `requested_as_of`.",
    response_model=LiveLicence | PastLicence,
    dependencies=LIMITED,
    responses={
        200: {"description": "The licence", "headers": _LICENCE_HEADERS},
        **documented((404, "No licence with this USCC (or not a valid USCC)"), 422, THROTTLED),
    },
)
def get_licence(
    uscc: str,
    rt: RuntimeDep,
    as_of: Annotated[
        str | None,
        Query(
            description="ISO 8601 instant (without an offset read as Beijing time, UTC+8), or a "
            "date: the licence at the close of that day in Beijing (so far, for today)",
            examples=["2026-11-17", "2026-11-17T09:00:00+08:00"],
        ),
    ] = None,
) -> JSONResponse:
    if as_of is not None:
        moment = _moment(as_of)
        if moment > datetime.now(tz=BEIJING) + timedelta(seconds=5):
            raise ValidationFailed([InvalidParam("as_of", "is in the future")])
        code = _code(uscc)
        past = licence_as_of(rt.app, code, moment)
        body = present_licence(past, names=rt.catalogue, today=day_in_china(moment))
        body["requested_as_of"] = moment.isoformat()
        body["links"] = {"live": f"/api/v1/licences/{code}"}
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})
    row = load_licence(rt, uscc)
    body = public_licence(rt, row)
    body["links"] = {
        "self": f"/api/v1/licences/{row['uscc']}",
        "qr_png": f"/api/v1/licences/{row['uscc']}/qr.png",
        "qr_svg": f"/api/v1/licences/{row['uscc']}/qr.svg",
        "verification": rt.verification_url(row["uscc"], row["print_version"]),
    }
    return JSONResponse(body, headers={**NO_STORE, "ETag": f'"v{row["version"]}"'})


class QrFormat(StrEnum):
    PNG = "png"
    SVG = "svg"


_QR = {QrFormat.PNG: (qr_png, "image/png"), QrFormat.SVG: (qr_svg, "image/svg+xml")}


@router.get(
    "/api/v1/licences/{uscc}/qr.{fmt}",
    summary="The licence's QR code (PNG or SVG): a signed pointer to the live status page",
    response_class=Response,
    dependencies=LIMITED,
    responses={
        200: {
            "description": "The QR code: `qr.png` a PNG image, `qr.svg` an SVG document",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/svg+xml": {"schema": {"type": "string"}},
            },
        },
        **documented(
            (404, "No licence with this USCC, or a format other than png or svg"), THROTTLED
        ),
    },
)
def get_qr(uscc: str, fmt: QrFormat, rt: RuntimeDep) -> Response:
    row = load_licence(rt, uscc)
    render, media_type = _QR[fmt]
    url = rt.verification_url(row["uscc"], row["print_version"])
    return Response(render(url), media_type=media_type, headers=NO_STORE)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if "application/json" not in accept:
        return False
    return "text/html" not in accept or accept.index("application/json") < accept.index("text/html")


class _Unshown(Exception):
    """A scanned code we will not show, and why: for machines and for people."""

    def __init__(
        self,
        *,
        status_code: int,
        detail: str,
        reason: str,
        verdict: str,
        template: str = "refused.html",
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.verdict = verdict  # as /metrics counts it
        self.status_code = status_code
        self.detail = detail
        self.reason = reason
        self.template = template
        self.context = context or {}


def _refused(rt: Runtime, error: TokenInvalid) -> _Unshown:
    """A code refused: forged, tampered, of another kind, or signed with a revoked key."""
    issuer = rt.settings.issuer
    if isinstance(error, KeyRevoked):
        detail = f"this code was signed with a key {issuer} has revoked: {error}"
        return _Unshown(
            status_code=400,
            detail=detail,
            reason=str(error),
            verdict="revoked_key",
            context={"revoked": error.why},
        )
    if isinstance(error, SnapshotExpired):
        detail = f"this snapshot code {error}: the holder should show a fresh one"
        moment = beijing(datetime.fromtimestamp(error.expired_at, tz=BEIJING))
        return _Unshown(
            status_code=400,
            detail=detail,
            reason=str(error),
            verdict="expired",
            context={"expired_at": moment},
        )
    detail = f"this code was not issued by {issuer}: {error}"
    return _Unshown(status_code=400, detail=detail, reason=str(error), verdict="refused")


def _live_row(rt: Runtime, uscc: str) -> dict[str, Any]:
    row = live_licence(rt, uscc)
    if row is None:
        detail = f"no licence with USCC {uscc}"
        raise _Unshown(
            status_code=404,
            detail=detail,
            reason="licence not found",
            verdict="not_found",
            context={"not_found": True},
        )
    return row


def _scanned(rt: Runtime, token: str) -> tuple[Pointer, dict[str, Any], CopyState]:
    """What a scanned code points to: its pointer, and the live licence's row. A copy
    declared void shows no status at all; a print version never issued is refused."""
    try:
        pointer = read_pointer(rt.keys, token, issuer=rt.settings.issuer)
    except TokenInvalid as error:
        raise _refused(rt, error) from None
    row = _live_row(rt, pointer.uscc)
    state = copy_state(
        pointer.print_version, current=row["print_version"], void_below=row["void_below"]
    )
    if state is CopyState.UNKNOWN:
        detail = f"print {pointer.print_version} of licence {pointer.uscc} was never issued"
        raise _Unshown(
            status_code=400, detail=detail, reason="unknown print version", verdict="unknown"
        )
    if state is CopyState.VOID:
        detail = (
            f"this printed copy (print {pointer.print_version}) of licence {pointer.uscc} is void:"
            f" it was declared void when print {row['void_below']} was issued, and proves nothing"
        )
        context = {"name": row["name"], "uscc": row["uscc"], "print_version": pointer.print_version}
        raise _Unshown(
            status_code=410,
            detail=detail,
            reason="void",
            verdict="void",
            template="void.html",
            context=context,
        )
    return pointer, row, state


def _unshown_answer(
    request: Request, unshown: _Unshown, *, wants_json: bool, lang: Lang
) -> Response:
    if wants_json:  # a problem document
        raise HTTPException(unshown.status_code, unshown.detail, headers=SECURITY) from None
    context = {"reason": unshown.reason, **unshown.context}
    return page(request, unshown.template, context, lang=lang, status_code=unshown.status_code)


def _etag(licence: dict[str, Any]) -> str:
    """The scan's entity tag: the licence version, and the day in China — a permit whose
    validity ends shows expired from the next day on with no event, so the version alone
    would keep a stale verdict valid."""
    return f'"v{licence["version"]}-{today_in_china().isoformat()}"'


def _signed_answer(rt: Runtime, licence: dict[str, Any], print_version: int) -> dict[str, Any]:
    doc = status_document(licence, print_version=print_version)
    jws, claims = signed_status(rt.keys, doc, issuer=rt.settings.issuer, subject=licence["uscc"])
    return {"jws": jws, "doc": claims}


LangQuery = Annotated[
    Lang,
    Query(description="the page's language: `zh` (default) or `en`; the page links to the other"),
]
_PAGE_HEADERS = {
    "ETag": {
        "description": '`"v<licence version>-<day in China>"`: send it back in If-None-Match',
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "`no-cache`: keep it, but ask again before showing it (a 304 while "
        "the ETag holds)",
        "schema": {"type": "string"},
    },
    "Content-Security-Policy": {
        "description": "no script, the page's own style only, no framing",
        "schema": {"type": "string"},
    },
}


@router.get(
    "/v/{token}",
    summary="Scan target: live status as a mobile page or as signed JSON",
    description="A browser gets the mobile page (HTML, zh-CN by default, `?lang=en` in "
    "English): a verdict first (可以经营 / 部分经营项目不可经营 / 不可经营, with why), the "
    "permits not in force first, the registration with its address, as-of time and version. "
    "`Accept: application/json` gets the status document, signed (verify it with the JWKS), "
    "with the same verdict; refusals then come as problem documents instead of pages. "
    "`HEAD` answers the same status and headers without a body.",
    response_model=StatusAnswer,
    dependencies=LIMITED,
    responses={
        200: {
            "description": "The live status",
            "content": {"text/html": {"schema": {"type": "string"}}},
            "headers": _PAGE_HEADERS,
        },
        **documented(
            (400, "The code is refused: forged, tampered, expired, of another issuer or purpose"),
            (404, "A genuine code, but no licence with its USCC"),
            422,
            page=True,
        ),
        **documented(THROTTLED),
    },
)
def scan(token: str, request: Request, rt: RuntimeDep, lang: LangQuery = Lang.ZH) -> Response:
    wants_json = _wants_json(request)
    try:
        pointer, row, state = _scanned(rt, token)
    except _Unshown as unshown:
        SCANS.labels("pointer", unshown.verdict).inc()
        return _unshown_answer(request, unshown, wants_json=wants_json, lang=lang)
    SCANS.labels("pointer", state.value).inc()
    licence = public_licence(rt, row)
    headers = {**SECURITY, "Cache-Control": LIVE, "ETag": _etag(licence), "Vary": "Accept"}
    if wants_json:
        return JSONResponse(_signed_answer(rt, licence, pointer.print_version), headers=headers)
    context = scan_page(licence, print_version=pointer.print_version)
    context |= {"issuer": rt.settings.issuer, "generated_at": beijing(datetime.now(tz=BEIJING))}
    return page(request, "verify.html", context, lang=lang, headers=headers)


def _headless(answer: Response) -> Response:
    """A GET's answer without its body, for HEAD: same status, same headers."""
    headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-length"}
    bare = Response(status_code=answer.status_code, headers=headers)
    bare.headers["content-length"] = answer.headers.get("content-length", "0")
    return bare


# HEAD is GET without a body (link checkers, caches revalidating): not a separate operation
# in the contract, which documents it on the GET.
@router.head("/v/{token}", include_in_schema=False)
def scan_head(token: str, request: Request, rt: RuntimeDep, lang: LangQuery = Lang.ZH) -> Response:
    try:
        return _headless(scan(token, request, rt, lang))
    except HTTPException as refused:  # a problem document's status and headers
        return Response(status_code=refused.status_code, headers=refused.headers)


def _snapshot_scanned(rt: Runtime, token: str) -> tuple[Snapshot, dict[str, Any]]:
    try:
        snapshot = read_snapshot(rt.keys, token, issuer=rt.settings.issuer)
    except TokenInvalid as error:
        raise _refused(rt, error) from None
    return snapshot, _live_row(rt, snapshot.uscc)


@router.get(
    "/s/{token}",
    summary="Scan target of a snapshot code: the live status, and whether the snapshot is behind",
    description="The QR of the electronic licence (`GET /api/v1/licences/{uscc}/snapshot`) holds "
    "this URL. The snapshot's signature and expiry are checked; the page then shows the live "
    "status (as `/v/{token}` does, `?lang=en` in English), saying so when the snapshot showed "
    "an older version. An expired snapshot is refused with its expiry time. "
    "`Accept: application/json` gives the signed status document and what the snapshot said. "
    "`HEAD` answers the same status and headers without a body.",
    response_model=SnapshotAnswer,
    dependencies=LIMITED,
    responses={
        200: {
            "description": "The live status",
            "content": {"text/html": {"schema": {"type": "string"}}},
            "headers": _PAGE_HEADERS,
        },
        **documented(
            (400, "The code is refused: expired, forged, tampered, of another issuer or kind"),
            (404, "A genuine code, but no licence with its USCC"),
            422,
            page=True,
        ),
        **documented(THROTTLED),
    },
)
def scan_snapshot(
    token: str, request: Request, rt: RuntimeDep, lang: LangQuery = Lang.ZH
) -> Response:
    wants_json = _wants_json(request)
    try:
        snapshot, row = _snapshot_scanned(rt, token)
    except _Unshown as unshown:
        SCANS.labels("snapshot", unshown.verdict).inc()
        return _unshown_answer(request, unshown, wants_json=wants_json, lang=lang)
    licence = public_licence(rt, row)
    checked = {
        "version": snapshot.version,
        "issued_at": datetime.fromtimestamp(snapshot.issued_at, tz=BEIJING).isoformat(),
        "expires_at": datetime.fromtimestamp(snapshot.expires_at, tz=BEIJING).isoformat(),
        "behind": snapshot.version < licence["version"],
    }
    SCANS.labels("snapshot", "behind" if checked["behind"] else "current").inc()
    headers = {**SECURITY, "Cache-Control": LIVE, "ETag": _etag(licence), "Vary": "Accept"}
    if wants_json:
        answer = _signed_answer(rt, licence, licence["print_version"])
        return JSONResponse(answer | {"snapshot": checked}, headers=headers)
    context = scan_page(licence, print_version=licence["print_version"])
    context |= {
        "issuer": rt.settings.issuer,
        "generated_at": beijing(datetime.now(tz=BEIJING)),
        "snapshot": checked | {"issued_at": beijing(checked["issued_at"])},
    }
    return page(request, "verify.html", context, lang=lang, headers=headers)


@router.head("/s/{token}", include_in_schema=False)
def scan_snapshot_head(
    token: str, request: Request, rt: RuntimeDep, lang: LangQuery = Lang.ZH
) -> Response:
    try:
        return _headless(scan_snapshot(token, request, rt, lang))
    except HTTPException as refused:
        return Response(status_code=refused.status_code, headers=refused.headers)


@router.get(
    "/.well-known/jwks.json",
    summary="Public keys that verify our pointers, snapshots and status documents",
    description="Every key in use or retired (printed codes stay verifiable); a revoked key "
    "is left out. Select by `kid`; for a snapshot (COSE), the key whose base64url-decoded "
    "`kid` starts with the snapshot's 8-byte kid (docs/tokens.md).",
    response_model=Jwks,
)
def get_jwks(rt: RuntimeDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return rt.keys.jwks()
