"""Text the whole system can carry: every store, every page and every signed document. No NUL
or other control character (a newline and a tab only where a field allows lines), no lone
surrogate, no bidirectional override that could make a name read backwards on the public
page; Unicode-normalised (NFC), trimmed, and of a bounded length."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from domain.errors import InvalidParam, ValidationFailed

# Explicit bidirectional embeddings, overrides and isolates (Unicode TR 9): a business name
# holding U+202E would show reversed on the page a citizen reads.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\t")


def flaw(text: str, *, multiline: bool = True) -> str | None:
    """What makes `text` unfit to be stored or shown, or None if nothing does."""
    for position, char in enumerate(text):
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return f"holds a lone surrogate (U+{code:04X}) at position {position}"
        if char in BIDI_CONTROLS:
            return f"holds a bidirectional control (U+{code:04X}) at position {position}"
        if unicodedata.category(char) == "Cc" and not (multiline and char in LINE_BREAKS):
            allowed = " (only a line break or a tab is allowed)" if multiline else ""
            return f"holds a control character (U+{code:04X}) at position {position}{allowed}"
    return None


def clean(text: str, *, multiline: bool = False, max_length: int | None = None) -> str:
    """`text` normalised (NFC, CRLF as LF) and trimmed; ValueError says what is wrong."""
    # Trimmed first: a line break pasted at the end of a one-line field is not an error.
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    problem = flaw(text, multiline=multiline)
    if problem is not None:
        raise ValueError(problem)
    text = unicodedata.normalize("NFC", text).strip()
    if max_length is not None and len(text) > max_length:
        msg = f"must be at most {max_length} characters, got {len(text)}"
        raise ValueError(msg)
    return text


def problems_in(value: Any, name: str) -> list[InvalidParam]:
    """Every string inside `value` (dict keys included) that no store could carry safely,
    each named by its dotted path under `name`."""
    if isinstance(value, str):
        problem = flaw(value)
        return [] if problem is None else [InvalidParam(name, problem)]
    if isinstance(value, Mapping):
        problems = []
        for key, item in value.items():
            path = f"{name}.{key}" if flaw(str(key)) is None else f"{name}.<key>"
            problems += problems_in(str(key), path) + problems_in(item, path)
        return problems
    if is_dataclass(value) and not isinstance(value, type):
        return problems_in(asdict(value), name)
    if isinstance(value, list | tuple):
        return [p for n, item in enumerate(value) for p in problems_in(item, f"{name}.{n}")]
    return []


def check_event(event: object) -> None:
    """The domain's own guard at the store's door: an event whose text no store could carry
    is refused whole, whatever door it came in by (API, CLI, a job)."""
    fields = {k: v for k, v in vars(event).items() if k not in ("originator_id", "timestamp")}
    problems = problems_in(fields, type(event).__name__)
    if problems:
        raise ValidationFailed(problems)
