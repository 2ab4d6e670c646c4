"""Keys, pointer tokens, status documents and access tokens: round trips and refusals."""

from __future__ import annotations

import base64
import hmac
import json
import re
import stat
from pathlib import Path

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.actor import Actor
from licensing.signing import (
    ACCESS_TYP,
    POINTER_TYP,
    STATUS_TYP,
    KeyRing,
    Pointer,
    TokenInvalid,
    mint_access_token,
    mint_pointer,
    new_secret,
    read_access_token,
    read_pointer,
    sign_status,
)

ISSUER = "SAMR-310000"
USCC = "91310000MA1FL8XQ3C"
PRINTED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.fixture
def keyring(tmp_path: Path) -> KeyRing:
    return KeyRing.load_or_create(tmp_path / "keys")


@pytest.fixture
def pointer(keyring: KeyRing) -> str:
    return mint_pointer(keyring, issuer=ISSUER, uscc=USCC, print_version=1, issued_at=PRINTED_AT)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _header(token: str) -> dict[str, object]:
    return json.loads(_unb64(token.split(".")[0]))


# --- keys ----------------------------------------------------------------------------


def test_keys_are_created_once_private_to_the_owner_and_stable_across_restarts(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "keys"
    first = KeyRing.load_or_create(directory)

    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = sorted(directory.iterdir())
    assert [f.name.split("-")[0] for f in files] == ["pointer", "status"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)

    second = KeyRing.load_or_create(directory)
    assert sorted(directory.iterdir()) == files
    assert second.jwks() == first.jwks()
    assert second.current_kid("pointer") == first.current_kid("pointer")


def test_jwks_is_public_only_and_each_purpose_has_its_own_kid(keyring: KeyRing) -> None:
    jwks = keyring.jwks()
    assert not _has_member(jwks, "d")
    for jwk in jwks["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
        assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
        assert len(jwk["kid"]) == 16

    pointer_kid = keyring.current_kid("pointer")
    status_kid = keyring.current_kid("status")
    assert pointer_kid != status_kid
    assert keyring.purpose_of(pointer_kid) == "pointer"
    assert keyring.purpose_of(status_kid) == "status"
    assert "PRIVATE" not in repr(keyring)


def _has_member(value: object, name: str) -> bool:
    if isinstance(value, dict):
        return name in value or any(_has_member(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_has_member(v, name) for v in value)
    return False


def test_kid_is_the_rfc7638_thumbprint_prefix(keyring: KeyRing) -> None:
    # Recompute the thumbprint by hand from the published members (RFC 7638 §3.2).
    for jwk in keyring.jwks()["keys"]:
        canonical = json.dumps(
            {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        digest = hashes.Hash(hashes.SHA256())
        digest.update(canonical)
        assert jwk["kid"] == _b64(digest.finalize())[:16]


def test_rotation_signs_with_the_new_key_and_old_pointers_still_verify(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    keyring = KeyRing.load_or_create(directory)
    old_kid = keyring.current_kid("pointer")
    old = mint_pointer(keyring, issuer=ISSUER, uscc=USCC, print_version=1, issued_at=PRINTED_AT)

    new_kid = keyring.rotate("pointer")
    new = mint_pointer(keyring, issuer=ISSUER, uscc=USCC, print_version=2, issued_at=PRINTED_AT)

    assert new_kid != old_kid
    assert _header(new)["kid"] == new_kid
    assert _header(old)["kid"] == old_kid
    assert read_pointer(keyring, old, issuer=ISSUER).print_version == 1
    assert read_pointer(keyring, new, issuer=ISSUER).print_version == 2
    kids = {jwk["kid"] for jwk in keyring.jwks()["keys"]}
    assert {old_kid, new_kid} <= kids

    # After a restart the newest key still signs and both still verify.
    reloaded = KeyRing.load_or_create(directory)
    assert reloaded.current_kid("pointer") == new_kid
    assert read_pointer(reloaded, old, issuer=ISSUER).print_version == 1
    assert len(list(directory.glob("pointer-*.pem"))) == 2


# --- pointer tokens ------------------------------------------------------------------


def test_pointer_round_trip_says_only_who_printed_which_copy(
    keyring: KeyRing, pointer: str
) -> None:
    assert read_pointer(keyring, pointer, issuer=ISSUER) == Pointer(
        issuer=ISSUER, uscc=USCC, print_version=1, issued_at=PRINTED_AT
    )
    header = _header(pointer)
    assert header == {"alg": "ES256", "kid": keyring.current_kid("pointer"), "typ": POINTER_TYP}
    claims = json.loads(_unb64(pointer.split(".")[1]))
    assert claims == {"iss": ISSUER, "sub": USCC, "qv": 1, "iat": PRINTED_AT}


def test_pointer_verifies_with_an_independent_library(keyring: KeyRing, pointer: str) -> None:
    jwks = pyjwt.PyJWKSet.from_dict(keyring.jwks())
    kid = pyjwt.get_unverified_header(pointer)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = pyjwt.decode(pointer, key=key, algorithms=["ES256"])
    assert claims == {"iss": ISSUER, "sub": USCC, "qv": 1, "iat": PRINTED_AT}


def test_tampered_payload_is_refused(keyring: KeyRing, pointer: str) -> None:
    header, payload, signature = pointer.split(".")
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    with pytest.raises(TokenInvalid, match=r"signature|malformed"):
        read_pointer(keyring, f"{header}.{flipped}.{signature}", issuer=ISSUER)


def test_tampered_uscc_with_valid_json_is_refused(keyring: KeyRing, pointer: str) -> None:
    header, _, signature = pointer.split(".")
    forged = _b64(json.dumps({"iss": ISSUER, "sub": "91110000MA1FL8XQ3C", "qv": 1}).encode())
    with pytest.raises(TokenInvalid, match="signature does not verify"):
        read_pointer(keyring, f"{header}.{forged}.{signature}", issuer=ISSUER)


def test_foreign_key_claiming_our_kid_is_refused(keyring: KeyRing) -> None:
    # A counterfeiter signs a well-formed pointer with their own P-256 key under our kid.
    stranger = ec.generate_private_key(ec.SECP256R1())
    header = {"alg": "ES256", "kid": keyring.current_kid("pointer"), "typ": POINTER_TYP}
    claims = {"iss": ISSUER, "sub": USCC, "qv": 1, "iat": PRINTED_AT}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    der = stranger.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    token = f"{signing_input}.{_b64(pyjwt.utils.der_to_raw_signature(der, stranger.curve))}"
    with pytest.raises(TokenInvalid, match="signature does not verify"):
        read_pointer(keyring, token, issuer=ISSUER)


def test_alg_none_is_refused(keyring: KeyRing) -> None:
    header = {"alg": "none", "kid": keyring.current_kid("pointer"), "typ": POINTER_TYP}
    claims = {"iss": ISSUER, "sub": USCC, "qv": 1, "iat": PRINTED_AT}
    token = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
    with pytest.raises(TokenInvalid, match="algorithm not allowed"):
        read_pointer(keyring, token, issuer=ISSUER)


def test_hs256_signed_with_the_public_key_is_refused(keyring: KeyRing) -> None:
    # The classic alg-confusion attack: HMAC keyed with the (public) verification key.
    kid = keyring.current_kid("pointer")
    jwk = next(k for k in keyring.jwks()["keys"] if k["kid"] == kid)
    public_pem = pyjwt.PyJWK.from_dict(jwk).key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    header_b64 = _b64(json.dumps({"alg": "HS256", "kid": kid, "typ": POINTER_TYP}).encode())
    claims_b64 = _b64(json.dumps({"iss": ISSUER, "sub": USCC, "qv": 1, "iat": PRINTED_AT}).encode())
    mac = hmac.new(public_pem, f"{header_b64}.{claims_b64}".encode(), "sha256").digest()
    token = f"{header_b64}.{claims_b64}.{_b64(mac)}"
    with pytest.raises(TokenInvalid, match="algorithm not allowed"):
        read_pointer(keyring, token, issuer=ISSUER)


def test_status_token_is_not_a_pointer(keyring: KeyRing) -> None:
    status = sign_status(keyring, {"v": 3}, issuer=ISSUER, subject=USCC)
    with pytest.raises(TokenInvalid, match="unknown key id"):
        read_pointer(keyring, status, issuer=ISSUER)


def test_pointer_key_with_the_wrong_typ_is_refused(keyring: KeyRing) -> None:
    claims = {"iss": ISSUER, "sub": USCC, "qv": 1, "iat": PRINTED_AT}
    token = keyring.sign("pointer", claims, typ=STATUS_TYP)
    with pytest.raises(TokenInvalid, match=re.escape(f"wrong token type: expected {POINTER_TYP}")):
        read_pointer(keyring, token, issuer=ISSUER)


def test_pointer_from_another_issuer_is_refused(keyring: KeyRing, pointer: str) -> None:
    with pytest.raises(TokenInvalid, match="wrong issuer"):
        read_pointer(keyring, pointer, issuer="SAMR-110000")


def test_over_long_and_garbage_tokens_are_refused(keyring: KeyRing, pointer: str) -> None:
    with pytest.raises(TokenInvalid, match="malformed"):
        read_pointer(keyring, pointer + "A" * 2048, issuer=ISSUER)
    for garbage in ("", "abc", "a.b.c", "!!.??.##", "eyJ9.e30.", "...."):
        with pytest.raises(TokenInvalid):
            read_pointer(keyring, garbage, issuer=ISSUER)


def test_unknown_kid_is_refused(keyring: KeyRing, tmp_path: Path) -> None:
    stranger = KeyRing.load_or_create(tmp_path / "stranger")
    token = mint_pointer(stranger, issuer=ISSUER, uscc=USCC, print_version=1, issued_at=PRINTED_AT)
    with pytest.raises(TokenInvalid, match="unknown key id"):
        read_pointer(keyring, token, issuer=ISSUER)


def test_pointer_issued_in_the_future_is_refused(keyring: KeyRing) -> None:
    token = mint_pointer(
        keyring, issuer=ISSUER, uscc=USCC, print_version=1, issued_at=4_000_000_000
    )
    with pytest.raises(TokenInvalid, match="issued in the future"):
        read_pointer(keyring, token, issuer=ISSUER)


def test_mint_pointer_refuses_what_is_not_a_uscc(keyring: KeyRing) -> None:
    with pytest.raises(ValueError, match="USCC"):
        mint_pointer(keyring, issuer=ISSUER, uscc="张三", print_version=1, issued_at=PRINTED_AT)


# --- status documents ----------------------------------------------------------------


def test_status_document_lives_for_its_ttl_plus_leeway(keyring: KeyRing) -> None:
    doc = {"v": 43, "lic": {"status": 0}, "permits": [{"type": "food", "status": 0}]}
    token = sign_status(keyring, doc, issuer=ISSUER, subject=USCC, ttl=300, now=PRINTED_AT)
    assert _header(token)["typ"] == STATUS_TYP

    claims = keyring.verify("status", token, typ=STATUS_TYP, now=PRINTED_AT + 10)
    assert claims == {"iss": ISSUER, "sub": USCC, "iat": PRINTED_AT, "exp": PRINTED_AT + 300, **doc}
    # 30 s past exp is inside the 60 s leeway; 61 s past is not.
    keyring.verify("status", token, typ=STATUS_TYP, now=PRINTED_AT + 330)
    with pytest.raises(TokenInvalid, match="expired"):
        keyring.verify("status", token, typ=STATUS_TYP, now=PRINTED_AT + 361)
    with pytest.raises(TokenInvalid, match="expired"):
        keyring.verify("status", token, typ=STATUS_TYP, now=PRINTED_AT + 330, leeway=0)


def test_status_document_verifies_with_pyjwt(keyring: KeyRing) -> None:
    token = sign_status(keyring, {"v": 1}, issuer=ISSUER, subject=USCC)
    jwks = pyjwt.PyJWKSet.from_dict(keyring.jwks())
    key = next(k for k in jwks.keys if k.key_id == pyjwt.get_unverified_header(token)["kid"])
    assert pyjwt.decode(token, key=key, algorithms=["ES256"])["v"] == 1


# --- access tokens -------------------------------------------------------------------


def test_access_token_round_trip_gives_back_the_actor() -> None:
    secret = new_secret()
    for actor in (
        Actor(id="u-17", role="department", department="market", district="huangpu"),
        Actor(id="u-1", role="clerk"),
    ):
        token = mint_access_token(secret, actor, issuer=ISSUER)
        assert _header(token) == {"alg": "HS256", "typ": ACCESS_TYP}
        assert read_access_token(secret, token, issuer=ISSUER) == actor


def test_access_token_with_the_wrong_secret_is_refused() -> None:
    token = mint_access_token(new_secret(), Actor(id="u-1", role="clerk"), issuer=ISSUER)
    with pytest.raises(TokenInvalid, match="signature does not verify"):
        read_access_token(new_secret(), token, issuer=ISSUER)


def test_expired_access_token_is_refused() -> None:
    secret = new_secret()
    token = mint_access_token(
        secret, Actor(id="u-1", role="clerk"), issuer=ISSUER, ttl=3600, now=PRINTED_AT
    )
    with pytest.raises(TokenInvalid, match="expired"):
        read_access_token(secret, token, issuer=ISSUER)


def test_access_token_with_an_unknown_role_is_refused() -> None:
    secret = new_secret()
    claims = {"iss": ISSUER, "sub": "u-1", "role": "emperor", "iat": PRINTED_AT}
    claims["exp"] = 4_000_000_000
    token = pyjwt.encode(claims, secret, algorithm="HS256", headers={"typ": ACCESS_TYP})
    with pytest.raises(TokenInvalid, match="bad actor"):
        read_access_token(secret, token, issuer=ISSUER)


def test_access_token_without_exp_or_for_another_issuer_is_refused() -> None:
    secret = new_secret()
    claims = {"iss": ISSUER, "sub": "u-1", "role": "clerk", "iat": PRINTED_AT}
    token = pyjwt.encode(claims, secret, algorithm="HS256", headers={"typ": ACCESS_TYP})
    with pytest.raises(TokenInvalid, match="missing claim: exp"):
        read_access_token(secret, token, issuer=ISSUER)
    good = mint_access_token(secret, Actor(id="u-1", role="clerk"), issuer=ISSUER)
    with pytest.raises(TokenInvalid, match="wrong issuer"):
        read_access_token(secret, good, issuer="elsewhere")


def test_access_token_signed_with_es256_is_refused(keyring: KeyRing) -> None:
    token = keyring.sign("status", {"sub": "u-1", "role": "admin"}, typ=ACCESS_TYP)
    with pytest.raises(TokenInvalid, match="algorithm not allowed"):
        read_access_token(new_secret(), token, issuer=ISSUER)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        mint_access_token("hunter2", Actor(id="u-1", role="clerk"), issuer=ISSUER)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        read_access_token("hunter2", "a.b.c", issuer=ISSUER)
