"""The FastAPI application: routers, problem documents, and the runtime's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response

from api import (
    applicant,
    audit,
    contract,
    credit,
    prints,
    problems,
    public,
    registrar,
    review,
    window,
)
from api.answers import ReadModelNotice
from api.conditions import RequestConditions
from api.responses import Liveness, Readiness
from licensing.runtime import Runtime
from licensing.settings import Settings
from projections.errors import describe


def create_app(runtime: Runtime) -> FastAPI:
    """One app around one runtime; the runtime's projector runs while the app does."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        yield

    app = FastAPI(
        title="证照通 licensing API",
        version="0.1.0",
        summary="One window, one merged form, parallel department decisions, one live signed QR.",
        description="Every error is an RFC 9457 problem document (`application/problem+json`); "
        "a 422 names each invalid field in `errors`, and a request that fails writes nothing. "
        "Staff operations take a bearer JWT and say which roles they admit.",
        lifespan=lifespan,
        docs_url=None,  # served by api.contract, from the app's own files
        redoc_url=None,
        generate_unique_id_function=contract.operation_id,
    )
    app.state.runtime = runtime
    problems.install(app)
    contract.install(app)
    app.add_middleware(RequestConditions)
    app.add_middleware(ReadModelNotice)
    app.include_router(window.router)
    app.include_router(applicant.router)
    app.include_router(review.router)
    app.include_router(registrar.router)
    app.include_router(audit.router)
    app.include_router(credit.router)
    app.include_router(prints.router)
    app.include_router(public.router)

    @app.get(
        "/livez",
        tags=["operations"],
        summary="Liveness: the process answers (no I/O)",
        response_model=Liveness,
    )
    async def livez() -> dict[str, str]:
        # On the event loop, not the thread pool: busy command threads never delay it.
        return {"status": "ok"}

    def readiness(response: Response) -> dict[str, Any]:
        """Ready when projection is not stuck and its lag is within the bound; the figures
        come from the runtime's Freshness, so a probe storm costs no query per probe."""
        bound = runtime.settings.ready_max_lag_seconds
        body: dict[str, Any] = {
            "store": runtime.settings.store,
            "max_lag_seconds": bound,
            "projected": None,
            "head": None,
            "lag": None,
            "stuck": None,
            "projector_in_process": runtime.projector.running,
            "retrying": None,
            "error": None,
        }
        if runtime.projector.error is not None:
            body["retrying"] = describe(runtime.projector.error)
        try:
            lag = runtime.freshness.lag()
            seconds = runtime.freshness.seconds_behind()
        except Exception as error:  # a probe says why, it does not raise
            response.status_code = 503
            return {"status": "not ready", **body, "error": describe(error)}
        figures = lag.as_dict()
        figures["lag"]["seconds"] = round(seconds, 3)
        ready = lag.stuck is None and seconds <= bound
        response.status_code = 200 if ready else 503
        return {**body, "status": "ready" if ready else "not ready", **figures}

    # A probe's 503 is a state report with the same figures, not a problem with the request.
    not_ready = {503: {"model": Readiness, "description": "stuck, lagging, or not measurable"}}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: projection not stuck and its lag within the bound (else 503)",
        response_model=Readiness,
        responses=not_ready,  # type: ignore[arg-type]
    )
    def readyz(response: Response) -> dict[str, Any]:
        return readiness(response)

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="The same as /readyz (its older name)",
        response_model=Readiness,
        responses=not_ready,  # type: ignore[arg-type]
    )
    def healthz(response: Response) -> dict[str, Any]:
        return readiness(response)

    return app


def create_app_from_environment() -> FastAPI:
    """The app `licensing serve` runs (by name, so the CLI need not import the API)."""
    return create_app(Runtime(Settings()))
