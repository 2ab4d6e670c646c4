"""Request bodies: their shape is checked here, their meaning in the service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.text import clean


def _text(max_length: int, *, min_length: int = 1, multiline: bool = False) -> Any:
    """A string field the whole system can carry (domain/text.py): no control characters
    (newlines and tabs only where `multiline`), no lone surrogates, NFC, trimmed, bounded."""
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length),
        AfterValidator(lambda value: clean(value, multiline=multiline, max_length=max_length)),
    ]


Text = _text(500)  # a reason, a legal basis, a material: one line
Code = _text(64)  # a theme, a permit number, a version
Name = _text(100, min_length=2)  # a business's name
Person = _text(50)  # a person's name
Paragraph = _text(2000, multiline=True)
Statement = _text(4000, multiline=True)
Note = _text(4000, min_length=0, multiline=True)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LegalRepresentative(Strict):
    """Personal data: stored for the registrar, never shown to the public or put in a QR."""

    name: Person
    id_number: Annotated[str, Field(pattern=r"^[0-9]{17}[0-9X]$", description="居民身份证号码")]
    mobile: Annotated[str, Field(pattern=r"^1[0-9]{10}$")]


class BusinessIn(Strict):
    uscc: Annotated[_text(32), Field(description="统一社会信用代码")]
    name: Name
    entity_type: Annotated[_text(40), Field(examples=["limited_company"])]
    legal_representative: LegalRepresentative
    domicile: Text
    business_scope: Paragraph
    registered_capital: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]


class ApplicantIn(Strict):
    """The fixed electronic delivery address (电子送达) for decision documents."""

    contact_name: Person
    mobile: Annotated[str, Field(pattern=r"^1[0-9]{10}$")]
    email: Annotated[_text(200), Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class SignedLetter(Strict):
    """The applicant's signature under a published commitment letter (告知承诺书)."""

    version: Code
    signed_by: Person


class FastTrackIn(Strict):
    """守信快批: the chain headquarters applying for its store, and its written declaration."""

    chain_hq_uscc: _text(32)
    declaration: Statement


class DeficiencyIn(Strict):
    """容缺受理: a material accepted as missing, with the date the applicant promises it."""

    material: _text(200)
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


class ObjectionIn(Strict):
    objector: _text(200)
    grounds: Text


class Empty(Strict):
    """No body fields; present so unknown fields are refused."""


class VerificationIn(Strict):
    """先证后核: the outcome of verifying a permit granted on commitment."""

    outcome: Literal["confirmed", "defects", "false"]
    findings: Paragraph | None = None
    deadline: date | None = Field(default=None, description="for defects: rectify by this day")
    legal_basis: Text | None = None


class RectificationIn(Strict):
    outcome: Literal["rectified", "failed"]
    reason: Text
    legal_basis: Text | None = None


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
