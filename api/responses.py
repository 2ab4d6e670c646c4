"""Response bodies: what each route answers, field by field, as projections/views.py builds it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import ListCode
from domain.access import PersonalData as PersonalDataKind
from domain.actor import Role
from domain.bundle import TaskState
from domain.status import PermitStatus, RegistrationStatus
from licensing.catalogue import FieldType, Mode, SituationType

# Dates and instants stay the ISO strings the views hold (the bodies are sent unchanged);
# the schema says which format each one has.
Day = Annotated[str, Field(json_schema_extra={"format": "date"}, examples=["2026-11-17"])]
Instant = Annotated[
    str,
    Field(json_schema_extra={"format": "date-time"}, examples=["2026-11-17T01:00:00.123456+00:00"]),
]
Uscc = Annotated[
    str, Field(description="统一社会信用代码, the 18-character unified social credit code")
]
Link = Annotated[str, Field(description="a path on this server")]

# Closed sets the domain keeps as constants (its enums are used as they are). The test suite
# checks each against the domain.
ApplicationStatus = Literal[
    "received", "not_accepted", "in_review", "decided", "withdrawn", "lapsed"
]
ListingState = Literal["active", "objected", "removed"]
PublishedListingState = Literal["active", "objected"]


class Out(BaseModel):
    """A response body. A key the model does not name fails the response instead of
    silently disappearing from it, so the views and this contract cannot drift apart."""

    model_config = ConfigDict(extra="forbid")


# --- the public licence ----------------------------------------------------------------


class PermitStatusWord(Out):
    """One of the five public statuses, in the seed's plain words."""

    code: PermitStatus = Field(description="only `valid` (有效) lets the business operate")
    word: str = Field(description="the status word in Chinese", examples=["有效"])
    english: str = Field(examples=["valid"])


class RegistrationStatusWord(Out):
    """Where the business registration (营业执照) stands."""

    code: RegistrationStatus
    word: str = Field(description="the status word in Chinese", examples=["存续"])
    english: str = Field(examples=["active"])


class PublicPermit(Out):
    """A permit as the public sees it: what, whose, its status and why; no staff identities."""

    permit_type: str = Field(description="the permit type's code in the catalogue")
    name_zh: str
    name_en: str
    department: str = Field(description="the issuing department's code")
    department_name_zh: str
    department_name_en: str
    status: PermitStatusWord
    reason: str = Field(description="why the permit has its status, in Chinese and English")
    legal_basis: str | None = Field(description="the rule a decision on the permit rests on")
    permit_number: str | None = Field(description="null until the permit is issued")
    valid_from: Day | None
    valid_until: Day | None = Field(
        description="the last day it is valid; null: no end. A `valid` permit past this day "
        "is shown `invalid` at once"
    )
    version: int = Field(description="the permit's own version: one per event on it")
    updated_at: Instant = Field(description="when the permit last changed")


class ListingStateWord(Out):
    code: PublishedListingState = Field(
        description="`objected`: an objection is under review; the listing applies meanwhile"
    )
    word: str = Field(examples=["列入中"])
    english: str = Field(examples=["listed"])


class PublicCreditListing(Out):
    """A listing published (公示) on the licence until it is removed or its period ends."""

    listing_id: str = Field(description="the listing's id in the business's record (L1, L2 …)")
    list: ListCode
    list_zh: str = Field(examples=["经营异常名录"])
    list_en: str = Field(examples=["abnormal operations list"])
    listed_on: Day
    grounds: str
    legal_basis: str
    state: ListingStateWord


class Licence(Out):
    """The public licence: the registration and every permit with its status, and the
    published credit listings. No personal data."""

    uscc: Uscc
    name: str
    entity_type: str = Field(examples=["limited_company"])
    entity_type_zh: str = Field(examples=["有限责任公司"])
    domicile: str
    business_scope: str
    registered_capital: str = Field(
        description="in yuan, a decimal with two places", examples=["300000.00"]
    )
    status: RegistrationStatusWord
    print_version: int = Field(
        description="the print version a printed QR must carry to be current; a code with "
        "a lower one is superseded (a reprint replaced it)"
    )
    version: int = Field(
        description="one more for every change to the registration, a permit or a listing"
    )
    as_of: Instant = Field(description="when the licence last changed")
    permits: list[PublicPermit] = Field(description="by permit type code")
    credit_listings: list[PublicCreditListing] = Field(description="oldest first")


