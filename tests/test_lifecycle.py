"""After opening: changes, 休业, exits that end every permit, permit acts, time travel, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing import jobs
from licensing.runtime import Runtime
from projections.history import audit_trail, licence_as_of
from tests.conftest import auth
from tests.stories import LEGAL_REP, decode_qr, submission, submit

USCC = make_uscc("91440608MA4L1FE01")


def _open_restaurant(client: httpx.Client, runtime: Runtime, token: Callable[..., str]) -> None:
    application = submit(
        client, token("clerk"), submission(runtime, "open_restaurant", USCC, "生命周期饭店")
    )
    for task in application["tasks"]:
        response = client.post(
            f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
            json={"outcome": "approve", "permit_number": f"L-{task['permit_type']}"},
            headers=auth(token("department", task["department"])),
        )
        assert response.status_code == 200, response.text


def _words(licence: dict) -> dict[str, str]:
    return {p["permit_type"]: p["status"]["word"] for p in licence["permits"]}


def test_a_change_of_name_is_seen_through_the_old_printed_qr(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        printed = urlsplit(decode_qr(client.get(f"/api/v1/licences/{USCC}/qr.png").content)).path
        registrar = auth(token("registrar", sub="reg-1"))
        changed = client.post(
            f"/api/v1/registrations/{USCC}/changes",
            json={
                "changes": {
                    "name": "佛山市新名字餐饮有限公司",
                    "domicile": "佛山市顺德区大良街道 9 号",
                },
                "reason": "股东会决议更名",
            },
            headers=registrar,
        )
        assert changed.status_code == 200, changed.text
        page = client.get(printed, headers={"Accept": "text/html"}).text
        assert "佛山市新名字餐饮有限公司" in page and "生命周期饭店" not in page
        assert "佛山市顺德区大良街道 9 号" in page
        # Only a registrar may change a registration; an unknown field is named.
        assert (
            client.post(
                f"/api/v1/registrations/{USCC}/changes",
                json={"changes": {"name": "X公司"}, "reason": "r"},
                headers=auth(token("clerk")),
            ).status_code
            == 403
        )
        bad = client.post(
            f"/api/v1/registrations/{USCC}/changes",
            json={"changes": {"capital": "1"}, "reason": "r"},
            headers=registrar,
        )
        assert bad.status_code == 422 and "changes.capital" in {
            e["name"] for e in bad.json()["errors"]
        }


def test_deregistration_after_a_20_day_notice_ends_every_permit(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    registrar = auth(token("registrar", sub="reg-1"))
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        noticed = client.post(
            f"/api/v1/registrations/{USCC}/deregistration-notice", headers=registrar
        )
        assert noticed.status_code == 200 and noticed.json()["status"]["word"] == "简易注销公告中"
        # Too early: the notice runs for 20 days.
        early = client.post(f"/api/v1/registrations/{USCC}/deregistration", headers=registrar)
        assert early.status_code == 409 and "runs until" in early.json()["detail"]
        # An objection ends the simple procedure; the business stays.
        objected = client.post(
            f"/api/v1/registrations/{USCC}/objections",
            json={"objector": "某供应商", "grounds": "尚有未结清货款"},
            headers=registrar,
        )
        assert objected.json()["status"]["word"] == "存续"
        client.post(f"/api/v1/registrations/{USCC}/deregistration-notice", headers=registrar)
        runtime.licensing.today = lambda: today_in_china() + timedelta(days=21)
        done = client.post(f"/api/v1/registrations/{USCC}/deregistration", headers=registrar)
        assert done.status_code == 200, done.text
        licence = client.get(f"/api/v1/licences/{USCC}").json()
        assert licence["status"]["word"] == "注销"
        assert set(_words(licence).values()) == {"无效"}
        assert all("business exited" in p["reason"] for p in licence["permits"])
        # Twice is a conflict, and writes nothing.
        before = runtime.app.recorder.max_notification_id()
        again = client.post(f"/api/v1/registrations/{USCC}/deregistration", headers=registrar)
        assert again.status_code == 409
        assert runtime.app.recorder.max_notification_id() == before
        # An exited business cannot apply again under its code.
        body = submission(runtime, "open_hotel", USCC, "借壳旅馆")
        assert (
            client.post("/api/v1/applications", json=body, headers=auth(token("clerk"))).status_code
            == 409
        )


@pytest.mark.parametrize("exit_path", ["revocation", "cancellation"])
def test_revocation_and_cancellation_of_registration_end_every_permit(
    server: str, runtime: Runtime, token: Callable[..., str], exit_path: str
) -> None:
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        response = client.post(
            f"/api/v1/registrations/{USCC}/{exit_path}",
            json={
                "reason": "虚假住所" if exit_path == "cancellation" else "连续六个月未开业",
                "legal_basis": "《市场主体登记管理条例》第四十条",
            },
            headers=auth(token("registrar", sub="reg-2")),
        )
        assert response.status_code == 200, response.text
        assert (
            response.json()["status"]["word"]
            == {"revocation": "吊销", "cancellation": "撤销登记"}[exit_path]
        )
        assert set(_words(response.json()).values()) == {"无效"}


def test_休业_and_resumption(server: str, runtime: Runtime, token: Callable[..., str]) -> None:
    registrar = auth(token("registrar", sub="reg-1"))
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        suspended = client.post(
            f"/api/v1/registrations/{USCC}/suspension",
            json={"reason": "装修", "until": "2027-03-01"},
            headers=registrar,
        )
        assert suspended.json()["status"]["word"] == "休业"
        assert (
            client.post(
                f"/api/v1/registrations/{USCC}/suspension",
                json={"reason": "again"},
                headers=registrar,
            ).status_code
            == 409
        )
        resumed = client.post(
            f"/api/v1/registrations/{USCC}/resumption",
            json={"reason": "装修完毕"},
            headers=registrar,
        )
        assert resumed.json()["status"]["word"] == "存续"


def test_a_department_suspends_resumes_and_revokes_only_its_own_permit(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    water = auth(token("department", "water"))
    base = f"/api/v1/licences/{USCC}/permits/sewage_discharge"
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        assert (
            client.post(
                f"{base}/suspension",
                json={"reason": "r", "legal_basis": "b"},
                headers=auth(token("department", "fire")),
            ).status_code
            == 403
        )
        suspended = client.post(
            f"{base}/suspension",
            json={"reason": "超标排放", "legal_basis": "条例第五十条"},
            headers=water,
        )
        assert _words(suspended.json())["sewage_discharge"] == "无效"
        resumed = client.post(f"{base}/resumption", json={"reason": "整改完成"}, headers=water)
        assert _words(resumed.json())["sewage_discharge"] == "有效"
        revoked = client.post(
            f"{base}/revocation",
            json={"reason": "再次超标", "legal_basis": "条例第五十条"},
            headers=water,
        )
        permit = next(
            p for p in revoked.json()["permits"] if p["permit_type"] == "sewage_discharge"
        )
        assert permit["status"]["word"] == "无效" and permit["reason"] == "吊销 revoked: 再次超标"
        assert (
            client.post(f"{base}/resumption", json={"reason": "x"}, headers=water).status_code
            == 409
        )


def test_permits_expire_at_the_end_of_their_validity(runtime: Runtime, server: str, token) -> None:
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
    permit = runtime.licensing.permit(USCC, "food_operation")
    assert permit.valid_until is not None
    runtime.licensing.today = lambda: permit.valid_until + timedelta(days=1)
    due = {
        t
        for t in runtime.licensing.registration(USCC).permit_types
        if (v := runtime.licensing.permit(USCC, t).valid_until) is not None
        and v <= permit.valid_until
    }
    assert "food_operation" in due and "business_licence" not in due  # no expiry for the licence
    runtime.projector.catch_up()
    later = (permit.valid_until + timedelta(days=1)).isoformat()
    assert runtime.view.usccs_with_validity_before(later) == [USCC]  # what `permits expire` walks
    assert runtime.view.usccs_with_validity_before(permit.valid_until.isoformat()) == []
    receipts = jobs.expire_permits(runtime.licensing, runtime.index())
    assert (
        len(receipts) == len(due) and jobs.expire_permits(runtime.licensing, runtime.index()) == []
    )
    runtime.settle(receipts[-1].position)
    row = runtime.view.licence(USCC)
    for p in row["permits"]:
        if p["permit_type"] in due:
            assert p["status"] == "invalid" and p["reason"].startswith("有效期届满")
        else:
            assert p["status"] == "valid"


def test_the_licence_as_of_any_past_instant(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_restaurant", USCC, "时光饭店")
        )
        runtime.projector.catch_up()
        moments = [(datetime.now(tz=UTC), runtime.view.licence(USCC))]
        for task in application["tasks"]:
            client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json={"outcome": "approve", "permit_number": f"T-{task['permit_type']}"},
                headers=auth(token("department", task["department"])),
            )
            runtime.projector.catch_up()
            moments.append((datetime.now(tz=UTC), runtime.view.licence(USCC)))
        # Replaying the events to each instant gives exactly what the live view showed then.
        for moment, seen in moments:
            assert licence_as_of(runtime.app, USCC, moment) == seen
        first = client.get(
            f"/api/v1/licences/{USCC}", params={"as_of": moments[0][0].isoformat()}
        ).json()
        assert set(_words(first).values()) == {"核查中"}
        last = client.get(
            f"/api/v1/licences/{USCC}", params={"as_of": moments[-1][0].isoformat()}
        ).json()
        assert set(_words(last).values()) == {"有效"}
        before = (moments[0][0] - timedelta(days=1)).isoformat()
        assert client.get(f"/api/v1/licences/{USCC}", params={"as_of": before}).status_code == 404
        future = (datetime.now(tz=UTC) + timedelta(days=1)).isoformat()
        assert client.get(f"/api/v1/licences/{USCC}", params={"as_of": future}).status_code == 422
        assert (
            client.get(f"/api/v1/licences/{USCC}", params={"as_of": "last tuesday"}).status_code
            == 422
        )


def test_the_audit_trail_says_who_when_what_and_why_in_order(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        client.post(
            f"/api/v1/licences/{USCC}/permits/sewage_discharge/suspension",
            json={"reason": "超标排放", "legal_basis": "条例第五十条"},
            headers=auth(token("department", "water")),
        )
        assert client.get(f"/api/v1/licences/{USCC}/history").status_code == 401
        trail = client.get(
            f"/api/v1/licences/{USCC}/history", headers=auth(token("registrar", sub="r"))
        ).json()
    events = trail["events"]
    assert events == audit_trail(runtime.app, USCC)
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert events[0]["what"] == "Applied" and events[0]["subject"] == "registration"
    assert events[0]["actor"]["role"] == "clerk"
    last = events[-1]
    assert (last["subject"], last["what"], last["reason"], last["legal_basis"]) == (
        "permit:sewage_discharge",
        "Suspended",
        "超标排放",
        "条例第五十条",
    )
    assert last["actor"] == {
        "id": "department-water",
        "role": "department",
        "department": "water",
        "district": None,
    }
    text = str(events)
    assert LEGAL_REP["id_number"] not in text and LEGAL_REP["mobile"] not in text


def test_an_objection_returns_a_business_in_休业_to_休业_not_to_存续(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    registrar = auth(token("registrar", sub="reg-1"))
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        client.post(
            f"/api/v1/registrations/{USCC}/suspension", json={"reason": "装修"}, headers=registrar
        ).raise_for_status()
        client.post(
            f"/api/v1/registrations/{USCC}/deregistration-notice", headers=registrar
        ).raise_for_status()
        objected = client.post(
            f"/api/v1/registrations/{USCC}/objections",
            json={"objector": "债权人", "grounds": "尚有债务"},
            headers=registrar,
        )
        assert objected.json()["status"]["word"] == "休业"
    assert runtime.licensing.registration(USCC).status.value == "suspended"
