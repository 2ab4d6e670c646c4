"""The public scan pages' frame: templates compiled once, their words in each language, the
style sheet with its CSP hash, and the security and caching headers every page carries."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from domain.china import CHINA

_HERE = Path(__file__).parent / "templates"


class Lang(StrEnum):
    """The languages the scan pages speak; Chinese first (the default)."""

    ZH = "zh"
    EN = "en"


def _load_strings() -> dict[Lang, dict[str, str]]:
    raw = yaml.safe_load((_HERE / "strings.yaml").read_text(encoding="utf-8"))
    strings = {
        Lang(lang): {str(k): str(v) for k, v in words.items()} for lang, words in raw.items()
    }
    keys = {lang: set(words) for lang, words in strings.items()}
    if set(strings) != set(Lang) or len({frozenset(k) for k in keys.values()}) != 1:
        msg = f"api/templates/strings.yaml: every language needs the same keys: {keys}"
        raise ValueError(msg)
    return strings


STRINGS = _load_strings()
# The style sheet sits in the page (one request per scan) and is allowed by its hash, so the
# policy admits no other style and no script at all.
CSS = (_HERE / "verify.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{_CSS_HASH}'; "
    "img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# A scan page is live: a browser or proxy may keep it but must ask again before showing it
# (`no-cache`), and the ETag (licence version and day) makes that a 304 while nothing changed.
# Not `max-age`: a permit revoked a second ago must show at the next scan.
LIVE = "no-cache"
# What a refusal or a void copy shows does not change with the licence: not kept at all.
UNSHOWN = "no-store"
SECURITY = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Referrer-Policy": "no-referrer",  # the token in the URL goes nowhere else
}


def beijing(moment: str | datetime) -> str:
    """Times on the public page are read in China: show them in Beijing time, to the second."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


templates = Jinja2Templates(directory=str(_HERE))
templates.env.auto_reload = False  # compiled once per process, never looked at again
templates.env.filters["beijing"] = beijing


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    lang: Lang,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A scan page in `lang`, with its words, style and security headers."""
    words = STRINGS[lang]
    full = {"t": words, "lang": lang.value, "css": CSS, **context}
    answer_headers = {**SECURITY, "Cache-Control": UNSHOWN, **(headers or {})}
    return templates.TemplateResponse(
        request, template, full, status_code=status_code, headers=answer_headers
    )
