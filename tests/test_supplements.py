"""一次性告知: supplement requests from several departments reach the applicant as one notice.

Service-layer stories (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from domain.china import today_in_china
from domain.errors import Conflict, Forbidden, ValidationFailed
from domain.uscc import make_uscc
from projections.views import AWAITING_LICENCE
from tests.service import Service, actor
from tests.stories import submission

RESTAURANT = make_uscc("91440611MA4BUCH01")


def test_three_departments_one_notice_one_resubmission(service: Service) -> None:
    runtime = service.runtime
    asks = {
        "samr": ("food_operation", ["厨房平面布局图"]),
        "water": ("sewage_discharge", ["隔油池设计图", "排水许可申请表"]),
        "urban": ("outdoor_signboard", ["招牌效果图"]),
    }
    application = service.submit(submission(runtime, "open_restaurant", RESTAURANT, "补正饭店"))
    app_id = application["id"]
    due_before = {t["permit_type"]: t["due_on"] for t in application["tasks"]}
    for department, (permit_type, items) in asks.items():
        service.request_supplement(app_id, permit_type, department, items=items, note="请补充")
    # A paused task cannot be decided meanwhile.
    with pytest.raises(Conflict):
        service.approve(app_id, "sewage_discharge", "water", number="W-1")
    notice = service.supplement_notice(app_id)
    assert notice["departments"] == ["samr", "urban", "water"]
    assert {r["permit_type"]: r["items"] for r in notice["requests"]} == dict(asks.values())

    # Three working days pass; one resubmission resumes all three clocks.
    paused_on = today_in_china()
    resume_on = runtime.licensing.calendar.add_working_days(paused_on, 3)
    runtime.licensing.today = lambda: resume_on
    resubmitted = service.resubmit(
        app_id,
        answers={"has_grease_trap": True},
        materials=["厨房平面布局图", "隔油池设计图", "排水许可申请表", "招牌效果图"],
    )
    tasks = {t["permit_type"]: t for t in resubmitted["tasks"]}
    for permit_type, _ in asks.values():
        task = tasks[permit_type]
        assert task["state"] == "queued" and task["supplement"] is None
        assert task["pauses"] == [[paused_on.isoformat(), resume_on.isoformat()]]
        promised = runtime.catalogue.permit_type(permit_type).promised_days
        expected = runtime.licensing.calendar.deadline(
            paused_on, promised, pauses=[(paused_on, resume_on)]
        )
        assert task["due_on"] == expected.isoformat() > due_before[permit_type]
    assert tasks["fire_safety_check"]["due_on"] == due_before["fire_safety_check"]  # never paused
    assert service.supplement_notice(app_id)["requests"] == []
    # Nothing left to resubmit: a conflict; a bad answer: refused by name, nothing written.
    with pytest.raises(Conflict):
        service.resubmit(app_id)
    service.request_supplement(app_id, "food_operation", "samr", items=["从业人员健康证明"])
    before = service.events()
    with pytest.raises(ValidationFailed) as bad:
        service.resubmit(app_id, answers={"premises_area_m2": "big"})
    assert "answers.premises_area_m2" in {p.name for p in bad.value.problems}
    assert service.events() == before
    worklist = service.worklist("water")
    assert worklist["tasks"][0]["due_on"] == tasks["sewage_discharge"]["due_on"]


def test_the_applicant_withdraws_before_decision(service: Service) -> None:
    application = service.submit(
        submission(service.runtime, "open_restaurant", RESTAURANT, "撤回饭店")
    )
    app_id = application["id"]
    service.approve(app_id, "food_operation", "samr", number="F-1")
    with pytest.raises(Forbidden):
        service.withdraw(app_id, reason="x", by=actor("department", "samr"))
    withdrawn = service.withdraw(app_id, reason="选址变更")
    assert withdrawn["status"] == "withdrawn"
    states = {t["permit_type"]: t["state"] for t in withdrawn["tasks"]}
    assert states["food_operation"] == "approved" and states["sewage_discharge"] == "withdrawn"
    permits = service.permits(RESTAURANT)
    # Decided before: it stands, in force with a business licence (先照后证).
    assert permits["food_operation"]["permit_number"]
    assert permits["food_operation"]["reason"] == AWAITING_LICENCE
    assert permits["sewage_discharge"]["status"]["word"] == "无效"
    assert "withdrawn" in permits["sewage_discharge"]["reason"]
    with pytest.raises(Conflict):
        service.withdraw(app_id, reason="again")
