"""先照后证: a filing or commitment accepted with the business licence of a business still
being established is not 有效 before the licence is issued — the licence, the scan page and
the signed status say why — and takes effect with it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from projections.views import AWAITING_LICENCE
from tests.conftest import auth
from tests.stories import (
    decode_qr,
    store_situation,
    submission,
    submit,
    verify_status_document,
)

SHOP = make_uscc("91440604MA5LF0010")


def _scan(client: httpx.Client) -> tuple[str, dict[str, dict]]:
    """The scanned code's page, and the signed status's permits (checked with PyJWT)."""
    path = urlsplit(decode_qr(client.get(f"/api/v1/licences/{SHOP}/qr.png").content)).path
    page = client.get(path, headers={"Accept": "text/html"}).text
    signed = client.get(path, headers={"Accept": "application/json"}).json()
    claims = verify_status_document(client, signed["jws"])
    return page, {p["type"]: p for p in claims["permits"]}


def test_a_filing_takes_effect_with_the_business_licence(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client,
            token("clerk"),
            submission(runtime, "open_convenience_store", SHOP, "先照便利店", store_situation()),
        )
        licence = client.get(f"/api/v1/licences/{SHOP}").json()
        assert licence["status"]["code"] == "establishing"
        filing = {p["permit_type"]: p for p in licence["permits"]}["prepackaged_food_filing"]
        assert filing["status"]["code"] == "invalid" and filing["reason"] == AWAITING_LICENCE
        assert filing["permit_number"]  # filed, numbered: only not in force yet
        page, signed = _scan(client)
        assert "待营业执照核发后生效" in page
        assert signed["prepackaged_food_filing"]["status"] == "invalid"
        assert signed["prepackaged_food_filing"]["reason"] == AWAITING_LICENCE

        approved = client.post(
            f"/api/v1/applications/{application['id']}/tasks/business_licence/decision",
            json={"outcome": "approve", "permit_number": "BL-LF-1"},
            headers=auth(token("department", "samr")),
        )
        assert approved.status_code == 200, approved.text
        licence = client.get(f"/api/v1/licences/{SHOP}").json()
        assert licence["status"]["code"] == "active"
        assert {p["status"]["code"] for p in licence["permits"]} == {"valid"}
        page, signed = _scan(client)
        assert "待营业执照核发后生效" not in page
        assert signed["prepackaged_food_filing"]["status"] == "valid"
        assert signed["prepackaged_food_filing"]["reason"] != AWAITING_LICENCE
