"""One way to write read-model SQL for both SQLite and PostgreSQL: named tables, `:name` parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_NAMED_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


class Sql:
    """Runs one statement on a cursor of either backend, filling in table names."""

    def __init__(self, cursor: Any, *, tables: Mapping[str, str], pyformat: bool) -> None:
        self.cursor = cursor
        self.tables = tables
        self.pyformat = pyformat
        # The log position of the event being applied; None in a replay of some aggregates'
        # streams (a licence as of a past instant), which has none.
        self.position: int | None = None

    def render(self, statement: str) -> str:
        text = statement.format(**self.tables)
        if self.pyformat:
            # psycopg wants %(name)s, sqlite3 wants :name; a literal % must be doubled.
            text = _NAMED_PARAM.sub(r"%(\1)s", text.replace("%", "%%"))
        return text

    def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement; returns how many rows it changed."""
        self.cursor.execute(self.render(statement), dict(params or {}))
        return int(self.cursor.rowcount)

    def one(self, statement: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        self.execute(statement, params)
        row = self.cursor.fetchone()
        return dict(row) if row is not None else None

    def all(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        self.execute(statement, params)
        return [dict(row) for row in self.cursor.fetchall()]


def in_list(column: str, values: Sequence[Any], *, prefix: str) -> tuple[str, dict[str, Any]]:
    """`column IN (:prefix0, :prefix1, …)` and its parameters, for a filter on a set of
    values; an empty set matches nothing (`1 = 0`), which SQL's `IN ()` cannot say."""
    names = [f"{prefix}{n}" for n in range(len(values))]
    if not names:
        return "1 = 0", {}
    return f"{column} IN ({', '.join(':' + n for n in names)})", dict(
        zip(names, values, strict=True)
    )
