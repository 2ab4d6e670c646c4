"""The printed licence and its copies: a PDF whose QR opens the live page, reprints that
supersede or void the copies before, and the owner's short-lived snapshot code."""

from __future__ import annotations

import base64
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import cbor2
import httpx
import pytest
import zxingcpp
from PIL import Image
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from licensing.snapshots import mint_snapshot, token_codes
from tests.conftest import BASE_URL, auth
from tests.stories import LEGAL_REP, decode_qr, submission, submit, verify_status_document

RESTAURANT = make_uscc("91440604MA4UQRPT0")
UNKNOWN = make_uscc("91440604MA4UQRPT1")
STAFF_IDS = ("clerk-x", "registrar-x", "department-samr", "department-fire", "department-water")


@pytest.fixture
def licensed(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A restaurant with every permit approved, and a clerk's and a registrar's headers."""
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_restaurant", RESTAURANT, "桂城饭店")
        )
        for task in application["tasks"]:
            response = client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json={"outcome": "approve", "permit_number": f"N-{task['permit_type']}"},
                headers=auth(token("department", task["department"])),
            )
            assert response.status_code == 200, response.text
        yield client, {"clerk": token("clerk"), "registrar": token("registrar")}


def _path(url: str) -> str:
    assert url.startswith(f"{BASE_URL}/"), url
    return urlsplit(url).path


def _page(client: httpx.Client, url: str) -> httpx.Response:
    return client.get(_path(url), headers={"Accept": "text/html"})


def _doc(client: httpx.Client, url: str) -> httpx.Response:
    return client.get(_path(url), headers={"Accept": "application/json"})


def _pdf_qr(pdf: bytes, tmp_path: Path) -> str:
    """Render the PDF as a printer would (poppler at 200 dpi) and read its QR with zxing-cpp."""
    source = tmp_path / "licence.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", source, tmp_path / "page"], check=True)  # fmt: skip
    image = Image.open(tmp_path / "page.png")
    assert image.size == (1654, 2339)  # A4 at 200 dpi: one page
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1
    return results[0].text


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", source, "-"], check=True, capture_output=True, text=True
    )
    return done.stdout


def test_the_printed_licence_shows_the_registration_and_its_qr_opens_the_live_page(
    licensed: tuple[httpx.Client, dict[str, str]], tmp_path: Path, token: Callable[..., str]
) -> None:
    client, staff = licensed
    response = client.get(
        f"/api/v1/licences/{RESTAURANT}/licence.pdf", headers=auth(staff["clerk"])
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    text = _pdf_text(pdf, tmp_path)
    # The Chinese is text in the PDF, drawn by the reader's CJK font (STSong-Light).
    for expected in ("营业执照", "桂城饭店", RESTAURANT, "有限责任公司", "食品经营许可证", "有效"):
        assert expected in text, expected
    assert "扫码核验实时状态" in text and "第 1 版打印件" in text and "zzt.test" in text
    # Privacy: no legal representative, no ID number, no phone, no staff.
    for secret in (*LEGAL_REP.values(), *STAFF_IDS):
        assert secret not in text, secret
    assert b"STSong-Light" in pdf

    url = _pdf_qr(pdf, tmp_path)
    assert url.startswith(f"{BASE_URL}/v/")
    page = _page(client, url)
    assert page.status_code == 200 and "桂城饭店" in page.text
    assert "已被新打印件取代" not in page.text
    claims = verify_status_document(client, _doc(client, url).json()["jws"])
    assert claims["qv"] == 1 and claims["superseded"] is False

    # Revoked after printing: the paper's code shows it at the next scan.
    revoked = client.post(
        f"/api/v1/licences/{RESTAURANT}/permits/food_operation/revocation",
        json={"reason": "后厨卫生严重不达标", "legal_basis": "《食品安全法》第一百二十六条"},
        headers=auth(token("department", "samr")),
    )
    assert revoked.status_code == 200, revoked.text
    after = verify_status_document(client, _doc(client, url).json()["jws"])
    assert {p["type"]: p["status"] for p in after["permits"]}["food_operation"] == "invalid"
    assert "后厨卫生严重不达标" in _page(client, url).text

    # Printing is the window's act, not the public's nor a department's.
    anonymous = client.get(f"/api/v1/licences/{RESTAURANT}/licence.pdf")
    assert anonymous.status_code == 401
    department = client.get(
        f"/api/v1/licences/{RESTAURANT}/licence.pdf", headers=auth(token("department", "samr"))
    )
    assert department.status_code == 403


def test_a_reprint_supersedes_the_old_copy_whose_scan_warns_while_the_new_one_is_clean(
    licensed: tuple[httpx.Client, dict[str, str]], tmp_path: Path
) -> None:
    client, staff = licensed
    old = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)

    reprinted = client.post(
        f"/api/v1/licences/{RESTAURANT}/reprint",
        json={"reason": "原件污损"},
        headers=auth(staff["clerk"]),
    )
    assert reprinted.status_code == 200, reprinted.text
    assert reprinted.json()["print_version"] == 2

    old_page = _page(client, old)
    assert old_page.status_code == 200
    assert "此二维码已被新打印件取代" in old_page.text and "桂城饭店" in old_page.text
    assert verify_status_document(client, _doc(client, old).json()["jws"])["superseded"] is True

    pdf = client.get(f"/api/v1/licences/{RESTAURANT}/licence.pdf", headers=auth(staff["clerk"]))
    new = _pdf_qr(pdf.content, tmp_path)
    assert "第 2 版打印件" in _pdf_text(pdf.content, tmp_path)
    new_page = _page(client, new)
    assert new_page.status_code == 200 and "取代" not in new_page.text
    claims = verify_status_document(client, _doc(client, new).json()["jws"])
    assert claims["qv"] == 2 and claims["superseded"] is False

    # The reprint is on the record: who, why.
    history = client.get(
        f"/api/v1/licences/{RESTAURANT}/history", headers=auth(staff["registrar"])
    ).json()
    entry = next(e for e in history["events"] if e["what"] == "Reprinted")
    assert entry["reason"] == "原件污损" and entry["details"]["print_version"] == 2


def test_a_copy_reported_lost_is_void_and_its_scan_shows_no_status(
    licensed: tuple[httpx.Client, dict[str, str]], token: Callable[..., str]
) -> None:
    client, staff = licensed
    first = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)
    client.post(
        f"/api/v1/licences/{RESTAURANT}/reprint",
        json={"reason": "换发"},
        headers=auth(staff["clerk"]),
    ).raise_for_status()
    second = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)
    lost = client.post(
        f"/api/v1/licences/{RESTAURANT}/reprint",
        json={"reason": "遗失补发", "void_previous": True},
        headers=auth(staff["registrar"]),
    )
    assert lost.status_code == 200 and lost.json()["print_version"] == 3
    third = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)

    for void in (first, second):
        page = _page(client, void)
        assert page.status_code == 410
        assert "此打印件已作废" in page.text and "桂城饭店" in page.text
        # No status as if valid: no verdict, no permit, no 有效.
        assert "有效" not in page.text and "可以经营" not in page.text
        assert 'class="pill' not in page.text
        problem = _doc(client, void)
        assert problem.status_code == 410
        assert problem.headers["content-type"].startswith("application/problem+json")
        assert "void" in problem.json()["detail"]
    assert _page(client, third).status_code == 200

    # Who may reprint, and with what.
    refused = client.post(
        f"/api/v1/licences/{RESTAURANT}/reprint",
        json={"reason": "x"},
        headers=auth(token("department", "samr")),
    )
    assert refused.status_code == 403
    unexplained = client.post(
        f"/api/v1/licences/{RESTAURANT}/reprint", json={}, headers=auth(staff["clerk"])
    )
    assert unexplained.status_code == 422
    assert [e["name"] for e in unexplained.json()["errors"]] == ["reason"]
    assert client.get(f"/api/v1/licences/{RESTAURANT}").json()["print_version"] == 3


def _verify_cose_offline(token: str, jwks: dict[str, object]) -> dict[object, object]:
    """What an offline verifier does with only the JWKS: base32, COSE_Sign1 with pycose (an
    independent COSE implementation), the key whose kid starts with the COSE kid."""
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    message = Sign1Message.decode(raw)
    cose_kid = message.phdr[next(k for k in message.phdr if k.__name__ == "KID")]
    keys = jwks["keys"]
    assert isinstance(keys, list)

    def b64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    jwk = next(k for k in keys if b64(k["kid"]).startswith(cose_kid))
    message.key = EC2Key(crv=P256, x=b64(jwk["x"]), y=b64(jwk["y"]))
    assert message.verify_signature()
    claims = cbor2.loads(message.payload)
    assert isinstance(claims, dict)
    return claims


def test_the_snapshot_code_verifies_offline_and_is_flagged_online_once_behind(
    licensed: tuple[httpx.Client, dict[str, str]], runtime: Runtime, token: Callable[..., str]
) -> None:
    client, staff = licensed
    answer = client.get(f"/api/v1/licences/{RESTAURANT}/snapshot", headers=auth(staff["clerk"]))
    assert answer.status_code == 200, answer.text
    snapshot = answer.json()
    licence = client.get(f"/api/v1/licences/{RESTAURANT}").json()
    assert snapshot["version"] == licence["version"]
    assert decode_qr(base64.b64decode(snapshot["qr_png"])) == snapshot["url"]
    assert snapshot["url"] == f"{BASE_URL}/s/{snapshot['token']}"
    assert snapshot["qr_version"] <= 10
    print(f"snapshot URL: {len(snapshot['url'])} chars -> QR version {snapshot['qr_version']}-M")

    claims = _verify_cose_offline(snapshot["token"], client.get("/.well-known/jwks.json").json())
    codes = token_codes()
    assert claims[1] == runtime.settings.issuer and claims[2] == RESTAURANT
    assert claims[4] - claims[6] == runtime.settings.snapshot_ttl_seconds
    assert claims["v"] == licence["version"]
    assert claims["s"] == codes.registration_status["active"]
    assert claims["p"] == {
        codes.permit_types[p["permit_type"]]: codes.permit_status["valid"]
        for p in licence["permits"]
    }
    # Privacy: the snapshot carries codes, not people.
    raw = base64.b32decode(snapshot["token"] + "=" * (-len(snapshot["token"]) % 8))
    for secret in (*LEGAL_REP.values(), *STAFF_IDS):
        assert secret.encode() not in raw

    page = _page(client, snapshot["url"])
    assert page.status_code == 200 and "动态码已核验" in page.text and "已有变化" not in page.text

    # The licence changes: the same snapshot is now behind, and the live state is shown.
    client.post(
        f"/api/v1/licences/{RESTAURANT}/permits/food_operation/suspension",
        json={"reason": "停业整顿", "legal_basis": "《食品安全法》第一百二十六条"},
        headers=auth(token("department", "samr")),
    ).raise_for_status()
    behind = _page(client, snapshot["url"])
    assert behind.status_code == 200
    assert f"此动态码显示的是第 {snapshot['version']} 版的状态" in behind.text
    assert "停业整顿" in behind.text
    checked = _doc(client, snapshot["url"]).json()
    assert checked["snapshot"]["behind"] is True
    assert checked["snapshot"]["version"] == snapshot["version"]
    assert verify_status_document(client, checked["jws"])["v"] > snapshot["version"]

    # Only the window hands it out.
    assert client.get(f"/api/v1/licences/{RESTAURANT}/snapshot").status_code == 401


def test_an_expired_snapshot_is_refused_with_its_expiry(
    licensed: tuple[httpx.Client, dict[str, str]], runtime: Runtime
) -> None:
    client, _ = licensed
    issued = int(time.time()) - 3600
    stale = mint_snapshot(
        runtime.keys,
        issuer=runtime.settings.issuer,
        uscc=RESTAURANT,
        version=1,
        registration_status="active",
        permits={"business_licence": "valid"},
        ttl=300,
        now=issued,
    )
    page = _page(client, runtime.snapshot_url(stale))
    assert page.status_code == 400
    assert "过期" in page.text and "请持照人刷新后重新出示" in page.text
    assert re.search(r"已于 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d（北京时间）过期", page.text)
    assert "桂城饭店" not in page.text  # nothing shown as if it were current
    problem = _doc(client, runtime.snapshot_url(stale))
    assert problem.status_code == 400 and "expired at" in problem.json()["detail"]

    # A pointer is not a snapshot, nor a snapshot a pointer.
    pointer = runtime.verification_url(RESTAURANT, 1).rsplit("/", 1)[1]
    assert _page(client, f"{BASE_URL}/s/{pointer}").status_code == 400
    fresh = mint_snapshot(
        runtime.keys,
        issuer=runtime.settings.issuer,
        uscc=RESTAURANT,
        version=1,
        registration_status="active",
        permits={},
    )
    assert _page(client, f"{BASE_URL}/v/{fresh}").status_code == 400


def test_pdf_and_snapshot_of_an_unknown_licence_are_404(
    licensed: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, staff = licensed
    for what in ("licence.pdf", "snapshot"):
        response = client.get(f"/api/v1/licences/{UNKNOWN}/{what}", headers=auth(staff["clerk"]))  # fmt: skip
        assert response.status_code == 404, what
