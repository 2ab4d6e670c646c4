"""The FastAPI application: routers, problem documents, and the runtime's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import audit, credit, problems, public, registrar, review, window
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
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    problems.install(app)
    app.include_router(window.router)
    app.include_router(review.router)
    app.include_router(registrar.router)
    app.include_router(audit.router)
    app.include_router(credit.router)
    app.include_router(public.router)

    @app.get("/livez", tags=["operations"], summary="Liveness: the process answers (no I/O)")
    def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/healthz", tags=["operations"], summary="Readiness and projection position")
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
