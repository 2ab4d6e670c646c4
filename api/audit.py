"""What staff may read of a licence's past: its audit trail, who did what, when and why."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import RuntimeDep, Staff
from api.problems import documented
from api.responses import AuditTrail
from projections.history import audit_trail

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get(
    "/licences/{uscc}/history",
    summary="The licence's audit trail: who, when, what, why, in order",
    response_model=AuditTrail,
    responses=documented((404, "No business registered with this USCC")),
)
def get_history(uscc: str, actor: Staff, rt: RuntimeDep) -> dict[str, Any]:
    return {"uscc": uscc, "events": audit_trail(rt.app, uscc)}
