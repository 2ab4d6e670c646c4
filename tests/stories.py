"""Helpers that speak the API as a window clerk and department reviewers would."""

from __future__ import annotations

import io
from typing import Any

import httpx
import jwt
import zxingcpp
from PIL import Image

from licensing.demo import sample_answers
from licensing.runtime import Runtime
from tests.conftest import auth

LEGAL_REP = {"name": "李测试", "id_number": "44060419900101123X", "mobile": "13900139000"}
APPLICANT = {"contact_name": "李测试", "mobile": "13900139000", "email": "li@example.cn"}


def store_situation(food_sales: str = "prepackaged_only", **sells: bool) -> dict[str, Any]:
    """开办便利店's situation answers: pre-packaged food only (a filing, 有效 on the spot)
    unless told otherwise; each `sells_…`/`has_…` answer False unless given."""
    answers: dict[str, Any] = {
        "food_sales": food_sales,
        "sells_tobacco": False,
        "sells_class2_devices": False,
        "sells_publications": False,
        "has_outdoor_signboard": False,
    }
    unknown = set(sells) - set(answers)
    assert not unknown, f"not a situation of the convenience store: {unknown}"
    return answers | sells


def submission(
    runtime: Runtime, theme: str, uscc: str, name: str, situation: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "theme": theme,
        "situation": dict(situation or {}),
        "business": {
            "uscc": uscc,
            "name": name,
            "entity_type": "limited_company",
            "legal_representative": dict(LEGAL_REP),
            "domicile": "佛山市南海区桂城街道 1 号",
            "business_scope": "住宿服务；餐饮服务",
            "registered_capital": "300000.00",
        },
        "applicant": dict(APPLICANT),
        "answers": sample_answers(runtime.catalogue, theme, situation),
    }


def submit(client: httpx.Client, clerk: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/applications", json=body, headers=auth(clerk))
    assert response.status_code == 201, response.text
    return response.json()


def decode_qr(png: bytes) -> str:
    """Read the QR with an independent decoder (zxing-cpp), as a phone would."""
    results = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert len(results) == 1, f"expected one QR code, found {len(results)}"
    return results[0].text


def verify_status_document(client: httpx.Client, jws: str) -> dict[str, Any]:
    """Check the signed status with PyJWT against the published JWKS (no project code)."""
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    kid = jwt.get_unverified_header(jws)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return jwt.decode(jws, key=key, algorithms=["ES256"], options={"verify_aud": False})


def pdf_file(pages: int = 1) -> bytes:
    """A small, genuine PDF, as a scanner would hand the window one."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_file(kind: str = "PNG", colour: str = "white") -> bytes:
    """A small, genuine PNG or JPEG (a photographed certificate)."""
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, kind)
    return out.getvalue()


def upload(
    client: httpx.Client,
    clerk: str,
    application_id: str,
    material: str,
    content: bytes,
    filename: str = "材料.pdf",
) -> httpx.Response:
    """The clerk attaches a material file to an application (multipart, as a browser posts)."""
    return client.post(
        f"/api/v1/applications/{application_id}/documents",
        data={"material": material},
        files={"file": (filename, content, "application/pdf")},
        headers=auth(clerk),
    )


def upload_every_material(client: httpx.Client, clerk: str, application_id: str) -> list[str]:
    """Attach a file for every material the application still lacks; the materials done."""
    listed = client.get(f"/api/v1/applications/{application_id}/materials", headers=auth(clerk))
    assert listed.status_code == 200, listed.text
    done = []
    for material in listed.json()["materials"]:
        if material["status"] in ("missing", "on_paper"):
            response = upload(client, clerk, application_id, material["code"], pdf_file())
            assert response.status_code == 201, response.text
            done.append(material["code"])
    return done
