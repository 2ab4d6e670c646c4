"""What an operator watches, in Prometheus' terms: counters of what happened (requests,
decisions, deliveries, daily jobs, scans) kept by the processes that do it, and gauges of how
things stand (open and overdue tasks, projection lag) measured from the store when scraped.

The counters are prometheus-client's own: with `PROMETHEUS_MULTIPROC_DIR` set they live in
files there, and a scrape adds up every process that shares the folder (several API workers,
`licensing deliver`, a `licensing daily` run from cron)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
# A `_created` series beside every counter doubles what is stored for nothing we alert on.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "licensing_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "licensing_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
COMMITTED = Counter("licensing_acts", "Business acts committed, by command", ["act"])
DECISIONS = Counter(
    "licensing_decisions",
    "Decisions on tasks committed (deemed ones included), by department and outcome",
    ["department", "outcome"],
)
DELIVERY_ATTEMPTS = Counter(
    "licensing_delivery_attempts",
    "Attempts to deliver a document or a feed entry, by channel (email, sms, webhook)",
    ["channel"],
)
DELIVERY_FAILURES = Counter(
    "licensing_delivery_failures",
    "Failed delivery attempts, by channel; final=true when no retry is left",
    ["channel", "final"],
)
JOB_RUNS = Counter("licensing_daily_job_runs", "Runs of a daily job", ["job"])
JOB_SKIPPED = Counter(
    "licensing_daily_job_skipped",
    "Items a daily job could not do now and left for a later run, by job",
    ["job"],
)
JOB_FAILURES = Counter(
    "licensing_daily_job_failures",
    "Daily-job runs that failed as a whole, by job (items skipped one by one are not failures)",
    ["job"],
)
SCANS = Counter(
    "licensing_scans",
    "Public scans of a printed code (pointer) or a snapshot code, by verdict",
    ["kind", "verdict"],
)


class Lag(Protocol):
    """Projection's figures as `projections.freshness` measures them."""

    @property
    def position(self) -> int: ...

    @property
    def head(self) -> int: ...

    @property
    def events(self) -> int: ...

    @property
    def stuck(self) -> object | None: ...


class StoreCollector(Collector):
    """Gauges measured at scrape time: open and overdue tasks by department (one grouped
    query on the read model) and projection's position and lag (the runtime's cached figures,
    so a scrape costs no more than a readiness probe). A figure that cannot be read now is
    left out and `licensing_scrape_errors` says which; the scrape itself still answers."""

    def __init__(
        self,
        *,
        task_counts: Callable[[], list[dict[str, Any]]],
        lag: Callable[[], Lag],
        seconds_behind: Callable[[], float],
    ) -> None:
        self.task_counts = task_counts
        self.lag = lag
        self.seconds_behind = seconds_behind

    def collect(self) -> Iterator[Metric]:
        failed = GaugeMetricFamily(
            "licensing_scrape_errors",
            "1 when a figure could not be measured at this scrape",
            labels=["figure"],
        )
        try:
            yield from self._tasks()
            failed.add_metric(["tasks"], 0)
        except Exception as error:
            log.warning("metrics: task counts not measured: %s", error)
            failed.add_metric(["tasks"], 1)
        try:
            yield from self._projection()
            failed.add_metric(["projection"], 0)
        except Exception as error:
            log.warning("metrics: projection lag not measured: %s", error)
            failed.add_metric(["projection"], 1)
        yield failed

    def _tasks(self) -> Iterable[Metric]:
        rows = self.task_counts()
        open_ = GaugeMetricFamily(
            "licensing_tasks_open",
            "Tasks waiting on a department (queued, or paused for a supplement)",
            labels=["department"],
        )
        overdue = GaugeMetricFamily(
            "licensing_tasks_overdue",
            "Queued tasks past their promised date (承诺时限), by department",
            labels=["department"],
        )
        for row in rows:
            open_.add_metric([row["department"]], int(row["open"]))
            overdue.add_metric([row["department"]], int(row["overdue"] or 0))
        return (open_, overdue)

    def _projection(self) -> Iterable[Metric]:
        lag = self.lag()
        seconds = self.seconds_behind()

        def gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"licensing_projection_{name}", text, value=value)

        return (
            gauge("position", "Log position the read model has projected", lag.position),
            gauge("head", "Log position of the last event recorded", lag.head),
            gauge("lag_events", "Events recorded and not yet projected", lag.events),
            gauge("lag_seconds", "Age of the oldest event not yet projected", seconds),
            gauge(
                "stuck",
                "1 when projection stopped at an event it cannot project",
                int(lag.stuck is not None),
            ),
        )


class _Counters(Collector):
    """This process's counters (prometheus-client's default registry)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def _counters(folder: str | None = None) -> CollectorRegistry:
    """A registry of the counters: this process's, or every process's of the folder."""
    registry = CollectorRegistry(auto_describe=False)
    folder = folder or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Counters())
    return registry


def exposition(*collectors: Collector, multiprocess_dir: str | None = None) -> bytes:
    """The text a scrape gets: the counters (of every process sharing the multiprocess
    folder, when there is one) and the given collectors' gauges."""
    registry = _counters(multiprocess_dir)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


def serve(port: int, *, host: str = "127.0.0.1") -> Any:
    """Serve this process's counters (or the multiprocess folder's) on host:port, from a
    thread: for a worker in a container of its own, which shares no folder with the API.
    No token is asked there: bind it where only Prometheus reaches. Returns the server
    (`shutdown()` stops it)."""
    server, _ = start_http_server(port, addr=host, registry=_counters())
    return server


def multiprocess_problem() -> str | None:
    """Why the counters could not be kept (PROMETHEUS_MULTIPROC_DIR names no folder), or
    None: said at start, not by every request failing at its first count."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and not os.path.isdir(folder):
        return f"PROMETHEUS_MULTIPROC_DIR={folder} is not a folder; create it (empty) or unset it"
    return None


def count_delivery(channel: str, *, failed: bool = False, final: bool = False) -> None:
    """One delivery attempt, and whether it failed (finally: no retry left)."""
    DELIVERY_ATTEMPTS.labels(channel).inc()
    if failed:
        DELIVERY_FAILURES.labels(channel, "true" if final else "false").inc()


def counted_job(name: str) -> Callable[[F], F]:
    """A daily job whose every run is counted, and every run that raises as a failure."""

    def decorate(job: F) -> F:
        @functools.wraps(job)
        def run(*args: Any, **kwargs: Any) -> Any:
            JOB_RUNS.labels(name).inc()
            try:
                return job(*args, **kwargs)
            except Exception:
                JOB_FAILURES.labels(name).inc()
                raise

        return run  # type: ignore[return-value]

    return decorate
