"""Each department's worklist: the tasks routed to it, queued or decided."""

from __future__ import annotations

from typing import Any

from domain.bundle import TASK_APPROVED, TASK_QUEUED, TASK_REFUSED, BundleApplication
from projections.sql import Sql

TABLES = ("tasks",)

DDL = (
    "CREATE TABLE IF NOT EXISTS {tasks} ("
    " application_id TEXT NOT NULL,"
    " permit_type TEXT NOT NULL,"
    " department TEXT NOT NULL,"
    " theme TEXT NOT NULL,"
    " uscc TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " submitted_at TEXT NOT NULL,"
    " decided_at TEXT,"
    " decided_by TEXT,"
    " PRIMARY KEY (application_id, permit_type))",
    "CREATE INDEX IF NOT EXISTS {tasks_by_department} ON {tasks} (department, state, submitted_at)",
)


def _submitted(sql: Sql, e: BundleApplication.Submitted) -> None:
    for task in e.tasks:
        sql.execute(
            "INSERT INTO {tasks} VALUES (:application_id, :permit_type, :department, :theme,"
            " :uscc, :state, :ts, NULL, NULL)",
            {
                "application_id": str(e.originator_id),
                "permit_type": task["permit_type"],
                "department": task["department"],
                "theme": e.theme,
                "uscc": e.uscc,
                "state": TASK_QUEUED,
                "ts": e.timestamp.isoformat(),
            },
        )


def _decided(state: str) -> Any:
    def handle(sql: Sql, e: Any) -> None:
        sql.execute(
            "UPDATE {tasks} SET state = :state, decided_at = :ts, decided_by = :actor"
            " WHERE application_id = :application_id AND permit_type = :permit_type",
            {
                "state": state,
                "ts": e.timestamp.isoformat(),
                "actor": e.actor.id,
                "application_id": str(e.originator_id),
                "permit_type": e.permit_type,
            },
        )

    return handle


HANDLERS: dict[type, Any] = {
    BundleApplication.Submitted: _submitted,
    BundleApplication.TaskApproved: _decided(TASK_APPROVED),
    BundleApplication.TaskRefused: _decided(TASK_REFUSED),
}


def list_tasks(
    sql: Sql, department: str, *, state: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """A department's tasks, oldest first (the order a reviewer with deadlines works in)."""
    where = "t.department = :department" + (" AND t.state = :state" if state else "")
    return sql.all(
        "SELECT t.*, l.name AS business_name FROM {tasks} t"
        " LEFT JOIN {licences} l ON l.uscc = t.uscc WHERE "
        + where
        + " ORDER BY t.submitted_at, t.application_id, t.permit_type LIMIT :limit OFFSET :offset",
        {"department": department, "state": state, "limit": limit, "offset": offset},
    )
