"""Keys and data travel together: the store publishes its keys once, a data folder without
them is refused, and processes starting at once agree on one key per purpose."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from domain.credit import CreditRecord
from domain.uscc import make_uscc
from licensing.keys import KeysMissing, published_keys
from licensing.persistence import eventsourcing_env
from licensing.runtime import Runtime
from licensing.settings import Settings
from licensing.signing import PURPOSES, KeyRing, mint_pointer, read_pointer
from licensing.store import EventStore
from projections.readmodel import NAME as READ_MODEL
from tests.test_cli import _env_of

USCC = make_uscc("91440604MA55K3Y00")


def _pem_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.keys_dir.glob("*.pem"))


def database_only_copy(settings: Settings, elsewhere: Path) -> Settings:
    """The same store seen from a fresh data folder, as after restoring a database-only
    backup: for SQLite a copy of its file (the store lives in the data folder), for
    PostgreSQL the same schema."""
    moved = settings.model_copy(update={"data_dir": elsewhere})
    if settings.store == "sqlite":
        elsewhere.mkdir(parents=True)
        with (
            sqlite3.connect(settings.data_dir / "events.db") as source,
            sqlite3.connect(elsewhere / "events.db") as copy,
        ):
            source.backup(copy)
    return moved


def test_a_fresh_store_generates_and_publishes_one_key_per_purpose_once(
    settings: Settings,
) -> None:
    first = Runtime(settings)
    try:
        published = published_keys(first.app)
        assert published is not None
        assert {p: published.kids(p) for p in PURPOSES} == {
            p: [first.keys.current_kid(p)] for p in PURPOSES
        }
        # Only the public half is in the store.
        assert all("d" not in key["jwk"] for key in published.keys.values())
        position = first.app.recorder.max_notification_id()
    finally:
        first.close()
    again = Runtime(settings)
    try:
        assert again.keys.jwks() == first.keys.jwks()
        assert again.app.recorder.max_notification_id() == position  # nothing published twice
        assert len(_pem_files(settings)) == len(PURPOSES)
    finally:
        again.close()


def test_a_server_whose_data_folder_lacks_the_published_keys_refuses_to_start(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    """The failure the operator met: a database-only backup restored into a fresh data
    folder. Before, new keys were minted silently and every printed code read as forged."""
    pointer_kid = runtime.keys.current_kid("pointer")
    restored = database_only_copy(settings, tmp_path / "restored")

    with pytest.raises(KeysMissing) as refusal:
        Runtime(restored)

    message = str(refusal.value)
    assert f"pointer-{pointer_kid}.pem" in message
    assert "licensing restore" in message and "keys folder" in message
    assert _pem_files(restored) == []  # no key was made meanwhile


def test_the_refusal_reaches_the_operator_as_a_message_not_a_traceback(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    restored = database_only_copy(settings, tmp_path / "restored")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSING_")}
    env |= _env_of(restored)
    serve = subprocess.run(
        [sys.executable, "-m", "licensing.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode == 1
    assert "Error: the signing keys this store has published are not in the data folder" in (
        serve.stderr
    )
    assert "Traceback" not in serve.stderr


def test_a_pointer_printed_before_verifies_after_the_keys_folder_is_copied(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    token = mint_pointer(
        runtime.keys, issuer="zzt-test", uscc=USCC, print_version=1, issued_at=1_767_225_600
    )
    restored = database_only_copy(settings, tmp_path / "restored")
    restored.keys_dir.mkdir(mode=0o700, parents=True)
    for pem in settings.keys_dir.glob("*.pem"):
        (restored.keys_dir / pem.name).write_bytes(pem.read_bytes())
    copied = Runtime(restored)
    try:
        assert read_pointer(copied.keys, token, issuer="zzt-test").uscc == USCC
    finally:
        copied.close()


def test_another_stores_keys_are_refused(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    restored = database_only_copy(settings, tmp_path / "restored")
    KeyRing.load_or_create(restored.keys_dir)  # a folder with keys, but not this store's
    with pytest.raises(KeysMissing, match="not in the data folder"):
        Runtime(restored)


def _a_store_written_before_keys_were_published(settings: Settings) -> None:
    store = EventStore(env=eventsourcing_env(settings, read_model=READ_MODEL))
    try:
        store.save(CreditRecord(uscc=USCC))
    finally:
        store.close()


def test_a_store_from_before_keys_were_published_publishes_its_folders_keys(
    settings: Settings,
) -> None:
    from licensing import locks

    with locks.initialisation(settings):  # creates the PostgreSQL schema
        _a_store_written_before_keys_were_published(settings)
    kept = KeyRing.load_or_create(settings.keys_dir)
    rt = Runtime(settings)
    try:
        published = published_keys(rt.app)
        assert published is not None and sorted(published.kids()) == sorted(kept.kids())
    finally:
        rt.close()


def test_a_store_from_before_keys_were_published_without_its_keys_needs_new_keys_said(
    settings: Settings,
) -> None:
    from licensing import locks

    with locks.initialisation(settings):
        _a_store_written_before_keys_were_published(settings)
    with pytest.raises(KeysMissing, match="licensing init --new-keys"):
        Runtime(settings)
    assert _pem_files(settings) == []
    rt = Runtime(settings, new_keys=True)
    try:
        assert len(published_keys(rt.app).kids()) == len(PURPOSES)  # type: ignore[union-attr]
    finally:
        rt.close()


# --- starting at once -----------------------------------------------------------------

STARTERS = 4


def test_several_runtimes_starting_at_once_on_a_fresh_store_make_one_key_per_purpose(
    settings: Settings,
) -> None:
    """docker-compose starts the API, the worker and the jobs together on one fresh schema
    and one shared /data volume. Each thread here opens its own Runtime at the same moment."""
    settings = settings.model_copy(update={"postgres_pool_size": 1})  # 100 connections, shared
    barrier = threading.Barrier(STARTERS)
    kids: list[list[str]] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait(timeout=30)
            rt = Runtime(settings)
            try:
                kids.append(rt.keys.kids())
            finally:
                rt.close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a start hung"
    assert errors == []
    assert len(kids) == STARTERS and all(k == kids[0] for k in kids)
    assert len(kids[0]) == len(PURPOSES)
    assert len(_pem_files(settings)) == len(PURPOSES)
    rt = Runtime(settings)
    try:
        published = published_keys(rt.app)
        assert published is not None and sorted(published.kids()) == sorted(kids[0])
    finally:
        rt.close()


def test_licensing_init_processes_starting_at_once_agree(settings: Settings) -> None:
    """The same with real processes, as compose's services run `licensing init` and start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSING_")}
    env |= _env_of(settings) | {"LICENSING_POSTGRES_POOL_SIZE": "1"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "licensing.cli", "init"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err for _, err in outputs]
    key_lines = [[line for line in out.splitlines() if " key: " in line] for out, _ in outputs]
    assert len(key_lines[0]) == len(PURPOSES) and all(k == key_lines[0] for k in key_lines)
    assert len(_pem_files(settings)) == len(PURPOSES)


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
def test_hosts_with_separate_data_folders_on_one_fresh_schema_never_crash_nor_mint_twice(
    settings: Settings, tmp_path: Path
) -> None:
    """Without the advisory lock, two processes creating the tables at once crash on
    `pg_type_typname_nsp_index`. With it, the first publishes its keys and the others,
    whose folders lack them, refuse with the restore message."""
    barrier = threading.Barrier(STARTERS)
    started: list[list[str]] = []
    refused: list[KeysMissing] = []
    errors: list[BaseException] = []

    def start(host: int) -> None:
        own = settings.model_copy(
            update={"data_dir": tmp_path / f"host{host}", "postgres_pool_size": 1}
        )
        try:
            barrier.wait(timeout=30)
            rt = Runtime(own)
            started.append(rt.keys.kids())
            rt.close()
        except KeysMissing as refusal:
            refused.append(refusal)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start, args=(host,)) for host in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a start hung"
    assert errors == []
    assert len(started) == 1 and len(refused) == STARTERS - 1
    assert all("licensing restore" in str(r) for r in refused)
    minted = sorted(p.name for p in tmp_path.glob("host*/keys/*.pem"))
    assert len(minted) == len(PURPOSES)


