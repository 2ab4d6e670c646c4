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
from licensing.demo import sample_answer


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
    assert all(use.mandatory for use in hotel.permits)
    departments = {
        catalogue.permit_type(code).department for code in catalogue.permits_for("open_hotel")
    }
    assert departments == {"samr", "police", "fire", "health", "water", "urban", "tobacco"}
    assert catalogue.permit_type("fire_safety_check").mode == "commitment"


def test_open_a_restaurant_and_a_pharmacy(catalogue: Catalogue) -> None:
    restaurant = catalogue.permits_for("open_restaurant")
    assert len(restaurant) == 5
    assert "public_place_hygiene" not in restaurant  # abolished for restaurants in 2016
    assert len({catalogue.permit_type(p).department for p in restaurant}) == 4
    pharmacy = catalogue.permits_for("open_pharmacy")
    assert set(pharmacy) == {
        "business_licence",
        "drug_retail",
        "food_operation",
        "class2_device_filing",
        "class3_device_operation",
    }
    assert {catalogue.permit_type(p).department for p in pharmacy} == {"samr"}
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
    expected = {
        use.code
        for p in catalogue.permits_for("open_hotel")
        for use in catalogue.permit_type(p).fields
    }
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
    assert (
        problems["answers.room_count"] == "required by 旅馆业特种行业许可证 (hotel_special_trade)"
    )
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
    # A mode can change by catalogue version (R64): the first filing goes back to approval.
    (data / "permit_types.yaml").write_text(
        text.replace("mode: filing", "mode: approval", 1), encoding="utf-8"
    )
    after = load_catalogue(data)
    assert after.version != before
    assert after.permit_type("prepackaged_food_filing").mode == "approval"


# --- the real catalogue: size, modes, commitments ---------------------------------------------

SEED_NAMED = {  # the only permit types the seeds themselves name (000:579, 000:189)
    "business_licence",
    "food_operation",
    "hotel_special_trade",
    "drug_retail",
    "class2_device_filing",
    "class3_device_operation",
}


def test_the_catalogue_holds_a_real_batch(catalogue: Catalogue) -> None:
    assert len(catalogue.themes) >= 12
    assert len(catalogue.permit_types) >= 30
    assert len(catalogue.departments) >= 12
    modes = {permit.mode for permit in catalogue.permit_types.values()}
    assert modes == {"cancelled", "filing", "commitment", "approval"}
    names = [(d.code, d.name_zh, d.name_en) for d in catalogue.departments.values()]
    names += [(p.code, p.name_zh, p.name_en) for p in catalogue.permit_types.values()]
    names += [(t.code, t.name_zh, t.name_en) for t in catalogue.themes.values()]
    for code, name_zh, name_en in names:
        assert name_zh.strip() and name_en.strip(), code
    used = {permit.department for permit in catalogue.permit_types.values()}
    assert {
        "culture",
        "ecology",
        "transport",
        "agriculture",
        "tax",
        "hrss",
        "housing_fund",
        "health",
        "police",
    } <= used


def test_what_the_seeds_do_not_name_is_marked_inferred(catalogue: Catalogue) -> None:
    for code, permit in catalogue.permit_types.items():
        if code not in SEED_NAMED:
            assert permit.inferred, code
    assert [code for code, theme in catalogue.themes.items() if not theme.inferred] == [
        "open_pharmacy"
    ]


def test_every_commitment_permit_carries_its_letter_and_a_verification_deadline(
    catalogue: Catalogue,
) -> None:
    commitments = [p for p in catalogue.permit_types.values() if p.mode == "commitment"]
    assert len(commitments) >= 3
    for permit in commitments:
        assert permit.commitment is not None, permit.code
        assert permit.commitment.version
        assert "承诺" in permit.commitment.text_zh
        assert "undertake" in permit.commitment.text_en
        assert permit.verification_days is not None and permit.verification_days > 0
    for permit in catalogue.permit_types.values():
        if permit.mode != "commitment":
            assert permit.commitment is None and permit.verification_days is None, permit.code
        if permit.mode != "approval":
            assert permit.deemed_outcome is None, permit.code
    assert catalogue.permit_type("fire_safety_check").verification_days == 20


