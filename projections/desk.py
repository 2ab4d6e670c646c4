"""A department's view of its own task: the business, the answers its permit uses and nothing
else, its materials, the commitment signed, the credit snapshot, the task's history and
deadlines; and the personal data its permit needs, when asked for (each read is logged)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from domain.access import items_of
from domain.bundle import (
    OPEN_TASK_STATES,
    TASK_QUEUED,
    TASK_SUPPLEMENT,
    BundleApplication,
    Task,
)
from domain.permit import Permit
from domain.registration import ENTITY_TYPES, BusinessRegistration

# --- what the view needs of the catalogue (licensing.catalogue.Catalogue is one) -------------


class FieldUse(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def required(self) -> bool: ...


class PermitRules(Protocol):
    @property
    def name_zh(self) -> str: ...

    @property
    def name_en(self) -> str: ...

    @property
    def fields(self) -> Sequence[FieldUse]: ...

    @property
    def personal_data(self) -> Sequence[str]: ...


class FieldLabel(Protocol):
    @property
    def label_zh(self) -> str: ...

    @property
    def label_en(self) -> str: ...

    @property
    def type(self) -> str: ...


class Rules(Protocol):
    """The catalogue's permit types (their fields and personal data) and field labels."""

    @property
    def permit_types(self) -> Mapping[str, PermitRules]: ...

    @property
    def fields(self) -> Mapping[str, FieldLabel]: ...


# --- the view ------------------------------------------------------------------------------


def task_links(department: str, application_id: UUID | str, permit_type: str) -> dict[str, str]:
    """Where a department reads its task and acts on it."""
    view = f"/api/v1/departments/{department}/tasks/{application_id}/{permit_type}"
    acts = f"/api/v1/applications/{application_id}/tasks/{permit_type}"
    return {
        "self": view,
        "personal_data": f"{view}/personal-data",
        "claim": f"{acts}/claim",
        "release": f"{acts}/release",
        "takeover": f"{acts}/takeover",
        "decision": f"{acts}/decision",
        "supplement_request": f"{acts}/supplement-request",
        "inspection_finding": f"{acts}/inspection-finding",
    }


