"""The catalogue: departments, form fields, permit types and themes, loaded from data files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from domain.access import PersonalData
from domain.credit import LISTS
from domain.dates import add_years
from domain.errors import InvalidParam, NotFound, ValidationFailed
from domain.text import clean

DATA_DIR = Path(__file__).parent / "data"
FILES = (
    "departments.yaml",
    "fields.yaml",
    "permit_types.yaml",
    "themes.yaml",
    "credit_lists.yaml",
    "materials.yaml",
)

FieldType = Literal["string", "text", "integer", "decimal", "boolean", "date", "choice"]
Mode = Literal["cancelled", "filing", "commitment", "approval"]
SituationType = Literal["boolean", "choice"]
DeemedOutcome = Literal["approve", "refuse"]
MaterialForm = Literal["original", "copy", "electronic"]
# The strongest form wins when permits ask one material in different forms (an original
# answers a request for a copy, not the other way round).
FORM_STRENGTH: dict[str, int] = {"electronic": 0, "copy": 1, "original": 2}

# Free text is capped so one answer cannot bloat every event that carries the form.
MAX_LENGTH: dict[str, int] = {"string": 200, "text": 4000}


class CatalogueError(Exception):
    """The catalogue files are malformed or refer to things that do not exist."""


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Department(_Entry):
    """An issuing department."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str


class Choice(_Entry):
    """One allowed answer of a choice field."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str
    label_en: str


class CreditList(_Entry):
    """A credit list, and the years after which a listing on it ends by itself (移出)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    period_years: int | None = Field(gt=0)
    legal_basis: str = Field(min_length=1)
    inferred: bool
    note: str | None = None

    def ends_on(self, listed_on: dt.date) -> dt.date | None:
        """The day the listing period is over; 29 February ends on 28 February."""
        if self.period_years is None:
            return None
        return add_years(listed_on, self.period_years)


class FormField(_Entry):
    """One question of the merged form; the same code is the same question everywhere."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str
    label_en: str
    type: FieldType
    choices: tuple[Choice, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    help: str | None = None

    @model_validator(mode="after")
    def _shape_fits_type(self) -> FormField:
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice field needs choices")
        if self.type != "choice" and self.choices:
            raise ValueError(f"a {self.type} field cannot have choices")
        has_range = self.min is not None or self.max is not None
        if self.type not in ("integer", "decimal") and has_range:
            raise ValueError(f"a {self.type} field cannot have min/max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        codes = [choice.code for choice in self.choices]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate choice codes")
        return self


class FieldUse(_Entry):
    """A permit type's use of a form field."""

    code: str
    required: bool


