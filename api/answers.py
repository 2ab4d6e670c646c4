"""Answers several routers give: the public licence, and what a command answers once it is visible."""

from __future__ import annotations

from typing import Any

from domain.china import today_in_china
from licensing.runtime import Runtime
from licensing.unit_of_work import Receipt
from projections.views import application_view, present_licence


def public_licence(rt: Runtime, row: dict[str, Any]) -> dict[str, Any]:
    """A live licence as the public sees it today."""
    return present_licence(row, names=rt.catalogue, today=today_in_china())


def answer_with_licence(rt: Runtime, receipt: Receipt) -> dict[str, Any]:
    """After a command on a business or a permit: wait (bounded), then show the licence."""
    rt.settle(receipt.position)
    row = rt.view.licence(receipt.uscc)
    assert row is not None  # the command succeeded, so the business exists
    return public_licence(rt, row)


def answer_with_application(rt: Runtime, receipt: Receipt) -> dict[str, Any]:
    """After a command: wait (bounded) until its change is projected, then show the application."""
    rt.settle(receipt.position)
    return application_view(rt.licensing.application(receipt.id))
