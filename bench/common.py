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


# --- what every run records: machine, date, commit, load; and docs/benchmarks.md ----------

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def load_average() -> str:
    """The 1-minute load average (2 cores shared: a figure means little without it)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def machine() -> str:
    import os
    import platform

    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}, {os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def commit() -> str:
    import subprocess

    root = DOC.parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def record(section: str, title: str, command: str, rows: list[list[str]], notes: str = "") -> None:
    """Put this run's table in docs/benchmarks.md under `section` (replacing the last run's):
    the command, when, on what, at which commit; rows of measure, figure, baseline, ratio, goal."""
    import sys
    from datetime import UTC, datetime

    head = "| measure | figure | baseline | ratio | goal |\n|---|---|---|---|---|\n"
    table = "".join("| " + " | ".join(row) + " |\n" for row in rows)
    when = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"<!-- {section} -->\n### {title}\n\n`{command}`\n\n"
        f"Run {when} at commit `{commit()}` on {machine()}; load average {load_average()} "
        f"at the end.\n\n{head}{table}"
        + (f"\n{notes.strip()}\n" if notes.strip() else "")
        + f"<!-- /{section} -->\n"
    )
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    start, end = f"<!-- {section} -->\n", f"<!-- /{section} -->\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + body + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + body
    DOC.write_text(text)
    print(f"recorded in {DOC.relative_to(DOC.parent.parent)} ({section})", file=sys.stderr)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
