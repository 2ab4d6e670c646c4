"""Fill a store with N licences, through the real commands and domain events, written in bulk.

Each business goes through the same command handlers the API calls (window.submit, review's
approve/refuse/suspend/revoke, credit.list_business), on a unit of work of its own that is
not committed per command: a batch of businesses is saved in one transaction (one
`EventStore.save` of all their aggregates), so the events are exactly the ones the service
would have written, at bulk speed. The histories are spread as a city's are (seeded, so runs
repeat): most bundles fully approved; some with a refused permit, some still under review,
some with a permit later suspended or revoked, a few with the licence amended (changed
capital) or the business on a credit list.

Then the read model is built with `projections rebuild` (timed: events per second) and the
figures printed: events, and bytes per licence in the store and in the read model. The data
folder gets `scan-paths.txt` (a sample of printed codes' paths, for bench/verify.py),
`licences` (N) and `bench.env` (the LICENSING_* settings of the store).

    python bench/populate.py --licences 10000 --store postgres --data-dir /tmp/zzt-10k
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.domain import Aggregate

from bench.common import load_average, record
from domain.actor import Actor, Role
from domain.errors import NotFound
from domain.uscc import make_uscc
from licensing import credit, review, window
from licensing.demo import CLERK, sample_answers
from licensing.runtime import Runtime
from licensing.settings import Settings
from licensing.unit_of_work import Licensing, UnitOfWork
from licensing.window import BusinessDetails
from tests.pg import PG

# Themed bundles, with the situation answers that decide their conditional permits.
STORE = {
    "food_sales": "prepackaged_only",
    "sells_tobacco": True,
    "sells_class2_devices": False,
    "sells_publications": False,
    "has_outdoor_signboard": True,
}
THEMES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("open_restaurant", {}),
    ("open_convenience_store", STORE),
    ("open_hotel", {}),
    ("open_pharmacy", {}),
)
SAMPLE_SCANS = 2000


class FreshStore(Licensing):
    """Licensing over a store being filled: what this batch made is found in memory, and
    nothing else exists yet (so no lookup costs a query)."""

    def __init__(self, base: Licensing) -> None:
        super().__init__(base.store, catalogue=base.catalogue, calendar=base.calendar)
        self.made: dict[UUID, Aggregate] = {}

    def load(self, aggregate_id: UUID, kind: type[Any], missing: str) -> Any:
        found = self.made.get(aggregate_id)
        if found is None or not isinstance(found, kind):
            raise NotFound(missing)
        return found

    def answered(self, caller: str, key: str) -> None:
        return None

    def credit_record(self, uscc: str) -> None:
        return None


def run(uow: UnitOfWork, handler: Any, **kwargs: Any) -> Any:
    """A command's handler on this unit of work (the @command wrapper commits; here the
    batch does)."""
    return handler.__wrapped__(uow, **kwargs)


def business(uow: UnitOfWork, n: int, rng: random.Random) -> tuple[str, str]:
    """One business's history; returns its USCC and what kind of history it got."""
    uscc = make_uscc(f"9144060{n:010d}")
    theme, situation = THEMES[n % len(THEMES)]
    application = run(
        uow,
        window.submit,
        theme=theme,
        business=BusinessDetails(
            uscc=uscc,
            name=f"佛山市第{n}号测试商户有限公司",
            entity_type="limited_company",
            legal_representative={
                "name": "陈测试",
                "id_number": "440604199001011234",
                "mobile": "13800138000",
            },
            domicile=f"佛山市禅城区测试路 {n} 号",
            business_scope="批发和零售业",
            registered_capital=Decimal(100000 + n % 900000),
        ),
        applicant={"contact_name": "陈测试", "mobile": "13800138000", "email": "t@example.cn"},
        answers=sample_answers(uow.catalogue, theme, situation),
        situation=situation,
        actor=CLERK,
    )
    roll = rng.random()
    kind = "approved"
    tasks = [t for t in application.tasks.values() if t.state == "queued"]
    if roll < 0.07:  # still under review: a department or two has not decided yet
        tasks = tasks[: len(tasks) // 2]
        kind = "under review"
    refused = tasks[-1].permit_type if 0.07 <= roll < 0.15 and tasks else None
    for number, task in enumerate(tasks, start=1):
        reviewer = Actor(
            id=f"bench-{task.department}", role=Role.DEPARTMENT, department=task.department
        )
        if task.permit_type == refused:
            run(
                uow,
                review.refuse,
                application_id=application.id,
                permit_type=task.permit_type,
                actor=reviewer,
                reason="现场核查不符合要求",
                legal_basis="《行政许可法》第三十八条",
            )
            kind = "one permit refused"
        else:
            run(
                uow,
                review.approve,
                application_id=application.id,
                permit_type=task.permit_type,
                actor=reviewer,
                permit_number=f"B{n:07d}-{number:02d}",
            )
    if kind == "approved" and 0.15 <= roll < 0.19:
        task = tasks[-1]
        reviewer = Actor(
            id=f"bench-{task.department}", role=Role.DEPARTMENT, department=task.department
        )
        command = review.suspend_permit if roll < 0.17 else review.revoke_permit
        run(
            uow,
            command,
            uscc=uscc,
            permit_type=task.permit_type,
            actor=reviewer,
            reason="检查发现违法行为",
            legal_basis="《行政处罚法》第九条",
        )
        kind = "permit suspended" if roll < 0.17 else "permit revoked"
    if kind == "approved" and 0.19 <= roll < 0.21:
        run(
            uow,
            credit.list_business,
            uscc=uscc,
            actor=Actor(id="bench-credit", role=Role.CREDIT),
            list_code="abnormal_operations",
            grounds="通过登记的住所无法联系",
            legal_basis="《企业信息公示暂行条例》第十七条",
        )
        kind = "credit listed"
    return uscc, kind


def bytes_of(runtime: Runtime) -> tuple[int, int]:
    """Bytes on disk of the event store and of the read model (tables with their indexes)."""
    settings = runtime.settings
    if settings.store == "sqlite":

        def size(path: Path) -> int:
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))

        store_db = Path(runtime.app.recorder.datastore.pool.db_name)
        view_db = Path(runtime.view.datastore.pool.db_name)
        return size(store_db), size(view_db)
    import psycopg

    schema = settings.postgres_schema
    with psycopg.connect(**PG) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (schema,),
        ).fetchall()
    store = sum(size for name, size in rows if name.startswith("licensing_"))
    view = sum(size for name, size in rows if name.startswith("readmodel"))
    return store, view


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--licences", type=int, default=10_000)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--data-dir", type=Path, required=True, help="a new folder")
    parser.add_argument("--batch", type=int, default=200, help="businesses per transaction")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()

    args.data_dir.mkdir(parents=True, exist_ok=False)
    env = {"LICENSING_DATA_DIR": str(args.data_dir), "LICENSING_ISSUER": "zzt-bench"}
    if args.store == "postgres":
        schema = f"bench_{args.licences}_{int(time.time())}"
        env |= {
            "LICENSING_STORE": "postgres",
            "LICENSING_POSTGRES_HOST": PG["host"],
            "LICENSING_POSTGRES_PORT": str(PG["port"]),
            "LICENSING_POSTGRES_DBNAME": PG["dbname"],
            "LICENSING_POSTGRES_USER": PG["user"],
            "LICENSING_POSTGRES_PASSWORD": PG["password"],
            "LICENSING_POSTGRES_SCHEMA": schema,
        }
    (args.data_dir / "bench.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    os.environ.update(env)
    runtime = Runtime(Settings())
    rng = random.Random(args.seed)
    kinds: dict[str, int] = {}
    sample: list[str] = []
    events = 0
    try:
        start = time.perf_counter()
        for first in range(0, args.licences, args.batch):
            fresh = FreshStore(runtime.licensing)
            changed: list[Aggregate] = []
            for n in range(first, min(first + args.batch, args.licences)):
                uow = UnitOfWork(fresh)
                uscc, kind = business(uow, n, rng)
                kinds[kind] = kinds.get(kind, 0) + 1
                made = list(uow._seen.values())
                fresh.made.update({a.id: a for a in made})
                changed += [a for a in made if a.pending_events]
                if n % max(1, args.licences // SAMPLE_SCANS) == 0:
                    sample.append(uscc)
            # The text checks a command's commit runs (domain.text.check_event) are left
            # out: the text here is this script's own, and they cost more than the rest.
            events += sum(len(aggregate.pending_events) for aggregate in changed)
            runtime.app.save(*changed)
            if first // args.batch % 10 == 0:
                done = min(first + args.batch, args.licences)
                rate = done / (time.perf_counter() - start)
                print(f"\r  written {done:,} licences ({rate:,.0f}/s)", end="", file=sys.stderr)
        written = time.perf_counter() - start
        print(file=sys.stderr)

        start = time.perf_counter()
        projected = runtime.projector.rebuild()
        rebuilt = time.perf_counter() - start
        store_bytes, view_bytes = bytes_of(runtime)
        paths = []
        for uscc in sample:
            row = runtime.view.licence(uscc)
            assert row is not None, uscc
            url = runtime.verification_url(uscc, row["print_version"])
            paths.append("/v/" + url.rsplit("/v/", 1)[1])
        (args.data_dir / "scan-paths.txt").write_text("\n".join(paths) + "\n")
        (args.data_dir / "licences").write_text(f"{args.licences}\n")
    finally:
        runtime.close()

    n = args.licences
    lines = [
        ["licences written", f"{n:,} in {written:.1f} s ({n / written:,.0f}/s)", "", "", ""],
        ["events", f"{events:,} ({events / n:.1f} per licence)", "", "", ""],
        ["event store on disk", f"{store_bytes / n:,.0f} bytes per licence", "", "", ""],
        ["read model on disk", f"{view_bytes / n:,.0f} bytes per licence", "", "", ""],
        [
            "`projections rebuild` (Projector.rebuild)",
            f"{projected / rebuilt:,.0f} events/s ({projected:,} in {rebuilt:.1f} s)",
            "",
            "",
            "≥ 20,000 events/s",
        ],
    ]
    print(
        f"store={args.store}: {n:,} licences, histories: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
    )
    for row in lines:
        print(f"  {row[0]:42s} {row[1]}")
    print(f"  load average {load_average()}; data folder {args.data_dir}")
    if args.record:
        histories = ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
        record(
            f"populate-{args.store}-{n}",
            f"A store of {n:,} licences ({args.store})",
            f"python bench/populate.py --licences {n} --store {args.store} --data-dir DIR",
            lines,
            notes=f"Histories: {histories}.",
        )


if __name__ == "__main__":
    main()
