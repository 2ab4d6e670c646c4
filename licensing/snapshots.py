"""The electronic licence's snapshot code: a short-lived COSE_Sign1 CWT of its statuses, verifiable offline."""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, TypeGuard

import cbor2
import yaml

from licensing.signing import KeyRing, TokenInvalid, cose_kid

__all__ = [
    "SNAPSHOT_PATH",
    "Snapshot",
    "SnapshotExpired",
    "TokenCodes",
    "mint_snapshot",
    "read_snapshot",
    "token_codes",
]

# The URL a snapshot code holds is `<origin>/s/<token>`: a phone camera opens the live page,
# an official app verifies the token offline.
SNAPSHOT_PATH = "/s/"

_COSE_SIGN1 = 18  # CBOR tag of COSE_Sign1 (RFC 9052)
_CWT = 61  # CBOR tag of a CWT (RFC 8392); DCC verifiers accept it around tag 18, and so do we
_ES256 = -7  # COSE's ES256 (RFC 9053); RFC 9864's ESP256 (-9) when verifiers know it
_ALG, _KID = 1, 4  # COSE header labels
_ISS, _SUB, _EXP, _IAT = 1, 2, 4, 6  # CWT claim keys (RFC 8392)
# Our own claims, under short text keys (RFC 8392 allows text claim names): the licence
# version, the registration's status code and {permit type code: permit status code}.
_VERSION, _REGISTRATION, _PERMITS = "v", "s", "p"
_BASE32 = re.compile(r"[A-Z2-7]+")
# A snapshot is ~160 bytes, ~260 base32 characters; anything far longer is not one of ours.
_MAX_LENGTH = 1024
_USCC = re.compile(r"[0-9A-Z]{18}")


class SnapshotExpired(TokenInvalid):
    """A genuine snapshot, past its expiry: the holder should show a fresh one."""

    def __init__(self, expired_at: int) -> None:
        moment = datetime.fromtimestamp(expired_at, tz=UTC).isoformat()
        super().__init__(f"expired at {moment}")
        self.expired_at = expired_at


@dataclass(frozen=True)
class TokenCodes:
    """The integer codes signed into snapshots (`licensing/data/token_codes.yaml`)."""

    registration_status: Mapping[str, int]
    permit_status: Mapping[str, int]
    permit_types: Mapping[str, int]

    def name(self, table: str, code: int) -> str:
        """The name a code stands for in `table`; TokenInvalid for a code never assigned."""
        for name, value in getattr(self, table).items():
            if value == code:
                return str(name)
        raise TokenInvalid(f"unknown {table.replace('_', ' ')} code {code}")

    def code(self, table: str, name: str) -> int:
        try:
            return int(getattr(self, table)[name])
        except KeyError:
            msg = f"no {table.replace('_', ' ')} code for {name!r} in token_codes.yaml"
            raise LookupError(msg) from None


