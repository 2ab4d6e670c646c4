"""容缺受理: accepted with a missing material for good credit; missing the date ends it.

Service-layer stories (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.china import today_in_china
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.uscc import make_uscc
from licensing import jobs
from licensing.demo import sample_answers
from licensing.runtime import Runtime
from projections.views import AWAITING_LICENCE
from tests.service import Service
from tests.stories import store_situation, submission

HOTEL = make_uscc("91440615MA4RQ0001")
MATERIAL = "消防设计审查意见书"


def _with_deficiency(runtime: Runtime, uscc: str, supply_by: date) -> dict:
    body = submission(runtime, "open_hotel", uscc, "容缺旅馆")
    body["deficiencies"] = [{"material": MATERIAL, "supply_by": supply_by.isoformat()}]
    return body


def test_a_missing_material_is_accepted_then_supplied(service: Service) -> None:
    runtime = service.runtime
    supply_by = runtime.licensing.calendar.add_working_days(today_in_china(), 5)
    application = service.submit(_with_deficiency(runtime, HOTEL, supply_by))
    assert application["deficiencies"] == {
        MATERIAL: {"supply_by": supply_by.isoformat(), "supplied_on": None}
    }
    supplied = service.supply_material(application["id"], MATERIAL)
    assert supplied["deficiencies"][MATERIAL]["supplied_on"] == today_in_china().isoformat()
    with pytest.raises(Conflict):
        service.supply_material(application["id"], MATERIAL)
    with pytest.raises(NotFound):
        service.supply_material(application["id"], "其他材料")
    assert jobs.lapse_overdue(runtime.licensing, runtime.index()) == []


def test_missing_the_promised_date_ends_the_undecided_part_of_the_application(
    service: Service,
) -> None:
    runtime = service.runtime
    supply_by = runtime.licensing.calendar.add_working_days(today_in_china(), 2)
    application = service.submit(_with_deficiency(runtime, HOTEL, supply_by))
    service.approve(application["id"], "food_operation", "samr", number="F-1")
    runtime.licensing.today = lambda: supply_by + timedelta(days=1)
    receipts = jobs.lapse_overdue(runtime.licensing, runtime.index())
    assert len(receipts) == 1 and jobs.lapse_overdue(runtime.licensing, runtime.index()) == []
    runtime.projector.catch_up()
    lapsed = service.application(application["id"])
    assert lapsed["status"] == "lapsed"
    states = {t["permit_type"]: t["state"] for t in lapsed["tasks"]}
    assert states["food_operation"] == "approved" and states["hotel_special_trade"] == "withdrawn"
    permits = service.permits(HOTEL)
    # Approved, but the business licence never was: not in force (先照后证).
    assert permits["food_operation"]["status"]["word"] == "无效"
    assert permits["food_operation"]["reason"] == AWAITING_LICENCE
    assert permits["hotel_special_trade"]["status"]["word"] == "无效"
    assert MATERIAL in permits["hotel_special_trade"]["reason"]


def test_only_good_credit_and_a_near_date_may_use_it(service: Service) -> None:
    runtime = service.runtime
    before = service.events()
    for supply_by in (today_in_china(), today_in_china() + timedelta(days=90)):
        with pytest.raises(ValidationFailed) as bad:
            service.submit(_with_deficiency(runtime, HOTEL, supply_by))
        assert {p.name for p in bad.value.problems} == {"deficiencies.0.supply_by"}
    assert service.events() == before
    other = make_uscc("91440615MA4RQ0002")
    service.submit(submission(runtime, "open_restaurant", other, "失信饭店"))
    service.list_business(
        other, list_code="abnormal_operations", grounds="未年报", basis="公示条例"
    )
    body = _with_deficiency(
        runtime, other, runtime.licensing.calendar.add_working_days(today_in_china(), 3)
    )
    body["theme"] = "open_convenience_store"
    body["situation"] = store_situation("none", sells_tobacco=True)
    body["answers"] = sample_answers(runtime.catalogue, "open_convenience_store", body["situation"])
    with pytest.raises(Conflict, match="容缺受理"):
        service.submit(body)
