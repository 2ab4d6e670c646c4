"""What accepting (受理) an application does, by the 证照分离 rules alone: each permit's route,
the credit bars, 容缺 and the 守信快批 fast track, and every deadline. Pure: no store, no clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol
from uuid import UUID

from domain.credit import LISTS
from domain.dates import add_years
from domain.errors import Conflict, InvalidParam, ValidationFailed
from domain.payloads import (
    ActiveListing,
    CreditSnapshot,
    Deficiency,
    DispatchedTask,
    FastTrack,
    FastTrackRequest,
    SignedCommitment,
)
from domain.permit import Permit

BUSINESS_LICENCE = "business_licence"

# 行政许可法 art. 32: acceptance is decided (or the missing items told) within five working
# days of receipt (art. 82: time limits count working days).
ACCEPTANCE_DAYS = 5
# 容缺受理: at most this many working days to supply what was accepted as missing.
DEFICIENCY_LIMIT_DAYS = 20

Route = Literal["inform", "file", "commitment", "queue"]


class Letter(Protocol):
    """A published commitment letter (告知承诺书): what the applicant signs."""

    @property
    def version(self) -> str: ...

    @property
    def text_zh(self) -> str: ...


class PermitRules(Protocol):
    """What acceptance needs to know of a permit type (the catalogue's `PermitType` is one)."""

    @property
    def code(self) -> str: ...

    @property
    def department(self) -> str: ...

    @property
    def mode(self) -> str: ...

    @property
    def statutory_days(self) -> int: ...

    @property
    def promised_days(self) -> int: ...

    @property
    def validity_years(self) -> int | None: ...

    @property
    def site_inspection(self) -> bool: ...

    @property
    def commitment(self) -> Letter | None: ...

    @property
    def verification_days(self) -> int | None: ...

    @property
    def deemed_outcome(self) -> str | None: ...

    @property
    def deemed_basis(self) -> str | None: ...


class WorkingDays(Protocol):
    """The working-day calendar (调休 included) that time limits are counted in."""

    def add_working_days(self, start: date, days: int) -> date: ...


@dataclass(frozen=True)
class PermitAct:
    """What acceptance does to one permit: file it, grant it on the signed letter, or open it
    for the department's decision (`queue`). Cancelled items have no permit and no act."""

    permit_type: str
    department: str
    route: Route
    number: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    letter_version: str | None = None
    letter_text: str | None = None
    signed_by: str | None = None
    verification_due: date | None = None


@dataclass(frozen=True)
class Plan:
    """The accepted application: a task per permit, what happens to each permit, and the
    credit snapshot, fast track and missing materials it records."""

    tasks: list[DispatchedTask]
    permits: list[PermitAct]
    credit: CreditSnapshot
    fast_track: FastTrack | None
    deficiencies: list[Deficiency]

    @property
    def permit_types(self) -> list[str]:
        """The permits the business now holds or applies for (cancelled items have none)."""
        return [act.permit_type for act in self.permits]


def system_number(department: str, day: date, permit_id: UUID) -> str:
    """A number for a permit the system grants itself (filing, commitment, joint act, deemed)."""
    return f"{department.upper()}-{day:%Y%m%d}-{permit_id.hex[:8].upper()}"


def default_expiry(validity_years: int | None, start: date) -> date | None:
    """The end of a permit's validity period, counted from the day it takes effect."""
    return add_years(start, validity_years) if validity_years else None


def credit_snapshot(listings: list[ActiveListing], today: date) -> CreditSnapshot:
    """What an application records of a business's credit when it is accepted."""
    return {"checked_on": today.isoformat(), "listings": listings}


def check_deficiencies(
    deficiencies: Sequence[Mapping[str, Any]], *, today: date, calendar: WorkingDays
) -> list[Deficiency]:
    """容缺受理 at the window: each missing material named once, promised after today and
    within the limit; every problem named at once."""
    latest = calendar.add_working_days(today, DEFICIENCY_LIMIT_DAYS)
    problems, seen, cleaned = [], set(), list[Deficiency]()
    for n, entry in enumerate(deficiencies):
        material = str(entry.get("material", "")).strip()
        supply_by = entry.get("supply_by")
        if not material or material in seen:
            problems.append(InvalidParam(f"deficiencies.{n}.material", "empty or repeated"))
        if not isinstance(supply_by, date) or not today < supply_by <= latest:
            problems.append(
                InvalidParam(
                    f"deficiencies.{n}.supply_by",
                    f"must be after today and no later than {latest} "
                    f"({DEFICIENCY_LIMIT_DAYS} working days)",
                )
            )
        seen.add(material)
        if isinstance(supply_by, date):
            cleaned.append({"material": material, "supply_by": supply_by.isoformat()})
    if problems:
        raise ValidationFailed(problems)
    return cleaned


def check_still_valid(
    *,
    rules: Mapping[str, PermitRules],
    commitments: Mapping[str, SignedCommitment],
    deficiencies: Sequence[Deficiency],
    today: date,
) -> None:
    """What was valid at receipt may not be at acceptance: a promised date passed, or a
    commitment letter republished. The window must then not accept it as it stands."""
    late = [
        f"{d['material']} (by {d['supply_by']})"
        for d in deficiencies
        if d["supply_by"] <= today.isoformat()
    ]
    if late:
        msg = (
            "the promised date of a missing material (容缺) has passed: "
            + ", ".join(late)
            + "; 不予受理, or take a new submission with new dates"
        )
        raise Conflict(msg)
    republished = [
        code
        for code, signed in commitments.items()
        if (letter := rules[code].commitment) is None or letter.version != signed["version"]
    ]
    if republished:
        msg = (
            "the commitment letter signed for "
            + ", ".join(republished)
            + " is no longer the published version; the applicant signs the new one"
        )
        raise Conflict(msg)


def check_credit(
    *,
    uscc: str,
    credit: CreditSnapshot,
    commitments: Mapping[str, SignedCommitment],
    deficiencies: Sequence[Deficiency],
) -> None:
    """失信即受限: a listed applicant takes neither the commitment route nor 容缺受理."""
    if commitments and credit["listings"]:
        barred = "; ".join(
            f"{LISTS[x['list']][0]} {LISTS[x['list']][1]} since {x['listed_on']}"
            for x in credit["listings"]
        )
        msg = f"commitment mode is not available: {uscc} is listed ({barred})"
        raise Conflict(msg)
    if deficiencies and credit["listings"]:
        msg = (
            "容缺受理 (acceptance with a missing material) needs good credit: "
            f"{uscc} is listed on " + ", ".join(LISTS[x["list"]][0] for x in credit["listings"])
        )
        raise Conflict(msg)


def fast_track_record(
    *,
    request: FastTrackRequest,
    credit: CreditSnapshot,
    hq_credit: CreditSnapshot,
    target_days: int,
) -> FastTrack:
    """守信快批: only for an applicant and a chain headquarters with no listing (失信即受限)."""
    for whose, snapshot in (("the applicant", credit), ("the chain headquarters", hq_credit)):
        if snapshot["listings"]:
            lists = ", ".join(
                f"{LISTS[x['list']][0]} since {x['listed_on']}" for x in snapshot["listings"]
            )
            msg = f"the credit fast track (守信快批) is not available: {whose} is listed ({lists})"
            raise Conflict(msg)
    return {
        "chain_hq_uscc": request["chain_hq_uscc"],
        "declaration": request["declaration"],
        "hq_credit": hq_credit,
        "target_days": target_days,
    }


def plan(
    *,
    uscc: str,
    permits: Sequence[PermitRules],
    is_new_business: bool,
    commitments: Mapping[str, SignedCommitment],
    credit: CreditSnapshot,
    fast_track: FastTrack | None,
    deficiencies: list[Deficiency],
    today: date,
    calendar: WorkingDays,
) -> Plan:
    """Accept: a task per permit of the theme (the 营业执照 only for a business being
    established), filings and commitments effective at once, the rest queued with their
    deadlines counted from `today` — one working day each on the fast track."""
    target_days = fast_track["target_days"] if fast_track else None
    tasks: list[DispatchedTask] = []
    acts: list[PermitAct] = []
    for rules in permits:
        if rules.code == BUSINESS_LICENCE and not is_new_business:
            continue  # an existing business already has its 营业执照
        # The task keeps the mode and limits of the catalogue it was accepted under.
        task: DispatchedTask = {
            "permit_type": rules.code,
            "department": rules.department,
            "mode": rules.mode,
            "permit_id": None,
        }
        tasks.append(task)
        if rules.mode == "cancelled":
            task["state"] = "informed"  # no permit; the department is informed
            continue
        permit_id = Permit.create_id(uscc, rules.code)
        task["permit_id"] = permit_id
        number = system_number(rules.department, today, permit_id)
        expiry = default_expiry(rules.validity_years, today)
        if rules.mode == "filing":
            acts.append(
                PermitAct(
                    rules.code,
                    rules.department,
                    "file",
                    number=number,
                    valid_from=today,
                    valid_until=expiry,
                )
            )
            task |= {"state": "filed", "permit_number": number}
        elif rules.mode == "commitment" and rules.code in commitments:
            letter, days = rules.commitment, rules.verification_days
            assert letter is not None and days is not None  # the catalogue pairs them
            acts.append(
                PermitAct(
                    rules.code,
                    rules.department,
                    "commitment",
                    number=number,
                    valid_from=today,
                    valid_until=expiry,
                    letter_version=letter.version,
                    letter_text=letter.text_zh,
                    signed_by=commitments[rules.code]["signed_by"],
                    verification_due=calendar.add_working_days(today, days),
                )
            )
            task |= {"state": "approved_on_commitment", "permit_number": number}
        else:
            acts.append(PermitAct(rules.code, rules.department, "queue"))
            promised = target_days or rules.promised_days  # 守信快批: one day
            task |= {
                "state": "queued",
                "promised_days": promised,
                "statutory_days": rules.statutory_days,
                "needs_inspection": rules.site_inspection,
                "deemed_outcome": rules.deemed_outcome,
                "deemed_basis": rules.deemed_basis,
                "due_on": calendar.add_working_days(today, promised).isoformat(),
                "statutory_due_on": calendar.add_working_days(
                    today, rules.statutory_days
                ).isoformat(),
            }
    return Plan(tasks, acts, credit, fast_track, deficiencies)
