"""The department's desk: each department reads its own part of an application and nothing
else, personal data only where its permit needs it (every read in the audit trail), and its
officers claim, release and take over tasks on a worklist that pages and filters."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest

from domain.actor import Actor
from domain.errors import Conflict, Forbidden
from domain.uscc import make_uscc
from licensing import review, window
from licensing.runtime import Runtime
from licensing.window import BusinessDetails
from tests.conftest import auth
from tests.stories import APPLICANT, LEGAL_REP, submission, submit

HOTEL = make_uscc("91440616MA4DE5K01")
# Never in a task view; in the personal-data answer only where the permit needs it.
PRIVATE = (LEGAL_REP["id_number"], LEGAL_REP["mobile"], APPLICANT["email"])


def _distinct_answers(runtime: Runtime, body: dict[str, Any]) -> dict[str, Any]:
    """Every text answer unique to its field, so that a field's answer found in a view shows
    which field leaked."""
    for code in body["answers"]:
        if runtime.catalogue.fields[code].type in ("string", "text"):
            body["answers"][code] = f"答{code}"
    return body


def _hotel(client: httpx.Client, runtime: Runtime, clerk: str, uscc: str = HOTEL) -> Any:
    return submit(
        client,
        clerk,
        _distinct_answers(runtime, submission(runtime, "open_hotel", uscc, "办件旅馆")),
    )


def test_each_of_the_hotels_seven_departments_reads_only_its_own_part_and_decides(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    catalogue = runtime.catalogue
    theme_fields = {
        use.code
        for p in catalogue.all_permits("open_hotel")
        for use in catalogue.permit_types[p].fields
    }
    started = datetime.now(UTC)
    reads: list[tuple[str, str, str, list[str]]] = []
    with httpx.Client(base_url=server, timeout=30) as client:
        application = _hotel(client, runtime, token("clerk"))
        departments = sorted({t["department"] for t in application["tasks"]})
        assert len(departments) == 7
        for department in departments:
            officer = f"{department}-officer"
            bearer = auth(token("department", department, sub=officer))
            worklist = client.get(f"/api/v1/departments/{department}/tasks", headers=bearer).json()
            mine = [t for t in worklist["tasks"] if t["application_id"] == application["id"]]
            assert mine and {t["state"] for t in mine} == {"queued"}
            for row in mine:
                permit_type = row["permit_type"]
                rules = catalogue.permit_types[permit_type]
                # The worklist's link opens the department's own view (it used to be a 403).
                response = client.get(row["links"]["task"], headers=bearer)
                assert response.status_code == 200, response.text
                view = response.json()
                assert (view["permit_type"], view["department"]) == (permit_type, department)
                assert view["business"]["uscc"] == HOTEL and view["business"]["name"] == "办件旅馆"
                assert view["business"]["registered_capital"] == "300000.00"
                assert view["credit"]["listings"] == []
                # A paper file (no uploads): its permit's materials, each checked on paper.
                asked = {use.code for use in rules.materials}
                assert {m["code"] for m in view["materials"]} <= asked
                assert all(m["status"] == "on_paper" for m in view["materials"])
                # Its permit's fields, all of them, in the catalogue's order, and no other.
                own = [use.code for use in rules.fields]
                assert [a["code"] for a in view["answers"]] == own
                for code in theme_fields - set(own):
                    assert f'"{code}"' not in response.text and f"答{code}" not in response.text
                assert [h["what"] for h in view["history"]] == ["dispatched"]
                assert view["deadlines"]["due_on"] == row["due_on"]
                assert not any(secret in response.text for secret in PRIVATE)
                # Personal data only where its permit needs it; each read is logged.
                personal = client.get(view["links"]["personal_data"], headers=bearer)
                if rules.personal_data:
                    assert personal.status_code == 200, personal.text
                    assert personal.headers["cache-control"] == "no-store"
                    data = personal.json()
                    assert data["items"] == view["personal_data"]["items"]
                    has_rep = "legal_representative" in rules.personal_data
                    has_contact = "applicant_contact" in rules.personal_data
                    assert (data["legal_representative"] == LEGAL_REP) is has_rep
                    assert (data["legal_representative"] is None) is not has_rep
                    assert (data["applicant"] == APPLICANT) is has_contact
                    assert (data["applicant"] is None) is not has_contact
                    reads.append((officer, department, permit_type, data["items"]))
                else:
                    assert view["personal_data"] is None
                    assert personal.status_code == 403
                    assert "needs no personal data" in personal.json()["detail"]
                decided = client.post(
                    row["links"]["decision"],
                    json={"outcome": "approve", "permit_number": f"{department}-{permit_type}"},
                    headers=bearer,
                )
                assert decided.status_code == 200, decided.text
                after = client.get(row["links"]["task"], headers=bearer).json()
                assert after["state"] == "approved" and after["decision"]["decided_by"] == officer
                assert [h["what"] for h in after["history"]] == ["dispatched", "approved"]
        assert {"business_licence", "hotel_special_trade", "tobacco_retail"} <= {
            r[2] for r in reads
        }
        # The clerk still sees the whole application.
        whole = client.get(
            f"/api/v1/applications/{application['id']}", headers=auth(token("clerk"))
        ).json()
        assert whole["status"] == "decided" and len(whole["tasks"]) == 9

        # Every read of personal data is in the licence's audit trail: who, when, what.
        trail = client.get(
            f"/api/v1/licences/{HOTEL}/history", headers=auth(token("clerk"))
        ).json()["events"]
        logged = [e for e in trail if e["what"] == "PersonalDataRead"]
        assert [
            (
                e["actor"]["id"],
                e["actor"]["department"],
                e["details"]["permit_type"],
                e["details"]["items"],
            )
            for e in logged
        ] == reads
        assert {e["subject"] for e in logged} == {f"access:{application['id']}"}
        for entry in logged:
            assert started <= datetime.fromisoformat(entry["at"]) <= datetime.now(UTC)
        assert not any(secret in json.dumps(trail) for secret in PRIVATE)


def test_another_department_or_one_without_a_task_is_refused(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        application = _hotel(client, runtime, token("clerk"))
        task = f"{application['id']}/hotel_special_trade"
        police, fire, culture = (
            auth(token("department", d)) for d in ("police", "fire", "culture")
        )
        assert (
            client.get(f"/api/v1/departments/police/tasks/{task}", headers=police).status_code
            == 200
        )
        refusals = [
            # Another department, on its own desk's path or on the owner's.
            (f"/api/v1/departments/fire/tasks/{task}", fire),
            (f"/api/v1/departments/police/tasks/{task}", fire),
            (f"/api/v1/departments/fire/tasks/{task}/personal-data", fire),
            # A department with no task on this application at all.
            (f"/api/v1/departments/culture/tasks/{application['id']}/entertainment_venue", culture),
            (f"/api/v1/departments/culture/tasks/{task}", culture),
            # A clerk is not a department.
            (f"/api/v1/departments/police/tasks/{task}", auth(token("clerk"))),
        ]
        for path, bearer in refusals:
            response = client.get(path, headers=bearer)
            assert response.status_code == 403, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        for act in ("claim", "release"):
            refused = client.post(
                f"/api/v1/applications/{task.replace('/', '/tasks/')}/{act}", headers=fire
            )
            assert refused.status_code == 403, refused.text
        missing = client.get(
            f"/api/v1/departments/police/tasks/{UUID(int=7)}/hotel_special_trade", headers=police
        )
        assert missing.status_code == 404
        # None of these refusals was logged as a read.
        trail = client.get(f"/api/v1/licences/{HOTEL}/history", headers=auth(token("clerk")))
        assert [e for e in trail.json()["events"] if e["what"] == "PersonalDataRead"] == []


def test_a_claimed_task_is_decided_by_its_claimant_or_taken_over_on_the_record(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    wang, zhao = (
        auth(token("department", "police", sub=s)) for s in ("police-wang", "police-zhao")
    )
    with httpx.Client(base_url=server, timeout=30) as client:
        application = _hotel(client, runtime, token("clerk"))
        acts = f"/api/v1/applications/{application['id']}/tasks/hotel_special_trade"
        view = f"/api/v1/departments/police/tasks/{application['id']}/hotel_special_trade"

        claimed = client.post(f"{acts}/claim", headers=wang)
        assert claimed.status_code == 200, claimed.text
        task = next(t for t in claimed.json()["tasks"] if t["permit_type"] == "hotel_special_trade")
        assert task["claimed_by"] == "police-wang"
        version = claimed.json()["version"]
        # Claiming one's own claim again changes nothing.
        again = client.post(f"{acts}/claim", headers=wang)
        assert again.status_code == 200 and again.json()["version"] == version
        row = client.get("/api/v1/departments/police/tasks", headers=zhao).json()["tasks"][0]
        assert row["claimed_by"] == "police-wang" and row["claimed_at"]

        # Another officer of the same department may not act on it, and is told whose it is.
        for path, body in (
            ("decision", {"outcome": "approve", "permit_number": "P-9"}),
            ("supplement-request", {"items": ["平面图"], "note": "请补充"}),
            ("claim", None),
            ("release", None),
        ):
            refused = client.post(f"{acts}/{path}", json=body, headers=zhao)
            assert refused.status_code == 409, (path, refused.text)
            assert "police-wang" in refused.json()["detail"], path
        # Taking over needs a reason; with one it is recorded, with whose claim it was.
        assert client.post(f"{acts}/takeover", json={}, headers=zhao).status_code == 422
        assert (
            client.post(f"{acts}/takeover", json={"reason": "王休假"}, headers=wang).status_code
            == 409
        )
        taken = client.post(f"{acts}/takeover", json={"reason": "王休假，赵接办"}, headers=zhao)
        assert taken.status_code == 200, taken.text
        shown = client.get(view, headers=zhao).json()
        assert shown["claimed_by"] == "police-zhao"
        assert [(h["what"], h["actor"]["id"]) for h in shown["history"]] == [
            ("dispatched", "clerk-x"),
            ("claimed", "police-wang"),
            ("taken_over", "police-zhao"),
        ]
        assert shown["history"][-1]["details"] == {
            "reason": "王休假，赵接办",
            "previous": "police-wang",
        }
        assert shown["claimed_at"] == shown["history"][-1]["at"]
        # Now the first officer is the one refused.
        late = client.post(
            f"{acts}/decision", json={"outcome": "approve", "permit_number": "P-1"}, headers=wang
        )
        assert late.status_code == 409 and "police-zhao" in late.json()["detail"]
        decided = client.post(
            f"{acts}/decision", json={"outcome": "approve", "permit_number": "P-2"}, headers=zhao
        )
        assert decided.status_code == 200, decided.text
        final = client.get(view, headers=zhao).json()
        assert final["decision"] == {
            "state": "approved",
            "permit_number": "P-2",
            "reason": "准予许可 approved",
            "legal_basis": None,
            "decided_by": "police-zhao",
        }
        # A decided task is no one's to claim, release or take over; its 办理人 stays.
        for path, body in (("claim", None), ("takeover", {"reason": "复核"})):
            assert client.post(f"{acts}/{path}", json=body, headers=wang).status_code == 409
        assert client.post(f"{acts}/release", headers=zhao).status_code == 409
        assert final["claimed_by"] == "police-zhao"

        # Release: a claimed task goes back to the department's pool.
        tobacco = auth(token("department", "tobacco", sub="tobacco-li"))
        retail = f"/api/v1/applications/{application['id']}/tasks/tobacco_retail"
        assert client.post(f"{retail}/claim", headers=tobacco).status_code == 200
        released = client.post(f"{retail}/release", headers=tobacco)
        assert released.status_code == 200
        assert {t["permit_type"]: t["claimed_by"] for t in released.json()["tasks"]}[
            "tobacco_retail"
        ] is None
        pool = client.get(
            "/api/v1/departments/tobacco/tasks", params={"unclaimed": True}, headers=tobacco
        ).json()
        assert [t["permit_type"] for t in pool["tasks"]] == ["tobacco_retail"]


def test_the_worklist_pages_and_filters(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    water = auth(token("department", "water", sub="water-chen"))
    url = "/api/v1/departments/water/tasks"

    def listed(**params: Any) -> dict[str, Any]:
        response = client.get(url, params=params, headers=water)
        assert response.status_code == 200, response.text
        return response.json()

    with httpx.Client(base_url=server, timeout=30) as client:
        clerk = token("clerk")
        hotels = [
            _hotel(client, runtime, clerk, make_uscc(f"91440616MA4PAGE0{n}")) for n in range(3)
        ]
        restaurant = submit(
            client,
            clerk,
            submission(runtime, "open_restaurant", make_uscc("91440616MA4PAGE09"), "分页饭店"),
        )
        ids = [a["id"] for a in (*hotels, restaurant)]

        everything = listed()
        assert everything["total"] == 4 and everything["limit"] == 100
        assert {t["application_id"] for t in everything["tasks"]} == set(ids)
        pages = [listed(limit=3, offset=0), listed(limit=3, offset=3)]
        assert [p["total"] for p in pages] == [4, 4]
        assert [len(p["tasks"]) for p in pages] == [3, 1]
        paged = [t["application_id"] for p in pages for t in p["tasks"]]
        assert paged == [t["application_id"] for t in everything["tasks"]]
        assert listed(offset=10)["tasks"] == [] and listed(offset=10)["total"] == 4

        assert [t["application_id"] for t in listed(theme="open_restaurant")["tasks"]] == [ids[3]]
        assert listed(theme="open_hotel")["total"] == 3

        sewage = f"/api/v1/applications/{ids[0]}/tasks/sewage_discharge"
        assert client.post(f"{sewage}/claim", headers=water).status_code == 200
        mine = listed(officer="water-chen")
        assert [t["application_id"] for t in mine["tasks"]] == [ids[0]]
        assert mine["tasks"][0]["claimed_by"] == "water-chen"
        assert listed(unclaimed=True)["total"] == 3
        assert listed(officer="water-nobody")["total"] == 0

        # Open tasks by default; decided ones on request.
        decided = client.post(
            f"{sewage}/decision", json={"outcome": "approve", "permit_number": "W-1"}, headers=water
        )
        assert decided.status_code == 200
        paused = client.post(
            f"/api/v1/applications/{ids[1]}/tasks/sewage_discharge/supplement-request",
            json={"items": ["排水图"], "note": "请补充"},
            headers=water,
        )
        assert paused.status_code == 200
        assert {t["application_id"]: t["state"] for t in listed()["tasks"]} == {
            ids[1]: "supplement_requested",
            ids[2]: "queued",
            ids[3]: "queued",
        }
        assert [t["application_id"] for t in listed(status="decided")["tasks"]] == [ids[0]]
        assert listed(status="all")["total"] == 4
        assert [t["application_id"] for t in listed(state="approved")["tasks"]] == [ids[0]]
        assert [t["application_id"] for t in listed(state="supplement_requested")["tasks"]] == [
            ids[1]
        ]
        assert listed(state="approved", status="open")["tasks"] == []
        assert listed(officer="water-chen", status="decided")["total"] == 1
        # The officer's own work: what they claimed, and what they decided without a claim.
        unclaimed_decision = client.post(
            f"/api/v1/applications/{ids[3]}/tasks/sewage_discharge/decision",
            json={"outcome": "refuse", "reason": "无隔油池", "legal_basis": "条例第二十一条"},
            headers=water,
        )
        assert unclaimed_decision.status_code == 200
        assert {
            t["application_id"] for t in listed(officer="water-chen", status="all")["tasks"]
        } == {
            ids[0],
            ids[3],
        }

        # Overdue: queued and past the promised date (a paused clock is stopped).
        assert listed(overdue=True)["total"] == 0
        late = date.fromisoformat(listed()["tasks"][-1]["due_on"]) + timedelta(days=1)
        runtime.licensing.today = lambda: late
        overdue = listed(overdue=True)
        assert [t["application_id"] for t in overdue["tasks"]] == [ids[2]]
        assert all(t["overdue"] for t in overdue["tasks"])
        assert listed(overdue=True, theme="open_restaurant")["total"] == 0
        assert listed(overdue=True, theme="open_hotel")["total"] == 1

        for bad in ({"status": "closed"}, {"state": "lost"}, {"limit": 0}, {"offset": -1}):
            refused = client.get(url, params=bad, headers=water)
            assert refused.status_code == 422, bad
            assert refused.json()["errors"][0]["name"] == next(iter(bad))


def test_the_view_shows_its_history_with_pauses_and_only_its_own_answers_resubmitted(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    water = auth(token("department", "water", sub="water-chen"))
    clerk = auth(token("clerk"))
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client,
            token("clerk"),
            submission(runtime, "open_restaurant", make_uscc("91440616MA4H15T01"), "历史饭店"),
        )
        here = f"/api/v1/applications/{application['id']}"
        view = f"/api/v1/departments/water/tasks/{application['id']}/sewage_discharge"
        for department, permit_type in (
            ("water", "sewage_discharge"),
            ("urban", "outdoor_signboard"),
        ):
            asked = client.post(
                f"{here}/tasks/{permit_type}/supplement-request",
                json={"items": ["补充图"], "note": "请补充"},
                headers=water if department == "water" else auth(token("department", "urban")),
            )
            assert asked.status_code == 200, asked.text
        paused = client.get(view, headers=water).json()
        assert paused["deadlines"]["paused"] is True and paused["supplement"]["items"] == ["补充图"]
        assert paused["deadlines"]["pauses"][0][1] is None
        resumed_on = runtime.licensing.calendar.add_working_days(runtime.licensing.today(), 2)
        runtime.licensing.today = lambda: resumed_on
        resubmitted = client.post(
            f"{here}/resubmission",
            json={
                "answers": {"has_grease_trap": False, "signboard_text": "新招牌"},
                "materials": ["补充图"],
            },
            headers=clerk,
        )
        assert resubmitted.status_code == 200, resubmitted.text
        shown = client.get(view, headers=water)
        body = shown.json()
        assert [h["what"] for h in body["history"]] == [
            "dispatched",
            "supplement_requested",
            "resubmitted",
        ]
        again = body["history"][-1]["details"]
        # Only its own field's change: the signboard's text is the urban department's business.
        assert again["answers"] == {"has_grease_trap": False} and "新招牌" not in shown.text
        assert (
            again["on"] == resumed_on.isoformat() and again["due_on"] == body["deadlines"]["due_on"]
        )
        assert body["deadlines"]["paused"] is False
        assert body["deadlines"]["pauses"][0][1] == resumed_on.isoformat()
        assert {a["code"]: a["value"] for a in body["answers"]}["has_grease_trap"] is False
        assert body["deadlines"]["due_on"] > application_due(application, "sewage_discharge")


def application_due(application: dict[str, Any], permit_type: str) -> str:
    return str(next(t["due_on"] for t in application["tasks"] if t["permit_type"] == permit_type))


# --- the service, without HTTP --------------------------------------------------------------


def _submit_hotel(runtime: Runtime, uscc: str, **extra: Any) -> UUID:
    clerk = Actor(id="clerk-1", role="clerk", district="chancheng")
    body = submission(runtime, "open_hotel", uscc, "服务旅馆")
    business = body["business"]
    receipt = window.submit(
        runtime.licensing,
        theme="open_hotel",
        business=BusinessDetails(
            **{**business, "registered_capital": Decimal(business["registered_capital"])}
        ),
        applicant=body["applicant"],
        answers=body["answers"],
        actor=clerk,
        **extra,
    )
    return receipt.id


def test_a_claim_binds_the_inspection_finding_too_and_reads_are_logged_apart(
    runtime: Runtime,
) -> None:
    """Service level: the claimant rule covers the joint inspection's finding; a read of
    personal data is logged without changing the application's version (the clerk's If-Match
    stays good)."""
    application_id = _submit_hotel(runtime, make_uscc("91440616MA4W0RK01"))
    lic = runtime.licensing
    clerk = Actor(id="clerk-1", role="clerk", district="chancheng")
    wang = Actor(id="police-wang", role="department", department="police")
    zhao = Actor(id="police-zhao", role="department", department="police")
    window.schedule_joint_inspection(
        lic, application_id=application_id, actor=clerk, on=lic.today() + timedelta(days=2)
    )
    review.claim(lic, application_id=application_id, permit_type="hotel_special_trade", actor=wang)
    with pytest.raises(Conflict, match="police-wang"):
        review.record_finding(
            lic,
            application_id=application_id,
            permit_type="hotel_special_trade",
            actor=zhao,
            passed=True,
            notes="现场合格",
        )
    review.record_finding(
        lic,
        application_id=application_id,
        permit_type="hotel_special_trade",
        actor=wang,
        passed=True,
        notes="现场合格",
    )
    version = lic.application(application_id).version
    review.read_personal_data(
        lic, application_id=application_id, permit_type="hotel_special_trade", actor=zhao
    )
    assert lic.application(application_id).version == version
    with pytest.raises(Forbidden):
        review.read_personal_data(
            lic, application_id=application_id, permit_type="fire_safety_check", actor=zhao
        )
    fire = Actor(id="fire-1", role="department", department="fire")
    with pytest.raises(Forbidden, match="needs no personal data"):
        review.read_personal_data(
            lic, application_id=application_id, permit_type="fire_safety_check", actor=fire
        )
    # The worklist projection follows the claim.
    rows, total = runtime.index().tasks("police", officer="police-wang")
    assert total == 1 and rows[0]["claimed_by"] == "police-wang"


def test_a_commitment_signed_for_the_permit_shows_on_its_departments_view(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    fire = auth(token("department", "fire"))
    with httpx.Client(base_url=server, timeout=30) as client:
        body = submission(runtime, "open_hotel", make_uscc("91440616MA4CMT001"), "承诺旅馆")
        body["commitments"] = {"fire_safety_check": {"version": "2025.1", "signed_by": "李测试"}}
        application = submit(client, token("clerk"), body)
        shown = client.get(
            f"/api/v1/departments/fire/tasks/{application['id']}/fire_safety_check", headers=fire
        ).json()
        assert shown["state"] == "approved_on_commitment" and shown["mode"] == "commitment"
        commitment = shown["commitment"]
        assert (commitment["version"], commitment["signed_by"]) == ("2025.1", "李测试")
        assert commitment["verification_due"] > runtime.licensing.today().isoformat()
        # Settled at submission: nothing open on its worklist, the task among the decided.
        assert client.get("/api/v1/departments/fire/tasks", headers=fire).json()["total"] == 0
        decided = client.get(
            "/api/v1/departments/fire/tasks", params={"status": "decided"}, headers=fire
        ).json()
        assert [t["permit_type"] for t in decided["tasks"]] == ["fire_safety_check"]
        # Another department's view of its own task shows no commitment.
        police = client.get(
            f"/api/v1/departments/police/tasks/{application['id']}/hotel_special_trade",
            headers=auth(token("department", "police")),
        ).json()
        assert police["commitment"] is None
