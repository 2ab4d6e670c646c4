"""The public answer is never stale without saying so: with the projection worker down (the
docker-compose layout), a revocation shows on the next scan, answered from the events, and a
write whose change is not projected yet answers what it committed — never a 500."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from licensing.settings import Settings
from tests.conftest import auth, serve
from tests.stories import submission, submit, verify_status_document

SHOP = make_uscc("91440606MA4TA0001")


@pytest.fixture
def worker_down(settings: Settings) -> Iterator[tuple[Runtime, str]]:
    """An API that does not project (LICENSING_PROJECTOR=off) and no worker beside it."""
    quiet = settings.model_copy(
        update={
            "projector": "off",
            "projection_wait_seconds": 0.2,
            "public_max_lag_seconds": 0.3,
            "freshness_cache_seconds": 0.0,
        }
    )
    runtime = Runtime(quiet)
    try:
        with serve(runtime) as url:
            yield runtime, url
    finally:
        runtime.close()


def test_a_revocation_shows_on_the_next_scan_with_the_worker_down(
    worker_down: tuple[Runtime, str], token: Callable[..., str]
) -> None:
    runtime, url = worker_down
    with httpx.Client(base_url=url, timeout=30) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_restaurant", SHOP, "停摆饭店")
        )
        for task in application["tasks"]:
            decided = client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json={"outcome": "approve", "permit_number": f"N-{task['permit_type']}"},
                headers=auth(token("department", task["department"])),
            )
            assert decided.status_code == 200, decided.text  # committed: never a 500
        runtime.projector.catch_up()  # the worker ran once, then stopped for good
        scan_url = client.get(f"/api/v1/licences/{SHOP}").json()["links"]["verification"]
        scan_path = scan_url.removeprefix(runtime.settings.base_url)
        before = client.get(scan_path, headers={"Accept": "application/json"}).json()
        assert {p["status"] for p in before["doc"]["permits"]} == {"valid"}

        started = time.monotonic()
        revoked = client.post(
            f"/api/v1/licences/{SHOP}/permits/food_operation/revocation",
            json={"reason": "食品安全事故", "legal_basis": "《食品安全法》第一百二十四条"},
            headers=auth(token("department", "samr")),
        )
        # Answered at once with what was committed, and said to come from the events.
        assert revoked.status_code == 200, revoked.text
        assert time.monotonic() - started < 5
        assert revoked.headers["x-read-model"].startswith("catching-up")
        food = next(p for p in revoked.json()["permits"] if p["permit_type"] == "food_operation")
        assert food["status"]["code"] == "invalid" and "食品安全事故" in food["reason"]

        time.sleep(0.5)  # the read model is now behind by more than the public bound
        scan = client.get(scan_path, headers={"Accept": "application/json"})
        assert scan.headers["x-read-model"].startswith("catching-up")
        claims = verify_status_document(client, scan.json()["jws"])
        food = next(p for p in claims["permits"] if p["type"] == "food_operation")
        assert food["status"] == "invalid"  # never a silent 有效
        page = client.get(scan_path)
        assert page.status_code == 200 and "食品安全事故" in page.text
        licence = client.get(f"/api/v1/licences/{SHOP}")
        assert licence.headers["x-read-model"].startswith("catching-up")
        assert runtime.view.licence(SHOP)["version"] < licence.json()["version"]  # type: ignore[index]

        # Once a worker catches up, answers come from the read model again, without a note.
        runtime.projector.catch_up()
        runtime.freshness.invalidate()
        fresh = client.get(f"/api/v1/licences/{SHOP}")
        assert "x-read-model" not in fresh.headers
        assert fresh.json()["version"] == licence.json()["version"]


def test_liveness_never_waits_behind_busy_command_threads(
    worker_down: tuple[Runtime, str], token: Callable[..., str]
) -> None:
    """Sixty writers at once while projection is down: /livez answers on the event loop."""
    runtime, url = worker_down
    body = submission(runtime, "open_restaurant", SHOP, "并发饭店") | {"accept_now": False}
    clerk = auth(token("clerk"))
    answers: list[int] = []

    def write(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            answers.append(c.post("/api/v1/applications", json=body, headers=clerk).status_code)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(60)]
    for thread in writers:
        thread.start()
    with httpx.Client(base_url=url, timeout=10) as client:
        slowest = 0.0
        for _ in range(20):
            started = time.monotonic()
            assert client.get("/livez").status_code == 200
            slowest = max(slowest, time.monotonic() - started)
    for thread in writers:
        thread.join(timeout=120)
    assert answers.count(201) == 60
    print(f"/livez slowest of 20 during 60 writes: {slowest * 1000:.0f} ms")
