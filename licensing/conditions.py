"""What a caller may ask of a command besides its input: not to do it twice (an idempotency
key) and to do it only on the version it saw (a precondition). Both are checked in the
command's own transaction, so no retry and no race can get round them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

# An idempotency key is kept as long as the events: a retry a year later still gets the
# first answer, never a second effect.
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Conditions:
    """The conditions of the one command a request runs."""

    idempotency_key: str | None = None
    fingerprint: str | None = None  # of the request (method, path, body), with the key
    if_match: str | None = None  # the version the caller saw, as an entity tag's value


_current: ContextVar[Conditions | None] = ContextVar("conditions", default=None)


@contextmanager
def conditions(value: Conditions) -> Iterator[None]:
    """Run the commands inside under `value` (the API sets it for each request)."""
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> Conditions | None:
    return _current.get()


class AnsweredRequest(Aggregate):
    """A request answered once under an idempotency key: what it acted on, and a digest of
    the request, so that the same key with another request is told apart."""

    @staticmethod
    def create_id(caller: str, key: str) -> UUID:
        # One record per caller and key: two callers may well pick the same key.
        return uuid5(NAMESPACE_URL, f"/requests/{caller}/{key}")

    class Answered(Aggregate.Created):
        caller: str
        key: str
        fingerprint: str
        subject_id: UUID
        uscc: str

    @event(Answered)
    def __init__(
        self, *, caller: str, key: str, fingerprint: str, subject_id: UUID, uscc: str
    ) -> None:
        self.caller = caller
        self.key = key
        self.fingerprint = fingerprint
        self.subject_id = subject_id
        self.uscc = uscc
