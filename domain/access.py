"""Who read what personal data or material file of an application, and when: one access log
per application."""

from __future__ import annotations

from typing import Literal, get_args
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor

# What a permit type may need to know of the people behind an application (the catalogue's
# `personal_data` of a permit type lists them): the legal representative's name, ID number
# and mobile; the applicant's contact (name, mobile, e-mail: the 电子送达 address).
PersonalData = Literal["legal_representative", "applicant_contact"]
PERSONAL_DATA: tuple[str, ...] = get_args(PersonalData)

# Each kind of personal data as the items a read of it discloses, as the log records them.
ITEMS: dict[str, tuple[str, ...]] = {
    "legal_representative": (
        "legal_representative.name",
        "legal_representative.id_number",
        "legal_representative.mobile",
    ),
    "applicant_contact": ("applicant.contact_name", "applicant.mobile", "applicant.email"),
}


def items_of(kinds: tuple[str, ...] | list[str]) -> list[str]:
    """The items disclosed by reading these kinds of personal data, in a stable order."""
    return [item for kind in PERSONAL_DATA if kind in kinds for item in ITEMS[kind]]


class AccessLog(Aggregate):
    """Every read of an application's personal data, by whom and for which task. Kept apart
    from the application so that reading never changes the version its clerk acts on."""

    @staticmethod
    def create_id(application_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"/access-logs/{application_id}")

    class Opened(Aggregate.Created):
        application_id: UUID
        uscc: str

    @event(Opened)
    def __init__(self, *, application_id: UUID, uscc: str) -> None:
        self.application_id = application_id
        self.uscc = uscc

    def personal_data_read(self, *, actor: Actor, permit_type: str, items: list[str]) -> None:
        if not items:
            msg = "a read of personal data names what it read"
            raise ValueError(msg)
        self._personal_data_read(actor=actor, permit_type=permit_type, items=items)

    class PersonalDataRead(Aggregate.Event):
        actor: Actor
        permit_type: str  # the task the reader acted for
        items: list[str]  # what was disclosed, e.g. legal_representative.id_number

    @event(PersonalDataRead)
    def _personal_data_read(self, *, actor: Actor, permit_type: str, items: list[str]) -> None:
        pass  # a record only: nothing about the application changes by being read

    def document_read(
        self, *, actor: Actor, permit_type: str, document_id: UUID, material: str
    ) -> None:
        self._document_read(
            actor=actor, permit_type=permit_type, document_id=document_id, material=material
        )

    class DocumentRead(Aggregate.Event):
        """A material file downloaded for a task (files may hold personal data too)."""

        actor: Actor
        permit_type: str  # the task the reader acted for
        document_id: UUID
        material: str

    @event(DocumentRead)
    def _document_read(
        self, *, actor: Actor, permit_type: str, document_id: UUID, material: str
    ) -> None:
        pass  # a record only
