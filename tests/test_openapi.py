"""The published contract holds: every operation says what it answers, who may call it and
how it fails, and what the server really sends validates against what it publishes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import Any, get_args
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api import responses
from api.app import create_app
from api.schemas import ListCode
from domain import bundle
from domain.actor import ROLES, Actor
from domain.credit import ACTIVE, LISTS, OBJECTED, REMOVED
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from licensing.settings import Settings
from licensing.signing import mint_access_token
from tests.conftest import BASE_URL, SECRET, auth
from tests.stories import submission

HOTEL = make_uscc("91440611MA4C0A001")
RECEIVED = make_uscc("91440611MA4C0A002")
PROBLEM = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def app_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """One runtime on SQLite: the document does not depend on the store."""
    settings = Settings(
        store="sqlite",
        data_dir=tmp_path_factory.mktemp("contract"),
        auth_secret=SECRET,
        base_url=BASE_URL,
        issuer="zzt-test",
    )
    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def app(app_runtime: Runtime) -> FastAPI:
    return create_app(app_runtime)  # not started: nothing here writes


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=ASGITransport(app=app), base_url="http://zzt")


@pytest.fixture(scope="module")
def spec(app: FastAPI) -> dict[str, Any]:
    async def fetch() -> dict[str, Any]:
        async with _client(app) as client:
            return (await client.get("/openapi.json")).json()  # type: ignore[no-any-return]

    return asyncio.run(fetch())


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _roles(operation: dict[str, Any]) -> list[str]:
    return [
        role
        for requirement in operation.get("security", ())
        for r in requirement.values()
        for role in r
    ]


def _validate(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """Check `instance` against a schema of the document (refs resolved in it), formats
    (date, date-time, uuid) included."""
    validator = Draft202012Validator(
        {**schema, "components": spec["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]
    assert not errors, "\n".join(errors[:20])


def _answer(spec: dict[str, Any], response: httpx.Response, path: str, method: str = "get") -> Any:
    """Validate a real answer against what the document publishes for its operation, status
    and media type; return its JSON."""
    published = spec["paths"][path][method]["responses"]
    assert str(response.status_code) in published, (path, response.status_code, response.text)
    media_type = response.headers["content-type"].split(";")[0]
    content = published[str(response.status_code)]["content"]
    assert media_type in content, (path, response.status_code, media_type)
    body = response.json()
    _validate(spec, content[media_type]["schema"], body)
    return body


# --- the document itself --------------------------------------------------------------


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_operation_publishes_what_it_answers(spec: dict[str, Any]) -> None:
    """A JSON answer names its model(s); an image or a page states its media type."""

    def published(media_type: str, schema: dict[str, Any]) -> bool:
        if media_type.endswith("json"):
            return "$ref" in schema or (
                bool(schema.get("anyOf")) and all("$ref" in member for member in schema["anyOf"])
            )
        return schema.get("type") == "string"

    missing = []
    for path, method, operation in _operations(spec):
        contents = [
            (media_type, media.get("schema", {}))
            for status, answer in operation["responses"].items()
            if status.startswith("2")
            for media_type, media in answer.get("content", {}).items()
        ]
        if not contents or not all(published(*content) for content in contents):
            missing.append(f"{method.upper()} {path}")
    assert not missing, f"operations without a response schema: {missing}"


def test_operation_ids_are_readable_and_unique(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(spec)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) for i in ids), ids


def test_request_models_have_one_name_each(spec: dict[str, Any]) -> None:
    names = spec["components"]["schemas"]
    assert not [n for n in names if "__" in n], "a model name leaks its module"
    assert "HTTPValidationError" not in names and "ValidationError" not in names


def test_every_documented_error_is_a_problem_document(spec: dict[str, Any]) -> None:
    for path, method, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            content = answer.get("content", {})
            if status == "503" and path in ("/readyz", "/healthz"):
                # A probe's "not ready" is a state report with the figures, not an error.
                assert content["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Readiness"
                }
                continue
            assert content.get("application/problem+json", {}).get("schema") == PROBLEM, (
                method,
                path,
                status,
            )
            # Only the scan pages answer a person with a page instead.
            assert set(content) <= {"application/problem+json", "text/html"}, (path, status)
            scan_pages = ("/v/{token}", "/s/{token}")
            assert "text/html" not in content or path in scan_pages, (path, status)


def test_operations_that_check_input_document_422_and_closed_paths_404(
    spec: dict[str, Any],
) -> None:
    for path, method, operation in _operations(spec):
        parameters = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
        # An enum in the path: a value outside it names nothing.
        closed_path = [p for p in parameters if p["in"] == "path" and "$ref" in p["schema"]]
        plain = {"type": "string"}
        checked = [
            p
            for p in parameters
            if p not in closed_path
            and {k: v for k, v in p["schema"].items() if k != "title"} != plain
        ]
        if "requestBody" in operation or checked:
            assert "422" in operation["responses"], (method, path)
        if closed_path:
            assert "404" in operation["responses"], (method, path)


def test_writes_may_be_retried_and_conditional_and_reads_with_an_etag_conditional(
    spec: dict[str, Any],
) -> None:
    conditional_reads = []
    for path, method, operation in _operations(spec):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        responses_ = operation["responses"]
        if method != "get":
            assert {"Idempotency-Key", "If-Match"} <= headers, (method, path)
            assert {"412", "422"} <= set(responses_), (method, path)
        elif "ETag" in responses_["200"].get("headers", {}):
            assert "If-None-Match" in headers and "304" in responses_, path
            conditional_reads.append(path)
    assert sorted(conditional_reads) == ["/api/v1/licences/{uscc}", "/s/{token}", "/v/{token}"]


def test_authenticated_operations_take_a_bearer_token_and_name_their_roles(
    spec: dict[str, Any],
) -> None:
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    secured = 0
    for path, method, operation in _operations(spec):
        if "security" not in operation:
            continue
        secured += 1
        roles = _roles(operation)
        assert roles and set(roles) <= set(ROLES), (method, path)
        first_line = operation["description"].splitlines()[0]
        assert first_line.startswith(("**Role:**", "**Roles:**")), (method, path)
        assert all(role in first_line for role in roles), (method, path, first_line)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert secured


async def _call(
    client: httpx.AsyncClient, path: str, method: str, headers: dict[str, str]
) -> httpx.Response:
    """Call an operation with made-up arguments of the right shape (nothing exists)."""
    values = {"application_id": str(uuid4()), "uscc": HOTEL, "fmt": "png", "department": "fire"}
    url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)
    return await client.request(method, url, headers=headers, json={} if method == "post" else None)


async def test_the_roles_published_are_the_roles_checked(
    app: FastAPI, spec: dict[str, Any], app_runtime: Runtime
) -> None:
    """Without a token, exactly the operations that publish a security requirement answer
    401; with one, exactly the roles they publish get past the role check."""

    def bearer(role: str) -> dict[str, str]:
        actor = Actor(
            id=f"{role}-1", role=role, department="fire" if role == "department" else None
        )
        return auth(mint_access_token(app_runtime.auth_secret, actor, issuer="zzt-test"))

    tokens = {role: bearer(role) for role in ROLES}
    async with _client(app) as client:
        for path, method, operation in _operations(spec):
            anonymous = await _call(client, path, method, {})
            assert (anonymous.status_code == 401) == ("security" in operation), (method, path)
            if "security" not in operation:
                continue
            for role, headers in tokens.items():
                answer = await _call(client, path, method, headers)
                refused = answer.status_code == 403 and "may not do this" in answer.json()["detail"]
                assert refused == (role not in _roles(operation)), (method, path, role, answer.text)


def test_variant_bodies_are_discriminated_unions_with_their_own_required_fields(
    spec: dict[str, Any],
) -> None:
    schemas = spec["components"]["schemas"]

    def body(path: str) -> dict[str, Any]:
        content = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        return content["schema"]  # type: ignore[no-any-return]

    def required(ref: str) -> set[str]:
        return set(schemas[ref.rsplit("/", 1)[-1]].get("required", []))

    permit = "/api/v1/licences/{uscc}/permits/{permit_type}"
    verification = body(f"{permit}/verification")
    assert verification["discriminator"]["propertyName"] == "outcome"
    assert {
        tag: required(ref) for tag, ref in verification["discriminator"]["mapping"].items()
    } == {
        "confirmed": {"outcome"},
        "defects": {"outcome", "findings"},
        "false": {"outcome", "findings", "legal_basis"},
    }
    rectification = body(f"{permit}/rectification")
    assert {
        tag: required(ref) for tag, ref in rectification["discriminator"]["mapping"].items()
    } == {
        "rectified": {"outcome", "reason"},
        "failed": {"outcome", "reason", "legal_basis"},
    }
    decision = body("/api/v1/applications/{application_id}/tasks/{permit_type}/decision")
    assert set(decision["discriminator"]["mapping"]) == {"approve", "refuse"}
    acceptance = body("/api/v1/applications/{application_id}/acceptance")
    assert set(acceptance["discriminator"]["mapping"]) == {"accept", "not_accept"}


def test_the_closed_sets_are_the_domains() -> None:
    statuses = {
        bundle.RECEIVED,
        bundle.NOT_ACCEPTED,
        bundle.IN_REVIEW,
        bundle.DECIDED,
        bundle.WITHDRAWN,
        bundle.LAPSED,
    }
    assert set(get_args(responses.ApplicationStatus)) == statuses
    assert set(get_args(ListCode)) == set(LISTS)
    assert set(get_args(responses.ListingState)) == {ACTIVE, OBJECTED, REMOVED}


async def test_the_docs_work_with_no_internet(app: FastAPI) -> None:
    async with _client(app) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        referenced = re.findall(r"""(?:src|href)="([^"]+)"|url: '([^']+)'""", page.text)
        urls = [a or b for a, b in referenced]
        assert len(urls) >= 4, urls  # stylesheet, icon, script, the document
        for url in urls:
            assert not urlsplit(url).netloc, f"/docs loads {url} from elsewhere"
            asset = await client.get(url)
            assert asset.status_code == 200 and asset.content, url
    assert not re.search(r"https?://", page.text), "the page names another host"