def test_cancelled_items_issue_nothing_and_filings_are_done_on_the_spot(
    catalogue: Catalogue,
) -> None:
    cancelled = [p for p in catalogue.permit_types.values() if p.mode == "cancelled"]
    filings = [p for p in catalogue.permit_types.values() if p.mode == "filing"]
    assert len(cancelled) >= 2 and len(filings) >= 4
    for permit in cancelled:
        assert (permit.statutory_days, permit.promised_days) == (0, 0)
        assert permit.validity_years is None and permit.fields == ()
        assert not permit.site_inspection
    for permit in filings:
        assert permit.promised_days == 0, permit.code


def test_company_opening_is_licence_seal_tax_insurance_fund_bank(catalogue: Catalogue) -> None:
    everything = catalogue.all_permits("start_company")
    assert everything == (
        "business_licence",
        "seal_filing",
        "tax_registration",
        "invoice_first_claim",
        "social_insurance_registration",
        "employment_filing",
        "housing_fund_registration",
        "bank_account_permit",
    )
    modes = [catalogue.permit_type(code).mode for code in everything[1:]]
    assert set(modes) == {"filing", "cancelled"}
    solo = catalogue.permits_for("start_company", {"needs_invoices": False, "has_employees": False})
    assert "employment_filing" not in solo and "invoice_first_claim" not in solo


# --- the seed bundles are exactly as before ----------------------------------------------------

HOTEL_PERMITS = [
    "business_licence",
    "food_operation",
    "special_equipment_use",
    "hotel_special_trade",
    "fire_safety_check",
    "public_place_hygiene",
    "sewage_discharge",
    "outdoor_signboard",
    "tobacco_retail",
]
HOTEL_FIELDS = [
    "premises_address",
    "premises_area_m2",
    "food_business_format",
    "food_categories",
    "food_safety_manager",
    "kitchen_area_m2",
    "sells_special_food",
    "opening_hours",
    "has_lift",
    "lift_count",
    "has_boiler",
    "special_equipment_manager",
    "room_count",
    "bed_count",
    "has_cctv",
    "has_guest_id_system",
    "security_manager",
    "building_use",
    "occupancy_capacity",
    "fire_acceptance_done",
    "fire_safety_manager",
    "planned_opening_date",
    "staff_count",
    "has_disinfection_room",
    "hygiene_manager",
    "sewage_daily_m3",
    "has_grease_trap",
    "signboard_text",
    "signboard_size_m2",
    "signboard_illuminated",
    "distance_to_school_m",
]
RESTAURANT_PERMITS = [
    "business_licence",
    "food_operation",
    "fire_safety_check",
    "sewage_discharge",
    "outdoor_signboard",
]
RESTAURANT_FIELDS = [
    "premises_address",
    "premises_area_m2",
    "food_business_format",
    "food_categories",
    "food_safety_manager",
    "kitchen_area_m2",
    "sells_special_food",
    "opening_hours",
    "building_use",
    "occupancy_capacity",
    "fire_acceptance_done",
    "fire_safety_manager",
    "planned_opening_date",
    "sewage_daily_m3",
    "has_grease_trap",
    "signboard_text",
    "signboard_size_m2",
    "signboard_illuminated",
]
PHARMACY_PERMITS = [
    "business_licence",
    "drug_retail",
    "food_operation",
    "class2_device_filing",
    "class3_device_operation",
]
PHARMACY_FIELDS = [
    "premises_address",
    "premises_area_m2",
    "storage_area_m2",
    "pharmacist_name",
    "pharmacist_count",
    "sells_prescription_drugs",
    "opening_hours",
    "food_business_format",
    "food_categories",
    "food_safety_manager",
    "kitchen_area_m2",
    "sells_special_food",
    "device_quality_manager",
    "device_categories",
]
FOOD_OPTIONAL = {"kitchen_area_m2", "sells_special_food", "opening_hours"}


