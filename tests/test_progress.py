"""办件查询: the applicant follows the application with its number and the code sent to the
mobile at acceptance — each task's state, what waits on the applicant, decisions with their
reasons, never an officer or personal data — and wrong codes lock it for a while."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest

from api.schemas import SubmissionIn
from domain.actor import Actor
from domain.errors import Locked
from domain.uscc import make_uscc
from licensing import progress, window
from licensing.delivery import SmsGateway
from licensing.outbox import Outbox
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import APPLICANT, LEGAL_REP, submission, submit
from tests.test_delivery import Gateway, gateway  # noqa: F401 — the stub SMS gateway

HOTEL = make_uscc("91440604MA5PG0010")
CODE = re.compile(r"查询码 ([2-9A-HJ-NP-Z]{8})")


def _codes_sent(runtime: Runtime, sms: Gateway) -> list[str]:
    """Run the delivery worker once and read the codes the stub gateway received."""
    outbox = Outbox(
        runtime.licensing,
        channels={"sms": SmsGateway(url=sms.url, timeout=5.0)},
        progress_codes=runtime.progress_codes,
    )
    outbox.collect()
    outbox.deliver_due()
    return [m.group(1) for r in sms.requests if (m := CODE.search(r.body["text"]))]


def _everything_stored(runtime: Runtime) -> str:
    # Decrypted (every state is encrypted at rest): the code must not be in them even so.
    cipher = runtime.app.mapper.cipher
    assert cipher is not None
    return "\n".join(
        cipher.decrypt(n.state).decode()
        for n in runtime.app.recorder.select_notifications(start=None, limit=100_000)
    )


def _follow(client: httpx.Client, application_id: str, code: str) -> httpx.Response:
    return client.post("/api/v1/progress", json={"application_id": application_id, "code": code})


def test_the_applicant_follows_the_hotel_with_the_code_sent_to_the_mobile(
    server: str,
    runtime: Runtime,
    token: Callable[..., str],
    gateway: Gateway,  # noqa: F811
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        application = submit(
            client, token("clerk"), submission(runtime, "open_hotel", HOTEL, "查询旅馆")
        )
        number = application["id"]
        [code] = _codes_sent(runtime, gateway)
        [sms] = gateway.requests
        assert sms.body["to"] == APPLICANT["mobile"] and number in sms.body["text"]
        # Only a hash is kept: the code is nowhere in the store (the SMS as queued holds a
        # placeholder; the code goes in when it is sent).
        stored = _everything_stored(runtime)
        assert code not in stored and progress.PLACEHOLDER in stored

        # Lower case and spaces are read as the code.
        answer = _follow(client, number, f" {code[:4].lower()} {code[4:]} ")
        assert answer.status_code == 200, answer.text
        seen = answer.json()
        assert seen["application_id"] == number and seen["uscc"] == HOTEL
        assert seen["status"]["code"] == "in_review" and seen["theme_name_zh"]
        queued = [t for t in seen["tasks"] if t["state"]["code"] == "queued"]
        assert queued and all(t["due_on"] for t in queued)
        assert seen["waiting_on_applicant"] == [] and seen["supplement_notice"] == []

        # A department asks for a supplement; another refuses; a third approves.
        by_department = {t["permit_type"]: t["department"] for t in application["tasks"]}
        asking, refusing, approving = [t["permit_type"] for t in queued][:3]
        path = f"/api/v1/applications/{number}/tasks"
        officers = {}
        for permit_type, body in (
            (asking, {"items": ["消防设施平面图"], "note": "请补交"}),
            (
                refusing,
                {"outcome": "refuse", "reason": "场所不符合要求", "legal_basis": "某条例第五条"},
            ),
            (approving, {"outcome": "approve", "permit_number": "PN-0001"}),
        ):
            department = by_department[permit_type]
            officer = f"officer-{department}-secret"
            officers[permit_type] = officer
            act = "supplement-request" if "items" in body else "decision"
            done = client.post(
                f"{path}/{permit_type}/{act}",
                json=body,
                headers=auth(token("department", department, sub=officer)),
            )
            assert done.status_code == 200, done.text

        seen = _follow(client, number, code).json()
        tasks = {t["permit_type"]: t for t in seen["tasks"]}
        assert tasks[asking]["state"]["code"] == "supplement_requested"
        assert tasks[refusing]["state"]["word"] == "不予许可"
        assert (tasks[refusing]["reason"], tasks[refusing]["legal_basis"]) == (
            "场所不符合要求",
            "某条例第五条",
        )
        assert tasks[approving]["permit_number"] == "PN-0001"
        assert tasks[approving]["due_on"] is None
        [waiting] = seen["waiting_on_applicant"]
        assert waiting["kind"] == "supplement" and waiting["items"] == ["消防设施平面图"]
        [request] = seen["supplement_notice"]
        assert request["permit_type"] == asking and request["note"] == "请补交"
        # Never an officer's or clerk's identity, nor the personal data of the application.
        text = answer.text + _follow(client, number, code).text
        for secret in (
            *officers.values(),
            "clerk-x",
            LEGAL_REP["id_number"],
            APPLICANT["mobile"],
            APPLICANT["email"],
        ):
            assert secret not in text


def test_a_wrong_code_is_refused_and_five_lock_the_progress(
    server: str,
    runtime: Runtime,
    token: Callable[..., str],
    gateway: Gateway,  # noqa: F811
) -> None:
    clerk = token("clerk")
    with httpx.Client(base_url=server, timeout=30) as client:
        number = submit(client, clerk, submission(runtime, "open_hotel", HOTEL, "查询旅馆"))["id"]
        [code] = _codes_sent(runtime, gateway)
        wrong = "23456789" if code != "23456789" else "98765432"

        # An unknown number: the same refusal as a wrong code.
        unknown = _follow(client, str(UUID(int=7)), wrong)
        assert unknown.status_code == 403, unknown.text
        assert unknown.headers["content-type"].startswith("application/problem+json")
        assert "do not match" in unknown.json()["detail"]
        # Four wrong codes are refused and counted, the fifth locks it.
        lefts = []
        for _ in range(4):
            refused = _follow(client, number, wrong)
            assert refused.status_code == 403
            assert refused.json()["type"] == "/problems/forbidden"
            left = re.search(r"(\d+) more wrong", refused.json()["detail"])
            assert left is not None
            lefts.append(left.group(1))
        assert lefts == ["4", "3", "2", "1"]
        locked = _follow(client, number, wrong)
        assert locked.status_code == 429, locked.text
        assert locked.json()["type"] == "/problems/locked"
        assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
        # While locked even the right code is refused, and nothing more is recorded.
        before = client.get(f"/api/v1/applications/{number}", headers=auth(clerk)).json()
        assert _follow(client, number, code).status_code == 429
        after = client.get(f"/api/v1/applications/{number}", headers=auth(clerk)).json()
        assert after["version"] == before["version"]

        # The window sends a new code: the old one stops working, the lock ends.
        sent = client.post(
            f"/api/v1/applications/{number}/progress-code", json={}, headers=auth(clerk)
        )
        assert sent.status_code == 200, sent.text
        codes = _codes_sent(runtime, gateway)
        assert len(codes) == 2 and codes[0] == code and codes[1] != code
        assert _follow(client, number, codes[1]).status_code == 200
        assert _follow(client, number, code).status_code == 403
        # The number of an application only received (收件) has no code to send yet.
        received = submit(
            client,
            clerk,
            submission(runtime, "open_hotel", make_uscc("91440604MA5PG0020"), "收件旅馆")
            | {"accept_now": False},
        )
        no_code = client.post(
            f"/api/v1/applications/{received['id']}/progress-code", json={}, headers=auth(clerk)
        )
        assert no_code.status_code == 409
        assert _follow(client, received["id"], code).status_code == 403


def test_the_lock_is_a_rule_in_time_on_the_application(runtime: Runtime) -> None:
    """Wrong codes spread over more than 15 minutes do not lock; five within 15 minutes lock
    for 15 minutes, after which the right code works again."""
    clerk = Actor(id="clerk-1", role="clerk", district="chancheng")
    parsed = SubmissionIn.model_validate(submission(runtime, "open_hotel", HOTEL, "查询旅馆"))
    receipt = window.submit(
        runtime.licensing,
        theme=parsed.theme,
        business=parsed.business.details(),
        applicant=parsed.applicant.model_dump(),
        answers=parsed.answers,
        situation=parsed.situation,
        actor=clerk,
    )
    application = runtime.licensing.application(receipt.id)
    code = runtime.progress_codes.code(receipt.id, application.progress_code_issue)
    t0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)

    def follow(code_: str, minutes: float) -> object:
        return progress.follow(
            runtime.licensing,
            application_id=receipt.id,
            code=code_,
            now=lambda: t0 + timedelta(minutes=minutes),
        )

    for minute in (0, 1, 2, 3):
        with pytest.raises(progress.WrongCode):
            follow("WRONG000", minute)
    assert follow(code, 4) is not None  # four wrong codes do not lock
    # Twenty minutes on, those four no longer count: four more are refused, the fifth of
    # these locks it for 15 minutes from itself, the right code included.
    for minute in (20, 21, 22, 23):
        with pytest.raises(progress.WrongCode):
            follow("WRONG000", minute)
    with pytest.raises(Locked) as lock:
        follow("WRONG000", 24)
    assert lock.value.until == t0 + timedelta(minutes=39)
    with pytest.raises(Locked):
        follow(code, 38)
    assert follow(code, 39) is not None
