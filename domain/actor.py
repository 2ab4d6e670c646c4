"""Who did it: the actor carried by every event, and the roles one acts in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What an actor acts as; equal to the plain string every stored event holds."""

    CLERK = "clerk"
    DEPARTMENT = "department"
    REGISTRAR = "registrar"
    CREDIT = "credit"
    ADMIN = "admin"
    SYSTEM = "system"


ROLES: tuple[str, ...] = tuple(role.value for role in Role)


@dataclass(frozen=True)
class Actor:
    """A person or system acting in a role, scoped to a department or a district."""

    id: str
    role: Role
    department: str | None = None
    district: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            msg = "actor id is empty"
            raise ValueError(msg)
        # Stored events and bearer tokens hand the role over as a plain string.
        if self.role not in ROLES:
            msg = f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}"
            raise ValueError(msg)
        object.__setattr__(self, "role", Role(self.role))
        if self.role is Role.DEPARTMENT and not self.department:
            msg = "a department actor must name its department"
            raise ValueError(msg)


SYSTEM = Actor(id="system", role=Role.SYSTEM)
