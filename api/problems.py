"""RFC 9457 problem documents for every error, naming what is wrong."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)

PROBLEM_JSON = "application/problem+json"

_DOMAIN_STATUS: list[tuple[type[DomainError], int, str, str]] = [
    (ValidationFailed, 422, "invalid-input", "The request has invalid fields"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "The request does not fit the current state"),
    (Forbidden, 403, "forbidden", "Not allowed for this actor"),
    (PreconditionFailed, 412, "precondition-failed", "The resource changed since it was read"),
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
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_error(name: str, detail: str, *, location: str = "body") -> dict[str, Any]:
    pointer = "#/" + "/".join(name.split(".")) if location == "body" else None
    entry: dict[str, Any] = {"name": name, "in": location, "detail": detail}
    if pointer:
        entry["pointer"] = pointer
    return entry


# The tags of the request bodies that are unions told apart by one field (decision outcome,
# acceptance decision): pydantic puts the tag into an error's path; the client never sent it.
UNION_TAGS = ("approve", "refuse", "accept", "not_accept")


def install(app: FastAPI) -> None:
    """Route every error the service can raise to a problem document."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
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
                return problem(
                    status,
                    slug=slug,
                    title=title,
                    detail=str(exc),
                    instance=request.url.path,
                    errors=errors,
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

        logging.getLogger("api").exception("unhandled error on %s", request.url.path)
        return problem(
            500,
            slug="internal",
            title="Internal error",
            detail="the server failed; nothing was acknowledged",
            instance=request.url.path,
        )