@pytest.mark.parametrize("shared_folder", [True, False], ids=["shared-folder", "own-folder"])
def test_the_loser_of_a_publishing_race_uses_the_winners_keys_or_refuses(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_folder: bool
) -> None:
    """Past the locks (a file lock that does not hold on some network file system, say),
    the fixed id of the published keys decides: the second to publish collides on version
    1 and reloads the winner's keys. Here the winner publishes just between the loser's
    generating its keys and publishing them."""
    from licensing import keys as keys_module
    from licensing import locks

    with locks.initialisation(settings):  # the schema and the tables, as a start would
        winner = EventStore(env=eventsourcing_env(settings, read_model=READ_MODEL))
        loser = EventStore(env=eventsourcing_env(settings, read_model=READ_MODEL))
    won: list[KeyRing] = []
    publish = keys_module._publish

    def the_winner_first(*args: object, **kwargs: object) -> None:
        monkeypatch.setattr(keys_module, "_publish", publish)
        won.append(keys_module.open_key_ring(winner, settings.keys_dir))
        publish(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(keys_module, "_publish", the_winner_first)
    folder = settings.keys_dir if shared_folder else tmp_path / "other" / "keys"
    try:
        if shared_folder:
            # The winner found the loser's new keys in the shared folder and published them.
            assert keys_module.open_key_ring(loser, folder).kids() == won[0].kids()
            assert len(list(folder.glob("*.pem"))) == len(PURPOSES)
        else:
            with pytest.raises(KeysMissing, match="licensing restore"):
                keys_module.open_key_ring(loser, folder)
            assert list(folder.glob("*.pem")) == []  # what it made never signed anything
        published = keys_module.published_keys(winner)
        assert published is not None and published.kids() == won[0].kids()
        assert len(published.kids()) == len(PURPOSES)
    finally:
        winner.close()
        loser.close()
