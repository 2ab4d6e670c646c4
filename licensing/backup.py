"""Backup and restore: every stored event, the key ring and a manifest, in one archive.

The archive is a gzip-compressed POSIX tar (.tar.gz): the standard library writes and
reads it, `tar -tzvf` lists it on any server, file modes travel with the members, and the
members are plain files an operator can read — the events as JSON lines, the manifest as
JSON. Zip's one advantage, reading a single member without the rest, is of no use to a
restore that reads every member, and its CRC-32 is no protection against tampering, which
the manifest's SHA-256 sums and their seal provide here.

    manifest.json     format, created, issuer, counts, last position, SHA-256 of each member
    seal.json         how the passphrase was stretched, and an HMAC of manifest.json
    events.jsonl      every stored event in notification order: position, originator id
                      and version, topic, and the state as JSON (decrypted: the store's
                      cipher key does not travel, a restore encrypts under its own)
    licences.sha256   SHA-256 of each licence as the read model shows it at that position
    keys/*.pem        every published signing key, private key encrypted (PKCS#8)
    documents/<id>    every material file the events name (the document store's bytes,
                      as uploaded: the manifest's SHA-256 of each is the one its event records)

Private keys are encrypted under the passphrase with cryptography's BestAvailableEncryption
(PKCS#8, PBES2, AES-256-CBC). Its PBKDF2 runs only 2,048 rounds, so the passphrase is first
stretched with scrypt (stdlib `hashlib`, 32 MiB per guess): the first half of the result is
the keys' password, the second keys the HMAC that seals the manifest — without the
passphrase no one can change the events and their sums consistently.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from licensing import locks
from licensing.documents import open_document_store
from licensing.keys import published_keys
from licensing.persistence import StoredRow, StoreNotEmpty, eventsourcing_env, load_rows
from licensing.runtime import Runtime, construct_read_model
from licensing.settings import Settings
from licensing.signing import KeyDecryptionFailed, KeyRing
from licensing.store import EventStore
from projections.readmodel import NAME as READ_MODEL
from projections.readmodel import ReadModel

FORMAT = "zhengzhaotong-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SEAL = "seal.json"
EVENTS = "events.jsonl"
LICENCES = "licences.sha256"
KEYS = "keys"
DOCUMENTS = "documents"
MIN_PASSPHRASE_LENGTH = 12

# scrypt's cost: 32 MiB and about 0.15 s per guess. A restore accepts up to 16 times more
# (a later backup may raise it) but no more: the archive must not choose our memory use.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_SCRYPT_MAX_N = 2**19
_BATCH = 500
_KEY_MEMBER = re.compile(r"keys/[a-z]+-[A-Za-z0-9_-]{16}\.pem")
_DOCUMENT_MEMBER = re.compile(r"documents/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")
_ATTACHED = "BundleApplication.DocumentAttached"


class BackupError(Exception):
    """A backup or restore was refused; the message says why and what to do."""


class ArchiveRefused(BackupError):
    """The archive is not one of ours, or was damaged or altered."""


class WrongPassphrase(BackupError):
    """The passphrase does not open the archive's keys."""


class TargetNotEmpty(BackupError):
    """A restore goes only into an empty store and an empty data folder."""


class RestoreMismatch(BackupError):
    """What was restored differs from what was backed up."""


@dataclass(frozen=True)
class Summary:
    """What an archive holds (or a restore loaded)."""

    events: int
    last_position: int
    licences: int
    keys: list[str]


# --- backup --------------------------------------------------------------------------


