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
        assert jobs.expire_listings(runtime.licensing) == []
        assert states() == {"serious_dishonesty": "active", "abnormal_operations": "active"}

        # On the day, the serious-dishonesty listing is moved out; the abnormal-operations
        # list has no period (it ends by repair), so it stays.
        runtime.licensing.today = lambda: three_years
        assert len(jobs.expire_listings(runtime.licensing)) == 1
        assert states() == {"serious_dishonesty": "removed", "abnormal_operations": "active"}
        assert jobs.expire_listings(runtime.licensing) == []  # a second run changes nothing
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
