"""Credit: listings with grounds, objection and repair; a listed applicant loses commitment mode.

The blacklisting story runs at the service layer (memory, SQLite, PostgreSQL); the credit
office's routes keep their story over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from domain.errors import Conflict
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.service import Service
from tests.stories import store_situation, submission, submit

HOTEL = make_uscc("91440610MA4CRED01")
LETTER = {"fire_safety_check": {"version": "2025.1", "signed_by": "李测试"}}


def _hotel_on_commitment(runtime: Runtime, uscc: str = HOTEL) -> dict:
    body = submission(runtime, "open_hotel", uscc, "信用旅馆")
    body["commitments"] = LETTER
    return body


def test_a_false_commitment_blacklists_the_applicant_who_then_loses_commitment_mode(
    service: Service,
) -> None:
    runtime = service.runtime
    first = service.submit(_hotel_on_commitment(runtime))
    assert first["credit"] == {"checked_on": first["credit"]["checked_on"], "listings": []}
    service.verify_commitment(
        HOTEL,
        "fire_safety_check",
        "fire",
        outcome="false",
        findings="消防设施未配置",
        basis="消防法第十五条",
    )
    record = service.credit_record(HOTEL)
    assert [(x["list"], x["state"]) for x in record["listings"]] == [
        ("commitment_blacklist", "active")
    ]
    assert record["restricted"] is True
    # The public sees the act and its basis, not what the inspection found; nor does the
    # published listing.
    public = json.dumps(service.licence(HOTEL), ensure_ascii=False)
    assert "承诺不实，撤销许可" in public and "消防法第十五条" in public
    assert "消防设施未配置" not in public

    # The next application on commitment is refused, and says why; nothing is written.
    before = service.events()
    with pytest.raises(Conflict) as again:
        service.submit(_hotel_on_commitment(runtime))
    assert "承诺履行黑名单" in str(again.value) and "commitment mode" in str(again.value)
    assert service.events() == before


# Over HTTP, on both real backends: the credit office's routes (who may list, the closed set
# of lists, the new listing's Location) with the story of an objection and a repair.


def test_a_listing_can_be_objected_to_and_repaired_and_the_application_records_the_snapshot(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    office = auth(token("credit", sub="credit-1"))
    other = make_uscc("91440610MA4CRED02")
    with httpx.Client(base_url=server) as client:
        submit(client, token("clerk"), submission(runtime, "open_restaurant", other, "异常饭店"))
        assert (
            client.post(
                f"/api/v1/credit/{other}/listings",
                json={
                    "list": "abnormal_operations",
                    "grounds": "未按期公示年报",
                    "legal_basis": "《企业信息公示暂行条例》",
                },
                headers=auth(token("clerk")),
            ).status_code
            == 403
        )
        bad = client.post(
            f"/api/v1/credit/{other}/listings",
            json={"list": "naughty", "grounds": "g", "legal_basis": "b"},
            headers=office,
        )
        assert bad.status_code == 422 and {e["name"] for e in bad.json()["errors"]} == {"list"}
        listed = client.post(
            f"/api/v1/credit/{other}/listings",
            json={
                "list": "abnormal_operations",
                "grounds": "未按期公示年报",
                "legal_basis": "《企业信息公示暂行条例》",
            },
            headers=office,
        )
        assert listed.status_code == 201
        listing = listed.headers["location"].rsplit("/", 1)[1]
        twice = client.post(
            f"/api/v1/credit/{other}/listings",
            json={"list": "abnormal_operations", "grounds": "again", "legal_basis": "b"},
            headers=office,
        )
        assert twice.status_code == 409

        # A second bundle for the same business records the listing it was accepted under.
        body = submission(
            runtime,
            "open_convenience_store",
            other,
            "异常饭店",
            store_situation("none", sells_tobacco=True),
        )
        snapshot = submit(client, token("clerk"), body)["credit"]
        assert [x["list"] for x in snapshot["listings"]] == ["abnormal_operations"]

        objected = client.post(
            f"/api/v1/credit/{other}/listings/{listing}/objection",
            json={"grounds": "年报已按时公示，系统延迟"},
            headers=auth(token("clerk")),
        )
        assert objected.json()["listings"][0]["state"] == "objected"
        rejected = client.post(
            f"/api/v1/credit/{other}/listings/{listing}/objection-decision",
            json={"upheld": False, "reason": "公示时间晚于期限"},
            headers=office,
        )
        assert rejected.json()["listings"][0]["state"] == "active"
        repaired = client.post(
            f"/api/v1/credit/{other}/listings/{listing}/removal",
            json={"reason": "已补报并申请信用修复", "repaired": True},
            headers=office,
        )
        assert repaired.json()["restricted"] is False
        assert (
            client.post(
                f"/api/v1/credit/{other}/listings/{listing}/removal",
                json={"reason": "x", "repaired": True},
                headers=office,
            ).status_code
            == 409
        )