def backup(rt: Runtime, archive: Path, passphrase: str) -> Summary:
    """Write the store's events, its published keys and a manifest to a new `archive`."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        msg = f"the passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters"
        raise BackupError(msg)
    if archive.exists():
        raise BackupError(f"{archive} exists; choose a new name (backups are never overwritten)")
    if not archive.parent.is_dir():
        raise BackupError(f"no folder {archive.parent} to write the archive in")
    last = rt.app.recorder.max_notification_id() or 0
    # Beside the archive, not in /tmp: the events may be larger than a tmpfs.
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".backup-") as scratch:
        work = Path(scratch)
        events = _export_events(rt.app, work / EVENTS, last=last)
        digests = _licence_digests(rt.app, work, last=last)
        _write_digests(work / LICENCES, digests)
        salt = os.urandom(16)
        keys_password, mac_key = _stretch(passphrase, salt, **_SCRYPT)
        kids = _export_keys(rt, work / KEYS, keys_password)
        documents = _export_documents(rt, work / EVENTS, work / DOCUMENTS)
        members = [
            EVENTS,
            LICENCES,
            *(f"{KEYS}/{p.name}" for p in sorted((work / KEYS).iterdir())),
            *(f"{DOCUMENTS}/{d}" for d in documents),
        ]
        manifest = _manifest(rt, members, work, kids, events=events, last=last)
        manifest["documents"]["count"] = len(documents)
        manifest["licences"]["count"] = len(digests)
        manifest_bytes = _json_bytes(manifest)
        seal = _seal(salt, mac_key, manifest_bytes)
        _write_archive(archive, work, manifest_bytes, _json_bytes(seal), members)
    return Summary(events=events, last_position=last, licences=len(digests), keys=kids)


def _export_events(store: EventStore, path: Path, *, last: int) -> int:
    count = 0
    cipher = store.mapper.cipher
    with path.open("w", encoding="utf-8") as out:
        for row in _stored_rows(store, last=last):
            if cipher is not None:
                # Decrypted, so that the archive does not depend on this store's cipher key:
                # a restore encrypts every event again under the key of the store it fills.
                row = replace(row, state=cipher.decrypt(row.state))
            out.write(json.dumps(_row_to_json(row), ensure_ascii=False) + "\n")
            count += 1
    return count


def _stored_rows(store: EventStore, *, last: int) -> Iterator[StoredRow]:
    """The notification log up to `last`, as stored. Positions at or below the highest one
    seen at the start are all committed (PostgreSQL commits them in order), so the export
    is a consistent cut even while the server keeps writing."""
    start = 0
    while start < last:
        notifications = store.recorder.select_notifications(
            start=start, limit=_BATCH, stop=last, inclusive_of_start=False
        )
        if not notifications:
            return
        for n in notifications:
            yield StoredRow(
                position=n.id,
                originator_id=UUID(str(n.originator_id)),
                originator_version=n.originator_version,
                topic=n.topic,
                state=n.state,
            )
        start = notifications[-1].id


def _row_to_json(row: StoredRow) -> dict[str, Any]:
    line: dict[str, Any] = {
        "position": row.position,
        "originator_id": str(row.originator_id),
        "originator_version": row.originator_version,
        "topic": row.topic,
    }
    try:
        # The state is JSON text as the library stores it: kept readable, byte for byte.
        line["state"] = row.state.decode("utf-8")
    except UnicodeDecodeError:
        # A store with a cipher or a compressor keeps bytes that are not text.
        line["state_base64"] = base64.b64encode(row.state).decode("ascii")
    return line


def _row_from_json(line: str, number: int) -> StoredRow:
    try:
        data = json.loads(line)
        state = (
            data["state"].encode("utf-8")
            if "state" in data
            else base64.b64decode(data["state_base64"], validate=True)
        )
        return StoredRow(
            position=int(data["position"]),
            originator_id=UUID(data["originator_id"]),
            originator_version=int(data["originator_version"]),
            topic=str(data["topic"]),
            state=state,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ArchiveRefused(f"{EVENTS} line {number}: not a stored event ({error})") from None


def _licence_digests(store: EventStore, work: Path, *, last: int) -> dict[str, str]:
    """Each licence as a read model built from the exported events alone shows it. Not the
    live read model: it may lag behind `last` (a separate projector) or run ahead of it."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "BACKUPCHECK_SQLITE_DBNAME": str(work / "licences.db"),
    }
    view = construct_read_model(env, name="BackupCheck")
    try:
        view.rebuild(store.name, _event_batches(store, last=last))
        return licence_digests(view)
    finally:
        view.close_readers()
        view.datastore.close()
        (work / "licences.db").unlink(missing_ok=True)


