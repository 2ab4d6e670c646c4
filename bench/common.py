"""Shared bench helpers: a throw-away runtime on either backend, and timing."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

from licensing.runtime import Runtime
from licensing.settings import Settings
from tests.pg import drop_schema, postgres_settings


@contextmanager
def throwaway_runtime(store: str) -> Iterator[Runtime]:
    with tempfile.TemporaryDirectory() as tmp:
        common = {
            "data_dir": Path(tmp),
            "auth_secret": "b" * 48,
            "issuer": "zzt-bench",
            # Counted as in production, but never reached: its cost is part of the figures.
            "public_rate_limit": "1000000/minute",
        }
        if store == "sqlite":
            settings = Settings(store="sqlite", **common)
        else:
            settings = postgres_settings(schema=f"bench_{uuid4().hex[:12]}", **common)
        runtime = Runtime(settings)
        try:
            yield runtime
        finally:
            runtime.close()
            if store == "postgres":
                drop_schema(settings.postgres_schema)


def summary(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[int(0.95 * (len(samples) - 1))]
    return f"median {statistics.median(samples):.2f}  p95 {p95:.2f}  max {samples[-1]:.2f}"
