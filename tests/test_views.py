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
        "standing": "in_force",
        "legal_basis": None,
        "permit_number": "JY-1",
        "valid_from": "2021-11-17",
        "valid_until": "2026-11-17",
        "version": 2,
        "updated_at": "2021-11-17T09:00:00+08:00",
    } | values


def licence(*permits: dict[str, Any], status: str = "active", **values: Any) -> dict[str, Any]:
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
    } | values


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
    assert food["standing"]["code"] == "expired" and food["standing"]["word"] == "已过期"
    assert food["shown_end"] == {"kind": "expired_on", "date": "2026-11-16"}
    assert food["reason"] == "有效期届满 expired on 2026-11-16"
    assert (food["name_zh"], food["department_name_en"]) == ("食品经营许可", "Market regulation")
    assert (fire["name_zh"], fire["name_en"]) == ("fire_safety", "fire_safety")  # not catalogued
    assert shown["status"]["word"] == "存续"

    document = status_document(shown, print_version=1)
    assert [p["status"] for p in document["permits"]] == ["invalid", "valid"]
    assert [p["standing"] for p in document["permits"]] == ["expired", "in_force"]
    assert [p["word"] for p in document["permits"]] == ["已过期", "有效"]
    assert [p["valid_to"] for p in document["permits"]] == [None, "2026-11-17"]
    assert (document["v"], document["qv"], document["superseded"]) == (7, 1, True)
    assert status_document(shown, print_version=2)["superseded"] is False

    page = scan_page(shown, print_version=2)
    assert page["verdict"] == shown["verdict"]
    assert (
        document["verdict"]["reason"]
        == page["verdict"]["reason"]
        == "不可经营：食品经营许可（已过期）"
    )
    assert (page["verdict"]["code"], page["verdict"]["tone"], page["superseded"]) == (
        "partly",
        "stop",
        False,
    )
    assert [p["permit_type"] for p in page["permits"]] == ["food_business", "fire_safety"]


def verdict_of(*permits: dict[str, Any], status: str = "active", **values: Any) -> dict[str, Any]:
    shown = present_licence(licence(*permits, status=status, **values), names=NAMES, today=TODAY)
    return dict(scan_page(shown, print_version=2)["verdict"])


def test_a_business_operates_only_with_every_permit_in_force_and_its_registration_active() -> None:
    fire = permit(permit_type="fire_safety")
    assert verdict_of(permit(), fire)["code"] == "may_operate"
    assert verdict_of(permit(), fire)["word"] == "可以经营"
    assert verdict_of()["code"] == "may_operate"  # registered, nothing licensed to hold
    rectifying = permit(status="under_rectification", reason="限期整改", standing="rectifying")
    partly = verdict_of(rectifying, fire)
    assert (partly["code"], partly["tone"], partly["word"]) == (
        "partly",
        "caution",
        "部分经营项目不可经营",
    )
    refused = permit(
        permit_type="fire_safety", status="invalid", reason="不符合", standing="refused"
    )
    both = verdict_of(rectifying, refused)
    assert (both["code"], both["tone"]) == ("no_permit_in_force", "stop")
    # worst first: the refusal before the rectification
    assert [p["standing"] for p in both["not_in_force"]] == ["refused", "rectifying"]


def test_the_registration_gives_a_verdict_of_its_own() -> None:
    closed = verdict_of(
        permit(),
        status="suspended",
        suspended_from="2026-11-01",
        suspended_until="2026-12-31",
        status_since="2026-11-01",
    )
    assert (closed["code"], closed["word"], closed["tone"]) == (
        "may_not_operate",
        "不可经营",
        "caution",
    )
    assert closed["reason"] == "自 2026-11-01 起休业，预计 2026-12-31 恢复营业"
    assert (
        closed["reason_en"]
        == "closed for business (休业) since 2026-11-01; expected to reopen on 2026-12-31"
    )
    revoked = verdict_of(
        permit(status="invalid", standing="business_exited", reason="主体已退出"),
        status="revoked",
        status_since="2026-11-10",
        status_reason="无照经营",
        status_basis="市场主体登记管理条例第四十四条",
    )
    assert revoked["tone"] == "stop"
    assert (
        revoked["reason"]
        == "营业执照已于 2026-11-10 吊销：无照经营（依据：市场主体登记管理条例第四十四条）"
    )


def test_a_permit_granted_before_the_licence_waits_for_it_and_an_ended_one_shows_no_end_date() -> (
    None
):
    shown = present_licence(licence(permit(), status="establishing"), names=NAMES, today=TODAY)
    (pending,) = shown["permits"]
    assert pending["standing"]["code"] == "pending_licence"
    assert pending["standing"]["word"] == "待营业执照核发后生效"
    assert shown["verdict"]["code"] == "may_not_operate"
    revoked = permit(status="invalid", standing="revoked", reason="吊销 revoked: 违法")
    shown = present_licence(licence(revoked), names=NAMES, today=TODAY)
    (permit_shown,) = shown["permits"]
    assert permit_shown["valid_until"] == "2026-11-17" and permit_shown["shown_end"] is None
    assert status_document(shown, print_version=2)["permits"][0]["valid_to"] is None


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