def _event_batches(store: EventStore, *, last: int) -> Iterator[tuple[list[Any], list[int]]]:
    batch: list[Any] = []
    positions: list[int] = []
    for row in _stored_rows(store, last=last):
        batch.append(store.mapper.to_domain_event(_notification(row)))
        positions.append(row.position)
        if len(batch) == _BATCH:
            yield batch, positions
            batch, positions = [], []
    if batch:
        yield batch, positions


def _notification(row: StoredRow) -> Any:
    from eventsourcing.persistence import Notification

    return Notification(
        id=row.position,
        originator_id=row.originator_id,
        originator_version=row.originator_version,
        topic=row.topic,
        state=row.state,
    )


def licence_digests(view: ReadModel) -> dict[str, str]:
    """SHA-256 of every licence the read model holds (registration, permits, listings)."""
    return {
        uscc: hashlib.sha256(_json_bytes(view.licence(uscc))).hexdigest() for uscc in view.usccs()
    }


def _write_digests(path: Path, digests: dict[str, str]) -> None:
    # sha256sum's layout: an operator can read it, and diff two backups.
    path.write_text("".join(f"{digest}  {uscc}\n" for uscc, digest in sorted(digests.items())))


def _read_digests(path: Path) -> dict[str, str]:
    digests = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        digest, _, uscc = line.partition("  ")
        if not re.fullmatch(r"[0-9a-f]{64}", digest) or not uscc:
            raise ArchiveRefused(f"{LICENCES} line {number}: not a digest and a USCC")
        digests[uscc] = digest
    return digests


def _export_keys(rt: Runtime, folder: Path, password: bytes) -> list[str]:
    published = published_keys(rt.app)
    kids = published.kids() if published else []
    folder.mkdir(mode=0o700)
    for kid in kids:
        name, content = rt.keys.export_encrypted(kid, password)
        (folder / name).write_bytes(content)
    return kids


def _export_documents(rt: Runtime, events: Path, folder: Path) -> list[str]:
    """The bytes of every document the exported events name (a file uploaded after the cut,
    or whose recording failed, is not in the archive: nothing in it names them)."""
    named: dict[str, None] = {}
    with events.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["topic"].endswith(_ATTACHED):
                value = json.loads(row["state"])["document_id"]  # as transcoded: uuid_hex
                named[str(UUID(value["_data_"] if isinstance(value, dict) else value))] = None
    folder.mkdir(mode=0o700)
    for document_id in named:
        (folder / document_id).write_bytes(rt.documents.get(UUID(document_id)))
    return sorted(named)


def _manifest(
    rt: Runtime, members: list[str], work: Path, kids: list[str], *, events: int, last: int
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "issuer": rt.settings.issuer,
        "source": {"store": rt.settings.store, "application": rt.app.name},
        "events": {"count": events, "last_position": last},
        "licences": {"count": 0, "read_model": READ_MODEL},
        "keys": [
            {"purpose": rt.keys.purpose_of(kid), "kid": kid, "created": rt.keys.created_of(kid)}
            for kid in kids
        ],
        "documents": {"count": 0},
        "members": {name: _sum(work / name) for name in members},
    }


