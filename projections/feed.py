"""Each department's feed (推送 / 双告知): what concerns it, in log order, each entry fixed once written."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import defaultdict
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from domain.bundle import TASK_INFORMED, BundleApplication
from domain.permit import Permit
from domain.registration import BusinessRegistration
from domain.status import RegistrationStatus
from projections.sql import Sql

TABLES = ("feed", "feed_interests", "feed_received")

DDL = (
    # One row per entry. `body` is the entry's JSON exactly as served and pushed: written once,
    # never updated, so an entry served twice is the same entry byte for byte.
    "CREATE TABLE IF NOT EXISTS {feed} ("
    " entry_id TEXT NOT NULL,"
    " department TEXT NOT NULL,"
    " position BIGINT NOT NULL,"  # the event's position in the log
    " seq INTEGER NOT NULL,"  # the entry's place among this event's entries for the department
    " type TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " PRIMARY KEY (department, position, seq))",
    # Which departments a business concerns: those it holds or seeks a permit of, or was told
    # of a cancelled-approval item by (直接取消审批). Kept for good: a department supervising a
    # business wants its later changes and its exit even after a permit ends.
    "CREATE TABLE IF NOT EXISTS {feed_interests} ("
    " uscc TEXT NOT NULL,"
    " department TEXT NOT NULL,"
    " PRIMARY KEY (uscc, department))",
    # The business as the window received it (收件), until acceptance: accepting a received
    # application dispatches its tasks before its registration is made (or re-applied for),
    # in the log too, so the new tasks' entries take the business from here.
    "CREATE TABLE IF NOT EXISTS {feed_received} ("
    " application_id TEXT PRIMARY KEY,"
    " business TEXT NOT NULL)",
)

# Every kind of entry, in the words of the API contract.
TASK_TYPES = (
    "task.created",  # a task reached the department (queued; or filed, or on commitment)
    "task.informed",  # 直接取消审批: no permit; the department is told so that it supervises
    "task.supplement_requested",
    "task.resumed",  # the one resubmission resumed a paused task
    "task.inspection_scheduled",  # 联合勘查
    "task.decided",  # approved or refused, by the department or deemed by rule
    "task.ended",  # withdrawn, lapsed (容缺), or ended with a refused business licence
)
REGISTRATION_TYPES = (
    "registration.established",
    "registration.refused",
    "registration.reapplied",
    "registration.changed",
    "registration.suspended",
    "registration.resumed",
    "registration.deregistration_notice",
    "registration.deregistration_objected",
    "registration.exited",
)
ENTRY_TYPES = TASK_TYPES + REGISTRATION_TYPES

# What an entry may say of a business: the fields the public licence shows, never the legal
# representative (personal data). A department system that needs more reads the task.
PUBLIC_FIELDS = ("name", "entity_type", "domicile", "business_scope", "registered_capital")

_CURSOR = re.compile(r"v1:([0-9]{1,19}):([0-9]{1,9})")


def cursor(position: int, seq: int) -> str:
    """The opaque cursor of an entry: resume after it with `?after=`."""
    return base64.urlsafe_b64encode(f"v1:{position}:{seq}".encode()).decode().rstrip("=")


def parse_cursor(text: str) -> tuple[int, int]:
    """The (position, seq) a cursor stands for; ValueError if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    match = _CURSOR.fullmatch(raw)
    if match is None:
        msg = "not a cursor of this feed: pass back the `cursor` of an entry or of a page"
        raise ValueError(msg)
    return int(match[1]), int(match[2])


# --- building entries -------------------------------------------------------------------


def _business(sql: Sql, uscc: str) -> dict[str, Any]:
    row = sql.one(
        "SELECT uscc, name, entity_type, domicile, business_scope, registered_capital, status"
        " FROM {licences} WHERE uscc = :uscc",
        {"uscc": uscc},
    )
    assert row is not None, uscc  # a business is registered before anything concerns it
    return row


