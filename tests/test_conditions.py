"""Retries that cannot duplicate and writes on the version one saw: `Idempotency-Key` and
`If-Match` on writes, `If-None-Match` on reads — over HTTP, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import submission, submit

SHOP = make_uscc("91440606MA4DEM001")


def _events(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def _applications(runtime: Runtime) -> int:
    return sum(
        1
        for n in runtime.app.recorder.select_notifications(start=None, limit=10_000)
        if n.topic.endswith("BundleApplication.Submitted")
    )


def test_a_retried_submission_with_the_same_key_creates_one_application(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    body = submission(runtime, "open_restaurant", SHOP, "幂等饭店") | {"accept_now": False}
    headers = auth(token("clerk")) | {"Idempotency-Key": "window-7-0001"}
    with httpx.Client(base_url=server) as client:
        first = client.post("/api/v1/applications", json=body, headers=headers)
        assert first.status_code == 201, first.text
        after_first = _events(runtime)
        again = client.post("/api/v1/applications", json=body, headers=headers)
        assert again.status_code == 201
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["location"] == first.headers["location"]
        assert _events(runtime) == after_first and _applications(runtime) == 1
        # The same key for another request is the caller's mistake: 422, nothing written.
        other = client.post(
            "/api/v1/applications", json=body | {"situation": {"x": 1}}, headers=headers
        )
        assert other.status_code == 422
        assert other.json()["errors"][0]["name"] == "Idempotency-Key"
        # A malformed key is named too.
        bad = client.post(
            "/api/v1/applications", json=body, headers=headers | {"Idempotency-Key": "a b"}
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["in"] == "header"
        assert _events(runtime) == after_first


def test_the_same_key_sent_at_once_from_several_threads_has_one_effect(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    body = submission(runtime, "open_restaurant", SHOP, "并发饭店") | {"accept_now": False}
    headers = auth(token("clerk")) | {"Idempotency-Key": "window-7-0002"}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=server, timeout=30) as client:
            return client.post("/api/v1/applications", json=body, headers=headers)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(post, range(6)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _applications(runtime) == 1


def test_if_match_acts_only_on_the_version_the_caller_saw(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    registrar = auth(token("registrar"))
    with httpx.Client(base_url=server) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_restaurant", SHOP, "版本饭店")
        )
        for task in application["tasks"]:
            client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json={"outcome": "approve", "permit_number": f"N-{task['permit_type']}"},
                headers=auth(token("department", task["department"])),
            ).raise_for_status()
        runtime.projector.catch_up()
        seen = client.get(f"/api/v1/licences/{SHOP}")
        etag = seen.headers["etag"]
        # Someone else changes the licence meanwhile.
        client.post(
            f"/api/v1/registrations/{SHOP}/suspension", json={"reason": "装修"}, headers=registrar
        ).raise_for_status()
        before = _events(runtime)
        stale = client.post(
            f"/api/v1/registrations/{SHOP}/resumption",
            json={"reason": "装修完毕"},
            headers=registrar | {"If-Match": etag},
        )
        assert stale.status_code == 412, stale.text
        assert stale.headers["content-type"] == "application/problem+json"
        assert _events(runtime) == before
        runtime.projector.catch_up()
        current = client.get(f"/api/v1/licences/{SHOP}")
        assert current.headers["etag"] != etag
        fresh = client.post(
            f"/api/v1/registrations/{SHOP}/resumption",
            json={"reason": "装修完毕"},
            headers=registrar | {"If-Match": current.headers["etag"]},
        )
        assert fresh.status_code == 200, fresh.text
        assert fresh.json()["status"]["code"] == "active"


def test_if_none_match_answers_304_while_the_licence_is_unchanged(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        submit(client, token("clerk"), submission(runtime, "open_restaurant", SHOP, "缓存饭店"))
        runtime.projector.catch_up()
        first = client.get(f"/api/v1/licences/{SHOP}")
        etag = first.headers["etag"]
        cached = client.get(f"/api/v1/licences/{SHOP}", headers={"If-None-Match": etag})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["etag"] == etag
        other = client.get(f"/api/v1/licences/{SHOP}", headers={"If-None-Match": '"v0"'})
        assert other.status_code == 200 and other.json()["uscc"] == SHOP


def test_an_application_carries_its_version_as_etag_for_if_match(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk = auth(token("clerk"))
    body = submission(runtime, "open_restaurant", SHOP, "标签饭店") | {"accept_now": False}
    with httpx.Client(base_url=server) as client:
        created = client.post("/api/v1/applications", json=body, headers=clerk).json()
        path = f"/api/v1/applications/{created['id']}"
        seen = client.get(path, headers=clerk)
        etag = seen.headers["etag"]
        assert etag == f'"v{seen.json()["version"]}"'
        assert client.get(path, headers=clerk | {"If-None-Match": etag}).status_code == 304
        before = _events(runtime)
        stale = client.post(
            f"{path}/acceptance",
            json={"decision": "accept"},
            headers=clerk | {"If-Match": '"v0"'},
        )
        assert stale.status_code == 412 and _events(runtime) == before
        accepted = client.post(
            f"{path}/acceptance", json={"decision": "accept"}, headers=clerk | {"If-Match": etag}
        )
        assert accepted.status_code == 200, accepted.text
        assert client.get(path, headers=clerk).headers["etag"] != etag
