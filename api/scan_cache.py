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

One answer is composed at a time per key and stamp (single flight): at a new second every
busy code misses at once, and the requests that arrive while its answer is being composed
wait for it rather than compose it again. They are given it only when it is one that would
be kept (above); otherwise (a 404, a noted answer, the stamp moved meanwhile) each composes
its own. Every request, given a kept answer or a shared one, counts against the public limit.
"""

from __future__ import annotations

import asyncio
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
        # The answer being composed per key, with the stamp it is composed under; its future
        # is given the messages when they are kept, else None.
        self._pending: dict[tuple[str, bytes], tuple[Any, asyncio.Future[list[Message] | None]]]
        self._pending = {}
        self.hits = 0
        self.misses = 0
        self.shared = 0  # answers given to requests that waited for another's
        self.waits = 0  # requests that waited for another's answer

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
        pending = self._pending.get(key)
        if pending is not None and pending[0] == stamp:
            self.waits += 1
            # shielded: a waiter that goes away must not cancel the others' answer
            shared = await asyncio.shield(pending[1])
            if shared is not None and _within_public_limit(scope):
                self.shared += 1
                for message in shared:
                    await send(message)
                return
            await self.app(scope, receive, send)  # counted and composed as any other
            return
        await self._compose(scope, receive, send, key, stamp)

    async def _compose(
        self, scope: Scope, receive: Receive, send: Send, key: tuple[str, bytes], stamp: Any
    ) -> None:
        """Compose the answer for `key`, keep it when it may be kept, and give it to the
        requests that waited for it (None, to compose their own, when it may not)."""
        self.misses += 1
        future: asyncio.Future[list[Message] | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = (stamp, future)
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

        kept: list[Message] | None = None
        try:
            await self.app(scope, receive, recording)
            if keep and len(messages) == 2 and not noted() and self._stamp == stamp:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries = {}
                self._entries[key] = (stamp, messages)
                kept = messages
        finally:
            if self._pending.get(key, (None, None))[1] is future:
                del self._pending[key]
            future.set_result(kept)
