"""Backup and restore: one archive carries the events and the keys; a restored server shows
every licence as it was, and a QR printed before the backup still verifies."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from httpx import ASGITransport

from api.app import create_app
from domain.credit import CreditRecord
from domain.uscc import make_uscc
from licensing import backup as backups
from licensing.cli import main
from licensing.demo import HOTEL, RESTAURANT, load
from licensing.runtime import Runtime
from licensing.settings import Settings
from licensing.signing import read_pointer
from tests.conftest import _settings
from tests.test_cli import _env_of

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def target(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty store and an empty data folder on the same backend as `settings`."""
    yield from _settings(settings.store, tmp_path / "restored")


@pytest.fixture
def archive(runtime: Runtime, tmp_path: Path) -> Path:
    """A backup of the demo: a hotel with nine valid permits, a restaurant with one refused."""
    load(runtime.licensing)
    path = tmp_path / "backup.tar.gz"
    backups.backup(runtime, path, PASSPHRASE)
    return path


def _token(runtime: Runtime, uscc: str) -> str:
    runtime.projector.catch_up()
    row = runtime.view.licence(uscc)
    assert row is not None
    return runtime.verification_url(uscc, row["print_version"]).rsplit("/v/", 1)[1]


def _scan(rt: Runtime, token: str) -> httpx.Response:
    """What a phone gets when it scans the printed QR."""

    async def get() -> httpx.Response:
        transport = ASGITransport(app=create_app(rt))
        async with httpx.AsyncClient(transport=transport, base_url=rt.settings.base_url) as c:
            return await c.get(f"/v/{token}")

    return asyncio.run(get())


def _stored(rt: Runtime) -> list[tuple[int, str, int, str, bytes]]:
    # Decrypted: a restore encrypts every event again (the archive holds plain states).
    cipher = rt.app.mapper.cipher
    assert cipher is not None
    return [
        (n.id, str(n.originator_id), n.originator_version, n.topic, cipher.decrypt(n.state))
        for n in rt.app.recorder.select_notifications(start=None, limit=100_000)
    ]


def test_a_restore_into_an_empty_store_shows_every_licence_and_printed_qr_as_before(
    runtime: Runtime, archive: Path, target: Settings
) -> None:
    printed = _token(runtime, HOTEL.uscc)  # the QR on the paper licence, printed before
    before = {uscc: runtime.view.licence(uscc) for uscc in (HOTEL.uscc, RESTAURANT.uscc)}

    summary = backups.restore(target, archive, PASSPHRASE)

    assert summary.licences == 2 and summary.keys == runtime.keys.kids()
    restored = Runtime(target)
    try:
        assert _stored(restored) == _stored(runtime)  # every event, at its own position
        assert {uscc: restored.view.licence(uscc) for uscc in before} == before
        assert read_pointer(restored.keys, printed, issuer=target.issuer).uscc == HOTEL.uscc
        scanned = _scan(restored, printed)
        assert scanned.status_code == 200 and HOTEL.name in scanned.text
        assert "不是本机关签发" not in scanned.text
        # The restored store goes on from where the source stopped.
        position = restored.app.save(CreditRecord(uscc=make_uscc("91440604MA55K3Y00")))
        assert position[-1].notification.id == summary.last_position + 1
    finally:
        restored.close()


def test_the_material_files_travel_in_the_archive_and_back_into_the_document_store(
    runtime: Runtime, server: str, target: Settings, tmp_path: Path, token: Callable[..., str]
) -> None:
    from uuid import UUID, uuid4

    from tests.conftest import auth
    from tests.stories import image_file, pdf_file, submission, upload

    clerk = token("clerk")
    files = {"premises_floor_plan": pdf_file(2), "security_rules": image_file("PNG")}
    with httpx.Client(base_url=server, timeout=30) as client:
        body = submission(runtime, "open_hotel", make_uscc("91440604MA55K3Y01"), "档案旅馆")
        received = client.post(
            "/api/v1/applications", json=body | {"accept_now": False}, headers=auth(clerk)
        )
        assert received.status_code == 201, received.text
        for material, content in files.items():
            attached = upload(client, clerk, received.json()["id"], material, content)
            assert attached.status_code == 201, attached.text
    documents = attached.json()["documents"]
    stored = {UUID(d["document_id"]): files[d["material"]] for d in documents}
    runtime.documents.put(uuid4(), pdf_file())  # an upload whose recording failed: no event
    path = tmp_path / "with-documents.tar.gz"
    backups.backup(runtime, path, PASSPHRASE)
    with tarfile.open(path) as tar:
        assert sorted(n for n in tar.getnames() if n.startswith("documents/")) == sorted(
            f"documents/{d}" for d in stored
        )

    backups.restore(target, path, PASSPHRASE)
    restored = Runtime(target)
    try:
        assert {d: restored.documents.get(d) for d in stored} == stored
        assert sorted(restored.documents.ids()) == sorted(stored)
    finally:
        restored.close()


def test_a_wrong_passphrase_fails_clearly_and_restores_nothing(
    archive: Path, target: Settings
) -> None:
    with pytest.raises(backups.WrongPassphrase, match="passphrase does not open"):
        backups.restore(target, archive, "not the passphrase")
    assert not target.data_dir.exists()


