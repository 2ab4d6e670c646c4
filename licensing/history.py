"""The licence as of any past instant, and its audit trail, read from the events themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.credit import CreditRecord
from domain.errors import NotFound
from domain.permit import Permit
from domain.registration import BusinessRegistration
from licensing.store import EventStore as Licensing
from projections.credit import listing_order

# Personal data that stays out of the audit trail's details (the registrar reads it elsewhere).
_REDACTED = ("id_number", "mobile")


def _events(app: Licensing, aggregate_id: Any) -> list[Any]:
    return list(app.events.get(aggregate_id))


def licence_as_of(app: Licensing, uscc: str, moment: datetime) -> dict[str, Any]:
    """The licence as it stood at `moment`, shaped like a read-model row (same version
    counting: one per event of the registration, of any of its permits or of its credit record)."""
    registration_id = BusinessRegistration.create_id(uscc)
    past = [e for e in _events(app, registration_id) if e.timestamp <= moment]
    if not past:
        msg = f"no business with USCC {uscc} was registered at {moment.isoformat()}"
        raise NotFound(msg)
    registration: BusinessRegistration = app.repository.get(registration_id, version=len(past))
    version = len(past)
    last = past[-1].timestamp
    permits = []
    for permit_type in registration.permit_types:
        permit_id = Permit.create_id(uscc, permit_type)
        permit_past = [e for e in _events(app, permit_id) if e.timestamp <= moment]
        if not permit_past:
            continue
        permit: Permit = app.repository.get(permit_id, version=len(permit_past))
        version += len(permit_past)
        last = max(last, permit_past[-1].timestamp)
        permits.append(
            {
                "permit_id": str(permit.id),
                "uscc": uscc,
                "permit_type": permit.permit_type,
                "department": permit.department,
                "status": permit.status.value,
                "reason": permit.reason,
                "legal_basis": permit.legal_basis,
                "permit_number": permit.number,
                "valid_from": permit.valid_from.isoformat() if permit.valid_from else None,
                "valid_until": permit.valid_until.isoformat() if permit.valid_until else None,
                "verification_due": (
                    permit.verification_due.isoformat() if permit.verification_due else None
                ),
                "version": permit.version,
                "updated_at": permit_past[-1].timestamp.isoformat(),
            }
        )
    credit_listings, credit_past = _credit_as_of(app, uscc, moment)
    version += len(credit_past)
    if credit_past:
        last = max(last, credit_past[-1].timestamp)
    return {
        "uscc": uscc,
        "registration_id": str(registration.id),
        "name": registration.name,
        "entity_type": registration.entity_type,
        "domicile": registration.domicile,
        "business_scope": registration.business_scope,
        "registered_capital": str(registration.registered_capital),
        "status": registration.status.value,
        "print_version": registration.print_version,
        "version": version,
        "updated_at": last.isoformat(),
        "permits": sorted(permits, key=lambda p: p["permit_type"]),
        "credit_listings": credit_listings,
    }


def _credit_as_of(
    app: Licensing, uscc: str, moment: datetime
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The credit listings in public view at `moment`, and the credit events up to then."""
    record_id = CreditRecord.create_id(uscc)
    past = [e for e in _events(app, record_id) if e.timestamp <= moment]
    if not past:
        return [], []
    record: CreditRecord = app.repository.get(record_id, version=len(past))
    listings = [
        {
            "listing_id": x["id"],
            "list_code": x["list"],
            "listed_on": x["listed_on"],
            "grounds": x["grounds"],
            "legal_basis": x["legal_basis"],
            "state": x["state"],
        }
        for x in record.active_listings()
    ]
    return sorted(listings, key=listing_order), past


def audit_trail(app: Licensing, uscc: str) -> list[dict[str, Any]]:
    """Every event of the registration and its permits, oldest first: who, when, what, why."""
    registration_id = BusinessRegistration.create_id(uscc)
    tagged = [("registration", e) for e in _events(app, registration_id)]
    if not tagged:
        msg = f"no business registered with USCC {uscc}"
        raise NotFound(msg)
    registration: BusinessRegistration = app.repository.get(registration_id)
    for permit_type in registration.permit_types:
        tagged += [
            (f"permit:{permit_type}", e) for e in _events(app, Permit.create_id(uscc, permit_type))
        ]
    entries = []
    for subject, e in sorted(tagged, key=lambda pair: pair[1].timestamp):  # stable sort
        fields = {
            k: v
            for k, v in vars(e).items()
            if k not in ("originator_id", "originator_version", "timestamp", "actor")
        }
        entries.append(
            {
                "at": e.timestamp.isoformat(),
                "subject": subject,
                "what": type(e).__name__,
                "version": e.originator_version,
                "actor": vars(e.actor),
                "reason": fields.pop("reason", None),
                "legal_basis": fields.pop("legal_basis", None),
                "details": _plain(fields),
            }
        )
    return entries


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("(redacted)" if k in _REDACTED else _plain(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
