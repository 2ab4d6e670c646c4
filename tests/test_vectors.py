"""The token test vectors (`tests/vectors/`, written by `python -m tests.vectors.generate`):
every QR read back by zxing-cpp, every signature checked by libraries that are not the one
that signs (jwcrypto for JWS, pycose for COSE), and our own verifier's outcome for each."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
import zxingcpp
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from PIL import Image
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from domain.registration import CopyState, copy_state
from licensing.signing import STATUS_TYP, KeyRing, TokenInvalid, read_pointer
from licensing.snapshots import read_snapshot

VECTORS = sorted(Path(__file__).with_name("vectors").glob("*/*.json"))
LEEWAY = 60


def _load(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return vector


def _clock(vector: dict[str, Any]) -> int:
    from datetime import datetime

    moment = vector["TESTCTX"]["VALIDATIONCLOCK"].replace("Z", "+00:00")
    return int(datetime.fromisoformat(moment).timestamp())


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_vectors_cover_every_case_the_issue_names() -> None:
    names = {path.stem.split("-", 1)[1] for path in VECTORS}
    assert {
        "bad-signature",
        "unknown-kid",
        "alg-none",
        "hs256-public-key-as-secret",
        "expired",
        "iat-in-the-future",
        "status-document-as-pointer",
        "snapshot-as-pointer",
        "superseded",
        "revoked-key",
        "truncated",
        "valid",
        "void",
        "behind",
    } <= names
    assert len(VECTORS) >= 18


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_the_qr_code_decodes_to_the_url_and_the_url_holds_the_token(path: Path) -> None:
    vector = _load(path)
    image = Image.open(io.BytesIO(base64.b64decode(vector["2DCODE"])))
    decoded = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert vector["EXPECTEDRESULTS"]["EXPECTEDPICTUREDECODE"] is True
    assert [r.text for r in decoded] == [vector["URL"]]
    assert vector["URL"].rsplit("/", 1)[1] == vector["TOKEN"]


def _jws_verifies(vector: dict[str, Any], jwks: dict[str, Any]) -> bool:
    """jwcrypto, ES256 only, the key by kid from the given JWKS: does the signature hold?"""
    try:
        token = jwcrypto_jws.JWS()
        token.deserialize(vector["TOKEN"])
        kid = token.jose_header.get("kid")
        key = jwcrypto_jwk.JWKSet.from_json(json.dumps(jwks)).get_key(kid)
        if key is None:
            return False
        token.allowed_algs = ["ES256"]
        token.verify(key)
    except (jwcrypto_jws.InvalidJWSObject, jwcrypto_jws.InvalidJWSSignature, ValueError):
        return False
    return True


def _cose_verifies(vector: dict[str, Any], jwks: dict[str, Any]) -> bool:
    """pycose, the key whose base64url-decoded kid starts with the COSE kid."""
    try:
        raw = base64.b32decode(vector["TOKEN"] + "=" * (-len(vector["TOKEN"]) % 8))
        message = Sign1Message.decode(raw)
    except Exception:  # any failure to read it is a failure to verify it
        return False
    kid = next(v for k, v in message.phdr.items() if k.__name__ == "KID")
    keys = [k for k in jwks["keys"] if _b64(k["kid"]).startswith(kid)]
    if len(keys) != 1:
        return False
    message.key = EC2Key(crv=P256, x=_b64(keys[0]["x"]), y=_b64(keys[0]["y"]))
    return bool(message.verify_signature())


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_independent_libraries_agree_with_the_expected_results(path: Path) -> None:
    vector = _load(path)
    expected = vector["EXPECTEDRESULTS"]
    context = vector["TESTCTX"]
    # Each token is checked as what it is presented as: a snapshot shown as a pointer is
    # read as a JWS, and fails.
    snapshot = vector["TYPE"] == "snapshot"
    verify = _cose_verifies if snapshot else _jws_verifies
    verified = verify(vector, context["JWKS"])
    if "EXPECTEDVERIFY" in expected:
        assert verified is expected["EXPECTEDVERIFY"]
    elif expected.get("EXPECTEDDECODE") is False:
        assert verified is False
    for revoked in context["REVOKED"]:
        # The revoked key's signature still holds: it is refused for the revocation alone.
        assert verify(vector, {"keys": [revoked["jwk"]]}) is True
    if snapshot and expected.get("EXPECTEDDECODE"):
        raw = bytes.fromhex(vector["TESTCTX"]["COSE"])
        assert base64.b32encode(raw).decode().rstrip("=") == vector["TOKEN"]
        assert cbor2.loads(raw).value[2].hex() == vector["TESTCTX"]["CBOR"]
    if "EXPECTEDEXPIRATIONCHECK" in expected:
        claims = vector["CLAIMS"]
        issued, expires = claims.get("iat", claims.get("6")), claims.get("exp", claims.get("4"))
        clock = _clock(vector)
        in_time = issued <= clock + LEEWAY and (expires is None or clock <= expires + LEEWAY)
        assert in_time is expected["EXPECTEDEXPIRATIONCHECK"]


def _ring(context: dict[str, Any]) -> KeyRing:
    ring = KeyRing(keys=[])
    for created, key in enumerate(context["JWKS"]["keys"], start=1):
        ring.add_public(context["PURPOSES"][key["kid"]], key["kid"], key, created)
    for revoked in context["REVOKED"]:
        purpose = context["PURPOSES"][revoked["kid"]]
        ring.add_public(purpose, revoked["kid"], revoked["jwk"], 0)
        ring.revoke(revoked["kid"], revoked["reason"])
    return ring


def _our_outcome(vector: dict[str, Any]) -> str:
    context = vector["TESTCTX"]
    ring, clock, issuer = _ring(context), _clock(vector), context["ISSUER"]
    try:
        if vector["TYPE"] == "pointer":
            pointer = read_pointer(ring, vector["TOKEN"], issuer=issuer, now=clock)
            printed = context.get("PRINT", {"current": pointer.print_version, "void_below": 1})
            state = copy_state(pointer.print_version, **printed)
            return "valid" if state is CopyState.CURRENT else state.value
        if vector["TYPE"] == "status":
            ring.verify("status", vector["TOKEN"], typ=STATUS_TYP, now=clock)
            return "valid"
        snapshot = read_snapshot(ring, vector["TOKEN"], issuer=issuer, now=clock)
    except TokenInvalid as error:
        return str(error)
    return "behind" if snapshot.version < context["LIVEVERSION"] else "valid"


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_our_verifier_gives_the_expected_outcome(path: Path) -> None:
    vector = _load(path)
    assert _our_outcome(vector) == vector["EXPECTEDOUTCOME"]


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_no_vector_carries_personal_data(path: Path) -> None:
    from tests.stories import LEGAL_REP

    text = path.read_text(encoding="utf-8")
    assert all(value not in text for value in LEGAL_REP.values())
    assert '"d"' not in text  # no private key member