@pytest.mark.parametrize(
    ("theme", "permits", "fields", "optional"),
    [
        ("open_hotel", HOTEL_PERMITS, HOTEL_FIELDS, FOOD_OPTIONAL | {"lift_count"}),
        ("open_restaurant", RESTAURANT_PERMITS, RESTAURANT_FIELDS, FOOD_OPTIONAL),
        # The pharmacy asks opening hours as required: drug_retail needs them.
        ("open_pharmacy", PHARMACY_PERMITS, PHARMACY_FIELDS, FOOD_OPTIONAL - {"opening_hours"}),
    ],
)
def test_the_seed_bundles_are_unchanged(
    catalogue: Catalogue, theme: str, permits: list[str], fields: list[str], optional: set[str]
) -> None:
    assert catalogue.theme(theme).situations == ()
    assert [use.code for use in catalogue.theme(theme).permits] == permits
    assert all(use.when is None for use in catalogue.theme(theme).permits)
    assert list(catalogue.permits_for(theme)) == permits
    assert list(catalogue.permits_for(theme, {})) == permits
    assert list(catalogue.all_permits(theme)) == permits
    form = catalogue.merged_form(theme)
    assert [merged.field.code for merged in form.fields] == fields
    assert list(form.permits) == permits
    assert {merged.field.code for merged in form.fields if not merged.required} == optional


# --- conditional permits: situation answers decide --------------------------------------------

STORE_ALL_NO = {
    "food_sales": "none",
    "sells_tobacco": False,
    "sells_class2_devices": False,
    "sells_publications": False,
    "has_outdoor_signboard": False,
}


