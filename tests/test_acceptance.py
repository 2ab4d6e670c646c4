"""受理 / 不予受理: an application the window only received reaches no department until it is
accepted; refused acceptance ends it; left unanswered for five working days, it is accepted
from the day it was received (行政许可法 art. 32)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import httpx

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing import jobs
from licensing.runtime import Runtime
from projections.views import AWAITING_LICENCE
from tests.conftest import auth
from tests.stories import store_situation, submission, submit

STORE = make_uscc("91440610MA4ACC001")
# A filing (有效 the moment it is accepted) and an approval.
SITUATION = store_situation(sells_tobacco=True)


def _received(runtime: Runtime, client: httpx.Client, clerk: str, uscc: str = STORE) -> dict:
    body = submission(runtime, "open_convenience_store", uscc, "收件便利店", SITUATION)
    body["accept_now"] = False
    application = submit(client, clerk, body)
    assert (application["status"], application["tasks"]) == ("received", [])
    return application


def _tobacco_tasks(client: httpx.Client, token: Callable[..., str], uscc: str) -> list[dict]:
    worklist = client.get(
        "/api/v1/departments/tobacco/tasks", headers=auth(token("department", "tobacco"))
    ).json()
    return [t for t in worklist["tasks"] if t["uscc"] == uscc]


def test_a_received_application_reaches_the_departments_only_when_accepted(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        application = _received(runtime, client, token("clerk"))
        url = f"/api/v1/applications/{application['id']}/acceptance"
        # Nothing is dispatched or effective yet: no licence, no worklist entry.
        assert client.get(f"/api/v1/licences/{STORE}").status_code == 404
        assert _tobacco_tasks(client, token, STORE) == []

        # Acceptance is the window's: a department may not accept.
        assert (
            client.post(
                url, json={"decision": "accept"}, headers=auth(token("department", "tobacco"))
            ).status_code
            == 403
        )
        accepted = client.post(url, json={"decision": "accept"}, headers=auth(token("clerk")))
        assert accepted.status_code == 200, accepted.text
        states = {t["permit_type"]: t["state"] for t in accepted.json()["tasks"]}
        assert states["prepackaged_food_filing"] == "filed"
        assert states["tobacco_retail"] == "queued"
        assert accepted.json()["status"] == "in_review"
        assert accepted.json()["credit"]["checked_on"] == today_in_china().isoformat()
        assert [t["state"] for t in _tobacco_tasks(client, token, STORE)] == ["queued"]
        licence = client.get(f"/api/v1/licences/{STORE}").json()
        words = {p["permit_type"]: p["status"]["word"] for p in licence["permits"]}
        # Filed, and in force with the business licence (先照后证).
        assert words["prepackaged_food_filing"] == "无效"
        reasons = {p["permit_type"]: p["reason"] for p in licence["permits"]}
        assert reasons["prepackaged_food_filing"] == AWAITING_LICENCE

        # Accepting twice is a conflict, and writes nothing.
        before = runtime.app.recorder.max_notification_id()
        again = client.post(url, json={"decision": "accept"}, headers=auth(token("clerk")))
        assert again.status_code == 409
        assert runtime.app.recorder.max_notification_id() == before


def test_not_accepted_ends_the_application_with_its_reason_and_nothing_else_is_written(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        application = _received(runtime, client, token("clerk"))
        url = f"/api/v1/applications/{application['id']}/acceptance"
        before = runtime.app.recorder.max_notification_id()
        blank = client.post(
            url,
            json={"decision": "not_accept", "reason": "", "legal_basis": "x"},
            headers=auth(token("clerk")),
        )
        assert blank.status_code == 422
        assert {e["name"] for e in blank.json()["errors"]} == {"reason"}
        unknown = client.post(url, json={"decision": "maybe"}, headers=auth(token("clerk")))
        assert unknown.status_code == 422
        assert runtime.app.recorder.max_notification_id() == before

        refused = client.post(
            url,
            json={
                "decision": "not_accept",
                "reason": "申请事项不属于本机关职权范围",
                "legal_basis": "《行政许可法》第三十二条第一款第（二）项",
            },
            headers=auth(token("clerk")),
        )
        assert refused.status_code == 200, refused.text
        assert refused.json()["status"] == "not_accepted"
        assert refused.json()["not_accepted"]["reason"] == "申请事项不属于本机关职权范围"
        assert client.get(f"/api/v1/licences/{STORE}").status_code == 404
        late = client.post(url, json={"decision": "accept"}, headers=auth(token("clerk")))
        assert late.status_code == 409
        withdraw = client.post(
            f"/api/v1/applications/{application['id']}/withdrawal",
            json={"reason": "不办了"},
            headers=auth(token("clerk")),
        )
        assert withdraw.status_code == 409


def test_a_received_application_can_be_withdrawn(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        application = _received(runtime, client, token("clerk"))
        withdrawn = client.post(
            f"/api/v1/applications/{application['id']}/withdrawal",
            json={"reason": "申请人撤回"},
            headers=auth(token("clerk")),
        )
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["status"] == "withdrawn"
        accept = client.post(
            f"/api/v1/applications/{application['id']}/acceptance",
            json={"decision": "accept"},
            headers=auth(token("clerk")),
        )
        assert accept.status_code == 409


def test_unanswered_for_five_working_days_it_is_accepted_from_the_day_it_was_received(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        application = _received(runtime, client, token("clerk"))
        received_on = today_in_china()
        fifth = runtime.licensing.calendar.add_working_days(received_on, 5)
        runtime.licensing.today = lambda: (
            fifth
        )  # the fifth working day: the window may still answer
        assert jobs.deem_overdue(runtime.licensing, runtime.index()) == []
        runtime.licensing.today = lambda: runtime.licensing.calendar.add_working_days(
            received_on, 6
        )
        receipts = jobs.deem_overdue(runtime.licensing, runtime.index())
        assert len(receipts) == 1
        runtime.projector.wait_for(receipts[0].position, 10)
        accepted = client.get(
            f"/api/v1/applications/{application['id']}", headers=auth(token("clerk"))
        ).json()
        assert accepted["status"] == "in_review"
        tobacco = next(t for t in accepted["tasks"] if t["permit_type"] == "tobacco_retail")
        # The deadlines run from receipt, as if it had been accepted that day.
        promised = runtime.catalogue.permit_type("tobacco_retail").promised_days
        due = runtime.licensing.calendar.add_working_days(received_on, promised)
        assert tobacco["due_on"] == due.isoformat()
        assert jobs.deem_overdue(runtime.licensing, runtime.index()) == []


def test_a_promise_whose_date_passed_before_acceptance_is_not_accepted_as_it_stands(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        body = submission(runtime, "open_convenience_store", STORE, "容缺便利店", SITUATION)
        received_on = today_in_china()
        supply_by = runtime.licensing.calendar.add_working_days(received_on, 1)
        body |= {
            "accept_now": False,
            "deficiencies": [{"material": "房屋租赁合同", "supply_by": supply_by.isoformat()}],
        }
        application = submit(client, token("clerk"), body)
        plain = _received(runtime, client, token("clerk"), make_uscc("91440610MA4ACC002"))
        runtime.licensing.today = lambda: runtime.licensing.calendar.add_working_days(
            received_on, 2
        )
        before = runtime.app.recorder.max_notification_id()
        late = client.post(
            f"/api/v1/applications/{application['id']}/acceptance",
            json={"decision": "accept"},
            headers=auth(token("clerk")),
        )
        assert late.status_code == 409
        assert "房屋租赁合同" in late.json()["detail"] and "不予受理" in late.json()["detail"]
        assert runtime.app.recorder.max_notification_id() == before
        # Nor does the daily job accept it from receipt and lapse it at once: it is left
        # for the window, which must refuse it or take a new submission — and the other
        # application received that day is accepted all the same.
        runtime.licensing.today = lambda: runtime.licensing.calendar.add_working_days(
            received_on, 6
        )
        [receipt] = jobs.deem_overdue(runtime.licensing, runtime.index())
        assert receipt.id == UUID(plain["id"])
        assert runtime.licensing.application(UUID(application["id"])).status == "received"


def test_a_resubmission_after_a_later_acceptance_counts_from_the_acceptance(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        application = _received(runtime, client, token("clerk"))
        received_on = today_in_china()
        accepted_on = runtime.licensing.calendar.add_working_days(received_on, 4)
        runtime.licensing.today = lambda: accepted_on
        url = f"/api/v1/applications/{application['id']}"
        client.post(
            f"{url}/acceptance", json={"decision": "accept"}, headers=auth(token("clerk"))
        ).raise_for_status()
        tobacco = auth(token("department", "tobacco"))
        client.post(
            f"{url}/tasks/tobacco_retail/supplement-request",
            json={"items": ["经营场所证明"], "note": "请补正"},
            headers=tobacco,
        ).raise_for_status()
        # Resubmitted the same day: nothing was paused for a working day, nothing moves.
        resubmitted = client.post(
            f"{url}/resubmission",
            json={"materials": ["经营场所证明.pdf"]},
            headers=auth(token("clerk")),
        )
        assert resubmitted.status_code == 200, resubmitted.text
        task = next(t for t in resubmitted.json()["tasks"] if t["permit_type"] == "tobacco_retail")
        promised = runtime.catalogue.permit_type("tobacco_retail").promised_days
        assert (
            task["due_on"]
            == runtime.licensing.calendar.add_working_days(accepted_on, promised).isoformat()
        )
