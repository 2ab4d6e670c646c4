"""Signing keys per purpose and the tokens they sign: QR pointers, status documents, access."""

from __future__ import annotations

import base64
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import ECKey, OctKey
from joserfc.jwt import JWTClaimsRegistry

from domain.actor import ROLES, Actor, Role

__all__ = [
    "ACCESS_TYP",
    "MAX_STATUS_LENGTH",
    "MAX_TOKEN_LENGTH",
    "POINTER_TYP",
    "PURPOSES",
    "STATUS_TYP",
    "KeyDecryptionFailed",
    "KeyRevoked",
    "KeyRing",
    "Pointer",
    "TokenInvalid",
    "cose_kid",
    "mint_access_token",
    "mint_pointer",
    "new_secret",
    "read_access_token",
    "read_pointer",
    "sign_status",
    "signed_status",
]

POINTER_TYP = "lic-ptr+jwt"
STATUS_TYP = "licence-status+jwt"
ACCESS_TYP = "at+jwt"

# Pointer keys sign what is printed on paper and must verify for as long as the paper
# exists; status keys sign documents that live for minutes, snapshot keys the electronic
# licence's codes that live for minutes too. Separate keys per purpose (reference §5.4)
# mean one token type can never be accepted as another.
PURPOSES = ("pointer", "status", "snapshot")

# A pointer is ~300 characters and a status document a few hundred more; anything far
# longer is garbage or an attack, and we refuse it before parsing or verifying anything.
MAX_TOKEN_LENGTH = 2048
# A status document is never in a URL: it names every permit with its reason and every credit
# listing, so a large bundle's runs to a few kilobytes. Still bounded before any parsing.
MAX_STATUS_LENGTH = 65_536

_SIGNING_ALG = "ES256"
_ACCESS_ALG = "HS256"
_MIN_SECRET_BYTES = 32
_KID_LENGTH = 16
_USCC = re.compile(r"[0-9A-Z]{18}")
_CREATED_PREFIX = "Created: "
# Signatures remembered by a ring (tokens of at most MAX_TOKEN_LENGTH characters each).
_VERIFIED_MAX = 10_000


class TokenInvalid(Exception):
    """A token was refused; the message is a short reason safe to show or log."""


class KeyRevoked(TokenInvalid):
    """The token's signature is good, but by a key revoked as compromised: refused."""

    def __init__(self, why: str) -> None:
        super().__init__(f"signed with a revoked key ({why})")
        self.why = why


class KeyDecryptionFailed(ValueError):
    """An encrypted private key did not decrypt: the wrong passphrase, or a damaged key."""


@dataclass(frozen=True)
class _SigningKey:
    purpose: str
    kid: str
    created: int  # nanoseconds since the epoch; the newest key of a purpose signs
    key: ECKey = field(repr=False)  # private material never reaches a log line

    @property
    def can_sign(self) -> bool:
        # A key another process published, whose private half is not in our folder, verifies.
        return bool(self.key.is_private)


