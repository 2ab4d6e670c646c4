"""推送 / 双告知: each department pulls what concerns it, in log order, from where it left off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import httpx
import pytest

from api import responses
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from projections import feed
from tests.conftest import auth
from tests.stories import APPLICANT, LEGAL_REP, store_situation, submission, submit

RESTAURANT = make_uscc("91440605MA4FEED01")
COMPANY = make_uscc("91440605MA4FEED02")
STORE = make_uscc("91440605MA4FEED03")
NEW_REP = {"name": "王新任", "id_number": "440604198805051234", "mobile": "13711112222"}
# Personal data that must never be in a feed entry.
PERSONAL = (
    *LEGAL_REP.values(),
    *NEW_REP.values(),
    APPLICANT["mobile"],
    APPLICANT["email"],
    APPLICANT["contact_name"],
)


def _open_restaurant(client: httpx.Client, runtime: Runtime, token: Callable[..., str]) -> str:
    """The restaurant applies; its business licence is approved (the business exists)."""
    application = submit(
        client, token("clerk"), submission(runtime, "open_restaurant", RESTAURANT, "推送饭店")
    )
    approved = client.post(
        f"/api/v1/applications/{application['id']}/tasks/business_licence/decision",
        json={"outcome": "approve", "permit_number": "GS-1"},
        headers=auth(token("department", "samr")),
    )
    assert approved.status_code == 200, approved.text
    return str(application["id"])


def _change_name_and_representative(client: httpx.Client, token: Callable[..., str]) -> None:
    changed = client.post(
        f"/api/v1/registrations/{RESTAURANT}/changes",
        json={
            "changes": {"name": "推送新名饭店", "legal_representative": NEW_REP},
            "reason": "股东会决议",
        },
        headers=auth(token("registrar", sub="reg-1")),
    )
    assert changed.status_code == 200, changed.text


def _read_all(
    client: httpx.Client, bearer: str, department: str, *, after: str | None = None, limit: int
) -> tuple[list[dict[str, Any]], str | None, int]:
    """Every entry after `after`, page by page; the last cursor; how many pages it took."""
    entries: list[dict[str, Any]] = []
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
        page = client.get(
            f"/api/v1/departments/{department}/feed", params=params, headers=auth(bearer)
        )
        assert page.status_code == 200, page.text
        body = page.json()
        pages += 1
        entries += body["entries"]
        after = body["cursor"]
        if not body["more"]:
            return entries, after, pages


def test_a_department_pulls_its_tasks_and_its_businesses_changes_in_order(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    water = token("department", "water")
    with httpx.Client(base_url=server) as client:
        application_id = _open_restaurant(client, runtime, token)
        _change_name_and_representative(client, token)
        entries, _, _ = _read_all(client, water, "water", limit=100)
        raw = client.get("/api/v1/departments/water/feed", headers=auth(water)).text
        samr, _, _ = _read_all(client, token("department", "samr"), "samr", limit=100)
        task_view = client.get(entries[0]["links"]["task"], headers=auth(water))
    assert [e["type"] for e in entries] == [
        "task.created",
        "registration.established",
        "registration.changed",
    ]
    created, established, changed = entries
    assert created["task"]["permit_type"] == "sewage_discharge"
    assert created["task"]["state"] == "queued" and created["task"]["due_on"]
    assert created["business"]["name"] == "推送饭店"
    assert created["business"]["status"] == "establishing"
    assert created["links"] == {
        "licence": f"/api/v1/licences/{RESTAURANT}",
        "task": f"/api/v1/departments/water/tasks/{application_id}/sewage_discharge",
        "decision": f"/api/v1/applications/{application_id}/tasks/sewage_discharge/decision",
    }
    assert task_view.status_code == 200, task_view.text  # the link leads to the task
    assert established["business"]["status"] == "active"
    assert changed["registration"]["changed"] == ["legal_representative", "name"]
    assert changed["business"]["name"] == "推送新名饭店"
    assert {e["department"] for e in entries} == {"water"}
    assert len({e["id"] for e in entries}) == 3
    # Need to know: the representative is named as changed, never shown; nobody's phone,
    # ID number or e-mail is in any entry.
    for text in PERSONAL:
        assert text not in raw
    # samr decided the business licence: its own task's decision is in its feed too.
    decided = [e for e in samr if e["type"] == "task.decided"]
    assert [(e["task"]["permit_type"], e["task"]["permit_number"]) for e in decided] == [
        ("business_licence", "GS-1")
    ]


def test_the_cursor_pages_and_resumes_exactly_after_a_restart(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    samr = token("department", "samr")
    with httpx.Client(base_url=server) as client:
        _open_restaurant(client, runtime, token)
        whole, _, _ = _read_all(client, samr, "samr", limit=500)
        paged, cursor, pages = _read_all(client, samr, "samr", limit=2)
    assert len(whole) >= 4
    assert paged == whole and pages == len(whole) // 2 + 1
    assert cursor == whole[-1]["cursor"]
    # The service restarts (a new runtime on the same store); the department resumes from
    # its cursor: nothing again, then exactly what is new.
    restarted = Runtime(runtime.settings)
    try:
        restarted.projector.catch_up()
        with httpx.Client(base_url=server) as client:
            again, same, _ = _read_all(client, samr, "samr", after=cursor, limit=2)
            assert again == [] and same == cursor
            _change_name_and_representative(client, token)
            new, _, _ = _read_all(client, samr, "samr", after=cursor, limit=2)
            everything, _, _ = _read_all(client, samr, "samr", limit=500)
    finally:
        restarted.close()
    assert [e["type"] for e in new] == ["registration.changed"]
    assert everything == whole + new
    # A rebuild from the events makes the very same entries: ids, cursors, bodies.
    before = runtime.view.dump()["feed"]
    runtime.projector.rebuild()
    assert runtime.view.dump()["feed"] == before


def test_a_cancelled_approval_item_reaches_its_department_and_so_do_later_changes(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    """直接取消审批: no permit, so the department supervises on what it is told — the item,
    then the business's establishment and changes (R57)."""
    tax = token("department", "tax")
    with httpx.Client(base_url=server) as client:
        application = submit(
            client,
            token("clerk"),
            submission(
                runtime,
                "start_company",
                COMPANY,
                "推送新公司",
                {"needs_invoices": False, "has_employees": False},
            ),
        )
        client.post(
            f"/api/v1/applications/{application['id']}/tasks/business_licence/decision",
            json={"outcome": "approve", "permit_number": "GS-2"},
            headers=auth(token("department", "samr")),
        ).raise_for_status()
        client.post(
            f"/api/v1/registrations/{COMPANY}/changes",
            json={"changes": {"domicile": "佛山市禅城区新址 8 号"}, "reason": "迁址"},
            headers=auth(token("registrar", sub="reg-1")),
        ).raise_for_status()
        entries, _, _ = _read_all(client, tax, "tax", limit=100)
    assert [e["type"] for e in entries] == [
        "task.informed",
        "registration.established",
        "registration.changed",
    ]
    informed = entries[0]["task"]
    assert (informed["permit_type"], informed["mode"], informed["state"]) == (
        "tax_registration",
        "cancelled",
        "informed",
    )
    assert entries[0]["links"]["decision"] is None  # nothing to decide
    assert entries[2]["registration"]["changed"] == ["domicile"]
    assert entries[2]["business"]["domicile"] == "佛山市禅城区新址 8 号"