class Material(_Entry):
    """A material (申请材料) by its name, asked once whichever permits need it (一套材料)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class MaterialUse(_Entry):
    """A permit type's need of a material: in which form, when (always, or when every answer
    in `when` — a form field of the permit or a situation question — matches), and whether
    the signed commitment letter of a commitment-mode permit replaces it (告知承诺)."""

    code: str
    form: MaterialForm
    when: dict[str, StrictBool | StrictStr] | None = None
    commitment_replaces: bool = False

    @model_validator(mode="after")
    def _when_not_empty(self) -> MaterialUse:
        if self.when is not None and not self.when:
            raise ValueError(f"material {self.code!r}: an empty when; leave it out")
        return self

    def applies(self, answers: Mapping[str, Any]) -> bool | None:
        """Needed given these situation and form answers: True, False, or None when an
        answer it depends on is not given."""
        if self.when is None:
            return True
        verdict: bool | None = True
        for code, value in self.when.items():
            if code not in answers or answers[code] is None:
                verdict = None
            elif not (type(answers[code]) is type(value) and answers[code] == value):
                return False
        return verdict


class Commitment(_Entry):
    """The published model commitment letter (告知承诺书示范文本) the applicant signs."""

    version: str = Field(min_length=1)
    text_zh: str = Field(min_length=1)
    text_en: str = Field(min_length=1)


class PermitType(_Entry):
    """A kind of permit, its issuing department, reform mode, limits and form fields."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    department: str
    mode: Mode
    statutory_days: int = Field(ge=0)
    promised_days: int = Field(ge=0)
    validity_years: int | None = Field(gt=0)
    site_inspection: bool
    fields: tuple[FieldUse, ...]
    inferred: bool
    note: str | None = None
    # Commitment mode only: the letter signed, and the working days after issuance by which
    # the department must verify it (先证后核).
    commitment: Commitment | None = None
    verification_days: int | None = Field(default=None, gt=0)
    # Approval mode only: what a statutory limit passing undecided means; None = nothing
    # happens by itself (the task is simply overdue). Set only where a rule says so.
    deemed_outcome: DeemedOutcome | None = None
    deemed_basis: str | None = Field(default=None, min_length=1)  # the rule that deems it
    rectification_days: int | None = Field(default=None, gt=0)
    # Need-to-know: the personal data its department may read on its task (every read is
    # logged); none unless listed.
    personal_data: tuple[PersonalData, ...] = ()
    # 申请材料: what the applicant hands in for it (none listed: none asked).
    materials: tuple[MaterialUse, ...] = ()

    @model_validator(mode="after")
    def _limits_fit(self) -> PermitType:
        if self.promised_days > self.statutory_days:
            raise ValueError("promised_days exceeds statutory_days")
        codes = [use.code for use in self.fields]
        if len(set(codes)) != len(codes):
            raise ValueError("a field is listed twice")
        if self.mode == "commitment":
            if self.commitment is None:
                raise ValueError("a commitment permit needs its commitment letter (commitment)")
            if self.verification_days is None:
                raise ValueError("a commitment permit needs verification_days")
        else:
            if self.commitment is not None:
                raise ValueError(f"a permit in {self.mode} mode cannot have a commitment letter")
            if self.verification_days is not None:
                raise ValueError(f"a permit in {self.mode} mode cannot have verification_days")
        if self.deemed_outcome is not None and self.mode != "approval":
            raise ValueError(f"a permit in {self.mode} mode cannot have a deemed_outcome")
        if (self.deemed_outcome is None) != (self.deemed_basis is None):
            raise ValueError("deemed_outcome and deemed_basis (the rule that sets it) go together")
        if self.deemed_outcome is not None and self.code == "business_licence":
            raise ValueError("a registration is never deemed: the business licence is decided")
        if self.mode == "cancelled":
            # No permit exists: the department is only informed of the registration.
            if self.statutory_days or self.promised_days:
                raise ValueError("a cancelled item has no time limit (0 days)")
            if self.validity_years is not None:
                raise ValueError("a cancelled item has no validity")
            if self.site_inspection:
                raise ValueError("a cancelled item has no site inspection")
            if self.fields:
                raise ValueError("a cancelled item asks no form fields")
            if self.personal_data:
                raise ValueError("a cancelled item reads no personal data")
        if len(set(self.personal_data)) != len(self.personal_data):
            raise ValueError("personal_data lists a kind twice")
        material_codes = [use.code for use in self.materials]
        if len(set(material_codes)) != len(material_codes):
            raise ValueError("a material is listed twice")
        if self.mode == "cancelled" and self.materials:
            raise ValueError("a cancelled item asks no materials")
        if self.mode != "commitment" and any(m.commitment_replaces for m in self.materials):
            raise ValueError(
                f"a permit in {self.mode} mode has no commitment to replace a material"
            )
        return self


