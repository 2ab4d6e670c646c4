"""Each department's worklist: the tasks routed to it, open or decided, and who has claimed each."""

from __future__ import annotations

from typing import Any

from domain.bundle import (
    TASK_APPROVED,
    TASK_QUEUED,
    TASK_REFUSED,
    TASK_SUPPLEMENT,
    TASK_WITHDRAWN,
    BundleApplication,
)
from projections.sql import Sql, in_list

TABLES = ("tasks",)

DDL = (
    "CREATE TABLE IF NOT EXISTS {tasks} ("
    " application_id TEXT NOT NULL,"
    " permit_type TEXT NOT NULL,"
    " department TEXT NOT NULL,"
    " theme TEXT NOT NULL,"
    " uscc TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " mode TEXT NOT NULL,"
    " due_on TEXT,"
    " statutory_due_on TEXT,"
    " submitted_at TEXT NOT NULL,"
    " decided_at TEXT,"
    " decided_by TEXT,"
    # Where a rule deems the outcome once the statutory limit passes: the daily job's index.
    " deemed_outcome TEXT,"
    # 办理人: the officer who has claimed the task, and since when.
    " claimed_by TEXT,"
    " claimed_at TEXT,"
    " PRIMARY KEY (application_id, permit_type))",
    "CREATE INDEX IF NOT EXISTS {tasks_by_department} ON {tasks} (department, state, submitted_at)",
)


