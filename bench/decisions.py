"""Department decisions per second against raw INSERT transactions on the same database,
and the projection lag a decision sees (ratios and figures from one run)."""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import UUID

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.domain import Aggregate, event

from bench.common import load_average, percentile, record, summary, throwaway_runtime
from domain.actor import Actor
from domain.uscc import make_uscc
from licensing import review, window
from licensing.demo import CLERK, sample_answers
from licensing.runtime import Runtime
from licensing.window import BusinessDetails
from tests.pg import PG


def raw_inserts_per_second(runtime: Runtime, count: int) -> float:
    """The baseline: single-row INSERT transactions, one client, same database."""
    if runtime.settings.store == "postgres":
        import psycopg

        schema = runtime.settings.postgres_schema
        with psycopg.connect(**PG, autocommit=True) as conn:
            conn.execute(f'CREATE TABLE "{schema}".raw (id bigserial PRIMARY KEY, body text)')
            start = time.perf_counter()
            for n in range(count):
                conn.execute(f'INSERT INTO "{schema}".raw (body) VALUES (%s)', (f"row {n}",))
            return count / (time.perf_counter() - start)
    path = runtime.settings.data_dir / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")  # as the library sets for its own files
    conn.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, body TEXT)")
    start = time.perf_counter()
    for n in range(count):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO raw (body) VALUES (?)", (f"row {n}",))
        conn.execute("COMMIT")
    conn.close()
    return count / (time.perf_counter() - start)


class Tally(Aggregate):
    """The smallest aggregate there is: what the library's own one-event save costs."""

    @event("Counted")
    def count(self) -> None:
        pass


def library_saves_per_second(runtime: Runtime, count: int) -> float:
    """The second baseline: the library saving one new event of one aggregate per
    transaction, through the same store (same recorder, same connection pool)."""
    tally = Tally()
    runtime.app.save(tally)
    start = time.perf_counter()
    for _ in range(count):
        tally.count()
        runtime.app.save(tally)
    return count / (time.perf_counter() - start)


def submit_hotels(runtime: Runtime, count: int) -> list[tuple[UUID, str, str]]:
    tasks = []
    answers = sample_answers(runtime.catalogue, "open_hotel")
    for n in range(count):
        uscc = make_uscc(f"91440699MA4{n:06d}")
        receipt = window.submit(
            runtime.licensing,
            theme="open_hotel",
            business=BusinessDetails(
                uscc=uscc,
                name=f"基准旅馆{n}",
                entity_type="limited_company",
                legal_representative={
                    "name": "基准",
                    "id_number": "440604199001011234",
                    "mobile": "13800138000",
                },
                domicile="佛山",
                business_scope="住宿服务",
                registered_capital=Decimal(1),
            ),
            applicant={"contact_name": "基准", "mobile": "13800138000", "email": "b@example.cn"},
            answers=answers,
            actor=CLERK,
        )
        application = runtime.licensing.application(receipt.id)
        tasks += [(receipt.id, t.permit_type, t.department) for t in application.tasks.values()]
    return tasks


def decide(runtime: Runtime, task: tuple[UUID, str, str]) -> int:
    application_id, permit_type, department = task
    actor = Actor(id=f"bench-{department}", role="department", department=department)
    return review.approve(
        runtime.licensing,
        application_id=application_id,
        permit_type=permit_type,
        actor=actor,
        permit_number=f"B-{application_id.hex[:8]}-{permit_type}",
    ).position


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--hotels", type=int, default=40, help="bundles of nine tasks each")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()

    with throwaway_runtime(args.store) as runtime:
        runtime.start()  # the inline projector, as in `licensing serve`
        tasks = submit_hotels(runtime, args.hotels)
        half = len(tasks) // 2
        baseline = raw_inserts_per_second(runtime, 1000)
        library = library_saves_per_second(runtime, 500)

        lags: list[float] = []
        start = time.perf_counter()
        for task in tasks[:half]:
            position = decide(runtime, task)
            acknowledged = time.perf_counter()
            runtime.projector.wait_for(position, timeout=5)
            lags.append((time.perf_counter() - acknowledged) * 1000)
        sequential = half / (time.perf_counter() - start - sum(lags) / 1000)

        # The parallel case: seven departments at once, each on its own tasks.
        by_department: dict[str, list[tuple[UUID, str, str]]] = {}
        for task in tasks[half:]:
            by_department.setdefault(task[2], []).append(task)
        start = time.perf_counter()
        with ThreadPoolExecutor(len(by_department)) as pool:
            positions = pool.map(
                lambda ts: [decide(runtime, t) for t in ts], by_department.values()
            )
            last = max(p for ps in positions for p in ps)
        parallel = (len(tasks) - half) / (time.perf_counter() - start)
        runtime.projector.wait_for(last, timeout=10)  # count only once all is projected

        approved = sum(
            p["status"] == "valid"
            for lic in (
                runtime.view.licence(make_uscc(f"91440699MA4{n:06d}")) for n in range(args.hotels)
            )
            for p in lic["permits"]  # type: ignore[index]
        )
        assert approved == len(tasks), f"{approved} of {len(tasks)} decisions visible"

        print(
            f"store={args.store}: {len(tasks)} decisions on {args.hotels} hotel bundles "
            f"(each: load bundle + permit [+ registration], save 2-3 aggregates in one transaction)"
        )
        print(f"  raw single-row INSERT transactions (baseline) {baseline:8.0f} /s")
        print(
            f"  the library's one-event save (2nd baseline)   {library:8.0f} /s   "
            f"ratio {library / baseline:.3f}"
        )
        print(
            f"  decisions, one client                         {sequential:8.0f} /s   "
            f"ratio {sequential / baseline:.3f}  (÷ library save {sequential / library:.3f})"
        )
        print(
            f"  decisions, {len(by_department)} departments in parallel          {parallel:8.0f} /s   "
            f"ratio {parallel / baseline:.3f}  (÷ one client {parallel / sequential:.2f})"
        )
        print(f"  projection lag after a decision (ms)          {summary(lags)}")
        print(f"  mean lag {statistics.mean(lags):.2f} ms over {len(lags)} decisions")
        print(f"  load average {load_average()}")
        if args.record:
            raw = f"raw INSERT {baseline:,.0f}/s"
            rows = [
                ["raw single-row INSERT transactions", f"{baseline:,.0f}/s", "—", "1.00", "—"],
                [
                    "the library's one-event save",
                    f"{library:,.0f}/s",
                    raw,
                    f"{library / baseline:.3f}",
                    "—",
                ],
                [
                    "decisions, one client",
                    f"{sequential:,.0f}/s",
                    raw,
                    f"{sequential / baseline:.3f} (÷ library save {sequential / library:.2f})",
                    "≥ 0.3",
                ],
                [
                    f"decisions, {len(by_department)} departments in parallel",
                    f"{parallel:,.0f}/s",
                    f"one client {sequential:,.0f}/s",
                    f"{parallel / sequential:.2f}",
                    "≥ 1",
                ],
                [
                    "projection lag, commit to read model (one client)",
                    f"p50 {percentile(lags, 50):.1f} ms, p99 {percentile(lags, 99):.1f} ms",
                    "—",
                    "—",
                    "p99 < 100 ms",
                ],
            ]
            command = f"python bench/decisions.py --store {args.store} --hotels {args.hotels}"
            record(f"decisions-{args.store}", f"Decisions ({args.store})", command, rows)


if __name__ == "__main__":
    main()
