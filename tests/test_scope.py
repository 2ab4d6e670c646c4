"""明确告知: a business scope (经营范围) tells which permits and themes it probably needs, each
with the scope term that matched, at the window and beside the merged form."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from licensing.catalogue import CatalogueError, default_catalogue
from licensing.scope import load_scope_map, scope_map

SCOPE = (
    "许可项目：餐饮服务；住宿服务；烟草制品零售。一般项目：食品销售（仅销售预包装食品）；"
    "停车场服务（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
)


def _by_permit(suggestions: dict) -> dict[str, list[str]]:
    return {p["permit_type"]: [r["term"] for r in p["because"]] for p in suggestions["permits"]}


def test_each_permit_comes_with_the_scope_term_that_points_to_it() -> None:
    suggested = scope_map().suggest(SCOPE)
    permits = _by_permit(suggested)
    assert permits["food_operation"] == ["餐饮服务"]
    assert permits["hotel_special_trade"] == ["住宿服务"]
    assert permits["tobacco_retail"] == ["烟草制品零售"]
    # The longer wording wins its stretch: a pre-packaged-only food sale is a filing, and
    # does not also count as 食品销售 (a 食品经营许可).
    assert permits["prepackaged_food_filing"] == ["食品销售（仅销售预包装食品）"]
    assert "食品销售" not in {t for terms in permits.values() for t in terms}
    themes = {t["theme"]: t for t in suggested["themes"]}
    assert {"open_restaurant", "open_hotel", "open_convenience_store"} <= set(themes)
    assert "hotel_special_trade" in themes["open_hotel"]["covers"]
    # What points nowhere is said, without the 依法须经批准 boilerplate.
    assert suggested["unmatched"] == ["停车场服务"]
    assert not any("依法须经批准" in item for item in suggested["unmatched"])


def test_wordings_are_read_in_full_width_or_half_width_and_with_spaces() -> None:
    for scope in ("食品销售(仅销售预包装食品)", "食品销售（仅销售 预包装食品）", "预包装食品销售"):
        assert list(_by_permit(scope_map().suggest(scope))) == ["prepackaged_food_filing"], scope
    assert _by_permit(scope_map().suggest("食品销售；卡拉ok"))["food_operation"] == ["食品销售"]
    assert scope_map().suggest("软件开发；技术服务")["permits"] == []


def test_a_scope_file_naming_what_the_catalogue_lacks_is_refused(tmp_path: Path) -> None:
    (tmp_path / "scope_terms.yaml").write_text(
        "- term: 火箭发射\n  permits: [rocket_launch]\n", encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match="rocket_launch"):
        load_scope_map(default_catalogue(), tmp_path)
    (tmp_path / "scope_terms.yaml").write_text(
        "- term: 餐饮服务\n  permits: [food_operation]\n"
        "- term: 小餐饮\n  keywords: [餐饮服务]\n  permits: [food_operation]\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="both"):
        load_scope_map(default_catalogue(), tmp_path)


def test_the_window_asks_and_the_merged_form_says_what_its_theme_covers(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        answer = client.post("/api/v1/scope/permits", json={"business_scope": SCOPE})
        assert answer.status_code == 200, answer.text
        assert _by_permit(answer.json())["food_operation"] == ["餐饮服务"]
        for bad in ({"business_scope": ""}, {"business_scope": "餐饮\x00服务"}, {}, {"x": 1}):
            refused = client.post("/api/v1/scope/permits", json=bad)
            assert refused.status_code == 422, bad
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["errors"]

        theme = client.get("/api/v1/themes/open_convenience_store", params={"scope": SCOPE}).json()
        scope = theme["scope"]
        assert scope["business_scope"] == SCOPE
        in_theme = {p["permit_type"] for p in scope["in_theme"]}
        assert {"tobacco_retail", "prepackaged_food_filing"} <= in_theme
        assert "hotel_special_trade" in {p["permit_type"] for p in scope["elsewhere"]}
        assert client.get("/api/v1/themes/open_convenience_store").json()["scope"] is None
        bad = client.get("/api/v1/themes/open_hotel", params={"scope": "餐饮\x07服务"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["name"] == "scope"