class KeyRing:
    """ES256 signing keys, several per purpose; the newest of a purpose signs, all verify.

    Kids are the first 16 characters of the RFC 7638 thumbprint, so every kid belongs to
    exactly one purpose; `purpose_of(kid)` says which. The published JWKS carries standard
    members only, so any JOSE library can consume it.
    """

    def __init__(
        self,
        *,
        keys: list[_SigningKey],
        directory: Path | None = None,
        revoked: dict[str, str] | None = None,
    ) -> None:
        self._directory = directory
        self._by_kid: dict[str, _SigningKey] = {}
        self._revoked: dict[str, str] = dict(revoked or {})  # kid -> why
        # Signatures already checked, by (purpose, typ, token): a printed code is scanned
        # again and again, and an ES256 verification is the dearest step of a scan. What
        # a hit skips is only the signature arithmetic: the key's purpose, its revocation
        # and the token's times are checked on every use. A revocation empties it.
        self._verified: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
        # Moves whenever the set of keys or revocations changes (answers signed or checked
        # before may no longer stand).
        self.generation = 0
        for signing_key in keys:
            self._add(signing_key)

    def __repr__(self) -> str:
        # Never let a stray log line carry key material: show kids only.
        return f"KeyRing(kids={sorted(self._by_kid)!r})"

    @classmethod
    def load(cls, directory: Path) -> KeyRing:
        """The `<purpose>-<kid>.pem` keys in `directory`, creating none (the folder, if new,
        is made private to the owner)."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask; private keys live here, so insist.
        os.chmod(directory, 0o700)
        keys = [_read_key_file(path) for path in sorted(directory.glob("*.pem"))]
        return cls(keys=keys, directory=directory)

    @classmethod
    def load_or_create(cls, directory: Path) -> KeyRing:
        """Load the keys in `directory` and create any purpose's missing key. For a key folder
        on its own (tools, tests): a server goes through `licensing.keys`, which checks the
        folder against the keys its store has published and never creates them silently."""
        ring = cls.load(directory)
        for purpose in PURPOSES:
            if not ring._keys_of(purpose):
                ring.rotate(purpose)
        return ring

    def rotate(self, purpose: str) -> str:
        """Add a key that signs `purpose` from now on (old ones still verify); return its kid."""
        _check_purpose(purpose)
        newest = max((k.created for k in self._keys_of(purpose)), default=0)
        # Two rotations inside one clock tick must still order deterministically.
        created = max(time.time_ns(), newest + 1)
        key = ECKey.generate_key("P-256", parameters={"alg": _SIGNING_ALG, "use": "sig"})
        kid = key.thumbprint()[:_KID_LENGTH]
        signing_key = _SigningKey(
            purpose=purpose, kid=kid, created=created, key=_with_kid(key, kid)
        )
        if self._directory is not None:
            _write_key_file(self._directory, signing_key)
        self._add(signing_key)
        return kid

    def kids(self, purpose: str | None = None) -> list[str]:
        """The kids in the ring (of `purpose`, or all), oldest first."""
        keys = self._keys_of(purpose) if purpose else list(self._by_kid.values())
        return [k.kid for k in sorted(keys, key=lambda k: (k.created, k.kid))]

    def created_of(self, kid: str) -> int:
        """When the key was generated, in nanoseconds since the epoch."""
        return self._by_kid[kid].created

    def public_jwk(self, kid: str) -> dict[str, str]:
        """The key's public members (RFC 7517), as the JWKS publishes them."""
        return _public_jwk(self._by_kid[kid])

    def subset(self, kids: list[str]) -> KeyRing:
        """A ring of only these keys, writing new ones to the same folder."""
        return KeyRing(
            keys=[self._by_kid[kid] for kid in kids],
            directory=self._directory,
            revoked={k: why for k, why in self._revoked.items() if k in kids},
        )

    def add_public(self, purpose: str, kid: str, jwk: dict[str, str], created: int) -> None:
        """Add a key to verify with only: one another process published, whose private half
        this process's folder does not hold."""
        _check_purpose(purpose)
        key = ECKey.import_key(dict(jwk), {"kid": kid, "alg": _SIGNING_ALG, "use": "sig"})
        if key.thumbprint()[:_KID_LENGTH] != kid:
            msg = f"published key {kid} does not match its kid"
            raise ValueError(msg)
        self._add(_SigningKey(purpose=purpose, kid=kid, created=created, key=key))

    def learn(self, *, purpose: str, kid: str, jwk: dict[str, str], created: int) -> None:
        """Add a key another process published: with its private half if this ring's folder
        holds it (a folder they share), else to verify with only."""
        if kid in self._by_kid:
            return
        path = self._directory / f"{purpose}-{kid}.pem" if self._directory else None
        if path is not None and path.exists():
            self._add(_read_key_file(path))
        else:
            self.add_public(purpose, kid, jwk, created)

    def revoke(self, kid: str, reason: str) -> None:
        """Refuse every token `kid` signed from now on (its public key leaves the JWKS)."""
        self._revoked = {**self._revoked, kid: reason}
        self._verified = {}
        self.generation += 1

    def follow(self) -> int:
        """Take in keys and revocations other processes published, if it is time to look;
        returns `generation`."""
        self._follow()
        return self.generation

    def revoked(self) -> dict[str, str]:
        """The revoked kids, with why."""
        return dict(self._revoked)

    def can_sign(self, kid: str) -> bool:
        """Whether this ring holds the key's private half."""
        return self._by_kid[kid].can_sign

    def discard(self, kid: str) -> None:
        """Forget a key that never signed anything (a lost race), and delete its file."""
        signing_key = self._by_kid[kid]
        self._by_kid = {k: v for k, v in self._by_kid.items() if k != kid}
        self._verified = {}
        self.generation += 1
        if self._directory is not None:
            (self._directory / _file_name(signing_key)).unlink(missing_ok=True)

    def export_encrypted(self, kid: str, passphrase: bytes) -> tuple[str, bytes]:
        """A key file's name and its content with the private key encrypted under
        `passphrase` (PKCS#8, PBES2 with AES-256: cryptography's BestAvailableEncryption)."""
        signing_key = self._by_kid[kid]
        pem = signing_key.key.private_key.private_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        return _file_name(signing_key), f"{_CREATED_PREFIX}{signing_key.created}\n".encode() + pem

    def import_encrypted(self, name: str, content: bytes, passphrase: bytes) -> str:
        """Add a key exported by `export_encrypted` (and write it, decrypted, to the folder);
        returns its kid. KeyDecryptionFailed if `passphrase` does not open it."""
        try:
            private = serialization.load_pem_private_key(content, passphrase)
        except (ValueError, TypeError):
            raise KeyDecryptionFailed(f"{name}: the key does not decrypt") from None
        plain = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        created = _created_of(content)
        if created is None:
            msg = f"{name}: no creation time before the key"
            raise ValueError(msg)
        signing_key = _parse_key(name, plain, created=created)
        if self._directory is not None:
            _write_key_file(self._directory, signing_key)
        self._add(signing_key)
        return signing_key.kid

    def purpose_of(self, kid: str) -> str:
        """The purpose (`"pointer"` or `"status"`) whose key has this kid."""
        try:
            return self._by_kid[kid].purpose
        except KeyError:
            raise TokenInvalid("unknown key id") from None

    def current_kid(self, purpose: str) -> str:
        self._follow()
        return self._current(purpose).kid

    def jwks(self) -> dict[str, Any]:
        """Every public key, active and retired, as a JWK Set (no private members). Revoked
        keys are left out, so that no verifier accepts what they signed."""
        self._follow()
        keys = [k for k in self._by_kid.values() if k.kid not in self._revoked]
        return {
            "keys": [_public_jwk(k) for k in sorted(keys, key=lambda k: (k.purpose, k.created))]
        }

    def sign(self, purpose: str, claims: dict[str, Any], *, typ: str) -> str:
        """Compact JWS of `claims`, header {alg: ES256, kid, typ}, by the purpose's newest key."""
        self._follow()
        signing_key = self._current(purpose)
        header = {"alg": _SIGNING_ALG, "kid": signing_key.kid, "typ": typ}
        return jwt.encode(
            header, claims, signing_key.key, algorithms=[_SIGNING_ALG], default_type=None
        )

    def verify(
        self,
        purpose: str,
        token: str,
        *,
        typ: str,
        leeway: int = 60,
        now: int | None = None,
    ) -> dict[str, Any]:
        """Verify `token` against `purpose`'s keys only, and return its claims.

        ES256 only; the key is chosen by kid among this purpose's keys, never from the
        token's own contents; `typ` must match exactly; `exp` (if present) and `iat` are
        checked with `leeway` seconds of clock skew.
        """
        _check_purpose(purpose)
        limit = MAX_STATUS_LENGTH if purpose == "status" else MAX_TOKEN_LENGTH
        header = _unverified_header(token, limit=limit)
        if header.get("alg") != _SIGNING_ALG:
            raise TokenInvalid(f"algorithm not allowed: expected {_SIGNING_ALG}")
        if header.get("typ") != typ:
            raise TokenInvalid(f"wrong token type: expected {typ}")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise TokenInvalid("unknown key id")
        signing_key = self.verifying_key(purpose, kid)
        checked = self._verified.get((purpose, typ, token))
        if checked is not None and checked[0] == kid:
            claims = dict(checked[1])
        else:
            claims = _decode(token, signing_key.key, algorithm=_SIGNING_ALG)
            if len(self._verified) >= _VERIFIED_MAX:
                self._verified = {}  # bounded: start again rather than grow without end
            self._verified[(purpose, typ, token)] = (kid, dict(claims))
        self._refuse_revoked(kid)
        _check_times(claims, leeway=leeway, now=now, require_exp=False)
        return claims

    def verifying_key(self, purpose: str, kid: str) -> _SigningKey:
        """The key `kid` names, if it is one of `purpose`'s: else TokenInvalid. A kid this
        process has not seen may be a key another process published since: look once."""
        self._follow()
        if kid not in self._by_kid:
            self._unknown_kid(kid)
        signing_key = self._by_kid.get(kid)
        if signing_key is None:
            raise TokenInvalid("unknown key id")
        if signing_key.purpose != purpose:
            # A genuine key of ours, for another kind of token: the confusion RFC 8725 warns of.
            raise TokenInvalid(
                f"key {kid} signs {signing_key.purpose} tokens, not {purpose} tokens"
            )
        return signing_key

    def sign_bytes(self, purpose: str, data: bytes, *, kid: str) -> bytes:
        """An ES256 signature of `data` by `kid` (the purpose's current key, as `current_kid`
        named it when the signed header was built), as the raw 64 bytes r‖s (RFC 9053 §2.1)."""
        signing_key = self._by_kid[kid]
        if signing_key.purpose != purpose or not signing_key.can_sign:
            msg = f"key {kid} cannot sign {purpose} tokens here"
            raise LookupError(msg)
        private = signing_key.key.private_key
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def verify_bytes(self, purpose: str, kid: str, data: bytes, signature: bytes) -> None:
        """Check a raw r‖s ES256 signature of `data` by `kid`, one of `purpose`'s keys;
        TokenInvalid (or KeyRevoked) if it does not hold."""
        signing_key = self.verifying_key(purpose, kid)
        public = signing_key.key.public_key
        assert isinstance(public, ec.EllipticCurvePublicKey)
        if len(signature) != 64:
            raise TokenInvalid("signature does not verify")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public.verify(der, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise TokenInvalid("signature does not verify") from None
        self._refuse_revoked(kid)

    def kid_with_prefix(self, prefix: bytes) -> str | None:
        """The kid whose thumbprint starts with `prefix` (a COSE kid: the first 8 bytes)."""
        self._follow()
        found = [kid for kid in self._by_kid if cose_kid(kid) == prefix]
        if not found:
            self._unknown_kid(prefix.hex())
            found = [kid for kid in self._by_kid if cose_kid(kid) == prefix]
        return found[0] if found else None

    def _refuse_revoked(self, kid: str) -> None:
        # Checked after the signature: a forged token naming a revoked kid is a forgery, and
        # says nothing about what the key signed.
        if kid in self._revoked:
            raise KeyRevoked(self._revoked[kid])

    # Hooks for a ring that follows what other processes publish (licensing.keys).

    def _follow(self) -> None:
        """Called before every use: a ring of a store looks for new keys now and then."""

    def _unknown_kid(self, kid: str) -> None:
        """Called for a kid not in the ring: a ring of a store looks (at most so often)."""

    def _add(self, signing_key: _SigningKey) -> None:
        if signing_key.kid in self._by_kid:
            msg = f"duplicate key id {signing_key.kid}"
            raise ValueError(msg)
        # Copy on write: other threads may be reading the ring while it learns a key.
        self._by_kid = {**self._by_kid, signing_key.kid: signing_key}
        self.generation += 1

    def _keys_of(self, purpose: str) -> list[_SigningKey]:
        return [k for k in self._by_kid.values() if k.purpose == purpose]

    def _current(self, purpose: str) -> _SigningKey:
        _check_purpose(purpose)
        keys = [k for k in self._keys_of(purpose) if k.kid not in self._revoked]
        if not keys:
            msg = f"no {purpose} key in the key ring"
            raise LookupError(msg)
        newest = max(keys, key=lambda k: k.created)
        if newest.can_sign:
            return newest
        # Published by a process with another data folder: until its private half is copied
        # here, the newest key this process holds signs (it still verifies everywhere).
        usable = [k for k in keys if k.can_sign]
        if not usable:
            msg = f"no {purpose} key with its private half in the key ring"
            raise LookupError(msg)
        return max(usable, key=lambda k: k.created)


# --- pointer tokens (the printed QR) -------------------------------------------------


@dataclass(frozen=True)
class Pointer:
    """What a printed QR asserts: this issuer printed copy `print_version` of licence `uscc`."""

    issuer: str
    uscc: str
    print_version: int
    issued_at: int


def mint_pointer(
    keyring: KeyRing, *, issuer: str, uscc: str, print_version: int, issued_at: int
) -> str:
    """Sign a printed licence's pointer: no status, no expiry, no personal data (§5.2, §5.8)."""
    if not _USCC.fullmatch(uscc):
        msg = f"not a USCC: {uscc!r}"
        raise ValueError(msg)
    if print_version < 1:
        msg = "print_version must be positive"
        raise ValueError(msg)
    claims = {"iss": issuer, "sub": uscc, "qv": print_version, "iat": issued_at}
    return keyring.sign("pointer", claims, typ=POINTER_TYP)


def read_pointer(keyring: KeyRing, token: str, *, issuer: str, now: int | None = None) -> Pointer:
    """Verify a pointer token and return what it asserts; anything else is TokenInvalid."""
    claims = keyring.verify("pointer", token, typ=POINTER_TYP, now=now)
    if claims.get("iss") != issuer:
        raise TokenInvalid("wrong issuer")
    uscc = claims.get("sub")
    if not isinstance(uscc, str) or not _USCC.fullmatch(uscc):
        raise TokenInvalid("subject is not a USCC")
    print_version = claims.get("qv")
    if not _is_int(print_version) or print_version < 1:
        raise TokenInvalid("print version is not a positive integer")
    issued_at = claims.get("iat")
    if not _is_int(issued_at):
        raise TokenInvalid("issued-at is missing")
    return Pointer(issuer=issuer, uscc=uscc, print_version=print_version, issued_at=issued_at)


# --- status documents (the verify endpoint's JSON) -----------------------------------


def sign_status(
    keyring: KeyRing,
    doc: dict[str, Any],
    *,
    issuer: str,
    subject: str,
    ttl: int = 300,
    now: int | None = None,
) -> str:
    """Sign a live status document that expires after `ttl` seconds (reference §5.3)."""
    return signed_status(keyring, doc, issuer=issuer, subject=subject, ttl=ttl, now=now)[0]


def signed_status(
    keyring: KeyRing,
    doc: dict[str, Any],
    *,
    issuer: str,
    subject: str,
    ttl: int = 300,
    now: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """A live status document signed, and the claims signed (`doc` with `iss`, `sub`, `iat`
    and `exp`), so an answer can show exactly what its signature covers."""
    issued_at = int(time.time()) if now is None else now
    claims = {"iss": issuer, "sub": subject, "iat": issued_at, "exp": issued_at + ttl, **doc}
    return keyring.sign("status", claims, typ=STATUS_TYP), claims


# --- access tokens (API bearer tokens) -----------------------------------------------


def new_secret() -> str:
    """A fresh shared secret for access tokens (64 URL-safe characters, 384 bits)."""
    return secrets.token_urlsafe(48)


def mint_access_token(
    secret: str,
    actor: Actor,
    *,
    issuer: str,
    ttl: int = 8 * 3600,
    now: int | None = None,
) -> str:
    """An HS256 bearer token naming `actor`, valid for `ttl` seconds."""
    key = _access_key(secret)
    issued_at = int(time.time()) if now is None else now
    claims: dict[str, Any] = {"iss": issuer, "sub": actor.id, "role": actor.role}
    if actor.department:
        claims["dept"] = actor.department
    if actor.district:
        claims["district"] = actor.district
    claims.update(iat=issued_at, exp=issued_at + ttl, jti=secrets.token_urlsafe(12))
    header = {"alg": _ACCESS_ALG, "typ": ACCESS_TYP}
    return jwt.encode(header, claims, key, algorithms=[_ACCESS_ALG], default_type=None)


def read_access_token(
    secret: str,
    token: str,
    *,
    issuer: str,
    leeway: int = 60,
    now: int | None = None,
) -> Actor:
    """Verify a bearer token and return its actor; any doubt is TokenInvalid."""
    key = _access_key(secret)
    header = _unverified_header(token)
    if header.get("alg") != _ACCESS_ALG:
        raise TokenInvalid(f"algorithm not allowed: expected {_ACCESS_ALG}")
    if header.get("typ") != ACCESS_TYP:
        raise TokenInvalid(f"wrong token type: expected {ACCESS_TYP}")
    claims = _decode(token, key, algorithm=_ACCESS_ALG)
    _check_times(claims, leeway=leeway, now=now, require_exp=True)
    if claims.get("iss") != issuer:
        raise TokenInvalid("wrong issuer")
    fields = {"sub": claims.get("sub"), "role": claims.get("role")}
    fields |= {"dept": claims.get("dept"), "district": claims.get("district")}
    if not all(v is None or isinstance(v, str) for v in fields.values()):
        raise TokenInvalid("malformed token")
    role = fields["role"] or ""
    if role not in ROLES:
        raise TokenInvalid(f"bad actor: unknown role {role!r}")
    try:
        return Actor(
            id=fields["sub"] or "",
            role=Role(role),
            department=fields["dept"],
            district=fields["district"],
        )
    except ValueError as exc:
        # The actor's own validation names the bad role or missing department.
        raise TokenInvalid(f"bad actor: {exc}") from None


# --- helpers -------------------------------------------------------------------------


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        msg = f"unknown key purpose {purpose!r}; expected one of {', '.join(PURPOSES)}"
        raise ValueError(msg)


def _is_int(value: object) -> TypeGuard[int]:
    # JSON true would pass isinstance(int); a print version or a time is never a boolean.
    return isinstance(value, int) and not isinstance(value, bool)


def cose_kid(kid: str) -> bytes:
    """The COSE form of a kid: the first 8 bytes of the key's RFC 7638 thumbprint (our JOSE
    kid is the base64url of its first 12), so one key has one identity in both worlds."""
    return base64.urlsafe_b64decode(kid + "=" * (-len(kid) % 4))[:8]


def _with_kid(key: ECKey, kid: str) -> ECKey:
    return ECKey.import_key(
        key.as_pem(private=True), {"kid": kid, "alg": _SIGNING_ALG, "use": "sig"}
    )


def _access_key(secret: str) -> OctKey:
    if len(secret.encode()) < _MIN_SECRET_BYTES:
        # HS256 is only as strong as its secret; refuse rather than mint guessable tokens.
        msg = f"access-token secret must be at least {_MIN_SECRET_BYTES} bytes; use new_secret()"
        raise ValueError(msg)
    return OctKey.import_key(secret)


def _unverified_header(token: str, *, limit: int = MAX_TOKEN_LENGTH) -> dict[str, Any]:
    """The protected header, read only to pick algorithm and key; nothing in it is trusted yet."""
    if not isinstance(token, str) or len(token) > limit:
        raise TokenInvalid("malformed token")
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, TypeError, KeyError):
        raise TokenInvalid("malformed token") from None
    if not isinstance(header, dict):
        raise TokenInvalid("malformed token")
    return header


def _decode(token: str, key: ECKey | OctKey, *, algorithm: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm]).claims
    except BadSignatureError:
        raise TokenInvalid("signature does not verify") from None
    except (JoseError, ValueError, TypeError, KeyError):
        raise TokenInvalid("malformed token") from None
    if not isinstance(claims, dict):
        raise TokenInvalid("malformed token")
    return claims


