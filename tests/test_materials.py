"""Materials as data (申请材料): each permit type's materials in the catalogue, and a theme's
merged material list beside its merged form — each material once, with the permits using it."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from httpx import ASGITransport

from api.app import create_app
from licensing.catalogue import DATA_DIR, CatalogueError, default_catalogue, load_catalogue
from licensing.runtime import Runtime


def test_every_material_a_permit_names_is_in_the_catalogue_once() -> None:
    catalogue = default_catalogue()
    used = {m.code for p in catalogue.permit_types.values() for m in p.materials}
    assert used <= set(catalogue.materials)
    assert catalogue.permit_type("hotel_special_trade").materials, "the hotel permit asks some"


def test_every_permit_applied_for_lists_its_materials() -> None:
    # A permit type without materials would let an electronic file be accepted with none at
    # all. A cancelled item (直接取消审批) is applied for by nobody: it asks none, by rule.
    catalogue = default_catalogue()
    applied = [p for p in catalogue.permit_types.values() if p.mode != "cancelled"]
    assert [p.code for p in applied if not p.materials] == []
    cancelled = [p for p in catalogue.permit_types.values() if p.mode == "cancelled"]
    assert cancelled and all(not p.materials for p in cancelled)


def test_the_hotels_materials_are_merged_each_once_with_their_permits() -> None:
    catalogue = default_catalogue()
    permits = catalogue.permits_for("open_hotel")
    listed = catalogue.material_list(permits, {})
    codes = [m["code"] for m in listed]
    assert len(codes) == len(set(codes))
    premises = next(m for m in listed if m["code"] == "premises_use_proof")
    assert premises["name_zh"].startswith("住所（经营场所）使用证明")
    assert {"business_licence", "hotel_special_trade", "public_place_hygiene"} <= set(
        premises["permits"]
    )
    # The lift certificate depends on a form answer nobody gave yet: listed, and says on what.
    lift = next(m for m in listed if m["code"] == "lift_inspection_certificate")
    assert lift["needed"] == "depends"
    assert lift["when"] == [{"permit": "special_equipment_use", "answers": {"has_lift": True}}]
    assert catalogue.material_list(permits, {"has_lift": False}) != listed
    # The fire check is granted on a signed commitment, which replaces its acceptance proof.
    fire = next(m for m in listed if m["code"] == "fire_acceptance_proof")
    assert fire["commitment_may_replace"] == ["fire_safety_check"]


def test_a_permit_naming_an_unknown_material_or_condition_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    permits = data / "permit_types.yaml"
    original = permits.read_text()
    permits.write_text(original.replace("code: security_rules,", "code: no_such_material,", 1))
    with pytest.raises(CatalogueError, match=r"no_such_material.*unknown material"):
        load_catalogue(data)
    permits.write_text(original.replace("when: {has_lift: true}", 'when: {has_lift: "3"}', 1))
    with pytest.raises(CatalogueError, match=r"has_lift=.3."):
        load_catalogue(data)
    permits.write_text(original.replace("when: {has_lift: true}", "when: {no_such: true}", 1))
    with pytest.raises(CatalogueError, match="neither a field"):
        load_catalogue(data)


async def test_the_theme_says_when_its_form_waits_for_situation_answers(
    runtime: Runtime,
) -> None:
    transport = ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://zzt") as client:
        bare = (await client.get("/api/v1/themes/open_convenience_store")).json()
        assert bare["situation"] is None
        assert bare["form_permits"] == ["business_licence"]
        assert "food_sales" in bare["depends_on_situation"]
        assert "?situation=" in bare["form_note"]
        assert bare["form"] == []  # the licence's data travels in the business block
        assert {m["code"] for m in bare["materials"]} == {
            "legal_rep_id",
            "articles_of_association",
            "premises_use_proof",
        }

        asked = "food_sales:other_food,sells_tobacco:true,sells_class2_devices:false,"
        asked += "sells_publications:false,has_outdoor_signboard:false"
        full = await client.get(f"/api/v1/themes/open_convenience_store?situation={asked}")
        assert full.status_code == 200, full.text
        body = full.json()
        assert body["situation"]["sells_tobacco"] is True
        assert body["depends_on_situation"] == [] and body["form_note"] is None
        assert body["form_permits"] == ["business_licence", "food_operation", "tobacco_retail"]
        assert {"food_business_format", "distance_to_school_m"} <= {f["code"] for f in body["form"]}
        premises = next(m for m in body["materials"] if m["code"] == "premises_use_proof")
        assert premises["permits"] == ["business_licence", "food_operation", "tobacco_retail"]

        partial = await client.get("/api/v1/themes/open_convenience_store?situation=food_sales:x")
        assert partial.status_code == 422
        names = {e["name"] for e in partial.json()["errors"]}
        assert {"situation.food_sales", "situation.sells_tobacco"} <= names
        bad = await client.get("/api/v1/themes/open_convenience_store?situation=sells_tobacco")
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
