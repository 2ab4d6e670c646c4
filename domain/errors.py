"""Domain errors: each says what is wrong in words a clerk or a reviewer can act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class DomainError(Exception):
    """Base of every rule the domain refuses to break."""


@dataclass(frozen=True)
class InvalidParam:
    """One input that is wrong: where it is (dotted path) and why."""

    name: str
    reason: str


class ValidationFailed(DomainError):
    """Input that breaks the rules of its own shape; nothing was written."""

    def __init__(self, problems: list[InvalidParam]) -> None:
        self.problems = list(problems)
        summary = "; ".join(f"{p.name}: {p.reason}" for p in self.problems)
        super().__init__(summary or "invalid input")


class NotFound(DomainError):
    """The thing asked for does not exist."""


class Conflict(DomainError):
    """The command does not fit the current state (e.g. deciding a decided task)."""


class PreconditionFailed(DomainError):
    """The caller acted on a version of the resource that is no longer the current one."""


class Forbidden(DomainError):
    """The actor may not do this (e.g. a department deciding another's task)."""


class Locked(DomainError):
    """Too many wrong tries: refused, whatever is tried, until `until`."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


def require(**texts: str) -> None:
    """Each named text must say something; every empty one is named at once."""
    problems = [
        InvalidParam(name, "must not be empty") for name, text in texts.items() if not text.strip()
    ]
    if problems:
        raise ValidationFailed(problems)
