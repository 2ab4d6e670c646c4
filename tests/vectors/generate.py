"""Writes the token test vectors: every intermediate (claims → header → signed token → URL →
QR PNG), the public keys, a validation clock and the expected outcome, one JSON file per case.

Run from the worktree root: `python -m tests.vectors.generate`. The keys are made afresh
and ES256 signatures are randomized, so a run rewrites every signed output; the claims, the
clock and the outcomes are fixed. `tests/test_vectors.py` checks every file: the PNG with
zxing-cpp, every signature with independent libraries (jwcrypto for JWS, pycose for COSE),
and the outcome with our own verifier. The format is modelled on EU DCC's dgc-testdata
(see docs/tokens.md, "Test vectors").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cbor2
from joserfc.jwk import ECKey

from licensing.catalogue import default_catalogue
from licensing.qr import qr_png
from licensing.signing import POINTER_TYP, KeyRing, mint_pointer, sign_status
from licensing.snapshots import mint_snapshot
from projections.views import present_licence, status_document

HERE = Path(__file__).parent
ISSUER = "zzt-vectors"
ORIGIN = "https://zzt.example.gov.cn"
USCC = "91440604MA4UQRPT05"
CLOCK = 1_796_090_400  # 2026-12-01T02:00:00Z, the validation clock of every vector
PRINTED = CLOCK - 86_400 * 30
VERSION = 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _iso(moment: int) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat().replace("+00:00", "Z")


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload = token.split(".")[:2]
    pad = "=" * 2
    return (
        json.loads(base64.urlsafe_b64decode(header + pad)),
        json.loads(base64.urlsafe_b64decode(payload + pad)),
    )


class Writer:
    """Collects the vectors of one run, with the keys that made them."""

    def __init__(self, ring: KeyRing, stranger: KeyRing) -> None:
        self.ring = ring
        self.stranger = stranger
        self.revoked: dict[str, str] = {}

    def context(self, description: str, **extra: Any) -> dict[str, Any]:
        jwks = {"keys": [k for k in self.ring.jwks()["keys"] if k["kid"] not in self.revoked]}
        return {
            "VERSION": 1,
            "DESCRIPTION": description,
            "VALIDATIONCLOCK": _iso(CLOCK),
            "ISSUER": ISSUER,
            "JWKS": jwks,
            "PURPOSES": {kid: self.ring.purpose_of(kid) for kid in self.ring.kids()},
            "REVOKED": [
                {"kid": kid, "reason": why, "jwk": self.ring.public_jwk(kid)}
                for kid, why in self.revoked.items()
            ],
            **extra,
        }

    def write(
        self,
        group: str,
        name: str,
        *,
        kind: str,
        token: str,
        description: str,
        outcome: str,
        expected: dict[str, bool],
        claims: Any = None,
        header: Any = None,
        path: str = "/v/",
        **extra: Any,
    ) -> None:
        url = f"{ORIGIN}{path}{token}"
        vector = {
            "TYPE": kind,
            "HEADER": header,
            "CLAIMS": claims,
            "TOKEN": token,
            "URL": url,
            "2DCODE": base64.b64encode(qr_png(url, box_size=4)).decode("ascii"),
            "TESTCTX": self.context(description, **extra),
            "EXPECTEDRESULTS": {"EXPECTEDPICTUREDECODE": True, **expected},
            "EXPECTEDOUTCOME": outcome,
        }
        folder = HERE / group
        folder.mkdir(exist_ok=True)
        text = json.dumps(vector, ensure_ascii=False, indent=1) + "\n"
        (folder / f"{name}.json").write_text(text, encoding="utf-8")


def pointer(ring: KeyRing, *, qv: int = 1, issued_at: int = PRINTED) -> str:
    return mint_pointer(ring, issuer=ISSUER, uscc=USCC, print_version=qv, issued_at=issued_at)


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """By hand: JOSE libraries (ours included) refuse a public key as an HMAC secret, which
    is the point of the vector."""
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def pointers(w: Writer) -> None:
    ok = {"EXPECTEDDECODE": True, "EXPECTEDVERIFY": True, "EXPECTEDTYP": True}
    token = pointer(w.ring)
    header, claims = _parts(token)
    common = {"kind": "pointer", "header": header, "claims": claims}
    w.write("pointer", "PTR1-valid", token=token, description="VALID: the current printed copy",
            outcome="valid", expected=ok, PRINT={"current": 1, "void_below": 1}, **common)  # fmt: skip
    w.write("pointer", "PTR2-superseded", token=token,
            description="a genuine copy a reprint replaced: the live status, with a warning",
            outcome="superseded", expected=ok, PRINT={"current": 2, "void_below": 1}, **common)  # fmt: skip
    w.write("pointer", "PTR3-void", token=token,
            description="a genuine copy declared void (reported lost): no status shown",
            outcome="void", expected=ok, PRINT={"current": 3, "void_below": 3}, **common)  # fmt: skip

    head, body, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    w.write("pointer", "PTR4-bad-signature", token=f"{head}.{body}.{flipped}",
            description="the signature does not verify (one character changed)",
            outcome="signature does not verify",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": False}, **common)  # fmt: skip

    foreign = pointer(w.stranger)
    fh, fc = _parts(foreign)
    w.write("pointer", "PTR5-unknown-kid", token=foreign, kind="pointer", header=fh, claims=fc,
            description="signed by a key that is not in the JWKS", outcome="unknown key id",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": False})  # fmt: skip

    none_header = {"alg": "none", "kid": header["kid"], "typ": POINTER_TYP}
    unsigned = f"{_b64(json.dumps(none_header).encode())}.{body}."
    w.write("pointer", "PTR6-alg-none", token=unsigned, kind="pointer", header=none_header,
            claims=claims, description="alg none, no signature",
            outcome="algorithm not allowed: expected ES256",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": False})  # fmt: skip

    public_pem = ECKey.import_key(w.ring.public_jwk(header["kid"])).as_pem(private=False)
    hs_header = {"alg": "HS256", "kid": header["kid"], "typ": POINTER_TYP}
    confused = _hs256(hs_header, claims, public_pem)
    w.write("pointer", "PTR7-hs256-public-key-as-secret", token=confused, kind="pointer",
            header=hs_header, claims=claims,
            description="algorithm/key mismatch: HS256 with the public key (PEM) as the secret",
            outcome="algorithm not allowed: expected ES256",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": False})  # fmt: skip

    future = pointer(w.ring, issued_at=CLOCK + 3600)
    uh, uc = _parts(future)
    w.write("pointer", "PTR8-iat-in-the-future", token=future, kind="pointer", header=uh,
            claims=uc, description="issued an hour after the validation clock (leeway 60 s)",
            outcome="issued in the future",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": True,
                      "EXPECTEDEXPIRATIONCHECK": False})  # fmt: skip

    truncated = token[: len(head) + 1 + len(body) // 2]
    w.write("pointer", "PTR9-truncated", token=truncated, kind="pointer", header=header,
            claims=claims, description="the token cut short in its payload (a half-copied URL)",
            outcome="malformed token", expected={"EXPECTEDDECODE": False})  # fmt: skip
    w.write("pointer", "PTR9b-truncated-signature", token=token[:-20], kind="pointer",
            header=header, claims=claims, description="the signature cut short",
            outcome="signature does not verify",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": False})  # fmt: skip

    status = sign_status(w.ring, {"v": 7}, issuer=ISSUER, subject=USCC, now=CLOCK)
    sh, sc = _parts(status)
    w.write("pointer", "PTR10-status-document-as-pointer", token=status, kind="pointer",
            header=sh, claims=sc, description="a genuine status document presented as a pointer",
            outcome=f"wrong token type: expected {POINTER_TYP}",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": True, "EXPECTEDTYP": False})  # fmt: skip

    snap = mint_snapshot(w.ring, issuer=ISSUER, uscc=USCC, version=VERSION,
                         registration_status="active", permits={"business_licence": "valid"},
                         now=CLOCK)  # fmt: skip
    w.write("pointer", "PTR11-snapshot-as-pointer", token=snap, kind="pointer",
            description="a genuine snapshot (COSE) presented as a pointer",
            outcome="malformed token", expected={"EXPECTEDDECODE": False})  # fmt: skip

    crossed = w.ring.sign("status", claims, typ=POINTER_TYP)
    ch, _ = _parts(crossed)
    w.write("pointer", "PTR12-status-key-signs-a-pointer", token=crossed, kind="pointer",
            header=ch, claims=claims,
            description="a pointer's typ and claims, signed by our status key: wrong purpose",
            outcome=f"key {ch['kid']} signs status tokens, not pointer tokens",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": True, "EXPECTEDTYP": True})  # fmt: skip


def _permit_row(permit_type: str, department: str, **values: Any) -> dict[str, Any]:
    return {
        "permit_type": permit_type,
        "department": department,
        "status": "valid",
        "reason": "准予许可 approved",
        "standing": "in_force",
        "legal_basis": None,
        "permit_number": None,
        "valid_from": None,
        "valid_until": None,
        "version": 2,
        "updated_at": "2026-11-20T02:00:00+00:00",
    } | values


def example_status_document() -> dict[str, Any]:
    """The status document of a restaurant whose sewage permit was refused, as the scan
    answers it (made by the same views, so the vectors follow the claims)."""
    row = {
        "uscc": USCC,
        "name": "向量饭店有限公司",
        "entity_type": "limited_company",
        "domicile": "佛山市南海区桂城街道向量路1号",
        "business_scope": "餐饮服务",
        "registered_capital": "100000.00",
        "status": "active",
        "status_since": "2026-11-20",
        "print_version": 1,
        "version": 7,
        "updated_at": "2026-11-30T10:00:00+00:00",
        "permits": [
            _permit_row("business_licence", "samr", permit_number="91440604MA4UQRPT05"),
            _permit_row(
                "food_operation",
                "samr",
                permit_number="JY14406050001",
                valid_from="2026-11-20",
                valid_until="2031-11-19",
            ),
            _permit_row(
                "sewage_discharge",
                "water",
                status="invalid",
                standing="refused",
                reason="排水设施不符合要求",
                legal_basis="《城镇排水与污水处理条例》第二十一条",
            ),
        ],
        "credit_listings": [],
    }
    today = datetime.fromtimestamp(CLOCK, tz=UTC).date()
    licence = present_licence(row, names=default_catalogue(), today=today)
    return status_document(licence, print_version=1)


def statuses(w: Writer) -> None:
    doc = example_status_document()
    fresh = sign_status(w.ring, doc, issuer=ISSUER, subject=USCC, now=CLOCK - 60)
    h, c = _parts(fresh)
    ok = {"EXPECTEDDECODE": True, "EXPECTEDVERIFY": True, "EXPECTEDTYP": True,
          "EXPECTEDEXPIRATIONCHECK": True}  # fmt: skip
    w.write("status", "STA1-valid", token=fresh, kind="status", header=h, claims=c,
            description="VALID: a status document signed a minute before the clock",
            outcome="valid", expected=ok)  # fmt: skip
    old = sign_status(w.ring, doc, issuer=ISSUER, subject=USCC, now=CLOCK - 3600)
    h, c = _parts(old)
    w.write("status", "STA2-expired", token=old, kind="status", header=h, claims=c,
            description="expired: signed an hour before the clock, valid five minutes",
            outcome="expired", expected=ok | {"EXPECTEDEXPIRATIONCHECK": False})  # fmt: skip


def snapshots(w: Writer) -> None:
    permits = {"business_licence": "valid", "food_operation": "under_rectification"}
    ok = {"EXPECTEDDECODE": True, "EXPECTEDVERIFY": True, "EXPECTEDEXPIRATIONCHECK": True}

    def snap(issued: int) -> tuple[str, dict[str, Any]]:
        token = mint_snapshot(w.ring, issuer=ISSUER, uscc=USCC, version=VERSION,
                              registration_status="active", permits=permits, now=issued)  # fmt: skip
        raw = base64.b32decode(token + "=" * (-len(token) % 8))
        message = cbor2.loads(raw)
        cwt = cbor2.loads(message.value[2])
        return token, {
            "COSE": raw.hex(),
            "PROTECTED": cbor2.loads(message.value[0]) | {4: message.value[0].hex()},
            "CBOR": message.value[2].hex(),
            "CWT": {str(k): v for k, v in cwt.items()},
        }

    token, parts = snap(CLOCK - 60)
    cwt = parts.pop("CWT")
    header = {"protected_hex": parts["PROTECTED"][4]}
    common = {"kind": "snapshot", "header": header, "claims": cwt, "path": "/s/"}
    w.write("snapshot", "SNP1-valid", token=token, description="VALID: signed a minute ago",
            outcome="valid", expected=ok, LIVEVERSION=VERSION, COSE=parts["COSE"],
            CBOR=parts["CBOR"], **common)  # fmt: skip
    w.write("snapshot", "SNP2-behind", token=token,
            description="genuine and fresh, but the licence has changed since: flagged",
            outcome="behind", expected=ok, LIVEVERSION=VERSION + 2, COSE=parts["COSE"],
            CBOR=parts["CBOR"], **common)  # fmt: skip
    stale, stale_parts = snap(CLOCK - 3600)
    stale_cwt = stale_parts.pop("CWT")
    w.write("snapshot", "SNP3-expired", token=stale, kind="snapshot", claims=stale_cwt,
            header={"protected_hex": stale_parts["PROTECTED"][4]}, path="/s/",
            description="expired: signed an hour before the clock, valid five minutes",
            outcome=f"expired at {_iso(CLOCK - 3600 + 300).replace('Z', '+00:00')}",
            expected=ok | {"EXPECTEDEXPIRATIONCHECK": False}, LIVEVERSION=VERSION,
            COSE=stale_parts["COSE"], CBOR=stale_parts["CBOR"])  # fmt: skip


def revoked(w: Writer) -> None:
    """Last: the pointer key that signed the vectors above is rotated, then revoked."""
    token = pointer(w.ring)
    header, claims = _parts(token)
    w.ring.rotate("pointer")
    w.revoked[header["kid"]] = "private key disclosed"
    w.ring.revoke(header["kid"], "private key disclosed")
    w.write("pointer", "PTR13-revoked-key", token=token, kind="pointer", header=header,
            claims=claims,
            description="signed by a key since revoked: it is left out of the JWKS (REVOKED "
            "lists it); the signature holds, the token is refused",
            outcome="signed with a revoked key (private key disclosed)",
            expected={"EXPECTEDDECODE": True, "EXPECTEDVERIFY": False})  # fmt: skip


GROUPS: tuple[Callable[[Writer], None], ...] = (pointers, statuses, snapshots, revoked)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ring = KeyRing.load_or_create(Path(tmp) / "ours")
        stranger = KeyRing.load_or_create(Path(tmp) / "stranger")
        for folder in ("pointer", "status", "snapshot"):
            for old in (HERE / folder).glob("*.json"):
                old.unlink()
        writer = Writer(ring, stranger)
        for group in GROUPS:
            group(writer)
    count = sum(1 for _ in HERE.glob("*/*.json"))
    print(f"wrote {count} vectors under {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
