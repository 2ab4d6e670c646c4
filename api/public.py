"""What anyone may read: the live licence, its QR, the scanned verification page and the JWKS."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.templating import Jinja2Templates

from api.auth import RuntimeDep
from domain.china import CHINA, day_in_china, today_in_china
from domain.credit import ACTIVE, LISTS, OBJECTED
from domain.errors import InvalidParam, NotFound, ValidationFailed
from domain.registration import ENTITY_TYPES
from domain.status import PermitStatus, RegistrationStatus
from domain.uscc import validate_uscc
from licensing.qr import qr_png, qr_svg
from licensing.runtime import Runtime
from licensing.signing import TokenInvalid, read_pointer, sign_status
from projections.history import licence_as_of

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
BEIJING = CHINA


def beijing(moment: str | datetime) -> str:
    """Times on the public page are read in China: show them in Beijing time, to the second."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


templates.env.filters["beijing"] = beijing

# Worst first: the banner takes the colour of the worst permit.
_SEVERITY = [
    PermitStatus.INVALID,
    PermitStatus.NON_COMPLIANT,
    PermitStatus.UNDER_RECTIFICATION,
    PermitStatus.UNDER_VERIFICATION,
    PermitStatus.VALID,
]
NO_STORE = {"Cache-Control": "no-store"}


def _status(status: PermitStatus | RegistrationStatus) -> dict[str, str]:
    return {"code": status.value, "word": status.word, "english": status.english}


# A listing under objection still applies until the credit office decides (domain/credit.py).
_LISTING_STATES = {
    ACTIVE: ("列入中", "listed"),
    OBJECTED: ("异议审核中", "objection under review; the listing applies meanwhile"),
}


def present_credit_listing(row: dict[str, Any]) -> dict[str, Any]:
    """One listing as the public sees it (公示): which list, since when, why, on what basis."""
    list_zh, list_en = LISTS.get(row["list_code"], (row["list_code"], row["list_code"]))
    word, english = _LISTING_STATES[row["state"]]
    return {
        "listing_id": row["listing_id"],
        "list": row["list_code"],
        "list_zh": list_zh,
        "list_en": list_en,
        "listed_on": row["listed_on"],
        "grounds": row["grounds"],
        "legal_basis": row["legal_basis"],
        "state": {"code": row["state"], "word": word, "english": english},
    }


def present_licence(
    rt: Runtime, row: dict[str, Any], *, today: date | None = None
) -> dict[str, Any]:
    """The public licence: registration, permits and credit listings, no personal data and
    no staff identities, expiry applied on read."""
    today = today or today_in_china()
    catalogue = rt.catalogue
    permits = []
    for p in row["permits"]:
        status, reason = PermitStatus(p["status"]), p["reason"]
        if (
            status is PermitStatus.VALID
            and p["valid_until"]
            and p["valid_until"] < today.isoformat()
        ):
            status, reason = PermitStatus.INVALID, f"有效期届满 expired on {p['valid_until']}"
        permit_type = catalogue.permit_types.get(p["permit_type"])
        department = catalogue.departments.get(p["department"])
        permits.append(
            {
                "permit_type": p["permit_type"],
                "name_zh": permit_type.name_zh if permit_type else p["permit_type"],
                "name_en": permit_type.name_en if permit_type else p["permit_type"],
                "department": p["department"],
                "department_name_zh": department.name_zh if department else p["department"],
                "department_name_en": department.name_en if department else p["department"],
                "status": _status(status),
                "reason": reason,
                "legal_basis": p["legal_basis"],
                "permit_number": p["permit_number"],
                "valid_from": p["valid_from"],
                "valid_until": p["valid_until"],
                "version": p["version"],
                "updated_at": p["updated_at"],
            }
        )
    entity = ENTITY_TYPES.get(row["entity_type"], (row["entity_type"], row["entity_type"]))
    return {
        "uscc": row["uscc"],
        "name": row["name"],
        "entity_type": row["entity_type"],
        "entity_type_zh": entity[0],
        "domicile": row["domicile"],
        "business_scope": row["business_scope"],
        "registered_capital": row["registered_capital"],
        "status": _status(RegistrationStatus(row["status"])),
        "print_version": row["print_version"],
        "version": row["version"],
        "as_of": row["updated_at"],
        "permits": permits,
        "credit_listings": [present_credit_listing(x) for x in row["credit_listings"]],
    }


def _code(uscc: str) -> str:
    try:
        return validate_uscc(uscc)
    except ValidationFailed as error:
        raise HTTPException(404, f"no licence {uscc!r}: {error}") from None


def _load(rt: Runtime, uscc: str) -> dict[str, Any]:
    code = _code(uscc)
    row = rt.view.licence(code)
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