# --- real answers against the document --------------------------------------------------


def test_a_real_422_and_other_refusals_are_the_published_problem(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=60) as client:
        spec = client.get("/openapi.json").json()
        fire = auth(token("department", "fire"))
        verification = "/api/v1/licences/{uscc}/permits/{permit_type}/verification"
        url = verification.format(uscc=HOTEL, permit_type="fire_safety_check")
        invalid = client.post(url, json={"outcome": "false", "findings": "不实"}, headers=fire)
        assert invalid.status_code == 422
        problem = _answer(spec, invalid, verification, "post")
        assert [(e["name"], e["in"], e["pointer"]) for e in problem["errors"]] == [
            ("legal_basis", "body", "#/legal_basis")
        ]
        garbage = client.get(f"/api/v1/licences/{HOTEL}", params={"as_of": "yesterday"})
        assert _answer(spec, garbage, "/api/v1/licences/{uscc}")["status"] == 422
        confirmed = {"outcome": "confirmed"}
        assert (
            _answer(spec, client.post(url, json=confirmed, headers=fire), verification, "post")[
                "status"
            ]
            == 404
        )
        assert (
            _answer(spec, client.post(url, json=confirmed), verification, "post")["status"] == 401
        )
        qr = "/api/v1/licences/{uscc}/qr.{fmt}"
        assert _answer(spec, client.get(f"/api/v1/licences/{HOTEL}/qr.gif"), qr)["status"] == 404
        scan = client.get("/v/a.b.c", headers={"Accept": "application/json"})
        assert _answer(spec, scan, "/v/{token}")["status"] == 400


