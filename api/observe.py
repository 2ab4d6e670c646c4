"""What the operator sees of the HTTP side: a log line and a count per request (with its
request id, echoed in `X-Request-ID`), and `/metrics` for Prometheus."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Response, Security
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import RuntimeDep, scraper
from domain.actor import Actor
from licensing.logs import ACCESS_LOG
from licensing.logs import request_id as current_request_id
from licensing.metrics import LATENCY, REQUESTS, exposition

access = logging.getLogger(ACCESS_LOG)
HEADER = "X-Request-ID"
_HEADER = HEADER.lower().encode()
# A caller's id is kept only if it is plain: no spaces, quotes or control characters that
# could forge or split a log line, and not long enough to fill one.
_PLAIN_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")
UNMATCHED = "unmatched"  # the route of a request no route took (a 404): one label for them all


def request_id(scope: Scope) -> str:
    """The caller's `X-Request-ID` when it is plain, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == _HEADER and _PLAIN_ID.fullmatch(value):
            return bytes(value).decode()
    return os.urandom(16).hex()


class RequestLog:
    """ASGI middleware, outermost: times each request and, once answered, counts it by
    method, route template and status, and logs one line — request id, method, route
    template (never the path: a scanned token is in it), status, duration, and the caller's
    role and department when a bearer token was accepted. Never a token, a query or a body.
    The line is built only when INFO is on, and written by the log's own thread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Each (method, route template, status)'s counter and histogram: few keys, bounded
        # by the routes (a 404 no route took is one key).
        self._counted: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        echoed = (_HEADER, rid.encode())
        status = 500  # unless an answer starts

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), echoed]}
            await send(message)

        bound = current_request_id.set(rid)
        try:
            await self.app(scope, receive, tagged)
        finally:
            current_request_id.reset(bound)
            self._done(scope, rid, status, time.perf_counter() - started)

    def _done(self, scope: Scope, rid: str, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or UNMATCHED
        method = scope["method"]
        key = (method, route, status)
        counted = self._counted.get(key)
        if counted is None:  # labels() takes a lock and checks its input: once per key
            labels = (method, route, str(status))
            counted = self._counted[key] = (
                REQUESTS.labels(*labels),
                LATENCY.labels(*labels),
            )
        counted[0].inc()
        counted[1].observe(seconds)
        if not access.isEnabledFor(logging.INFO):
            return
        actor = scope.get("state", {}).get("actor")
        fields = {
            "request_id": rid,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        if isinstance(actor, Actor):
            fields["role"] = actor.role
            if actor.department:
                fields["department"] = actor.department
            if actor.district:
                fields["district"] = actor.district
        access.info("request", extra=fields)


router = APIRouter(tags=["operations"])

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get(
    "/metrics",
    summary="Metrics in Prometheus' text format",
    description="Counters of requests (by route template and status, with latency "
    "histograms), business acts, decisions by department and outcome, delivery attempts and "
    "failures by channel, daily-job runs and failures and public scans by verdict; gauges of "
    "open and overdue tasks by department and of projection's position and lag, measured "
    "when scraped. Send `Authorization: Bearer` with `LICENSING_METRICS_TOKEN` (Prometheus' "
    "`authorization.credentials_file`) or an admin token: the figures say how much each "
    "department handles and how late it is, which is not for the public the API also serves.",
    response_class=Response,
    responses={
        200: {
            "description": "The metrics (text exposition format 0.0.4)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def get_metrics(
    rt: RuntimeDep, _: Annotated[None, Security(scraper, scopes=["admin"])]
) -> Response:
    return Response(
        exposition(rt.gauges), media_type=PROMETHEUS_TEXT, headers={"Cache-Control": "no-store"}
    )
