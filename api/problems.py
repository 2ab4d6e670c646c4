"""RFC 9457 problem documents for every error, naming what is wrong."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import UNION_TAGS
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Locked,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)

PROBLEM_JSON = "application/problem+json"


def _absent_not_null(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _optional(description: str) -> Any:
    """A member left out of the document when there is nothing to say; never sent as null."""
    return Field(default=None, description=description, json_schema_extra=_absent_not_null)


class FieldError(BaseModel):
    """One thing wrong with the request."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(
        description="the field, dotted for a nested one (`business.uscc`, `deficiencies.0.material`)"
    )
    in_: Literal["body", "query", "path", "header", "cookie"] = Field(
        alias="in", description="where the request carries it"
    )
    pointer: str | SkipJsonSchema[None] = _optional(
        "JSON Pointer into the body, as a URI fragment (body fields only)"
    )
    detail: str = Field(description="what is wrong with it")


class Problem(BaseModel):
    """An RFC 9457 problem document: every error answer, under `application/problem+json`."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        description="what kind of problem: `/problems/` and one of invalid-input, not-found, "
        "conflict, forbidden, unauthorized, bad-request, internal …",
        examples=["/problems/not-found"],
    )
    title: str = Field(description="that kind of problem in a few words")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="this occurrence, for a person to read")
    instance: str | SkipJsonSchema[None] = _optional("the path that was requested")
    errors: list[FieldError] | SkipJsonSchema[None] = _optional("on 422: each invalid field, named")


# What each error status means, wherever a route documents it.
_MEANINGS = {
    400: "The request is refused as it stands",
    401: "No bearer token, or one that is forged, expired or from another issuer",
    403: "The caller's role or department may not do this",
    404: "Nothing by that name or id",
    409: "The request does not fit the current state; nothing was written",
    412: "If-Match names another version than the resource has now; nothing was written",
    422: "Invalid fields, each named in `errors`; nothing was written",
    429: "Too many tries: wait for the time `Retry-After` gives",
}


def documented(
    *answers: int | tuple[int, str], page: bool = False
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's error answers, each a problem document: a status, or a
    status and what it means for this route. `page`: a browser gets an HTML page instead."""
    documented: dict[int | str, dict[str, Any]] = {}
    for answer in answers:
        status, meaning = answer if isinstance(answer, tuple) else (answer, _MEANINGS[answer])
        content: dict[str, Any] = {
            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
        if page:
            content["text/html"] = {"schema": {"type": "string"}}
        documented[status] = {"description": meaning, "content": content}
    return documented


_DOMAIN_STATUS: list[tuple[type[DomainError], int, str, str]] = [
    (ValidationFailed, 422, "invalid-input", "The request has invalid fields"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "The request does not fit the current state"),
    (Forbidden, 403, "forbidden", "Not allowed for this actor"),
    (PreconditionFailed, 412, "precondition-failed", "The resource changed since it was read"),
    (Locked, 429, "locked", "Too many wrong tries"),
]

_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed for this actor"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "The request has invalid fields"),
}


def problem(
    status: int,
    *,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=instance or None,
        errors=[FieldError.model_validate(e) for e in errors] if errors else None,
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_error(name: str, detail: str, *, location: str = "body") -> dict[str, Any]:
    pointer = "#/" + "/".join(name.split(".")) if location == "body" else None
    entry: dict[str, Any] = {"name": name, "in": location, "detail": detail}
    if pointer:
        entry["pointer"] = pointer
    return entry


def _outside_closed_set(exc: RequestValidationError) -> bool:
    """A path segment outside its closed set (`qr.gif`) names no resource, like an unknown
    path: that is a 404, not an invalid request."""
    errors = exc.errors()
    return bool(errors) and all(
        e.get("loc", ("",))[0] == "path" and e.get("type") in ("enum", "literal_error")
        for e in errors
    )


def install(app: FastAPI) -> None:
    """Route every error the service can raise to a problem document."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _outside_closed_set(exc):
            named = "; ".join(
                f"no {e['loc'][-1]} {e.get('input')!r}: {e.get('msg')}" for e in exc.errors()
            )
            return problem(
                404, slug="not-found", title="Not found", detail=named, instance=request.url.path
            )
        errors = []
        for error in exc.errors():
            location, *path = [str(part) for part in error.get("loc", ())] or ["body"]
            if location == "body" and path and path[0] in UNION_TAGS:
                path = path[1:]  # drop the discriminator's tag from the field path
            if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
                # The tag itself is what is wrong: name it, not the whole body.
                path = [*path, str(error.get("ctx", {}).get("discriminator", "")).strip("'")]
            name = ".".join(path) or location
            errors.append(field_error(name, error.get("msg", "invalid"), location=location))
        names = ", ".join(e["name"] for e in errors)
        return problem(
            422,
            slug="invalid-input",
            title="The request has invalid fields",
            detail=f"invalid: {names}",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        for kind, status, slug, title in _DOMAIN_STATUS:
            if isinstance(exc, kind):
                errors = None
                if isinstance(exc, ValidationFailed):
                    errors = [field_error(p.name, p.reason) for p in exc.problems]
                headers = None
                if isinstance(exc, Locked):
                    wait = (exc.until - datetime.now(UTC)).total_seconds()
                    headers = {"Retry-After": str(max(1, math.ceil(wait)))}
                return problem(
                    status,
                    slug=slug,
                    title=title,
                    detail=str(exc),
                    instance=request.url.path,
                    errors=errors,
                    headers=headers,
                )
        return problem(400, slug="bad-request", title="Bad request", detail=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _HTTP_TITLES.get(exc.status_code, ("error", "Error"))
        return problem(
            exc.status_code,
            slug=slug,
            title=title,
            detail=str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Still a problem document; the traceback goes to the log, not to the client.
        import logging

        logging.getLogger("api").error("unhandled error on %s", request.url.path, exc_info=exc)
        return problem(
            500,
            slug="internal",
            title="Internal error",
            detail="the server failed; nothing was acknowledged",
            instance=request.url.path,
        )
