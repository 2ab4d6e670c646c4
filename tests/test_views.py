"""The views the API serves, from rows alone: the public licence, credit records, worklists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.actor import Actor
from domain.credit import CreditRecord
from domain.status import PermitStatus
from projections.views import (
    AWAITING_LICENCE,
    credit_record,
    department_worklist,
    permit_status,
    present_licence,
    scan_page,
    status_document,
)

TODAY = date(2026, 11, 17)
OFFICE = Actor(id="credit-officer", role="credit")


@dataclass(frozen=True)
class Entry:
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Names:
    permit_types: dict[str, Entry]
    departments: dict[str, Entry]


NAMES = Names(
    permit_types={"food_business": Entry("食品经营许可", "Food business permit")},
    departments={"samr": Entry("市场监管局", "Market regulation")},
)


def permit(**values: Any) -> dict[str, Any]:
    return {
        "permit_type": "food_business",
        "department": "samr",
        "status": "valid",
        "reason": "准予许可 approved",
        "legal_basis": None,
        "permit_number": "JY-1",
        "valid_from": "2021-11-17",
        "valid_until": "2026-11-17",
        "version": 2,
        "updated_at": "2021-11-17T09:00:00+08:00",
    } | values


def licence(*permits: dict[str, Any], status: str = "active") -> dict[str, Any]:
    return {
        "uscc": "91440101MA5LT0E01X",
        "name": "视图饭店",
        "entity_type": "limited_company",
        "domicile": "广州市越秀区",
        "business_scope": "餐饮服务",
        "registered_capital": "100000",
        "status": status,
        "print_version": 2,
        "version": 7,
        "updated_at": "2026-11-17T09:00:00+08:00",
        "permits": list(permits),
        "credit_listings": [],
    }


def test_a_valid_permit_past_its_validity_is_shown_invalid_before_the_daily_job() -> None:
    assert permit_status(permit(valid_until="2026-11-17"), today=TODAY) == (
        PermitStatus.VALID,
        "准予许可 approved",
    )
    assert permit_status(permit(valid_until="2026-11-16"), today=TODAY) == (
        PermitStatus.INVALID,
        "有效期届满 expired on 2026-11-16",
    )
    assert permit_status(permit(valid_until=None), today=TODAY)[0] is PermitStatus.VALID
    # A permit already not valid keeps the reason it has.
    suspended = permit(
        status="invalid", reason="暂停 suspended: 超标排放", valid_until="2020-01-01"
    )
    assert permit_status(suspended, today=TODAY) == (
        PermitStatus.INVALID,
        "暂停 suspended: 超标排放",
    )


def test_the_licence_json_page_and_signed_document_show_the_same_status() -> None:
    shown = present_licence(
        licence(permit(valid_until="2026-11-16"), permit(permit_type="fire_safety")),
        names=NAMES,
        today=TODAY,
    )
    food, fire = shown["permits"]
    assert food["status"] == {"code": "invalid", "word": "无效", "english": "invalid"}
    assert food["reason"] == "有效期届满 expired on 2026-11-16"
    assert (food["name_zh"], food["department_name_en"]) == ("食品经营许可", "Market regulation")
    assert (fire["name_zh"], fire["name_en"]) == ("fire_safety", "fire_safety")  # not catalogued
    assert shown["status"]["word"] == "存续"

    document = status_document(shown, print_version=1)
    assert [p["status"] for p in document["permits"]] == ["invalid", "valid"]
    assert (document["v"], document["qv"], document["superseded"]) == (7, 1, True)
    assert status_document(shown, print_version=2)["superseded"] is False

    page = scan_page(shown, print_version=2)
    assert (page["worst"], page["operating"], page["superseded"]) == ("invalid", False, False)


def test_a_business_operates_only_with_every_permit_valid_and_its_registration_active() -> None:
    def operating(*permits: dict[str, Any], status: str = "active") -> bool:
        shown = present_licence(licence(*permits, status=status), names=NAMES, today=TODAY)
        return bool(scan_page(shown, print_version=2)["operating"])

    assert operating(permit(), permit(permit_type="fire_safety"))
    assert not operating(permit(), status="suspended")
    assert not operating(permit(), permit(status="under_rectification", reason="限期整改"))
    shown = present_licence(licence(), names=NAMES, today=TODAY)
    assert scan_page(shown, print_version=2)["worst"] == "under_verification"  # no permit yet


def test_the_credit_record_says_what_listings_in_force_bar_a_business_from() -> None:
    uscc = "91440101MA5LT0E01X"
    assert credit_record(uscc, None) == {
        "uscc": uscc,
        "listings": [],
        "restricted": False,
        "restrictions": [],
    }
    record = CreditRecord(uscc=uscc)
    for list_code in ("abnormal_operations", "serious_dishonesty"):
        record.list(
            actor=OFFICE,
            list_code=list_code,
            grounds="未按规定公示年度报告",
            legal_basis="《企业信息公示暂行条例》第十七条",
            on=TODAY,
        )
    first, second = record.listings
    record.remove(actor=OFFICE, listing_id=first, reason="信用修复", repaired=True)
    shown = credit_record(uscc, record)
    assert [(x["id"], x["state"], x["list_zh"]) for x in shown["listings"]] == [
        (first, "removed", "经营异常名录"),
        (second, "active", "严重违法失信名单"),
    ]
    assert shown["restricted"] and "credit fast track (守信快批)" in shown["restrictions"]
    record.remove(actor=OFFICE, listing_id=second, reason="信用修复", repaired=True)
    assert credit_record(uscc, record)["restrictions"] == []


def test_a_worklist_flags_only_undecided_tasks_past_their_promised_date() -> None:
    def task(state: str, due_on: str | None) -> dict[str, Any]:
        return {
            "application_id": "a1",
            "permit_type": "food_business",
            "state": state,
            "due_on": due_on,
        }

    rows = [
        task("queued", "2026-11-16"),
        task("queued", "2026-11-17"),
        task("approved", "2026-11-01"),
    ]
    shown = department_worklist([*rows, task("queued", None)], department="samr", today=TODAY)
    assert [t["overdue"] for t in shown["tasks"]] == [True, False, False, False]
    assert shown["as_of"] == "2026-11-17"
    assert shown["tasks"][0]["links"] == {
        "task": "/api/v1/departments/samr/tasks/a1/food_business",
        "decision": "/api/v1/applications/a1/tasks/food_business/decision",
        "claim": "/api/v1/applications/a1/tasks/food_business/claim",
    }
    assert (shown["total"], shown["limit"], shown["offset"]) == (4, 100, 0)


def test_a_permit_of_a_business_still_being_established_is_not_in_force() -> None:
    """先照后证: valid on record, but not before the business licence is issued."""
    granted = permit(valid_until=None)
    assert permit_status(granted, today=TODAY, registration="establishing") == (
        PermitStatus.INVALID,
        AWAITING_LICENCE,
    )
    assert permit_status(granted, today=TODAY, registration="active")[0] is PermitStatus.VALID
    # Not valid on record: its own reason stands, whatever the registration.
    refused = permit(status="invalid", reason="不予许可 refused: 不符合", valid_until=None)
    assert permit_status(refused, today=TODAY, registration="establishing") == (
        PermitStatus.INVALID,
        "不予许可 refused: 不符合",
    )
    shown = present_licence(licence(granted, status="establishing"), names=NAMES, today=TODAY)
    assert [p["reason"] for p in shown["permits"]] == [AWAITING_LICENCE]
    assert status_document(shown, print_version=2)["permits"][0]["reason"] == AWAITING_LICENCE
