"""The four reform modes of 证照分离, and working-day deadlines on every decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from projections.views import AWAITING_LICENCE
from tests.conftest import auth
from tests.stories import decode_qr, store_situation, submission, submit

SHOP = make_uscc("91440609MA4M0DE01")
HOTEL = make_uscc("91440609MA4M0DE02")
COMPANY = make_uscc("91440609MA4M0DE03")
STORE = store_situation(sells_tobacco=True, sells_class2_devices=True)


def _permits(client: httpx.Client, uscc: str) -> dict[str, dict]:
    return {p["permit_type"]: p for p in client.get(f"/api/v1/licences/{uscc}").json()["permits"]}


def test_filings_are_valid_on_the_spot_and_approvals_wait_for_their_department(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        application = submit(
            client,
            token("clerk"),
            submission(runtime, "open_convenience_store", SHOP, "街角便利店", STORE),
        )
        states = {t["permit_type"]: t["state"] for t in application["tasks"]}
        assert states == {
            "business_licence": "queued",
            "prepackaged_food_filing": "filed",
            "class2_device_filing": "filed",
            "tobacco_retail": "queued",
        }
        permits = _permits(client, SHOP)
        # Filed on the spot, in force with the business licence (先照后证).
        filing = permits["prepackaged_food_filing"]
        assert (filing["status"]["word"], filing["reason"]) == ("无效", AWAITING_LICENCE)
        assert filing["permit_number"]
        assert permits["tobacco_retail"]["status"]["word"] == "核查中"
        assert application["status"] == "in_review"
        _issue_licence(client, application, token)
        assert _permits(client, SHOP)["prepackaged_food_filing"]["status"]["word"] == "有效"


def _issue_licence(client: httpx.Client, application: dict, token: Callable[..., str]) -> None:
    client.post(
        f"/api/v1/applications/{application['id']}/tasks/business_licence/decision",
        json={"outcome": "approve", "permit_number": "BL-1"},
        headers=auth(token("department", "samr")),
    ).raise_for_status()


def test_a_cancelled_approval_only_informs_the_department(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        application = submit(
            client,
            token("clerk"),
            submission(
                runtime,
                "start_company",
                COMPANY,
                "新开公司",
                {"needs_invoices": True, "has_employees": False},
            ),
        )
        states = {t["permit_type"]: t["state"] for t in application["tasks"]}
        assert states["tax_registration"] == "informed" and states["seal_filing"] == "filed"
        assert "tax_registration" not in _permits(client, COMPANY)  # no permit exists for it
        tax = auth(token("department", "tax"))
        # Settled at submission, nothing is open on its worklist; on request, the decided.
        assert client.get("/api/v1/departments/tax/tasks", headers=tax).json()["tasks"] == []
        told = client.get(
            "/api/v1/departments/tax/tasks", params={"status": "decided"}, headers=tax
        ).json()
        assert {(t["permit_type"], t["state"]) for t in told["tasks"]} == {
            ("tax_registration", "informed"),
            ("invoice_first_claim", "filed"),
        }


def test_a_commitment_permit_is_valid_at_once_then_verified(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    fire = auth(token("department", "fire"))
    body = submission(runtime, "open_hotel", HOTEL, "承诺旅馆")
    body["commitments"] = {"fire_safety_check": {"version": "2025.1", "signed_by": "李测试"}}
    with httpx.Client(base_url=server) as client:
        application = submit(client, token("clerk"), body)
        task = next(t for t in application["tasks"] if t["permit_type"] == "fire_safety_check")
        assert task["state"] == "approved_on_commitment"
        assert _permits(client, HOTEL)["fire_safety_check"]["status"]["word"] == "无效"
        _issue_licence(client, application, token)  # 先照后证: in force with the licence
        fire_permit = _permits(client, HOTEL)["fire_safety_check"]
        assert fire_permit["status"]["word"] == "有效"
        due = runtime.licensing.calendar.add_working_days(today_in_china(), 20)
        todo = client.get("/api/v1/departments/fire/verifications", headers=fire).json()["permits"]
        assert [(p["uscc"], p["verification_due"]) for p in todo] == [(HOTEL, due.isoformat())]

        base = f"/api/v1/licences/{HOTEL}/permits/fire_safety_check"
        no_findings = client.post(f"{base}/verification", json={"outcome": "defects"}, headers=fire)
        assert no_findings.status_code == 422
        defects = client.post(
            f"{base}/verification",
            json={"outcome": "defects", "findings": "疏散通道堆放杂物"},
            headers=fire,
        )
        word = {p["permit_type"]: p["status"]["word"] for p in defects.json()["permits"]}
        assert word["fire_safety_check"] == "整改中"
        assert (
            client.get("/api/v1/departments/fire/verifications", headers=fire).json()["permits"]
            == []
        )
        failed = client.post(
            f"{base}/rectification",
            json={"outcome": "failed", "reason": "逾期未整改", "legal_basis": "消防法第六十条"},
            headers=fire,
        )
        word = {p["permit_type"]: p["status"]["word"] for p in failed.json()["permits"]}
        assert word["fire_safety_check"] == "不合格"


def test_a_false_commitment_is_withdrawn_and_shows_invalid(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    fire = auth(token("department", "fire"))
    body = submission(runtime, "open_hotel", HOTEL, "承诺旅馆")
    body["commitments"] = {"fire_safety_check": {"version": "2025.1", "signed_by": "李测试"}}
    with httpx.Client(base_url=server) as client:
        submit(client, token("clerk"), body)
        response = client.post(
            f"/api/v1/licences/{HOTEL}/permits/fire_safety_check/verification",
            json={
                "outcome": "false",
                "findings": "未设置自动喷水灭火系统",
                "legal_basis": "消防法第十五条",
            },
            headers=fire,
        )
        assert response.status_code == 200, response.text
        permit = _permits(client, HOTEL)["fire_safety_check"]
        assert permit["status"]["word"] == "无效" and "承诺不实" in permit["reason"]
        # What a citizen sees when scanning the printed code on the wall.
        scan = urlsplit(decode_qr(client.get(f"/api/v1/licences/{HOTEL}/qr.png").content)).path
        page = client.get(scan, headers={"Accept": "text/html"}).text
        assert 'class="pill invalid">无效</span>' in page and "承诺不实" in page
        again = client.post(
            f"/api/v1/licences/{HOTEL}/permits/fire_safety_check/verification",
            json={"outcome": "confirmed"},
            headers=fire,
        )
        assert again.status_code == 409


def test_a_letter_must_be_the_published_version_of_a_commitment_permit(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    body = submission(runtime, "open_hotel", HOTEL, "承诺旅馆")
    body["commitments"] = {
        "fire_safety_check": {"version": "2019.1", "signed_by": "李测试"},
        "tobacco_retail": {"version": "2025.1", "signed_by": "李测试"},
    }
    before = runtime.app.recorder.max_notification_id()
    with httpx.Client(base_url=server) as client:
        response = client.post("/api/v1/applications", json=body, headers=auth(token("clerk")))
    assert response.status_code == 422
    assert {e["name"] for e in response.json()["errors"]} == {
        "commitments.fire_safety_check.version",
        "commitments.tobacco_retail",
    }
    assert runtime.app.recorder.max_notification_id() == before


def test_each_task_has_a_working_day_deadline_and_overdue_tasks_are_listed(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    police = auth(token("department", "police"))
    with httpx.Client(base_url=server) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "期限旅馆")
        )
        task = next(t for t in application["tasks"] if t["permit_type"] == "hotel_special_trade")
        promised = runtime.catalogue.permit_type("hotel_special_trade").promised_days
        assert (
            task["due_on"]
            == runtime.licensing.calendar.add_working_days(today_in_china(), promised).isoformat()
        )
        listed = client.get("/api/v1/departments/police/tasks", headers=police).json()["tasks"]
        assert listed[0]["due_on"] == task["due_on"] and listed[0]["overdue"] is False
        assert (
            client.get(
                "/api/v1/departments/police/tasks", params={"overdue": True}, headers=police
            ).json()["tasks"]
            == []
        )
        # Time passes: the task is overdue until it is decided.
        late = date.fromisoformat(task["due_on"])
        runtime.licensing.today = lambda: late + timedelta(days=1)
        overdue = client.get(
            "/api/v1/departments/police/tasks", params={"overdue": True}, headers=police
        ).json()
        assert [t["permit_type"] for t in overdue["tasks"]] == ["hotel_special_trade"]
        assert overdue["tasks"][0]["overdue"] is True
        client.post(
            f"/api/v1/applications/{application['id']}/tasks/hotel_special_trade/decision",
            json={"outcome": "approve", "permit_number": "P-1"},
            headers=police,
        )
        assert (
            client.get(
                "/api/v1/departments/police/tasks", params={"overdue": True}, headers=police
            ).json()["tasks"]
            == []
        )