def task_view(
    application: BundleApplication,
    *,
    permit_type: str,
    events: Sequence[Any],
    registration: BusinessRegistration,
    permit_events: Sequence[Any],
    rules: Rules,
    today: date,
    materials: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What a department sees of its own task on an application (the caller has checked that
    the task is the reader's department's). `events` are the application's, `permit_events`
    those of the task's permit (none for an item whose approval was cancelled). Read from the
    aggregates and their events, so an officer sees an act's outcome at once."""
    task = application.tasks[permit_type]
    permit_rules = rules.permit_types.get(permit_type)
    history = task_history(events, permit_type, fields=_field_codes(permit_rules))
    kinds = list(permit_rules.personal_data) if permit_rules else []
    links = task_links(task.department, application.id, permit_type)
    return {
        "application_id": str(application.id),
        "permit_type": permit_type,
        "name_zh": permit_rules.name_zh if permit_rules else permit_type,
        "name_en": permit_rules.name_en if permit_rules else permit_type,
        "department": task.department,
        "theme": application.theme,
        "catalogue_version": application.catalogue_version,
        "application_status": application.status,
        "mode": task.mode,
        "state": task.state,
        "claimed_by": task.claimed_by,
        "claimed_at": _claimed_at(task, history),
        "business": business_details(registration),
        "answers": _answers(application, permit_rules, rules),
        "materials": list(materials or []),
        "commitment": commitment_signed(permit_events, application.id),
        "credit": application.credit,
        "joint_inspection": (
            application.inspection
            if application.inspection and permit_type in application.inspection["permit_types"]
            else None
        ),
        "supplement": task.supplement,
        "finding": task.finding,
        "decision": _decision(task),
        "deadlines": _deadlines(task, today),
        "history": history,
        "personal_data": (
            {"kinds": kinds, "items": items_of(kinds), "link": links["personal_data"]}
            if kinds
            else None
        ),
        "links": links,
    }


def business_details(registration: BusinessRegistration) -> dict[str, Any]:
    """The business as registered now: no personal data (the legal representative is read
    apart, where a permit needs it)."""
    entity = ENTITY_TYPES.get(
        registration.entity_type, (registration.entity_type, registration.entity_type)
    )
    return {
        "uscc": registration.uscc,
        "name": registration.name,
        "entity_type": registration.entity_type,
        "entity_type_zh": entity[0],
        "domicile": registration.domicile,
        "business_scope": registration.business_scope,
        "registered_capital": f"{registration.registered_capital:.2f}",
        "status": registration.status.value,
    }


def _field_codes(permit_rules: PermitRules | None) -> tuple[str, ...]:
    return tuple(use.code for use in permit_rules.fields) if permit_rules else ()


def _answers(
    application: BundleApplication, permit_rules: PermitRules | None, rules: Rules
) -> list[dict[str, Any]]:
    """The answers of the fields its permit type uses, in the permit type's order, and only
    those (need-to-know); null where the form left an optional field empty."""
    if permit_rules is None:
        return []
    answers = []
    for use in permit_rules.fields:
        label = rules.fields.get(use.code)
        answers.append(
            {
                "code": use.code,
                "label_zh": label.label_zh if label else use.code,
                "label_en": label.label_en if label else use.code,
                "type": label.type if label else "string",
                "required": use.required,
                "value": application.answers.get(use.code),
            }
        )
    return answers


def commitment_signed(permit_events: Sequence[Any], application_id: UUID) -> dict[str, Any] | None:
    """The commitment letter (告知承诺书) signed for the permit on this application, if the
    permit was granted on it: which version, who signed, when, and the verification's due
    date (先证后核). The permit outlives applications, so only a grant made while this
    application was the permit's own counts."""
    current: UUID | None = None
    signed = None
    for e in permit_events:
        if isinstance(e, Permit.Applied | Permit.Reapplied):
            current = e.application_id
        elif isinstance(e, Permit.GrantedOnCommitment) and current == application_id:
            signed = {
                "version": e.letter_version,
                "signed_by": e.signed_by,
                "granted_at": e.timestamp.isoformat(),
                "verification_due": e.verification_due.isoformat(),
            }
    return signed


def _decision(task: Task) -> dict[str, Any] | None:
    if task.state in OPEN_TASK_STATES:
        return None
    return {
        "state": task.state,
        "permit_number": task.permit_number,
        "reason": task.reason,
        "legal_basis": task.legal_basis,
        "decided_by": task.decided_by,
    }


def _deadlines(task: Task, today: date) -> dict[str, Any]:
    """Promised and statutory dates (already moved by every pause), and whether each has
    passed while the task waits on the department (a paused clock is stopped)."""
    day = today.isoformat()
    waiting = task.state == TASK_QUEUED
    return {
        "due_on": task.due_on,
        "statutory_due_on": task.statutory_due_on,
        "overdue": waiting and bool(task.due_on) and str(task.due_on) < day,
        "statutory_overdue": waiting
        and bool(task.statutory_due_on)
        and str(task.statutory_due_on) < day,
        "paused": task.state == TASK_SUPPLEMENT,
        "pauses": [list(pause) for pause in task.pauses],
        "deemed_outcome": task.deemed_outcome,
    }


def _claimed_at(task: Task, history: list[dict[str, Any]]) -> str | None:
    if task.claimed_by is None:
        return None
    claims = [h["at"] for h in history if h["what"] in ("claimed", "taken_over")]
    return claims[-1] if claims else None


# --- the task's history ----------------------------------------------------------------------


def task_history(
    events: Sequence[Any], permit_type: str, *, fields: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The events of one task, oldest first: dispatched, claimed, released, taken over,
    supplement requested, resubmitted (with the answers of its own fields that changed),
    joint inspection scheduled, inspection finding, decided, ended."""
    history = []
    for e in events:
        entry = _entry(e, permit_type, fields)
        if entry is not None:
            what, details = entry
            history.append(
                {
                    "at": e.timestamp.isoformat(),
                    "what": what,
                    "actor": {
                        "id": e.actor.id,
                        "role": str(e.actor.role),
                        "department": e.actor.department,
                        "district": e.actor.district,
                    },
                    "details": {k: _plain(v) for k, v in details.items()},
                }
            )
    return history


A = BundleApplication


def _entry(e: Any, permit_type: str, fields: tuple[str, ...]) -> tuple[str, dict[str, Any]] | None:
    """What the event did to this task, in the history's words; None if nothing."""
    if isinstance(e, A.Submitted | A.Accepted):
        dispatched = next((t for t in e.tasks if t["permit_type"] == permit_type), None)
        if dispatched is None:
            return None
        return "dispatched", {
            "state": dispatched.get("state", TASK_QUEUED),
            "mode": dispatched.get("mode", "approval"),
            "due_on": dispatched.get("due_on"),
            "statutory_due_on": dispatched.get("statutory_due_on"),
        }
    if isinstance(e, A.Resubmitted):
        if permit_type not in e.due_dates:
            return None
        due = e.due_dates[permit_type]
        return "resubmitted", {
            "on": e.on,
            "due_on": due["due_on"],
            "statutory_due_on": due["statutory_due_on"],
            "answers": {k: v for k, v in e.answers.items() if k in fields},
            "materials": e.materials,
        }
    if isinstance(e, A.JointInspectionScheduled):
        if permit_type not in e.permit_types:
            return None
        return "joint_inspection_scheduled", {"on": e.on, "departments": e.departments}
    ended = {A.Withdrawn: "withdrawn", A.Lapsed: "lapsed", A.OpenTasksEnded: "ended"}
    if type(e) in ended:
        if permit_type not in e.permit_types:
            return None
        return ended[type(e)], {k: getattr(e, k) for k in ("reason", "missing") if hasattr(e, k)}
    if getattr(e, "permit_type", None) != permit_type:
        return None
    if isinstance(e, A.SupplementRequested):
        return "supplement_requested", {"items": e.items, "note": e.note, "on": e.on}
    if isinstance(e, A.FindingRecorded):
        return "inspection_finding", {"passed": e.passed, "notes": e.notes}
    if isinstance(e, A.TaskApproved):
        return "approved", {
            "permit_number": e.permit_number,
            "reason": e.reason,
            "legal_basis": e.legal_basis,
        }
    if isinstance(e, A.TaskRefused):
        return "refused", {"reason": e.reason, "legal_basis": e.legal_basis}
    if isinstance(e, A.TaskClaimed):
        return "claimed", {}
    if isinstance(e, A.TaskReleased):
        return "released", {}
    if isinstance(e, A.TaskTakenOver):
        return "taken_over", {"reason": e.reason, "previous": e.previous}
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --- personal data, on its own request --------------------------------------------------------


def personal_data(
    application: BundleApplication,
    registration: BusinessRegistration,
    *,
    permit_type: str,
    kinds: Sequence[str],
) -> dict[str, Any]:
    """The personal data a permit type needs, and nothing else: exactly the items the access
    log records for the read (domain.access.items_of)."""
    representative = registration.legal_representative
    applicant = application.applicant
    return {
        "application_id": str(application.id),
        "permit_type": permit_type,
        "items": items_of(list(kinds)),
        "legal_representative": (
            {
                "name": representative["name"],
                "id_number": representative["id_number"],
                "mobile": representative["mobile"],
            }
            if "legal_representative" in kinds
            else None
        ),
        "applicant": (
            {
                "contact_name": applicant.get("contact_name"),
                "mobile": applicant.get("mobile"),
                "email": applicant.get("email"),
            }
            if "applicant_contact" in kinds
            else None
        ),
    }
