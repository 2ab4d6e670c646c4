"""Who did it: the actor carried by every event."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ROLES = ("clerk", "department", "registrar", "credit", "admin", "system")


@dataclass(frozen=True)
class Actor:
    """A person or system acting in a role, scoped to a department or a district."""

    id: str
    role: str
    department: str | None = None
    district: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            msg = "actor id is empty"
            raise ValueError(msg)
        if self.role not in ROLES:
            msg = f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}"
            raise ValueError(msg)
        if self.role == "department" and not self.department:
            msg = "a department actor must name its department"
            raise ValueError(msg)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Actor:
        return cls(**data)


SYSTEM = Actor(id="system", role="system")
