"""Each application's stage and the materials it was accepted without (容缺): where the daily
jobs find what is still open and due, without loading every application ever submitted."""

from __future__ import annotations

from typing import Any

from domain.bundle import BundleApplication
from domain.china import day_in_china
from projections.sql import Sql

TABLES = ("applications", "promised_materials")
INDEXES = ("applications_by_status",)

DDL = (
    "CREATE TABLE IF NOT EXISTS {applications} ("
    " application_id TEXT PRIMARY KEY,"
    " uscc TEXT NOT NULL,"
    " theme TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " received_on TEXT NOT NULL,"  # the day in China it was submitted (收件)
    " accepted_on TEXT)",
    "CREATE INDEX IF NOT EXISTS {applications_by_status} ON {applications} (status, received_on)",
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
        " :received_on, :accepted_on)",
        {
            "application_id": _id(e),
            "uscc": e.uscc,
            "theme": e.theme,
            "status": "in_review" if e.accepted else "received",
            "received_on": day_in_china(e.timestamp).isoformat(),
            "accepted_on": (e.accepted_on or day_in_china(e.timestamp)).isoformat()
            if e.accepted
            else None,
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