class LiveLicenceLinks(Out):
    self: Link
    qr_png: Link
    qr_svg: Link
    verification: str = Field(
        description="the absolute URL the printed QR holds (a signed pointer to the scan page)"
    )


class LiveLicence(Licence):
    """The licence now, with where to find its QR code and scan page."""

    links: LiveLicenceLinks


class PastLicenceLinks(Out):
    live: Link


class PastLicence(Licence):
    """The licence as it stood at `requested_as_of`, replayed from the events."""

    requested_as_of: Instant = Field(description="the instant asked for, with its offset")
    links: PastLicenceLinks


# --- the signed status document and the keys ------------------------------------------


class DocumentRegistration(Out):
    name: str
    status: RegistrationStatus


class DocumentPermit(Out):
    type: str = Field(description="permit type code")
    no: str | None = Field(description="permit number; null until issued")
    status: PermitStatus
    reason: str = Field(
        description="why it has that status, as the page says it (e.g. 待营业执照核发后生效: "
        "granted with a business licence not issued yet)"
    )
    valid_to: Day | None
    changed_at: Instant


class DocumentListing(Out):
    list: ListCode
    list_zh: str
    list_en: str
    listed_on: Day
    grounds: str
    legal_basis: str
    state: PublishedListingState


class StatusDocument(Out):
    """What the scanned code's licence says now, for the print version it points to."""

    v: int = Field(description="the licence version")
    asof: Instant = Field(description="when the licence last changed")
    qv: int = Field(description="the print version the scanned code carries")
    superseded: bool = Field(description="a newer print replaced the scanned one")
    lic: DocumentRegistration
    permits: list[DocumentPermit]
    credit: list[DocumentListing] = Field(description="the published credit listings")


class StatusAnswer(Out):
    """The scan page for machines: the status document, and the same signed."""

    jws: str = Field(
        description="compact JWS (ES256, `typ: licence-status+jwt`, `kid` in the JWKS) whose "
        "claims are `iss`, `sub` (the USCC), `iat`, `exp` (five minutes later, in seconds "
        "since the epoch) and every member of `doc`"
    )
    doc: StatusDocument = Field(description="the signed claims, for reading without a JOSE library")


class SnapshotChecked(Out):
    """What a scanned snapshot code said, beside the live status."""

    version: int = Field(description="the licence version the snapshot signed")
    issued_at: Instant
    expires_at: Instant
    behind: bool = Field(description="the licence has changed since: the live status differs")


class SnapshotAnswer(StatusAnswer):
    """The snapshot's scan page for machines: the live status document, signed, and what
    the snapshot said."""

    snapshot: SnapshotChecked


class Jwk(Out):
    """A public P-256 key (no private part)."""

    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str = Field(description="base64url")
    y: str = Field(description="base64url")
    kid: str
    alg: Literal["ES256"]
    use: Literal["sig"]


class Jwks(Out):
    """The keys that verify printed pointers and status documents, retired ones included."""

    keys: list[Jwk]


class SnapshotCode(Out):
    """A snapshot code of the electronic licence, for the holder's phone (docs/tokens.md)."""

    uscc: Uscc
    version: int = Field(description="the licence version the snapshot signs")
    token: str = Field(
        description="COSE_Sign1 CWT (ES256, the snapshot key), base32 without padding; "
        "verifiable offline with the JWKS"
    )
    url: str = Field(description="what the QR holds: the scan page for the token")
    qr_png: str = Field(description="the QR code as a PNG, base64")
    qr_version: int = Field(description="the QR code's version at error-correction level M")
    issued_at: Instant
    expires_at: Instant = Field(description="the snapshot verifies until then (and no later)")


