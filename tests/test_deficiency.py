"""容缺受理: accepted with a missing material for good credit; missing the date ends it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import httpx

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing import jobs
from licensing.demo import sample_answers
from licensing.runtime import Runtime
from projections.views import AWAITING_LICENCE
from tests.conftest import auth
from tests.stories import store_situation, submission, submit

HOTEL = make_uscc("91440615MA4RQ0001")
MATERIAL = "消防设计审查意见书"


def _with_deficiency(runtime: Runtime, uscc: str, supply_by: date) -> dict:
    body = submission(runtime, "open_hotel", uscc, "容缺旅馆")
    body["deficiencies"] = [{"material": MATERIAL, "supply_by": supply_by.isoformat()}]
    return body


def test_a_missing_material_is_accepted_then_supplied(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    clerk = auth(token("clerk"))
    supply_by = runtime.licensing.calendar.add_working_days(today_in_china(), 5)
    with httpx.Client(base_url=server) as client:
        application = submit(client, token("clerk"), _with_deficiency(runtime, HOTEL, supply_by))
        assert application["deficiencies"] == {
            MATERIAL: {"supply_by": supply_by.isoformat(), "supplied_on": None}
        }
        url = f"/api/v1/applications/{application['id']}/materials/{MATERIAL}"
        supplied = client.post(url, headers=clerk).json()
        assert supplied["deficiencies"][MATERIAL]["supplied_on"] == today_in_china().isoformat()
        assert client.post(url, headers=clerk).status_code == 409
        assert (
            client.post(
                f"/api/v1/applications/{application['id']}/materials/其他材料", headers=clerk
            ).status_code
            == 404
        )
    assert jobs.lapse_overdue(runtime.licensing, runtime.index()) == []


def test_missing_the_promised_date_ends_the_undecided_part_of_the_application(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    supply_by = runtime.licensing.calendar.add_working_days(today_in_china(), 2)
    with httpx.Client(base_url=server) as client:
        application = submit(client, token("clerk"), _with_deficiency(runtime, HOTEL, supply_by))
        client.post(
            f"/api/v1/applications/{application['id']}/tasks/food_operation/decision",
            json={"outcome": "approve", "permit_number": "F-1"},
            headers=auth(token("department", "samr")),
        ).raise_for_status()
        runtime.licensing.today = lambda: supply_by + timedelta(days=1)
        receipts = jobs.lapse_overdue(runtime.licensing, runtime.index())
        assert len(receipts) == 1 and jobs.lapse_overdue(runtime.licensing, runtime.index()) == []
        runtime.settle(receipts[0].position)
        lapsed = client.get(
            f"/api/v1/applications/{application['id']}", headers=auth(token("clerk"))
        ).json()
        assert lapsed["status"] == "lapsed"
        states = {t["permit_type"]: t["state"] for t in lapsed["tasks"]}
        assert (
            states["food_operation"] == "approved" and states["hotel_special_trade"] == "withdrawn"
        )
        permits = {
            p["permit_type"]: p for p in client.get(f"/api/v1/licences/{HOTEL}").json()["permits"]
        }
        # Approved, but the business licence never was: not in force (先照后证).
        assert permits["food_operation"]["status"]["word"] == "无效"
        assert permits["food_operation"]["reason"] == AWAITING_LICENCE
        assert permits["hotel_special_trade"]["status"]["word"] == "无效"
        assert MATERIAL in permits["hotel_special_trade"]["reason"]


def test_only_good_credit_and_a_near_date_may_use_it(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        before = runtime.app.recorder.max_notification_id()
        for supply_by in (today_in_china(), today_in_china() + timedelta(days=90)):
            bad = client.post(
                "/api/v1/applications",
                json=_with_deficiency(runtime, HOTEL, supply_by),
                headers=auth(token("clerk")),
            )
            assert bad.status_code == 422
            assert {e["name"] for e in bad.json()["errors"]} == {"deficiencies.0.supply_by"}
        assert runtime.app.recorder.max_notification_id() == before
        other = make_uscc("91440615MA4RQ0002")
        submit(client, token("clerk"), submission(runtime, "open_restaurant", other, "失信饭店"))
        client.post(
            f"/api/v1/credit/{other}/listings",
            json={"list": "abnormal_operations", "grounds": "未年报", "legal_basis": "公示条例"},
            headers=auth(token("credit", sub="c")),
        ).raise_for_status()
        body = _with_deficiency(
            runtime, other, runtime.licensing.calendar.add_working_days(today_in_china(), 3)
        )
        body["theme"] = "open_convenience_store"
        body["situation"] = store_situation("none", sells_tobacco=True)
        body["answers"] = sample_answers(
            runtime.catalogue, "open_convenience_store", body["situation"]
        )
        refused = client.post("/api/v1/applications", json=body, headers=auth(token("clerk")))
        assert refused.status_code == 409 and "容缺受理" in refused.json()["detail"]
