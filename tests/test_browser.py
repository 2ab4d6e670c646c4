"""The scan page on a phone: Debian's Chromium (driven by Playwright, no browser download) at
390×844 opens what a camera opens and reads what a person reads first — the verdict, then the
permits not in force, above the fold — in Chinese and, by its link, in English.

Screenshots of every page land in artifacts/screenshots/ (git-ignored; CI keeps them).
One browser for the module, a time limit on every page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from tests.conftest import auth
from tests.stories import decode_qr, submission, submit

CHROMIUM = os.environ.get("LICENSING_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
PAGE_TIMEOUT_MS = 20_000
RESTAURANT = make_uscc("91440604MA4UQRPT0")
NAME = "桂城饭店"

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox"],  # CI runs as root, where Chromium's sandbox cannot start
            timeout=PAGE_TIMEOUT_MS,
        )
        yield chromium
        chromium.close()


class Phone:
    """One phone's browser tab, and what the page said to the console (a CSP violation is
    reported there)."""

    def __init__(self, browser: Any, server: str, backend: str) -> None:
        self.server = server
        self.backend = backend
        self.context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(PAGE_TIMEOUT_MS)
        self.page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))

    def scan(self, url: str) -> Any:
        """Open the URL a QR holds (its path, on the test server), as a camera app would."""
        parts = urlsplit(url)
        response = self.page.goto(
            self.server + parts.path + (f"?{parts.query}" if parts.query else "")
        )
        assert response is not None
        return response

    def shoot(self, name: str) -> Path:
        """What the phone shows first (the viewport, not the whole page)."""
        path = SCREENSHOTS / f"{name}-{self.backend}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def verdict(self) -> tuple[str, str]:
        heading = self.page.locator("h1#verdict")
        return str(heading.get_attribute("data-code")), heading.inner_text().strip()

    def reason(self) -> str:
        return str(self.page.locator("#verdict-reason").inner_text()).strip()

    def permits(self) -> list[tuple[str, str]]:
        """Every permit on the page, in order: (permit type, standing)."""
        items = self.page.locator("li.permit")
        return [
            (str(items.nth(i).get_attribute("data-permit-type")), str(items.nth(i).get_attribute("data-standing")))
            for i in range(items.count())
        ]  # fmt: skip

    def above_the_fold(self, selector: str) -> bool:
        box = self.page.locator(selector).first.bounding_box()
        return box is not None and box["y"] + box["height"] <= PHONE["height"]

    def styled(self) -> bool:
        """The page's own style applied (CSP let it through): the banner has its colour."""
        colour = self.page.locator("header.banner").evaluate(
            "e => getComputedStyle(e).backgroundColor"
        )
        return colour not in ("rgba(0, 0, 0, 0)", "transparent")

    def close(self) -> None:
        assert not [m for m in self.console if "Content Security Policy" in m], self.console
        self.context.close()


@pytest.fixture
def phone(browser: Any, server: str, runtime: Runtime) -> Iterator[Phone]:
    tab = Phone(browser, server, runtime.settings.store)
    yield tab
    tab.close()


Decide = Callable[[str], dict[str, Any]]


def _approve(permit_type: str) -> dict[str, Any]:
    return {"outcome": "approve", "permit_number": f"N-{permit_type}"}


@pytest.fixture
def restaurant(
    server: str, runtime: Runtime, token: Callable[..., str]
) -> Callable[..., tuple[httpx.Client, str]]:
    """Open a restaurant: each department decides its task (`decide` says how; approve by
    default); the licence's QR URL, with a client for further acts."""
    clients: list[httpx.Client] = []

    def open_(decide: Decide = _approve) -> tuple[httpx.Client, str]:
        client = httpx.Client(base_url=server, timeout=30)
        clients.append(client)
        body = submission(runtime, "open_restaurant", RESTAURANT, NAME)
        application = submit(client, token("clerk"), body)
        for task in application["tasks"]:
            response = client.post(
                f"/api/v1/applications/{application['id']}/tasks/{task['permit_type']}/decision",
                json=decide(task["permit_type"]),
                headers=auth(token("department", task["department"])),
            )
            assert response.status_code == 200, response.text
        return client, decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)

    yield open_
    for client in clients:
        client.close()


def test_an_all_valid_business_may_operate_and_the_page_switches_language(
    phone: Phone, restaurant: Callable[..., tuple[httpx.Client, str]]
) -> None:
    _, url = restaurant()
    response = phone.scan(url)
    assert response.status == 200
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert phone.verdict() == ("may_operate", "可以经营")
    assert phone.page.locator("html").get_attribute("lang") == "zh-CN"
    assert phone.styled()
    assert {standing for _, standing in phone.permits()} == {"in_force"}
    assert phone.page.locator("#permits-not-in-force").count() == 0
    phone.shoot("all-valid")

    phone.page.locator("#switch-lang").click()
    phone.page.wait_for_url("**?lang=en")
    assert phone.verdict() == ("may_operate", "May operate")
    assert phone.page.locator("html").get_attribute("lang") == "en"
    assert "Business licence" in phone.page.inner_text("#registration")
    phone.shoot("all-valid-en")
    phone.page.locator("#switch-lang").click()
    phone.page.wait_for_url("**?lang=zh")
    assert phone.verdict() == ("may_operate", "可以经营")


