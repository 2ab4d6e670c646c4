"""After opening: changes, 休业, exits that end every permit, permit acts, time travel, audit.

The acts' stories run at the service layer (memory, SQLite, PostgreSQL); the stories about
the printed code's page, the as-of query and the audit trail's route stay over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from domain.china import today_in_china
from domain.errors import Conflict, Forbidden
from domain.uscc import make_uscc
from licensing import jobs
from licensing.runtime import Runtime
from projections.history import audit_trail, licence_as_of
from tests.conftest import auth
from tests.service import Service
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


def _open_restaurant_directly(service: Service) -> None:
    application = service.submit(
        submission(service.runtime, "open_restaurant", USCC, "生命周期饭店")
    )
    service.approve_all(application, prefix="L")


def test_deregistration_after_a_20_day_notice_ends_every_permit(service: Service) -> None:
    runtime = service.runtime
    _open_restaurant_directly(service)
    noticed = service.registrar("give_deregistration_notice", USCC)
    assert noticed["status"]["word"] == "简易注销公告中"
    # Too early: the notice runs for 20 days.
    with pytest.raises(Conflict, match="runs until"):
        service.registrar("deregister", USCC)
    # An objection ends the simple procedure; the business stays.
    objected = service.registrar(
        "object_to_deregistration", USCC, objector="某供应商", grounds="尚有未结清货款"
    )
    assert objected["status"]["word"] == "存续"
    service.registrar("give_deregistration_notice", USCC)
    runtime.licensing.today = lambda: today_in_china() + timedelta(days=21)
    service.registrar("deregister", USCC)
    licence = service.licence(USCC)
    assert licence["status"]["word"] == "注销"
    assert set(_words(licence).values()) == {"无效"}
    assert all("business exited" in p["reason"] for p in licence["permits"])
    # Twice is a conflict, and writes nothing.
    before = service.events()
    with pytest.raises(Conflict):
        service.registrar("deregister", USCC)
    assert service.events() == before
    # An exited business cannot apply again under its code.
    with pytest.raises(Conflict):
        service.submit(submission(runtime, "open_hotel", USCC, "借壳旅馆"))


@pytest.mark.parametrize("exit_path", ["revocation", "cancellation"])
def test_revocation_and_cancellation_of_registration_end_every_permit(
    service: Service, exit_path: str
) -> None:
    _open_restaurant_directly(service)
    licence = service.registrar(
        {"revocation": "revoke", "cancellation": "cancel"}[exit_path],
        USCC,
        sub="reg-2",
        reason="虚假住所" if exit_path == "cancellation" else "连续六个月未开业",
        legal_basis="《市场主体登记管理条例》第四十条",
    )
    assert (
        licence["status"]["word"] == {"revocation": "吊销", "cancellation": "撤销登记"}[exit_path]
    )
    assert set(_words(licence).values()) == {"无效"}


def test_休业_and_resumption(service: Service) -> None:
    _open_restaurant_directly(service)
    suspended = service.registrar("suspend", USCC, reason="装修", until=date(2027, 3, 1))
    assert suspended["status"]["word"] == "休业"
    with pytest.raises(Conflict):
        service.registrar("suspend", USCC, reason="again", until=None)
    resumed = service.registrar("resume", USCC, reason="装修完毕")
    assert resumed["status"]["word"] == "存续"


def test_a_department_suspends_resumes_and_revokes_only_its_own_permit(service: Service) -> None:
    _open_restaurant_directly(service)
    with pytest.raises(Forbidden):
        service.permit_act(
            "suspend_permit", USCC, "sewage_discharge", "fire", reason="r", legal_basis="b"
        )
    suspended = service.permit_act(
        "suspend_permit",
        USCC,
        "sewage_discharge",
        "water",
        reason="超标排放",
        legal_basis="条例第五十条",
    )
    assert _words(suspended)["sewage_discharge"] == "无效"
    resumed = service.permit_act(
        "resume_permit", USCC, "sewage_discharge", "water", reason="整改完成"
    )
    assert _words(resumed)["sewage_discharge"] == "有效"
    revoked = service.permit_act(
        "revoke_permit",
        USCC,
        "sewage_discharge",
        "water",
        reason="再次超标",
        legal_basis="条例第五十条",
    )
    permit = next(p for p in revoked["permits"] if p["permit_type"] == "sewage_discharge")
    assert permit["status"]["word"] == "无效" and permit["reason"] == "吊销 revoked: 再次超标"
    with pytest.raises(Conflict):
        service.permit_act("resume_permit", USCC, "sewage_discharge", "water", reason="x")


def test_permits_expire_at_the_end_of_their_validity(service: Service) -> None:
    runtime = service.runtime
    _open_restaurant_directly(service)
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
    runtime.projector.catch_up()
    row = runtime.view.licence(USCC)
    for p in row["permits"]:
        if p["permit_type"] in due:
            assert p["status"] == "invalid" and p["reason"].startswith("有效期届满")
        else:
            assert p["status"] == "valid"


def test_an_objection_returns_a_business_in_休业_to_休业_not_to_存续(service: Service) -> None:
    _open_restaurant_directly(service)
    service.registrar("suspend", USCC, reason="装修", until=None)
    service.registrar("give_deregistration_notice", USCC)
    objected = service.registrar(
        "object_to_deregistration", USCC, objector="债权人", grounds="尚有债务"
    )
    assert objected["status"]["word"] == "休业"
    assert service.runtime.licensing.registration(USCC).status.value == "suspended"


# Over HTTP, on both real backends: what only the wire shows (the printed code's page, the
# as-of query's parsing, the audit trail's route and who may read it).


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
