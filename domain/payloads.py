"""The JSON objects events carry, typed: TypedDicts stay plain dicts, so what is stored is unchanged."""

from __future__ import annotations

from decimal import Decimal
from typing import Required, TypedDict
from uuid import UUID

# Dates inside these objects are ISO strings, as stored since the first event: a `date`
# here would be stored as a transcoded object instead, and read back differently.


class LegalRepresentative(TypedDict):
    """Personal data: kept in the event store for the registrar, never projected publicly."""

    name: str
    id_number: str
    mobile: str


class RegistrationDetails(TypedDict):
    """What the 营业执照 records, as the window took it down."""

    uscc: str
    name: str
    entity_type: str
    legal_representative: LegalRepresentative
    domicile: str
    business_scope: str
    registered_capital: Decimal


class SignedCommitment(TypedDict):
    """The applicant's signature under a published commitment letter (告知承诺书)."""

    version: str
    signed_by: str


class FastTrackRequest(TypedDict):
    """守信快批 as asked for: the chain headquarters and its written declaration."""

    chain_hq_uscc: str
    declaration: str


class Deficiency(TypedDict):
    """容缺受理: a material accepted as missing, and the day it is promised by."""

    material: str
    supply_by: str


class AttachedDocument(TypedDict):
    """A material file on the application (its bytes are in the document store): what it
    answers, its content's SHA-256, size and type, the day attached, and whether it was
    reused from the business's archive (一档通办) rather than uploaded."""

    material: str
    sha256: str
    size: int
    media_type: str
    attached_on: str
    reused: bool


class PromisedMaterial(TypedDict):
    """A missing material on the application: promised by, and supplied on (or not yet)."""

    supply_by: str
    supplied_on: str | None


class ReceivedRequest(TypedDict):
    """An application only received (收件): what the window dispatches once it accepts (受理)."""

    business: RegistrationDetails
    commitments: dict[str, SignedCommitment]
    fast_track: FastTrackRequest | None
    deficiencies: list[Deficiency]


class Listing(TypedDict):
    """One entry on a credit list, in the business's credit record."""

    list: str  # the list's code, a key of domain.credit.LISTS
    grounds: str
    legal_basis: str
    listed_on: str
    state: str  # active, objected or removed


class ActiveListing(Listing):
    """A listing that still applies, with its id in the record (L1, L2, …)."""

    id: str


class CreditSnapshot(TypedDict):
    """What an application records of a business's credit on the day it is accepted."""

    checked_on: str
    listings: list[ActiveListing]


class FastTrack(FastTrackRequest):
    """守信快批 as granted: with the headquarters' credit and the promised time limit."""

    hq_credit: CreditSnapshot
    target_days: int


class DispatchedTask(TypedDict, total=False):
    """One permit of a bundle as dispatched to its department. Keys a task's mode does not
    need are left out (an older submission left out `state` and `mode` too)."""

    permit_type: Required[str]
    department: Required[str]
    mode: str  # the reform mode; approval when absent
    permit_id: UUID | None  # None for a cancelled-approval item: there is no permit
    state: str  # queued when absent
    permit_number: str  # filings and commitments, numbered at dispatch
    promised_days: int
    statutory_days: int
    needs_inspection: bool
    deemed_outcome: str | None  # approve | refuse, where a rule deems the outcome
    deemed_basis: str | None
    due_on: str
    statutory_due_on: str


class Supplement(TypedDict):
    """A department's request for more (一次性告知), while its clock is paused."""

    items: list[str]
    note: str
    requested_on: str
    by: str  # the reviewer's id


class OpenRequest(Supplement):
    """A request still open, in the one notice the applicant gets."""

    permit_type: str
    department: str


class Finding(TypedDict):
    """A department's own finding at a joint inspection (联合勘查)."""

    passed: bool
    notes: str
    by: str


class Inspection(TypedDict):
    """The joint inspection scheduled for an application: one visit for all who inspect."""

    on: str
    permit_types: list[str]
    departments: list[str]


class DueDates(TypedDict):
    """A resumed task's deadlines, pushed out by the working days it was paused."""

    due_on: str | None
    statutory_due_on: str | None


class NonAcceptance(TypedDict):
    """不予受理: why, on what legal basis, and by whom."""

    reason: str
    legal_basis: str
    by: str
