"""The daily jobs' time on stores of different sizes with the same work due.

Runs `licensing daily`'s jobs (jobs.DAILY, each against the read model's index) in this
process on each store `bench/populate.py` filled (the folders given), timing the jobs alone
(not the start-up), the best of `--runs` (3). The work due is the same in every store: nothing is due
the day they were filled, so what is measured is finding the work (the index queries), which
is what grows with the number of licences. The first folder is the baseline.

    python bench/daily.py /tmp/zzt-2k /tmp/zzt-10k
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import load_average, record
from licensing import jobs
from licensing.runtime import Runtime
from licensing.settings import Settings

RUNS = 3


def timed(data: Path) -> tuple[int, float, int]:
    """Licences, the best of three runs of every daily job (seconds), receipts of the last."""
    env = dict(line.split("=", 1) for line in (data / "bench.env").read_text().splitlines())
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        runtime = Runtime(Settings())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        best, done = float("inf"), 0
        for _ in range(RUNS):
            start = time.perf_counter()
            done = sum(len(job(runtime.licensing, runtime.index())) for _, job in jobs.DAILY)
            best = min(best, time.perf_counter() - start)
        return int((data / "licences").read_text()), best, done
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stores", nargs="+", type=Path, help="folders populate.py filled")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument("--runs", type=int, default=3, help="the best of so many runs")
    args = parser.parse_args()
    global RUNS
    RUNS = args.runs
    results = [timed(data) for data in args.stores]
    base_n, base_t, _ = results[0]
    rows = []
    for n, seconds, done in results:
        print(
            f"  {n:>9,} licences: daily jobs {seconds * 1000:8.1f} ms ({done} acts)  "
            f"ratio to {base_n:,}: {seconds / base_t:.2f}"
        )
        rows.append(
            [
                f"daily jobs, {n:,} licences ({done} acts due)",
                f"{seconds * 1000:,.1f} ms",
                f"{base_n:,} licences: {base_t * 1000:,.1f} ms",
                f"{seconds / base_t:.2f}",
                "≤ 2 (at 1 M ÷ at 10 k)",
            ]
        )
    print(f"  load average {load_average()}")
    if args.record:
        command = "python bench/daily.py " + " ".join(str(s) for s in args.stores)
        record("daily", "Daily jobs at scale", command, rows)


if __name__ == "__main__":
    main()
