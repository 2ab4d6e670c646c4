"""The licence as of last Tuesday: the story told on the calendar, not in instants.

The clock really is moved (time-machine moves every clock the service reads: event
timestamps, today's date, token times), so the events carry last week's timestamps exactly
as they would have, had the clerk and the departments acted then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

import httpx
import time_machine

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import store_situation, submission, submit

BEIJING = timezone(timedelta(hours=8))
STORE = make_uscc("91440610MA4TUE201")
SITUATION = store_situation(sells_tobacco=True)


def last_tuesday(today: date) -> date:
    """The Tuesday of last week."""
    return today - timedelta(days=today.weekday() + 6)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BEIJING)


def test_last_tuesday_is_the_tuesday_of_last_week() -> None:
    assert last_tuesday(date(2026, 11, 22)) == date(2026, 11, 10)  # a Sunday
    assert last_tuesday(date(2026, 11, 16)) == date(2026, 11, 10)  # a Monday
    assert last_tuesday(date(2026, 11, 17)) == date(2026, 11, 10)  # a Tuesday
    assert last_tuesday(date(2026, 11, 17)).weekday() == 1


def test_the_licence_as_of_last_tuesday(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    tuesday = last_tuesday(today_in_china())
    with httpx.Client(base_url=server) as client:
        # Monday morning: the window takes the bundle; samr and tobacco approve by noon.
        with time_machine.travel(at(tuesday - timedelta(days=1), 9, 30)):
            body = submission(runtime, "open_convenience_store", STORE, "周二便利店", SITUATION)
            application = submit(client, token("clerk"), body)
            for permit_type, department in (
                ("business_licence", "samr"),
                ("tobacco_retail", "tobacco"),
            ):
                decided = client.post(
                    f"/api/v1/applications/{application['id']}/tasks/{permit_type}/decision",
                    json={"outcome": "approve", "permit_number": f"N-{permit_type}"},
                    headers=auth(token("department", department)),
                )
                assert decided.status_code == 200, decided.text

        # Thursday afternoon: the tobacco permit is revoked and the business renamed.
        with time_machine.travel(at(tuesday + timedelta(days=2), 15)):
            revoked = client.post(
                f"/api/v1/licences/{STORE}/permits/tobacco_retail/revocation",
                json={"reason": "向未成年人售烟", "legal_basis": "《烟草专卖法》第三十二条"},
                headers=auth(token("department", "tobacco")),
            )
            assert revoked.status_code == 200, revoked.text
            renamed = client.post(
                f"/api/v1/registrations/{STORE}/changes",
                json={"changes": {"name": "周四便利店"}, "reason": "股东决定更名"},
                headers=auth(token("registrar", sub="reg-1")),
            )
            assert renamed.status_code == 200, renamed.text

        def words(licence: dict) -> dict[str, str]:
            return {p["permit_type"]: p["status"]["word"] for p in licence["permits"]}

        # Today: live, the business has its new name and the tobacco permit is 无效 …
        live = client.get(f"/api/v1/licences/{STORE}").json()
        assert live["name"] == "周四便利店"
        assert words(live)["tobacco_retail"] == "无效"

        # … but as of last Tuesday at noon it had its old name and every permit was 有效.
        noon = client.get(
            f"/api/v1/licences/{STORE}", params={"as_of": f"{tuesday}T12:00:00+08:00"}
        )
        assert noon.status_code == 200, noon.text
        then = noon.json()
        assert then["name"] == "周二便利店"
        assert then["status"]["code"] == "active"
        assert words(then) == {
            "business_licence": "有效",
            "prepackaged_food_filing": "有效",
            "tobacco_retail": "有效",
        }
        assert datetime.fromisoformat(then["as_of"]) < at(tuesday, 12)
        # The Monday decisions carry Monday's date, as the departments made them.
        tobacco = next(p for p in then["permits"] if p["permit_type"] == "tobacco_retail")
        assert tobacco["valid_from"] == (tuesday - timedelta(days=1)).isoformat()

        # "As of last Tuesday", said as a date, is the close of that day in Beijing: the same.
        by_date = client.get(f"/api/v1/licences/{STORE}", params={"as_of": tuesday.isoformat()})
        assert by_date.status_code == 200, by_date.text
        assert (by_date.json()["name"], words(by_date.json())) == (then["name"], words(then))
        assert by_date.json()["requested_as_of"] == f"{tuesday}T23:59:59.999999+08:00"
        for bad_value in ("last tuesday", (today_in_china() + timedelta(days=2)).isoformat()):
            bad = client.get(f"/api/v1/licences/{STORE}", params={"as_of": bad_value})
            assert bad.status_code == 422, bad_value
            assert [e["name"] for e in bad.json()["errors"]] == ["as_of"]

        # Before the window opened on Monday there was no such business.
        earlier = client.get(
            f"/api/v1/licences/{STORE}",
            params={"as_of": at(tuesday - timedelta(days=1), 9).isoformat()},
        )
        assert earlier.status_code == 404