def test_real_answers_validate_against_their_published_schemas(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk, samr, fire = (
        auth(token("clerk")),
        auth(token("department", "samr")),
        auth(token("department", "fire")),
    )
    with httpx.Client(base_url=server, timeout=60) as client:
        spec = client.get("/openapi.json").json()
        _answer(spec, client.get("/api/v1/themes"), "/api/v1/themes")
        _answer(spec, client.get("/api/v1/themes/open_hotel"), "/api/v1/themes/{code}")

        body = submission(runtime, "open_hotel", HOTEL, "契约旅馆")
        body["commitments"] = {"fire_safety_check": {"version": "2025.1", "signed_by": "李测试"}}
        submitted = client.post("/api/v1/applications", json=body, headers=clerk)
        application = _answer(spec, submitted, "/api/v1/applications", "post")
        received = client.post(
            "/api/v1/applications",
            json=submission(runtime, "open_hotel", RECEIVED, "收件旅馆") | {"accept_now": False},
            headers=clerk,
        )
        assert _answer(spec, received, "/api/v1/applications", "post")["credit"] is None

        one = "/api/v1/applications/{application_id}"
        here = f"/api/v1/applications/{application['id']}"
        _answer(spec, client.get(here, headers=clerk), one)
        asked = client.post(
            f"{here}/tasks/food_operation/supplement-request",
            json={"items": ["从业人员健康证明"], "note": "请补充"},
            headers=samr,
        )
        _answer(spec, asked, one + "/tasks/{permit_type}/supplement-request", "post")
        notice = _answer(
            spec, client.get(f"{here}/supplement-notice", headers=clerk), one + "/supplement-notice"
        )
        assert notice["departments"] == ["samr"]
        worklist = client.get("/api/v1/departments/samr/tasks", headers=samr)
        assert _answer(spec, worklist, "/api/v1/departments/{department}/tasks")["tasks"]
        desk = "/api/v1/departments/{department}/tasks/{application_id}/{permit_type}"
        mine = f"/api/v1/departments/samr/tasks/{application['id']}/food_operation"
        claimed = client.post(f"{here}/tasks/food_operation/claim", headers=samr)
        _answer(spec, claimed, one + "/tasks/{permit_type}/claim", "post")
        view = _answer(spec, client.get(mine, headers=samr), desk)
        assert view["claimed_by"] and view["supplement"]
        fire_view = f"/api/v1/departments/fire/tasks/{application['id']}/fire_safety_check"
        assert _answer(spec, client.get(fire_view, headers=fire), desk)["commitment"]
        assert _answer(spec, client.get(fire_view, headers=samr), desk)["status"] == 403
        personal = client.get(f"{mine}/personal-data", headers=samr)
        assert _answer(spec, personal, desk + "/personal-data")["applicant"]
        taken = client.post(
            f"{here}/tasks/food_operation/takeover",
            json={"reason": "接办"},
            headers=auth(token("department", "samr", sub="samr-2")),
        )
        _answer(spec, taken, one + "/tasks/{permit_type}/takeover", "post")
        released = client.post(f"{here}/tasks/food_operation/release", headers=samr)
        assert (
            _answer(spec, released, one + "/tasks/{permit_type}/release", "post")["status"] == 409
        )
        todo = client.get("/api/v1/departments/fire/verifications", headers=fire)
        assert _answer(spec, todo, "/api/v1/departments/{department}/verifications")["permits"]

        listed = client.post(
            f"/api/v1/credit/{HOTEL}/listings",
            json={
                "list": "abnormal_operations",
                "grounds": "未按期公示年报",
                "legal_basis": "条例第八条",
            },
            headers=auth(token("credit", sub="c")),
        )
        _answer(spec, listed, "/api/v1/credit/{uscc}/listings", "post")
        _answer(spec, client.get(f"/api/v1/credit/{HOTEL}", headers=clerk), "/api/v1/credit/{uscc}")
        stale = client.post(
            f"/api/v1/credit/{HOTEL}/listings/L1/objection",
            json={"grounds": "已公示"},
            headers=clerk | {"If-Match": '"v0"'},
        )
        assert stale.status_code == 412
        _answer(spec, stale, "/api/v1/credit/{uscc}/listings/{listing_id}/objection", "post")
        _answer(
            spec,
            client.get(f"/api/v1/licences/{HOTEL}/history", headers=clerk),
            "/api/v1/licences/{uscc}/history",
        )

        licence = _answer(spec, client.get(f"/api/v1/licences/{HOTEL}"), "/api/v1/licences/{uscc}")
        assert licence["credit_listings"] and licence["links"]["qr_png"]
        past = client.get(f"/api/v1/licences/{HOTEL}", params={"as_of": licence["as_of"]})
        assert _answer(spec, past, "/api/v1/licences/{uscc}")["links"] == {
            "live": f"/api/v1/licences/{HOTEL}"
        }
        scanned = client.get(
            urlsplit(licence["links"]["verification"]).path, headers={"Accept": "application/json"}
        )
        assert _answer(spec, scanned, "/v/{token}")["doc"]["credit"]
        held = {"If-None-Match": scanned.headers["ETag"], "Accept": "application/json"}
        unchanged = client.get(urlsplit(licence["links"]["verification"]).path, headers=held)
        assert unchanged.status_code == 304
        assert "304" in spec["paths"]["/v/{token}"]["get"]["responses"]
        _answer(spec, client.get("/.well-known/jwks.json"), "/.well-known/jwks.json")
        _answer(spec, client.get("/livez"), "/livez")
        _answer(spec, client.get("/healthz"), "/healthz")
        _answer(spec, client.get("/readyz"), "/readyz")
