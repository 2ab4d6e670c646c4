"""The public answers' cache: a scanned code's page or signed document, and the live licence,
answered again from memory while nothing that made them has changed.

A printed code is scanned far more often than the licence behind it changes, and composing
its answer (verify the code's signature, read the licence, present it, sign the status
document or render the page) costs many times what serving stored bytes does. This ASGI
middleware keeps the answer of each `GET /v/{token}`, `GET /s/{token}` and
`GET /api/v1/licences/{uscc}` (without a query) and gives it again only while all of these
hold, so that the cached answer is byte for byte one the handler could give now:

- the in-process projector is running, and has committed nothing since the answer was made
  (`Projector.generation`): a decision is on the next scan once it is projected. Where the
  read model is kept by another process (`LICENSING_PROJECTOR=off`), nothing is cached;
- the read model is not behind by more than the public bound, by the last measurement (the
  handler would then answer from the events, and say so);
- no key was published or revoked since (`KeyRing.generation`): a revoked key's codes are
  refused on the next scan;
- it is the same second: the page shows the time it was made and the status document's
  `iat` and `exp` are in whole seconds, so an answer is never older than what it says.

Only complete 200 answers without an `X-Read-Model` note are kept, per path and `Accept`;
the store is bounded and emptied whenever it fills or any of the above moves.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.answers import noted
from licensing.runtime import Runtime

_PREFIXES = ("/v/", "/s/", "/api/v1/licences/")
MAX_ENTRIES = 4096


def _cacheable(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string"):
        return False
    path: str = scope["path"]
    if not path.startswith(_PREFIXES):
        return False
    if path.startswith("/api/"):  # the licence itself, not its QR, PDF, history …
        return path.count("/") == 4
    return path.count("/") == 2


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


def _within_public_limit(scope: Scope) -> bool:
    """Count a kept answer against the client's public budget, as the route's dependency
    counts a composed one (api/throttle.py); over budget, the route itself answers the 429."""
    limit = getattr(scope["app"].state, "public_limit", None)
    if limit is None or not limit.items:
        return True
    client = scope.get("client")
    return limit.hit(client[0] if client else "unknown") is None


class ScanCache:
    """ASGI middleware; see the module's docstring for when an answer is given again."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self._entries: dict[tuple[str, bytes], tuple[Any, list[Message]]] = {}
        self._stamp: Any = None
        self.hits = 0
        self.misses = 0

    def _now(self) -> Any | None:
        """What every kept answer was made under, or None when nothing may be kept now."""
        rt = self.runtime
        projector = rt.projector
        if rt.settings.projector != "inline" or not projector.running:
            return None
        behind = rt.freshness.known_behind_by_more_than(rt.settings.public_max_lag_seconds)
        if behind is None or behind:
            return None
        try:  # looks at the store for new keys now and then (a query, once a period)
            keys = rt.keys.follow()
        except Exception:  # the handler meets the same trouble, and answers for it
            return None
        return (projector.generation, keys, int(time.time()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _cacheable(scope):
            await self.app(scope, receive, send)
            return
        stamp = self._now()
        if stamp is None:
            await self.app(scope, receive, send)
            return
        if stamp != self._stamp:
            self._entries = {}
            self._stamp = stamp
        key = (scope["path"], _header(scope, b"accept"))
        entry = self._entries.get(key)
        if entry is not None and entry[0] == stamp and _within_public_limit(scope):
            self.hits += 1
            for message in entry[1]:
                await send(message)
            return
        self.misses += 1
        messages: list[Message] = []
        keep = True

        async def recording(message: Message) -> None:
            nonlocal keep
            if keep:
                if message["type"] == "http.response.start" and message["status"] != 200:
                    keep = False
                elif message["type"] == "http.response.body" and message.get("more_body"):
                    keep = False  # a streamed answer is not kept
                else:
                    messages.append(message)
            await send(message)

        await self.app(scope, receive, recording)
        if keep and len(messages) == 2 and not noted() and self._stamp == stamp:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {}
            self._entries[key] = (stamp, messages)
