"""Key rotation and revocation: printed codes outlive a rotation, a revoked key's codes are
refused and the page says why, and every process learns of either from the store."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from click.testing import CliRunner

from domain.actor import Actor, Role
from domain.errors import Conflict
from licensing.cli import main, origin_problem
from licensing.keys import list_keys, revoke_key, rotate_key
from licensing.runtime import Runtime
from licensing.settings import Settings
from licensing.signing import KeyRevoked, TokenInvalid, read_pointer
from licensing.snapshots import mint_snapshot, read_snapshot
from tests.stories import decode_qr, submission, submit
from tests.test_cli import _env_of
from tests.test_prints import RESTAURANT

OPERATOR = Actor(id="ops-1", role=Role.ADMIN)


def _kid(url: str) -> str:
    return str(jwt.get_unverified_header(url.rsplit("/", 1)[-1])["kid"])


def test_rotate_then_revoke_over_http(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        submit(
            client, token("clerk"), submission(runtime, "open_restaurant", RESTAURANT, "桂城饭店")
        )
        printed = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)
        old_kid = _kid(printed)

        new_kid = rotate_key(runtime.app, runtime.keys, "pointer", actor=OPERATOR)
        reprinted = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)
        assert _kid(reprinted) == new_kid != old_kid
        # The paper printed before the rotation still verifies, and both keys are published.
        assert client.get(urlsplit(printed).path).status_code == 200
        jwks = client.get("/.well-known/jwks.json").json()
        assert {old_kid, new_kid} <= {k["kid"] for k in jwks["keys"]}
        key = jwt.PyJWKSet.from_dict(jwks)[old_kid]
        jwt.decode(printed.rsplit("/", 1)[1], key=key, algorithms=["ES256"])  # independently

        revoke_key(runtime.app, runtime.keys, old_kid, reason="私钥泄露", actor=OPERATOR)
        page = client.get(urlsplit(printed).path, headers={"Accept": "text/html"})
        assert page.status_code == 400
        assert 'id="revoked"' in page.text and "签名密钥已被吊销（私钥泄露）" in page.text
        assert "signed with a revoked key (私钥泄露)" in page.text
        problem = client.get(urlsplit(printed).path, headers={"Accept": "application/json"})
        assert problem.status_code == 400
        assert "signed with a revoked key (私钥泄露)" in problem.json()["detail"]
        assert old_kid not in {
            k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]
        }
        assert client.get(urlsplit(reprinted).path).status_code == 200

    states = {k.kid: k.state for k in list_keys(runtime.app, runtime.keys)}
    assert states[old_kid] == "revoked" and states[new_kid] == "active"
    with pytest.raises(Conflict, match="already revoked"):
        revoke_key(runtime.app, runtime.keys, old_kid, reason="again", actor=OPERATOR)
    with pytest.raises(Conflict, match="no key"):
        revoke_key(runtime.app, runtime.keys, "nosuchkid0000000", reason="x", actor=OPERATOR)


def test_revoking_the_active_key_publishes_its_successor_with_it(runtime: Runtime) -> None:
    issuer = runtime.settings.issuer
    active = runtime.keys.current_kid("snapshot")
    minted = mint_snapshot(
        runtime.keys,
        issuer=issuer,
        uscc=RESTAURANT,
        version=3,
        registration_status="active",
        permits={},
    )
    successor = revoke_key(runtime.app, runtime.keys, active, reason="泄露", actor=OPERATOR)
    assert successor is not None and runtime.keys.current_kid("snapshot") == successor
    with pytest.raises(KeyRevoked, match="泄露"):
        read_snapshot(runtime.keys, minted, issuer=issuer)
    fresh = mint_snapshot(
        runtime.keys,
        issuer=issuer,
        uscc=RESTAURANT,
        version=3,
        registration_status="active",
        permits={},
    )
    assert read_snapshot(runtime.keys, fresh, issuer=issuer).version == 3


def test_another_process_learns_of_rotation_and_revocation_from_the_store(
    settings: Settings,
) -> None:
    """Two processes on one store and one data folder (compose's API and worker)."""
    first = Runtime(settings)
    second = Runtime(settings.model_copy(update={"keys_refresh_seconds": 0.0}))
    try:
        issuer = settings.issuer
        old = second.verification_url(RESTAURANT, 1).rsplit("/", 1)[1]
        new_kid = rotate_key(first.app, first.keys, "pointer", actor=OPERATOR)
        minted = first.verification_url(RESTAURANT, 1).rsplit("/", 1)[1]
        # A kid the second process never saw: it looks in the store and finds it.
        assert read_pointer(second.keys, minted, issuer=issuer).uscc == RESTAURANT
        # And it signs with the new key, taken from the folder they share.
        assert _kid(second.verification_url(RESTAURANT, 1)) == new_kid
        revoke_key(first.app, first.keys, _kid(old), reason="泄露", actor=OPERATOR)
        with pytest.raises(KeyRevoked):
            read_pointer(second.keys, old, issuer=issuer)
        assert _kid(old) not in {k["kid"] for k in second.keys.jwks()["keys"]}
    finally:
        second.close()
        first.close()


def test_a_process_with_another_data_folder_verifies_a_new_key_it_cannot_sign_with(
    pg_settings: Settings, tmp_path: Path
) -> None:
    """Two hosts on one PostgreSQL store, each with its own copy of the keys folder (a SQLite
    store lives in its data folder: one folder, one store)."""
    settings = pg_settings
    first = Runtime(settings)
    elsewhere = settings.model_copy(
        update={"data_dir": tmp_path / "other", "keys_refresh_seconds": 0.0}
    )
    shutil.copytree(settings.keys_dir, elsewhere.keys_dir)
    second = Runtime(elsewhere)
    try:
        before = second.keys.current_kid("pointer")
        rotate_key(first.app, first.keys, "pointer", actor=OPERATOR)
        minted = first.verification_url(RESTAURANT, 2).rsplit("/", 1)[1]
        assert read_pointer(second.keys, minted, issuer=settings.issuer).print_version == 2
        assert second.keys.current_kid("pointer") == before  # no private half: it cannot sign
        assert _kid(second.verification_url(RESTAURANT, 1)) == before
    finally:
        second.close()
        first.close()


def test_the_operator_lists_rotates_and_revokes_keys_with_the_cli(settings: Settings) -> None:
    env = _env_of(settings)
    runner = CliRunner()
    listed = runner.invoke(main, ["keys", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    # The table is stdout; a log line (keys published on first use) goes to stderr.
    assert len(listed.stdout.splitlines()) == 3 and listed.stdout.count(" active ") == 3
    pointer = next(
        line.split()[1] for line in listed.stdout.splitlines() if line.startswith("pointer")
    )

    rotated = runner.invoke(
        main, ["keys", "rotate", "--purpose", "pointer", "--by", "ops-1"], env=env
    )
    assert rotated.exit_code == 0, rotated.output
    assert "pointer key rotated" in rotated.output
    revoked = runner.invoke(main, ["keys", "revoke", pointer, "--reason", "私钥泄露"], env=env)
    assert revoked.exit_code == 0, revoked.output
    assert f"key {pointer} revoked" in revoked.output

    again = runner.invoke(main, ["keys", "list"], env=env)
    line = next(line for line in again.stdout.splitlines() if pointer in line)
    assert " revoked " in line and "(私钥泄露)" in line
    assert "private key here" in line
    refused = runner.invoke(main, ["keys", "revoke", pointer, "--reason", "again"], env=env)
    assert refused.exit_code != 0 and "already revoked" in refused.output
    jwks = runner.invoke(main, ["jwks"], env=env)
    assert pointer not in jwks.output
    # The private halves never reach the terminal.
    for output in (listed.output, rotated.output, revoked.output, again.output, jwks.output):
        assert "PRIVATE KEY" not in output and '"d"' not in output


def test_a_token_of_one_key_purpose_is_refused_by_another(runtime: Runtime) -> None:
    claims = {"iss": runtime.settings.issuer, "sub": RESTAURANT, "qv": 1, "iat": 1_767_225_600}
    forged = runtime.keys.sign("snapshot", claims, typ="lic-ptr+jwt")
    with pytest.raises(TokenInvalid, match="signs snapshot tokens, not pointer tokens"):
        read_pointer(runtime.keys, forged, issuer=runtime.settings.issuer)


@pytest.mark.parametrize(
    ("origin", "problem"),
    [
        ("http://127.0.0.1:8000", "is a loopback address"),
        ("https://localhost", "is a loopback address"),
        ("http://[::1]:8000", "is a loopback address"),
        ("http://0.0.0.0:8000", "is the unspecified address"),
        ("http://zzt.example.gov.cn", "is not https"),
        ("https://zzt.example.gov.cn", None),
        ("https://192.168.1.20:8443", None),
    ],
)
def test_serve_warns_of_a_qr_origin_a_phone_cannot_open(origin: str, problem: str | None) -> None:
    assert origin_problem(origin) == problem


def test_serve_prints_the_warning_before_it_starts(tmp_path: Path) -> None:
    env = {"LICENSING_DATA_DIR": str(tmp_path), "LICENSING_BASE_URL": "http://127.0.0.1:9"}
    # --port -1 makes uvicorn fail at once after the warning: nothing keeps running.
    result = CliRunner().invoke(main, ["serve", "--port", "-1"], env=env)
    assert "WARNING: LICENSING_BASE_URL=http://127.0.0.1:9 is a loopback address" in result.output
