"""The public doors (scan pages, licence lookup, QR images, the applicant's progress) count requests per client address
and answer 429 with Retry-After, as a problem document, past the configured limit; staff
routes and the rest of the public API are not counted; X-Forwarded-For is believed only from
the configured proxies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import ValidationError

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from licensing.settings import Settings
from tests.conftest import auth, serve
from tests.stories import submission, submit

HOTEL = make_uscc("91440611MA4C0L001")
DOORS = {
    "/v/{token}",
    "/s/{token}",
    "/api/v1/licences/{uscc}",
    "/api/v1/licences/{uscc}/qr.{fmt}",
    "/api/v1/progress",
}
JSON = {"Accept": "application/json"}


@contextmanager
def limited(settings: Settings, **limits: str) -> Iterator[tuple[Runtime, str]]:
    """A runtime with these limit settings, served on a real socket (peer 127.0.0.1)."""
    rt = Runtime(settings.model_copy(update=limits))
    try:
        with serve(rt) as url:
            yield rt, url
    finally:
        rt.close()


def _refused_for_too_many(answer: httpx.Response) -> int:
    """Check a 429 is the published problem document; return its Retry-After."""
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/problems/too-many-requests" and problem["status"] == 429
    assert "too many requests" in problem["detail"]
    return int(answer.headers["Retry-After"])


def test_past_the_limit_every_public_door_answers_429_and_staff_are_not_counted(
    settings: Settings, token: Callable[..., str]
) -> None:
    with (
        limited(settings, public_rate_limit="3/minute") as (rt, url),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        clerk = auth(token("clerk"))
        application = submit(
            client, token("clerk"), submission(rt, "open_hotel", HOTEL, "限流旅馆")
        )
        # Staff calls and the public catalogue are not counted.
        for _ in range(5):
            mine = client.get(f"/api/v1/applications/{application['id']}", headers=clerk)
            assert mine.status_code == 200
            assert client.get("/api/v1/themes").status_code == 200
        licence = client.get(f"/api/v1/licences/{HOTEL}")
        assert licence.status_code == 200
        scan = urlsplit(licence.json()["links"]["verification"]).path
        assert client.get(scan, headers=JSON).status_code == 200
        assert client.get(f"/api/v1/licences/{HOTEL}/qr.png").status_code == 200
        # The budget (3) is shared by the doors: the fourth call, to any of them, is refused.
        for door in (scan, f"/api/v1/licences/{HOTEL}", f"/api/v1/licences/{HOTEL}/qr.svg"):
            assert 1 <= _refused_for_too_many(client.get(door, headers=JSON)) <= 60
        # A browser is refused too (a refused scan or garbage token counts the same).
        assert client.get("/v/not.a.token").status_code == 429
        assert client.get("/s/AAAA").status_code == 429
        # The applicant's progress lookup too, before its code is even compared.
        progress = {"application_id": application["id"], "code": "000000"}
        _refused_for_too_many(client.post("/api/v1/progress", json=progress))
        # X-Forwarded-For from an untrusted peer buys nothing.
        spoofed = client.get(scan, headers=JSON | {"X-Forwarded-For": "198.51.100.9"})
        _refused_for_too_many(spoofed)
        assert client.get(f"/api/v1/applications/{application['id']}", headers=clerk).is_success
        assert client.get("/.well-known/jwks.json").status_code == 200


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    settings: Settings,
) -> None:
    with (
        limited(settings, public_rate_limit="2/minute", trusted_proxies="127.0.0.1") as (
            _,
            url,
        ),
        httpx.Client(base_url=url, timeout=60) as client,
    ):

        def lookup(forwarded_for: str) -> httpx.Response:
            return client.get(
                f"/api/v1/licences/{HOTEL}", headers={"X-Forwarded-For": forwarded_for}
            )

        assert [lookup("198.51.100.1").status_code for _ in range(2)] == [404, 404]
        _refused_for_too_many(lookup("198.51.100.1"))
        # The proxy appends the address it saw: what the client wrote before it is not trusted.
        _refused_for_too_many(lookup("203.0.113.5, 198.51.100.1"))
        assert lookup("198.51.100.2").status_code == 404  # another client, its own budget
        assert lookup("2001:db8::7").status_code == 404


def test_off_counts_nothing_and_bad_settings_are_refused(tmp_path: object) -> None:
    assert Settings(public_rate_limit=" OFF ").public_rate_limit == "off"
    assert Settings(public_rate_limit="10/second;600/hour").public_rate_limit == (
        "10/second;600/hour"
    )
    with pytest.raises(ValidationError, match="public_rate_limit"):
        Settings(public_rate_limit="plenty")
    with pytest.raises(ValidationError, match="neither an address nor a network"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.internal")
    assert Settings(trusted_proxies="10.0.0.0/8, ::1, *").trusted_proxies


def test_off_lets_every_request_through(settings: Settings) -> None:
    with (
        limited(settings, public_rate_limit="off") as (_, url),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        answers = {client.get(f"/api/v1/licences/{HOTEL}/qr.png").status_code for _ in range(30)}
        assert answers == {404}


def test_the_document_publishes_429_and_retry_after_on_exactly_the_public_doors(
    settings: Settings,
) -> None:
    with limited(settings) as (_, url), httpx.Client(base_url=url, timeout=60) as client:
        spec = client.get("/openapi.json").json()
    throttled = set()
    for path, item in spec["paths"].items():
        for operation in item.values():
            answer = operation["responses"].get("429")
            if answer is None:
                continue
            throttled.add(path)
            assert "client address" in answer["description"], path
            assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer"
            assert answer["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
    assert throttled == DOORS