# --- the catalogue ------------------------------------------------------------------------


class ThemeLinks(Out):
    self: Link


class ThemeSummary(Out):
    code: str = Field(examples=["open_hotel"])
    name_zh: str = Field(examples=["开办旅馆"])
    name_en: str
    permit_count: int = Field(description="mandatory and conditional permits")
    conditional: bool = Field(description="a situation answer decides some of the permits")
    department_count: int
    links: ThemeLinks


class ThemeList(Out):
    catalogue_version: str
    themes: list[ThemeSummary]


class ThemePermit(Out):
    code: str
    name_zh: str
    name_en: str
    department: str
    department_name_zh: str
    mode: Mode = Field(
        description="证照分离 reform mode: `cancelled` (the department is only informed), "
        "`filing` (valid at once), `commitment` (valid on a signed letter, verified later), "
        "`approval` (decided within the time limit)"
    )
    statutory_days: int = Field(description="statutory time limit, in working days")
    promised_days: int = Field(description="promised time limit, in working days")
    when: dict[str, bool | str] | None = Field(
        description="null: always needed; else the situation answers that call for it"
    )


class Choice(Out):
    code: str
    label_zh: str
    label_en: str


class SituationQuestion(Out):
    """办事情形: a question whose answer decides which permits apply."""

    code: str
    label_zh: str
    label_en: str
    type: SituationType
    choices: list[Choice]


class FormField(Out):
    """One field of the merged form (一表登记), asked once for every permit that uses it."""

    code: str
    label_zh: str
    label_en: str
    type: FieldType
    choices: list[Choice]
    required: bool
    permits: list[str] = Field(description="the permit types that use this field")


class Theme(ThemeSummary):
    """A themed item and what the window needs to open it."""

    catalogue_version: str
    permits: list[ThemePermit]
    situations: list[SituationQuestion]
    form: list[FormField]
    scope: ThemeScope | None = Field(
        default=None, description="with `?scope=`: what that business scope points to here"
    )


# --- applications ----------------------------------------------------------------------


class CreditListing(Out):
    """A listing in a business's credit record."""

    list: ListCode
    grounds: str
    legal_basis: str
    listed_on: Day
    state: ListingState


class ListingInForce(CreditListing):
    id: str = Field(description="the listing's id in the record (L1, L2 …)")


class CreditSnapshot(Out):
    """The credit an application was accepted on."""

    checked_on: Day
    listings: list[ListingInForce] = Field(description="the listings in force that day")


class FastTrack(Out):
    """守信快批 as granted."""

    chain_hq_uscc: str
    declaration: str
    hq_credit: CreditSnapshot = Field(description="the chain headquarters' credit")
    target_days: int = Field(description="every task is due within this many working days")


class Inspection(Out):
    """联合勘查: one site visit for every task that inspects the site."""

    on: Day
    permit_types: list[str]
    departments: list[str]


class PromisedMaterial(Out):
    """容缺受理: a material accepted as missing."""

    supply_by: Day
    supplied_on: Day | None = Field(description="null until it arrives")


class NonAcceptance(Out):
    """不予受理."""

    reason: str
    legal_basis: str
    by: str = Field(description="the clerk's id")


class Supplement(Out):
    """A department's open request for more; its task's clock is paused meanwhile."""

    items: list[str]
    note: str
    requested_on: Day
    by: str = Field(description="the reviewer's id")


class Finding(Out):
    """A department's own finding at the joint inspection."""

    passed: bool
    notes: str
    by: str = Field(description="the reviewer's id")


