"""The live 证照通 licence: the registration and every permit with status, reason and a version."""

from __future__ import annotations

from typing import Any

from domain.china import day_in_china
from domain.permit import Permit, public_reason, public_standing, public_status
from domain.registration import BusinessRegistration
from domain.status import RegistrationStatus
from projections.credit import public_listings
from projections.sql import Sql

TABLES = ("licences", "permits")

DDL = (
    "CREATE TABLE IF NOT EXISTS {licences} ("
    " uscc TEXT PRIMARY KEY,"
    " registration_id TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " entity_type TEXT NOT NULL,"
    " domicile TEXT NOT NULL,"
    " business_scope TEXT NOT NULL,"
    " registered_capital TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " print_version BIGINT NOT NULL,"
    " void_below BIGINT NOT NULL,"
    " version BIGINT NOT NULL,"
    " updated_at TEXT NOT NULL,"
    # Why the registration stands where it does, for the scan page's verdict: since when,
    # until when (a notice's end), the reason and legal basis of a refusal or an exit, and the
    # 休业 period, kept apart so that an objection returning the business to 休业 keeps it.
    " status_since TEXT,"
    " status_until TEXT,"
    " status_reason TEXT,"
    " status_basis TEXT,"
    " suspended_from TEXT,"
    " suspended_until TEXT)",
    "CREATE TABLE IF NOT EXISTS {permits} ("
    " permit_id TEXT PRIMARY KEY,"
    " uscc TEXT NOT NULL,"
    " permit_type TEXT NOT NULL,"
    " department TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " standing TEXT NOT NULL,"
    " legal_basis TEXT,"
    " permit_number TEXT,"
    " valid_from TEXT,"
    " valid_until TEXT,"
    " verification_due TEXT,"
    " version BIGINT NOT NULL,"
    " updated_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {permits_by_uscc} ON {permits} (uscc, permit_type)",
)

# Every change to the registration or to one of its permits bumps the licence's version,
# so a reader (or a signed status document) can tell an older view from a newer one.
# The licence's "as of" is its newest event, whatever order one transaction's events arrive in.
_LATEST = "updated_at = CASE WHEN updated_at > :ts THEN updated_at ELSE :ts END"
_BUMP_BY_USCC = "UPDATE {licences} SET version = version + 1, " + _LATEST + " WHERE uscc = :uscc"
_BUMP_BY_PERMIT = (
    "UPDATE {licences} SET version = version + 1, "
    + _LATEST
    + " WHERE uscc = (SELECT uscc FROM {permits} WHERE permit_id = :permit_id)"
)


def _ts(event: Any) -> str:
    return str(event.timestamp.isoformat())


def _registration_applied(sql: Sql, e: BusinessRegistration.Applied) -> None:
    sql.execute(
        "INSERT INTO {licences} VALUES (:uscc, :rid, :name, :entity_type, :domicile, :scope,"
        " :capital, :status, 1, 1, 1, :ts, NULL, NULL, NULL, NULL, NULL, NULL)",
        {
            "uscc": e.uscc,
            "rid": str(e.originator_id),
            "name": e.name,
            "entity_type": e.entity_type,
            "domicile": e.domicile,
            "scope": e.business_scope,
            "capital": str(e.registered_capital),
            "status": RegistrationStatus.ESTABLISHING.value,
            "ts": _ts(e),
        },
    )


def _licence_update(sql: Sql, e: Any, **values: Any) -> None:
    """Set some columns of the licence from a registration event, and bump its version."""
    sets = "".join(f"{column} = :{column}, " for column in values)
    sql.execute(
        "UPDATE {licences} SET "
        + sets
        + "version = version + 1, "
        + _LATEST
        + " WHERE registration_id = :rid",
        {**values, "rid": str(e.originator_id), "ts": _ts(e)},
    )


def _day(e: Any) -> str:
    return day_in_china(e.timestamp).isoformat()


def _status_detail(
    since: str | None = None,
    until: str | None = None,
    reason: str | None = None,
    basis: str | None = None,
) -> dict[str, str | None]:
    """The status_* columns for a new registration status: every one set or cleared."""
    return {
        "status_since": since,
        "status_until": until,
        "status_reason": reason,
        "status_basis": basis,
    }


def _registration_status(status: RegistrationStatus) -> Any:
    def handle(sql: Sql, e: Any) -> None:
        _licence_update(sql, e, status=status.value, **_status_detail(_day(e)))

    return handle


