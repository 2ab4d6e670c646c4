"""The rules of acceptance (证照分离 modes, credit bars, 容缺, fast track, deadlines) in memory:
no store, no server — the real catalogue and the real working-day calendar."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import acceptance
from domain.errors import Conflict, ValidationFailed
from domain.permit import Permit
from licensing.calendar import WorkingCalendar
from licensing.catalogue import default_catalogue

CATALOGUE = default_catalogue()
CALENDAR = WorkingCalendar.load()
USCC = "91440604MA4W0C0P0X"
TODAY = date(2026, 11, 24)  # a Tuesday, a working day
LISTED = {
    "checked_on": TODAY.isoformat(),
    "listings": [{"id": "L1", "list": "abnormal_operations", "listed_on": "2026-10-01"}],
}
CLEAN = {"checked_on": TODAY.isoformat(), "listings": []}


def _plan(codes: list[str], **overrides: Any) -> acceptance.Plan:
    arguments: dict[str, Any] = {
        "uscc": USCC,
        "permits": [CATALOGUE.permit_type(code) for code in codes],
        "is_new_business": True,
        "commitments": {},
        "credit": CLEAN,
        "fast_track": None,
        "deficiencies": [],
        "today": TODAY,
        "calendar": CALENDAR,
    }
    return acceptance.plan(**(arguments | overrides))


def _letter(code: str) -> dict[str, dict[str, str]]:
    letter = CATALOGUE.permit_type(code).commitment
    assert letter is not None
    return {code: {"version": letter.version, "signed_by": "李测试"}}


def test_a_filing_is_valid_on_the_spot_with_a_system_number() -> None:
    plan = _plan(["prepackaged_food_filing"])
    (task,), (act,) = plan.tasks, plan.permits
    permit_id = Permit.create_id(USCC, "prepackaged_food_filing")
    assert task["state"] == "filed" and task["permit_id"] == permit_id
    assert act.route == "file" and act.valid_from == TODAY
    assert (
        act.number
        == task["permit_number"]
        == acceptance.system_number(act.department, TODAY, permit_id)
    )


def test_a_signed_commitment_is_granted_and_verified_within_its_working_days() -> None:
    rules = CATALOGUE.permit_type("fire_safety_check")
    assert rules.verification_days is not None
    (act,) = _plan(["fire_safety_check"], commitments=_letter("fire_safety_check")).permits
    assert act.route == "commitment" and act.signed_by == "李测试"
    assert act.verification_due == CALENDAR.add_working_days(TODAY, rules.verification_days)


def test_without_a_signed_letter_a_commitment_permit_takes_the_approval_route() -> None:
    (task,) = _plan(["fire_safety_check"]).tasks
    assert task["state"] == "queued"
    assert task["due_on"] == CALENDAR.add_working_days(TODAY, task["promised_days"]).isoformat()


def test_a_cancelled_item_only_informs_its_department() -> None:
    plan = _plan(["tax_registration"])
    assert plan.tasks[0]["state"] == "informed" and plan.tasks[0]["permit_id"] is None
    assert plan.permits == [] and plan.permit_types == []


def test_an_existing_business_does_not_apply_for_its_business_licence_again() -> None:
    plan = _plan(["business_licence", "food_operation"], is_new_business=False)
    assert [t["permit_type"] for t in plan.tasks] == ["food_operation"]


def test_the_fast_track_makes_every_queued_task_due_in_its_target_days() -> None:
    record = acceptance.fast_track_record(
        request={"chain_hq_uscc": USCC, "declaration": "书面声明"},
        credit=CLEAN,
        hq_credit=CLEAN,
        target_days=1,
    )
    plan = _plan(["drug_retail", "food_operation"], fast_track=record)
    tomorrow = CALENDAR.add_working_days(TODAY, 1).isoformat()
    assert {t["due_on"] for t in plan.tasks} == {tomorrow}
    assert {t["promised_days"] for t in plan.tasks} == {1}


def test_a_listed_applicant_takes_neither_commitment_nor_deficiency_route() -> None:
    with pytest.raises(Conflict, match="commitment mode is not available"):
        acceptance.check_credit(
            uscc=USCC, credit=LISTED, commitments=_letter("fire_safety_check"), deficiencies=[]
        )
    with pytest.raises(Conflict, match="容缺受理"):
        acceptance.check_credit(
            uscc=USCC, credit=LISTED, commitments={}, deficiencies=[{"material": "x"}]
        )
    acceptance.check_credit(uscc=USCC, credit=CLEAN, commitments={"x": {}}, deficiencies=[1])


def test_a_listed_chain_headquarters_bars_the_fast_track() -> None:
    with pytest.raises(Conflict, match="the chain headquarters is listed"):
        acceptance.fast_track_record(
            request={"chain_hq_uscc": USCC, "declaration": "x"},
            credit=CLEAN,
            hq_credit=LISTED,
            target_days=1,
        )


def test_what_was_valid_at_receipt_is_checked_again_at_acceptance() -> None:
    rules = {"fire_safety_check": CATALOGUE.permit_type("fire_safety_check")}
    late = [{"material": "房产证明", "supply_by": TODAY.isoformat()}]
    with pytest.raises(Conflict, match="房产证明"):
        acceptance.check_still_valid(rules=rules, commitments={}, deficiencies=late, today=TODAY)
    old = {"fire_safety_check": {"version": "v0-withdrawn", "signed_by": "x"}}
    with pytest.raises(Conflict, match="no longer the published version"):
        acceptance.check_still_valid(rules=rules, commitments=old, deficiencies=[], today=TODAY)
    current = _letter("fire_safety_check")
    acceptance.check_still_valid(rules=rules, commitments=current, deficiencies=[], today=TODAY)


def test_deficiencies_are_named_once_and_promised_within_twenty_working_days() -> None:
    latest = CALENDAR.add_working_days(TODAY, acceptance.DEFICIENCY_LIMIT_DAYS)
    ok = [{"material": "房产证明", "supply_by": latest}]
    assert acceptance.check_deficiencies(ok, today=TODAY, calendar=CALENDAR) == [
        {"material": "房产证明", "supply_by": latest.isoformat()}
    ]
    bad = [
        {"material": "房产证明", "supply_by": latest + timedelta(days=1)},
        {"material": "房产证明", "supply_by": TODAY},
    ]
    with pytest.raises(ValidationFailed) as caught:
        acceptance.check_deficiencies(bad, today=TODAY, calendar=CALENDAR)
    assert [p.name for p in caught.value.problems] == [
        "deficiencies.0.supply_by",
        "deficiencies.1.material",
        "deficiencies.1.supply_by",
    ]


@settings(max_examples=150, deadline=None)
@given(
    codes=st.lists(st.sampled_from(sorted(CATALOGUE.permit_types)), unique=True, max_size=8),
    signed=st.sets(st.sampled_from(["fire_safety_check", "publication_retail", "travel_agency"])),
    new_business=st.booleans(),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
)
def test_every_permit_gets_exactly_one_route_and_every_deadline_is_after_acceptance(
    codes: list[str], signed: set[str], new_business: bool, day: date
) -> None:
    commitments: dict[str, dict[str, str]] = {}
    for code in signed & set(codes):
        commitments |= _letter(code)
    plan = _plan(codes, is_new_business=new_business, commitments=commitments, today=day)
    expected = [c for c in codes if new_business or c != acceptance.BUSINESS_LICENCE]
    assert [t["permit_type"] for t in plan.tasks] == expected
    by_mode = {t["permit_type"]: CATALOGUE.permit_type(t["permit_type"]).mode for t in plan.tasks}
    assert plan.permit_types == [c for c in expected if by_mode[c] != "cancelled"]
    routes = {act.permit_type: act.route for act in plan.permits}
    for task in plan.tasks:
        code, mode = task["permit_type"], by_mode[task["permit_type"]]
        want = {
            "cancelled": ("informed", None),
            "filing": ("filed", "file"),
            "commitment": (
                ("approved_on_commitment", "commitment")
                if code in commitments
                else ("queued", "queue")
            ),
            "approval": ("queued", "queue"),
        }[mode]
        assert (task["state"], routes.get(code)) == want
        if task["state"] == "queued":
            due, statutory = (date.fromisoformat(task[k]) for k in ("due_on", "statutory_due_on"))
            assert day <= due <= statutory
            assert (due > day) == (task["promised_days"] > 0)  # 0 days: decided the same day
