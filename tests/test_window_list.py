"""The window finds its work again: `GET /applications` pages and filters, and a clerk sees
only its own district's applications (another district's is not found, as its list says);
an administrator sees every district's."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from domain.actor import Actor
from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from licensing.signing import mint_access_token
from tests.conftest import auth
from tests.stories import store_situation, submission, submit


def _bearer(runtime: Runtime, role: str, district: str | None = None, sub: str = "u") -> str:
    actor = Actor(id=sub, role=role, district=district)
    return mint_access_token(runtime.auth_secret, actor, issuer=runtime.settings.issuer)


def test_a_clerk_lists_only_its_districts_applications_in_pages_and_filtered(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    chancheng = _bearer(runtime, "clerk", "chancheng", "clerk-cc")
    nanhai = _bearer(runtime, "clerk", "nanhai", "clerk-nh")
    admin = _bearer(runtime, "admin", sub="root")
    store = store_situation()
    with httpx.Client(base_url=server, timeout=30) as client:
        ours = [
            submit(
                client,
                chancheng,
                submission(
                    runtime,
                    "open_convenience_store",
                    make_uscc(f"91440604MA5CC{n:03d}0"),
                    f"禅城便利店{n}",
                    store,
                ),
            )
            for n in range(3)
        ]
        received = submission(
            runtime, "open_convenience_store", make_uscc("91440604MA5CC9990"), "禅城收件店", store
        )
        ours.append(submit(client, chancheng, received | {"accept_now": False}))
        theirs = submit(
            client,
            nanhai,
            submission(
                runtime,
                "open_convenience_store",
                make_uscc("91440605MA5NH0010"),
                "南海便利店",
                store,
            ),
        )
        assert theirs["district"] == "nanhai" and ours[0]["district"] == "chancheng"

        def listing(bearer: str, **params: object) -> httpx.Response:
            return client.get("/api/v1/applications", params=params, headers=auth(bearer))

        page = listing(chancheng).json()
        assert page["total"] == 4
        # Newest first, every one the clerk's district's, each linked.
        assert [a["id"] for a in page["applications"]] == [a["id"] for a in reversed(ours)]
        assert {a["district"] for a in page["applications"]} == {"chancheng"}
        first = page["applications"][-1]
        assert first["business_name"] == "禅城便利店0"
        assert first["links"]["self"] == f"/api/v1/applications/{ours[0]['id']}"
        today = today_in_china().isoformat()
        assert first["received_on"] == today and first["accepted_on"] == today

        # Pages: limit and offset, total on every page.
        pages = [listing(chancheng, limit=3, offset=o).json() for o in (0, 3)]
        assert [len(p["applications"]) for p in pages] == [3, 1]
        assert {p["total"] for p in pages} == {4}
        assert [a["id"] for p in pages for a in p["applications"]] == [
            a["id"] for a in page["applications"]
        ]

        # Filters: by USCC, by status (several), by the day of receipt.
        by_uscc = listing(chancheng, uscc=ours[1]["uscc"]).json()
        assert [a["id"] for a in by_uscc["applications"]] == [ours[1]["id"]]
        only_received = listing(chancheng, status="received").json()
        assert [a["id"] for a in only_received["applications"]] == [ours[3]["id"]]
        assert only_received["applications"][0]["accepted_on"] is None
        both = client.get(
            "/api/v1/applications?status=received&status=decided", headers=auth(chancheng)
        ).json()
        assert both["total"] == 1
        assert listing(chancheng, received_from=today, received_to=today).json()["total"] == 4
        assert listing(chancheng, received_to="2026-01-01").json()["total"] == 0
        # Nanhai's application is not in Chancheng's list, even asked for by its USCC.
        assert listing(chancheng, uscc=theirs["uscc"]).json()["total"] == 0

        # A clerk may not ask for another district; an administrator sees all, or one.
        refused = listing(chancheng, district="nanhai")
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "chancheng" in refused.json()["detail"]
        assert listing(chancheng, district="chancheng").json()["total"] == 4
        assert listing(admin).json()["total"] == 5
        assert [a["id"] for a in listing(admin, district="nanhai").json()["applications"]] == [
            theirs["id"]
        ]
        # Other roles, and bad filters, are refused with a problem document.
        department = listing(token("department", "fire"))
        assert department.status_code == 403
        for params in ({"limit": 0}, {"limit": 201}, {"status": "nonsense"}, {"received_to": "x"}):
            bad = listing(chancheng, **params)
            assert bad.status_code == 422, params
            assert bad.json()["errors"], params


def test_a_clerk_of_another_district_cannot_read_or_act_on_an_application(
    server: str, runtime: Runtime
) -> None:
    """Another district's application answers 404, as an unknown number does: the clerk's
    list does not show it, and nothing tells that the number exists elsewhere."""
    chancheng = _bearer(runtime, "clerk", "chancheng", "clerk-cc")
    nanhai = _bearer(runtime, "clerk", "nanhai", "clerk-nh")
    unplaced = _bearer(runtime, "clerk", None, "clerk-none")
    admin = _bearer(runtime, "admin", sub="root")
    with httpx.Client(base_url=server, timeout=30) as client:
        body = submission(
            runtime,
            "open_convenience_store",
            make_uscc("91440604MA5CC7770"),
            "禅城收件店",
            store_situation(),
        )
        application = submit(client, chancheng, body | {"accept_now": False})
        path = f"/api/v1/applications/{application['id']}"
        for bearer in (nanhai, unplaced):
            for method, suffix, payload in (
                ("GET", "", None),
                ("GET", "/supplement-notice", None),
                ("POST", "/acceptance", {"decision": "accept"}),
                ("POST", "/withdrawal", {"reason": "不办了"}),
            ):
                answer = client.request(method, path + suffix, json=payload, headers=auth(bearer))
                assert answer.status_code == 404, (method, suffix, answer.text)
                assert answer.json()["type"] == "/problems/not-found"
        # Nothing was written: still only received, at its own window.
        mine = client.get(path, headers=auth(chancheng))
        assert mine.status_code == 200 and mine.json()["status"] == "received"
        assert mine.json()["version"] == application["version"]
        # The administrator reads it; the own district's clerk accepts it.
        assert client.get(path, headers=auth(admin)).json()["district"] == "chancheng"
        accepted = client.post(
            path + "/acceptance", json={"decision": "accept"}, headers=auth(chancheng)
        )
        assert accepted.status_code == 200 and accepted.json()["status"] == "in_review"
