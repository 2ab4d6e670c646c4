"""一次性告知: supplement requests from several departments reach the applicant as one notice."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from projections.views import AWAITING_LICENCE
from tests.conftest import auth
from tests.stories import submission, submit

RESTAURANT = make_uscc("91440611MA4BUCH01")


def test_three_departments_one_notice_one_resubmission(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk = auth(token("clerk"))
    asks = {
        "samr": ("food_operation", ["厨房平面布局图"]),
        "water": ("sewage_discharge", ["隔油池设计图", "排水许可申请表"]),
        "urban": ("outdoor_signboard", ["招牌效果图"]),
    }
    with httpx.Client(base_url=server) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_restaurant", RESTAURANT, "补正饭店")
        )
        app_url = f"/api/v1/applications/{application['id']}"
        due_before = {t["permit_type"]: t["due_on"] for t in application["tasks"]}
        for department, (permit_type, items) in asks.items():
            response = client.post(
                f"{app_url}/tasks/{permit_type}/supplement-request",
                json={"items": items, "note": "请补充"},
                headers=auth(token("department", department)),
            )
            assert response.status_code == 200, response.text
        # A paused task cannot be decided meanwhile.
        blocked = client.post(
            f"{app_url}/tasks/sewage_discharge/decision",
            json={"outcome": "approve", "permit_number": "W-1"},
            headers=auth(token("department", "water")),
        )
        assert blocked.status_code == 409
        notice = client.get(f"{app_url}/supplement-notice", headers=clerk).json()
        assert notice["departments"] == ["samr", "urban", "water"]
        assert {r["permit_type"]: r["items"] for r in notice["requests"]} == dict(asks.values())

        # Three working days pass; one resubmission resumes all three clocks.
        paused_on = today_in_china()
        resume_on = runtime.licensing.calendar.add_working_days(paused_on, 3)
        runtime.licensing.today = lambda: resume_on
        resubmitted = client.post(
            f"{app_url}/resubmission",
            json={
                "answers": {"has_grease_trap": True},
                "materials": ["厨房平面布局图", "隔油池设计图", "排水许可申请表", "招牌效果图"],
            },
            headers=clerk,
        ).json()
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
        assert (
            tasks["fire_safety_check"]["due_on"] == due_before["fire_safety_check"]
        )  # never paused
        assert client.get(f"{app_url}/supplement-notice", headers=clerk).json()["requests"] == []
        # Nothing left to resubmit: a conflict; a bad answer: 422, nothing written.
        assert client.post(f"{app_url}/resubmission", json={}, headers=clerk).status_code == 409
        client.post(
            f"{app_url}/tasks/food_operation/supplement-request",
            json={"items": ["从业人员健康证明"]},
            headers=auth(token("department", "samr")),
        )
        before = runtime.app.recorder.max_notification_id()
        bad = client.post(
            f"{app_url}/resubmission", json={"answers": {"premises_area_m2": "big"}}, headers=clerk
        )
        assert bad.status_code == 422 and "answers.premises_area_m2" in {
            e["name"] for e in bad.json()["errors"]
        }
        assert runtime.app.recorder.max_notification_id() == before
        worklist = client.get(
            "/api/v1/departments/water/tasks", headers=auth(token("department", "water"))
        )
        assert worklist.json()["tasks"][0]["due_on"] == tasks["sewage_discharge"]["due_on"]


def test_the_applicant_withdraws_before_decision(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk = auth(token("clerk"))
    with httpx.Client(base_url=server) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_restaurant", RESTAURANT, "撤回饭店")
        )
        app_url = f"/api/v1/applications/{application['id']}"
        client.post(
            f"{app_url}/tasks/food_operation/decision",
            json={"outcome": "approve", "permit_number": "F-1"},
            headers=auth(token("department", "samr")),
        ).raise_for_status()
        assert (
            client.post(
                f"{app_url}/withdrawal",
                json={"reason": "x"},
                headers=auth(token("department", "samr")),
            ).status_code
            == 403
        )
        withdrawn = client.post(
            f"{app_url}/withdrawal", json={"reason": "选址变更"}, headers=clerk
        ).json()
        assert withdrawn["status"] == "withdrawn"
        states = {t["permit_type"]: t["state"] for t in withdrawn["tasks"]}
        assert states["food_operation"] == "approved" and states["sewage_discharge"] == "withdrawn"
        permits = {
            p["permit_type"]: p
            for p in client.get(f"/api/v1/licences/{RESTAURANT}").json()["permits"]
        }
        # Decided before: it stands, in force with a business licence (先照后证).
        assert permits["food_operation"]["permit_number"]
        assert permits["food_operation"]["reason"] == AWAITING_LICENCE
        assert permits["sewage_discharge"]["status"]["word"] == "无效"
        assert "withdrawn" in permits["sewage_discharge"]["reason"]
        again = client.post(f"{app_url}/withdrawal", json={"reason": "again"}, headers=clerk)
        assert again.status_code == 409
