"""The read model: exactly once, and kept current by a separate worker as in docker-compose."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from licensing.settings import Settings
from projections.projector import Projector
from tests.conftest import auth
from tests.stories import submission, submit

USCC = make_uscc("91440607MA4R3AD01")


def test_a_batch_of_events_is_projected_exactly_once(runtime: Runtime) -> None:
    from licensing.demo import load

    load(runtime.licensing)
    notifications = runtime.app.recorder.select_notifications(start=1, limit=5)
    events = [runtime.app.mapper.to_domain_event(n) for n in notifications]
    positions = [n.id for n in notifications]
    tracking = Tracking(runtime.app.name, notifications[-1].id)
    runtime.view.process(events, positions, tracking, after=0)
    once = runtime.view.dump()
    with pytest.raises(IntegrityError):
        runtime.view.process(events, positions, tracking, after=0)
    with pytest.raises(IntegrityError):  # a newer position, but from an older start
        runtime.view.process(
            events, positions, Tracking(runtime.app.name, tracking.notification_id + 1), after=0
        )
    assert runtime.view.dump() == once
    runtime.projector.catch_up()
    assert runtime.projector.position == runtime.app.recorder.max_notification_id()
    total = runtime.view.dump()
    assert runtime.projector.catch_up() == 0  # nothing new: nothing done
    assert runtime.view.dump() == total


def test_two_projectors_on_one_read_model_never_apply_an_event_twice(runtime: Runtime) -> None:
    from licensing.demo import load

    load(runtime.licensing)
    rival = Projector(runtime.app, runtime.view, batch_size=1)
    mine = Projector(runtime.app, runtime.view, batch_size=2)
    threads = [threading.Thread(target=p.catch_up) for p in (rival, mine)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    together = runtime.view.dump()
    runtime.projector.rebuild()
    assert runtime.view.dump() == together


@pytest.fixture
def worker_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"projector": "off"})


def test_with_the_projector_in_a_worker_the_api_still_shows_its_own_decisions(
    worker_settings: Settings, token: Callable[..., str]
) -> None:
    """The docker-compose shape: the API does not project; a worker does, and commands wait
    for the worker to reach their own change before answering."""
    import time

    import uvicorn

    from api.app import create_app

    api_rt = Runtime(worker_settings)
    worker_rt = Runtime(worker_settings)
    worker = threading.Thread(target=worker_rt.projector.run, daemon=True)
    worker.start()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(api_rt), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{srv.servers[0].sockets[0].getsockname()[1]}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            application = submit(
                client, token("clerk"), submission(api_rt, "open_restaurant", USCC, "工人饭店")
            )
            assert client.get(f"/api/v1/licences/{USCC}").status_code == 200
            # 先照后证: the business licence first, or no permit of it is in force.
            for permit_type in ("business_licence", "food_operation"):
                response = client.post(
                    f"/api/v1/applications/{application['id']}/tasks/{permit_type}/decision",
                    json={"outcome": "approve", "permit_number": f"W-{permit_type}"},
                    headers=auth(token("department", "samr")),
                )
                assert response.status_code == 200, response.text
            permits = {
                p["permit_type"]: p
                for p in client.get(f"/api/v1/licences/{USCC}").json()["permits"]
            }
            # Its own decision shows at once, in force since the business licence is issued.
            food = permits["food_operation"]
            assert food["status"]["word"] == "有效"
            assert food["permit_number"] == "W-food_operation"
        assert api_rt.projector._thread is None
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        worker_rt.projector.stop()
        worker.join(timeout=10)
        worker_rt.close()
        api_rt.close()


def test_every_licence_event_has_a_handler_so_versions_count_events() -> None:
    """Time travel counts one licence version per registration or permit event; the read
    model must too, so every such event class needs a handler."""
    from eventsourcing.domain import DomainEvent

    from domain.permit import Permit
    from domain.registration import BusinessRegistration
    from projections.licence import HANDLERS

    for aggregate in (BusinessRegistration, Permit):
        events = {
            value
            for value in vars(aggregate).values()
            if isinstance(value, type)
            and issubclass(value, DomainEvent)
            and value not in (aggregate.Event, aggregate.Created)
        }
        assert len(events) >= 10  # the lookup itself found the lifecycle's events
        missing = sorted(e.__qualname__ for e in events - set(HANDLERS))
        assert missing == [], f"no read-model handler for {missing}"