class Task(Out):
    """One permit of the bundle, with the department that decides it."""

    permit_type: str
    department: str
    state: TaskState = Field(
        description="`queued` awaits a decision; `supplement_requested` is paused until "
        "resubmission; the others are final"
    )
    mode: Mode
    supplement: Supplement | None
    pauses: list[tuple[Day, Day | None]] = Field(
        description="each pause of the clock: [paused on, resumed on (null while paused)]"
    )
    needs_inspection: bool = Field(description="its department inspects the site")
    finding: Finding | None
    due_on: Day | None = Field(description="promised date (working days from acceptance)")
    statutory_due_on: Day | None
    permit_number: str | None
    reason: str | None
    legal_basis: str | None
    decided_by: str | None = Field(description="the deciding reviewer's id")
    claimed_by: str | None = Field(
        description="办理人: the officer of its department who has claimed it; null: unclaimed"
    )


class ApplicationLinks(Out):
    self: Link
    licence: Link


class Application(Out):
    """An application as the window follows it (办件查询)."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    theme: str
    catalogue_version: str = Field(description="of its acceptance (of its receipt until then)")
    uscc: Uscc
    situation: dict[str, bool | str] = Field(description="办事情形 answers, by question code")
    credit: CreditSnapshot | None = Field(description="null until accepted")
    fast_track: FastTrack | None
    joint_inspection: Inspection | None
    deficiencies: dict[str, PromisedMaterial] = Field(description="by material")
    status: ApplicationStatus = Field(
        description="`received`: only received (收件), acceptance pending; `in_review` until "
        "every task is final, then `decided`"
    )
    not_accepted: NonAcceptance | None
    submitted_at: Instant
    submitted_by: str = Field(description="the clerk's id")
    district: str | None = Field(
        description="the district of the window it was filed at (the clerk token's); only "
        "that district's clerks see it"
    )
    version: int
    tasks: list[Task] = Field(description="in catalogue order; none before acceptance")
    links: ApplicationLinks


class ApplicationRowLinks(Out):
    self: Link


class ApplicationRow(Out):
    """One application in the window's list."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    uscc: Uscc
    business_name: str | None = Field(description="as registered; null until projected")
    theme: str
    status: ApplicationStatus
    district: str | None = Field(description="the district of the window it was filed at")
    received_on: Day = Field(description="the day (in China) it was received (收件)")
    accepted_on: Day | None = Field(description="the day it was accepted (受理); null before")
    received_at: Instant
    links: ApplicationRowLinks


class ApplicationList(Out):
    """One page of the window's applications, newest first (limit/offset paging; `total`
    counts every application the filters match)."""

    total: int
    limit: int
    offset: int
    applications: list[ApplicationRow]


class OpenRequest(Out):
    """One department's open request in the notice: its task, then what it asks."""

    permit_type: str
    department: str
    items: list[str]
    note: str
    requested_on: Day
    by: str = Field(description="the reviewer's id")


class SupplementNotice(Out):
    """一次性告知: every department's open request, as one notice to the applicant."""

    application_id: str = Field(json_schema_extra={"format": "uuid"})
    uscc: Uscc
    departments: list[str]
    requests: list[OpenRequest]


# --- a department's desk ------------------------------------------------------------------


class AuditActor(Out):
    id: str
    role: Role
    department: str | None
    district: str | None


class WorklistLinks(Out):
    task: Link = Field(description="the department's own view of the task")
    decision: Link
    claim: Link


class WorklistTask(Out):
    application_id: str = Field(json_schema_extra={"format": "uuid"})
    permit_type: str
    department: str
    theme: str
    uscc: Uscc
    state: TaskState
    mode: Mode
    due_on: Day | None
    statutory_due_on: Day | None
    submitted_at: Instant = Field(description="when the task reached the department")
    decided_at: Instant | None
    decided_by: str | None
    deemed_outcome: Literal["approve", "refuse"] | None = Field(
        description="what passing the statutory limit undecided means, where a rule says "
        "(视为准予 / 视为不予许可); null: nothing happens by itself, the task is only overdue"
    )
    claimed_by: str | None = Field(description="办理人: the officer who has claimed it")
    claimed_at: Instant | None
    business_name: str | None
    overdue: bool = Field(description="queued and past its promised date")
    links: WorklistLinks


