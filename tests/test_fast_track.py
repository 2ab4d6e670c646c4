"""守信快批: a credit-qualified chain's pharmacy, accepted once and valid within one working day."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import submission, submit

STORE = make_uscc("91440612MA4PH4RM1")
HQ = make_uscc("91440612MA4CHA1N0")
DECLARATION = "本企业对申报信息、经营条件、材料真实性及违约责任作出书面声明。"


def _pharmacy(runtime: Runtime) -> dict:
    body = submission(runtime, "open_pharmacy", STORE, "连锁药房第88分店")
    body["fast_track"] = {"chain_hq_uscc": HQ, "declaration": DECLARATION}
    return body


def test_a_chain_pharmacy_is_valid_within_one_working_day(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    samr = auth(token("department", "samr"))
    with httpx.Client(base_url=server) as client:
        accepted = submit(client, token("clerk"), _pharmacy(runtime))
        assert accepted["fast_track"]["target_days"] == 1
        assert accepted["fast_track"]["hq_credit"]["listings"] == []
        tomorrow = runtime.licensing.calendar.add_working_days(today_in_china(), 1).isoformat()
        queued = [t for t in accepted["tasks"] if t["state"] == "queued"]
        assert queued and {t["due_on"] for t in queued} == {tomorrow}
        # One joint acceptance decides every task of the one department concerned.
        decided = client.post(f"/api/v1/applications/{accepted['id']}/joint-decision", headers=samr)
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "decided"
        licence = client.get(f"/api/v1/licences/{STORE}").json()
        assert {p["status"]["word"] for p in licence["permits"]} == {"有效"}
        assert len(licence["permits"]) == 5 and licence["status"]["word"] == "存续"
        # Valid on the day of acceptance, inside the one-working-day target.
        assert {p["valid_from"] for p in licence["permits"]} == {today_in_china().isoformat()}
        again = client.post(f"/api/v1/applications/{accepted['id']}/joint-decision", headers=samr)
        assert again.status_code == 409


def test_the_fast_track_is_closed_to_a_listed_headquarters_and_to_other_themes(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        # The headquarters is itself a registered business, then listed.
        submit(client, token("clerk"), submission(runtime, "open_restaurant", HQ, "连锁药房总部"))
        client.post(
            f"/api/v1/credit/{HQ}/listings",
            json={
                "list": "serious_dishonesty",
                "grounds": "销售假药",
                "legal_basis": "《药品管理法》",
            },
            headers=auth(token("credit", sub="c")),
        ).raise_for_status()
        before = runtime.app.recorder.max_notification_id()
        refused = client.post(
            "/api/v1/applications", json=_pharmacy(runtime), headers=auth(token("clerk"))
        )
        assert refused.status_code == 409
        assert (
            "chain headquarters" in refused.json()["detail"]
            and "严重违法失信名单" in refused.json()["detail"]
        )
        other = submission(runtime, "open_restaurant", STORE, "饭店")
        other["fast_track"] = {"chain_hq_uscc": HQ, "declaration": DECLARATION}
        wrong_theme = client.post("/api/v1/applications", json=other, headers=auth(token("clerk")))
        assert wrong_theme.status_code == 422
        assert {e["name"] for e in wrong_theme.json()["errors"]} == {"fast_track"}
        no_declaration = _pharmacy(runtime)
        no_declaration["fast_track"]["declaration"] = "   "
        assert (
            client.post(
                "/api/v1/applications", json=no_declaration, headers=auth(token("clerk"))
            ).status_code
            == 422
        )
        assert runtime.app.recorder.max_notification_id() == before