def _sum(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def _stretch(passphrase: str, salt: bytes, *, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    """The keys' password and the manifest's HMAC key, from one scrypt of the passphrase."""
    stretched = hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=64
    )
    return base64.urlsafe_b64encode(stretched[:32]), stretched[32:]


def _seal(salt: bytes, mac_key: bytes, manifest: bytes) -> dict[str, Any]:
    return {
        "kdf": {"name": "scrypt", **_SCRYPT, "salt": salt.hex(), "length": 64},
        "keys": "PKCS#8 PEM, BestAvailableEncryption, password base64url(scrypt[:32])",
        "manifest_hmac_sha256": hmac.new(mac_key, manifest, hashlib.sha256).hexdigest(),
    }


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def _write_archive(
    archive: Path, work: Path, manifest: bytes, seal: bytes, members: list[str]
) -> None:
    partial = archive.with_name(f".{archive.name}.partial")
    # Private to the owner from the first byte: the events hold personal data in clear.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar,
        ):
            _add_bytes(tar, MANIFEST, manifest)
            _add_bytes(tar, SEAL, seal)
            for name in members:
                with (work / name).open("rb") as f:
                    tar.addfile(_info(name, (work / name).stat().st_size), f)
            if not any(name.startswith(f"{DOCUMENTS}/") for name in members):
                tar.addfile(_info(DOCUMENTS, 0, directory=True))
        os.replace(partial, archive)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    tar.addfile(_info(name, len(content)), io.BytesIO(content))


