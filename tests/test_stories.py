"""The seeds' stories over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from domain.uscc import make_uscc
from licensing.runtime import Runtime, construct_read_model
from projections.projector import Projector
from tests.conftest import BASE_URL, auth
from tests.stories import decode_qr, submission, submit, verify_status_document

HOTEL = make_uscc("91440605MA4H0TE1A")
RESTAURANT = make_uscc("91440605MA4REXTA1")


def _event_count(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def test_open_a_hotel_nine_permits_seven_departments_decide_in_parallel(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        theme = client.get("/api/v1/themes/open_hotel").json()
        assert theme["permit_count"] == 9 and theme["department_count"] == 7

        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "南海旅馆")
        )
        assert application["status"] == "in_review"
        tasks_by_department: dict[str, list[str]] = defaultdict(list)
        for task in application["tasks"]:
            tasks_by_department[task["department"]].append(task["permit_type"])
        assert len(application["tasks"]) == 9 and len(tasks_by_department) == 7

        # Before any decision the public sees nine permits 核查中.
        licence = client.get(f"/api/v1/licences/{HOTEL}").json()
        assert [p["status"]["word"] for p in licence["permits"]] == ["核查中"] * 9

        failures: list[str] = []
        start = threading.Barrier(len(tasks_by_department))

        def department_decides(department: str) -> None:
            bearer = token("department", department)
            with httpx.Client(base_url=server, timeout=60) as own:
                worklist = own.get(
                    f"/api/v1/departments/{department}/tasks",
                    params={"state": "queued"},
                    headers=auth(bearer),
                ).json()["tasks"]
                mine = [t for t in worklist if t["application_id"] == application["id"]]
                if sorted(t["permit_type"] for t in mine) != sorted(
                    tasks_by_department[department]
                ):
                    failures.append(f"{department} worklist: {worklist}")
                start.wait()
                for task in mine:
                    response = own.post(
                        task["links"]["decision"],
                        json={
                            "outcome": "approve",
                            "permit_number": f"{department}-{task['permit_type']}",
                        },
                        headers=auth(bearer),
                    )
                    if response.status_code != 200:
                        failures.append(f"{department}: {response.status_code} {response.text}")

        threads = [
            threading.Thread(target=department_decides, args=(d,)) for d in tasks_by_department
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []

        decided = client.get(
            f"/api/v1/applications/{application['id']}", headers=auth(token("clerk"))
        ).json()
        assert decided["status"] == "decided"
        assert {t["state"] for t in decided["tasks"]} == {"approved"}

        licence = client.get(f"/api/v1/licences/{HOTEL}").json()
        assert licence["status"]["word"] == "存续"
        assert [p["status"]["word"] for p in licence["permits"]] == ["有效"] * 9
        assert {p["permit_number"] for p in licence["permits"]} == {
            f"{d}-{p}" for d, ps in tasks_by_department.items() for p in ps
        }

        # The printed QR: an https URL on our public origin, decoded by an independent reader.
        png = client.get(f"/api/v1/licences/{HOTEL}/qr.png")
        assert png.headers["content-type"] == "image/png"
        url = decode_qr(png.content)
        assert url.startswith(f"{BASE_URL}/v/")
        path = urlsplit(url).path

        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert page.text.count('data-standing="in_force"') == 9
        assert '<h1 id="verdict" data-code="may_operate">可以经营</h1>' in page.text
        assert LEGAL_REP_PRIVATE_BITS_ABSENT(page.text)

        signed = client.get(path, headers={"Accept": "application/json"}).json()
        claims = verify_status_document(client, signed["jws"])
        assert claims["sub"] == HOTEL and claims["v"] == licence["version"]
        assert [p["status"] for p in claims["permits"]] == ["valid"] * 9

        svg = client.get(f"/api/v1/licences/{HOTEL}/qr.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content


def LEGAL_REP_PRIVATE_BITS_ABSENT(text: str) -> bool:
    from tests.stories import LEGAL_REP

    return all(LEGAL_REP[k] not in text for k in ("name", "id_number", "mobile"))


def test_a_refusal_shows_invalid_with_its_reason_on_the_licence_and_the_public_page(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_restaurant", RESTAURANT, "桂城饭店")
        )
        reason = "排水许可：未设置隔油池"
        basis = "《城镇排水与污水处理条例》第二十一条"
        for task in application["tasks"]:
            department = task["department"]
            if task["permit_type"] == "sewage_discharge":
                body = {"outcome": "refuse", "reason": reason, "legal_basis": basis}
            else:
                body = {"outcome": "approve", "permit_number": f"N-{task['permit_type']}"}
            response = client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json=body,
                headers=auth(token("department", department)),
            )
            assert response.status_code == 200, response.text

        licence = client.get(f"/api/v1/licences/{RESTAURANT}").json()
        by_type = {p["permit_type"]: p for p in licence["permits"]}
        refused = by_type.pop("sewage_discharge")
        assert refused["status"]["word"] == "无效"
        assert refused["reason"] == reason and refused["legal_basis"] == basis
        assert {p["status"]["word"] for p in by_type.values()} == {"有效"}

        url = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)
        page = client.get(urlsplit(url).path, headers={"Accept": "text/html"}).text
        assert 'data-standing="refused"' in page and ">不予许可</span>" in page
        assert reason in page and basis in page
        assert ">部分经营项目不可经营</h1>" in page


def test_a_department_deciding_another_departments_task_is_refused_and_nothing_is_written(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "南海旅馆")
        )
        before = _event_count(runtime)
        response = client.post(
            f"/api/v1/applications/{application['id']}/tasks/hotel_special_trade/decision",
            json={"outcome": "approve", "permit_number": "FIRE-1"},
            headers=auth(token("department", "fire")),
        )
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "police" in response.json()["detail"]
        # Nor may it read another department's worklist, nor a clerk decide at all.
        assert (
            client.get(
                "/api/v1/departments/police/tasks", headers=auth(token("department", "fire"))
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/api/v1/applications/{application['id']}/tasks/fire_safety_check/decision",
                json={"outcome": "approve", "permit_number": "X"},
                headers=auth(token("clerk")),
            ).status_code
            == 403
        )
        assert _event_count(runtime) == before
        licence = client.get(f"/api/v1/licences/{HOTEL}").json()
        assert {p["status"]["word"] for p in licence["permits"]} == {"核查中"}


def test_deciding_a_decided_task_is_a_conflict_and_writes_nothing(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "南海旅馆")
        )
        url = f"/api/v1/applications/{application['id']}/tasks/fire_safety_check/decision"
        fire = auth(token("department", "fire"))
        assert (
            client.post(
                url, json={"outcome": "approve", "permit_number": "F-1"}, headers=fire
            ).status_code
            == 200
        )
        before = _event_count(runtime)
        again = client.post(
            url, json={"outcome": "refuse", "reason": "r", "legal_basis": "b"}, headers=fire
        )
        assert again.status_code == 409 and again.json()["type"] == "/problems/conflict"
        assert _event_count(runtime) == before


def test_the_same_department_racing_itself_on_one_task_decides_it_once(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "南海旅馆")
        )
    url = f"/api/v1/applications/{application['id']}/tasks/food_operation/decision"
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def race(n: int) -> None:
        with httpx.Client(base_url=server, timeout=60) as own:
            barrier.wait()
            r = own.post(
                url,
                json={"outcome": "approve", "permit_number": f"F-{n}"},
                headers=auth(token("department", "samr")),
            )
            statuses.append(r.status_code)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 5
    permit = runtime.licensing.permit(HOTEL, "food_operation")
    assert permit.version == 2  # applied, approved once


@pytest.mark.parametrize(
    ("change", "expected_names"),
    [
        pytest.param(
            lambda b: b["business"].update(uscc=HOTEL[:-1] + ("0" if HOTEL[-1] != "0" else "1")),
            {"business.uscc"},
            id="bad-uscc-check-character",
        ),
        pytest.param(
            lambda b: b["business"].update(uscc="91440605MA4H0TE1"),
            {"business.uscc"},
            id="short-uscc",
        ),
        pytest.param(lambda b: b.update(theme="open_casino"), {"theme"}, id="unknown-theme"),
        pytest.param(
            lambda b: b["answers"].pop("room_count"),
            {"answers.room_count"},
            id="missing-required-field",
        ),
        pytest.param(
            lambda b: b["answers"].update(room_count="twelve"),
            {"answers.room_count"},
            id="wrong-type",
        ),
        pytest.param(
            lambda b: b["business"].update(registered_capital="lots"),
            {"business.registered_capital"},
            id="capital-not-a-number",
        ),
        pytest.param(
            lambda b: b["business"]["legal_representative"].update(mobile="12"),
            {"business.legal_representative.mobile"},
            id="bad-mobile",
        ),
        pytest.param(lambda b: b.pop("business"), {"business"}, id="no-business"),
        pytest.param(
            lambda b: b["business"].update(entity_type="empire"),
            {"business.entity_type"},
            id="entity-type",
        ),
    ],
)
def test_malformed_submissions_are_422_problem_documents_and_write_nothing(
    server: str, runtime: Runtime, token: Callable[..., str], change, expected_names: set[str]
) -> None:
    body = submission(runtime, "open_hotel", HOTEL, "南海旅馆")
    change(body)
    before = _event_count(runtime)
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.post("/api/v1/applications", json=body, headers=auth(token("clerk")))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 422 and problem["title"]
        assert {e["name"] for e in problem["errors"]} >= expected_names, problem
        assert all(e["detail"] for e in problem["errors"])
        assert client.get(f"/api/v1/licences/{HOTEL}").status_code == 404
    assert _event_count(runtime) == before


def test_the_projection_rebuilt_from_scratch_equals_the_live_one(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    test_a_refusal_shows_invalid_with_its_reason_on_the_licence_and_the_public_page(
        server, runtime, token
    )
    with httpx.Client(base_url=server, timeout=30) as client:
        submit(client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "南海旅馆"))
    runtime.projector.catch_up()
    live = runtime.view.dump()
    assert live["licences"] and live["permits"] and live["tasks"]

    # A second read model, built from nothing but the events.
    env = dict(runtime.env)
    env["FRESH_SQLITE_DBNAME"] = str(runtime.settings.data_dir / "fresh.db")
    fresh = construct_read_model(env, name="Fresh")
    replayed = Projector(runtime.app, fresh).catch_up()
    assert replayed == _event_count(runtime)
    assert fresh.dump() == live

    # And the live one rebuilt in place.
    assert runtime.projector.rebuild() == replayed
    assert runtime.view.dump() == live
    fresh.datastore.close()
