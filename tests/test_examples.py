"""The examples a newcomer is pointed to are submitted as they are: each application in
`examples/` is accepted at the window, with one task per permit its situation needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from licensing.runtime import Runtime
from tests.conftest import auth

EXAMPLES = Path(__file__).parent.parent / "examples"
APPLICATIONS = sorted(EXAMPLES.glob("*.json"))


def test_there_is_an_example_per_demo_theme_and_the_readme_names_them() -> None:
    themes = {json.loads(path.read_text(encoding="utf-8"))["theme"] for path in APPLICATIONS}
    assert {"open_hotel", "open_restaurant", "open_pharmacy"} <= themes
    assert {path.stem for path in APPLICATIONS} == themes  # one file per theme, named so
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    guide = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path in APPLICATIONS:
        assert f"examples/{path.name}" in readme + guide, path.name
    assert "@application.json" not in readme


@pytest.mark.parametrize("path", APPLICATIONS, ids=lambda p: p.stem)
def test_each_example_is_accepted_at_the_window(
    path: Path, server: str, runtime: Runtime, token: Callable[..., str]
) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    with httpx.Client(base_url=server, timeout=30) as client:
        answer = client.post("/api/v1/applications", json=body, headers=auth(token("clerk")))
        assert answer.status_code == 201, answer.text
        application = answer.json()
        expected = runtime.catalogue.permits_for(body["theme"], body.get("situation") or {})
        assert [t["permit_type"] for t in application["tasks"]] == list(expected)
        assert application["status"] in ("in_review", "decided")
        licence = client.get(f"/api/v1/licences/{body['business']['uscc']}")
        assert licence.status_code == 200
        assert licence.json()["name"] == body["business"]["name"]
        # The scope it declares points to its own theme (明确告知).
        scope = client.post(
            "/api/v1/scope/permits", json={"business_scope": body["business"]["business_scope"]}
        ).json()
        assert body["theme"] in {t["theme"] for t in scope["themes"]}
