"""The lag other code asks about cheaply: measured at most once per period, aged in between."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from projections.freshness import Freshness, Lag, Stuck


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_figures_are_measured_once_per_period_and_aged_in_between() -> None:
    clock = Clock()
    measured: list[float] = []
    now = Lag(10, 13, 3, 2.0, None, False, clock.now)  # what a measurement would find

    def measure() -> Lag:
        measured.append(clock.now)
        return replace(now, measured_at=clock.now)

    freshness = Freshness(measure, max_age=1.0, clock=clock)
    assert freshness.seconds_behind() == 2.0
    assert freshness.behind_by_more_than(1.5) and not freshness.behind_by_more_than(2.0)
    clock.now += 0.6  # the same event is still waiting: it is older now, with no new query
    assert freshness.seconds_behind() == pytest.approx(2.6) and freshness.behind_by_more_than(2.5)
    assert measured == [100.0]
    now = replace(now, head=10, events=0, seconds=0.0)
    clock.now += 0.5  # the period is over: measured again
    assert freshness.seconds_behind() == 0.0 and not freshness.behind_by_more_than(0.0)
    assert measured == [100.0, pytest.approx(101.1)]
    stuck = Stuck(
        position=11,
        topic="x:Y",
        originator_id="o",
        originator_version=1,
        error="TopicError",
        since=datetime.now(UTC),
    )
    now = replace(now, head=12, events=2, stuck=stuck)
    freshness.invalidate()  # told the position moved: measured at the next question
    assert freshness.stuck() is not None and freshness.behind_by_more_than(3600)
    assert len(measured) == 3


def test_a_probe_storm_measures_once() -> None:
    calls: list[int] = []

    def slow_measure() -> Lag:
        calls.append(1)
        time.sleep(0.05)
        return Lag(1, 1, 0, 0.0, None, True, time.monotonic())

    freshness = Freshness(slow_measure, max_age=5.0)
    threads = [threading.Thread(target=freshness.lag) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
