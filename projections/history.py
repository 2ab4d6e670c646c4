"""The licence as of any past instant, and its audit trail, read from the events themselves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from heapq import merge
from itertools import takewhile
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from domain.access import AccessLog
from domain.credit import CreditRecord
from domain.errors import NotFound
from domain.permit import Permit
from domain.registration import BusinessRegistration
from projections.errors import describe
from projections.licence import get_licence
from projections.readmodel import replayed
from projections.skips import Skip, recorded_skips

# Personal data that stays out of the audit trail's details (the registrar reads it elsewhere).
_REDACTED = ("id_number", "mobile")


def _events(app: Application[UUID], aggregate_id: UUID) -> list[Any]:
    return list(app.events.get(aggregate_id))


def _until(events: Iterable[Any], moment: datetime) -> list[Any]:
    return list(takewhile(lambda e: e.timestamp <= moment, events))


def licence_as_of(app: Application[UUID], uscc: str, moment: datetime) -> dict[str, Any]:
    """The licence as it stood at `moment`, as the live view showed it then: the events of
    its registration, of each permit it knew and of its credit record up to `moment`, replayed
    through the live view's handlers into a read model in memory and read with its query
    (so the version counts what the live one counts)."""
    registration_id = BusinessRegistration.create_id(uscc)
    registration_events = _until(_events(app, registration_id), moment)
    if not registration_events:
        msg = f"no business with USCC {uscc} was registered at {moment.isoformat()}"
        raise NotFound(msg)
    registration: BusinessRegistration = app.repository.get(
        registration_id, version=len(registration_events)
    )
    streams = [
        registration_events,
        *(
            _until(_events(app, Permit.create_id(uscc, permit_type)), moment)
            for permit_type in registration.permit_types
        ),
        _until(_events(app, CreditRecord.create_id(uscc)), moment),
    ]
    with replayed(_in_time_order(streams)) as sql:
        licence = get_licence(sql, uscc)
    assert licence is not None  # its registration's first event was replayed
    return licence


def _in_time_order(streams: list[list[Any]]) -> Iterator[Any]:
    """One aggregate's events in their own order, the aggregates' interleaved by time. At
    equal times the earlier stream wins: the registration's row exists before a permit's or a
    credit event counts on it, as in the log, where a business is registered first."""
    return merge(*streams, key=lambda e: e.timestamp)


def audit_trail(app: Application[UUID], uscc: str) -> list[dict[str, Any]]:
    """Every event of the registration and its permits, and every read of personal data on
    the business's applications, oldest first: who, when, what, why. An event that cannot be
    read (the projector stops at such an event too) is listed as unreadable where it stands,
    and an operator's skip of one of these aggregates' events is listed with who, when and
    why, so the trail says why the live view lacks it."""
    registration_id = BusinessRegistration.create_id(uscc)
    readable, unreadable = _stream(app, registration_id, "registration")
    if not readable and not unreadable:
        msg = f"no business registered with USCC {uscc}"
        raise NotFound(msg)
    # Up to the first unreadable event: the registration as the write side last knew it.
    registration: BusinessRegistration = app.repository.get(registration_id, version=len(readable))
    subjects = {registration_id: "registration"}
    tagged = list(readable)
    for permit_type in registration.permit_types:
        permit_id = Permit.create_id(uscc, permit_type)
        subjects[permit_id] = f"permit:{permit_type}"
        more, broken = _stream(app, permit_id, subjects[permit_id])
        tagged += more
        unreadable += broken
    # The business's applications are named by its registration's and permits' events; each
    # has its access log (the log's opening is no read, so it is left out).
    applications = dict.fromkeys(
        e.application_id for _, e in tagged if isinstance(getattr(e, "application_id", None), UUID)
    )
    for application_id in applications:
        tagged += [
            (f"access:{application_id}", e)
            for e in _events(app, AccessLog.create_id(application_id))
            if not isinstance(e, AccessLog.Opened)
        ]
    entries = [_entry(subject, e) for subject, e in sorted(tagged, key=lambda p: p[1].timestamp)]
    entries += unreadable
    entries += [
        _skip_entry(subjects[UUID(skip["originator_id"])], skip)
        for skip in recorded_skips(app).values()
        if _uuid(skip["originator_id"]) in subjects
    ]
    # Stable: an unreadable event right after the last readable one of its stream.
    return sorted(entries, key=lambda entry: str(entry["at"]))


def _stream(
    app: Application[UUID], aggregate_id: UUID, subject: str
) -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
    """An aggregate's events: those that decode, tagged, and an entry for each that does not."""
    readable: list[tuple[str, Any]] = []
    unreadable: list[dict[str, Any]] = []
    at = ""
    for stored in app.recorder.select_events(aggregate_id):
        try:
            event: Any = app.mapper.to_domain_event(stored)
        except Exception as error:
            unreadable.append(
                {
                    "at": at,
                    "subject": subject,
                    "what": "(unreadable event)",
                    "version": stored.originator_version,
                    "actor": None,
                    "reason": None,
                    "legal_basis": None,
                    "details": {"topic": stored.topic, "error": describe(error)},
                }
            )
            continue
        if not unreadable:  # after an unreadable one, the aggregate stops where it was
            readable.append((subject, event))
        at = event.timestamp.isoformat()
    return readable, unreadable


def _entry(subject: str, e: Any) -> dict[str, Any]:
    fields = {
        k: v
        for k, v in vars(e).items()
        if k not in ("originator_id", "originator_version", "timestamp", "actor")
    }
    return {
        "at": e.timestamp.isoformat(),
        "subject": subject,
        "what": type(e).__name__,
        "version": e.originator_version,
        "actor": vars(e.actor),
        "reason": fields.pop("reason", None),
        "legal_basis": fields.pop("legal_basis", None),
        "details": _plain(fields),
    }


def _skip_entry(subject: str, skip: Skip) -> dict[str, Any]:
    return {
        "at": skip["at"],
        "subject": subject,
        "what": "ProjectionSkipped",
        "version": skip["originator_version"],
        "actor": skip["actor"],
        "reason": skip["reason"],
        "legal_basis": None,
        "details": {"position": skip["position"], "topic": skip["topic"], "error": skip["error"]},
    }


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("(redacted)" if k in _REDACTED else _plain(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
