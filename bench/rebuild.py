"""Rebuilding the read model from a store of tens of thousands of events: events per second
of the batched, resumable rebuild beside the live view, against live catch-up in the same run."""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import throwaway_runtime
from bench.decisions import decide, submit_hotels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--hotels", type=int, default=700, help="bundles; ~30 events each")
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    with throwaway_runtime(args.store) as runtime:
        start = time.perf_counter()
        for task in submit_hotels(runtime, args.hotels):
            decide(runtime, task)
        events = len(runtime.app.recorder.select_notifications(start=1, limit=10**7))
        print(
            f"store={args.store}: {events} events from {args.hotels} hotel bundles, "
            f"written in {time.perf_counter() - start:.0f} s"
        )

        runtime.projector.batch_size = args.batch_size
        start = time.perf_counter()
        assert runtime.projector.catch_up() == events
        live = time.perf_counter() - start
        before = runtime.view.dump()

        start = time.perf_counter()
        replayed = runtime.projector.rebuild()
        rebuild = time.perf_counter() - start
        assert replayed == events and runtime.view.dump() == before

        print(f"  live catch-up  {events / live:8,.0f} events/s  ({live:.1f} s)")
        print(
            f"  rebuild        {events / rebuild:8,.0f} events/s  ({rebuild:.1f} s, "
            f"batches of {args.batch_size}, shadow tables, switched in at "
            f"{runtime.projector.position}); {rebuild / live:.2f}x the catch-up's time"
        )


if __name__ == "__main__":
    main()
