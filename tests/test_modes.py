"""The four reform modes of 证照分离, and working-day deadlines on every decision.

Service-layer stories (memory, SQLite, PostgreSQL); what a citizen sees scanning a withdrawn
commitment's code stays over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from domain.china import today_in_china
from domain.errors import ValidationFailed
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from projections.views import AWAITING_LICENCE
from tests.conftest import auth
from tests.service import Service
from tests.stories import decode_qr, store_situation, submission, submit

SHOP = make_uscc("91440609MA4M0DE01")
HOTEL = make_uscc("91440609MA4M0DE02")
COMPANY = make_uscc("91440609MA4M0DE03")
STORE = store_situation(sells_tobacco=True, sells_class2_devices=True)
COMMITMENT = {"fire_safety_check": {"version": "2025.1", "signed_by": "李测试"}}


def _permits(client: httpx.Client, uscc: str) -> dict[str, dict]:
    return {p["permit_type"]: p for p in client.get(f"/api/v1/licences/{uscc}").json()["permits"]}


def test_filings_are_valid_on_the_spot_and_approvals_wait_for_their_department(
    service: Service,
) -> None:
    application = service.submit(
        submission(service.runtime, "open_convenience_store", SHOP, "街角便利店", STORE)
    )
    states = {t["permit_type"]: t["state"] for t in application["tasks"]}
    assert states == {
        "business_licence": "queued",
        "prepackaged_food_filing": "filed",
        "class2_device_filing": "filed",
        "tobacco_retail": "queued",
    }
    permits = service.permits(SHOP)
    # Filed on the spot, in force with the business licence (先照后证).
    filing = permits["prepackaged_food_filing"]
    assert (filing["status"]["word"], filing["reason"]) == ("无效", AWAITING_LICENCE)
    assert filing["permit_number"]
    assert permits["tobacco_retail"]["status"]["word"] == "核查中"
    assert application["status"] == "in_review"
    _issue_licence(service, application)
    assert service.permits(SHOP)["prepackaged_food_filing"]["status"]["word"] == "有效"


def _issue_licence(service: Service, application: dict) -> None:
    service.approve(application["id"], "business_licence", "samr", number="BL-1")


def test_a_cancelled_approval_only_informs_the_department(service: Service) -> None:
    application = service.submit(
        submission(
            service.runtime,
            "start_company",
            COMPANY,
            "新开公司",
            {"needs_invoices": True, "has_employees": False},
        )
    )
    states = {t["permit_type"]: t["state"] for t in application["tasks"]}
    assert states["tax_registration"] == "informed" and states["seal_filing"] == "filed"
    assert "tax_registration" not in service.permits(COMPANY)  # no permit exists for it
    # Settled at submission, nothing is open on its worklist; on request, the decided.
    assert service.worklist("tax")["tasks"] == []
    told = service.worklist("tax", status="decided")
    assert {(t["permit_type"], t["state"]) for t in told["tasks"]} == {
        ("tax_registration", "informed"),
        ("invoice_first_claim", "filed"),
    }


def test_a_commitment_permit_is_valid_at_once_then_verified(service: Service) -> None:
    runtime = service.runtime
    body = submission(runtime, "open_hotel", HOTEL, "承诺旅馆")
    body["commitments"] = dict(COMMITMENT)
    application = service.submit(body)
    task = next(t for t in application["tasks"] if t["permit_type"] == "fire_safety_check")
    assert task["state"] == "approved_on_commitment"
    assert service.permits(HOTEL)["fire_safety_check"]["status"]["word"] == "无效"
    _issue_licence(service, application)  # 先照后证: in force with the licence
    assert service.permits(HOTEL)["fire_safety_check"]["status"]["word"] == "有效"
    due = runtime.licensing.calendar.add_working_days(today_in_china(), 20)
    todo = service.verifications("fire")["permits"]
    assert [(p["uscc"], p["verification_due"]) for p in todo] == [(HOTEL, due.isoformat())]

    defects = service.verify_commitment(
        HOTEL, "fire_safety_check", "fire", outcome="defects", findings="疏散通道堆放杂物"
    )
    word = {p["permit_type"]: p["status"]["word"] for p in defects["permits"]}
    assert word["fire_safety_check"] == "整改中"
    assert service.verifications("fire")["permits"] == []
    failed = service.close_rectification(
        HOTEL,
        "fire_safety_check",
        "fire",
        passed=False,
        reason="逾期未整改",
        basis="消防法第六十条",
    )
    word = {p["permit_type"]: p["status"]["word"] for p in failed["permits"]}
    assert word["fire_safety_check"] == "不合格"


def test_a_false_commitment_is_withdrawn_and_shows_invalid(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    fire = auth(token("department", "fire"))
    body = submission(runtime, "open_hotel", HOTEL, "承诺旅馆")
    body["commitments"] = dict(COMMITMENT)
    with httpx.Client(base_url=server) as client:
        submit(client, token("clerk"), body)
        # The verification's body names its outcome's findings (a contract check).
        base = f"/api/v1/licences/{HOTEL}/permits/fire_safety_check"
        no_findings = client.post(f"{base}/verification", json={"outcome": "defects"}, headers=fire)
        assert no_findings.status_code == 422
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
        assert ">已撤销</span>" in page and "承诺不实" in page
        again = client.post(
            f"/api/v1/licences/{HOTEL}/permits/fire_safety_check/verification",
            json={"outcome": "confirmed"},
            headers=fire,
        )
        assert again.status_code == 409


def test_a_letter_must_be_the_published_version_of_a_commitment_permit(
    service: Service,
) -> None:
    body = submission(service.runtime, "open_hotel", HOTEL, "承诺旅馆")
    body["commitments"] = {
        "fire_safety_check": {"version": "2019.1", "signed_by": "李测试"},
        "tobacco_retail": {"version": "2025.1", "signed_by": "李测试"},
    }
    before = service.events()
    with pytest.raises(ValidationFailed) as refused:
        service.submit(body)
    assert {p.name for p in refused.value.problems} == {
        "commitments.fire_safety_check.version",
        "commitments.tobacco_retail",
    }
    assert service.events() == before


def test_each_task_has_a_working_day_deadline_and_overdue_tasks_are_listed(
    service: Service,
) -> None:
    runtime = service.runtime
    application = service.submit(submission(runtime, "open_hotel", HOTEL, "期限旅馆"))
    task = next(t for t in application["tasks"] if t["permit_type"] == "hotel_special_trade")
    promised = runtime.catalogue.permit_type("hotel_special_trade").promised_days
    assert (
        task["due_on"]
        == runtime.licensing.calendar.add_working_days(today_in_china(), promised).isoformat()
    )
    listed = service.worklist("police")["tasks"]
    assert listed[0]["due_on"] == task["due_on"] and listed[0]["overdue"] is False
    assert service.worklist("police", overdue=True)["tasks"] == []
    # Time passes: the task is overdue until it is decided.
    late = date.fromisoformat(task["due_on"])
    runtime.licensing.today = lambda: late + timedelta(days=1)
    overdue = service.worklist("police", overdue=True)
    assert [t["permit_type"] for t in overdue["tasks"]] == ["hotel_special_trade"]
    assert overdue["tasks"][0]["overdue"] is True
    service.approve(application["id"], "hotel_special_trade", "police", number="P-1")
    assert service.worklist("police", overdue=True)["tasks"] == []