def _check_times(
    claims: dict[str, Any], *, leeway: int, now: int | None, require_exp: bool
) -> None:
    options: dict[str, Any] = {"exp": {"essential": True}} if require_exp else {}
    registry = JWTClaimsRegistry(now=now, leeway=leeway, **options)
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise TokenInvalid("expired") from None
    except MissingClaimError as exc:
        raise TokenInvalid(f"missing claim: {exc.claim}") from None
    except ClaimError as exc:
        if exc.claim == "iat":
            raise TokenInvalid("issued in the future") from None
        raise TokenInvalid(f"bad claim: {exc.claim}") from None


def _public_jwk(signing_key: _SigningKey) -> dict[str, str]:
    key = signing_key.key
    return {
        "kty": "EC",
        "crv": str(key["crv"]),
        "x": str(key["x"]),
        "y": str(key["y"]),
        "kid": signing_key.kid,
        "alg": _SIGNING_ALG,
        "use": "sig",
    }


def _file_name(signing_key: _SigningKey) -> str:
    return f"{signing_key.purpose}-{signing_key.kid}.pem"


def _read_key_file(path: Path) -> _SigningKey:
    text = path.read_bytes()
    return _parse_key(path.name, text, created=_created_of(text) or path.stat().st_mtime_ns)


