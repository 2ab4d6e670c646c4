"""Limits on the public doors: how many requests one client address may make to the scan
pages, the licence lookup, its QR images and the applicant's progress lookup, together,
before a 429 (a problem document with `Retry-After`). Counted in this process's memory by the
`limits` library (fixed windows: one counter per address and window, so a hit costs a
dictionary update), so with several server processes each counts apart. Behind a reverse proxy the client's address is the one the
trusted proxies (`LICENSING_TRUSTED_PROXIES`) put in X-Forwarded-For (uvicorn's own
middleware reads it); from anyone else the header is ignored, so it cannot buy a fresh budget."""

from __future__ import annotations

import math
import time

from fastapi import Depends, FastAPI, HTTPException, Request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from licensing.settings import Settings

_SCOPE = "public"


class PublicLimit:
    """The budget of each client address on the public doors (none when `off`)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.items: list[RateLimitItem] = [] if spec == "off" else parse_many(spec)
        self._limiter = FixedWindowRateLimiter(MemoryStorage())

    def hit(self, address: str) -> int | None:
        """Count one request from `address`: None if it is within every limit, else the
        whole seconds until the exhausted window ends (at least 1)."""
        for item in self.items:
            if not self._limiter.hit(item, _SCOPE, address):
                reset = self._limiter.get_window_stats(item, _SCOPE, address).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None


async def public_door(request: Request) -> None:
    """A route dependency: refuse the request with 429 once its address is over budget.
    On the event loop (async): no thread-pool hop for a counter update."""
    limit: PublicLimit = request.app.state.public_limit
    if not limit.items:
        return
    address = request.client.host if request.client else "unknown"
    wait = limit.hit(address)
    if wait is not None:
        raise HTTPException(
            429,
            f"too many requests from this address to the public pages (at most {limit.spec});"
            f" try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


# `dependencies=` of every public door, and what its 429 means (`documented(THROTTLED)`).
LIMITED = [Depends(public_door)]
THROTTLED = (
    429,
    "Too many requests from this client address to the public doors "
    "(`LICENSING_PUBLIC_RATE_LIMIT`): ask again after `Retry-After` seconds",
)


def install(app: FastAPI, settings: Settings) -> None:
    """Count per address; believe X-Forwarded-For only from the configured proxies. Call
    after every other middleware is added, so the client's address is set first."""
    app.state.public_limit = PublicLimit(settings.public_rate_limit)
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