class Worklist(Out):
    """One page of a department's worklist (limit/offset paging; `total` counts every task
    the filters match)."""

    department: str
    as_of: Day = Field(description="today, in China: the day `overdue` is judged on")
    total: int = Field(description="tasks matching the filters, on every page")
    limit: int
    offset: int
    tasks: list[WorklistTask] = Field(description="soonest due first; tasks without a date last")


class BusinessDetails(Out):
    """The business as registered, without personal data."""

    uscc: Uscc
    name: str
    entity_type: str = Field(examples=["limited_company"])
    entity_type_zh: str = Field(examples=["有限责任公司"])
    domicile: str
    business_scope: str
    registered_capital: str = Field(description="in yuan, two decimal places")
    status: RegistrationStatus


class TaskAnswer(Out):
    """One field its permit type uses, and the applicant's answer."""

    code: str
    label_zh: str
    label_en: str
    type: FieldType
    required: bool = Field(description="its permit type requires it")
    value: Any = Field(description="as the form holds it; null where left empty")


class TaskMaterial(Out):
    """A material its permit needs in the application's situation, with its standing and its
    files. The same shape as a material of the application's list: the catalogue's materials
    and the window's files fill it once they are on main (empty until then)."""

    code: str
    name_zh: str
    name_en: str
    form: str = Field(description="original, copy or electronic")
    permits: list[str]
    status: str = Field(
        description="documented, promised (容缺), replaced_by_commitment, missing, not_on_file"
    )
    promised: PromisedMaterial | None
    documents: list[dict[str, Any]]


class SignedCommitment(Out):
    """告知承诺书: the letter signed for this permit on this application."""

    version: str
    signed_by: str
    granted_at: Instant = Field(description="when the permit took effect on it")
    verification_due: Day = Field(description="先证后核: verified by this day")


class TaskDecision(Out):
    state: TaskState
    permit_number: str | None
    reason: str | None
    legal_basis: str | None
    decided_by: str | None


class TaskDeadlines(Out):
    due_on: Day | None = Field(description="promised date, moved by every pause")
    statutory_due_on: Day | None
    overdue: bool = Field(description="queued and past its promised date")
    statutory_overdue: bool = Field(description="queued and past its statutory date")
    paused: bool = Field(description="waiting on the applicant's supplement: the clock stopped")
    pauses: list[tuple[Day, Day | None]]
    deemed_outcome: Literal["approve", "refuse"] | None


TaskEvent = Literal[
    "dispatched",
    "claimed",
    "released",
    "taken_over",
    "supplement_requested",
    "resubmitted",
    "joint_inspection_scheduled",
    "inspection_finding",
    "approved",
    "refused",
    "withdrawn",
    "lapsed",
    "ended",
]


class TaskHistoryEntry(Out):
    at: Instant
    what: TaskEvent
    actor: AuditActor
    details: dict[str, Any] = Field(
        description="what the event says of this task (a resubmission: only the answers of "
        "its own permit's fields)"
    )


class PersonalDataOffer(Out):
    """The personal data its permit type needs (the catalogue's `personal_data`): read apart,
    and every read is logged."""

    kinds: list[PersonalDataKind]
    items: list[str] = Field(examples=[["legal_representative.id_number"]])
    link: Link


class TaskViewLinks(Out):
    self: Link
    personal_data: Link
    claim: Link
    release: Link
    takeover: Link
    decision: Link
    supplement_request: Link
    inspection_finding: Link


