"""What a request's log line and counts cost, against a bare FastAPI endpoint in the same run.

The ASGI apps are called in-process, one request after another (no socket, no server), so
the figures isolate what the app does per request: the bare endpoint, our `/livez` without
the request log middleware (routing through every route and the other middleware), then
with it, the access log off (counted in /metrics, no line built), on (a JSON line handed to the
writer thread), and on with the line formatted in the request's own thread (what the queue
saves). Ratios are requests per second against the bare endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fastapi import FastAPI

from api import observe
from api.app import create_app
from bench.common import throwaway_runtime
from licensing import logs

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/livez",
    "raw_path": b"/livez",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"bench")],
    "client": ("127.0.0.1", 1),
    "server": ("bench", 80),
}


async def _rate(app: Any, seconds: float) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    for _ in range(200):  # warm up
        await app(dict(SCOPE), receive, send)
    done = 0
    stop = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < stop:
        for _ in range(100):
            await app(dict(SCOPE), receive, send)
        done += 100
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="per configuration")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many")
    args = parser.parse_args()

    bare = FastAPI()

    @bare.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    with throwaway_runtime("sqlite") as runtime, open(os.devnull, "w") as sink:
        unobserved = create_app(runtime)
        unobserved.user_middleware = [
            m for m in unobserved.user_middleware if m.cls is not observe.RequestLog
        ]
        app = create_app(runtime)

        def logged(level: str) -> Callable[[], Any]:
            return lambda: logs.configure(format="json", level=level, stream=sink)

        def inline() -> Any:
            handler = logging.StreamHandler(sink)
            handler.setFormatter(logs.formatter("json"))
            root = logging.getLogger()
            root.addHandler(handler)
            root.setLevel(logging.INFO)

            class Undo:
                def close(self) -> None:
                    root.removeHandler(handler)
                    root.setLevel(logging.WARNING)

            return Undo()

        configurations: list[tuple[str, Any, Callable[[], Any] | None]] = [
            ("bare FastAPI endpoint", bare, None),
            ("/livez without the request log and counts", unobserved, None),
            ("/livez, access log off", app, logged("WARNING")),
            ("/livez, JSON line via the writer thread", app, logged("INFO")),
            ("/livez, JSON line formatted in the request", app, inline),
        ]
        rates: dict[str, float] = {}
        for _ in range(args.rounds):  # interleaved, best of each: a busy machine's noise
            for name, target, set_up in configurations:
                handle = set_up() if set_up else None
                rate = asyncio.run(_rate(target, args.seconds))
                if handle is not None:
                    handle.close()
                rates[name] = max(rate, rates.get(name, 0.0))
    base = rates["bare FastAPI endpoint"]
    for name, rate in rates.items():
        print(f"{name:48s} {rate:8.0f} req/s  {rate / base:5.2f} of bare")


if __name__ == "__main__":
    main()
