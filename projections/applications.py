"""Each application's stage and the materials it was accepted without (容缺): where the daily
jobs find what is still open and due, without loading every application ever submitted, and
where the window finds its own district's work (`list_applications`)."""

from __future__ import annotations

from typing import Any

from domain.bundle import BundleApplication
from domain.china import day_in_china
from projections.sql import Sql, in_list

TABLES = ("applications", "promised_materials")
INDEXES = ("applications_by_status", "applications_by_district")

DDL = (
    "CREATE TABLE IF NOT EXISTS {applications} ("
    " application_id TEXT PRIMARY KEY,"
    " uscc TEXT NOT NULL,"
    " theme TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " received_on TEXT NOT NULL,"  # the day in China it was submitted (收件)
    " accepted_on TEXT,"
    " district TEXT,"  # the submitting window's; NULL for a clerk token without one
    " received_at TEXT NOT NULL)",  # the instant, for a stable newest-first order
    "CREATE INDEX IF NOT EXISTS {applications_by_status} ON {applications} (status, received_on)",
    "CREATE INDEX IF NOT EXISTS {applications_by_district}"
    " ON {applications} (district, received_at)",
    "CREATE TABLE IF NOT EXISTS {promised_materials} ("
    " application_id TEXT NOT NULL,"
    " material TEXT NOT NULL,"
    " supply_by TEXT NOT NULL,"
    " supplied_on TEXT,"
    " PRIMARY KEY (application_id, material))",
)


def _id(e: Any) -> str:
    return str(e.originator_id)


def _promise(sql: Sql, e: Any) -> None:
    for deficiency in e.deficiencies:
        sql.execute(
            "INSERT INTO {promised_materials} VALUES (:application_id, :material, :supply_by, NULL)",
            {
                "application_id": _id(e),
                "material": deficiency["material"],
                "supply_by": deficiency["supply_by"],
            },
        )


def _submitted(sql: Sql, e: BundleApplication.Submitted) -> None:
    sql.execute(
        "INSERT INTO {applications} VALUES (:application_id, :uscc, :theme, :status,"
        " :received_on, :accepted_on, :district, :received_at)",
        {
            "application_id": _id(e),
            "uscc": e.uscc,
            "theme": e.theme,
            "status": "in_review" if e.accepted else "received",
            "received_on": day_in_china(e.timestamp).isoformat(),
            "accepted_on": (e.accepted_on or day_in_china(e.timestamp)).isoformat()
            if e.accepted
            else None,
            "district": e.actor.district,
            "received_at": e.timestamp.isoformat(),
        },
    )
    _promise(sql, e)


def _accepted(sql: Sql, e: Any) -> None:
    sql.execute(
        "UPDATE {applications} SET status = 'in_review', accepted_on = :on"
        " WHERE application_id = :application_id",
        {"application_id": _id(e), "on": e.on.isoformat()},
    )
    _promise(sql, e)


def _status(status: str) -> Any:
    def handle(sql: Sql, e: Any) -> None:
        sql.execute(
            "UPDATE {applications} SET status = :status WHERE application_id = :application_id",
            {"application_id": _id(e), "status": status},
        )

    return handle


def _supplied(sql: Sql, e: Any) -> None:
    sql.execute(
        "UPDATE {promised_materials} SET supplied_on = :on"
        " WHERE application_id = :application_id AND material = :material",
        {"application_id": _id(e), "material": e.material, "on": e.on.isoformat()},
    )


B = BundleApplication
HANDLERS: dict[type, Any] = {
    B.Submitted: _submitted,
    B.Accepted: _accepted,
    B.NotAccepted: _status("not_accepted"),
    B.Withdrawn: _status("withdrawn"),
    B.Lapsed: _status("lapsed"),
    B.Decided: _status("decided"),
    B.MaterialSupplied: _supplied,
}


def received_on_or_before(sql: Sql, day: str) -> list[str]:
    """Applications only received (收件) on or before `day`, oldest first."""
    rows = sql.all(
        "SELECT application_id FROM {applications} WHERE status = 'received'"
        " AND received_on <= :day ORDER BY received_on, application_id",
        {"day": day},
    )
    return [row["application_id"] for row in rows]


def with_material_overdue(sql: Sql, day: str) -> list[str]:
    """Applications in review with a promised material not supplied by a date before `day`."""
    rows = sql.all(
        "SELECT DISTINCT a.application_id FROM {applications} a"
        " JOIN {promised_materials} m ON m.application_id = a.application_id"
        " WHERE a.status = 'in_review' AND m.supplied_on IS NULL AND m.supply_by < :day"
        " ORDER BY a.application_id",
        {"day": day},
    )
    return [row["application_id"] for row in rows]


ANYWHERE = object()
"""`list_applications`'s district when the caller sees every district (an administrator)."""


def list_applications(
    sql: Sql,
    *,
    district: str | object | None = ANYWHERE,
    uscc: str | None = None,
    statuses: tuple[str, ...] | None = None,
    theme: str | None = None,
    received_from: str | None = None,
    received_to: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of applications, newest first, with the business's name where its licence
    is known, and how many match in all. Filters combine: `district` (None: those filed
    without one; `ANYWHERE`: every district), `uscc`, `statuses`, `theme`, and the days of
    receipt `received_from`..`received_to` (both inclusive, days in China)."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if district is None:
        where.append("a.district IS NULL")
    elif district is not ANYWHERE:
        where.append("a.district = :district")
        params["district"] = district
    if uscc:
        where.append("a.uscc = :uscc")
        params["uscc"] = uscc
    if statuses is not None:
        among, values = in_list("a.status", statuses, prefix="s")
        where.append(among)
        params |= values
    if theme:
        where.append("a.theme = :theme")
        params["theme"] = theme
    if received_from:
        where.append("a.received_on >= :received_from")
        params["received_from"] = received_from
    if received_to:
        where.append("a.received_on <= :received_to")
        params["received_to"] = received_to
    condition = " WHERE " + " AND ".join(where) if where else ""
    total = sql.all("SELECT COUNT(*) AS n FROM {applications} a" + condition, params)[0]["n"]
    rows = sql.all(
        "SELECT a.*, l.name AS business_name FROM {applications} a"
        " LEFT JOIN {licences} l ON l.uscc = a.uscc"
        + condition
        + " ORDER BY a.received_at DESC, a.application_id LIMIT :limit OFFSET :offset",
        params,
    )
    return rows, int(total)
