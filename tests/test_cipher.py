"""Personal data at rest: no name, ID number, mobile or e-mail in plain text anywhere in the store —
events, snapshots, read model — on either backend; the key from the environment, a file or
the data folder (0600 in a 0700 folder), never the store; rotation; a lost key refused."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.actor import Actor, Role
from domain.uscc import make_uscc
from licensing.cipher import KEY_FILE, CipherKeyError, key_id, new_key, stored_key_id
from licensing.keys import published_keys, rotate_key
from licensing.runtime import Runtime
from licensing.settings import Settings
from tests.conftest import auth
from tests.pg import PG
from tests.stories import APPLICANT, LEGAL_REP, submission, submit

HOTEL = make_uscc("91440616MA4DE5K01")
NEW_REP = {"name": "王换届", "id_number": "110101198001010053", "mobile": "13700137000"}
# What must never be readable in the store's files or rows: the natural persons' names too.
SECRETS = (
    LEGAL_REP["name"],
    LEGAL_REP["id_number"],
    LEGAL_REP["mobile"],
    APPLICANT["email"],
    NEW_REP["name"],
    NEW_REP["id_number"],
    NEW_REP["mobile"],
)


def _a_hotel_with_its_personal_data_read_and_a_new_representative(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "加密旅馆")
        )
        for task in application["tasks"]:
            bearer = auth(token("department", task["department"]))
            path = (
                f"/api/v1/departments/{task['department']}/tasks/"
                f"{application['id']}/{task['permit_type']}"
            )
            personal = client.get(f"{path}/personal-data", headers=bearer)
            assert personal.status_code in (200, 403), personal.text
            if personal.status_code == 200 and personal.json()["legal_representative"]:
                assert personal.json()["legal_representative"] == LEGAL_REP  # readable through
            decided = client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json={"outcome": "approve", "permit_number": f"P-{task['permit_type']}"},
                headers=bearer,
            )
            assert decided.status_code == 200, decided.text
        changed = client.post(
            f"/api/v1/registrations/{HOTEL}/changes",
            json={"changes": {"legal_representative": NEW_REP}, "reason": "法定代表人换届"},
            headers=auth(token("registrar")),
        )
        assert changed.status_code in (200, 201), changed.text
    runtime.projector.catch_up()


def _sqlite_bytes(data_dir: Path) -> dict[str, bytes]:
    files = [p for p in data_dir.iterdir() if p.is_file() and ".db" in p.name]
    assert {"events.db"} <= {p.name for p in files}
    return {p.name: p.read_bytes() for p in files}


def _postgres_rows(schema: str) -> dict[str, str]:
    """Every row of every table in the schema as PostgreSQL prints it (bytea as hex)."""
    import psycopg

    with psycopg.connect(**PG) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        return {
            table: "\n".join(
                str(r[0])
                for r in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t')  # noqa: S608
            )
            for table in tables
        }


def test_no_name_id_number_mobile_or_email_is_stored_in_plain_text_anywhere(
    server: str, runtime: Runtime, token: Callable[..., str], settings: Settings
) -> None:
    _a_hotel_with_its_personal_data_read_and_a_new_representative(server, runtime, token)
    if settings.store == "sqlite":
        found: dict[str, Any] = _sqlite_bytes(settings.data_dir)
        needles: list[Any] = [s.encode() for s in SECRETS]
    else:
        found = _postgres_rows(settings.postgres_schema)
        assert any("events" in t for t in found) and any("licences" in t for t in found)
        # Text columns as they are; bytea columns print as hex.
        needles = [*SECRETS, *(s.encode().hex() for s in SECRETS)]
    assert sum(len(v) for v in found.values()) > 10_000  # the story wrote something
    leaks = [(where, n) for where, content in found.items() for n in needles if n in content]
    assert leaks == []
    # Every event of the story is encrypted, under the one configured key; the ID numbers
    # are in them (the search above would have found them unencrypted).
    notifications = runtime.app.recorder.select_notifications(start=None, limit=10_000)
    assert len(notifications) > 20
    cipher = runtime.app.mapper.cipher
    assert cipher is not None
    plain = b"".join(cipher.decrypt(n.state) for n in notifications)
    assert all(s.encode() in plain for s in SECRETS)
    assert {stored_key_id(n.state) for n in notifications} == {
        key_id(_raw(settings.cipher_key or ""))
    }


def test_a_key_is_made_into_the_data_folder_once_and_kept_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    settings = Settings(store="sqlite", data_dir=data, auth_secret="s" * 40)
    first = Runtime(settings)
    try:
        kid = {stored_key_id(n.state) for n in _all(first)}
    finally:
        first.close()
    key = data / KEY_FILE
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    for db in data.glob("*.db*"):
        assert stat.S_IMODE(db.stat().st_mode) == 0o600, db.name
    assert kid == {key_id(_raw(key.read_text()))}
    again = Runtime(settings)  # the same key, read back; nothing made anew
    try:
        assert {stored_key_id(n.state) for n in _all(again)} == kid
        assert again.licensing is not None
    finally:
        again.close()


def test_a_store_whose_key_is_lost_refuses_to_start_and_makes_none(tmp_path: Path) -> None:
    data = tmp_path / "var"
    settings = Settings(store="sqlite", data_dir=data, auth_secret="s" * 40)
    Runtime(settings).close()
    (data / KEY_FILE).rename(tmp_path / "kept.key")

    with pytest.raises(CipherKeyError, match="encrypted under key") as refusal:
        Runtime(settings)
    assert "LICENSING_CIPHER_KEY" in str(refusal.value)
    assert not (data / KEY_FILE).exists()  # the key made for the occasion is gone again

    elsewhere = settings.model_copy(update={"cipher_key_file": tmp_path / "kept.key"})
    Runtime(elsewhere).close()  # the key from a file: it opens


def test_rotation_writes_under_the_new_key_and_reads_the_old(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    base = Settings(store="sqlite", data_dir=tmp_path / "var", auth_secret="s" * 40)
    Runtime(base.model_copy(update={"cipher_key": old})).close()
    rotated = base.model_copy(update={"cipher_key": new, "cipher_old_keys": old})
    rt = Runtime(rotated)
    try:
        before = {stored_key_id(n.state) for n in _all(rt)}
        # A business act after the rotation: its event is written under the new key.
        kid = rotate_key(rt.app, rt.keys, "snapshot", actor=Actor(id="ops", role=Role.ADMIN))
        after = [stored_key_id(n.state) for n in _all(rt)]
        assert before == {key_id(_raw(old))} and after[-1] == key_id(_raw(new))
        published = published_keys(rt.app)  # every event, old and new, still reads
        assert published is not None and kid in published.kids("snapshot")
    finally:
        rt.close()
    # Without the old key, the events written under it cannot be read: the store is refused
    # (the rotation is not over until every event is under the new key: see the README).
    with pytest.raises(CipherKeyError, match="LICENSING_CIPHER_OLD_KEYS"):
        Runtime(base.model_copy(update={"cipher_key": new}))


def test_an_altered_event_is_refused_not_misread(tmp_path: Path) -> None:
    rt = Runtime(Settings(store="sqlite", data_dir=tmp_path / "var", auth_secret="s" * 40))
    try:
        stored = _all(rt)[0]
        flipped = bytearray(stored.state)
        flipped[-1] ^= 1
        cipher = rt.app.mapper.cipher
        assert cipher is not None
        with pytest.raises(CipherKeyError, match="authentication tag"):
            cipher.decrypt(bytes(flipped))
    finally:
        rt.close()


def _all(rt: Runtime) -> list[Any]:
    return list(rt.app.recorder.select_notifications(start=None, limit=100_000))


def _raw(key: str) -> bytes:
    import base64

    return base64.b64decode(key)