class SituationQuestion(_Entry):
    """A question that decides which permits of a theme apply; not a form field."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str
    label_en: str
    type: SituationType
    choices: tuple[Choice, ...] = ()

    @model_validator(mode="after")
    def _shape_fits_type(self) -> SituationQuestion:
        if self.type == "choice" and not self.choices:
            raise ValueError(f"situation {self.code!r}: a choice question needs choices")
        if self.type == "boolean" and self.choices:
            raise ValueError(f"situation {self.code!r}: a boolean question cannot have choices")
        codes = [choice.code for choice in self.choices]
        if len(set(codes)) != len(codes):
            raise ValueError(f"situation {self.code!r}: duplicate choice codes")
        return self

    def problem(self, value: Any) -> str | None:
        """Why `value` is not an answer to this question, or None when it is."""
        if self.type == "boolean":
            return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
        allowed = [choice.code for choice in self.choices]
        if isinstance(value, str) and value in allowed:
            return None
        return f"must be one of {', '.join(allowed)}; got {value!r}"


class PermitUse(_Entry):
    """A theme's use of a permit type: mandatory (`when` None) or conditional on situation answers."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: dict[str, StrictBool | StrictStr] | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_code_is_mandatory(cls, data: Any) -> Any:
        return {"code": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _when_not_empty(self) -> PermitUse:
        if self.when is not None and not self.when:
            raise ValueError(
                f"permit {self.code!r}: an empty when; list a mandatory permit by code"
            )
        return self

    @property
    def mandatory(self) -> bool:
        return self.when is None

    def applies(self, situation: Mapping[str, Any]) -> bool:
        """Whether this permit is needed given validated situation answers."""
        if self.when is None:
            return True
        # The type is compared too, so that True never matches 1.
        return all(
            type(situation.get(code)) is type(value) and situation.get(code) == value
            for code, value in self.when.items()
        )


class Theme(_Entry):
    """A themed item (主题事项): one application that yields several permits."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    permits: tuple[PermitUse, ...] = Field(min_length=1)
    situations: tuple[SituationQuestion, ...] = ()
    # 守信快批: working days from acceptance to 有效 for a credit-qualified applicant who
    # chooses the fast track with a written declaration (000:189); None: no fast track.
    fast_track_days: int | None = Field(default=None, ge=1)
    inferred: bool
    source: str
    note: str | None = None

    @model_validator(mode="after")
    def _permits_and_situations_fit(self) -> Theme:
        codes = [use.code for use in self.permits]
        if len(set(codes)) != len(codes):
            raise ValueError("a permit is listed twice")
        if all(use.when is not None for use in self.permits):
            raise ValueError("a theme needs at least one mandatory permit")
        questions = {question.code: question for question in self.situations}
        if len(questions) != len(self.situations):
            raise ValueError("a situation question is listed twice")
        used: set[str] = set()
        for use in self.permits:
            for code, value in (use.when or {}).items():
                question = questions.get(code)
                if question is None:
                    raise ValueError(f"permit {use.code!r}: when names unknown situation {code!r}")
                reason = question.problem(value)
                if reason is not None:
                    raise ValueError(
                        f"permit {use.code!r}: when {code}={value!r} is impossible: {reason}"
                    )
                used.add(code)
        unused = [code for code in questions if code not in used]
        if unused:
            raise ValueError(f"situation {unused[0]!r} decides no permit")
        return self


@dataclass(frozen=True, kw_only=True)
class MergedField:
    """A question of a theme's merged form and the permits that ask it."""

    field: FormField
    required: bool
    permits: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class MergedForm:
    """Every question of a theme, each asked once (能合尽合), in order of first appearance."""

    theme: str
    fields: tuple[MergedField, ...]
    permits: tuple[str, ...] = ()  # the permits the form was built for, in theme order


@dataclass(frozen=True, kw_only=True)
class Catalogue:
    """One validated version of the catalogue."""

    departments: dict[str, Department]
    fields: dict[str, FormField]
    permit_types: dict[str, PermitType]
    themes: dict[str, Theme]
    credit_lists: dict[str, CreditList]
    version: str
    materials: dict[str, Material] = dataclasses.field(default_factory=dict)

    def department(self, code: str) -> Department:
        try:
            return self.departments[code]
        except KeyError:
            raise NotFound(f"unknown department {code!r}") from None

    def permit_type(self, code: str) -> PermitType:
        try:
            return self.permit_types[code]
        except KeyError:
            raise NotFound(f"unknown permit type {code!r}") from None

    def theme(self, code: str) -> Theme:
        try:
            return self.themes[code]
        except KeyError:
            known = ", ".join(self.themes)
            raise NotFound(f"unknown theme {code!r}; expected one of {known}") from None

    def all_permits(self, theme_code: str) -> tuple[str, ...]:
        """Every permit the theme may involve, mandatory and conditional, in theme order."""
        return tuple(use.code for use in self.theme(theme_code).permits)

    def permits_for(
        self, theme_code: str, situation: Mapping[str, Any] | None = None
    ) -> tuple[str, ...]:
        """The permits a business in `situation` needs; None = the mandatory ones only.

        Raises ValidationFailed listing every problem with the situation answers.
        """
        theme = self.theme(theme_code)
        if situation is None:
            return tuple(use.code for use in theme.permits if use.mandatory)
        if not isinstance(situation, Mapping):
            reason = f"expected an object, got {type(situation).__name__}"
            raise ValidationFailed([InvalidParam(name="situation", reason=reason)])
        problems: list[InvalidParam] = []
        questions = {question.code: question for question in theme.situations}
        for code in situation:
            if code not in questions:
                reason = f"not a situation question of theme {theme_code}"
                problems.append(InvalidParam(name=f"situation.{code}", reason=reason))
        for code, question in questions.items():
            value = situation.get(code)
            if _is_blank(value):
                deciders = ", ".join(
                    f"{self.permit_types[use.code].name_zh} ({use.code})"
                    for use in theme.permits
                    if use.when is not None and code in use.when
                )
                reason = f"required to decide whether {deciders} apply"
                problems.append(InvalidParam(name=f"situation.{code}", reason=reason))
                continue
            wrong = question.problem(value)
            if wrong is not None:
                problems.append(InvalidParam(name=f"situation.{code}", reason=wrong))
        if problems:
            raise ValidationFailed(problems)
        return tuple(use.code for use in theme.permits if use.applies(situation))

    def merged_form(
        self, theme_code: str, situation: Mapping[str, Any] | None = None
    ) -> MergedForm:
        permit_codes = self.permits_for(theme_code, situation)
        required: dict[str, bool] = {}
        users: dict[str, list[str]] = {}
        for permit_code in permit_codes:
            for use in self.permit_types[permit_code].fields:
                users.setdefault(use.code, []).append(permit_code)
                required[use.code] = required.get(use.code, False) or use.required
        return MergedForm(
            theme=theme_code,
            fields=tuple(
                MergedField(
                    field=self.fields[code], required=required[code], permits=tuple(permits)
                )
                for code, permits in users.items()
            ),
            permits=permit_codes,
        )

    def material_uses(
        self, permit_codes: Sequence[str], answers: Mapping[str, Any]
    ) -> list[tuple[str, MaterialUse, bool | None]]:
        """Each permit's materials that may be needed given these (situation and form)
        answers: (permit, use, True when needed, None when an answer not given decides)."""
        found: list[tuple[str, MaterialUse, bool | None]] = []
        for permit_code in permit_codes:
            for use in self.permit_type(permit_code).materials:
                verdict = use.applies(answers)
                if verdict is not False:
                    found.append((permit_code, use, verdict))
        return found

    def material_list(
        self, permit_codes: Sequence[str], answers: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The merged material list (一套材料): each material once, in order of first
        appearance, with the permits that use it, the strongest form asked, whether it is
        needed or depends on answers not given (and on which), and the permits whose signed
        commitment replaces it."""
        merged: dict[str, dict[str, Any]] = {}
        for permit_code, use, verdict in self.material_uses(permit_codes, answers):
            material = self.materials[use.code]
            entry = merged.setdefault(
                use.code,
                {
                    "code": use.code,
                    "name_zh": material.name_zh,
                    "name_en": material.name_en,
                    "form": use.form,
                    "permits": [],
                    "needed": "depends",
                    "when": [],
                    "commitment_may_replace": [],
                },
            )
            entry["permits"].append(permit_code)
            if FORM_STRENGTH[use.form] > FORM_STRENGTH[entry["form"]]:
                entry["form"] = use.form
            if verdict:
                entry["needed"] = "always"
            else:
                entry["when"].append({"permit": permit_code, "answers": dict(use.when or {})})
            if use.commitment_replaces:
                entry["commitment_may_replace"].append(permit_code)
        for entry in merged.values():
            if entry["needed"] == "always":
                entry["when"] = []
        return list(merged.values())

    def theme_summary(self, code: str) -> dict[str, Any]:
        """A theme as the list of themes shows it: how many permits and departments, and
        whether a situation answer decides some of the permits."""
        theme = self.theme(code)
        departments = {self.permit_type(p).department for p in self.all_permits(code)}
        return {
            "code": theme.code,
            "name_zh": theme.name_zh,
            "name_en": theme.name_en,
            "permit_count": len(theme.permits),
            "conditional": any(not use.mandatory for use in theme.permits),
            "department_count": len(departments),
        }

    def theme_outline(
        self, code: str, situation: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """What the window needs to open a theme: each permit with its department, mode,
        time limits and condition, the situation questions, the merged form (一表登记) and
        the merged material list (一套材料). Without the situation answers a conditional
        theme's form and materials are only its mandatory permits', and it says so."""
        theme = self.theme(code)
        form = self.merged_form(code, situation)
        pending = [] if situation is not None else [q.code for q in theme.situations]
        permits = []
        for use in theme.permits:
            permit_type = self.permit_type(use.code)
            department = self.department(permit_type.department)
            permits.append(
                {
                    "code": permit_type.code,
                    "name_zh": permit_type.name_zh,
                    "name_en": permit_type.name_en,
                    "department": department.code,
                    "department_name_zh": department.name_zh,
                    "mode": permit_type.mode,
                    "statutory_days": permit_type.statutory_days,
                    "promised_days": permit_type.promised_days,
                    "when": use.when,
                }
            )
        return {
            "catalogue_version": self.version,
            "permits": permits,
            "situations": [q.model_dump() for q in theme.situations],
            "form": [
                {
                    "code": f.field.code,
                    "label_zh": f.field.label_zh,
                    "label_en": f.field.label_en,
                    "type": f.field.type,
                    "choices": [c.model_dump() for c in f.field.choices],
                    "required": f.required,
                    "permits": list(f.permits),
                }
                for f in form.fields
            ],
            "situation": dict(situation) if situation is not None else None,
            "form_permits": list(form.permits),
            "depends_on_situation": pending,
            "form_note": (
                "The form and materials are those of the permits every "
                f"{theme.name_zh} needs ({', '.join(form.permits)}); the answers to "
                f"{', '.join(pending)} may add permits with their own fields and materials: "
                "ask again with ?situation=" + ",".join(f"{q}:…" for q in pending)
                if pending
                else None
            ),
            "materials": self.material_list(form.permits, situation or {}),
        }

    def validate_answers(
        self,
        theme_code: str,
        answers: dict[str, Any],
        situation: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Answers coerced to JSON-native values, or ValidationFailed listing every problem."""
        form = self.merged_form(theme_code, situation)
        if not isinstance(answers, dict):
            reason = f"expected an object, got {type(answers).__name__}"
            raise ValidationFailed([InvalidParam(name="form", reason=reason)])
        problems: list[InvalidParam] = []
        known = {merged.field.code for merged in form.fields}
        elsewhere = {
            use.code
            for permit_code in self.all_permits(theme_code)
            for use in self.permit_types[permit_code].fields
        }
        for code in answers:
            if code in known:
                continue
            if code in elsewhere:
                reason = f"not asked in theme {theme_code} for this situation"
            else:
                reason = f"not a question of theme {theme_code}"
            problems.append(InvalidParam(name=f"answers.{code}", reason=reason))
        cleaned: dict[str, Any] = {}
        for merged in form.fields:
            code = merged.field.code
            value = answers.get(code)
            if _is_blank(value):
                if merged.required:
                    askers = ", ".join(
                        f"{self.permit_types[p].name_zh} ({p})"
                        for p in merged.permits
                        if _requires(self.permit_types[p], code)
                    )
                    reason = f"required by {askers}"
                    problems.append(InvalidParam(name=f"answers.{code}", reason=reason))
                continue
            try:
                cleaned[code] = _coerce(merged.field, value)
            except ValueError as error:
                problems.append(InvalidParam(name=f"answers.{code}", reason=str(error)))
        if problems:
            raise ValidationFailed(problems)
        return cleaned


def _requires(permit: PermitType, code: str) -> bool:
    return any(use.code == code and use.required for use in permit.fields)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _coerce(field: FormField, value: Any) -> Any:
    """One answer as a JSON-native value; ValueError says what is wrong with it."""
    kind = field.type
    if kind in ("string", "text"):
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        return clean(value, multiline=kind == "text", max_length=MAX_LENGTH[kind])
    if kind == "boolean":
        # "yes"/"1" are refused: API clients send JSON, and a guessed yes is a wrong yes.
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected an integer, got {value!r}")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        number = int(value)
        _check_range(field, Decimal(number))
        return number
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"expected a number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            # str() first so 0.1 stays 0.1 rather than its binary expansion.
            decimal = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
        if not decimal.is_finite():
            raise ValueError(f"expected a number, got {value!r}")
        _check_range(field, decimal)
        # Returned as a string: JSON floats would lose the exact figure the applicant gave.
        return format(decimal.normalize(), "f")
    if kind == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if not isinstance(value, str):
            raise ValueError(f"expected a date (YYYY-MM-DD), got {value!r}")
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValueError(f"expected a date (YYYY-MM-DD), got {value!r}") from None
    # choice
    allowed = [choice.code for choice in field.choices]
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _check_range(field: FormField, number: Decimal) -> None:
    if field.min is not None and number < field.min:
        raise ValueError(f"must be at least {field.min}, got {number}")
    if field.max is not None and number > field.max:
        raise ValueError(f"must be at most {field.max}, got {number}")


def _read(directory: Path, name: str, model: type[_Entry]) -> tuple[bytes, list[Any]]:
    path = directory / name
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CatalogueError(f"{name}: cannot read {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{name}: not valid YAML: {error}") from None
    if not isinstance(data, list):
        raise CatalogueError(f"{name}: expected a list of entries")
    entries: list[Any] = []
    adapter = TypeAdapter(model)
    for index, item in enumerate(data):
        label = item.get("code") if isinstance(item, dict) else None
        try:
            entries.append(adapter.validate_python(item))
        except ValidationError as error:
            details = "; ".join(
                f"{'.'.join(str(part) for part in e['loc']) or 'entry'}: {e['msg']}"
                for e in error.errors()
            )
            raise CatalogueError(f"{name}: entry {index} ({label!r}): {details}") from None
    return raw, entries


def _index(name: str, entries: list[Any]) -> dict[str, Any]:
    indexed: dict[str, Any] = {}
    for entry in entries:
        if entry.code in indexed:
            raise CatalogueError(f"{name}: code {entry.code!r} is defined twice")
        indexed[entry.code] = entry
    return indexed


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Read, validate and cross-check the catalogue files in `directory`."""
    directory = DATA_DIR if directory is None else directory
    raw_departments, departments = _read(directory, "departments.yaml", Department)
    raw_fields, fields = _read(directory, "fields.yaml", FormField)
    raw_permits, permits = _read(directory, "permit_types.yaml", PermitType)
    raw_themes, themes = _read(directory, "themes.yaml", Theme)
    raw_lists, credit_lists = _read(directory, "credit_lists.yaml", CreditList)
    raw_materials, materials = _read(directory, "materials.yaml", Material)

    department_index = _index("departments.yaml", departments)
    field_index = _index("fields.yaml", fields)
    permit_index = _index("permit_types.yaml", permits)
    theme_index = _index("themes.yaml", themes)
    list_index = _index("credit_lists.yaml", credit_lists)
    material_index = _index("materials.yaml", materials)
    if set(list_index) != set(LISTS):
        raise CatalogueError(
            f"credit_lists.yaml: expected the lists {sorted(LISTS)}, got {sorted(list_index)}"
        )

    for permit in permits:
        if permit.department not in department_index:
            raise CatalogueError(
                f"permit_types.yaml: permit {permit.code!r} names unknown department "
                f"{permit.department!r}"
            )
        for use in permit.fields:
            if use.code not in field_index:
                raise CatalogueError(
                    f"permit_types.yaml: permit {permit.code!r} uses unknown field {use.code!r}"
                )
    for theme in themes:
        for use in theme.permits:
            if use.code not in permit_index:
                raise CatalogueError(
                    f"themes.yaml: theme {theme.code!r} lists unknown permit type {use.code!r}"
                )
        for question in theme.situations:
            # Situation answers choose the permits; form answers feed them. One code, one idea.
            if question.code in field_index:
                raise CatalogueError(
                    f"themes.yaml: theme {theme.code!r} situation {question.code!r} "
                    "is also a form field code"
                )

    digest = hashlib.sha256()
    _check_materials(permits, themes, field_index, material_index)
    raws = (raw_departments, raw_fields, raw_permits, raw_themes, raw_lists, raw_materials)
    for name, raw in zip(FILES, raws, strict=True):
        # Length-prefix each file so bytes moving between files still change the version.
        digest.update(f"{name}:{len(raw)}:".encode())
        digest.update(raw)
    return Catalogue(
        departments=department_index,
        fields=field_index,
        permit_types=permit_index,
        themes=theme_index,
        credit_lists=list_index,
        version=digest.hexdigest()[:12],
        materials=material_index,
    )


def _check_materials(
    permits: list[PermitType],
    themes: list[Theme],
    fields: dict[str, FormField],
    materials: dict[str, Material],
) -> None:
    """Every material a permit names exists, and each of its conditions is a field of that
    permit or a situation question of a theme that includes it, with a possible answer."""
    questions: dict[str, dict[str, SituationQuestion]] = {}
    for theme in themes:
        for use in theme.permits:
            for question in theme.situations:
                questions.setdefault(use.code, {})[question.code] = question
    for permit in permits:
        own_fields = {use.code for use in permit.fields}
        for need in permit.materials:
            where = f"permit_types.yaml: permit {permit.code!r} material {need.code!r}"
            if need.code not in materials:
                raise CatalogueError(f"{where}: unknown material (not in materials.yaml)")
            for code, value in (need.when or {}).items():
                asked = questions.get(permit.code, {}).get(code)
                reason: str | None
                if asked is not None:
                    reason = asked.problem(value)
                elif code in own_fields:
                    try:
                        reason = None if _coerce(fields[code], value) == value else "not as asked"
                    except ValueError as error:
                        reason = str(error)
                else:
                    reason = "neither a field of the permit nor a situation question of its themes"
                if reason is not None:
                    raise CatalogueError(f"{where}: when {code}={value!r}: {reason}")


@functools.lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The catalogue shipped with the package, loaded once per process."""
    return load_catalogue()
