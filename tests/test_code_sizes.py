"""How big the codes are: the snapshot stays within QR version 10 at level M for the largest
themed bundle, and the formats it was chosen over are measured beside it."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import base45
import pytest

from licensing.catalogue import default_catalogue
from licensing.qr import qr_version
from licensing.signing import KeyRing, mint_pointer
from licensing.snapshots import mint_snapshot, token_codes

ORIGIN = "https://zzt.example.gov.cn"  # a realistic government origin, 26 characters
USCC = "91440604MA4UQRPT05"


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return KeyRing.load_or_create(Path(tmp_path_factory.mktemp("keys")))


def _largest_bundle() -> list[str]:
    catalogue = default_catalogue()
    return max(
        ([use.code for use in theme.permits] for theme in catalogue.themes.values()),
        key=len,
    )


def test_every_permit_type_and_status_has_a_snapshot_code() -> None:
    from domain.status import PermitStatus, RegistrationStatus

    codes = token_codes()
    assert set(codes.permit_types) == set(default_catalogue().permit_types)
    assert set(codes.permit_status) == {s.value for s in PermitStatus}
    assert set(codes.registration_status) == {s.value for s in RegistrationStatus}


def test_the_snapshot_of_the_largest_bundle_fits_version_10_at_level_m(ring: KeyRing) -> None:
    permits = dict.fromkeys(_largest_bundle(), "under_rectification")
    now = int(time.time())
    token = mint_snapshot(
        ring,
        issuer="zzt-demo",
        uscc=USCC,
        version=65_000,  # a long-lived licence's version: three bytes of CBOR
        registration_status="deregistration_notice",
        permits=permits,
        now=now,
    )
    url = f"{ORIGIN}/s/{token}"
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    cose_b45 = "HC1:" + base45.b45encode(raw).decode()
    jws = ring.sign(
        "snapshot",
        {
            "iss": "zzt-demo",
            "sub": USCC,
            "iat": now,
            "exp": now + 300,
            "v": 65_000,
            "s": 3,
            "p": dict.fromkeys(permits, 2),
        },
        typ="lic-snap+jwt",
    )
    sizes = {
        "COSE, base32 in the URL (chosen)": (len(url), qr_version(url)),
        "COSE, base45 without a URL (EU DCC HC1 style)": (len(cose_b45), qr_version(cose_b45)),
        "JWS in the URL": (len(f"{ORIGIN}/s/{jws}"), qr_version(f"{ORIGIN}/s/{jws}")),
    }
    for name, (chars, version) in sizes.items():
        print(f"snapshot, {len(permits)} permits, {name}: {chars} chars -> QR version {version}-M")
    print(f"COSE_Sign1: {len(raw)} bytes")
    assert sizes["COSE, base32 in the URL (chosen)"][1] <= 10
    assert sizes["JWS in the URL"][1] > 10  # why not JWS


def test_the_printed_pointer_is_measured(ring: KeyRing) -> None:
    token = mint_pointer(
        ring, issuer="zzt-demo", uscc=USCC, print_version=12, issued_at=int(time.time())
    )
    url = f"{ORIGIN}/v/{token}"
    version = qr_version(url)
    print(f"pointer URL: {len(url)} chars -> QR version {version}-M")
    assert version <= 14


def test_the_documented_codes_are_the_codes_tokens_carry() -> None:
    """docs/tokens.md is what verifiers are written from: its tables must be the data's."""
    text = (Path(__file__).parents[1] / "docs" / "tokens.md").read_text(encoding="utf-8")
    tables: list[dict[str, int]] = []
    for line in text.splitlines():
        if line.startswith(("| status | code |", "| type | code |")):
            tables.append({})
        elif tables and line.startswith("| `"):
            name, code = (cell.strip(" `") for cell in line.split("|")[1:3])
            if code.isdigit():
                tables[-1][name] = int(code)
    codes = token_codes()
    assert tables == [
        dict(codes.registration_status),
        dict(codes.permit_status),
        dict(codes.permit_types),
    ]
