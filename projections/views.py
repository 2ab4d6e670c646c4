"""What the API serves to read: the public licence and its page and signed document, applications, credit records, worklists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol
from urllib.parse import urlencode

from domain.bundle import TASK_QUEUED, BundleApplication
from domain.china import day_in_china
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


# 先照后证: why a permit granted with the business licence is not in force yet.
AWAITING_LICENCE = "待营业执照核发后生效 takes effect when the business licence is issued"


class ThemeNames(Names, Protocol):
    """The catalogue's names, themes included."""

    @property
    def themes(self) -> Mapping[str, Named]: ...


def permit_status(
    permit: Mapping[str, Any], *, today: date, registration: str | None = None
) -> tuple[PermitStatus, str]:
    """A permit's public status and its reason: as the read model recorded them from the
    domain's wording, except that a permit still valid on record is 无效 at once past its
    validity (the daily job records the expiry later), and — 先照后证 — not yet in force
    while its business is still being established: a filing or commitment (or any permit)
    accepted with the 营业执照 takes effect when the licence is issued (`registration`, the
    registration's status code, says so; a refused licence ends it on record, as before).
    Every place that shows a status — the licence JSON, the scan page, the signed status
    document, live or as of a past instant — takes it from here."""
    status = PermitStatus(permit["status"])
    valid_until = permit["valid_until"]
    if status is PermitStatus.VALID and registration == RegistrationStatus.ESTABLISHING.value:
        return PermitStatus.INVALID, AWAITING_LICENCE
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
        status, reason = permit_status(p, today=today, registration=row["status"])
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
                "reason": p["reason"],
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
        "status": application.status,
        "not_accepted": application.acceptance,
        "submitted_at": application.created_on.isoformat(),
        "submitted_by": application.submitted_by,
        "district": application.district,
        "version": application.version,
        "tasks": task_summary(application),
        "links": {
            "self": f"/api/v1/applications/{application.id}",
            "licence": f"/api/v1/licences/{application.uscc}",
        },
    }


def application_list(
    rows: list[dict[str, Any]], *, total: int, limit: int, offset: int
) -> dict[str, Any]:
    """One page of the window's applications (from the read model), each with its link."""
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "applications": [
            {
                "id": row["application_id"],
                "uscc": row["uscc"],
                "business_name": row["business_name"],
                "theme": row["theme"],
                "status": row["status"],
                "district": row["district"],
                "received_on": row["received_on"],
                "accepted_on": row["accepted_on"],
                "received_at": row["received_at"],
                "links": {"self": f"/api/v1/applications/{row['application_id']}"},
            }
            for row in rows
        ],
    }


# 办件查询: what the applicant reads for each state, in plain words.
_APPLICATION_WORDS = {
    "received": ("已收件，待受理", "received, acceptance pending"),
    "not_accepted": ("不予受理", "not accepted"),
    "in_review": ("审查中", "under review"),
    "decided": ("已办结", "decided"),
    "withdrawn": ("已撤回", "withdrawn"),
    "lapsed": ("已终止（容缺材料逾期未补）", "ended: a promised material came late"),
}
_TASK_WORDS = {
    "queued": ("审查中", "under review"),
    "supplement_requested": ("待补正材料", "waiting for your supplement"),
    "approved": ("准予许可", "granted"),
    "refused": ("不予许可", "refused"),
    "filed": ("已备案", "filed"),
    "approved_on_commitment": ("告知承诺，准予许可", "granted on your commitment"),
    "informed": ("审批已取消，已告知部门", "approval abolished; the department is informed"),
    "withdrawn": ("已终止", "ended"),
}


def _word(words: Mapping[str, tuple[str, str]], code: str) -> dict[str, str]:
    zh, en = words.get(code, (code, code))
    return {"code": code, "word": zh, "english": en}


def applicant_progress(application: BundleApplication, *, names: ThemeNames) -> dict[str, Any]:
    """办件查询, for the applicant who holds the code: each task's state and decision with its
    reasons, what waits on the applicant (the one supplement notice, the materials promised
    at acceptance), and nothing else — never an officer's or clerk's identity, never personal
    data, never another business."""
    tasks = []
    waiting: list[dict[str, Any]] = []
    for t in application.tasks.values():
        name_zh, name_en = _names(names.permit_types, t.permit_type)
        department_zh, department_en = _names(names.departments, t.department)
        paused = t.state == "supplement_requested" and t.supplement is not None
        tasks.append(
            {
                "permit_type": t.permit_type,
                "name_zh": name_zh,
                "name_en": name_en,
                "department_name_zh": department_zh,
                "department_name_en": department_en,
                "state": _word(_TASK_WORDS, t.state),
                "due_on": t.due_on if t.state in ("queued", "supplement_requested") else None,
                "permit_number": t.permit_number,
                "reason": t.reason,
                "legal_basis": t.legal_basis,
            }
        )
        if paused and t.supplement is not None:
            waiting.append(
                {
                    "kind": "supplement",
                    "department_name_zh": department_zh,
                    "items": list(t.supplement["items"]),
                    "note": t.supplement["note"],
                    "since": t.supplement["requested_on"],
                    "by_date": None,
                }
            )
    open_statuses = ("received", "in_review")
    if application.status in open_statuses:
        for material, entry in application.deficiencies.items():
            if entry["supplied_on"] is None:
                waiting.append(
                    {
                        "kind": "material",
                        "department_name_zh": None,
                        "items": [material],
                        "note": "容缺受理时承诺补交的材料 (promised at acceptance)",
                        "since": None,
                        "by_date": entry["supply_by"],
                    }
                )
    requests = application.supplement_notice() if application.status == "in_review" else []
    theme = names.themes.get(application.theme)
    return {
        "application_id": str(application.id),
        "uscc": application.uscc,
        "theme": application.theme,
        "theme_name_zh": theme.name_zh if theme else application.theme,
        "theme_name_en": theme.name_en if theme else application.theme,
        "status": _word(_APPLICATION_WORDS, application.status),
        "received_on": day_in_china(application.created_on).isoformat(),
        "accepted_on": application.accepted_on.isoformat() if application.accepted_on else None,
        "tasks": tasks,
        "waiting_on_applicant": waiting,
        "supplement_notice": [
            {
                "permit_type": r["permit_type"],
                "department_name_zh": _names(names.departments, r["department"])[0],
                "items": r["items"],
                "note": r["note"],
                "requested_on": r["requested_on"],
            }
            for r in requests
        ],
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
