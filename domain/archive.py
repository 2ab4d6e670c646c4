"""一档通办: a business's archive of accepted material files, by USCC, reused by later
applications; nothing an application does (its end included) removes a file from it."""

from __future__ import annotations

from datetime import date
from typing import TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor


class ArchivedDocument(TypedDict):
    """An archived file: what it answers, its content's hash, size and type, and the
    application it was accepted with."""

    material: str
    sha256: str
    size: int
    media_type: str
    application_id: str
    archived_on: str


class BusinessArchive(Aggregate):
    """The business's accepted material files. An aggregate rather than a read-model table:
    the window reuses a file in the same transaction that checks it is archived, which a
    projection (that may lag) could not promise; and it is written with the acceptance."""

    @staticmethod
    def create_id(uscc: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/archives/{uscc}")

    class Opened(Aggregate.Created):
        uscc: str

    @event(Opened)
    def __init__(self, *, uscc: str) -> None:
        self.uscc = uscc
        self.documents: dict[str, ArchivedDocument] = {}

    def archive(
        self,
        *,
        actor: Actor,
        document_id: UUID,
        material: str,
        sha256: str,
        size: int,
        media_type: str,
        application_id: UUID,
        on: date,
    ) -> None:
        """File an accepted document (once: a reused one is there already)."""
        if str(document_id) in self.documents:
            return
        self._archived(
            actor=actor,
            document_id=document_id,
            material=material,
            sha256=sha256,
            size=size,
            media_type=media_type,
            application_id=application_id,
            on=on,
        )

    class DocumentArchived(Aggregate.Event):
        actor: Actor
        document_id: UUID
        material: str
        sha256: str
        size: int
        media_type: str
        application_id: UUID
        on: date

    @event(DocumentArchived)
    def _archived(
        self,
        *,
        actor: Actor,
        document_id: UUID,
        material: str,
        sha256: str,
        size: int,
        media_type: str,
        application_id: UUID,
        on: date,
    ) -> None:
        self.documents = {
            **self.documents,
            str(document_id): {
                "material": material,
                "sha256": sha256,
                "size": size,
                "media_type": media_type,
                "application_id": str(application_id),
                "archived_on": on.isoformat(),
            },
        }

    def by_material(self) -> dict[str, list[tuple[str, ArchivedDocument]]]:
        found: dict[str, list[tuple[str, ArchivedDocument]]] = {}
        for document_id, document in self.documents.items():
            found.setdefault(document["material"], []).append((document_id, document))
        return found
