"""联合勘查: one site visit for all departments that inspect; each records its own finding.

Service-layer stories (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.china import today_in_china
from domain.errors import Conflict, Forbidden
from domain.uscc import make_uscc
from tests.service import Service
from tests.stories import store_situation, submission

HOTEL = make_uscc("91440613MA4JNT001")


def test_one_joint_inspection_for_every_task_that_inspects_the_site(service: Service) -> None:
    on = today_in_china() + timedelta(days=3)
    application = service.submit(submission(service.runtime, "open_hotel", HOTEL, "勘查旅馆"))
    app_id = application["id"]
    inspecting = {
        t["permit_type"]: t["department"] for t in application["tasks"] if t["needs_inspection"]
    }
    assert len(inspecting) >= 2
    scheduled = service.schedule_joint_inspection(app_id, on=on)
    assert scheduled["joint_inspection"]["on"] == on.isoformat()
    assert set(scheduled["joint_inspection"]["permit_types"]) == set(inspecting)
    with pytest.raises(Conflict):
        service.schedule_joint_inspection(app_id, on=on)

    with pytest.raises(Conflict, match="awaits the joint inspection"):
        service.approve(app_id, "hotel_special_trade", "police", number="P-1")
    # Each department records only its own finding.
    with pytest.raises(Forbidden):
        service.record_finding(app_id, "hotel_special_trade", "fire", passed=True, notes="")
    for permit_type, department in inspecting.items():
        service.record_finding(
            app_id,
            permit_type,
            department,
            passed=permit_type != "tobacco_retail",
            notes="现场核查",
        )
    service.approve(app_id, "hotel_special_trade", "police", number="P-1")
    with pytest.raises(Conflict, match="not compliant"):
        service.approve(app_id, "tobacco_retail", "tobacco", number="T-1")
    service.refuse(
        app_id, "tobacco_retail", "tobacco", reason="距学校不足50米", basis="烟草专卖法实施条例"
    )
    # Tasks that do not inspect the site were never held up.
    service.approve(app_id, "outdoor_signboard", "urban", number="U-1")


def test_a_joint_inspection_needs_two_tasks_that_inspect(service: Service) -> None:
    store = make_uscc("91440613MA4JNT002")
    application = service.submit(
        submission(service.runtime, "open_convenience_store", store, "小店", store_situation())
    )
    with pytest.raises(Conflict, match="two or more"):
        service.schedule_joint_inspection(application["id"], on=today_in_china())