def _registration_refused(sql: Sql, e: Any) -> None:
    detail = _status_detail(_day(e), reason=e.reason, basis=e.legal_basis)
    _licence_update(sql, e, status=RegistrationStatus.REFUSED.value, **detail)


def _registration_suspended(sql: Sql, e: Any) -> None:
    """休业: its period is public (the business's own reason for it is not shown)."""
    until = e.until.isoformat() if e.until else None
    _licence_update(
        sql,
        e,
        status=RegistrationStatus.SUSPENDED.value,
        suspended_from=_day(e),
        suspended_until=until,
        **_status_detail(_day(e), until),
    )


def _registration_resumed(sql: Sql, e: Any) -> None:
    detail = _status_detail(_day(e))
    _licence_update(
        sql,
        e,
        status=RegistrationStatus.ACTIVE.value,
        suspended_from=None,
        suspended_until=None,
        **detail,
    )


def _deregistration_noticed(sql: Sql, e: Any) -> None:
    detail = _status_detail(e.notice_from.isoformat(), e.notice_until.isoformat())
    _licence_update(sql, e, status=RegistrationStatus.DEREGISTRATION_NOTICE.value, **detail)


def _registration_changed(sql: Sql, e: Any) -> None:
    public = {k: v for k, v in e.changes.items() if k in ("name", "domicile", "business_scope")}
    _licence_update(sql, e, **public)  # the legal representative is personal data: not projected


def _registration_reapplied(sql: Sql, e: Any) -> None:
    _licence_update(
        sql,
        e,
        name=e.name,
        entity_type=e.entity_type,
        domicile=e.domicile,
        business_scope=e.business_scope,
        registered_capital=str(e.registered_capital),
        status=RegistrationStatus.ESTABLISHING.value,
        **_status_detail(),
    )


def _objection_raised(sql: Sql, e: Any) -> None:
    """Back where it stood before the notice: 存续, or 休业 with the period it had."""
    returns_to = RegistrationStatus(e.returns_to)
    if returns_to is RegistrationStatus.SUSPENDED:
        row = sql.one(
            "SELECT suspended_from, suspended_until FROM {licences} WHERE registration_id = :rid",
            {"rid": str(e.originator_id)},
        )
        assert row is not None  # the notice was given to a registered business
        detail = _status_detail(row["suspended_from"], row["suspended_until"])
    else:
        detail = _status_detail(_day(e))
    _licence_update(sql, e, status=returns_to.value, **detail)


def _registration_exited(sql: Sql, e: Any) -> None:
    detail = _status_detail(_day(e), reason=e.reason, basis=e.legal_basis)
    _licence_update(sql, e, status=e.status, **detail)


def _public(e: Any) -> dict[str, Any]:
    """The status and reason a permit event leads to, as the domain words them."""
    return {
        "status": public_status(e).value,
        "reason": public_reason(e),
        "standing": public_standing(e).value,
    }


def _permit_applied(sql: Sql, e: Permit.Applied) -> None:
    sql.execute(
        "INSERT INTO {permits} VALUES (:permit_id, :uscc, :permit_type, :department, :status,"
        " :reason, :standing, NULL, NULL, NULL, NULL, NULL, :version, :ts)",
        {
            "permit_id": str(e.originator_id),
            "uscc": e.uscc,
            "permit_type": e.permit_type,
            "department": e.department,
            **_public(e),
            "version": e.originator_version,
            "ts": _ts(e),
        },
    )
    sql.execute(_BUMP_BY_USCC, {"uscc": e.uscc, "ts": _ts(e)})


def _update_permit(sql: Sql, e: Any, **values: Any) -> None:
    values |= {
        **_public(e),
        "permit_id": str(e.originator_id),
        "version": e.originator_version,
        "ts": _ts(e),
    }
    sql.execute(
        "UPDATE {permits} SET status = :status, reason = :reason, standing = :standing,"
        " legal_basis = :legal_basis,"
        " permit_number = :permit_number, valid_from = :valid_from, valid_until = :valid_until,"
        " verification_due = :verification_due, version = :version, updated_at = :ts"
        " WHERE permit_id = :permit_id",
        values,
    )
    sql.execute(_BUMP_BY_PERMIT, {"permit_id": str(e.originator_id), "ts": _ts(e)})


def _permit_reset(sql: Sql, e: Any) -> None:
    """Reapplied or refused: nothing of an issued permit stays on record."""
    _update_permit(
        sql,
        e,
        legal_basis=getattr(e, "legal_basis", None),
        permit_number=None,
        valid_from=None,
        valid_until=None,
        verification_due=None,
    )


