"""The catalogue: departments, form fields, permit types and themes, loaded from data files."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from domain.errors import InvalidParam, NotFound, ValidationFailed

DATA_DIR = Path(__file__).parent / "data"
FILES = ("departments.yaml", "fields.yaml", "permit_types.yaml", "themes.yaml")

FieldType = Literal["string", "text", "integer", "decimal", "boolean", "date", "choice"]
Mode = Literal["cancelled", "filing", "commitment", "approval"]

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

    @model_validator(mode="after")
    def _limits_fit(self) -> PermitType:
        if self.promised_days > self.statutory_days:
            raise ValueError("promised_days exceeds statutory_days")
        codes = [use.code for use in self.fields]
        if len(set(codes)) != len(codes):
            raise ValueError("a field is listed twice")
        return self


class Theme(_Entry):
    """A themed item (主题事项): one application that yields several permits."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    permits: tuple[str, ...] = Field(min_length=1)
    inferred: bool
    source: str
    note: str | None = None

    @model_validator(mode="after")
    def _permits_unique(self) -> Theme:
        if len(set(self.permits)) != len(self.permits):
            raise ValueError("a permit is listed twice")
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


@dataclass(frozen=True, kw_only=True)
class Catalogue:
    """One validated version of the catalogue."""

    departments: dict[str, Department]
    fields: dict[str, FormField]
    permit_types: dict[str, PermitType]
    themes: dict[str, Theme]
    version: str

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

    def merged_form(self, theme_code: str) -> MergedForm:
        theme = self.theme(theme_code)
        required: dict[str, bool] = {}
        users: dict[str, list[str]] = {}
        for permit_code in theme.permits:
            for use in self.permit_types[permit_code].fields:
                users.setdefault(use.code, []).append(permit_code)
                required[use.code] = required.get(use.code, False) or use.required
        return MergedForm(
            theme=theme.code,
            fields=tuple(
                MergedField(
                    field=self.fields[code], required=required[code], permits=tuple(permits)
                )
                for code, permits in users.items()
            ),
        )

    def validate_answers(self, theme_code: str, answers: dict[str, Any]) -> dict[str, Any]:
        """Answers coerced to JSON-native values, or ValidationFailed listing every problem."""
        form = self.merged_form(theme_code)
        if not isinstance(answers, dict):
            reason = f"expected an object, got {type(answers).__name__}"
            raise ValidationFailed([InvalidParam(name="form", reason=reason)])
        problems: list[InvalidParam] = []
        known = {merged.field.code for merged in form.fields}
        for code in answers:
            if code not in known:
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
        text = value.strip()
        if len(text) > MAX_LENGTH[kind]:
            raise ValueError(f"must be at most {MAX_LENGTH[kind]} characters, got {len(text)}")
        return text
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
    """Read, validate and cross-check the four catalogue files in `directory`."""
    directory = DATA_DIR if directory is None else directory
    raw_departments, departments = _read(directory, "departments.yaml", Department)
    raw_fields, fields = _read(directory, "fields.yaml", FormField)
    raw_permits, permits = _read(directory, "permit_types.yaml", PermitType)
    raw_themes, themes = _read(directory, "themes.yaml", Theme)

    department_index = _index("departments.yaml", departments)
    field_index = _index("fields.yaml", fields)
    permit_index = _index("permit_types.yaml", permits)
    theme_index = _index("themes.yaml", themes)

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
        for code in theme.permits:
            if code not in permit_index:
                raise CatalogueError(
                    f"themes.yaml: theme {theme.code!r} lists unknown permit type {code!r}"
                )

    digest = hashlib.sha256()
    raws = (raw_departments, raw_fields, raw_permits, raw_themes)
    for name, raw in zip(FILES, raws, strict=True):
        # Length-prefix each file so bytes moving between files still change the version.
        digest.update(f"{name}:{len(raw)}:".encode())
        digest.update(raw)
    return Catalogue(
        departments=department_index,
        fields=field_index,
        permit_types=permit_index,
        themes=theme_index,
        version=digest.hexdigest()[:12],
    )


@functools.lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The catalogue shipped with the package, loaded once per process."""
    return load_catalogue()