class TaskView(Out):
    """A department's view of its own task: what it decides on, and nothing of other
    departments' permits."""

    application_id: str = Field(json_schema_extra={"format": "uuid"})
    permit_type: str
    name_zh: str
    name_en: str
    department: str
    theme: str
    catalogue_version: str
    application_status: ApplicationStatus
    mode: Mode
    state: TaskState
    claimed_by: str | None = Field(description="办理人; null: unclaimed")
    claimed_at: Instant | None
    business: BusinessDetails
    answers: list[TaskAnswer] = Field(
        description="the fields its permit type uses, and only those, in the catalogue's order"
    )
    materials: list[TaskMaterial] = Field(description="the materials its permit needs")
    commitment: SignedCommitment | None
    credit: CreditSnapshot | None = Field(description="the credit it was accepted on")
    joint_inspection: Inspection | None = Field(description="if the task is part of one")
    supplement: Supplement | None = Field(description="its open request, while paused")
    finding: Finding | None
    decision: TaskDecision | None = Field(description="null while open")
    deadlines: TaskDeadlines
    history: list[TaskHistoryEntry] = Field(description="the task's events, oldest first")
    personal_data: PersonalDataOffer | None = Field(
        description="null: its permit needs no personal data, and none is disclosed"
    )
    links: TaskViewLinks


class LegalRepresentativeData(Out):
    name: str
    id_number: str = Field(description="居民身份证号码")
    mobile: str


class ApplicantContact(Out):
    contact_name: str | None
    mobile: str | None
    email: str | None


class PersonalData(Out):
    """Personal data for one task: only the kinds its permit type needs; this read is in the
    licence's audit trail (who, when, which items)."""

    application_id: str = Field(json_schema_extra={"format": "uuid"})
    permit_type: str
    items: list[str] = Field(description="what this read disclosed, as the log records it")
    legal_representative: LegalRepresentativeData | None
    applicant: ApplicantContact | None


class VerificationLinks(Out):
    verification: Link


class PermitToVerify(Out):
    """A permit granted on commitment (先证后核), as the read model holds it."""

    permit_id: str = Field(json_schema_extra={"format": "uuid"})
    uscc: Uscc
    permit_type: str
    department: str
    status: PermitStatus = Field(description="as recorded (not yet judged against today)")
    reason: str
    legal_basis: str | None
    permit_number: str | None
    valid_from: Day | None
    valid_until: Day | None
    verification_due: Day
    version: int
    updated_at: Instant
    business_name: str
    overdue: bool = Field(description="its verification is past due")
    links: VerificationLinks


class CommitmentsToVerify(Out):
    department: str
    as_of: Day
    permits: list[PermitToVerify] = Field(description="soonest due first")


# --- a department's feed (推送 / 双告知) ----------------------------------------------------

FeedEntryType = Literal[
    "task.created",
    "task.informed",
    "task.supplement_requested",
    "task.resumed",
    "task.inspection_scheduled",
    "task.decided",
    "task.ended",
    "registration.established",
    "registration.refused",
    "registration.reapplied",
    "registration.changed",
    "registration.suspended",
    "registration.resumed",
    "registration.deregistration_notice",
    "registration.deregistration_objected",
    "registration.exited",
]


class FeedBusiness(Out):
    """The business as its public licence shows it after the entry's event: no personal data
    (the legal representative is never in a feed entry)."""

    uscc: Uscc
    name: str
    entity_type: str
    domicile: str
    business_scope: str
    registered_capital: str = Field(description="a decimal, as text")
    status: RegistrationStatus


class FeedTask(Out):
    """The department's task as it stands after the entry's event."""

    application_id: str = Field(json_schema_extra={"format": "uuid"})
    theme: str
    permit_type: str
    mode: Mode
    state: TaskState
    due_on: Day | None
    statutory_due_on: Day | None
    permit_number: str | None = Field(description="a decision or filing that numbered it")
    reason: str | None = Field(description="of a decision, or why the task ended")
    legal_basis: str | None
    items: list[str] | None = Field(description="what a supplement request asks for")
    inspection_on: Day | None = Field(description="the day of the joint inspection (联合勘查)")


class FeedRegistrationAct(Out):
    """What happened to the business's registration."""

    changed: list[str] = Field(
        description="变更: the changed fields by name (`name`, `domicile`, `business_scope`, "
        "`legal_representative`); the new public values are in `business`, a new legal "
        "representative is never shown"
    )
    reason: str | None
    legal_basis: str | None
    until: Day | None = Field(description="休业 until, or the end of the 简易注销 notice")
    exit: Literal["deregistered", "revoked", "cancelled"] | None = Field(
        description="注销, 吊销 or 撤销登记: every permit of the business is now 无效"
    )