@router.get(
    "/api/v1/licences/{uscc}", summary="The live licence with every permit, or as of a past instant"
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
        body = present_licence(rt, licence_as_of(rt.app, code, moment), today=day_in_china(moment))
        body["requested_as_of"] = moment.isoformat()
        body["links"] = {"live": f"/api/v1/licences/{code}"}
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})
    row = _load(rt, uscc)
    body = present_licence(rt, row)
    body["links"] = {
        "self": f"/api/v1/licences/{row['uscc']}",
        "qr_png": f"/api/v1/licences/{row['uscc']}/qr.png",
        "qr_svg": f"/api/v1/licences/{row['uscc']}/qr.svg",
        "verification": rt.verification_url(row["uscc"], row["print_version"]),
    }
    return JSONResponse(body, headers={**NO_STORE, "ETag": f'"v{row["version"]}"'})


@router.get(
    "/api/v1/licences/{uscc}/qr.{fmt}",
    summary="The licence's QR code (PNG or SVG): a signed pointer to the live status page",
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
def get_qr(uscc: str, fmt: str, rt: RuntimeDep) -> Response:
    if fmt not in ("png", "svg"):
        raise HTTPException(404, f"no QR format {fmt!r}; use png or svg")
    row = _load(rt, uscc)
    url = rt.verification_url(row["uscc"], row["print_version"])
    if fmt == "png":
        return Response(qr_png(url), media_type="image/png", headers=NO_STORE)
    return Response(qr_svg(url), media_type="image/svg+xml", headers=NO_STORE)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if "application/json" not in accept:
        return False
    return "text/html" not in accept or accept.index("application/json") < accept.index("text/html")


@router.get("/v/{token}", summary="Scan target: live status as a mobile page or as signed JSON")
def verify(token: str, request: Request, rt: RuntimeDep) -> Response:
    wants_json = _wants_json(request)
    try:
        pointer = read_pointer(rt.keys, token, issuer=rt.settings.issuer)
    except TokenInvalid as error:
        if wants_json:
            raise HTTPException(
                400, f"this code was not issued by {rt.settings.issuer}: {error}"
            ) from None
        return templates.TemplateResponse(
            request, "refused.html", {"reason": str(error)}, status_code=400, headers=NO_STORE
        )
    row = rt.view.licence(pointer.uscc)
    if row is None:
        if wants_json:
            raise HTTPException(404, f"no licence with USCC {pointer.uscc}")
        return templates.TemplateResponse(
            request,
            "refused.html",
            {"reason": "licence not found"},
            status_code=404,
            headers=NO_STORE,
        )
    licence = present_licence(rt, row)
    superseded = pointer.print_version < row["print_version"]
    headers = {**NO_STORE, "ETag": f'"v{row["version"]}"', "Vary": "Accept"}
    if wants_json:
        doc = {
            "v": licence["version"],
            "asof": licence["as_of"],
            "qv": pointer.print_version,
            "superseded": superseded,
            "lic": {"name": licence["name"], "status": licence["status"]["code"]},
            "permits": [
                {
                    "type": p["permit_type"],
                    "no": p["permit_number"],
                    "status": p["status"]["code"],
                    "valid_to": p["valid_until"],
                    "changed_at": p["updated_at"],
                }
                for p in licence["permits"]
            ],
            "credit": [
                {
                    "list": c["list"],
                    "list_zh": c["list_zh"],
                    "list_en": c["list_en"],
                    "listed_on": c["listed_on"],
                    "grounds": c["grounds"],
                    "legal_basis": c["legal_basis"],
                    "state": c["state"]["code"],
                }
                for c in licence["credit_listings"]
            ],
        }
        jws = sign_status(rt.keys, doc, issuer=rt.settings.issuer, subject=licence["uscc"])
        return JSONResponse({"jws": jws, "doc": doc}, headers=headers)
    worst = min(
        (PermitStatus(p["status"]["code"]) for p in licence["permits"]),
        key=_SEVERITY.index,
        default=PermitStatus.UNDER_VERIFICATION,
    )
    operating = all(p["status"]["code"] == "valid" for p in licence["permits"]) and (
        licence["status"]["code"] == "active"
    )
    return templates.TemplateResponse(
        request,
        "verify.html",
        {
            "licence": licence,
            "worst": worst.value,
            "operating": operating,
            "superseded": superseded,
            "issuer": rt.settings.issuer,
            "generated_at": beijing(datetime.now(tz=BEIJING)),
        },
        headers=headers,
    )


@router.get(
    "/.well-known/jwks.json", summary="Public keys that verify our pointers and status documents"
)
def jwks(rt: RuntimeDep) -> JSONResponse:
    return JSONResponse(
        rt.keys.jwks(),
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )
