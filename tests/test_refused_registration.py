"""A refused 营业执照: nothing else of the business stands, and it may apply again.

Service-layer stories (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from domain.errors import Conflict
from domain.uscc import make_uscc
from tests.service import Service
from tests.stories import store_situation, submission

STORE = make_uscc("91440610MA4REAP01")
# A filing (有效 on the spot), and tobacco: an approval still under review when the licence
# is refused.
SITUATION = store_situation(sells_tobacco=True)


def _refuse_licence(service: Service, application: dict, *, reason: str, basis: str) -> dict:
    return service.refuse(application["id"], "business_licence", "samr", reason=reason, basis=basis)


def test_a_refused_business_licence_ends_every_permit_and_the_code_can_apply_again(
    service: Service,
) -> None:
    runtime = service.runtime
    first = service.submit(
        submission(runtime, "open_convenience_store", STORE, "重名便利店", SITUATION)
    )
    before = {p: v["status"]["word"] for p, v in service.permits(STORE).items()}
    assert before["prepackaged_food_filing"] == "无效"  # 先照后证: not before the licence
    assert before["tobacco_retail"] == "核查中"

    refused = _refuse_licence(
        service,
        first,
        reason="企业名称与已登记名称近似",
        basis="《企业名称登记管理规定》第十七条",
    )
    assert refused["status"] == "decided"
    tasks = {t["permit_type"]: t for t in refused["tasks"]}
    assert tasks["tobacco_retail"]["state"] == "withdrawn"

    licence = service.licence(STORE)
    assert licence["status"]["code"] == "refused"
    words = {p["permit_type"]: (p["status"]["word"], p["reason"]) for p in licence["permits"]}
    # The filing granted at submission does not outlive the business that never existed.
    assert {w for w, _ in words.values()} == {"无效"}
    assert "企业名称与已登记名称近似" in words["prepackaged_food_filing"][1]
    # Nothing is left waiting on the tobacco department's worklist.
    worklist = service.worklist("tobacco")
    assert [t for t in worklist["tasks"] if t["uscc"] == STORE] == []
    ended = service.worklist("tobacco", status="decided")
    assert [t["state"] for t in ended["tasks"] if t["uscc"] == STORE] == ["withdrawn"]

    # The same code applies again, under a new name, and is established this time.
    second = service.submit(
        submission(runtime, "open_convenience_store", STORE, "新名便利店", SITUATION)
    )
    assert second["id"] != first["id"]
    assert "business_licence" in {t["permit_type"] for t in second["tasks"]}
    service.approve(second["id"], "business_licence", "samr", number="SAMR-2")
    licence = service.licence(STORE)
    assert (licence["name"], licence["status"]["code"]) == ("新名便利店", "active")
    words = {p["permit_type"]: p["status"]["word"] for p in licence["permits"]}
    assert words["prepackaged_food_filing"] == "有效"
    assert words["business_licence"] == "有效"


def test_only_a_refused_registration_is_applied_for_again(service: Service) -> None:
    body = submission(service.runtime, "open_convenience_store", STORE, "在办便利店", SITUATION)
    service.submit(body)
    before = service.events()
    # The permits it is still applying for cannot be applied for twice.
    with pytest.raises(Conflict):
        service.submit(body)
    assert service.events() == before


def test_a_refused_business_licence_also_ends_a_second_application_filed_meanwhile(
    service: Service,
) -> None:
    runtime = service.runtime
    uscc = make_uscc("91440610MA4REAP02")
    first = service.submit(
        submission(runtime, "open_convenience_store", uscc, "双件便利店", SITUATION)
    )
    # While it is being established, the business also applies to open a restaurant.
    second = service.submit(submission(runtime, "open_restaurant", uscc, "双件便利店"))
    assert "business_licence" not in {t["permit_type"] for t in second["tasks"]}
    _refuse_licence(service, first, reason="名称不予登记", basis="《企业名称登记管理规定》")
    after = service.application(second["id"])
    # Nothing is left for a department to decide on a business that does not exist.
    assert after["status"] == "decided"
    assert {t["state"] for t in after["tasks"]} <= {"withdrawn", "informed"}
    fire = service.worklist("fire", state="withdrawn")
    assert [t["state"] for t in fire["tasks"] if t["uscc"] == uscc] == ["withdrawn"]