class FeedLinks(Out):
    licence: Link
    task: Link | None = Field(description="the department's view of its task")
    decision: Link | None = Field(description="where an approval task is decided")


class FeedEntry(Out):
    """One entry: fixed once written, the same in the pull feed and in the webhook body."""

    id: str = Field(
        json_schema_extra={"format": "uuid"},
        description="stable; the webhook's `webhook-id` (a receiver deduplicates on it)",
    )
    cursor: str = Field(description="opaque: `?after=` this resumes right after the entry")
    department: str
    type: FeedEntryType = Field(
        description="`task.*` entries carry `task`, `registration.*` entries `registration`"
    )
    occurred_at: Instant
    uscc: Uscc
    business: FeedBusiness
    task: FeedTask | None
    registration: FeedRegistrationAct | None
    links: FeedLinks


class FeedPageLinks(Out):
    next: Link = Field(description="the next page (the same query while `more` is false)")


class DepartmentFeed(Out):
    department: str
    entries: list[FeedEntry] = Field(description="in log order")
    cursor: str | None = Field(
        description="pass as `after` next time: the last entry's, or the one given when "
        "nothing is new (null: nothing yet)"
    )
    more: bool = Field(description="the page is full: ask again at once for the rest")
    links: FeedPageLinks


# --- credit and audit ------------------------------------------------------------------


class RecordedListing(CreditListing):
    id: str = Field(description="the listing's id in the record (L1, L2 …)")
    list_zh: str
    list_en: str


class CreditRecord(Out):
    """A business's credit record as staff see it: every listing, ended ones too."""

    uscc: Uscc
    listings: list[RecordedListing]
    restricted: bool = Field(description="a listing in force bars it from something")
    restrictions: list[str] = Field(description="what the listings in force bar it from")


class AuditEntry(Out):
    at: Instant
    subject: str = Field(
        description="`registration`; `permit:` and the permit type code; or `access:` and an "
        "application id, for a read of its personal data (`PersonalDataRead`: `details` "
        "names the task's permit type and the items read)"
    )
    what: str = Field(description="the event's name", examples=["Approved"])
    version: int = Field(description="the subject's version after the event")
    actor: AuditActor | None = Field(
        description="null for an event the store holds but cannot read (`(unreadable event)`)"
    )
    reason: str | None
    legal_basis: str | None
    details: dict[str, Any] = Field(
        description="the event's other fields; ID and mobile numbers redacted"
    )


class AuditTrail(Out):
    uscc: Uscc
    events: list[AuditEntry] = Field(description="oldest first")


# --- operations ------------------------------------------------------------------------


class Liveness(Out):
    status: Literal["ok"]


class ProjectionLag(Out):
    events: int = Field(
        description="positions between the projected one and the head of the log (an upper"
        " bound: PostgreSQL may leave a gap where a transaction rolled back)"
    )
    seconds: float = Field(
        description="how long ago the first event not yet projected was recorded (0: none)"
    )


class ProjectionStuck(Out):
    """The event where projection stopped: it cannot be projected (see README, Operations)."""

    position: int
    topic: str
    originator_id: str
    originator_version: int
    error: str = Field(description="the error's name and first line")
    since: Instant


class Readiness(Out):
    """What a readiness probe reads; the same figures with 200 and with 503."""

    status: Literal["ready", "not ready"] = Field(
        description="`not ready`: projection is stuck, further behind than `max_lag_seconds`,"
        " or the figures could not be measured (`error`)"
    )
    store: Literal["sqlite", "postgres"]
    max_lag_seconds: float = Field(description="LICENSING_READY_MAX_LAG_SECONDS")
    projected: int | None = Field(description="the last event position the read model holds")
    head: int | None = Field(description="the last event position in the log")
    lag: ProjectionLag | None
    stuck: ProjectionStuck | None
    projector_in_process: bool = Field(
        description="whether this process projects (false: a `licensing project` worker does)"
    )
    retrying: str | None = Field(
        description="a database error this process's projector retries with backoff"
    )
    error: str | None = Field(description="why the figures could not be measured")


