"""Request bodies: their shape is checked here, their meaning in the service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from domain import payloads
from domain.text import clean
from licensing.window import BusinessDetails


def _clean(max_length: int, *, multiline: bool = False) -> AfterValidator:
    """What makes a string field one the whole system can carry (domain/text.py): no control
    characters (newlines and tabs only where `multiline`), no lone surrogates, NFC, trimmed."""
    return AfterValidator(lambda value: clean(value, multiline=multiline, max_length=max_length))


# The string fields of every request, by what they hold and how long they may be.
Text = Annotated[str, Field(min_length=1, max_length=500), _clean(500)]  # a reason, a basis
Code = Annotated[str, Field(min_length=1, max_length=64), _clean(64)]  # a theme, a number
Name = Annotated[str, Field(min_length=2, max_length=100), _clean(100)]  # a business's name
Person = Annotated[str, Field(min_length=1, max_length=50), _clean(50)]  # a person's name
Uscc = Annotated[str, Field(min_length=1, max_length=32), _clean(32)]  # checked by the domain
Label = Annotated[str, Field(min_length=1, max_length=200), _clean(200)]  # a material, an email
Paragraph = Annotated[str, Field(min_length=1, max_length=2000), _clean(2000, multiline=True)]
Statement = Annotated[str, Field(min_length=1, max_length=4000), _clean(4000, multiline=True)]
Note = Annotated[str, Field(min_length=0, max_length=4000), _clean(4000, multiline=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LegalRepresentative(Strict):
    """Personal data: stored for the registrar, never shown to the public or put in a QR."""

    name: Person
    id_number: Annotated[str, Field(pattern=r"^[0-9]{17}[0-9X]$", description="居民身份证号码")]
    mobile: Annotated[str, Field(pattern=r"^1[0-9]{10}$")]

    def payload(self) -> payloads.LegalRepresentative:
        return {"name": self.name, "id_number": self.id_number, "mobile": self.mobile}


class BusinessIn(Strict):
    uscc: Annotated[Uscc, Field(description="统一社会信用代码")]
    name: Name
    entity_type: Annotated[Code, Field(examples=["limited_company"])]
    legal_representative: LegalRepresentative
    domicile: Text
    business_scope: Paragraph
    registered_capital: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]

    def details(self) -> BusinessDetails:
        return BusinessDetails(
            uscc=self.uscc,
            name=self.name,
            entity_type=self.entity_type,
            legal_representative=self.legal_representative.payload(),
            domicile=self.domicile,
            business_scope=self.business_scope,
            registered_capital=self.registered_capital,
        )


class ApplicantIn(Strict):
    """The fixed electronic delivery address (电子送达) for decision documents."""

    contact_name: Person
    mobile: Annotated[str, Field(pattern=r"^1[0-9]{10}$")]
    email: Annotated[Label, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class SignedLetter(Strict):
    """The applicant's signature under a published commitment letter (告知承诺书)."""

    version: Code
    signed_by: Person

    def payload(self) -> payloads.SignedCommitment:
        return {"version": self.version, "signed_by": self.signed_by}


class FastTrackIn(Strict):
    """守信快批: the chain headquarters applying for its store, and its written declaration."""

    chain_hq_uscc: Uscc
    declaration: Statement

    def payload(self) -> payloads.FastTrackRequest:
        return {"chain_hq_uscc": self.chain_hq_uscc, "declaration": self.declaration}


class DeficiencyIn(Strict):
    """容缺受理: a material accepted as missing, with the date the applicant promises it."""

    material: Label
    supply_by: date


class SubmissionIn(Strict):
    theme: Annotated[Code, Field(examples=["open_hotel"])]
    business: BusinessIn
    applicant: ApplicantIn
    situation: dict[str, Any] = Field(
        default_factory=dict, description="办事情形: answers that decide the conditional permits"
    )
    fast_track: FastTrackIn | None = Field(
        default=None, description="守信快批, where the theme offers it (voluntary)"
    )
    deficiencies: Annotated[list[DeficiencyIn], Field(max_length=20)] = Field(
        default_factory=list, description="容缺受理, for an applicant with good credit"
    )
    commitments: dict[str, SignedLetter] = Field(
        default_factory=dict,
        description="by permit type: take the commitment route (effective at once, verified later)",
    )
    answers: dict[str, Any] = Field(
        default_factory=dict, description="the merged form, by field code"
    )
    accept_now: bool = Field(
        default=True,
        description="受理 on the spot (the window's usual case); false: only received (收件), "
        "acceptance decided later at /applications/{id}/acceptance within 5 working days",
    )


class ScopeIn(Strict):
    """明确告知: a business scope (经营范围) as the business declares it."""

    business_scope: Annotated[
        Paragraph, Field(examples=["餐饮服务；住宿服务；烟草制品零售"], description="经营范围")
    ]


class ProgressIn(Strict):
    """办件查询: the application's number and the code sent to the applicant's mobile."""

    application_id: UUID
    code: Annotated[str, Field(min_length=1, max_length=32, description="查询码, as received")]


