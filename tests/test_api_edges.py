"""Bad input and wrong callers get clear problem documents; nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import httpx
import pytest
from httpx import ASGITransport

from api.app import create_app
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from licensing.signing import mint_pointer
from tests.conftest import auth
from tests.stories import submission, submit

USCC = make_uscc("91440606MA4ED6E01")


def _events(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def _is_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_calls_without_a_valid_bearer_token_are_401_with_a_challenge(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    before = _events(runtime)  # the fresh store's published keys
    with httpx.Client(base_url=server) as client:
        body = submission(runtime, "open_hotel", USCC, "边界旅馆")
        missing = client.post("/api/v1/applications", json=body)
        _is_problem(missing, 401)
        assert missing.headers["www-authenticate"].startswith("Bearer")
        forged = token("clerk")[:-4] + "AAAA"
        assert (
            "refused"
            in _is_problem(
                client.post("/api/v1/applications", json=body, headers=auth(forged)), 401
            )["detail"]
        )
        # A department may not submit; a clerk may not read a worklist.
        _is_problem(
            client.post(
                "/api/v1/applications", json=body, headers=auth(token("department", "samr"))
            ),
            403,
        )
        _is_problem(client.get("/api/v1/departments/samr/tasks", headers=auth(token("clerk"))), 403)
    assert _events(runtime) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "approve"}, "permit_number"),
        (
            {
                "outcome": "approve",
                "permit_number": "N1",
                "valid_from": "2026-12-01",
                "valid_until": "2026-11-01",
            },
            "valid_until",
        ),
        ({"outcome": "approve", "permit_number": "N1", "valid_until": "next year"}, "valid_until"),
        ({"outcome": "refuse", "reason": "no"}, "legal_basis"),
        ({"outcome": "refuse", "reason": "   ", "legal_basis": "art. 1"}, "reason"),
        ({"outcome": "maybe"}, "outcome"),
    ],
    ids=[
        "no-number",
        "ends-before-start",
        "not-a-date",
        "no-legal-basis",
        "blank-reason",
        "unknown-outcome",
    ],
)
def test_malformed_decisions_are_422_naming_the_field_and_write_nothing(
    server: str, runtime: Runtime, token: Callable[..., str], body: dict, field: str
) -> None:
    with httpx.Client(base_url=server) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", USCC, "边界旅馆")
        )
        before = _events(runtime)
        response = client.post(
            f"/api/v1/applications/{application['id']}/tasks/food_operation/decision",
            json=body,
            headers=auth(token("department", "samr")),
        )
        problem = _is_problem(response, 422)
        assert field in {e["name"] for e in problem["errors"]}, problem
    assert _events(runtime) == before


@pytest.mark.parametrize(
    ("act", "body", "field"),
    [
        ("verification", {"outcome": "defects"}, "findings"),
        ("verification", {"outcome": "defects", "findings": "   "}, "findings"),
        ("verification", {"outcome": "false", "findings": "不实"}, "legal_basis"),
        ("verification", {"outcome": "maybe"}, "outcome"),
        ("verification", {"outcome": "confirmed", "legal_basis": "art. 1"}, "legal_basis"),
        ("rectification", {"outcome": "failed", "reason": "逾期"}, "legal_basis"),
        ("rectification", {"outcome": "rectified"}, "reason"),
    ],
    ids=[
        "defects-no-findings",
        "defects-blank-findings",
        "false-no-basis",
        "unknown-outcome",
        "confirmed-takes-nothing-else",
        "failed-no-basis",
        "rectified-no-reason",
    ],
)
def test_each_verification_outcome_names_the_fields_it_lacks(
    server: str, token: Callable[..., str], act: str, body: dict, field: str
) -> None:
    url = f"/api/v1/licences/{USCC}/permits/fire_safety_check/{act}"
    with httpx.Client(base_url=server) as client:
        response = client.post(url, json=body, headers=auth(token("department", "fire")))
    problem = _is_problem(response, 422)
    assert [e["name"] for e in problem["errors"]] == [field], problem


def test_unknown_things_are_404_and_garbage_is_422(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    samr = auth(token("department", "samr"))
    with httpx.Client(base_url=server) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", USCC, "边界旅馆")
        )
        approve = {"outcome": "approve", "permit_number": "N1"}
        _is_problem(
            client.post(
                f"/api/v1/applications/{uuid4()}/tasks/food_operation/decision",
                json=approve,
                headers=samr,
            ),
            404,
        )
        _is_problem(
            client.post(
                f"/api/v1/applications/{application['id']}/tasks/moon_landing/decision",
                json=approve,
                headers=samr,
            ),
            404,
        )
        _is_problem(
            client.post(
                "/api/v1/applications/not-a-uuid/tasks/food_operation/decision",
                json=approve,
                headers=samr,
            ),
            422,
        )
        _is_problem(client.get(f"/api/v1/licences/{make_uscc('91440606MA4ED6E02')}"), 404)
        _is_problem(client.get("/api/v1/licences/nonsense"), 404)
        _is_problem(client.get("/api/v1/themes/open_casino"), 404)
        _is_problem(
            client.post(
                "/api/v1/applications",
                content=b"{not json",
                headers={**auth(token("clerk")), "Content-Type": "application/json"},
            ),
            422,
        )
        _is_problem(client.get(f"/api/v1/licences/{USCC}/qr.gif"), 404)


def test_forged_or_foreign_codes_are_refused_on_the_scan_page(
    server: str, runtime: Runtime, token: Callable[..., str], tmp_path
) -> None:
    from licensing.signing import KeyRing

    with httpx.Client(base_url=server) as client:
        submit(client, token("clerk"), submission(runtime, "open_hotel", USCC, "边界旅馆"))
        genuine = mint_pointer(
            runtime.keys,
            issuer=runtime.settings.issuer,
            uscc=USCC,
            print_version=1,
            issued_at=1_790_000_000,
        )
        assert client.get(f"/v/{genuine}").status_code == 200
        header, payload, signature = genuine.split(".")
        tampered = (
            f"{header}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
        )
        foreign_keys = KeyRing.load_or_create(tmp_path / "foreign")
        foreign = mint_pointer(
            foreign_keys,
            issuer=runtime.settings.issuer,
            uscc=USCC,
            print_version=1,
            issued_at=1_790_000_000,
        )
        for bad in (tampered, foreign, "hello", "a.b.c"):
            page = client.get(f"/v/{bad}", headers={"Accept": "text/html"})
            assert page.status_code == 400 and "无法核验此二维码" in page.text
            _is_problem(client.get(f"/v/{bad}", headers={"Accept": "application/json"}), 400)
        # A genuine pointer to a business we do not know.
        unknown = mint_pointer(
            runtime.keys,
            issuer=runtime.settings.issuer,
            uscc=make_uscc("91440606MA4ED6E03"),
            print_version=1,
            issued_at=1,
        )
        assert client.get(f"/v/{unknown}").status_code == 404


def test_the_published_keys_hold_no_private_part_and_the_contract_is_served(server: str) -> None:
    with httpx.Client(
        base_url=server, timeout=60
    ) as client:  # /openapi.json, built once, is slow on a loaded machine
        jwks = client.get("/.well-known/jwks.json").json()
        assert len(jwks["keys"]) == 3  # pointer, snapshot, status
        for key in jwks["keys"]:
            assert key["kty"] == "EC" and key["alg"] == "ES256" and "d" not in key
        spec = client.get("/openapi.json").json()
        assert "/api/v1/applications" in spec["paths"] and "/v/{token}" in spec["paths"]
        assert client.get("/docs").status_code == 200


async def test_the_catalogue_reads_without_a_server(runtime: Runtime) -> None:
    transport = ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://zzt") as client:
        themes = (await client.get("/api/v1/themes")).json()
        assert {t["code"] for t in themes["themes"]} >= {
            "open_hotel",
            "open_restaurant",
            "open_pharmacy",
        }
        form = (await client.get("/api/v1/themes/open_hotel")).json()["form"]
        codes = [f["code"] for f in form]
        assert len(codes) == len(set(codes))  # each question asked once
        shared = [f for f in form if len(f["permits"]) > 1]
        assert shared, "some field must serve several permits in the hotel bundle"