@cache
def token_codes() -> TokenCodes:
    """The codes, loaded once and checked: within each table, no number is used twice."""
    text = resources.files("licensing").joinpath("data/token_codes.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    codes = TokenCodes(**{table: dict(raw[table]) for table in TokenCodes.__dataclass_fields__})
    for table in TokenCodes.__dataclass_fields__:
        numbers = list(getattr(codes, table).values())
        if len(set(numbers)) != len(numbers) or not all(_is_int(n) and n >= 0 for n in numbers):
            msg = f"token_codes.yaml: {table} must give each name its own non-negative integer"
            raise ValueError(msg)
    return codes


@dataclass(frozen=True)
class Snapshot:
    """What a snapshot code asserts: at `issued_at`, licence `uscc` was at `version`, with
    these statuses; valid until `expires_at` (seconds since the epoch)."""

    issuer: str
    uscc: str
    version: int
    issued_at: int
    expires_at: int
    registration_status: str
    permits: dict[str, str]  # permit type -> permit status


def mint_snapshot(
    ring: KeyRing,
    *,
    issuer: str,
    uscc: str,
    version: int,
    registration_status: str,
    permits: Mapping[str, str],
    ttl: int = 300,
    now: int | None = None,
) -> str:
    """A snapshot code's token: COSE_Sign1 over a CWT, signed with the snapshot key,
    base32 (RFC 4648, upper case, no padding) so a QR code holds it in alphanumeric mode."""
    if not _USCC.fullmatch(uscc):
        msg = f"not a USCC: {uscc!r}"
        raise ValueError(msg)
    codes = token_codes()
    issued_at = int(time.time()) if now is None else now
    claims = {
        _ISS: issuer,
        _SUB: uscc,
        _IAT: issued_at,
        _EXP: issued_at + ttl,
        _VERSION: version,
        _REGISTRATION: codes.code("registration_status", registration_status),
        _PERMITS: {
            codes.code("permit_types", kind): codes.code("permit_status", status)
            for kind, status in sorted(permits.items())
        },
    }
    payload = cbor2.dumps(claims)
    kid = ring.current_kid("snapshot")
    protected = cbor2.dumps({_ALG: _ES256, _KID: cose_kid(kid)})
    signature = ring.sign_bytes("snapshot", _to_be_signed(protected, payload), kid=kid)
    message = cbor2.CBORTag(_COSE_SIGN1, [protected, {}, payload, signature])
    return base64.b32encode(cbor2.dumps(message)).decode("ascii").rstrip("=")


def read_snapshot(
    ring: KeyRing, token: str, *, issuer: str, leeway: int = 60, now: int | None = None
) -> Snapshot:
    """Verify a snapshot token and return what it asserts. The signature first (ES256 only,
    the key chosen by the kid among the snapshot keys), then the issuer, then the times:
    a genuine but expired snapshot is SnapshotExpired; anything else wrong is TokenInvalid."""
    protected, payload, signature = _parts(token)
    header = _map(protected, "protected header")
    if header.get(_ALG) != _ES256:
        raise TokenInvalid("algorithm not allowed: expected ES256 (-7)")
    key_id = header.get(_KID)
    kid = ring.kid_with_prefix(key_id) if isinstance(key_id, bytes) else None
    if kid is None:
        raise TokenInvalid("unknown key id")
    ring.verify_bytes("snapshot", kid, _to_be_signed(protected, payload), signature)
    claims = _map(payload, "payload")
    if claims.get(_ISS) != issuer:
        raise TokenInvalid("wrong issuer")
    uscc, issued_at, expires_at = claims.get(_SUB), claims.get(_IAT), claims.get(_EXP)
    version, registration, permits = (claims.get(k) for k in (_VERSION, _REGISTRATION, _PERMITS))
    if not (isinstance(uscc, str) and _USCC.fullmatch(uscc)):
        raise TokenInvalid("subject is not a USCC")
    if not (_is_int(issued_at) and _is_int(expires_at) and expires_at > issued_at):
        raise TokenInvalid("issued-at and expiry are missing or out of order")
    if not (_is_int(version) and version >= 1 and _is_int(registration)):
        raise TokenInvalid("malformed token")
    if not isinstance(permits, dict) or not all(
        _is_int(k) and _is_int(v) for k, v in permits.items()
    ):
        raise TokenInvalid("malformed token")
    moment = int(time.time()) if now is None else now
    if issued_at > moment + leeway:
        raise TokenInvalid("issued in the future")
    if moment > expires_at + leeway:
        raise SnapshotExpired(expires_at)
    codes = token_codes()
    return Snapshot(
        issuer=issuer,
        uscc=uscc,
        version=version,
        issued_at=issued_at,
        expires_at=expires_at,
        registration_status=codes.name("registration_status", registration),
        permits={
            codes.name("permit_types", k): codes.name("permit_status", v)
            for k, v in permits.items()
        },
    )


def _is_int(value: object) -> TypeGuard[int]:
    # CBOR true would pass isinstance(int); a time or a code is never a boolean.
    return isinstance(value, int) and not isinstance(value, bool)


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    # Sig_structure (RFC 9052 §4.4), with no external additional data.
    return cbor2.dumps(["Signature1", protected, b"", payload])


def _parts(token: str) -> tuple[bytes, bytes, bytes]:
    """The protected header, payload and signature of a base32 COSE_Sign1; TokenInvalid if
    it is not one."""
    if not isinstance(token, str) or len(token) > _MAX_LENGTH or not _BASE32.fullmatch(token):
        raise TokenInvalid("malformed token")
    try:
        raw = base64.b32decode(token + "=" * (-len(token) % 8))
        message = cbor2.loads(raw)
    except (binascii.Error, ValueError, cbor2.CBORDecodeError):
        raise TokenInvalid("malformed token") from None
    if isinstance(message, cbor2.CBORTag) and message.tag == _CWT:
        message = message.value
    if not (isinstance(message, cbor2.CBORTag) and message.tag == _COSE_SIGN1):
        raise TokenInvalid("malformed token: not a COSE_Sign1")
    parts = message.value
    if not (isinstance(parts, list | tuple) and len(parts) == 4):
        raise TokenInvalid("malformed token: not a COSE_Sign1")
    protected, unprotected, payload, signature = parts
    if not all(isinstance(p, bytes) for p in (protected, payload, signature)) or not isinstance(
        unprotected, dict
    ):
        raise TokenInvalid("malformed token: not a COSE_Sign1")
    return protected, payload, signature


def _map(data: bytes, what: str) -> dict[Any, Any]:
    try:
        value = cbor2.loads(data)
    except (ValueError, cbor2.CBORDecodeError):
        raise TokenInvalid(f"malformed token: {what} is not CBOR") from None
    if not isinstance(value, dict):
        raise TokenInvalid(f"malformed token: {what} is not a map")
    return value