def _interested(sql: Sql, uscc: str) -> list[str]:
    rows = sql.all(
        "SELECT department FROM {feed_interests} WHERE uscc = :uscc ORDER BY department",
        {"uscc": uscc},
    )
    return [row["department"] for row in rows]


def _interest(sql: Sql, uscc: str, department: str) -> None:
    sql.execute(
        "INSERT INTO {feed_interests} (uscc, department) VALUES (:uscc, :department)"
        " ON CONFLICT (uscc, department) DO NOTHING",
        {"uscc": uscc, "department": department},
    )


class _Entries:
    """The entries one event makes, numbered per department in the order they are added."""

    def __init__(self, sql: Sql, e: Any) -> None:
        self.sql = sql
        self.event = e
        self.count: dict[str, int] = defaultdict(int)

    def add(
        self,
        department: str,
        type_: str,
        *,
        business: dict[str, Any],
        task: dict[str, Any] | None = None,
        registration: dict[str, Any] | None = None,
        links: dict[str, str | None],
    ) -> None:
        position = self.sql.position
        assert position is not None  # checked by the handler
        seq = self.count[department]
        self.count[department] += 1
        e = self.event
        entry_id = str(
            uuid5(
                NAMESPACE_URL,
                f"/feed/{department}/{e.originator_id}/{e.originator_version}/{seq}",
            )
        )
        body = {
            "id": entry_id,
            "cursor": cursor(position, seq),
            "department": department,
            "type": type_,
            "occurred_at": e.timestamp.isoformat(),
            "uscc": business["uscc"],
            "business": business,
            "task": task,
            "registration": registration,
            "links": links,
        }
        self.sql.execute(
            "INSERT INTO {feed} (department, position, seq, entry_id, type, body)"
            " VALUES (:department, :position, :seq, :entry_id, :type, :body)",
            {
                "department": department,
                "position": position,
                "seq": seq,
                "entry_id": entry_id,
                "type": type_,
                "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            },
        )


def _positioned(handle: Any) -> Any:
    """Feed handlers run only where the log position is known: a replay of some streams
    (a licence as of a past instant) builds no feed."""

    def run(sql: Sql, e: Any) -> None:
        if sql.position is not None:
            handle(sql, e)

    return run


def _task_links(
    department: str, application_id: str, permit_type: str, mode: str, uscc: str
) -> dict[str, Any]:
    """The department's view of its task, and where an approval task is decided."""
    on_application = f"/api/v1/applications/{application_id}/tasks/{permit_type}"
    return {
        "licence": f"/api/v1/licences/{uscc}",
        "task": f"/api/v1/departments/{department}/tasks/{application_id}/{permit_type}",
        "decision": f"{on_application}/decision" if mode == "approval" else None,
    }


def _task(
    sql: Sql,
    entries: _Entries,
    type_: str,
    permit_type: str,
    *,
    business: dict[str, Any] | None = None,
    permit_number: str | None = None,
    reason: str | None = None,
    legal_basis: str | None = None,
    items: list[str] | None = None,
    inspection_on: str | None = None,
) -> None:
    """One entry for the department of a task, with the task as it stands after the event
    (the worklist's row, already updated by its own handler)."""
    application_id = str(entries.event.originator_id)
    row = sql.one(
        "SELECT * FROM {tasks} WHERE application_id = :application_id"
        " AND permit_type = :permit_type",
        {"application_id": application_id, "permit_type": permit_type},
    )
    assert row is not None, (application_id, permit_type)
    entries.add(
        row["department"],
        type_,
        business=business or _business(sql, row["uscc"]),
        task={
            "application_id": application_id,
            "theme": row["theme"],
            "permit_type": permit_type,
            "mode": row["mode"],
            "state": row["state"],
            "due_on": row["due_on"],
            "statutory_due_on": row["statutory_due_on"],
            "permit_number": permit_number,
            "reason": reason,
            "legal_basis": legal_basis,
            "items": items,
            "inspection_on": inspection_on,
        },
        links=_task_links(row["department"], application_id, permit_type, row["mode"], row["uscc"]),
    )


@_positioned
def _dispatched(sql: Sql, e: Any) -> None:
    """Submitted (accepted on the spot) or Accepted: each task reaches its department, and
    the business now concerns that department. Only received: keep the business for later."""
    if isinstance(e, BundleApplication.Submitted) and not e.accepted:
        if e.request is not None:
            details: dict[str, Any] = dict(e.request["business"])
            business = {"uscc": e.uscc} | {k: details[k] for k in PUBLIC_FIELDS}
            business["registered_capital"] = str(business["registered_capital"])
            sql.execute(
                "INSERT INTO {feed_received} (application_id, business) VALUES (:id, :business)",
                {"id": str(e.originator_id), "business": json.dumps(business, ensure_ascii=False)},
            )
        return
    received = _forget_received(sql, e)
    entries = _Entries(sql, e)
    for task in e.tasks:
        _interest(sql, e.uscc, task["department"])
        informed = task.get("state") == TASK_INFORMED
        _task(
            sql,
            entries,
            "task.informed" if informed else "task.created",
            task["permit_type"],
            business=received,
            permit_number=task.get("permit_number"),
        )


def _forget_received(sql: Sql, e: Any) -> dict[str, Any] | None:
    """The business as received, if the application was only received and its registration
    is not (or no longer: refused, to be re-applied for) in the log yet; forgotten now."""
    row = sql.one(
        "SELECT business FROM {feed_received} WHERE application_id = :id",
        {"id": str(e.originator_id)},
    )
    if row is None:
        return None
    sql.execute(
        "DELETE FROM {feed_received} WHERE application_id = :id", {"id": str(e.originator_id)}
    )
    registered = sql.one("SELECT status FROM {licences} WHERE uscc = :uscc", {"uscc": e.uscc})
    if registered is not None and registered["status"] != RegistrationStatus.REFUSED.value:
        return None  # an existing business: the licence says what it is
    business: dict[str, Any] = json.loads(row["business"])
    return business | {"status": RegistrationStatus.ESTABLISHING.value}


@_positioned
def _not_dispatched(sql: Sql, e: Any) -> None:
    """不予受理, or withdrawn while only received: nothing to keep."""
    sql.execute(
        "DELETE FROM {feed_received} WHERE application_id = :id", {"id": str(e.originator_id)}
    )


@_positioned
def _supplement_requested(sql: Sql, e: Any) -> None:
    _task(sql, _Entries(sql, e), "task.supplement_requested", e.permit_type, items=list(e.items))


@_positioned
def _resubmitted(sql: Sql, e: Any) -> None:
    entries = _Entries(sql, e)
    for permit_type in e.due_dates:
        _task(sql, entries, "task.resumed", permit_type)


@_positioned
def _inspection_scheduled(sql: Sql, e: Any) -> None:
    entries = _Entries(sql, e)
    for permit_type in e.permit_types:
        _task(
            sql, entries, "task.inspection_scheduled", permit_type, inspection_on=e.on.isoformat()
        )


@_positioned
def _decided(sql: Sql, e: Any) -> None:
    _task(
        sql,
        _Entries(sql, e),
        "task.decided",
        e.permit_type,
        permit_number=getattr(e, "permit_number", None),
        reason=e.reason,
        legal_basis=e.legal_basis,
    )


def _ended(why: str | None = None) -> Any:
    @_positioned
    def handle(sql: Sql, e: Any) -> None:
        entries = _Entries(sql, e)
        reason = why.format(missing="、".join(e.missing)) if why else e.reason
        for permit_type in e.permit_types:
            _task(sql, entries, "task.ended", permit_type, reason=reason)

    return handle


def _withdrawn(sql: Sql, e: Any) -> None:
    _not_dispatched(sql, e)
    _ended()(sql, e)


@_positioned
def _permit_applied(sql: Sql, e: Permit.Applied) -> None:
    _interest(sql, e.uscc, e.department)


def _registration(type_: str, **fields: Any) -> Any:
    """One entry for every department the business concerns. `fields` map the entry's
    registration fields to a function of the event (the rest are null)."""

    @_positioned
    def handle(sql: Sql, e: Any) -> None:
        row = sql.one(
            "SELECT uscc FROM {licences} WHERE registration_id = :rid",
            {"rid": str(e.originator_id)},
        )
        assert row is not None
        business = _business(sql, row["uscc"])
        act: dict[str, Any] = {
            "changed": [],
            "reason": None,
            "legal_basis": None,
            "until": None,
            "exit": None,
        }
        act |= {name: value(e) for name, value in fields.items()}
        entries = _Entries(sql, e)
        for department in _interested(sql, business["uscc"]):
            entries.add(
                department,
                type_,
                business=business,
                registration=act,
                links={
                    "licence": f"/api/v1/licences/{business['uscc']}",
                    "task": None,
                    "decision": None,
                },
            )

    return handle


def _day(name: str) -> Any:
    return lambda e: getattr(e, name).isoformat() if getattr(e, name) else None


B = BundleApplication
R = BusinessRegistration
HANDLERS: dict[type, Any] = {
    B.Submitted: _dispatched,
    B.Accepted: _dispatched,
    B.SupplementRequested: _supplement_requested,
    B.Resubmitted: _resubmitted,
    B.JointInspectionScheduled: _inspection_scheduled,
    B.TaskApproved: _decided,
    B.TaskRefused: _decided,
    B.Withdrawn: _withdrawn,
    B.Lapsed: _ended("容缺材料逾期未补正 promised material not supplied in time: {missing}"),
    B.OpenTasksEnded: _ended(),
    B.NotAccepted: _not_dispatched,
    Permit.Applied: _permit_applied,
    R.Established: _registration("registration.established"),
    R.Refused: _registration(
        "registration.refused", reason=lambda e: e.reason, legal_basis=lambda e: e.legal_basis
    ),
    R.Reapplied: _registration("registration.reapplied"),
    # What changed, by name; the new public values are in `business`. A new legal
    # representative is named as changed, never shown (personal data).
    R.Changed: _registration(
        "registration.changed", changed=lambda e: sorted(e.changes), reason=lambda e: e.reason
    ),
    R.Suspended: _registration(
        "registration.suspended", reason=lambda e: e.reason, until=_day("until")
    ),
    R.Resumed: _registration("registration.resumed", reason=lambda e: e.reason),
    R.DeregistrationNoticed: _registration(
        "registration.deregistration_notice", until=_day("notice_until")
    ),
    # The objector and the grounds stay out: a natural person may have raised it.
    R.ObjectionRaised: _registration("registration.deregistration_objected"),
    R.Exited: _registration(
        "registration.exited",
        exit=lambda e: e.status,
        reason=lambda e: e.reason,
        legal_basis=lambda e: e.legal_basis,
    ),
}


# --- reading ----------------------------------------------------------------------------


def entries(
    sql: Sql, department: str, *, after: str | None, since: int = 0, limit: int
) -> list[dict[str, Any]]:
    """The department's entries after the cursor `after` (from the first when None) and
    from events after log position `since`, oldest first: each row's `body` is the entry's
    JSON, with `entry_id`, `type` and `cursor` beside it."""
    position, seq = parse_cursor(after) if after else (0, -1)
    rows = sql.all(
        "SELECT position, seq, entry_id, type, body FROM {feed} WHERE department = :department"
        " AND position > :since AND (position > :position OR (position = :position AND seq > :seq))"
        " ORDER BY position, seq LIMIT :limit",
        {
            "department": department,
            "since": since,
            "position": position,
            "seq": seq,
            "limit": limit,
        },
    )
    return [
        {
            "entry_id": row["entry_id"],
            "type": row["type"],
            "cursor": cursor(row["position"], row["seq"]),
            "body": row["body"],
        }
        for row in rows
    ]
