"""The scan page over HTTP: its headers (security, caching, HEAD), its language switch, what
never appears anywhere the public reads, and a licence printed before a revocation that shows
the revocation at its next scan — on both backends."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import APPLICANT, LEGAL_REP, decode_qr, submission, submit
from tests.test_prints import _pdf_qr, _pdf_text

HOTEL = make_uscc("91440604MA4UQRPT0")
FINDINGS = "疏散通道堆放杂物，三楼消防栓无水"
FALSE_FINDINGS = "未设置自动喷水灭火系统"


@pytest.fixture
def hotel(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> Iterator[tuple[httpx.Client, str]]:
    """A hotel with every permit approved but fire safety, granted on commitment; the URL
    its printed QR holds."""
    body = submission(runtime, "open_hotel", HOTEL, "契约旅馆")
    body["commitments"] = {"fire_safety_check": {"version": "2025.1", "signed_by": "李测试"}}
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(client, token("clerk"), body)
        for task in application["tasks"]:
            if task["state"] != "queued":
                continue
            response = client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json={"outcome": "approve", "permit_number": f"N-{task['permit_type']}"},
                headers=auth(token("department", task["department"])),
            )
            assert response.status_code == 200, response.text
        url = decode_qr(client.get(f"/api/v1/licences/{HOTEL}/qr.png").content)
        yield client, urlsplit(url).path


def test_the_live_page_carries_its_security_and_caching_headers_and_answers_head(
    hotel: tuple[httpx.Client, str],
) -> None:
    client, path = hotel
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp  # no script allowed at all
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-cache"
    etag = page.headers["etag"]
    assert etag.startswith('"v') and etag.endswith('"')

    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag
    assert head.headers["content-security-policy"] == csp
    assert int(head.headers["content-length"]) == len(page.content)

    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    signed = client.get(path, headers={"Accept": "application/json", "If-None-Match": etag})
    assert signed.status_code == 304  # the same version: the same verdict

    refused = client.get("/v/not-a-code")
    assert refused.status_code == 400
    assert refused.headers["content-security-policy"] == csp
    assert refused.headers["cache-control"] == "no-store"
    assert client.head("/v/not-a-code").status_code == 400
    problem = client.get("/v/not-a-code", headers={"Accept": "application/json"})
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.headers["x-content-type-options"] == "nosniff"


def test_the_language_is_chosen_by_a_link_and_an_unknown_one_is_named(
    hotel: tuple[httpx.Client, str],
) -> None:
    client, path = hotel
    chinese = client.get(path).text
    assert '<html lang="zh-CN">' in chinese and 'href="?lang=en"' in chinese
    assert "<script" not in chinese
    english = client.get(path, params={"lang": "en"}).text
    assert '<html lang="en">' in english and 'href="?lang=zh"' in english
    assert "Business licence" in english and "营业执照存续" not in english
    wrong = client.get(path, params={"lang": "fr"})
    assert wrong.status_code == 422
    assert [e["name"] for e in wrong.json()["errors"]] == ["lang"]


def _jose_payload(token: str) -> bytes:
    payload = token.split(".")[1]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def _snapshot_bytes(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def test_no_personal_data_findings_or_staff_anywhere_the_public_reads(
    hotel: tuple[httpx.Client, str],
    token: Callable[..., str],
    tmp_path: Path,
) -> None:
    client, path = hotel
    fire = auth(token("department", "fire"))
    base = f"/api/v1/licences/{HOTEL}/permits/fire_safety_check"
    defects = client.post(
        f"{base}/verification", json={"outcome": "defects", "findings": FINDINGS}, headers=fire
    )
    assert defects.status_code == 200, defects.text

    clerk = auth(token("clerk"))
    snapshot = client.get(f"/api/v1/licences/{HOTEL}/snapshot", headers=clerk).json()
    pdf = client.get(f"/api/v1/licences/{HOTEL}/licence.pdf", headers=clerk).content
    signed = client.get(path, headers={"Accept": "application/json"}).json()
    pointer = path.rsplit("/", 1)[1]
    snapshot_page = client.head(urlsplit(snapshot["url"]).path)
    assert snapshot_page.status_code == 200 and snapshot_page.content == b""
    public: dict[str, Any] = {
        "pointer token (the QR on paper)": _jose_payload(pointer).decode(),
        "snapshot token (the phone's QR)": _snapshot_bytes(snapshot["token"]),
        "status document (signed)": _jose_payload(signed["jws"]).decode(),
        "status document (doc)": json.dumps(signed["doc"], ensure_ascii=False),
        "page (zh)": client.get(path).text,
        "page (en)": client.get(path, params={"lang": "en"}).text,
        "snapshot page": client.get(urlsplit(snapshot["url"]).path).text,
        "licence JSON": client.get(f"/api/v1/licences/{HOTEL}").text,
        "printed licence": _pdf_text(pdf, tmp_path),
    }
    # The rectification is shown, its findings are not (the business is served them).
    assert "整改中" in public["page (zh)"] and "rectifying" in public["status document (doc)"]
    secrets = [
        *LEGAL_REP.values(),
        APPLICANT["email"],
        FINDINGS,
        "李测试",  # the commitment letter's signatory
        *(f"department-{d}" for d in ("samr", "fire", "water", "police", "health")),
        "clerk-x",
        "registrar-x",
    ]
    for where, text in public.items():
        for secret in secrets:
            found = secret.encode() in text if isinstance(text, bytes) else secret in text
            assert not found, f"{secret!r} in the {where}"


def test_a_licence_printed_before_a_revocation_shows_the_revocation_at_its_next_scan(
    hotel: tuple[httpx.Client, str], token: Callable[..., str], tmp_path: Path
) -> None:
    client, _ = hotel
    clerk = auth(token("clerk"))
    printed = client.get(f"/api/v1/licences/{HOTEL}/licence.pdf", headers=clerk)
    assert printed.status_code == 200, printed.text
    on_the_wall = urlsplit(_pdf_qr(printed.content, tmp_path)).path  # rendered, then decoded
    before = client.get(on_the_wall).text
    assert 'data-code="partly"' not in before and 'data-standing="revoked"' not in before

    revoked = client.post(
        f"/api/v1/licences/{HOTEL}/permits/food_operation/revocation",
        json={"reason": "使用过期食品原料", "legal_basis": "《食品安全法》第一百二十四条"},
        headers=auth(token("department", "samr")),
    )
    assert revoked.status_code == 200, revoked.text
    page = client.get(on_the_wall).text
    assert '<h1 id="verdict" data-code="partly">部分经营项目不可经营</h1>' in page
    first = page.index('class="permit"')
    assert page.index('data-standing="revoked"') < page.index('data-standing="in_force"')
    assert "使用过期食品原料" in page[first:]
    signed = client.get(on_the_wall, headers={"Accept": "application/json"}).json()["doc"]
    assert signed["verdict"]["not_in_force"][0] == "food_operation"
    food = next(p for p in signed["permits"] if p["type"] == "food_operation")
    assert (food["standing"], food["word"], food["valid_to"]) == ("revoked", "已吊销", None)
