"""Bearer tokens (JWT) to actors; who may call what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.actor import Actor
from licensing.runtime import Runtime
from licensing.signing import TokenInvalid, read_access_token

_bearer = HTTPBearer(auto_error=False, description="JWT from `licensing tokens mint`")


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    challenge = {"WWW-Authenticate": 'Bearer realm="licensing"'}
    if credentials is None:
        raise HTTPException(401, "a bearer token is required", headers=challenge)
    rt = runtime(request)
    try:
        return read_access_token(rt.auth_secret, credentials.credentials, issuer=rt.settings.issuer)
    except TokenInvalid as error:
        raise HTTPException(401, f"bearer token refused: {error}", headers=challenge) from None


def role(*allowed: str) -> Callable[..., Actor]:
    """A dependency admitting only actors in one of `allowed` roles."""

    def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.role not in allowed:
            raise HTTPException(
                403, f"role {actor.role!r} may not do this; needs {' or '.join(allowed)}"
            )
        return actor

    return check


# Who may call a route, by role: one alias per kind of caller.
Clerk = Annotated[Actor, Depends(role("clerk"))]
Reviewer = Annotated[Actor, Depends(role("department"))]
Registrar = Annotated[Actor, Depends(role("registrar"))]
CreditOfficer = Annotated[Actor, Depends(role("credit"))]
Staff = Annotated[Actor, Depends(role("clerk", "department", "registrar", "credit", "admin"))]
# A business objects to a credit listing through the window or the credit office itself.
Objector = Annotated[Actor, Depends(role("clerk", "credit"))]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
