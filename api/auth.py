"""Bearer tokens (JWT) to actors; who may call what."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from domain.actor import Actor
from licensing.runtime import Runtime
from licensing.signing import TokenInvalid, read_access_token

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An HS256 JWT (`licensing tokens mint`) with `iss`, `sub` (who), `role` (clerk, "
    "department, registrar, credit or admin), `dept` for a department, `district` for a "
    "clerk, and `exp`. Each operation says which roles it admits.",
)


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


def admitted(
    security_scopes: SecurityScopes, actor: Annotated[Actor, Depends(current_actor)]
) -> Actor:
    """The actor, if its role is one of the route's scopes. The scopes are the roles the
    route's OpenAPI operation publishes in its security requirement, so the roles a route
    checks and the roles it documents are one list."""
    allowed = security_scopes.scopes
    if actor.role not in allowed:
        raise HTTPException(
            403, f"role {actor.role!r} may not do this; needs {' or '.join(allowed)}"
        )
    return actor


# Who may call a route, by role: one alias per kind of caller.
Clerk = Annotated[Actor, Security(admitted, scopes=["clerk"])]
Reviewer = Annotated[Actor, Security(admitted, scopes=["department"])]
Registrar = Annotated[Actor, Security(admitted, scopes=["registrar"])]
CreditOfficer = Annotated[Actor, Security(admitted, scopes=["credit"])]
Staff = Annotated[
    Actor, Security(admitted, scopes=["clerk", "department", "registrar", "credit", "admin"])
]
# The window follows its district's applications; an administrator every district's.
WindowReader = Annotated[Actor, Security(admitted, scopes=["clerk", "admin"])]
# The window prints the licence and hands over its codes, as does the registration office.
Printer = Annotated[Actor, Security(admitted, scopes=["clerk", "registrar"])]
# A business objects to a credit listing through the window or the credit office itself.
Objector = Annotated[Actor, Security(admitted, scopes=["clerk", "credit"])]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
