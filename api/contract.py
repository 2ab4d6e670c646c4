"""The published contract: the OpenAPI document as the server really answers, and Swagger UI
served by the app itself (no CDN)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from api.conditions import WRITES
from api.problems import Problem, documented
from licensing.conditions import MAX_KEY_LENGTH

DOCS_ASSETS = "/docs/assets"
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"
_UNREADABLE = "The body cannot be read as JSON text (not UTF-8); nothing was written"

# What api.conditions.RequestConditions reads, on every write and on every read with an ETag.
_WRITE_HEADERS = [
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Retry safely: a write sent again with the same key has the first one's "
        "effect and answer, never a second; the same key with another request is a 422",
        "schema": {"type": "string", "pattern": f"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"},
    },
    {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": 'Act only on the version read: `"v"` and the `version` of the licence, '
        "application or credit record the write acts on (`*`: any); another version is a 412",
        "schema": {"type": "string"},
    },
]
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag held: while it is current, a 304 with no body",
    "schema": {"type": "string"},
}
_NOT_MODIFIED = {"description": "Not modified: the ETag held is current (no body)"}


def operation_id(route: APIRoute) -> str:
    """An operation is called by its handler's name (`submit_application`): short, readable,
    and unique across the app (the contract test checks)."""
    return route.name


def _who(allowed: list[str]) -> str:
    label = "Role" if len(allowed) == 1 else "Roles"
    names = ", ".join(allowed[:-1]) + " or " + allowed[-1] if len(allowed) > 1 else allowed[0]
    return f"**{label}:** {names}."


def _complete(spec: dict[str, Any]) -> None:
    """What FastAPI does not say by itself: the error answers are problem documents (its own
    422 schema is not what this server sends, so it goes: a route that can answer 422
    declares it); an operation that takes a bearer token names the roles it admits — its
    security requirement's, which are the scopes its role check admits — and may answer 401
    and 403; and the conditional requests the middleware serves."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(
        by_alias=True, mode="serialization", ref_template="#/components/schemas/{model}"
    )
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for operations in spec.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation["responses"]
            fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
            if fastapi_422.get("schema", {}).get("$ref") == _FASTAPI_422:
                del responses["422"]
            allowed = [
                role
                for requirement in operation.get("security", ())
                for scopes in requirement.values()
                for role in scopes
            ]
            if allowed:
                described = operation.get("description", "")
                operation["description"] = _who(allowed) + ("\n\n" + described if described else "")
                for status, answer in documented(401, 403).items():
                    responses.setdefault(str(status), answer)
            if "requestBody" in operation:
                # FastAPI answers a body it cannot decode (not UTF-8) with 400, not 422.
                for status, answer in documented((400, _UNREADABLE)).items():
                    responses.setdefault(str(status), answer)
            _conditions(method, operation)
            operation["responses"] = dict(sorted(responses.items()))


def _conditions(method: str, operation: dict[str, Any]) -> None:
    """A write may be retried under a key and made conditional on a version; a read that
    answers with an ETag may be made conditional on it."""
    responses = operation["responses"]
    if method.upper() in WRITES:
        operation.setdefault("parameters", []).extend(_WRITE_HEADERS)
        for status, answer in documented(412, 422).items():
            responses.setdefault(str(status), answer)
    elif "ETag" in responses.get("200", {}).get("headers", {}):
        operation.setdefault("parameters", []).append(_IF_NONE_MATCH)
        responses.setdefault("304", _NOT_MODIFIED)


def install(app: FastAPI) -> None:
    """Publish the completed OpenAPI document, and /docs with Swagger UI's own files."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _complete(FastAPI.openapi(app))  # FastAPI keeps it in openapi_schema
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon-32x32.png",
            # No call to the public validator service: the page works with no internet.
            swagger_ui_parameters={"validatorUrl": None},
        )
