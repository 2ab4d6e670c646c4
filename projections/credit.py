"""Credit listings as the public licence shows them (公示): active or objected, never who decided."""

from __future__ import annotations

from typing import Any

from domain.credit import ACTIVE, OBJECTED, CreditRecord
from projections.sql import Sql

TABLES = ("credit_records", "credit_listings")

DDL = (
    # The record's later events do not carry the USCC: its Opened event maps id → USCC.
    "CREATE TABLE IF NOT EXISTS {credit_records} ( record_id TEXT PRIMARY KEY, uscc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {credit_listings} ("
    " uscc TEXT NOT NULL,"
    " listing_id TEXT NOT NULL,"
    " list_code TEXT NOT NULL,"
    " listed_on TEXT NOT NULL,"
    " grounds TEXT NOT NULL,"
    " legal_basis TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " PRIMARY KEY (uscc, listing_id))",
)

_USCC = "(SELECT uscc FROM {credit_records} WHERE record_id = :record_id)"

# The public licence shows the listings, so each event of the credit record is a new licence
# version, like each event of its registration or permits.
_BUMP = (
    "UPDATE {licences} SET version = version + 1,"
    " updated_at = CASE WHEN updated_at > :ts THEN updated_at ELSE :ts END"
    " WHERE uscc = " + _USCC
)


def _params(e: Any, **values: Any) -> dict[str, Any]:
    return {"record_id": str(e.originator_id), "ts": e.timestamp.isoformat(), **values}


def _opened(sql: Sql, e: CreditRecord.Opened) -> None:
    sql.execute("INSERT INTO {credit_records} VALUES (:record_id, :uscc)", _params(e, uscc=e.uscc))
    sql.execute(_BUMP, _params(e))


def _listed(sql: Sql, e: Any) -> None:
    sql.execute(
        "INSERT INTO {credit_listings} SELECT uscc, :listing_id, :list_code, :listed_on,"
        " :grounds, :legal_basis, :state FROM {credit_records} WHERE record_id = :record_id",
        _params(
            e,
            listing_id=e.listing_id,
            list_code=e.list_code,
            listed_on=e.on.isoformat(),
            grounds=e.grounds,
            legal_basis=e.legal_basis,
            state=ACTIVE,
        ),
    )
    sql.execute(_BUMP, _params(e))


def _set_state(sql: Sql, e: Any, state: str) -> None:
    sql.execute(
        "UPDATE {credit_listings} SET state = :state"
        " WHERE uscc = " + _USCC + " AND listing_id = :listing_id",
        _params(e, listing_id=e.listing_id, state=state),
    )


def _end(sql: Sql, e: Any) -> None:
    """Repair, the end of the period or an upheld objection ends the publicity."""
    sql.execute(
        "DELETE FROM {credit_listings} WHERE uscc = " + _USCC + " AND listing_id = :listing_id",
        _params(e, listing_id=e.listing_id),
    )


def _objected(sql: Sql, e: Any) -> None:
    _set_state(sql, e, OBJECTED)
    sql.execute(_BUMP, _params(e))


def _objection_decided(sql: Sql, e: Any) -> None:
    if e.upheld:
        _end(sql, e)
    else:
        _set_state(sql, e, ACTIVE)
    sql.execute(_BUMP, _params(e))


def _removed(sql: Sql, e: Any) -> None:
    _end(sql, e)
    sql.execute(_BUMP, _params(e))


C = CreditRecord
HANDLERS: dict[type, Any] = {
    C.Opened: _opened,
    C.Listed: _listed,
    C.Objected: _objected,
    C.ObjectionDecided: _objection_decided,
    C.Removed: _removed,
    C.Expired: _removed,
}


def public_listings(sql: Sql, uscc: str) -> list[dict[str, Any]]:
    """A business's listings in public view, oldest first (L1, L2 … L10: as listed)."""
    return sql.all(
        "SELECT listing_id, list_code, listed_on, grounds, legal_basis, state"
        " FROM {credit_listings} WHERE uscc = :uscc ORDER BY length(listing_id), listing_id",
        {"uscc": uscc},
    )


def listed_on_or_before(sql: Sql, list_code: str, day: str) -> list[tuple[str, str]]:
    """(USCC, listing id) of the listings on `list_code` still in public view that were listed
    on or before `day`: the candidates whose listing period may be over."""
    rows = sql.all(
        "SELECT uscc, listing_id FROM {credit_listings} WHERE list_code = :list_code"
        " AND listed_on <= :day ORDER BY uscc, listing_id",
        {"list_code": list_code, "day": day},
    )
    return [(row["uscc"], row["listing_id"]) for row in rows]
