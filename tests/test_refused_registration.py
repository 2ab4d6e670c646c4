"""A refused 营业执照: nothing else of the business stands, and it may apply again."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import store_situation, submission, submit

STORE = make_uscc("91440610MA4REAP01")
# A filing (有效 on the spot), and tobacco: an approval still under review when the licence
# is refused.
SITUATION = store_situation(sells_tobacco=True)


def _licence_decision(
    client: httpx.Client, application: dict, token: Callable[..., str], body: dict
) -> httpx.Response:
    return client.post(
        f"/api/v1/applications/{application['id']}/tasks/business_licence/decision",
        json=body,
        headers=auth(token("department", "samr")),
    )


def test_a_refused_business_licence_ends_every_permit_and_the_code_can_apply_again(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        first = submit(
            client,
            token("clerk"),
            submission(runtime, "open_convenience_store", STORE, "重名便利店", SITUATION),
        )
        before = {
            p["permit_type"]: p["status"]["word"]
            for p in client.get(f"/api/v1/licences/{STORE}").json()["permits"]
        }
        assert before["prepackaged_food_filing"] == "无效"  # 先照后证: not before the licence
        assert before["tobacco_retail"] == "核查中"

        refused = _licence_decision(
            client,
            first,
            token,
            {
                "outcome": "refuse",
                "reason": "企业名称与已登记名称近似",
                "legal_basis": "《企业名称登记管理规定》第十七条",
            },
        )
        assert refused.status_code == 200, refused.text
        assert refused.json()["status"] == "decided"
        tasks = {t["permit_type"]: t for t in refused.json()["tasks"]}
        assert tasks["tobacco_retail"]["state"] == "withdrawn"

        licence = client.get(f"/api/v1/licences/{STORE}").json()
        assert licence["status"]["code"] == "refused"
        words = {p["permit_type"]: (p["status"]["word"], p["reason"]) for p in licence["permits"]}
        # The filing granted at submission does not outlive the business that never existed.
        assert {w for w, _ in words.values()} == {"无效"}
        assert "企业名称与已登记名称近似" in words["prepackaged_food_filing"][1]
        # Nothing is left waiting on the tobacco department's worklist.
        tobacco = auth(token("department", "tobacco"))
        worklist = client.get("/api/v1/departments/tobacco/tasks", headers=tobacco).json()
        assert [t for t in worklist["tasks"] if t["uscc"] == STORE] == []
        ended = client.get(
            "/api/v1/departments/tobacco/tasks", params={"status": "decided"}, headers=tobacco
        ).json()
        assert [t["state"] for t in ended["tasks"] if t["uscc"] == STORE] == ["withdrawn"]

        # The same code applies again, under a new name, and is established this time.
        body = submission(runtime, "open_convenience_store", STORE, "新名便利店", SITUATION)
        second = submit(client, token("clerk"), body)
        assert second["id"] != first["id"]
        assert "business_licence" in {t["permit_type"] for t in second["tasks"]}
        approved = _licence_decision(
            client, second, token, {"outcome": "approve", "permit_number": "SAMR-2"}
        )
        assert approved.status_code == 200, approved.text
        licence = client.get(f"/api/v1/licences/{STORE}").json()
        assert (licence["name"], licence["status"]["code"]) == ("新名便利店", "active")
        words = {p["permit_type"]: p["status"]["word"] for p in licence["permits"]}
        assert words["prepackaged_food_filing"] == "有效"
        assert words["business_licence"] == "有效"


def test_only_a_refused_registration_is_applied_for_again(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        body = submission(runtime, "open_convenience_store", STORE, "在办便利店", SITUATION)
        submit(client, token("clerk"), body)
        before = runtime.app.recorder.max_notification_id()
        again = client.post("/api/v1/applications", json=body, headers=auth(token("clerk")))
        # The permits it is still applying for cannot be applied for twice.
        assert again.status_code == 409, again.text
        assert runtime.app.recorder.max_notification_id() == before


def test_a_refused_business_licence_also_ends_a_second_application_filed_meanwhile(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    uscc = make_uscc("91440610MA4REAP02")
    with httpx.Client(base_url=server) as client:
        first = submit(
            client,
            token("clerk"),
            submission(runtime, "open_convenience_store", uscc, "双件便利店", SITUATION),
        )
        # While it is being established, the business also applies to open a restaurant.
        second = submit(
            client, token("clerk"), submission(runtime, "open_restaurant", uscc, "双件便利店")
        )
        assert "business_licence" not in {t["permit_type"] for t in second["tasks"]}
        refused = _licence_decision(
            client,
            first,
            token,
            {
                "outcome": "refuse",
                "reason": "名称不予登记",
                "legal_basis": "《企业名称登记管理规定》",
            },
        )
        assert refused.status_code == 200, refused.text
        after = client.get(
            f"/api/v1/applications/{second['id']}", headers=auth(token("clerk"))
        ).json()
        # Nothing is left for a department to decide on a business that does not exist.
        assert after["status"] == "decided"
        assert {t["state"] for t in after["tasks"]} <= {"withdrawn", "informed"}
        fire = client.get(
            "/api/v1/departments/fire/tasks",
            params={"state": "withdrawn"},
            headers=auth(token("department", "fire")),
        ).json()
        assert [t["state"] for t in fire["tasks"] if t["uscc"] == uscc] == ["withdrawn"]