def test_one_refused_permit_is_named_first_with_its_reason_above_the_fold(
    phone: Phone, restaurant: Callable[..., tuple[httpx.Client, str]]
) -> None:
    reason = "排水许可：未设置隔油池"

    def decide(permit_type: str) -> dict[str, Any]:
        if permit_type == "sewage_discharge":
            return {
                "outcome": "refuse",
                "reason": reason,
                "legal_basis": "《城镇排水与污水处理条例》",
            }
        return _approve(permit_type)

    _, url = restaurant(decide)
    phone.scan(url)
    code, word = phone.verdict()
    assert (code, word) == ("partly", "部分经营项目不可经营")
    assert phone.reason().startswith("不可经营：") and "（不予许可）" in phone.reason()
    order = phone.permits()
    assert order[0] == ("sewage_discharge", "refused")
    assert {standing for _, standing in order[1:]} == {"in_force"}
    first = phone.page.locator("#permits-not-in-force li.permit").first
    assert "不予许可" in first.inner_text() and reason in first.inner_text()
    assert phone.above_the_fold("#permits-not-in-force li.permit")
    assert phone.page.locator("header.banner.stop").count() == 1  # red: the worst status
    phone.shoot("one-refused")

    phone.page.locator("#switch-lang").click()
    phone.page.wait_for_url("**?lang=en")
    assert phone.verdict() == ("partly", "Some activities may not be carried on")
    assert phone.reason().startswith("Not allowed: ") and "(refused)" in phone.reason()
    assert phone.permits() == order  # the same order in either language
    phone.shoot("one-refused-en")


def test_a_revoked_permit_says_revoked_and_shows_no_end_date(
    phone: Phone,
    restaurant: Callable[..., tuple[httpx.Client, str]],
    token: Callable[..., str],
) -> None:
    def decide(permit_type: str) -> dict[str, Any]:
        valid_until = (today_in_china() + timedelta(days=5 * 365)).isoformat()
        return _approve(permit_type) | {"valid_until": valid_until}

    client, url = restaurant(decide)
    revoked = client.post(
        f"/api/v1/licences/{RESTAURANT}/permits/food_operation/revocation",
        json={"reason": "使用过期食品原料", "legal_basis": "《食品安全法》第一百二十四条"},
        headers=auth(token("department", "samr")),
    )
    assert revoked.status_code == 200, revoked.text
    phone.scan(url)
    assert phone.verdict()[0] == "partly"
    assert phone.permits()[0] == ("food_operation", "revoked")
    first = phone.page.locator("li.permit").first.inner_text()
    assert "已吊销" in first and "使用过期食品原料" in first
    assert "有效期至" not in first  # an end date means nothing on a revoked permit
    in_force = phone.page.locator("#permits-in-force li.permit").first.inner_text()
    assert "有效期至" in in_force
    assert phone.above_the_fold("#permits-not-in-force li.permit")
    phone.shoot("revoked")


def test_a_business_in_休业_may_not_operate_and_says_until_when(
    phone: Phone,
    restaurant: Callable[..., tuple[httpx.Client, str]],
    token: Callable[..., str],
) -> None:
    client, url = restaurant()
    reopens = today_in_china() + timedelta(days=60)
    suspended = client.post(
        f"/api/v1/registrations/{RESTAURANT}/suspension",
        json={"reason": "店面装修", "until": reopens.isoformat()},
        headers=auth(token("registrar")),
    )
    assert suspended.status_code == 200, suspended.text
    phone.scan(url)
    assert phone.verdict() == ("may_not_operate", "不可经营")
    reason = phone.reason()
    assert "休业" in reason and f"预计 {reopens.isoformat()} 恢复营业" in reason
    assert today_in_china().isoformat() in reason  # since when
    assert "店面装修" not in phone.page.content()  # the business's own reason stays private
    assert phone.page.locator("header.banner.caution").count() == 1
    assert phone.page.locator("#registration-status").get_attribute("data-code") == "suspended"
    phone.shoot("suspended")


def test_a_superseded_copy_warns_and_shows_the_live_status(
    phone: Phone,
    restaurant: Callable[..., tuple[httpx.Client, str]],
    token: Callable[..., str],
) -> None:
    client, old = restaurant()
    reprinted = client.post(
        f"/api/v1/licences/{RESTAURANT}/reprint",
        json={"reason": "原件污损"},
        headers=auth(token("clerk")),
    )
    assert reprinted.status_code == 200, reprinted.text
    phone.scan(old)
    assert phone.verdict() == ("may_operate", "可以经营")
    assert "已被新打印件取代" in phone.page.inner_text("#superseded")
    assert phone.above_the_fold("#superseded")
    phone.shoot("superseded")
    new = decode_qr(client.get(f"/api/v1/licences/{RESTAURANT}/qr.png").content)
    phone.scan(new)
    assert phone.page.locator("#superseded").count() == 0


def test_a_garbled_code_cannot_be_verified_and_the_page_says_what_to_do(
    phone: Phone, restaurant: Callable[..., tuple[httpx.Client, str]]
) -> None:
    _, url = restaurant()
    cut = url[: len(url) * 2 // 3]  # a code torn or badly photographed
    response = phone.scan(cut)
    assert response.status == 400
    assert phone.verdict() == ("cannot_verify", "✘ 无法核验此二维码")
    assert "请勿据此认定经营资格" in phone.page.inner_text("#next-steps")
    assert phone.styled()
    assert NAME not in phone.page.content()
    phone.shoot("garbled")
    phone.page.locator("#switch-lang").click()
    phone.page.wait_for_url("**?lang=en")
    assert phone.verdict() == ("cannot_verify", "✘ This code cannot be verified")
    assert "Do not rely on it" in phone.page.inner_text("#next-steps")
