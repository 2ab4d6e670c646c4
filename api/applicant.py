"""The applicant's door (办件查询): following an application with its number and the code sent
to the mobile at acceptance, without a staff token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import RuntimeDep
from api.problems import documented
from api.responses import Progress
from api.schemas import ProgressIn
from licensing import progress
from projections.views import applicant_progress

router = APIRouter(prefix="/api/v1", tags=["applicant"])


@router.post(
    "/progress",
    summary="办件查询: follow an application with its number and progress code",
    description="Anyone holding the code: no bearer token. The code is in the SMS sent to the "
    "applicant's mobile at acceptance (受理); the window can send a new one. A POST, so that "
    "the code stays out of URLs and access logs. A wrong code, or an unknown number, is the "
    "same 403; five wrong codes within 15 minutes lock the application's progress for 15 "
    "minutes (429 with `Retry-After`, the right code refused too) — a rule recorded on the "
    "application, whoever tries. Each task's state and decision with its reasons, what waits "
    "on the applicant, the supplement notice; never an officer's identity or personal data.",
    response_model=Progress,
    responses=documented(
        (403, "The number and the code do not match (`detail` says how many tries are left)"),
        (429, "Too many wrong codes: locked until the time `Retry-After` gives"),
        422,
    ),
)
def follow_progress(body: ProgressIn, rt: RuntimeDep) -> dict[str, Any]:
    application = progress.follow(rt.licensing, application_id=body.application_id, code=body.code)
    return applicant_progress(application, names=rt.catalogue)
