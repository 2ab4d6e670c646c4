"""The credit office: listings on the credit lists, objections and repair (信用修复)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.auth import CreditOfficer, Objector, RuntimeDep, Staff
from api.problems import documented
from api.responses import CreditRecord
from api.schemas import ListingIn, ListingObjectionIn, ObjectionDecisionIn, RemovalIn
from licensing import credit
from licensing.unit_of_work import Receipt, entity_tag
from projections.views import credit_record

router = APIRouter(prefix="/api/v1/credit", tags=["credit"])
_LISTING_STATE = "The listing's state does not allow this act"


def _record(rt: RuntimeDep, uscc: str) -> dict[str, Any]:
    return credit_record(uscc, rt.licensing.credit_record(uscc))


def _settled(rt: RuntimeDep, receipt: Receipt) -> dict[str, Any]:
    """Answer a command once the public licence shows it (its listings are published there)."""
    rt.settle(receipt.position)
    return _record(rt, receipt.uscc)


@router.get(
    "/{uscc}",
    summary="A business's credit listings and what they bar it from",
    description="A business never listed has an empty record.",
    response_model=CreditRecord,
)
def get_credit_record(
    uscc: str, actor: Staff, rt: RuntimeDep, response: Response
) -> dict[str, Any]:
    record = rt.licensing.credit_record(uscc)
    response.headers["ETag"] = entity_tag(record.version if record else 0)  # for If-Match
    return credit_record(uscc, record)


@router.post(
    "/{uscc}/listings",
    status_code=201,
    summary="List a business (grounds, legal basis)",
    description="Answers with the record and the new listing's `Location`.",
    response_model=CreditRecord,
    responses=documented((404, "No business with this USCC"), (409, "Already on that list"), 422),
)
def list_business(
    uscc: str, body: ListingIn, actor: CreditOfficer, rt: RuntimeDep, response: Response
) -> dict[str, Any]:
    receipt = credit.list_business(
        rt.licensing,
        uscc=uscc,
        actor=actor,
        list_code=body.list,
        grounds=body.grounds,
        legal_basis=body.legal_basis,
    )
    answer = _settled(rt, receipt)
    # One listing per list at a time: the active one on this list is the one just made.
    listing_id = next(
        x["id"] for x in answer["listings"] if x["list"] == body.list and x["state"] != "removed"
    )
    response.headers["Location"] = f"/api/v1/credit/{uscc}/listings/{listing_id}"
    return answer


@router.post(
    "/{uscc}/listings/{listing_id}/objection",
    summary="异议: the business objects",
    response_model=CreditRecord,
    responses=documented(404, (409, _LISTING_STATE), 422),
)
def object_to_listing(
    uscc: str, listing_id: str, body: ListingObjectionIn, actor: Objector, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = credit.object_to_listing(
        rt.licensing, uscc=uscc, listing_id=listing_id, actor=actor, grounds=body.grounds
    )
    return _settled(rt, receipt)


@router.post(
    "/{uscc}/listings/{listing_id}/objection-decision",
    summary="Decide an objection",
    response_model=CreditRecord,
    responses=documented(404, (409, "No objection is pending"), 422),
)
def decide_listing_objection(
    uscc: str, listing_id: str, body: ObjectionDecisionIn, actor: CreditOfficer, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = credit.decide_listing_objection(
        rt.licensing,
        uscc=uscc,
        listing_id=listing_id,
        actor=actor,
        upheld=body.upheld,
        reason=body.reason,
    )
    return _settled(rt, receipt)


@router.post(
    "/{uscc}/listings/{listing_id}/removal",
    summary="信用修复 or removal after the period",
    response_model=CreditRecord,
    responses=documented(404, (409, "Removed already"), 422),
)
def remove_listing(
    uscc: str, listing_id: str, body: RemovalIn, actor: CreditOfficer, rt: RuntimeDep
) -> dict[str, Any]:
    receipt = credit.remove_listing(
        rt.licensing,
        uscc=uscc,
        listing_id=listing_id,
        actor=actor,
        reason=body.reason,
        repaired=body.repaired,
    )
    return _settled(rt, receipt)
