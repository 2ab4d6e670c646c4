"""Answers several routers give: the public licence, and what a command answers once it is
visible — taken from the events themselves, and said so, while the read model catches up."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.china import today_in_china
from domain.errors import NotFound
from licensing.runtime import CATCHING_UP, Runtime
from licensing.unit_of_work import Receipt
from projections.views import application_view, present_licence

# Set for each request by ReadModelNotice; a handler running in the thread pool sees the same
# list (the pool copies the context, not the list), so what it notes reaches the response.
_notes: ContextVar[list[str] | None] = ContextVar("read_model_notes", default=None)
HEADER = b"x-read-model"


def note(text: str) -> None:
    """Say on this request's answer that it is not the read model's own (and why)."""
    notes = _notes.get()
    if notes is not None:
        notes.append(text)


def noted() -> bool:
    """Whether this request's answer was noted as not the read model's own."""
    return bool(_notes.get())


class ReadModelNotice:
    """ASGI middleware: an answer composed from the events because the read model was behind
    says so in an `X-Read-Model: catching-up; …` header (`behind; …` when even the events of
    that licence could not be read, so it may be out of date)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        notes: list[str] = []
        token = _notes.set(notes)

        async def noted(message: Message) -> None:
            if message["type"] == "http.response.start" and notes:
                headers = [*message.get("headers", []), (HEADER, notes[0].encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            _notes.reset(token)


def public_licence(rt: Runtime, row: dict[str, Any]) -> dict[str, Any]:
    """A live licence as the public sees it today."""
    return present_licence(row, names=rt.catalogue, today=today_in_china())


def live_licence(rt: Runtime, uscc: str, *, settled: bool = True) -> dict[str, Any] | None:
    """The licence's row for a live answer: from the read model while it keeps up, else from
    the events (and the answer says so)."""
    row, notice = rt.licence(uscc, settled=settled)
    if notice is not None:
        note(notice)
    return row


def answer_with_licence(rt: Runtime, receipt: Receipt) -> dict[str, Any]:
    """After a command on a business or a permit: the licence with the change in it — from
    the read model once it shows the change (a bounded wait), else from the events."""
    row = live_licence(rt, receipt.uscc, settled=rt.settle(receipt.position))
    if row is None:  # pragma: no cover — the command succeeded, so the business exists
        msg = f"no licence with USCC {receipt.uscc}"
        raise NotFound(msg)
    return public_licence(rt, row)


def answer_with_application(rt: Runtime, receipt: Receipt) -> dict[str, Any]:
    """After a command: the application itself (read from its events, so it holds the change
    at once); the bounded wait lets a worklist read next see it too."""
    if not rt.settle(receipt.position):
        note(CATCHING_UP)
    return application_view(rt.licensing.application(receipt.id))
