"""The event store: the `eventsourcing` application with our transcodings, and a hook that
tells listeners (the in-process projector) where the log has got to."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Recording

from licensing.persistence import ActorAsDict, DateAsISO


class EventStore(Application[UUID]):
    """Every registration, permit, bundle application, credit record and delivery, as events."""

    # The library derives the tables' names (`licensing_events`) and the environment's prefix
    # (`LICENSING_SQLITE_DBNAME`) from this name: it is part of every existing store.
    name = "Licensing"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        self.listeners: list[Callable[[int], None]] = []

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(ActorAsDict())

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        if recordings:
            position = recordings[-1].notification.id
            for listener in self.listeners:
                listener(position)