def _submitted(sql: Sql, e: Any) -> None:
    """Submitted (accepted on the spot) or Accepted later: the tasks reach the departments.
    An application only received (收件) has no tasks yet."""
    for task in e.tasks:
        sql.execute(
            "INSERT INTO {tasks} (application_id, permit_type, department, theme, uscc, state,"
            " mode, due_on, statutory_due_on, submitted_at, decided_at, decided_by,"
            " deemed_outcome) VALUES (:application_id, :permit_type, :department, :theme,"
            " :uscc, :state, :mode, :due_on, :statutory_due_on, :ts, :decided_at, :decided_by,"
            " :deemed_outcome)",
            {
                "application_id": str(e.originator_id),
                "permit_type": task["permit_type"],
                "department": task["department"],
                "theme": e.theme,
                "uscc": e.uscc,
                "state": task.get("state", TASK_QUEUED),
                "mode": task.get("mode", "approval"),
                "due_on": task.get("due_on"),
                "statutory_due_on": task.get("statutory_due_on"),
                "ts": e.timestamp.isoformat(),
                # Filings, commitments and notices are settled by the submission itself.
                "decided_at": None
                if task.get("state", TASK_QUEUED) == TASK_QUEUED
                else e.timestamp.isoformat(),
                "decided_by": None if task.get("state", TASK_QUEUED) == TASK_QUEUED else e.actor.id,
                "deemed_outcome": task.get("deemed_outcome"),
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


def _state(sql: Sql, e: Any, permit_types: list[str], state: str, **extra: Any) -> None:
    for permit_type in permit_types:
        sql.execute(
            "UPDATE {tasks} SET state = :state"
            + "".join(f", {k} = :{k}" for k in extra)
            + " WHERE application_id = :application_id AND permit_type = :permit_type",
            {
                "state": state,
                "application_id": str(e.originator_id),
                "permit_type": permit_type,
                **extra,
            },
        )


def _supplement_requested(sql: Sql, e: Any) -> None:
    _state(sql, e, [e.permit_type], TASK_SUPPLEMENT)


def _resubmitted(sql: Sql, e: Any) -> None:
    for permit_type, due in e.due_dates.items():
        _state(
            sql,
            e,
            [permit_type],
            TASK_QUEUED,
            due_on=due["due_on"],
            statutory_due_on=due["statutory_due_on"],
        )


def _withdrawn(sql: Sql, e: Any) -> None:
    _state(sql, e, e.permit_types, TASK_WITHDRAWN)


def _claimed(sql: Sql, e: Any) -> None:
    """Claimed, or taken over: the task is this officer's from now on."""
    _claimant(sql, e, e.actor.id, e.timestamp.isoformat())


def _released(sql: Sql, e: Any) -> None:
    _claimant(sql, e, None, None)


def _claimant(sql: Sql, e: Any, officer: str | None, since: str | None) -> None:
    sql.execute(
        "UPDATE {tasks} SET claimed_by = :officer, claimed_at = :since"
        " WHERE application_id = :application_id AND permit_type = :permit_type",
        {
            "officer": officer,
            "since": since,
            "application_id": str(e.originator_id),
            "permit_type": e.permit_type,
        },
    )


HANDLERS: dict[type, Any] = {
    BundleApplication.Submitted: _submitted,
    BundleApplication.Accepted: _submitted,
    BundleApplication.SupplementRequested: _supplement_requested,
    BundleApplication.Resubmitted: _resubmitted,
    BundleApplication.Withdrawn: _withdrawn,
    BundleApplication.Lapsed: _withdrawn,
    BundleApplication.OpenTasksEnded: _withdrawn,
    BundleApplication.TaskApproved: _decided(TASK_APPROVED),
    BundleApplication.TaskRefused: _decided(TASK_REFUSED),
    BundleApplication.TaskClaimed: _claimed,
    BundleApplication.TaskTakenOver: _claimed,
    BundleApplication.TaskReleased: _released,
}


def list_tasks(
    sql: Sql,
    department: str,
    *,
    states: tuple[str, ...] | None = None,
    overdue_on: str | None = None,
    theme: str | None = None,
    officer: str | None = None,
    unclaimed: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of a department's tasks, soonest due first (the order a reviewer with
    deadlines works in; tasks without a date last, on both backends), and how many match
    in all. Filters combine: `states` (None: any), `overdue_on` (only queued tasks whose
    promised date is before that day), `theme`, `officer` (claimed or decided by: the
    officer's own work), `unclaimed`."""
    where = ["t.department = :department"]
    params: dict[str, Any] = {"department": department, "limit": limit, "offset": offset}
    if states is not None:
        among, values = in_list("t.state", states, prefix="s")
        where.append(among)
        params |= values
    if overdue_on:
        where.append("t.state = :queued AND t.due_on < :overdue_on")
        params |= {"queued": TASK_QUEUED, "overdue_on": overdue_on}
    if theme:
        where.append("t.theme = :theme")
        params["theme"] = theme
    if officer:
        where.append("(t.claimed_by = :officer OR t.decided_by = :officer)")
        params["officer"] = officer
    if unclaimed:
        where.append("t.claimed_by IS NULL")
    condition = " AND ".join(where)
    total = sql.all("SELECT COUNT(*) AS n FROM {tasks} t WHERE " + condition, params)[0]["n"]
    rows = sql.all(
        "SELECT t.*, l.name AS business_name FROM {tasks} t"
        " LEFT JOIN {licences} l ON l.uscc = t.uscc WHERE "
        + condition
        + " ORDER BY t.due_on IS NULL, t.due_on, t.submitted_at, t.application_id, t.permit_type"
        " LIMIT :limit OFFSET :offset",
        params,
    )
    return rows, int(total)


def deemable_before(sql: Sql, day: str) -> list[str]:
    """Applications with a queued task whose statutory limit ended before `day` and whose
    rule deems an outcome (a paused task is not queued: its clock is stopped)."""
    rows = sql.all(
        "SELECT DISTINCT application_id FROM {tasks} WHERE state = :queued"
        " AND deemed_outcome IS NOT NULL AND statutory_due_on < :day ORDER BY application_id",
        {"queued": TASK_QUEUED, "day": day},
    )
    return [row["application_id"] for row in rows]


def task_counts(sql: Sql, today: str) -> list[dict[str, Any]]:
    """Per department with open tasks: how many are open (queued, or paused for a
    supplement) and how many of the queued ones are past their promised date on `today`."""
    return sql.all(
        "SELECT department, COUNT(*) AS open,"
        " SUM(CASE WHEN state = :queued AND due_on < :today THEN 1 ELSE 0 END) AS overdue"
        " FROM {tasks} WHERE state IN (:queued, :paused) GROUP BY department ORDER BY department",
        {"queued": TASK_QUEUED, "paused": TASK_SUPPLEMENT, "today": today},
    )
