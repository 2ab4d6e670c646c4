"""Personal data at rest: every stored event's state is encrypted (AES-256-GCM) under the
operator's key, which comes from the environment or a file and never from the store.

Whole events, through the `eventsourcing` library's cipher hook (`CIPHER_TOPIC`), rather than
field by field: the legal representative and the applicant's contact details ride in several
event classes (submission, changes, deliveries, access log), and a cipher over every state
cannot miss one that a later class adds. What it does not give is crypto-shredding per business
(erasing one business's personal data by destroying its own key); see the README's
"Personal data at rest" for why that is left for later.

Stored form: `MAGIC | key id (4 bytes) | nonce (12) | ciphertext and tag`, the magic and key
id bound as associated data. The key id lets several keys be read at once (rotation: the
current key writes, older keys still read) and names the key a process lacks. A state
without the magic is a row written before encryption (plain JSON, which never starts with
NUL) and is read as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher

if TYPE_CHECKING:
    from eventsourcing.application import Application
    from eventsourcing.utils import Environment

    from licensing.settings import Settings

MAGIC = b"\x00zzE"
KID_BYTES = 4
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_FILE = "cipher.key"
# The library's cipher hook: `Environment.get` tries `LICENSING_<KEY>` first, so these names
# also shadow anything of the same name in the process environment.
TOPIC = "licensing.cipher:KeyedCipher"
ENV_KEY = "LICENSING_CIPHER_KEY"
ENV_OLD_KEYS = "LICENSING_CIPHER_OLD_KEYS"


class CipherKeyError(Exception):
    """A key is malformed, or the store holds events under a key this process lacks."""


def key_id(key: bytes) -> str:
    """A short public name of a key (8 hex digits of a SHA-256 over it): stored with every
    encrypted state, printed by `licensing cipher status`; it reveals nothing of the key."""
    return hashlib.sha256(b"licensing cipher key id\x00" + key).hexdigest()[: KID_BYTES * 2]


def new_key() -> str:
    """A fresh key as the environment and the key file hold it: base64 of 32 random bytes."""
    return base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode("ascii")


def parse_key(text: str, *, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CipherKeyError(f"{where}: not base64") from None
    if len(key) != KEY_BYTES:
        msg = f"{where}: a key is {KEY_BYTES} bytes (base64 of 32 random bytes), not {len(key)}"
        raise CipherKeyError(msg)
    return key


def stored_key_id(state: bytes) -> str | None:
    """The id of the key a stored state is encrypted under; None for a plain (older) row."""
    if not state.startswith(MAGIC):
        return None
    return state[len(MAGIC) : len(MAGIC) + KID_BYTES].hex()


class KeyedCipher(Cipher):
    """The library's cipher hook: encrypts under the current key, decrypts under any key it
    holds, and reads rows stored before encryption as they are."""

    def __init__(self, environment: Environment) -> None:
        current = environment.get("CIPHER_KEY")
        if not current:
            msg = f"{ENV_KEY} is not in the environment"
            raise CipherKeyError(msg)
        self.current = parse_key(current, where=ENV_KEY)
        self.kid = bytes.fromhex(key_id(self.current))
        keys = [self.current] + [
            parse_key(k, where=ENV_OLD_KEYS)
            for k in (environment.get("CIPHER_OLD_KEYS") or "").split(",")
            if k.strip()
        ]
        self.keys = {key_id(k): AESGCM(k) for k in keys}

    def encrypt(self, plaintext: bytes) -> bytes:
        header = MAGIC + self.kid
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + self.keys[self.kid.hex()].encrypt(nonce, plaintext, header)

    def decrypt(self, ciphertext: bytes) -> bytes:
        kid = stored_key_id(ciphertext)
        if kid is None:
            return ciphertext  # stored before encryption was configured
        aead = self.keys.get(kid)
        if aead is None:
            msg = f"an event is encrypted under key {kid}, which this process does not hold"
            raise CipherKeyError(msg)
        start = len(MAGIC) + KID_BYTES
        nonce = ciphertext[start : start + NONCE_BYTES]
        try:
            return aead.decrypt(nonce, ciphertext[start + NONCE_BYTES :], ciphertext[:start])
        except InvalidTag:
            msg = f"an event under key {kid} fails its authentication tag (damaged or altered)"
            raise CipherKeyError(msg) from None


@dataclass(frozen=True)
class CipherKeys:
    """The keys one process holds: the current one writes, the older ones only read.
    `generated`: the current key was made just now, into `LICENSING_DATA_DIR/cipher.key`."""

    current: str
    old: tuple[str, ...] = ()
    generated: Path | None = None

    def env(self) -> dict[str, str]:
        """The library's environment for the cipher."""
        return {
            "LICENSING_CIPHER_TOPIC": TOPIC,
            ENV_KEY: self.current,
            ENV_OLD_KEYS: ",".join(self.old),
        }

    def kids(self) -> set[str]:
        keys = (self.current, *self.old)
        return {key_id(parse_key(k, where="key")) for k in keys}