def _situation_problems(catalogue: Catalogue, theme: str, situation: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        catalogue.permits_for(theme, situation)
    return {problem.name: problem.reason for problem in caught.value.problems}


def test_a_convenience_store_that_sells_tobacco_needs_the_tobacco_permit(
    catalogue: Catalogue,
) -> None:
    situation = STORE_ALL_NO | {"sells_tobacco": True, "food_sales": "prepackaged_only"}
    assert catalogue.permits_for("open_convenience_store", situation) == (
        "business_licence",
        "prepackaged_food_filing",
        "tobacco_retail",
    )


def test_a_convenience_store_without_tobacco_does_not(catalogue: Catalogue) -> None:
    assert catalogue.permits_for("open_convenience_store", STORE_ALL_NO) == ("business_licence",)
    serves_food = STORE_ALL_NO | {"food_sales": "other_food"}
    assert catalogue.permits_for("open_convenience_store", serves_food) == (
        "business_licence",
        "food_operation",
    )
    # No situation: the mandatory permits only; every possible one stays listable for display.
    assert catalogue.permits_for("open_convenience_store") == ("business_licence",)
    assert catalogue.all_permits("open_convenience_store") == (
        "business_licence",
        "prepackaged_food_filing",
        "food_operation",
        "tobacco_retail",
        "class2_device_filing",
        "publication_retail",
        "outdoor_signboard",
    )


def test_a_pool_needs_the_high_risk_sports_and_hygiene_permits(catalogue: Catalogue) -> None:
    gym = catalogue.permits_for(
        "open_gym", {"has_swimming_pool": False, "has_outdoor_signboard": True}
    )
    assert gym == ("business_licence", "fire_safety_check", "outdoor_signboard")
    pool = catalogue.permits_for(
        "open_gym", {"has_swimming_pool": True, "has_outdoor_signboard": False}
    )
    assert pool == (
        "business_licence",
        "fire_safety_check",
        "high_risk_sports",
        "public_place_hygiene",
    )


def test_spray_painting_turns_the_eia_filing_into_an_approval(catalogue: Catalogue) -> None:
    base = {"has_outdoor_signboard": False}
    plain = catalogue.permits_for("open_car_repair", base | {"has_spray_painting": False})
    painting = catalogue.permits_for("open_car_repair", base | {"has_spray_painting": True})
    assert "eia_registration_filing" in plain and "eia_report_approval" not in plain
    assert "eia_report_approval" in painting and "eia_registration_filing" not in painting
    assert catalogue.permit_type("vehicle_repair_filing").mode == "filing"


def test_contact_lenses_need_the_class_three_device_permit(catalogue: Catalogue) -> None:
    frames = {"sells_contact_lenses": False, "has_outdoor_signboard": False}
    lenses = frames | {"sells_contact_lenses": True}
    assert catalogue.permits_for("open_optical_shop", frames) == ("business_licence",)
    assert catalogue.permits_for("open_optical_shop", lenses) == (
        "business_licence",
        "class3_device_operation",
    )


def test_every_situation_problem_is_reported_at_once(catalogue: Catalogue) -> None:
    problems = _situation_problems(
        catalogue,
        "open_convenience_store",
        {
            "food_sales": "caviar",
            "sells_tobacco": "yes",
            "sells_class2_devices": None,
            "has_outdoor_signboard": 1,
            "sells_alcohol": True,
        },
    )
    assert problems == {
        "situation.food_sales": "must be one of none, prepackaged_only, other_food; got 'caviar'",
        "situation.sells_tobacco": "expected true or false, got 'yes'",
        "situation.sells_class2_devices": (
            "required to decide whether 第二类医疗器械经营备案 (class2_device_filing) apply"
        ),
        "situation.sells_publications": (
            "required to decide whether 出版物经营许可证（零售） (publication_retail) apply"
        ),
        "situation.has_outdoor_signboard": "expected true or false, got 1",
        "situation.sells_alcohol": "not a situation question of theme open_convenience_store",
    }
    missing = _situation_problems(catalogue, "open_convenience_store", {})
    assert missing["situation.food_sales"] == (
        "required to decide whether 仅销售预包装食品备案 (prepackaged_food_filing), "
        "食品经营许可证 (food_operation) apply"
    )
    assert _situation_problems(catalogue, "open_hotel", {"sells_tobacco": True}) == {
        "situation.sells_tobacco": "not a situation question of theme open_hotel"
    }
    assert _situation_problems(catalogue, "open_hotel", ["sells_tobacco"]) == {
        "situation": "expected an object, got list"
    }


def test_a_conditional_merged_form_asks_shared_fields_once(catalogue: Catalogue) -> None:
    everything = {
        "food_sales": "other_food",
        "sells_tobacco": True,
        "sells_class2_devices": True,
        "sells_publications": True,
        "has_outdoor_signboard": True,
    }
    form = catalogue.merged_form("open_convenience_store", everything)
    codes = [merged.field.code for merged in form.fields]
    assert len(codes) == len(set(codes))
    by_code = {merged.field.code: merged for merged in form.fields}
    assert by_code["premises_address"].permits == (
        "food_operation",
        "tobacco_retail",
        "class2_device_filing",
        "publication_retail",
        "outdoor_signboard",
    )
    assert by_code["premises_area_m2"].permits == (
        "food_operation",
        "tobacco_retail",
        "publication_retail",
    )
    assert form.permits == (
        *catalogue.all_permits("open_convenience_store")[:1],
        "food_operation",
        "tobacco_retail",
        "class2_device_filing",
        "publication_retail",
        "outdoor_signboard",
    )
    # Without tobacco the school-distance question disappears with the permit that asks it.
    no_tobacco = catalogue.merged_form(
        "open_convenience_store", everything | {"sells_tobacco": False}
    )
    assert "distance_to_school_m" not in {merged.field.code for merged in no_tobacco.fields}
    # Situation questions are never form questions.
    situation_codes = {q.code for q in catalogue.theme("open_convenience_store").situations}
    assert situation_codes.isdisjoint(codes)


def test_answers_are_checked_against_the_situations_form(catalogue: Catalogue) -> None:
    situation = STORE_ALL_NO | {"sells_tobacco": True}
    answers = {
        "premises_address": "白云区机场路1号",
        "premises_area_m2": 60,
        "distance_to_school_m": 250,
    }
    cleaned = catalogue.validate_answers("open_convenience_store", answers, situation)
    assert cleaned == {
        "premises_address": "白云区机场路1号",
        "premises_area_m2": "60",
        "distance_to_school_m": 250,
    }
    with pytest.raises(ValidationFailed) as caught:
        catalogue.validate_answers("open_convenience_store", answers, STORE_ALL_NO)
    problems = {p.name: p.reason for p in caught.value.problems}
    assert problems["answers.distance_to_school_m"] == (
        "not asked in theme open_convenience_store for this situation"
    )
    with pytest.raises(ValidationFailed) as caught:
        catalogue.validate_answers("open_convenience_store", answers, {"sells_tobacco": True})
    assert {p.name for p in caught.value.problems} == {
        "situation.food_sales",
        "situation.sells_class2_devices",
        "situation.sells_publications",
        "situation.has_outdoor_signboard",
    }


def _every_situation(theme: Any) -> list[dict[str, Any]]:
    """Every combination of answers to a theme's situation questions."""
    combos: list[dict[str, Any]] = [{}]
    for question in theme.situations:
        values: list[Any] = (
            [True, False] if question.type == "boolean" else [c.code for c in question.choices]
        )
        combos = [combo | {question.code: value} for combo in combos for value in values]
    return combos


def test_every_theme_answered_every_way_gives_a_form_that_validates(
    catalogue: Catalogue,
) -> None:
    for code, theme in catalogue.themes.items():
        reached: set[str] = set()
        for situation in _every_situation(theme):
            permits = catalogue.permits_for(code, situation)
            assert permits[0] == "business_licence", code
            reached |= set(permits)
            form = catalogue.merged_form(code, situation)
            answers = {merged.field.code: sample_answer(merged.field) for merged in form.fields}
            catalogue.validate_answers(code, answers, situation)
        assert reached == set(catalogue.all_permits(code)), code


# --- the loader refuses what would make the catalogue lie -------------------------------------


def _append(data: Path, name: str, text: str) -> None:
    with (data / name).open("a", encoding="utf-8") as file:
        file.write(text)


def _theme_yaml(permits: str, situations: str) -> str:
    return (
        "\n- code: open_spaceport\n  name_zh: 开办航天港\n  name_en: Open a spaceport\n"
        f"  permits:\n{permits}  situations:\n{situations}"
        "  inferred: true\n  source: test\n"
    )


ROCKETS = (
    "    - {code: sells_rockets, label_zh: 是否销售火箭, label_en: Sells rockets, type: boolean}\n"
)


def test_a_commitment_permit_without_its_letter_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _append(
        data,
        "permit_types.yaml",
        "\n- code: moon_filing\n  name_zh: 登月承诺\n  name_en: Moon landing\n"
        "  department: samr\n  mode: commitment\n  statutory_days: 20\n"
        "  promised_days: 0\n  validity_years: null\n  site_inspection: false\n"
        "  fields: []\n  inferred: true\n  verification_days: 20\n",
    )
    with pytest.raises(CatalogueError, match=r"permit_types\.yaml.*moon_filing.*commitment letter"):
        load_catalogue(data)


def test_a_letter_on_a_permit_not_in_commitment_mode_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    text = (data / "permit_types.yaml").read_text(encoding="utf-8")
    (data / "permit_types.yaml").write_text(
        text.replace("mode: commitment", "mode: approval", 1), encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"fire_safety_check.*approval mode.*letter"):
        load_catalogue(data)


def test_a_cancelled_item_with_a_time_limit_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _append(
        data,
        "permit_types.yaml",
        "\n- code: moon_cancelled\n  name_zh: 登月\n  name_en: Moon landing\n"
        "  department: samr\n  mode: cancelled\n  statutory_days: 5\n"
        "  promised_days: 0\n  validity_years: null\n  site_inspection: false\n"
        "  fields: []\n  inferred: true\n",
    )
    with pytest.raises(CatalogueError, match=r"moon_cancelled.*no time limit"):
        load_catalogue(data)


def test_a_when_naming_an_unknown_situation_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    permits = (
        "    - business_licence\n"
        "    - {code: tobacco_retail, when: {sells_rockets: true}}\n"
        "    - {code: outdoor_signboard, when: {sells_moon_rock: true}}\n"
    )
    _append(data, "themes.yaml", _theme_yaml(permits, ROCKETS))
    with pytest.raises(
        CatalogueError, match=r"themes\.yaml.*open_spaceport.*unknown situation 'sells_moon_rock'"
    ):
        load_catalogue(data)


def test_a_when_with_an_impossible_answer_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    permits = "    - business_licence\n    - {code: tobacco_retail, when: {sells_rockets: many}}\n"
    _append(data, "themes.yaml", _theme_yaml(permits, ROCKETS))
    with pytest.raises(CatalogueError, match=r"open_spaceport.*sells_rockets='many' is impossible"):
        load_catalogue(data)


def test_a_situation_code_that_is_a_field_code_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    permits = "    - business_licence\n    - {code: tobacco_retail, when: {has_lift: true}}\n"
    situations = (
        "    - {code: has_lift, label_zh: 是否有电梯, label_en: Has a lift, type: boolean}\n"
    )
    _append(data, "themes.yaml", _theme_yaml(permits, situations))
    with pytest.raises(
        CatalogueError, match=r"themes\.yaml.*open_spaceport.*'has_lift'.*form field"
    ):
        load_catalogue(data)


def test_a_situation_that_decides_nothing_is_refused(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _append(data, "themes.yaml", _theme_yaml("    - business_licence\n", ROCKETS))
    with pytest.raises(CatalogueError, match=r"open_spaceport.*'sells_rockets' decides no permit"):
        load_catalogue(data)


def test_personal_data_is_need_to_know_by_permit_type(catalogue: Catalogue) -> None:
    """The legal representative only where the department checks who runs the business; the
    applicant's contact only where it arranges its own site check; nowhere else."""
    needs = {code: p.personal_data for code, p in catalogue.permit_types.items() if p.personal_data}
    assert needs == {
        "business_licence": ("legal_representative",),
        "food_operation": ("applicant_contact",),
        "hotel_special_trade": ("legal_representative", "applicant_contact"),
        "tobacco_retail": ("legal_representative",),
        "drug_retail": ("legal_representative",),
    }


@pytest.mark.parametrize(
    ("personal_data", "problem"),
    [
        ("[home_address]", r"moon_cancelled.*personal_data"),
        ("[applicant_contact]", r"moon_cancelled.*reads no personal data"),
    ],
)
def test_personal_data_outside_the_closed_set_or_on_a_cancelled_item_is_refused(
    tmp_path: Path, personal_data: str, problem: str
) -> None:
    data = _copy_data(tmp_path)
    _append(
        data,
        "permit_types.yaml",
        "\n- code: moon_cancelled\n  name_zh: 登月\n  name_en: Moon landing\n"
        "  department: samr\n  mode: cancelled\n  statutory_days: 0\n"
        "  promised_days: 0\n  validity_years: null\n  site_inspection: false\n"
        f"  fields: []\n  inferred: true\n  personal_data: {personal_data}\n",
    )
    with pytest.raises(CatalogueError, match=problem):
        load_catalogue(data)