def _info(name: str, size: int, *, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(time.time())
    info.mode = 0o700 if directory else 0o600
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    return info


# --- restore -------------------------------------------------------------------------


def restore(settings: Settings, archive: Path, passphrase: str) -> Summary:
    """Load `archive` into the empty store and the empty data folder `settings` name, rebuild
    the read model, and check that every licence is the one backed up."""
    _refuse_a_used_folder(settings.data_dir)
    with tempfile.TemporaryDirectory(prefix="zzt-restore-") as scratch:
        work = Path(scratch)
        manifest = _unpack(archive, work)
        kids, keys_password = _open_keys(manifest, work, passphrase)
        _refuse_another_issuer(manifest, settings)
        expected = _read_digests(work / LICENCES)
        with locks.initialisation(settings):
            _refuse_a_used_folder(settings.data_dir)
            events = _load_events(settings, work / EVENTS)
            _load_documents(settings, work / DOCUMENTS)
            _install_keys(work / KEYS, settings.keys_dir, keys_password)
    return _verify(settings, manifest, expected, events=events, kids=kids)


def _refuse_another_issuer(manifest: dict[str, Any], settings: Settings) -> None:
    # Every printed pointer names its issuer, and a server accepts only its own: restored
    # under another name, every genuine code would read as not ours.
    if manifest.get("issuer") != settings.issuer:
        msg = (
            f"the archive was made by issuer {manifest.get('issuer')!r} and this server is"
            f" {settings.issuer!r}: its printed codes would not verify here. Set"
            f" LICENSING_ISSUER={manifest.get('issuer')} and restore again."
        )
        raise BackupError(msg)


def _refuse_a_used_folder(data_dir: Path) -> None:
    present = sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []
    present = [name for name in present if name != locks.LOCK_FILE]
    if present:
        msg = (
            f"the data folder {data_dir} is not empty ({', '.join(present[:5])}); a restore"
            f" goes only into an empty data folder and an empty store"
        )
        raise TargetNotEmpty(msg)


def _unpack(archive: Path, work: Path) -> dict[str, Any]:
    """Check every member against the manifest and copy it into `work`; the manifest."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = {m.name: m for m in tar.getmembers()}
            manifest_bytes = _read_member(tar, members, MANIFEST)
            manifest = _parse_manifest(manifest_bytes)
            (work / MANIFEST).write_bytes(manifest_bytes)
            (work / SEAL).write_bytes(_read_member(tar, members, SEAL))
            _check_member_names(members, manifest)
            (work / KEYS).mkdir(mode=0o700)
            (work / DOCUMENTS).mkdir(mode=0o700)
            for name, expected in manifest["members"].items():
                _copy_member(tar, members[name], work / name, expected)
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        if isinstance(error, FileNotFoundError):
            raise ArchiveRefused(f"no archive at {archive}") from None
        raise ArchiveRefused(f"{archive} is not a readable backup archive ({error})") from None
    return manifest


def _read_member(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> bytes:
    member = members.get(name)
    handle = tar.extractfile(member) if member is not None and member.isfile() else None
    if handle is None:
        raise ArchiveRefused(f"the archive has no {name}: not a {FORMAT} archive")
    return handle.read()


def _parse_manifest(content: bytes) -> dict[str, Any]:
    manifest = json.loads(content)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveRefused(f"{MANIFEST} does not describe a {FORMAT} archive")
    if manifest.get("format_version") != FORMAT_VERSION:
        msg = (
            f"archive format version {manifest.get('format_version')!r}; this version of"
            f" licensing restores version {FORMAT_VERSION}"
        )
        raise ArchiveRefused(msg)
    return manifest


def _check_member_names(members: dict[str, tarfile.TarInfo], manifest: dict[str, Any]) -> None:
    listed = set(manifest["members"])
    if not {EVENTS, LICENCES} <= listed or any(
        n not in (EVENTS, LICENCES)
        and not _KEY_MEMBER.fullmatch(n)
        and not _DOCUMENT_MEMBER.fullmatch(n)
        for n in listed
    ):
        raise ArchiveRefused(f"{MANIFEST} lists members this format does not have")
    unexpected = set(members) - listed - {MANIFEST, SEAL, DOCUMENTS, KEYS}
    missing = listed - set(members)
    if unexpected or missing:
        names = ", ".join(sorted(unexpected | missing))
        raise ArchiveRefused(f"the archive's members differ from its manifest: {names}")
    documents = members.get(DOCUMENTS)
    if documents is not None and not documents.isdir():
        raise ArchiveRefused(f"{DOCUMENTS} is not a folder")
    count = sum(1 for n in listed if n.startswith(f"{DOCUMENTS}/"))
    if count != manifest.get("documents", {}).get("count"):
        raise ArchiveRefused(f"{MANIFEST} counts other documents than it lists")


def _copy_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, expected: dict[str, Any]
) -> None:
    source: IO[bytes] | None = tar.extractfile(member) if member.isfile() else None
    if source is None:
        raise ArchiveRefused(f"{member.name} is not a regular file")
    digest = hashlib.sha256()
    with source, target.open("wb") as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != expected.get("sha256"):
        msg = (
            f"{member.name}: its SHA-256 does not match the manifest; the archive was damaged"
            f" or altered after the backup. Nothing was restored."
        )
        raise ArchiveRefused(msg)


def _open_keys(manifest: dict[str, Any], work: Path, passphrase: str) -> tuple[list[str], bytes]:
    """Decrypt every key (in memory only) and check the manifest's seal; the kids and the
    keys' password."""
    seal = json.loads((work / SEAL).read_text())
    salt, cost = _kdf(seal)
    keys_password, mac_key = _stretch(passphrase, salt, **cost)
    ring = KeyRing(keys=[])
    for path in sorted((work / KEYS).iterdir()):
        try:
            ring.import_encrypted(path.name, path.read_bytes(), keys_password)
        except KeyDecryptionFailed:
            raise WrongPassphrase(
                "the passphrase does not open the archive's keys (wrong passphrase?);"
                " nothing was restored"
            ) from None
    manifest_mac = hmac.new(mac_key, (work / MANIFEST).read_bytes(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(manifest_mac, str(seal.get("manifest_hmac_sha256"))):
        msg = (
            f"{MANIFEST} does not match its seal: it was altered after the backup."
            f" Nothing was restored."
        )
        raise ArchiveRefused(msg)
    listed = sorted(k["kid"] for k in manifest["keys"])
    if sorted(ring.kids()) != listed:
        raise ArchiveRefused(f"the keys in the archive are not those {MANIFEST} lists")
    return ring.kids(), keys_password


def _kdf(seal: dict[str, Any]) -> tuple[bytes, dict[str, int]]:
    try:
        kdf = seal["kdf"]
        salt = bytes.fromhex(kdf["salt"])
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
    except (KeyError, TypeError, ValueError):
        raise ArchiveRefused(f"{SEAL} is not readable") from None
    if kdf.get("name") != "scrypt" or not (2**14 <= n <= _SCRYPT_MAX_N) or r > 16 or p > 4:
        raise ArchiveRefused(f"{SEAL} asks for a key stretching this version does not do")
    return salt, {"n": n, "r": r, "p": p}


def _load_events(settings: Settings, events: Path) -> int:
    store = EventStore(env=eventsourcing_env(settings, read_model=READ_MODEL))
    try:
        with events.open(encoding="utf-8") as lines:
            rows = (_row_from_json(line, number) for number, line in enumerate(lines, 1))
            cipher = store.mapper.cipher
            if cipher is not None:
                rows = (replace(row, state=cipher.encrypt(row.state)) for row in rows)
            return load_rows(store.recorder, rows)
    except StoreNotEmpty:
        where = (
            f"schema {settings.postgres_schema}" if settings.store == "postgres" else "events.db"
        )
        msg = f"the store ({where}) already holds events; a restore goes only into an empty one"
        raise TargetNotEmpty(msg) from None
    finally:
        store.close()


def _load_documents(settings: Settings, folder: Path) -> None:
    """Every archived document into the new store's document store (a table on PostgreSQL,
    files in the data folder otherwise), under its own id."""
    store = EventStore(env=eventsourcing_env(settings, read_model=READ_MODEL))
    try:
        documents = open_document_store(store, settings.data_dir)
        for path in sorted(folder.iterdir()):
            documents.put(UUID(path.name), path.read_bytes())
    finally:
        store.close()


def _install_keys(folder: Path, keys_dir: Path, password: bytes) -> None:
    installed = KeyRing.load(keys_dir)
    for path in sorted(folder.iterdir()):
        installed.import_encrypted(path.name, path.read_bytes(), password)


def _verify(
    settings: Settings,
    manifest: dict[str, Any],
    expected: dict[str, str],
    *,
    events: int,
    kids: list[str],
) -> Summary:
    """Open the restored system as a server would, rebuild its read model and compare."""
    rt = Runtime(settings)
    try:
        rt.projector.rebuild()
        actual = licence_digests(rt.view)
        last = rt.app.recorder.max_notification_id() or 0
        published = published_keys(rt.app)
        problems = _differences(expected, actual)
        if events != manifest["events"]["count"] or last != manifest["events"]["last_position"]:
            problems.append(
                f"{events} events up to position {last}; the manifest says"
                f" {manifest['events']['count']} up to {manifest['events']['last_position']}"
            )
        if sorted(published.kids() if published else []) != sorted(kids):
            problems.append("the published keys differ from the archive's keys")
        if len(rt.documents.ids()) != manifest["documents"]["count"]:
            problems.append("the restored documents differ from the archive's")
    finally:
        rt.close()
    if problems:
        raise RestoreMismatch("the restored store differs from the backup: " + "; ".join(problems))
    return Summary(events=events, last_position=last, licences=len(actual), keys=kids)


def _differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    differ = sorted(u for u in expected.keys() & actual.keys() if expected[u] != actual[u])
    missing = sorted(expected.keys() - actual.keys())
    extra = sorted(actual.keys() - expected.keys())
    found = []
    for label, usccs in (("differ", differ), ("missing", missing), ("unexpected", extra)):
        if usccs:
            found.append(f"{len(usccs)} licences {label} ({', '.join(usccs[:5])})")
    return found


__all__ = [
    "ArchiveRefused",
    "BackupError",
    "RestoreMismatch",
    "Summary",
    "TargetNotEmpty",
    "WrongPassphrase",
    "backup",
    "licence_digests",
    "restore",
]
