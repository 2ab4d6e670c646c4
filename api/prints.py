"""What the window prints and hands over: the licence as a PDF, its reprints, and the
electronic licence's snapshot code for the holder's phone."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response

from api.answers import answer_with_licence, public_licence
from api.auth import Printer, RuntimeDep
from api.problems import documented
from api.public import NO_STORE, load_licence
from api.responses import Licence, SnapshotCode
from api.schemas import ReprintIn
from licensing import registrar
from licensing.printing import licence_pdf
from licensing.qr import qr_png, qr_version
from licensing.snapshots import mint_snapshot

router = APIRouter(prefix="/api/v1", tags=["prints and codes"])


@router.get(
    "/licences/{uscc}/licence.pdf",
    summary="The printable licence (证照通营业执照): A4, registration, permits and the QR",
    description="One A4 page: the registration and the permits as the public sees them (no "
    "personal data), and the QR code of the current print version with a caption. Scanning it "
    "shows the live status; a reprint supersedes it.",
    response_class=Response,
    responses={
        200: {
            "description": "The licence as a PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        **documented(404),
    },
)
def get_licence_pdf(uscc: str, actor: Printer, rt: RuntimeDep) -> Response:
    row = load_licence(rt, uscc)
    pdf = licence_pdf(
        public_licence(rt, row),
        url=rt.verification_url(row["uscc"], row["print_version"]),
        issuer=rt.settings.issuer,
        printed_at=datetime.now(tz=UTC),
    )
    disposition = f'inline; filename="licence-{row["uscc"]}-{row["print_version"]}.pdf"'
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**NO_STORE, "Content-Disposition": disposition},
    )


@router.post(
    "/licences/{uscc}/reprint",
    summary="补发/换发: print the licence again; the copies before are superseded (or void)",
    description="Raises the print version: the QR of every earlier copy then shows the live "
    "status under a warning that the copy was replaced. With `void_previous` (a copy reported "
    "lost) the earlier copies are void: scanning one says so and shows no status. Print the "
    "new copy with `licence.pdf`.",
    response_model=Licence,
    responses=documented(
        404, (409, "The business has exited or is not established: nothing to reprint"), 422
    ),
)
def reprint_licence(uscc: str, body: ReprintIn, actor: Printer, rt: RuntimeDep) -> dict[str, Any]:
    return answer_with_licence(
        rt,
        registrar.reprint(
            rt.licensing,
            uscc=load_licence(rt, uscc)["uscc"],
            actor=actor,
            reason=body.reason,
            void_previous=body.void_previous,
        ),
    )


@router.get(
    "/licences/{uscc}/snapshot",
    summary="A snapshot code of the electronic licence, for the holder's phone",
    description="A signed snapshot of the live licence (its version, the registration's and "
    "each permit's status code), valid for a few minutes, as a token, the URL its QR holds "
    "and the QR itself. A verifier checks it offline with the JWKS; a phone camera opens the "
    "URL, which shows the live status and says if the snapshot is behind it. Fetched at the "
    "window for the holder.",
    response_model=SnapshotCode,
    responses=documented(404),
)
def get_snapshot(uscc: str, actor: Printer, rt: RuntimeDep, response: Response) -> dict[str, Any]:
    licence = public_licence(rt, load_licence(rt, uscc))
    now = int(datetime.now(tz=UTC).timestamp())
    ttl = rt.settings.snapshot_ttl_seconds
    token = mint_snapshot(
        rt.keys,
        issuer=rt.settings.issuer,
        uscc=licence["uscc"],
        version=licence["version"],
        registration_status=licence["status"]["code"],
        permits={p["permit_type"]: p["status"]["code"] for p in licence["permits"]},
        ttl=ttl,
        now=now,
    )
    url = rt.snapshot_url(token)
    response.headers.update(NO_STORE)
    return {
        "uscc": licence["uscc"],
        "version": licence["version"],
        "token": token,
        "url": url,
        "qr_png": base64.b64encode(qr_png(url)).decode("ascii"),
        "qr_version": qr_version(url),
        "issued_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "expires_at": datetime.fromtimestamp(now + ttl, tz=UTC).isoformat(),
    }
