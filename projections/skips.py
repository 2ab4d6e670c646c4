"""The operator's record of events the read model was told to pass over, kept as events."""

from __future__ import annotations

from typing import Any, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.errors import Conflict


class Skip(TypedDict):
    """One recorded skip: which event, who, when, why."""

    position: int
    topic: str
    originator_id: str
    originator_version: int
    error: str
    reason: str
    actor: dict[str, Any]
    at: str


class ProjectionSkips(Aggregate):
    """Every skip ever recorded, in one aggregate: the projector reads them all in one go,
    and the log itself says who let which event pass, when and why."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(NAMESPACE_URL, "/projections/skips")

    class Opened(Aggregate.Created):
        pass

    @event(Opened)
    def __init__(self) -> None:
        self.positions: set[int] = set()

    class Skipped(Aggregate.Event):
        actor: Actor
        position: int
        topic: str
        skipped_originator_id: str
        skipped_originator_version: int
        error: str
        reason: str

    def skip(
        self,
        *,
        actor: Actor,
        position: int,
        topic: str,
        originator_id: str,
        originator_version: int,
        error: str,
        reason: str,
    ) -> None:
        if position in self.positions:
            msg = f"position {position} was skipped already"
            raise Conflict(msg)
        if not reason.strip():
            msg = "a skip needs a reason"
            raise ValueError(msg)
        self._skipped(
            actor=actor,
            position=position,
            topic=topic,
            skipped_originator_id=originator_id,
            skipped_originator_version=originator_version,
            error=error,
            reason=reason.strip(),
        )

    @event(Skipped)
    def _skipped(  # the library builds the event from these arguments
        self,
        *,
        actor: Actor,
        position: int,
        topic: str,
        skipped_originator_id: str,
        skipped_originator_version: int,
        error: str,
        reason: str,
    ) -> None:
        self.positions.add(position)


def recorded_skips(app: Application[UUID]) -> dict[int, Skip]:
    """Every recorded skip by position (none if no skip was ever recorded)."""
    return {
        e.position: {
            "position": e.position,
            "topic": e.topic,
            "originator_id": e.skipped_originator_id,
            "originator_version": e.skipped_originator_version,
            "error": e.error,
            "reason": e.reason,
            "actor": {
                "id": e.actor.id,
                "role": e.actor.role.value,
                "department": e.actor.department,
                "district": e.actor.district,
            },
            "at": e.timestamp.isoformat(),
        }
        for e in app.events.get(ProjectionSkips.create_id())
        if isinstance(e, ProjectionSkips.Skipped)
    }


def record_skip(app: Application[UUID], *, attempts: int = 5, **skip: Any) -> None:
    """Save one skip; two operators recording at once both land (the loser tries again)."""
    for attempt in range(attempts):
        try:
            record: ProjectionSkips = app.repository.get(ProjectionSkips.create_id())
        except AggregateNotFoundError:
            record = ProjectionSkips()
        record.skip(**skip)
        try:
            app.save(record)
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise
