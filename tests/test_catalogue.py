"""The catalogue as data: the seed bundles exist, the merged form asks once, answers are checked."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from domain.errors import NotFound, ValidationFailed
from licensing.catalogue import (
    DATA_DIR,
    Catalogue,
    CatalogueError,
    default_catalogue,
    load_catalogue,
)


@pytest.fixture
def catalogue() -> Catalogue:
    return default_catalogue()


def _hotel_answers() -> dict[str, Any]:
    return {
        "premises_address": "广州市白云区机场路100号",
        "premises_area_m2": "1200.50",
        "food_business_format": "catering",
        "food_categories": "热食类食品制售",
        "food_safety_manager": "李四",
        "has_lift": True,
        "lift_count": 2,
        "has_boiler": False,
        "special_equipment_manager": "王五",
        "room_count": 40,
        "bed_count": 60,
        "has_cctv": True,
        "has_guest_id_system": True,
        "security_manager": "赵六",
        "building_use": "standalone",
        "occupancy_capacity": 150,
        "fire_acceptance_done": True,
        "fire_safety_manager": "钱七",
        "planned_opening_date": "2025-03-01",
        "staff_count": 25,
        "has_disinfection_room": True,
        "hygiene_manager": "孙八",
        "sewage_daily_m3": 12.5,
        "has_grease_trap": True,
        "signboard_text": "白云宾馆",
        "signboard_size_m2": 6,
        "signboard_illuminated": False,
        "distance_to_school_m": 300,
    }


def _problems(catalogue: Catalogue, theme: str, answers: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        catalogue.validate_answers(theme, answers)
    return {problem.name: problem.reason for problem in caught.value.problems}


def test_the_shipped_catalogue_loads(catalogue: Catalogue) -> None:
    assert {"open_hotel", "open_restaurant", "open_pharmacy"} <= set(catalogue.themes)
    assert catalogue.permit_type("business_licence").department == "samr"
    assert catalogue.permit_type("business_licence").validity_years is None
    assert catalogue.department("police").name_zh == "公安局（治安）"
    assert len(catalogue.version) == 12


def test_open_a_hotel_nine_permits_from_seven_departments(catalogue: Catalogue) -> None:
    hotel = catalogue.theme("open_hotel")
    assert hotel.name_zh == "开办旅馆"
    assert len(hotel.permits) == 9
    departments = {catalogue.permit_type(code).department for code in hotel.permits}
    assert departments == {"samr", "police", "fire", "health", "water", "urban", "tobacco"}
    assert catalogue.permit_type("fire_safety_check").mode == "commitment"


def test_open_a_restaurant_and_a_pharmacy(catalogue: Catalogue) -> None:
    restaurant = catalogue.theme("open_restaurant")
    assert len(restaurant.permits) == 5
    assert "public_place_hygiene" not in restaurant.permits  # abolished for restaurants in 2016
    assert len({catalogue.permit_type(p).department for p in restaurant.permits}) == 4
    pharmacy = catalogue.theme("open_pharmacy")
    assert set(pharmacy.permits) == {
        "business_licence",
        "drug_retail",
        "food_operation",
        "class2_device_filing",
        "class3_device_operation",
    }
    assert {catalogue.permit_type(p).department for p in pharmacy.permits} == {"samr"}
    assert catalogue.permit_type("class2_device_filing").mode == "filing"


def test_unknown_names_are_not_found(catalogue: Catalogue) -> None:
    with pytest.raises(NotFound, match="open_spaceport"):
        catalogue.theme("open_spaceport")
    with pytest.raises(NotFound, match="warp_drive"):
        catalogue.permit_type("warp_drive")
    with pytest.raises(NotFound, match="ministry_of_magic"):
        catalogue.department("ministry_of_magic")


def test_merged_form_asks_each_field_once_and_names_its_permits(catalogue: Catalogue) -> None:
    form = catalogue.merged_form("open_hotel")
    codes = [merged.field.code for merged in form.fields]
    assert len(codes) == len(set(codes))
    expected = {use.code for p in catalogue.theme("open_hotel").permits
                for use in catalogue.permit_type(p).fields}
    assert set(codes) == expected
    by_code = {merged.field.code: merged for merged in form.fields}
    assert by_code["room_count"].permits == ("hotel_special_trade", "public_place_hygiene")
    assert by_code["room_count"].required  # required by the police even if optional for health
    assert "food_operation" in by_code["premises_address"].permits
    assert "tobacco_retail" in by_code["premises_address"].permits
    assert codes[0] == "premises_address"  # first appearance decides the order
    assert not by_code["kitchen_area_m2"].required


def test_personal_data_is_not_a_form_question(catalogue: Catalogue) -> None:
    for code in catalogue.fields:
        assert not any(word in code for word in ("id_number", "phone", "mobile", "id_card"))


def test_valid_hotel_answers_come_back_json_native(catalogue: Catalogue) -> None:
    answers = _hotel_answers() | {"opening_hours": "  00:00-24:00 ", "lift_count": 2.0}
    cleaned = catalogue.validate_answers("open_hotel", answers)
    assert cleaned["premises_area_m2"] == "1200.5"
    assert cleaned["sewage_daily_m3"] == "12.5"
    assert cleaned["signboard_size_m2"] == "6"
    assert cleaned["lift_count"] == 2
    assert cleaned["planned_opening_date"] == "2025-03-01"
    assert cleaned["opening_hours"] == "00:00-24:00"
    assert cleaned["has_lift"] is True
    assert "kitchen_area_m2" not in cleaned


def test_every_problem_is_reported_at_once(catalogue: Catalogue) -> None:
    answers = _hotel_answers()
    del answers["room_count"]
    del answers["premises_address"]
    answers |= {
        "bed_count": "60",
        "lift_count": 2.5,
        "has_cctv": "yes",
        "staff_count": True,
        "premises_area_m2": "big",
        "building_use": "cave",
        "distance_to_school_m": -5,
        "signboard_size_m2": 500,
        "planned_opening_date": "01/03/2025",
        "pharmacist_name": "张三",
    }
    problems = _problems(catalogue, "open_hotel", answers)
    assert set(problems) == {
        "answers.room_count",
        "answers.premises_address",
        "answers.bed_count",
        "answers.lift_count",
        "answers.has_cctv",
        "answers.staff_count",
        "answers.premises_area_m2",
        "answers.building_use",
        "answers.distance_to_school_m",
        "answers.signboard_size_m2",
        "answers.planned_opening_date",
        "answers.pharmacist_name",
    }
    assert problems["answers.room_count"] == "required by 旅馆业特种行业许可证 (hotel_special_trade)"
    assert "食品经营许可证 (food_operation)" in problems["answers.premises_address"]
    assert problems["answers.bed_count"] == "expected an integer, got '60'"
    assert problems["answers.lift_count"] == "expected an integer, got 2.5"
    assert problems["answers.has_cctv"] == "expected true or false, got 'yes'"
    assert problems["answers.staff_count"] == "expected an integer, got True"
    assert problems["answers.premises_area_m2"] == "expected a number, got 'big'"
    assert problems["answers.building_use"].startswith("must be one of standalone")
    assert problems["answers.distance_to_school_m"] == "must be at least 0, got -5"
    assert problems["answers.signboard_size_m2"] == "must be at most 200, got 500"
    assert problems["answers.planned_opening_date"].startswith("expected a date")
    assert problems["answers.pharmacist_name"] == "not a question of theme open_hotel"


def test_blank_text_counts_as_missing(catalogue: Catalogue) -> None:
    answers = _hotel_answers() | {"security_manager": "   "}
    assert set(_problems(catalogue, "open_hotel", answers)) == {"answers.security_manager"}


def test_required_names_only_the_permits_that_require_it(catalogue: Catalogue) -> None:
    problems = _problems(catalogue, "open_pharmacy", {})
    # drug_retail requires opening hours; food_operation merely asks.
    assert problems["answers.opening_hours"] == "required by 药品经营许可证（零售） (drug_retail)"
    assert "answers.kitchen_area_m2" not in problems


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_a_permit_naming_an_unknown_department_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    with (data / "permit_types.yaml").open("a", encoding="utf-8") as file:
        file.write(
            "\n- code: moon_landing\n  name_zh: 登月许可\n  name_en: Moon landing permit\n"
            "  department: space_agency\n  mode: approval\n  statutory_days: 20\n"
            "  promised_days: 10\n  validity_years: null\n  site_inspection: false\n"
            "  fields: []\n  inferred: true\n"
        )
    with pytest.raises(CatalogueError, match=r"permit_types\.yaml.*moon_landing.*space_agency"):
        load_catalogue(data)


def test_unknown_keys_and_bad_shapes_are_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    (data / "departments.yaml").write_text(
        "- {code: samr, name_zh: 市场监督管理局, name_en: AMR, colour: blue}\n", encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"departments\.yaml.*'samr'.*colour"):
        load_catalogue(data)


def test_a_theme_naming_an_unknown_permit_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    text = (data / "themes.yaml").read_text(encoding="utf-8")
    (data / "themes.yaml").write_text(
        text.replace("    - tobacco_retail", "    - tobacco_wholesale"), encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"themes\.yaml.*open_hotel.*tobacco_wholesale"):
        load_catalogue(data)


def test_duplicate_codes_are_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    with (data / "departments.yaml").open("a", encoding="utf-8") as file:
        file.write("- {code: fire, name_zh: 消防, name_en: Fire again}\n")
    with pytest.raises(CatalogueError, match=r"departments\.yaml.*'fire'.*twice"):
        load_catalogue(data)


def test_a_changed_file_is_a_new_version(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    before = load_catalogue(data).version
    assert before == default_catalogue().version
    text = (data / "permit_types.yaml").read_text(encoding="utf-8")
    (data / "permit_types.yaml").write_text(
        text.replace("mode: commitment", "mode: approval", 1), encoding="utf-8"
    )
    after = load_catalogue(data)
    assert after.version != before
    assert after.permit_type("fire_safety_check").mode == "approval"
