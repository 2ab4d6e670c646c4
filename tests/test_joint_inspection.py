"""联合勘查: one site visit for all departments that inspect; each records its own finding."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import store_situation, submission, submit

HOTEL = make_uscc("91440613MA4JNT001")


def test_one_joint_inspection_for_every_task_that_inspects_the_site(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk = auth(token("clerk"))
    on = (today_in_china() + timedelta(days=3)).isoformat()
    with httpx.Client(base_url=server) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "勘查旅馆")
        )
        url = f"/api/v1/applications/{application['id']}"
        inspecting = {
            t["permit_type"]: t["department"] for t in application["tasks"] if t["needs_inspection"]
        }
        assert len(inspecting) >= 2
        scheduled = client.post(f"{url}/joint-inspection", json={"on": on}, headers=clerk).json()
        assert scheduled["joint_inspection"]["on"] == on
        assert set(scheduled["joint_inspection"]["permit_types"]) == set(inspecting)
        assert (
            client.post(f"{url}/joint-inspection", json={"on": on}, headers=clerk).status_code
            == 409
        )

        police = auth(token("department", "police"))
        trade = f"{url}/tasks/hotel_special_trade"
        early = client.post(
            f"{trade}/decision", json={"outcome": "approve", "permit_number": "P-1"}, headers=police
        )
        assert early.status_code == 409 and "awaits the joint inspection" in early.json()["detail"]
        # Each department records only its own finding.
        assert (
            client.post(
                f"{trade}/inspection-finding",
                json={"outcome": "pass"},
                headers=auth(token("department", "fire")),
            ).status_code
            == 403
        )
        for permit_type, department in inspecting.items():
            outcome = "fail" if permit_type == "tobacco_retail" else "pass"
            response = client.post(
                f"{url}/tasks/{permit_type}/inspection-finding",
                json={"outcome": outcome, "notes": "现场核查"},
                headers=auth(token("department", department)),
            )
            assert response.status_code == 200, response.text
        assert (
            client.post(
                f"{trade}/decision",
                json={"outcome": "approve", "permit_number": "P-1"},
                headers=police,
            ).status_code
            == 200
        )
        tobacco = auth(token("department", "tobacco"))
        failed = client.post(
            f"{url}/tasks/tobacco_retail/decision",
            json={"outcome": "approve", "permit_number": "T-1"},
            headers=tobacco,
        )
        assert failed.status_code == 409 and "not compliant" in failed.json()["detail"]
        assert (
            client.post(
                f"{url}/tasks/tobacco_retail/decision",
                json={
                    "outcome": "refuse",
                    "reason": "距学校不足50米",
                    "legal_basis": "烟草专卖法实施条例",
                },
                headers=tobacco,
            ).status_code
            == 200
        )
        # Tasks that do not inspect the site were never held up.
        assert (
            client.post(
                f"{url}/tasks/outdoor_signboard/decision",
                json={"outcome": "approve", "permit_number": "U-1"},
                headers=auth(token("department", "urban")),
            ).status_code
            == 200
        )


def test_a_joint_inspection_needs_two_tasks_that_inspect(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    store = make_uscc("91440613MA4JNT002")
    situation = store_situation()
    with httpx.Client(base_url=server) as client:
        application = submit(
            client,
            token("clerk"),
            submission(runtime, "open_convenience_store", store, "小店", situation),
        )
        response = client.post(
            f"/api/v1/applications/{application['id']}/joint-inspection",
            json={"on": today_in_china().isoformat()},
            headers=auth(token("clerk")),
        )
        assert response.status_code == 409 and "two or more" in response.json()["detail"]
