"""What the API serves to read: the public licence and its page and signed document, applications, credit records, worklists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol
from urllib.parse import urlencode

from domain.bundle import TASK_QUEUED, BundleApplication
from domain.credit import ACTIVE, LISTS, OBJECTED, REMOVED, CreditRecord
from domain.permit import PAST_VALIDITY
from domain.registration import ENTITY_TYPES
from domain.status import PermitStatus, RegistrationStatus


class Named(Protocol):
    """A catalogue entry with a name in both languages."""

    @property
    def name_zh(self) -> str: ...

    @property
    def name_en(self) -> str: ...


class Names(Protocol):
    """The catalogue's names for the codes a licence carries (`licensing.catalogue.Catalogue`
    is one): the read side shows them without depending on the write side."""

    @property
    def permit_types(self) -> Mapping[str, Named]: ...

    @property
    def departments(self) -> Mapping[str, Named]: ...


def permit_status(permit: Mapping[str, Any], *, today: date) -> tuple[PermitStatus, str]:
    """A permit's public status and its reason: as the read model recorded them from the
    domain's wording, except that a permit still valid on record but past its validity is
    无效 at once (the daily job records the expiry later). Every place that shows a status —
    the licence JSON, the scan page, the signed status document, live or as of a past
    instant — takes it from here."""
    status = PermitStatus(permit["status"])
    valid_until = permit["valid_until"]
    if status is PermitStatus.VALID and valid_until and valid_until < today.isoformat():
        return PermitStatus.INVALID, PAST_VALIDITY.format(valid_until=valid_until)
    return status, permit["reason"]


def _status(status: PermitStatus | RegistrationStatus) -> dict[str, str]:
    return {"code": status.value, "word": status.word, "english": status.english}


def _names(entries: Mapping[str, Named], code: str) -> tuple[str, str]:
    """Zh and en names of a code; the code itself if this catalogue version lacks it."""
    entry = entries.get(code)
    return (entry.name_zh, entry.name_en) if entry else (code, code)


# A listing under objection still applies until the credit office decides (domain/credit.py).
_LISTING_STATES = {
    ACTIVE: ("列入中", "listed"),
    OBJECTED: ("异议审核中", "objection under review; the listing applies meanwhile"),
}


def present_credit_listing(row: Mapping[str, Any]) -> dict[str, Any]:
    """One listing as the public sees it (公示): which list, since when, why, on what basis."""
    list_zh, list_en = LISTS.get(row["list_code"], (row["list_code"], row["list_code"]))
    word, english = _LISTING_STATES[row["state"]]
    return {
        "listing_id": row["listing_id"],
        "list": row["list_code"],
        "list_zh": list_zh,
        "list_en": list_en,
        "listed_on": row["listed_on"],
        "grounds": row["grounds"],
        "legal_basis": row["legal_basis"],
        "state": {"code": row["state"], "word": word, "english": english},
    }


def present_licence(row: Mapping[str, Any], *, names: Names, today: date) -> dict[str, Any]:
    """The public licence: registration, permits and credit listings, no personal data and
    no staff identities; a row of the live view or of one replayed as of a past instant."""
    permits = []
    for p in row["permits"]:
        status, reason = permit_status(p, today=today)
        name_zh, name_en = _names(names.permit_types, p["permit_type"])
        department_zh, department_en = _names(names.departments, p["department"])
        permits.append(
            {
                "permit_type": p["permit_type"],
                "name_zh": name_zh,
                "name_en": name_en,
                "department": p["department"],
                "department_name_zh": department_zh,
                "department_name_en": department_en,
                "status": _status(status),
                "reason": reason,
                "legal_basis": p["legal_basis"],
                "permit_number": p["permit_number"],
                "valid_from": p["valid_from"],
                "valid_until": p["valid_until"],
                "version": p["version"],
                "updated_at": p["updated_at"],
            }
        )
    entity = ENTITY_TYPES.get(row["entity_type"], (row["entity_type"], row["entity_type"]))
    return {
        "uscc": row["uscc"],
        "name": row["name"],
        "entity_type": row["entity_type"],
        "entity_type_zh": entity[0],
        "domicile": row["domicile"],
        "business_scope": row["business_scope"],
        "registered_capital": row["registered_capital"],
        "status": _status(RegistrationStatus(row["status"])),
        "print_version": row["print_version"],
        "version": row["version"],
        "as_of": row["updated_at"],
        "permits": permits,
        "credit_listings": [present_credit_listing(x) for x in row["credit_listings"]],
    }


def status_document(licence: Mapping[str, Any], *, print_version: int) -> dict[str, Any]:
    """What the signed status document says of a presented licence, for the print version
    the scanned code points to: the licence version and time, whether a newer print
    supersedes that one, each permit's status and the public credit listings."""
    return {
        "v": licence["version"],
        "asof": licence["as_of"],
        "qv": print_version,
        "superseded": print_version < licence["print_version"],
        "lic": {"name": licence["name"], "status": licence["status"]["code"]},
        "permits": [
            {
                "type": p["permit_type"],
                "no": p["permit_number"],
                "status": p["status"]["code"],
                "valid_to": p["valid_until"],
                "changed_at": p["updated_at"],
            }
            for p in licence["permits"]
        ],
        "credit": [
            {
                "list": c["list"],
                "list_zh": c["list_zh"],
                "list_en": c["list_en"],
                "listed_on": c["listed_on"],
                "grounds": c["grounds"],
                "legal_basis": c["legal_basis"],
                "state": c["state"]["code"],
            }
            for c in licence["credit_listings"]
        ],
    }


