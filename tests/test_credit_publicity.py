"""一码公示: a credit listing shows on the licence, the scanned page and the signed document
until repair, an upheld objection or the end of its period; never who decided it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from domain.actor import SYSTEM
from domain.china import today_in_china
from domain.credit import CreditRecord
from domain.uscc import make_uscc
from licensing.runtime import Runtime, construct_read_model
from projections.history import licence_as_of
from projections.projector import Projector
from tests.conftest import auth
from tests.stories import submission, submit, verify_status_document

RESTAURANT = make_uscc("91440605MA4PUB001")
HOTEL = make_uscc("91440605MA4PUB002")
OFFICER = "officer-wang"  # a staff identity: never on anything public
GROUNDS = "未按规定期限公示年度报告"
BASIS = "《企业信息公示暂行条例》第十七条"


def _open_restaurant(
    client: httpx.Client, runtime: Runtime, token: Callable[..., str], uscc: str = RESTAURANT
) -> None:
    """Every permit approved, so the banner says the business may operate."""
    application = submit(
        client, token("clerk"), submission(runtime, "open_restaurant", uscc, "公示饭店")
    )
    for task in application["tasks"]:
        response = client.post(
            f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
            json={"outcome": "approve", "permit_number": f"P-{task['permit_type']}"},
            headers=auth(token("department", task["department"])),
        )
        assert response.status_code == 200, response.text


def _office(token: Callable[..., str]) -> dict[str, str]:
    return auth(token("credit", sub=OFFICER))


def _list(
    client: httpx.Client,
    token: Callable[..., str],
    uscc: str,
    list_code: str = "abnormal_operations",
) -> str:
    response = client.post(
        f"/api/v1/credit/{uscc}/listings",
        json={"list": list_code, "grounds": GROUNDS, "legal_basis": BASIS},
        headers=_office(token),
    )
    assert response.status_code == 201, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


def _object(client: httpx.Client, token: Callable[..., str], uscc: str, listing: str) -> None:
    client.post(
        f"/api/v1/credit/{uscc}/listings/{listing}/objection",
        json={"grounds": "年报已按时公示，系统延迟"},
        headers=auth(token("clerk", sub="window-zhang")),
    ).raise_for_status()


def _decide(
    client: httpx.Client, token: Callable[..., str], uscc: str, listing: str, *, upheld: bool
) -> None:
    client.post(
        f"/api/v1/credit/{uscc}/listings/{listing}/objection-decision",
        json={"upheld": upheld, "reason": "经复核"},
        headers=_office(token),
    ).raise_for_status()


def _public(client: httpx.Client, uscc: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """What anyone sees: the licence JSON, the page the QR opens, the verified signed document."""
    licence = client.get(f"/api/v1/licences/{uscc}").json()
    path = urlsplit(licence["links"]["verification"]).path
    page = client.get(path, headers={"Accept": "text/html"}).text
    signed = client.get(path, headers={"Accept": "application/json"}).json()
    claims = verify_status_document(client, signed["jws"])
    assert claims["v"] == licence["version"]
    for text in (str(licence), page, str(claims)):
        assert OFFICER not in text and "window-zhang" not in text
    return licence, page, claims


def test_a_listing_is_published_with_its_objection_until_the_business_repairs_its_credit(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        _open_restaurant(client, runtime, token)
        before, page, claims = _public(client, RESTAURANT)
        assert before["credit_listings"] == [] and claims["credit"] == []
        assert "信用提示" not in page

        listing = _list(client, token, RESTAURANT)
        licence, page, claims = _public(client, RESTAURANT)
        today = runtime.licensing.today().isoformat()
        assert licence["credit_listings"] == [
            {
                "listing_id": listing,
                "list": "abnormal_operations",
                "list_zh": "经营异常名录",
                "list_en": "abnormal operations list",
                "listed_on": today,
                "grounds": GROUNDS,
                "legal_basis": BASIS,
                "state": {"code": "active", "word": "列入中", "english": "listed"},
            }
        ]
        assert licence["version"] > before["version"]  # a changed document is a new version
        assert claims["credit"] == [
            {
                "list": "abnormal_operations",
                "list_zh": "经营异常名录",
                "list_en": "abnormal operations list",
                "listed_on": today,
                "grounds": GROUNDS,
                "legal_basis": BASIS,
                "state": "active",
            }
        ]
        assert "信用提示" in page
        english = client.get(urlsplit(licence["links"]["verification"]).path, params={"lang": "en"})
        assert "Credit notice" in english.text and "abnormal operations list" in english.text
        assert all(s in page for s in ("经营异常名录", today, GROUNDS, BASIS))
        assert "异议审核中" not in page
        # A separate notice: the permits and the banner keep their meaning.
        assert {p["status"]["word"] for p in licence["permits"]} == {"有效"}
        assert ">可以经营</h1>" in page

        _object(client, token, RESTAURANT, listing)
        licence, page, claims = _public(client, RESTAURANT)
        assert [x["state"]["code"] for x in licence["credit_listings"]] == ["objected"]
        assert [x["state"] for x in claims["credit"]] == ["objected"]
        assert "异议审核中" in page and GROUNDS in page

        _decide(client, token, RESTAURANT, listing, upheld=False)
        licence, page, claims = _public(client, RESTAURANT)
        assert [x["state"]["code"] for x in licence["credit_listings"]] == ["active"]
        assert "异议审核中" not in page and "经营异常名录" in page

        client.post(
            f"/api/v1/credit/{RESTAURANT}/listings/{listing}/removal",
            json={"reason": "已补报年报，信用修复", "repaired": True},
            headers=_office(token),
        ).raise_for_status()
        licence, page, claims = _public(client, RESTAURANT)
        assert licence["credit_listings"] == [] and claims["credit"] == []
        assert "信用提示" not in page and "经营异常名录" not in page


def test_an_upheld_objection_ends_the_publicity(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        _open_restaurant(client, runtime, token)
        listing = _list(client, token, RESTAURANT, "serious_dishonesty")
        licence, page, _ = _public(client, RESTAURANT)
        assert [x["list_zh"] for x in licence["credit_listings"]] == ["严重违法失信名单"]
        assert "严重违法失信名单" in page

        _object(client, token, RESTAURANT, listing)
        _decide(client, token, RESTAURANT, listing, upheld=True)
        licence, page, claims = _public(client, RESTAURANT)
        assert licence["credit_listings"] == [] and claims["credit"] == []
        assert "严重违法失信名单" not in page


def test_the_end_of_the_listing_period_ends_the_publicity(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        _open_restaurant(client, runtime, token)
        listing = _list(client, token, RESTAURANT)
        assert _public(client, RESTAURANT)[0]["credit_listings"]

        # The daily job that ends listing periods is not on the API yet: act as it would.
        record: CreditRecord = runtime.app.repository.get(CreditRecord.create_id(RESTAURANT))
        record.expire(actor=SYSTEM, listing_id=listing, on=today_in_china(), reason="列入期满")
        runtime.settle(runtime.app.save(record)[-1].notification.id)
        licence, page, claims = _public(client, RESTAURANT)
        assert licence["credit_listings"] == [] and claims["credit"] == []
        assert "信用提示" not in page


def test_the_licence_as_of_a_past_instant_shows_the_listings_then_in_view(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        _open_restaurant(client, runtime, token)
        moments = []

        def seen() -> None:
            runtime.projector.catch_up()
            moments.append((datetime.now(tz=UTC), runtime.view.licence(RESTAURANT)))

        seen()
        listing = _list(client, token, RESTAURANT)
        seen()
        _object(client, token, RESTAURANT, listing)
        seen()
        _decide(client, token, RESTAURANT, listing, upheld=True)
        seen()
        # Replaying the events to each instant gives exactly what the live view showed then.
        for moment, row in moments:
            assert licence_as_of(runtime.app, RESTAURANT, moment) == row
        states = [
            [
                x["state"]["code"]
                for x in client.get(
                    f"/api/v1/licences/{RESTAURANT}", params={"as_of": moment.isoformat()}
                ).json()["credit_listings"]
            ]
            for moment, _ in moments
        ]
        assert states == [[], ["active"], ["objected"], []]


def test_a_read_model_rebuilt_from_the_events_has_the_same_listings_as_the_live_one(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        _open_restaurant(client, runtime, token)
        _open_restaurant(client, runtime, token, HOTEL)
        _list(client, token, RESTAURANT, "serious_dishonesty")
        objected = _list(client, token, RESTAURANT, "abnormal_operations")
        _object(client, token, RESTAURANT, objected)
        repaired = _list(client, token, HOTEL)
        client.post(
            f"/api/v1/credit/{HOTEL}/listings/{repaired}/removal",
            json={"reason": "信用修复", "repaired": True},
            headers=_office(token),
        ).raise_for_status()
        _list(client, token, HOTEL, "commitment_blacklist")
    runtime.projector.catch_up()
    live = runtime.view.dump()
    assert len(live["credit_records"]) == 2
    assert sorted((x["uscc"], x["list_code"], x["state"]) for x in live["credit_listings"]) == (
        sorted(
            [
                (RESTAURANT, "serious_dishonesty", "active"),
                (RESTAURANT, "abnormal_operations", "objected"),
                (HOTEL, "commitment_blacklist", "active"),
            ]
        )
    )

    env = dict(runtime.env)
    env["FRESH_SQLITE_DBNAME"] = str(runtime.settings.data_dir / "fresh.db")
    fresh = construct_read_model(env, name="Fresh")
    try:
        Projector(runtime.app, fresh).catch_up()
        assert fresh.dump() == live
    finally:
        fresh.datastore.close()
    runtime.projector.rebuild()
    assert runtime.view.dump() == live


def test_every_credit_event_has_a_handler_so_the_licence_version_counts_it() -> None:
    from eventsourcing.domain import DomainEvent

    from projections.credit import HANDLERS

    events = {
        value
        for value in vars(CreditRecord).values()
        if isinstance(value, type)
        and issubclass(value, DomainEvent)
        and value not in (CreditRecord.Event, CreditRecord.Created)
    }
    assert CreditRecord.Expired in events
    missing = sorted(e.__qualname__ for e in events - set(HANDLERS))
    assert missing == [], f"no read-model handler for {missing}"
