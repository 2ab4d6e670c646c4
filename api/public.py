"""What anyone may read: the live licence, its QR, the scanned verification page and the JWKS."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.templating import Jinja2Templates

from api.answers import live_licence, public_licence
from api.auth import RuntimeDep
from api.problems import documented
from api.responses import Jwks, LiveLicence, PastLicence, StatusAnswer
from domain.china import CHINA, day_in_china, today_in_china
from domain.errors import InvalidParam, NotFound, ValidationFailed
from domain.uscc import validate_uscc
from licensing.qr import qr_png, qr_svg
from licensing.runtime import Runtime
from licensing.signing import Pointer, TokenInvalid, read_pointer, sign_status
from projections.history import licence_as_of
from projections.views import present_licence, scan_page, status_document

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
BEIJING = CHINA


def beijing(moment: str | datetime) -> str:
    """Times on the public page are read in China: show them in Beijing time, to the second."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


templates.env.filters["beijing"] = beijing

NO_STORE = {"Cache-Control": "no-store"}


def _code(uscc: str) -> str:
    try:
        return validate_uscc(uscc)
    except ValidationFailed as error:
        raise HTTPException(404, f"no licence {uscc!r}: {error}") from None


def _load(rt: Runtime, uscc: str) -> dict[str, Any]:
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
    responses={
        200: {"description": "The licence", "headers": _LICENCE_HEADERS},
        **documented((404, "No licence with this USCC (or not a valid USCC)"), 422),
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
    row = _load(rt, uscc)
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
    responses={
        200: {
            "description": "The QR code: `qr.png` a PNG image, `qr.svg` an SVG document",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/svg+xml": {"schema": {"type": "string"}},
            },
        },
        **documented((404, "No licence with this USCC, or a format other than png or svg")),
    },
)
def get_qr(uscc: str, fmt: QrFormat, rt: RuntimeDep) -> Response:
    row = _load(rt, uscc)
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

    def __init__(self, *, status_code: int, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.reason = reason


def _scanned(rt: Runtime, token: str) -> tuple[Pointer, dict[str, Any]]:
    """What a scanned code points to: its pointer, and the live licence's row."""
    issuer = rt.settings.issuer
    try:
        pointer = read_pointer(rt.keys, token, issuer=issuer)
    except TokenInvalid as error:
        detail = f"this code was not issued by {issuer}: {error}"
        raise _Unshown(status_code=400, detail=detail, reason=str(error)) from None
    row = live_licence(rt, pointer.uscc)
    if row is None:
        detail = f"no licence with USCC {pointer.uscc}"
        raise _Unshown(status_code=404, detail=detail, reason="licence not found")
    return pointer, row


@router.get(
    "/v/{token}",
    summary="Scan target: live status as a mobile page or as signed JSON",
    description="A browser gets the mobile page (HTML, zh-CN first). `Accept: application/json` "
    "gets the status document and the same signed (verify it with the JWKS); refusals then "
    "come as problem documents instead of pages.",
    response_model=StatusAnswer,
    responses={
        200: {
            "description": "The live status",
            "content": {"text/html": {"schema": {"type": "string"}}},
            "headers": {"ETag": _ETAG},
        },
        **documented(
            (400, "The code is refused: forged, tampered, expired, of another issuer or purpose"),
            (404, "A genuine code, but no licence with its USCC"),
            page=True,
        ),
    },
)
def scan(token: str, request: Request, rt: RuntimeDep) -> Response:
    wants_json = _wants_json(request)
    try:
        pointer, row = _scanned(rt, token)
    except _Unshown as unshown:
        if wants_json:  # a problem document
            raise HTTPException(unshown.status_code, unshown.detail) from None
        context = {"reason": unshown.reason}
        return templates.TemplateResponse(
            request, "refused.html", context, status_code=unshown.status_code, headers=NO_STORE
        )
    licence = public_licence(rt, row)
    headers = {**NO_STORE, "ETag": f'"v{row["version"]}"', "Vary": "Accept"}
    if wants_json:
        doc = status_document(licence, print_version=pointer.print_version)
        jws = sign_status(rt.keys, doc, issuer=rt.settings.issuer, subject=licence["uscc"])
        return JSONResponse({"jws": jws, "doc": doc}, headers=headers)
    context = scan_page(licence, print_version=pointer.print_version)
    context |= {"issuer": rt.settings.issuer, "generated_at": beijing(datetime.now(tz=BEIJING))}
    return templates.TemplateResponse(request, "verify.html", context, headers=headers)


@router.get(
    "/.well-known/jwks.json",
    summary="Public keys that verify our pointers and status documents",
    response_model=Jwks,
)
def get_jwks(rt: RuntimeDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return rt.keys.jwks()