# Worst first: the scan page's banner takes the colour of the worst permit.
_SEVERITY = [
    PermitStatus.INVALID,
    PermitStatus.NON_COMPLIANT,
    PermitStatus.UNDER_RECTIFICATION,
    PermitStatus.UNDER_VERIFICATION,
    PermitStatus.VALID,
]


def scan_page(licence: Mapping[str, Any], *, print_version: int) -> dict[str, Any]:
    """What the scan page shows of a presented licence: the banner's colour, whether the
    business may operate (every permit 有效 and the registration active) and whether the
    scanned print is superseded."""
    worst = min(
        (PermitStatus(p["status"]["code"]) for p in licence["permits"]),
        key=_SEVERITY.index,
        default=PermitStatus.UNDER_VERIFICATION,
    )
    operating = licence["status"]["code"] == RegistrationStatus.ACTIVE.value and all(
        p["status"]["code"] == PermitStatus.VALID.value for p in licence["permits"]
    )
    return {
        "licence": licence,
        "worst": worst.value,
        "operating": operating,
        "superseded": print_version < licence["print_version"],
    }


def task_summary(application: BundleApplication) -> list[dict[str, Any]]:
    """The tasks of an application as plain data, in catalogue order."""
    return [
        {
            "permit_type": t.permit_type,
            "department": t.department,
            "state": t.state,
            "mode": t.mode,
            "supplement": t.supplement,
            "pauses": t.pauses,
            "needs_inspection": t.needs_inspection,
            "finding": t.finding,
            "due_on": t.due_on,
            "statutory_due_on": t.statutory_due_on,
            "permit_number": t.permit_number,
            "reason": t.reason,
            "legal_basis": t.legal_basis,
            "decided_by": t.decided_by,
            "claimed_by": t.claimed_by,
        }
        for t in application.tasks.values()
    ]


