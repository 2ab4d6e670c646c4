"""统一社会信用代码 (USCC, GB 32100-2015): normalise, check and mint the 18-character code."""

from __future__ import annotations

from domain.errors import InvalidParam, ValidationFailed

# GB 32100-2015 drops I, O, S, V and Z so codes cannot be misread as 1, 0, 5, U and 2.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18

_VALUES = {char: value for value, char in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The 18th character for `first17` (already upper-case, alphabet characters only)."""
    if len(first17) != LENGTH - 1:
        msg = f"expected 17 characters, got {len(first17)}"
        raise ValueError(msg)
    try:
        total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    except KeyError as error:
        msg = f"character {error.args[0]!r} is not allowed in a USCC"
        raise ValueError(msg) from None
    return ALPHABET[(31 - total % 31) % 31]


def _problem(code: str) -> str | None:
    if len(code) != LENGTH:
        return f"must be {LENGTH} characters, got {len(code)}"
    for position, char in enumerate(code):
        if char not in _VALUES:
            return f"character {char!r} at position {position} is not allowed in a USCC"
    expected = check_character(code[:-1])
    if code[-1] != expected:
        return f"check character should be {expected!r}, got {code[-1]!r}"
    return None


def validate_uscc(code: str) -> str:
    """The code stripped and upper-cased, or ValidationFailed naming `uscc` and the defect."""
    normalised = code.strip().upper()
    reason = _problem(normalised)
    if reason is not None:
        raise ValidationFailed([InvalidParam(name="uscc", reason=reason)])
    return normalised


def is_valid_uscc(code: str) -> bool:
    """Whether `code` (after normalising) is a well-formed USCC."""
    return _problem(code.strip().upper()) is None


def make_uscc(first17: str) -> str:
    """`first17` with its check character appended; for demo and test data."""
    body = first17.strip().upper()
    return body + check_character(body)
