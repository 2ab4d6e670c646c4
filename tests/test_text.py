"""Text the whole system can carry: a NUL byte, a lone surrogate or a bidirectional override in
any field is a 422 naming that field, nothing is written, and the read side keeps projecting;
whatever text the domain accepts projects on both backends and renders on the page and in the
signed status document."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
import markupsafe
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from domain.actor import Actor
from domain.errors import ValidationFailed
from domain.text import clean, flaw
from domain.uscc import make_uscc
from licensing import window
from licensing.runtime import Runtime
from licensing.window import BusinessDetails
from tests.conftest import auth
from tests.stories import APPLICANT, LEGAL_REP, submission, submit, verify_status_document

BAD = {
    "nul": "饭店\u0000名",
    "surrogate": "饭店\ud800",
    "bell": "饭\u0007店",
    "rlo": "饭店\u202e名",
}
CLERK = Actor(id="clerk-text", role="clerk", district="chancheng")


def _events(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def _post(client: httpx.Client, url: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    """JSON as a client on the wire sends it: ASCII with escapes, so a lone surrogate arrives
    as the six characters \\ud800 (httpx's own encoder would refuse to send it)."""
    return client.post(
        url, content=json.dumps(body), headers=headers | {"Content-Type": "application/json"}
    )


def _set(body: dict[str, Any], path: str, value: str) -> None:
    *parents, last = path.split(".")
    for key in parents:
        body = body[key] if not key.isdigit() else body[int(key)]
    body[last] = value


SUBMISSION_FIELDS = [
    "business.name",
    "business.domicile",
    "business.business_scope",
    "business.entity_type",
    "business.uscc",
    "business.legal_representative.name",
    "applicant.contact_name",
    "applicant.email",
    "answers.premises_address",
    "answers.food_categories",
    "theme",
]


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_text_in_any_field_is_a_422_naming_it_and_the_read_side_keeps_projecting(
    server: str, runtime: Runtime, token: Callable[..., str], kind: str
) -> None:
    clerk = auth(token("clerk"))
    with httpx.Client(base_url=server) as client:
        good = submit(
            client,
            token("clerk"),
            submission(runtime, "open_restaurant", make_uscc("91440606MA4T0X0A1"), "好饭店"),
        )
        fire = next(t for t in good["tasks"] if t["department"] == "water")
        before = _events(runtime)
        for field in SUBMISSION_FIELDS:
            body = submission(runtime, "open_restaurant", make_uscc("91440606MA4T0X0B1"), "饭店")
            _set(body, field, BAD[kind])
            response = _post(client, "/api/v1/applications", body, clerk)
            assert response.status_code == 422, (field, response.text)
            names = {e["name"] for e in response.json()["errors"]}
            assert field in names, (field, names)
        decision = f"/api/v1/applications/{good['id']}/tasks/{fire['permit_type']}/decision"
        water = auth(token("department", "water"))
        for body, field in (
            ({"outcome": "approve", "permit_number": BAD[kind]}, "permit_number"),
            ({"outcome": "refuse", "reason": BAD[kind], "legal_basis": "x"}, "reason"),
            ({"outcome": "refuse", "reason": "x", "legal_basis": BAD[kind]}, "legal_basis"),
        ):
            response = _post(client, decision, body, water)
            assert response.status_code == 422, response.text
            assert field in {e["name"] for e in response.json()["errors"]}
        response = _post(
            client, f"/api/v1/applications/{good['id']}/withdrawal", {"reason": BAD[kind]}, clerk
        )
        assert response.status_code == 422 and response.json()["errors"][0]["name"] == "reason"
        assert _events(runtime) == before  # nothing written
        # The read side still projects the next business.
        nxt = make_uscc("91440606MA4T0X0C1")
        submit(client, token("clerk"), submission(runtime, "open_restaurant", nxt, "下一家饭店"))
        licence = client.get(f"/api/v1/licences/{nxt}")
        assert licence.status_code == 200 and licence.json()["name"] == "下一家饭店"


def test_the_domain_refuses_such_text_whatever_door_it_comes_in_by(runtime: Runtime) -> None:
    """A command called without the API (a CLI, a job, a script) meets the same guard."""
    before = _events(runtime)
    with pytest.raises(ValidationFailed) as caught:
        window.submit(
            runtime.licensing,
            theme="open_restaurant",
            business=_business(make_uscc("91440606MA4T0X0D1"), name="饭店\u0000"),
            applicant=dict(APPLICANT),
            answers=submission(runtime, "open_restaurant", "x", "x")["answers"],
            actor=CLERK,
        )
    assert any("U+0000" in p.reason for p in caught.value.problems)
    assert _events(runtime) == before


def _business(uscc: str, *, name: str, domicile: str = "佛山市禅城区 1 号") -> BusinessDetails:
    from decimal import Decimal

    return BusinessDetails(
        uscc=uscc,
        name=name,
        entity_type="limited_company",
        legal_representative=dict(LEGAL_REP),
        domicile=domicile,
        business_scope="餐饮服务",
        registered_capital=Decimal("1000.00"),
    )


def test_clean_normalises_and_names_what_is_wrong() -> None:
    assert clean(" Cafe\u0301 ") == "Café"  # NFC, trimmed
    assert clean("a\r\nb", multiline=True) == "a\nb"
    assert flaw("a\nb", multiline=False) is not None and flaw("a\nb") is None
    with pytest.raises(ValueError, match=r"U\+0000"):
        clean("a\x00b", multiline=True)
    with pytest.raises(ValueError, match="at most 3"):
        clean("abcd", max_length=3)


_USCCS = (make_uscc(f"91440606MA4{n:06d}") for n in itertools.count())
# Every code point, lone surrogates and controls included: the domain decides what is kept.
ANY_TEXT = st.text(st.characters(exclude_categories=()), min_size=1, max_size=24)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=ANY_TEXT, domicile=ANY_TEXT, address=ANY_TEXT)
@example(name="饭店\uffff\U0010ffff", domicile="<b>&'\"", address="\u200d\u200f")
@example(name="饭店\x00", domicile="x", address="x")
@example(name="饭店", domicile="x", address="\ud800")
@example(name="饭店", domicile="x", address="0\n")
@example(name="饭店", domicile="x", address="0\n1")
def test_whatever_text_the_domain_accepts_projects_and_renders(
    server: str, runtime: Runtime, name: str, domicile: str, address: str
) -> None:
    uscc = next(_USCCS)
    answers = submission(runtime, "open_restaurant", uscc, "x")["answers"]
    answers["premises_address"] = address
    try:
        receipt = window.submit(
            runtime.licensing,
            theme="open_restaurant",
            business=_business(uscc, name=name, domicile=domicile),
            applicant=dict(APPLICANT),
            answers=answers,
            actor=CLERK,
        )
    except ValidationFailed:
        # The premises address is a one-line form field: a line break is refused there too.
        refused = flaw(name) or flaw(domicile) or flaw(address.strip(), multiline=False)
        assert refused or not address.strip()
        return
    assert not any(flaw(text) for text in (name, domicile))
    runtime.projector.catch_up()
    assert runtime.projector.position >= receipt.position
    with httpx.Client(base_url=server) as client:
        licence = client.get(f"/api/v1/licences/{uscc}").json()
        assert licence["name"] == name and licence["domicile"] == domicile
        scan = client.get(licence["links"]["verification"].replace("https://zzt.test", ""))
        assert scan.status_code == 200
        assert str(markupsafe.escape(name)) in scan.text
        signed = client.get(
            licence["links"]["verification"].replace("https://zzt.test", ""),
            headers={"Accept": "application/json"},
        ).json()
        assert verify_status_document(client, signed["jws"])["lic"]["name"] == name