def test_a_received_application_reaches_the_feed_when_it_is_accepted(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    """收件, then 受理: the tasks are dispatched before the business is registered (in the
    log too); the new task's entry still says which business it is."""
    tobacco = token("department", "tobacco")
    body = submission(
        runtime, "open_convenience_store", STORE, "收件推送店", store_situation(sells_tobacco=True)
    )
    body["accept_now"] = False
    with httpx.Client(base_url=server) as client:
        application = submit(client, token("clerk"), body)
        assert _read_all(client, tobacco, "tobacco", limit=10)[0] == []
        client.post(
            f"/api/v1/applications/{application['id']}/acceptance",
            json={"decision": "accept"},
            headers=auth(token("clerk")),
        ).raise_for_status()
        entries, _, _ = _read_all(client, tobacco, "tobacco", limit=10)
    assert [(e["type"], e["task"]["permit_type"]) for e in entries] == [
        ("task.created", "tobacco_retail")
    ]
    assert entries[0]["business"]["name"] == "收件推送店"
    assert entries[0]["business"]["status"] == "establishing"
    assert runtime.view.dump()["feed_received"] == []  # kept only until acceptance


def test_only_the_department_reads_its_feed_and_a_bad_cursor_is_named(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        other = client.get(
            "/api/v1/departments/water/feed", headers=auth(token("department", "fire"))
        )
        clerk = client.get("/api/v1/departments/water/feed", headers=auth(token("clerk")))
        unknown = client.get(
            "/api/v1/departments/nowhere/feed", headers=auth(token("department", "nowhere"))
        )
        bad = client.get(
            "/api/v1/departments/water/feed",
            params={"after": "not-a-cursor"},
            headers=auth(token("department", "water")),
        )
    assert (other.status_code, clerk.status_code, unknown.status_code) == (403, 403, 404)
    assert other.json()["detail"] == "department fire may not read water's desk"
    assert bad.status_code == 422
    assert [(e["name"], e["in"]) for e in bad.json()["errors"]] == [("after", "query")]


def test_the_contract_names_every_kind_of_entry() -> None:
    assert get_args(responses.FeedEntryType) == feed.ENTRY_TYPES


def test_only_our_cursors_parse() -> None:
    assert feed.parse_cursor(feed.cursor(12345, 7)) == (12345, 7)
    # Empty, plain text, base64 of a negative position, not base64 at all.
    for text in ("", "v1:1:1", "djE6LTE6MA", "@@@"):
        with pytest.raises(ValueError, match="not a cursor"):
            feed.parse_cursor(text)
