"""A store written by earlier code still loads, and means the same: every event class, both backends.

`fixtures/stored_events.json` holds rows as an earlier version of the code stored them (see
`fixtures/make_stored_events.py`), with what that code made of each aggregate.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.bundle import BundleApplication
from domain.registration import BusinessRegistration
from licensing.catalogue import default_catalogue
from licensing.runtime import Runtime
from licensing.service import Licensing
from tests.fixtures.make_stored_events import FIXTURE, event_classes, key_attributes

STORE = json.loads(FIXTURE.read_text())
# The bookkeeping every event carries outside its state, and the version marker inside it.
OUTSIDE_STATE = {"originator_id", "originator_version"}


def _rows(events: list[dict[str, Any]]) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=UUID(e["originator_id"]),
            originator_version=e["originator_version"],
            topic=e["topic"],
            state=e["state"].encode("utf-8"),
        )
        for e in events
    ]


@pytest.fixture(scope="module")
def in_memory() -> Licensing:
    return Licensing(
        catalogue=default_catalogue(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )


def test_the_fixture_holds_every_event_class_and_only_those() -> None:
    recorded = {e["topic"] for e in STORE["events"]}
    assert sorted(set(event_classes()) - recorded) == [], "record one with make_stored_events"
    assert sorted(recorded - set(event_classes())) == []
    assert len(event_classes()) == 53


def test_an_old_store_loads_and_means_the_same(runtime: Runtime) -> None:
    app = runtime.app
    app.recorder.insert_events(_rows(STORE["events"]))
    for aggregate_id, expected in STORE["aggregates"].items():
        aggregate = app.repository.get(UUID(aggregate_id))
        assert key_attributes(aggregate) == expected, aggregate_id


def test_each_event_class_declares_exactly_the_stored_fields_in_their_order() -> None:
    """What today's classes write is what is stored: the same keys, in the same order."""
    for e in STORE["events"]:
        cls = resolve_topic(e["topic"])
        assert get_topic(cls) == e["topic"]
        stored = [k for k in json.loads(e["state"]) if k != "class_version"]
        declared = [f.name for f in fields(cls) if f.name not in OUTSIDE_STATE]
        assert declared == stored, e["topic"]


def test_each_stored_event_is_written_back_byte_for_byte(in_memory: Licensing) -> None:
    for row in _rows(STORE["events"]):
        event = in_memory.mapper.to_domain_event(row)
        assert in_memory.mapper.to_stored_event(event) == row


def _first(topic: type) -> dict[str, Any]:
    return next(e for e in STORE["events"] if e["topic"] == get_topic(topic))


def test_version_one_events_are_upcast(in_memory: Licensing) -> None:
    """Rows from before the fields were added still load, with the upcasters' defaults."""
    submitted = _first(BundleApplication.Submitted)
    state = json.loads(submitted["state"])
    for added in ("situation", "credit", "fast_track", "deficiencies", "accepted", "request"):
        del state[added]
    del state["accepted_on"], state["class_version"]
    objection = _first(BusinessRegistration.ObjectionRaised)
    old_objection = json.loads(objection["state"])
    del old_objection["returns_to"], old_objection["class_version"]
    for row, v1 in ((submitted, state), (objection, old_objection)):
        event = in_memory.mapper.to_domain_event(
            _rows([{**row, "state": json.dumps(v1, ensure_ascii=False)}])[0]
        )
        assert isinstance(event, BundleApplication.Submitted | BusinessRegistration.ObjectionRaised)
        if isinstance(event, BundleApplication.Submitted):
            assert (event.situation, event.credit, event.fast_track) == ({}, None, None)
            assert (event.deficiencies, event.accepted, event.request) == ([], True, None)
            assert event.accepted_on is None
        else:
            assert event.returns_to == "active"