def _permit_issued(sql: Sql, e: Any) -> None:
    """Approved, filed or granted on commitment: in force, with its number and validity."""
    _update_permit(
        sql,
        e,
        legal_basis=e.legal_basis,
        permit_number=e.number,
        valid_from=e.valid_from.isoformat(),
        valid_until=e.valid_until.isoformat() if e.valid_until else None,
        verification_due=(
            e.verification_due.isoformat() if getattr(e, "verification_due", None) else None
        ),
    )


def _permit_became(*, settles_commitment: bool = False) -> Any:
    """After issuance: the status and its reason change; number and validity stay on record.
    An event that settles a commitment also clears its verification due date."""

    def handle(sql: Sql, e: Any) -> None:
        if settles_commitment:
            sql.execute(
                "UPDATE {permits} SET verification_due = NULL WHERE permit_id = :permit_id",
                {"permit_id": str(e.originator_id)},
            )
        sql.execute(
            "UPDATE {permits} SET status = :status, reason = :reason, standing = :standing,"
            " legal_basis = :legal_basis,"
            " version = :version, updated_at = :ts WHERE permit_id = :permit_id",
            {
                **_public(e),
                "legal_basis": getattr(e, "legal_basis", None),
                "permit_id": str(e.originator_id),
                "version": e.originator_version,
                "ts": _ts(e),
            },
        )
        sql.execute(_BUMP_BY_PERMIT, {"permit_id": str(e.originator_id), "ts": _ts(e)})

    return handle


def _reprinted(sql: Sql, e: Any) -> None:
    if e.void_previous:
        _licence_update(sql, e, print_version=e.print_version, void_below=e.print_version)
    else:
        _licence_update(sql, e, print_version=e.print_version)


def _bump(sql: Sql, e: Any) -> None:
    _licence_update(sql, e)


R = BusinessRegistration
HANDLERS: dict[type, Any] = {
    R.Applied: _registration_applied,
    R.Established: _registration_status(RegistrationStatus.ACTIVE),
    R.Refused: _registration_refused,
    R.Reapplied: _registration_reapplied,
    R.PermitsAttached: _bump,
    R.Changed: _registration_changed,
    R.Suspended: _registration_suspended,
    R.Resumed: _registration_resumed,
    R.DeregistrationNoticed: _deregistration_noticed,
    R.ObjectionRaised: _objection_raised,
    R.Exited: _registration_exited,
    R.Reprinted: _reprinted,
    Permit.Applied: _permit_applied,
    Permit.Reapplied: _permit_reset,
    Permit.Refused: _permit_reset,
    Permit.Approved: _permit_issued,
    Permit.Filed: _permit_issued,
    Permit.GrantedOnCommitment: _permit_issued,
    Permit.Suspended: _permit_became(),
    Permit.Resumed: _permit_became(),
    Permit.Rectified: _permit_became(),
    Permit.RectificationFailed: _permit_became(),
    Permit.RectificationOrdered: _permit_became(settles_commitment=True),
    Permit.CommitmentConfirmed: _permit_became(settles_commitment=True),
    Permit.CommitmentFalse: _permit_became(settles_commitment=True),
    Permit.Revoked: _permit_became(settles_commitment=True),
    Permit.Cancelled: _permit_became(settles_commitment=True),
    Permit.Expired: _permit_became(settles_commitment=True),
    Permit.BusinessExited: _permit_became(settles_commitment=True),
    Permit.RegistrationRefused: _permit_became(settles_commitment=True),
    Permit.Withdrawn: _permit_became(settles_commitment=True),
}


def verifications(sql: Sql, department: str) -> list[dict[str, Any]]:
    """Commitment permits a department must still verify (先证后核), soonest due first."""
    return sql.all(
        "SELECT p.*, l.name AS business_name FROM {permits} p JOIN {licences} l ON l.uscc = p.uscc"
        " WHERE p.department = :department AND p.verification_due IS NOT NULL"
        " ORDER BY p.verification_due, p.uscc",
        {"department": department},
    )


def get_licence(sql: Sql, uscc: str) -> dict[str, Any] | None:
    """The licence with every permit and its public credit listings, or None when no such
    business is registered."""
    licence = sql.one("SELECT * FROM {licences} WHERE uscc = :uscc", {"uscc": uscc})
    if licence is None:
        return None
    licence["permits"] = sql.all(
        "SELECT * FROM {permits} WHERE uscc = :uscc ORDER BY permit_type", {"uscc": uscc}
    )
    licence["credit_listings"] = public_listings(sql, uscc)
    return licence
