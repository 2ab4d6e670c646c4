"""Deemed outcomes: where a rule says what an undecided statutory limit means, the daily job
records it; nowhere else does anything happen by itself."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing import jobs
from licensing.catalogue import DATA_DIR, CatalogueError, load_catalogue
from licensing.runtime import Runtime
from licensing.settings import Settings
from tests.conftest import auth
from tests.stories import store_situation, submission, submit

STORE = make_uscc("91440610MA4DEEM01")
RULE = "《测试规则》第一条：逾期未作决定的，视为准予"
# tobacco_retail: approval mode, deemed approved in this catalogue; publication_retail:
# approval mode, no rule.
SITUATION = store_situation("none", sells_tobacco=True, sells_publications=True)


def _catalogue_dir(tmp_path: Path, **tobacco: object) -> Path:
    data = tmp_path / "catalogue"
    shutil.copytree(DATA_DIR, data)
    path = data / "permit_types.yaml"
    permits = yaml.safe_load(path.read_text(encoding="utf-8"))
    for permit in permits:
        if permit["code"] == "tobacco_retail":
            permit.update(tobacco)
    path.write_text(yaml.safe_dump(permits, allow_unicode=True), encoding="utf-8")
    return data


@pytest.fixture
def runtime(settings: Settings, tmp_path: Path) -> Iterator[Runtime]:
    catalogue = load_catalogue(
        _catalogue_dir(tmp_path, deemed_outcome="approve", deemed_basis=RULE)
    )
    rt = Runtime(settings, catalogue=catalogue)
    yield rt
    rt.close()


def test_a_rule_deems_its_task_approved_the_day_after_the_statutory_limit(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        body = submission(runtime, "open_convenience_store", STORE, "逾期便利店", SITUATION)
        application = submit(client, token("clerk"), body)
        tasks = {t["permit_type"]: t for t in application["tasks"]}
        last_day = tasks["tobacco_retail"]["statutory_due_on"]
        assert last_day is not None
        # The business licence is issued: what is deemed granted is in force (先照后证).
        client.post(
            f"/api/v1/applications/{application['id']}/tasks/business_licence/decision",
            json={"outcome": "approve", "permit_number": "BL-D-1"},
            headers=auth(token("department", "samr")),
        ).raise_for_status()

        # On the last day of the limit the department may still decide: nothing is deemed.
        runtime.licensing.today = lambda: date.fromisoformat(last_day)
        assert jobs.deem_overdue(runtime.licensing, runtime.index()) == []

        day_after = date.fromisoformat(last_day) + timedelta(days=1)
        runtime.licensing.today = lambda: day_after
        receipts = jobs.deem_overdue(runtime.licensing, runtime.index())
        assert len(receipts) == 1
        assert (
            jobs.deem_overdue(runtime.licensing, runtime.index()) == []
        )  # a second run deems nothing more
        runtime.projector.wait_for(receipts[0].position, 10)

        decided = client.get(
            f"/api/v1/applications/{application['id']}", headers=auth(token("clerk"))
        ).json()
        states = {t["permit_type"]: t["state"] for t in decided["tasks"]}
        # Only the task with a rule moved; publications has none and stays overdue.
        assert states["tobacco_retail"] == "approved"
        assert states["publication_retail"] == "queued"
        licence = client.get(f"/api/v1/licences/{STORE}").json()
        tobacco = next(p for p in licence["permits"] if p["permit_type"] == "tobacco_retail")
        assert tobacco["status"]["word"] == "有效"
        assert "视为准予" in tobacco["reason"] and tobacco["legal_basis"] == RULE
        assert tobacco["valid_from"] == day_after.isoformat()

        # The audit trail names the system, not a reviewer, as the one who decided.
        trail = client.get(
            f"/api/v1/licences/{STORE}/history", headers=auth(token("registrar", sub="r"))
        ).json()
        deemed = [
            (x["actor"]["role"], x["legal_basis"])
            for x in trail["events"]
            if x["subject"] == "permit:tobacco_retail" and x["what"] == "Approved"
        ]
        assert deemed == [("system", RULE)]

        # The department can no longer decide what the rule decided.
        late = client.post(
            f"/api/v1/applications/{application['id']}/tasks/tobacco_retail/decision",
            json={"outcome": "refuse", "reason": "迟到", "legal_basis": "无"},
            headers=auth(token("department", "tobacco")),
        )
        assert late.status_code == 409


def test_a_paused_task_is_not_deemed(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    with httpx.Client(base_url=server) as client:
        body = submission(runtime, "open_convenience_store", STORE, "补正便利店", SITUATION)
        application = submit(client, token("clerk"), body)
        asked = client.post(
            f"/api/v1/applications/{application['id']}/tasks/tobacco_retail/supplement-request",
            json={"items": ["经营场所证明"], "note": "请补正"},
            headers=auth(token("department", "tobacco")),
        )
        assert asked.status_code == 200, asked.text
        runtime.licensing.today = lambda: today_in_china() + timedelta(days=365)
        assert jobs.deem_overdue(runtime.licensing, runtime.index()) == []


def test_a_deemed_outcome_needs_its_rule_and_never_applies_to_the_business_licence(
    tmp_path: Path,
) -> None:
    with pytest.raises(CatalogueError, match="deemed_basis"):
        load_catalogue(_catalogue_dir(tmp_path / "a", deemed_outcome="approve"))
    data = tmp_path / "b" / "catalogue"
    shutil.copytree(DATA_DIR, data)
    path = data / "permit_types.yaml"
    permits = yaml.safe_load(path.read_text(encoding="utf-8"))
    permits[0].update(deemed_outcome="approve", deemed_basis=RULE)
    assert permits[0]["code"] == "business_licence"
    path.write_text(yaml.safe_dump(permits, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError, match="never deemed"):
        load_catalogue(data)
    # The shipped catalogue deems nothing: no rule known to us sets an outcome.
    shipped = load_catalogue()
    assert [p.code for p in shipped.permit_types.values() if p.deemed_outcome] == []
