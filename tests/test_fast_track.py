"""守信快批: a credit-qualified chain's pharmacy, accepted once and valid within one working day.

Service-layer stories (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from domain.china import today_in_china
from domain.errors import Conflict, ValidationFailed
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.service import Service
from tests.stories import submission

STORE = make_uscc("91440612MA4PH4RM1")
HQ = make_uscc("91440612MA4CHA1N0")
DECLARATION = "本企业对申报信息、经营条件、材料真实性及违约责任作出书面声明。"


def _pharmacy(runtime: Runtime) -> dict:
    body = submission(runtime, "open_pharmacy", STORE, "连锁药房第88分店")
    body["fast_track"] = {"chain_hq_uscc": HQ, "declaration": DECLARATION}
    return body


def test_a_chain_pharmacy_is_valid_within_one_working_day(service: Service) -> None:
    runtime = service.runtime
    accepted = service.submit(_pharmacy(runtime))
    assert accepted["fast_track"]["target_days"] == 1
    assert accepted["fast_track"]["hq_credit"]["listings"] == []
    tomorrow = runtime.licensing.calendar.add_working_days(today_in_china(), 1).isoformat()
    queued = [t for t in accepted["tasks"] if t["state"] == "queued"]
    assert queued and {t["due_on"] for t in queued} == {tomorrow}
    # One joint acceptance decides every task of the one department concerned.
    decided = service.approve_jointly(accepted["id"], "samr")
    assert decided["status"] == "decided"
    licence = service.licence(STORE)
    assert {p["status"]["word"] for p in licence["permits"]} == {"有效"}
    assert len(licence["permits"]) == 5 and licence["status"]["word"] == "存续"
    # Valid on the day of acceptance, inside the one-working-day target.
    assert {p["valid_from"] for p in licence["permits"]} == {today_in_china().isoformat()}
    with pytest.raises(Conflict):
        service.approve_jointly(accepted["id"], "samr")


def test_the_fast_track_is_closed_to_a_listed_headquarters_and_to_other_themes(
    service: Service,
) -> None:
    runtime = service.runtime
    # The headquarters is itself a registered business, then listed.
    service.submit(submission(runtime, "open_restaurant", HQ, "连锁药房总部"))
    service.list_business(
        HQ, list_code="serious_dishonesty", grounds="销售假药", basis="《药品管理法》"
    )
    before = service.events()
    with pytest.raises(Conflict) as refused:
        service.submit(_pharmacy(runtime))
    assert "chain headquarters" in str(refused.value) and "严重违法失信名单" in str(refused.value)
    other = submission(runtime, "open_restaurant", STORE, "饭店")
    other["fast_track"] = {"chain_hq_uscc": HQ, "declaration": DECLARATION}
    with pytest.raises(ValidationFailed) as wrong_theme:
        service.submit(other)
    assert {p.name for p in wrong_theme.value.problems} == {"fast_track"}
    no_declaration = _pharmacy(runtime)
    no_declaration["fast_track"]["declaration"] = "   "
    with pytest.raises(ValidationFailed):
        service.submit(no_declaration)
    assert service.events() == before
