"""The FastAPI application: routers, problem documents, and the runtime's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import audit, contract, credit, prints, problems, public, registrar, review, window
from api.conditions import RequestConditions
from api.responses import Liveness, Readiness
from licensing.runtime import Runtime
from licensing.settings import Settings


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
    app.include_router(window.router)
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
    def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="Readiness and projection position",
        response_model=Readiness,
    )
    def healthz() -> dict[str, object]:
        return {
            "status": "ok" if runtime.projector.error is None else "degraded",
            "store": runtime.settings.store,
            "projected": runtime.projector.position,
        }

    return app


def create_app_from_environment() -> FastAPI:
    """The app `licensing serve` runs (by name, so the CLI need not import the API)."""
    return create_app(Runtime(Settings()))
