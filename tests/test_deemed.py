"""Deemed outcomes: where a rule says what an undecided statutory limit means, the daily job
records it; nowhere else does anything happen by itself.

Service-layer stories (memory, SQLite, PostgreSQL) on a catalogue with a deeming rule."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from domain.china import today_in_china
from domain.errors import Conflict
from domain.uscc import make_uscc
from licensing import jobs
from licensing.catalogue import DATA_DIR, Catalogue, CatalogueError, load_catalogue
from projections.history import audit_trail
from tests.service import Service
from tests.stories import store_situation, submission

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
def catalogue(tmp_path: Path) -> Catalogue:
    return load_catalogue(_catalogue_dir(tmp_path, deemed_outcome="approve", deemed_basis=RULE))


def test_a_rule_deems_its_task_approved_the_day_after_the_statutory_limit(
    service: Service,
) -> None:
    runtime = service.runtime
    body = submission(runtime, "open_convenience_store", STORE, "逾期便利店", SITUATION)
    application = service.submit(body)
    tasks = {t["permit_type"]: t for t in application["tasks"]}
    last_day = tasks["tobacco_retail"]["statutory_due_on"]
    assert last_day is not None

    # On the last day of the limit the department may still decide: nothing is deemed.
    runtime.licensing.today = lambda: date.fromisoformat(last_day)
    assert jobs.deem_overdue(runtime.licensing, runtime.index()) == []

    day_after = date.fromisoformat(last_day) + timedelta(days=1)
    runtime.licensing.today = lambda: day_after
    receipts = jobs.deem_overdue(runtime.licensing, runtime.index())
    assert len(receipts) == 1
    assert jobs.deem_overdue(runtime.licensing, runtime.index()) == []  # nothing more deemed

    decided = service.application(application["id"])
    states = {t["permit_type"]: t["state"] for t in decided["tasks"]}
    # Only the task with a rule moved; publications has none and stays overdue.
    assert states["tobacco_retail"] == "approved"
    assert states["publication_retail"] == "queued"
    # 先照后证: the deemed permit is in force once the business licence is issued.
    service.approve(application["id"], "business_licence", "samr", number="BL-1")
    tobacco = service.permits(STORE)["tobacco_retail"]
    assert tobacco["status"]["word"] == "有效"
    assert "视为准予" in tobacco["reason"] and tobacco["legal_basis"] == RULE
    assert tobacco["valid_from"] == day_after.isoformat()

    # The audit trail names the system, not a reviewer, as the one who decided.
    deemed = [
        (x["actor"]["role"], x["legal_basis"])
        for x in audit_trail(runtime.app, STORE)
        if x["subject"] == "permit:tobacco_retail" and x["what"] == "Approved"
    ]
    assert deemed == [("system", RULE)]

    # The department can no longer decide what the rule decided.
    with pytest.raises(Conflict):
        service.refuse(application["id"], "tobacco_retail", "tobacco", reason="迟到", basis="无")


def test_a_paused_task_is_not_deemed(service: Service) -> None:
    runtime = service.runtime
    body = submission(runtime, "open_convenience_store", STORE, "补正便利店", SITUATION)
    application = service.submit(body)
    service.request_supplement(
        application["id"], "tobacco_retail", "tobacco", items=["经营场所证明"], note="请补正"
    )
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
