"""The daily jobs an operator runs: listing periods ending, deemed outcomes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import httpx

from domain.credit import CreditRecord
from domain.uscc import make_uscc
from licensing import jobs
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import submission, submit

SHOP = make_uscc("91440610MA4DAY001")


def _list(client: httpx.Client, office: dict[str, str], uscc: str, code: str) -> str:
    listed = client.post(
        f"/api/v1/credit/{uscc}/listings",
        json={"list": code, "grounds": "依法列入", "legal_basis": "依据"},
        headers=office,
    )
    assert listed.status_code == 201, listed.text
    return str(listed.headers["location"].rsplit("/", 1)[1])


def test_a_listing_ends_by_itself_only_when_its_list_has_a_period_and_it_is_over(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    office = auth(token("credit", sub="credit-1"))
    with httpx.Client(base_url=server) as client:
        submit(client, token("clerk"), submission(runtime, "open_restaurant", SHOP, "期满饭店"))
        listed_on = runtime.licensing.today()
        _list(client, office, SHOP, "serious_dishonesty")
        _list(client, office, SHOP, "abnormal_operations")

        def states() -> dict[str, str]:
            record = client.get(f"/api/v1/credit/{SHOP}", headers=office).json()
            return {x["list"]: x["state"] for x in record["listings"]}

        # The day before three years are up, nothing moves.
        three_years = runtime.catalogue.credit_lists["serious_dishonesty"].ends_on(listed_on)
        assert three_years is not None
        runtime.licensing.today = lambda: date.fromordinal(three_years.toordinal() - 1)
        assert jobs.expire_listings(runtime.licensing, runtime.index()) == []
        assert states() == {"serious_dishonesty": "active", "abnormal_operations": "active"}

        # On the day, the serious-dishonesty listing is moved out; the abnormal-operations
        # list has no period (it ends by repair), so it stays.
        runtime.licensing.today = lambda: three_years
        assert len(jobs.expire_listings(runtime.licensing, runtime.index())) == 1
        assert states() == {"serious_dishonesty": "removed", "abnormal_operations": "active"}
        assert (
            jobs.expire_listings(runtime.licensing, runtime.index()) == []
        )  # a second run changes nothing
        events = [
            type(e).__name__
            for e in runtime.app.repository.event_store.get(CreditRecord.create_id(SHOP))
        ]
        assert events.count("Expired") == 1


def test_a_period_from_29_february_ends_on_28_february(runtime: Runtime) -> None:
    serious = runtime.catalogue.credit_lists["serious_dishonesty"]
    assert serious.ends_on(date(2024, 2, 29)) == date(2027, 2, 28)
    assert serious.ends_on(date(2024, 3, 1)) == date(2027, 3, 1)
    assert runtime.catalogue.credit_lists["abnormal_operations"].ends_on(date(2024, 3, 1)) is None


def test_the_jobs_find_their_work_in_the_read_model_index(runtime: Runtime) -> None:
    """Candidates come from the read model (no job loads every application ever submitted):
    an application only received, one with a promised material, a listing with a period."""
    from datetime import timedelta

    from domain.actor import Actor
    from domain.bundle import TASK_QUEUED
    from licensing import credit, window
    from tests.stories import APPLICANT, LEGAL_REP

    clerk = Actor(id="clerk-1", role="clerk", district="chancheng")
    today = runtime.licensing.today()

    def details(uscc: str) -> window.BusinessDetails:
        from decimal import Decimal

        return window.BusinessDetails(
            uscc=uscc,
            name="索引饭店",
            entity_type="limited_company",
            legal_representative=dict(LEGAL_REP),
            domicile="佛山",
            business_scope="餐饮服务",
            registered_capital=Decimal(1),
        )

    answers = submission(runtime, "open_restaurant", SHOP, "x")["answers"]
    received = window.submit(
        runtime.licensing,
        theme="open_restaurant",
        business=details(SHOP),
        applicant=dict(APPLICANT),
        answers=answers,
        actor=clerk,
        accept_now=False,
    )
    other = make_uscc("91440610MA4DAY002")
    supply_by = runtime.licensing.calendar.add_working_days(today, 3)
    promised = window.submit(
        runtime.licensing,
        theme="open_restaurant",
        business=details(other),
        applicant=dict(APPLICANT),
        answers=answers,
        actor=clerk,
        deficiencies=[{"material": "房产证明", "supply_by": supply_by}],
    )
    credit.list_business(
        runtime.licensing,
        uscc=other,
        actor=Actor(id="credit-1", role="credit"),
        list_code="serious_dishonesty",
        grounds="依法列入",
        legal_basis="依据",
    )
    index = runtime.index()
    assert index.received_on_or_before(today.isoformat()) == [str(received.id)]
    assert index.received_on_or_before((today - timedelta(days=1)).isoformat()) == []
    after = (supply_by + timedelta(days=1)).isoformat()
    assert index.with_material_overdue(after) == [str(promised.id)]
    assert index.with_material_overdue(supply_by.isoformat()) == []
    listing = index.listed_on_or_before("serious_dishonesty", today.isoformat())
    assert listing == [(other, "L1")]
    assert index.listed_on_or_before("abnormal_operations", today.isoformat()) == []
    # The shipped catalogue deems nothing, so no queued task is a deemed candidate.
    queued = runtime.licensing.application(promised.id).tasks.values()
    assert any(t.state == TASK_QUEUED for t in queued)
    assert index.deemable_before("2099-01-01") == []
    # Once supplied, the material is no longer a lapse candidate; once accepted, the
    # application is no longer waiting at the window.
    window.supply_material(
        runtime.licensing, application_id=promised.id, actor=clerk, material="房产证明"
    )
    window.accept(runtime.licensing, application_id=received.id, actor=clerk)
    index = runtime.index()
    assert index.with_material_overdue(after) == []
    assert index.received_on_or_before(today.isoformat()) == []
