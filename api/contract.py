"""The published contract: the OpenAPI document as the server really answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.problems import Problem, documented

_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


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
    declares it), and an operation that takes a bearer token names the roles it admits —
    its security requirement's, which are the scopes its role check admits — and may answer
    401 and 403."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(
        by_alias=True, mode="serialization", ref_template="#/components/schemas/{model}"
    )
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
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
            operation["responses"] = dict(sorted(responses.items()))


def install(app: FastAPI) -> None:
    """Publish the completed OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _complete(FastAPI.openapi(app))  # FastAPI keeps it in openapi_schema
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