def _parse_key(name: str, text: bytes, *, created: int) -> _SigningKey:
    purpose, _, kid = name.removesuffix(".pem").partition("-")
    _check_purpose(purpose)
    key = ECKey.import_key(text, {"kid": kid, "alg": _SIGNING_ALG, "use": "sig"})
    if key.thumbprint()[:_KID_LENGTH] != kid:
        # A renamed or swapped file must not sign under another key's identity.
        msg = f"{name}: key does not match the kid in its file name"
        raise ValueError(msg)
    return _SigningKey(purpose=purpose, kid=kid, created=created, key=key)


def _created_of(text: bytes) -> int | None:
    # RFC 7468 §5.2: text before the PEM boundary is explanatory and ignored by parsers,
    # so the creation time travels inside the key file itself.
    first = text.split(b"\n", 1)[0].decode("ascii", "replace")
    if first.startswith(_CREATED_PREFIX) and first[len(_CREATED_PREFIX) :].isdigit():
        return int(first[len(_CREATED_PREFIX) :])
    return None


def _write_key_file(directory: Path, signing_key: _SigningKey) -> None:
    preamble = f"{_CREATED_PREFIX}{signing_key.created}\n".encode()
    body = preamble + signing_key.key.as_pem(private=True)
    target = directory / _file_name(signing_key)
    # mkstemp creates the file 0600; os.replace makes the key appear whole or not at all.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