# --- 办件查询: the applicant's view ------------------------------------------------------


class Word(Out):
    """A state in plain words."""

    code: str
    word: str = Field(description="in Chinese")
    english: str


class ProgressTask(Out):
    """One permit of the application as the applicant follows it: no officer is named."""

    permit_type: str
    name_zh: str
    name_en: str
    department_name_zh: str
    department_name_en: str
    state: Word = Field(
        description="`queued` 审查中, `supplement_requested` 待补正材料, or a final state: "
        "`approved`, `refused`, `filed`, `approved_on_commitment`, `informed`, `withdrawn`"
    )
    due_on: Day | None = Field(description="the promised date, while it is undecided")
    permit_number: str | None
    reason: str | None = Field(description="why it was decided so (a refusal's reason)")
    legal_basis: str | None


class Waiting(Out):
    """Something the applicant must bring: a department's supplement request, or a material
    promised at acceptance (容缺)."""

    kind: Literal["supplement", "material"]
    department_name_zh: str | None = Field(description="who asks (a supplement)")
    items: list[str]
    note: str
    since: Day | None = Field(description="asked on (a supplement)")
    by_date: Day | None = Field(description="to bring by (a promised material)")


class ProgressRequest(Out):
    """One department's open request in the one supplement notice (一次性告知)."""

    permit_type: str
    department_name_zh: str
    items: list[str]
    note: str
    requested_on: Day


class Progress(Out):
    """办件查询: the application as its applicant follows it, with the code sent to the
    mobile at acceptance — never staff identities, personal data or another business."""

    application_id: str = Field(json_schema_extra={"format": "uuid"})
    uscc: Uscc
    theme: str
    theme_name_zh: str
    theme_name_en: str
    status: Word = Field(
        description="`in_review`, `decided`, `withdrawn` or `lapsed` (a code is issued at "
        "acceptance)"
    )
    received_on: Day
    accepted_on: Day | None
    tasks: list[ProgressTask]
    waiting_on_applicant: list[Waiting] = Field(description="empty: nothing waits on you")
    supplement_notice: list[ProgressRequest] = Field(
        description="the one notice: every department's open request"
    )


# --- 明确告知: scope to permits -----------------------------------------------------------


class ScopeReason(Out):
    """A scope term found, and how the scope worded it."""

    term: str = Field(description="the scope term (规范表述)", examples=["餐饮服务"])
    matched: list[str] = Field(description="its wordings found in the scope (as read: NFKC)")
    note: str | None = Field(description="what to check, where the term alone does not decide")


class ScopePermit(Out):
    permit_type: str
    name_zh: str
    name_en: str
    department: str
    department_name_zh: str
    mode: Mode
    because: list[ScopeReason] = Field(description="the scope terms that point to it")


class ScopeTheme(Out):
    theme: str
    name_zh: str
    name_en: str
    covers: list[str] = Field(description="the suggested permit types this theme includes")
    because: list[ScopeReason]


class ThemeScope(Out):
    """明确告知 beside the merged form: of the permits a business scope points to, those this
    theme includes (answer its situation questions so that they apply), and those it does
    not (another theme, or a separate application)."""

    business_scope: str
    in_theme: list[ScopePermit]
    elsewhere: list[ScopePermit]
    unmatched: list[str]


class ScopeSuggestions(Out):
    """明确告知: the permits and themed items a business scope probably needs — a suggestion
    from the catalogue's scope terms, with the reason; the situation answers decide."""

    catalogue_version: str
    permits: list[ScopePermit] = Field(description="in the order their terms stand in the scope")
    themes: list[ScopeTheme]
    unmatched: list[str] = Field(
        description="the scope's items no term was found in: no permit known for them (a "
        "general item, or one the catalogue does not map yet)"
    )
