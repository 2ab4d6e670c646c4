"""A store written by earlier code still loads, and means the same: every event class, both backends.

`fixtures/stored_events.json` holds rows as the code of commit b7b1d09 stored them, before the
event classes were declared (see `fixtures/make_stored_events.py`), with what that code made of
each aggregate.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic, resolve_topic

from domain.bundle import BundleApplication
from domain.registration import BusinessRegistration
from licensing.runtime import Runtime
from tests.fixtures.stored_events import event_classes, key_attributes, load, rows

STORE = load()
# The bookkeeping every event carries outside its stored state.
OUTSIDE_STATE = {"originator_id", "originator_version"}


def test_the_fixture_holds_every_event_class_and_only_those() -> None:
    recorded = {e["topic"] for e in STORE["events"]}
    assert sorted(set(event_classes()) - recorded) == [], "record one with make_stored_events"
    assert sorted(recorded - set(event_classes())) == []
    assert len(event_classes()) == 65


def test_an_old_store_loads_and_means_the_same(runtime: Runtime) -> None:
    app = runtime.app
    app.recorder.insert_events(rows(STORE["events"]))
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


def test_each_stored_event_is_written_back_byte_for_byte(runtime: Runtime) -> None:
    """Byte for byte under the cipher: the store encrypts every state (licensing.cipher), so
    what is compared is the state it decrypts to, and the row around it."""
    mapper = runtime.app.mapper
    assert mapper.cipher is not None
    for row in rows(STORE["events"]):
        written = mapper.to_stored_event(mapper.to_domain_event(row))
        assert written.state != row.state, "stored in plain text"
        assert replace(written, state=mapper.cipher.decrypt(written.state)) == row


def _first(topic: type) -> dict[str, Any]:
    return next(e for e in STORE["events"] if e["topic"] == get_topic(topic))


def _as_version_one(row: dict[str, Any], *added: str) -> dict[str, Any]:
    state = json.loads(row["state"])
    for name in (*added, "class_version"):
        del state[name]
    return {**row, "state": json.dumps(state, ensure_ascii=False)}


def test_version_one_events_are_upcast(runtime: Runtime) -> None:
    """Rows from before the fields were added still load, with the upcasters' defaults."""
    mapper = runtime.app.mapper
    submitted, objection = rows(
        [
            _as_version_one(
                _first(BundleApplication.Submitted),
                *("situation", "credit", "fast_track", "deficiencies"),
                *("accepted", "request", "accepted_on"),
            ),
            _as_version_one(_first(BusinessRegistration.ObjectionRaised), "returns_to"),
        ]
    )
    event = mapper.to_domain_event(submitted)
    assert isinstance(event, BundleApplication.Submitted)
    assert (event.situation, event.credit, event.fast_track) == ({}, None, None)
    assert (event.deficiencies, event.accepted, event.request, event.accepted_on) == (
        [],
        True,
        None,
        None,
    )
    raised = mapper.to_domain_event(objection)
    assert isinstance(raised, BusinessRegistration.ObjectionRaised)
    assert raised.returns_to == "active"
