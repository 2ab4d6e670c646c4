"""The public answers' cache (api.scan_cache) answers a scan again from memory, yet a decision
is on the next scan once projected and a revoked key's codes are refused on the next scan."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.scan_cache import ScanCache
from domain.actor import Actor, Role
from licensing.keys import revoke_key
from licensing.runtime import Runtime
from licensing.signing import KeyRevoked, KeyRing, mint_pointer, read_pointer
from tests.conftest import auth
from tests.stories import decode_qr, submission, submit
from tests.test_prints import RESTAURANT

JSON = {"Accept": "application/json"}


@contextmanager
def served(runtime: Runtime) -> Iterator[tuple[str, Callable[[], ScanCache]]]:
    """The API on a real socket, and a way to reach its cache (built with the first request)."""
    app = create_app(runtime)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the API did not start"
        time.sleep(0.01)

    def cache() -> ScanCache:
        layer: Any = app.middleware_stack
        while not isinstance(layer, ScanCache):
            layer = layer.app
        return layer

    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", cache
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _scan_twice(client: httpx.Client, path: str, cache: ScanCache) -> dict[str, Any]:
    """Two scans in a row; the second is the first one's answer again (when the second
    ticked over between them, a third one is)."""
    first = client.get(path, headers=JSON)
    assert first.status_code == 200, first.text
    hits = cache.hits
    for _ in range(3):
        again = client.get(path, headers=JSON)
        if cache.hits > hits:
            break
    assert cache.hits > hits, "a scan was never answered from the cache"
    assert again.json()["doc"]["v"] == first.json()["doc"]["v"]
    return dict(again.json()["doc"])


def test_a_decision_is_on_the_next_scan(runtime: Runtime, token: Callable[..., str]) -> None:
    with served(runtime) as (base, cache), httpx.Client(base_url=base, timeout=30) as client:
        body = submission(runtime, "open_restaurant", RESTAURANT, "桂城饭店")
        application = submit(client, token("clerk"), body)
        scan = urlsplit(decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content))
        for task in application["tasks"]:
            before = _scan_twice(client, scan.path, cache())
            shown = {p["type"]: p["status"] for p in before["permits"]}
            assert shown[task["permit_type"]] != "valid"
            decided = client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json={"outcome": "approve", "permit_number": f"N-{task['permit_type']}"},
                headers=auth(token("department", task["department"])),
            )
            assert decided.status_code == 200, decided.text
            # At once, in the same second as the cached answer most of the time.
            after = client.get(scan.path, headers=JSON).json()["doc"]
            assert after["v"] > before["v"]
            assert {p["type"]: p["status"] for p in after["permits"]}[
                task["permit_type"]
            ] == "valid"
            licence = client.get(f"/api/v1/licences/{RESTAURANT}").json()
            assert licence["version"] == after["v"]


def test_a_revoked_key_s_codes_are_refused_on_the_next_scan(
    runtime: Runtime, token: Callable[..., str]
) -> None:
    with served(runtime) as (base, cache), httpx.Client(base_url=base, timeout=30) as client:
        body = submission(runtime, "open_restaurant", RESTAURANT, "桂城饭店")
        submit(client, token("clerk"), body)
        printed = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)
        path = urlsplit(printed).path
        _scan_twice(client, path, cache())
        kid = runtime.keys.current_kid("pointer")
        revoke_key(
            runtime.app,
            runtime.keys,
            kid,
            reason="私钥泄露",
            actor=Actor(id="ops", role=Role.ADMIN),
        )
        refused = client.get(path, headers=JSON)
        assert refused.status_code == 400
        assert "signed with a revoked key (私钥泄露)" in refused.json()["detail"]


def test_a_remembered_signature_is_still_refused_once_its_key_is_revoked(tmp_path: Any) -> None:
    ring = KeyRing.load_or_create(tmp_path / "keys")
    code = mint_pointer(ring, issuer="zzt", uscc=RESTAURANT, print_version=1, issued_at=1)
    assert read_pointer(ring, code, issuer="zzt").uscc == RESTAURANT
    assert read_pointer(ring, code, issuer="zzt").uscc == RESTAURANT  # remembered
    ring.revoke(ring.current_kid("pointer"), "leaked")
    with pytest.raises(KeyRevoked, match="leaked"):
        read_pointer(ring, code, issuer="zzt")