def application_view(application: BundleApplication) -> dict[str, Any]:
    """An application as the window follows it (办件查询): its credit snapshot, fast track,
    missing materials and each task's state. Read from the aggregate itself, so a clerk sees
    a command's outcome at once."""
    return {
        "id": str(application.id),
        "theme": application.theme,
        "catalogue_version": application.catalogue_version,
        "uscc": application.uscc,
        "situation": application.situation,
        "credit": application.credit,
        "fast_track": application.fast_track,
        "joint_inspection": application.inspection,
        "deficiencies": application.deficiencies,
        "documents": [
            {"document_id": doc_id, **doc} for doc_id, doc in application.documents.items()
        ],
        "status": application.status,
        "not_accepted": application.acceptance,
        "submitted_at": application.created_on.isoformat(),
        "submitted_by": application.submitted_by,
        "version": application.version,
        "tasks": task_summary(application),
        "links": {
            "self": f"/api/v1/applications/{application.id}",
            "licence": f"/api/v1/licences/{application.uscc}",
        },
    }


def supplement_notice(application: BundleApplication) -> dict[str, Any]:
    """一次性告知: every department's open supplement request on an application, as one
    notice to the applicant, with the departments that ask."""
    requests = application.supplement_notice()
    return {
        "application_id": str(application.id),
        "uscc": application.uscc,
        "departments": sorted({r["department"] for r in requests}),
        "requests": requests,
    }


# What any listing, active or under objection, bars a business from.
_RESTRICTIONS = ["commitment mode", "credit fast track (守信快批)"]


def credit_record(uscc: str, record: CreditRecord | None) -> dict[str, Any]:
    """A business's credit record as staff see it: every listing, ended ones too, with its
    list's names, and what the listings in force bar it from (nothing, if never listed)."""
    listings = [
        dict(
            listing,
            id=listing_id,
            list_zh=LISTS[listing["list"]][0],
            list_en=LISTS[listing["list"]][1],
        )
        for listing_id, listing in (record.listings.items() if record else ())
    ]
    in_force = [x for x in listings if x["state"] != REMOVED]
    return {
        "uscc": uscc,
        "listings": listings,
        "restricted": bool(in_force),
        "restrictions": list(_RESTRICTIONS) if in_force else [],
    }


def department_worklist(
    tasks: list[dict[str, Any]],
    *,
    department: str,
    today: date,
    total: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of a department's worklist: each row with whether it is overdue and where to
    read it (the department's own view of its task) and act on it; how many tasks match in
    all, and the page's place among them."""
    day = today.isoformat()
    for task in tasks:
        task["overdue"] = (
            task["state"] == TASK_QUEUED and bool(task["due_on"]) and task["due_on"] < day
        )
        acts = f"/api/v1/applications/{task['application_id']}/tasks/{task['permit_type']}"
        task["links"] = {
            "task": f"/api/v1/departments/{department}/tasks/"
            f"{task['application_id']}/{task['permit_type']}",
            "decision": f"{acts}/decision",
            "claim": f"{acts}/claim",
        }
    return {
        "department": department,
        "as_of": day,
        "total": len(tasks) if total is None else total,
        "limit": limit,
        "offset": offset,
        "tasks": tasks,
    }


def commitments_to_verify(
    permits: list[dict[str, Any]], *, department: str, today: date
) -> dict[str, Any]:
    """The commitment permits a department must still verify (先证后核), each with whether its
    verification is overdue and where to record it."""
    day = today.isoformat()
    for permit in permits:
        permit["overdue"] = permit["verification_due"] < day
        base = f"/api/v1/licences/{permit['uscc']}/permits/{permit['permit_type']}"
        permit["links"] = {"verification": f"{base}/verification"}
    return {"department": department, "as_of": day, "permits": permits}


def department_feed(
    rows: list[dict[str, Any]], *, department: str, after: str | None, limit: int
) -> dict[str, Any]:
    """A page of a department's feed: the entries as written, and where to resume."""
    entries = [json.loads(row["body"]) for row in rows]
    cursor = rows[-1]["cursor"] if rows else after
    query = urlencode({"after": cursor, "limit": limit} if cursor else {"limit": limit})
    return {
        "department": department,
        "entries": entries,
        "cursor": cursor,
        "more": len(rows) == limit,
        "links": {"next": f"/api/v1/departments/{department}/feed?{query}"},
    }
