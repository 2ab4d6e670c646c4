"""HTTP's conditional and retry-safe requests: `Idempotency-Key` and `If-Match` on writes (kept
by the command itself, in its own transaction) and `If-None-Match` on reads (304)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from licensing.conditions import MAX_KEY_LENGTH, Conditions, conditions

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _key_problem(key: str) -> str | None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(0x21 <= ord(c) <= 0x7E for c in key):
        return f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
    return None


async def _problem(send: Send, scope: Scope, detail: str) -> None:
    body = json.dumps(
        {
            "type": "/problems/invalid-input",
            "title": "The request has invalid fields",
            "status": 422,
            "detail": f"invalid: Idempotency-Key: {detail}",
            "instance": scope["path"],
            "errors": [{"name": "Idempotency-Key", "in": "header", "detail": detail}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestConditions:
    """ASGI middleware: hands a write's conditions to the command it runs, and answers a read
    whose entity tag the caller already holds with 304 Not Modified."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] in WRITES:
            await self._write(scope, receive, send)
        elif scope["method"] in ("GET", "HEAD") and _header(scope, b"if-none-match"):
            await self.app(scope, receive, _not_modified(scope, send))
        else:
            await self.app(scope, receive, send)

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key")
        if_match = _header(scope, b"if-match")
        if key is None and if_match is None:
            await self.app(scope, receive, send)
            return
        if key is not None and (problem := _key_problem(key)) is not None:
            await _problem(send, scope, problem)
            return
        # The body is read here to fingerprint the request, then handed on unchanged.
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        digest = hashlib.sha256()
        for part in (scope["method"], scope["path"], scope.get("query_string", b"")):
            digest.update(part if isinstance(part, bytes) else part.encode())
            digest.update(b"\n")
        digest.update(body)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: the disconnect, when it comes
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        with conditions(
            Conditions(idempotency_key=key, fingerprint=digest.hexdigest(), if_match=if_match)
        ):
            await self.app(scope, replay, send)


def _not_modified(scope: Scope, send: Send) -> Send:
    """A `send` that turns a 200 whose ETag the caller holds into a 304 without a body."""
    held = {
        tag.strip().removeprefix("W/")
        for tag in (_header(scope, b"if-none-match") or "").split(",")
    }
    swallowing = False

    async def wrapped(message: Message) -> None:
        nonlocal swallowing
        if message["type"] == "http.response.start" and message["status"] == 200:
            headers: list[Any] = list(message.get("headers", []))
            etag = next((v.decode("latin-1") for k, v in headers if k.lower() == b"etag"), None)
            if etag is not None and ("*" in held or etag.removeprefix("W/") in held):
                swallowing = True
                kept = [
                    (k, v)
                    for k, v in headers
                    if k.lower() in (b"etag", b"cache-control", b"vary", b"date")
                ]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
        if swallowing:
            return  # the body of a response already answered with 304
        await send(message)

    return wrapped