def resolve_keys(settings: Settings) -> CipherKeys:
    """The current key from `LICENSING_CIPHER_KEY`, else the file `LICENSING_CIPHER_KEY_FILE`,
    else `cipher.key` in the data folder — made there (mode 0600) when absent; the older keys
    from `LICENSING_CIPHER_OLD_KEYS` (comma-separated) and `LICENSING_CIPHER_OLD_KEYS_FILE`
    (one a line). A key made here is only kept if the store turns out to need no other
    (`check_store`)."""
    old = _old_keys(settings)
    if settings.cipher_key:
        parse_key(settings.cipher_key, where=ENV_KEY)
        return CipherKeys(current=settings.cipher_key.strip(), old=old)
    if settings.cipher_key_file is not None:
        path = settings.cipher_key_file
        try:
            text = path.read_text()
        except OSError as error:
            raise CipherKeyError(f"LICENSING_CIPHER_KEY_FILE {path}: {error.strerror}") from None
        parse_key(text, where=str(path))
        return CipherKeys(current=text.strip(), old=old)
    path = settings.data_dir / KEY_FILE
    made = _create_key_file(path)
    text = path.read_text()
    parse_key(text, where=str(path))
    return CipherKeys(current=text.strip(), old=old, generated=path if made else None)


def _old_keys(settings: Settings) -> tuple[str, ...]:
    keys = [k.strip() for k in (settings.cipher_old_keys or "").split(",") if k.strip()]
    if settings.cipher_old_keys_file is not None:
        path = settings.cipher_old_keys_file
        try:
            lines = path.read_text().splitlines()
        except OSError as error:
            msg = f"LICENSING_CIPHER_OLD_KEYS_FILE {path}: {error.strerror}"
            raise CipherKeyError(msg) from None
        keys += [line.strip() for line in lines if line.strip()]
    for k in keys:
        parse_key(k, where=ENV_OLD_KEYS)
    return tuple(keys)


def _create_key_file(path: Path) -> bool:
    """Write a new key to `path` (0600) unless one is there; True if this call made it.
    O_EXCL: of two processes starting at once, one makes it and both read the same key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(new_key() + "\n")
    return True


def check_store(app: Application[Any], keys: CipherKeys) -> None:
    """Refuse a store whose newest event is encrypted under a key this process lacks (the key
    file was not copied, or the wrong key is configured) before anything is written under
    another key; a key generated for the occasion is then removed again."""
    head = app.recorder.max_notification_id() or 0
    if not head:
        return
    newest = app.recorder.select_notifications(start=head, limit=1)
    kid = stored_key_id(newest[0].state) if newest else None
    if kid is None or kid in keys.kids():
        return
    if keys.generated is not None:
        keys.generated.unlink(missing_ok=True)
    msg = (
        f"the store's events are encrypted under key {kid}, and this process holds "
        f"{', '.join(sorted(keys.kids()))}: set {ENV_KEY} (or LICENSING_CIPHER_KEY_FILE) to "
        f"that key, or put it back as {KEY_FILE} in the data folder. Without it no event "
        "can be read (see the README, 'Personal data at rest')."
    )
    raise CipherKeyError(msg)