@pytest.mark.parametrize("resum", [False, True], ids=["sums-kept", "sums-recomputed"])
def test_a_tampered_archive_is_refused(
    archive: Path, target: Settings, tmp_path: Path, resum: bool
) -> None:
    """Someone renames the refused restaurant's business in the events. With the manifest
    left alone the SHA-256 sum gives it away; with the sums recomputed, the seal does."""
    forged = tmp_path / "forged.tar.gz"

    def rename(content: bytes) -> bytes:
        return content.replace(RESTAURANT.name.encode(), "某某大酒店".encode())

    _rewrite(archive, forged, {"events.jsonl": rename}, resum=resum)

    expected = (
        "events.jsonl: its SHA-256 does not match" if not resum else "does not match its seal"
    )
    with pytest.raises(backups.ArchiveRefused, match=expected):
        backups.restore(target, forged, PASSPHRASE)
    assert not target.data_dir.exists()


def test_an_unexpected_member_is_refused(archive: Path, target: Settings, tmp_path: Path) -> None:
    forged = tmp_path / "forged.tar.gz"
    _rewrite(archive, forged, {}, extra={"../../etc/cron.d/x": b"* * * * * root id\n"})
    with pytest.raises(backups.ArchiveRefused, match="differ from its manifest"):
        backups.restore(target, forged, PASSPHRASE)


def test_a_restore_refuses_a_store_or_data_folder_in_use(
    runtime: Runtime, archive: Path, settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(backups.TargetNotEmpty, match="is not empty"):
        backups.restore(settings, archive, PASSPHRASE)  # the source itself
    if settings.store == "postgres":
        # An empty data folder, but the store still holds every event.
        same_store = settings.model_copy(update={"data_dir": tmp_path / "fresh"})
        with pytest.raises(backups.TargetNotEmpty, match="already holds events"):
            backups.restore(same_store, archive, PASSPHRASE)


def test_a_restore_under_another_issuer_is_refused(archive: Path, target: Settings) -> None:
    elsewhere = target.model_copy(update={"issuer": "someone-else"})
    with pytest.raises(backups.BackupError, match="LICENSING_ISSUER=zzt-test"):
        backups.restore(elsewhere, archive, PASSPHRASE)


def test_the_operator_backs_up_and_restores_with_the_cli(
    settings: Settings, target: Settings, tmp_path: Path
) -> None:
    source_env = _env_of(settings) | {"LICENSING_ISSUER": settings.issuer}
    target_env = _env_of(target) | {"LICENSING_ISSUER": target.issuer}
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    archive = tmp_path / "nightly.tar.gz"
    assert CliRunner().invoke(main, ["demo"], env=source_env).exit_code == 0

    short = CliRunner().invoke(
        main, ["backup", str(archive), "--passphrase", "short"], env=source_env
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    made = CliRunner().invoke(
        main, ["backup", str(archive)], env=source_env | {"LICENSING_BACKUP_PASSPHRASE": PASSPHRASE}
    )
    assert made.exit_code == 0, made.output
    assert "2 licences and 3 signing keys" in made.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        assert tar.getnames()[:2] == ["manifest.json", "seal.json"]
        assert "documents" in tar.getnames()

    wrong = CliRunner().invoke(
        main, ["restore", str(archive), "--passphrase", "x" * 12], env=target_env
    )
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output
    done = CliRunner().invoke(
        main, ["restore", str(archive), "--passphrase-file", str(passphrase_file)], env=target_env
    )
    assert done.exit_code == 0, done.output
    assert "all 2 licences match the backup" in done.output


def test_a_sqlite_backup_restores_into_postgresql(tmp_path: Path) -> None:
    """Moving from the embedded default to PostgreSQL is a backup and a restore."""
    for source in _settings("sqlite", tmp_path / "sqlite"):
        rt = Runtime(source)
        try:
            load(rt.licensing)
            printed = _token(rt, RESTAURANT.uscc)
            backups.backup(rt, tmp_path / "move.tar.gz", PASSPHRASE)
        finally:
            rt.close()
    for target in _settings("postgres", tmp_path / "postgres"):
        summary = backups.restore(target, tmp_path / "move.tar.gz", PASSPHRASE)
        assert summary.licences == 2
        moved = Runtime(target)
        try:
            assert read_pointer(moved.keys, printed, issuer=target.issuer).uscc == RESTAURANT.uscc
        finally:
            moved.close()


# --- helpers -------------------------------------------------------------------------


def _rewrite(
    source: Path,
    target: Path,
    changes: dict[str, Callable[[bytes], bytes]],
    *,
    resum: bool = False,
    extra: dict[str, bytes] | None = None,
) -> None:
    """Copy an archive, changing members' content (and, if `resum`, the manifest's sums)."""
    with tarfile.open(source) as tar:
        members = [
            (m, tar.extractfile(m).read() if m.isfile() else None)  # type: ignore[union-attr]
            for m in tar.getmembers()
        ]
    contents = {m.name: changes.get(m.name, lambda b: b)(c) for m, c in members if c is not None}
    if resum:
        manifest = json.loads(contents["manifest.json"])
        for name, entry in manifest["members"].items():
            entry["sha256"] = hashlib.sha256(contents[name]).hexdigest()
            entry["bytes"] = len(contents[name])
        contents["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(target, "w:gz") as out:
        for member, _ in members:
            content = contents.get(member.name)
            if content is not None:
                member.size = len(content)
            out.addfile(member, io.BytesIO(content) if content is not None else None)
        for name, content in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            out.addfile(info, io.BytesIO(content))
