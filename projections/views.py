"""What the API serves to read: the public licence and its page and signed document, applications, credit records, worklists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol
from urllib.parse import urlencode

from domain.bundle import OPEN_TASK_STATES, TASK_QUEUED, TERMINAL_TASK_STATES, BundleApplication
from domain.china import day_in_china
from domain.credit import ACTIVE, LISTS, OBJECTED, REMOVED, CreditRecord
from domain.permit import PAST_VALIDITY
from domain.registration import ENTITY_TYPES
from domain.status import PermitStatus, RegistrationStatus, Standing, Tone


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


def permit_standing(
    permit: Mapping[str, Any], *, registration: RegistrationStatus, today: date
) -> tuple[PermitStatus, str, Standing]:
    """A permit's public status, its reason and its standing (the word that names the act
    behind the status), on `today`, for a business whose registration is `registration`.
    The status and reason are `permit_status`'s; the standing follows them: a permit in
    force on record but no longer valid on that day has expired, and one granted to a
    business still being established waits for its 营业执照 (先照后证)."""
    status, reason = permit_status(permit, today=today, registration=registration.value)
    standing = Standing(permit["standing"])
    if standing.in_force and status is not PermitStatus.VALID:
        # Held back on the day: waiting for the 营业执照 (AWAITING_LICENCE), or past its end.
        awaiting = registration is RegistrationStatus.ESTABLISHING
        standing = Standing.PENDING_LICENCE if awaiting else Standing.EXPIRED
    return status, reason, standing


def _standing(standing: Standing) -> dict[str, Any]:
    return {
        "code": standing.value,
        "word": standing.word,
        "english": standing.english,
        "tone": standing.tone.value,
        "in_force": standing.in_force,
    }


def _end(standing: Standing, valid_until: str | None) -> dict[str, str] | None:
    """The one date worth showing beside a permit: its end while in force, the day it ran
    out once expired; nothing for a permit refused, revoked, suspended or ended otherwise."""
    if valid_until is None:
        return None
    if standing.in_force or standing is Standing.PENDING_LICENCE:
        return {"kind": "valid_until", "date": valid_until}
    if standing is Standing.EXPIRED:
        return {"kind": "expired_on", "date": valid_until}
    return None


def present_licence(row: Mapping[str, Any], *, names: Names, today: date) -> dict[str, Any]:
    """The public licence: registration, permits and credit listings, no personal data and
    no staff identities; a row of the live view or of one replayed as of a past instant.
    `verdict` answers first whether the business may operate, and in what."""
    registration = RegistrationStatus(row["status"])
    permits = []
    for p in row["permits"]:
        status, reason, standing = permit_standing(p, registration=registration, today=today)
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
                "standing": _standing(standing),
                "reason": reason,
                "legal_basis": p["legal_basis"],
                "permit_number": p["permit_number"],
                "valid_from": p["valid_from"],
                "valid_until": p["valid_until"],
                "shown_end": _end(standing, p["valid_until"]),
                "version": p["version"],
                "updated_at": p["updated_at"],
            }
        )
    entity = ENTITY_TYPES.get(row["entity_type"], (row["entity_type"], row["entity_type"]))
    held = registration_standing(row)
    return {
        "uscc": row["uscc"],
        "name": row["name"],
        "entity_type": row["entity_type"],
        "entity_type_zh": entity[0],
        "entity_type_en": entity[1],
        "domicile": row["domicile"],
        "business_scope": row["business_scope"],
        "registered_capital": row["registered_capital"],
        "status": _status(registration),
        "registration": held,
        "verdict": verdict(held, permits),
        "print_version": row["print_version"],
        "version": row["version"],
        "as_of": row["updated_at"],
        "permits": permits,
        "credit_listings": [present_credit_listing(x) for x in row["credit_listings"]],
    }


# The registration's own verdict: its tone, and why it stands there in both languages, from
# the licence row's status_* columns ({since}, {until}, {reason}, {basis}; {basis_zh} and
# {basis_en} are the legal basis in brackets, or nothing). None: the business may operate.
_R = RegistrationStatus
_REGISTRATION_VERDICTS: dict[RegistrationStatus, tuple[Tone, str, str] | None] = {
    _R.ACTIVE: None,
    _R.ESTABLISHING: (
        Tone.CAUTION,
        "营业执照尚未核发（设立登记审查中）",
        "the business licence has not been issued yet (registration under review)",
    ),
    _R.REFUSED: (
        Tone.STOP,
        "营业执照不予登记：{reason}{basis_zh}",
        "the business licence was refused: {reason}{basis_en}",
    ),
    _R.SUSPENDED: (
        Tone.CAUTION,
        "自 {since} 起休业，{resume_zh}",
        "closed for business (休业) since {since}; {resume_en}",
    ),
    _R.DEREGISTRATION_NOTICE: (
        Tone.CAUTION,
        "简易注销公告中，公告期至 {until}",
        "being deregistered: public notice until {until}",
    ),
    _R.DEREGISTERED: (Tone.STOP, "已于 {since} 注销", "deregistered on {since}"),
    _R.REVOKED: (
        Tone.STOP,
        "营业执照已于 {since} 吊销：{reason}{basis_zh}",
        "business licence revoked on {since}: {reason}{basis_en}",
    ),
    _R.CANCELLED: (
        Tone.STOP,
        "登记已于 {since} 撤销：{reason}{basis_zh}",
        "registration cancelled on {since}: {reason}{basis_en}",
    ),
}


def registration_standing(row: Mapping[str, Any]) -> dict[str, Any]:
    """Where the registration stands, as a verdict of its own: whether it lets the business
    operate at all, the tone, and why (休业 with its period and expected reopening, an exit
    with its date, reason and basis)."""
    status = RegistrationStatus(row["status"])
    entry = _REGISTRATION_VERDICTS[status]
    since = row.get("status_since") or ""
    until = row.get("status_until")
    if status is RegistrationStatus.SUSPENDED:
        since = row.get("suspended_from") or since
        until = row.get("suspended_until")
    detail = {
        "code": status.value,
        "word": status.word,
        "english": status.english,
        "operating": entry is None,
        "since": since or None,
        "until": until,
    }
    if entry is None:
        return detail | {"tone": Tone.OK.value, "reason": None, "reason_en": None}
    tone, zh, en = entry
    basis = row.get("status_basis")
    values = {
        "since": since,
        "until": until or "",
        "reason": row.get("status_reason") or "",
        "basis_zh": f"（依据：{basis}）" if basis else "",
        "basis_en": f" (legal basis: {basis})" if basis else "",
        "resume_zh": f"预计 {until} 恢复营业" if until else "恢复营业日期未定",
        "resume_en": f"expected to reopen on {until}" if until else "no date set to reopen",
    }
    return detail | {
        "tone": tone.value,
        "reason": zh.format(**values),
        "reason_en": en.format(**values),
    }


# The verdict's words: may operate; some licensed activities may not be carried on (listed);
# none of them may; may not operate at all (the registration says why).
_VERDICTS = {
    "may_operate": ("可以经营", "May operate"),
    "partly": ("部分经营项目不可经营", "Some activities may not be carried on"),
    "no_permit_in_force": ("许可经营项目均不可经营", "No licensed activity may be carried on"),
    "may_not_operate": ("不可经营", "May not operate"),
}


def _worst_first(permit: Mapping[str, Any]) -> int:
    return -Tone(permit["standing"]["tone"]).rank


def verdict(registration: Mapping[str, Any], permits: list[dict[str, Any]]) -> dict[str, Any]:
    """The one answer the scan page and the signed status document give first: may this
    business operate, and in what. `tone` is the worst of the registration's and every
    permit's; `not_in_force` names the permits not in force, worst first, each with its
    word; `reason` says it in a line (Chinese), `reason_en` in English."""
    held_back = sorted((p for p in permits if not p["standing"]["in_force"]), key=_worst_first)
    tones = [Tone(registration["tone"]), *(Tone(p["standing"]["tone"]) for p in permits)]
    tone = max(tones, key=lambda t: t.rank)
    if not registration["operating"]:
        code = "may_not_operate"
        reason, reason_en = registration["reason"], registration["reason_en"]
    elif not held_back:
        code = "may_operate"
        reason = "营业执照存续，所列许可均有效" if permits else "营业执照存续"
        reason_en = "registered, every permit valid" if permits else "registered"
    else:
        code = "partly" if len(held_back) < len(permits) else "no_permit_in_force"
        reason = "不可经营：" + "；".join(
            f"{p['name_zh']}（{p['standing']['word']}）" for p in held_back
        )
        reason_en = "Not allowed: " + "; ".join(
            f"{p['name_en']} ({p['standing']['english']})" for p in held_back
        )
    word, english = _VERDICTS[code]
    return {
        "code": code,
        "word": word,
        "english": english,
        "tone": tone.value,
        "reason": reason,
        "reason_en": reason_en,
        "not_in_force": [
            {
                "permit_type": p["permit_type"],
                "standing": p["standing"]["code"],
                "word": p["standing"]["word"],
                "english": p["standing"]["english"],
            }
            for p in held_back
        ],
    }


def status_document(licence: Mapping[str, Any], *, print_version: int) -> dict[str, Any]:
    """What the signed status document says of a presented licence, for the print version
    the scanned code points to: the licence version and time, whether a newer print
    supersedes that one, the verdict of the scan page in the same words, the registration's
    standing, each permit's status, standing, reason and meaningful end date, and the public
    credit listings. The signer adds `iss`, `sub`, `iat` and `exp`."""
    registration = licence["registration"]
    return {
        "v": licence["version"],
        "asof": licence["as_of"],
        "qv": print_version,
        "superseded": print_version < licence["print_version"],
        "verdict": {
            key: licence["verdict"][key]
            for key in ("code", "word", "english", "tone", "reason", "reason_en")
        }
        | {"not_in_force": [p["permit_type"] for p in licence["verdict"]["not_in_force"]]},
        "lic": {
            "name": licence["name"],
            "domicile": licence["domicile"],
            "status": licence["status"]["code"],
            "since": registration["since"],
            "until": registration["until"],
            "reason": registration["reason"],
        },
        "permits": [
            {
                "type": p["permit_type"],
                "no": p["permit_number"],
                "status": p["status"]["code"],
                "standing": p["standing"]["code"],
                "word": p["standing"]["word"],
                "reason": p["reason"],
                "basis": p["legal_basis"],
                "valid_to": p["shown_end"]["date"]
                if p["shown_end"] and p["shown_end"]["kind"] == "valid_until"
                else None,
                "expired_on": p["shown_end"]["date"]
                if p["shown_end"] and p["shown_end"]["kind"] == "expired_on"
                else None,
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


def scan_page(licence: Mapping[str, Any], *, print_version: int) -> dict[str, Any]:
    """What the scan page shows of a presented licence: its verdict (the status document's),
    the permits not in force first (worst first, then by type), and whether the scanned print
    is superseded."""
    permits = sorted(licence["permits"], key=lambda p: (p["standing"]["in_force"], _worst_first(p)))
    return {
        "licence": licence,
        "verdict": licence["verdict"],
        "registration": licence["registration"],
        "permits": permits,
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


# The worklist's groups of states.
_GROUPS: dict[str, tuple[str, ...] | None] = {
    "open": tuple(OPEN_TASK_STATES),
    "decided": tuple(TERMINAL_TASK_STATES),
    "all": None,
}


def worklist_states(state: str | None, status: str | None) -> tuple[str, ...] | None:
    """The task states a worklist shows (None: every state): one `state`, or a group —
    `open` (queued or paused for a supplement), `decided` or `all`; by default `open`, or
    `all` when a state is given. A state outside the group asked for matches nothing."""
    group = _GROUPS[status or ("all" if state else "open")]
    if state is None:
        return group
    if group is not None and state not in group:
        return ()
    return (state,)


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