class ApproveIn(Strict):
    outcome: Literal["approve"]
    permit_number: Code
    valid_from: date | None = None
    valid_until: date | None = Field(
        default=None, description="defaults to the permit type's validity period"
    )
    reason: Text | None = None
    legal_basis: Text | None = None


class RefuseIn(Strict):
    outcome: Literal["refuse"]
    reason: Text
    legal_basis: Text


Decision = Annotated[ApproveIn | RefuseIn, Field(discriminator="outcome")]


class Reasoned(Strict):
    reason: Text


class ReasonedWithBasis(Strict):
    reason: Text
    legal_basis: Text


class ReprintIn(Reasoned):
    """补发/换发: why the licence is printed again."""

    void_previous: bool = Field(
        default=False,
        description="the copies printed before are void, not merely superseded (a copy "
        "reported lost): scanning one says so and shows no status",
    )


class SuspensionIn(Reasoned):
    until: date | None = Field(default=None, description="expected date of resumption, if known")


class ChangesIn(Strict):
    """变更登记: only the registered items a change may touch."""

    class Changes(Strict):
        name: Name | None = None
        domicile: Text | None = None
        business_scope: Paragraph | None = None
        legal_representative: LegalRepresentative | None = None

    changes: Changes
    reason: Text


class DeregistrationObjectionIn(Strict):
    """An objection to a simple deregistration (简易注销) during its notice."""

    objector: Label
    grounds: Text


class Empty(Strict):
    """No body fields; present so unknown fields are refused."""


class ConfirmedIn(Strict):
    """先证后核: the commitment was true; the permit stays 有效."""

    outcome: Literal["confirmed"]


class DefectsIn(Strict):
    """先证后核: defects found; the permit is 整改中 until they are put right."""

    outcome: Literal["defects"]
    findings: Paragraph
    deadline: date | None = Field(
        default=None,
        description="rectify by this day (after today); by default the permit type's "
        "rectification period, in working days",
    )


class FalseCommitmentIn(Strict):
    """先证后核: the commitment was false; the permit is withdrawn (撤销, 无效) and the business
    is put on the commitment blacklist."""

    outcome: Literal["false"]
    findings: Paragraph
    legal_basis: Text


VerificationIn = Annotated[
    ConfirmedIn | DefectsIn | FalseCommitmentIn, Field(discriminator="outcome")
]


class RectifiedIn(Strict):
    """The defects are put right: 有效 again."""

    outcome: Literal["rectified"]
    reason: Text


class RectificationFailedIn(Strict):
    """The rectification failed: 不合格."""

    outcome: Literal["failed"]
    reason: Text
    legal_basis: Text


RectificationIn = Annotated[RectifiedIn | RectificationFailedIn, Field(discriminator="outcome")]


class SupplementRequestIn(Strict):
    items: Annotated[list[Text], Field(min_length=1, max_length=30, description="what is missing")]
    note: Note = ""


class ResubmissionIn(Strict):
    answers: dict[str, Any] = Field(default_factory=dict, description="corrected answers only")
    materials: Annotated[list[Text], Field(max_length=50)] = Field(default_factory=list)


class WithdrawalIn(Strict):
    reason: Text


class AcceptIn(Strict):
    decision: Literal["accept"]


class NotAcceptIn(Strict):
    decision: Literal["not_accept"]
    reason: Text
    legal_basis: Text


AcceptanceIn = Annotated[AcceptIn | NotAcceptIn, Field(discriminator="decision")]


class JointInspectionIn(Strict):
    on: date = Field(description="the day of the one visit for all departments")


class FindingIn(Strict):
    outcome: Literal["pass", "fail"]
    notes: Note = ""


# The credit office's bodies.


ListCode = Literal["abnormal_operations", "serious_dishonesty", "commitment_blacklist"]


class ListingIn(Strict):
    list: ListCode
    grounds: Text
    legal_basis: Text


class ListingObjectionIn(Strict):
    """异议: the business objects to a credit listing."""

    grounds: Text


class ObjectionDecisionIn(Strict):
    upheld: bool = Field(description="true: the objection succeeds and the listing is removed")
    reason: Text


class RemovalIn(Strict):
    reason: Text
    repaired: bool = Field(description="true: 信用修复; false: removed at the end of its period")


def _tags(*unions: Any) -> frozenset[str]:
    """The values of the field that tells the members of each discriminated union apart."""
    tags: set[str] = set()
    for union in unions:
        members, info = get_args(union)
        assert isinstance(info, FieldInfo) and isinstance(info.discriminator, str)
        for model in get_args(members):
            tags.update(get_args(model.model_fields[info.discriminator].annotation))
    return frozenset(tags)


# The tags of the bodies that are unions told apart by one field (decision outcome,
# acceptance decision, verification and rectification outcome): pydantic puts the tag into
# an error's path, though the client never sent it as a field.
UNION_TAGS = _tags(Decision, AcceptanceIn, VerificationIn, RectificationIn)
