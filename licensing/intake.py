"""The window's checks on a submission before anything is written: the merged form, the
business, the signed commitment letters, 容缺 and the 守信快批 fast track."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.credit import LISTS
from domain.errors import Conflict, InvalidParam, ValidationFailed
from domain.registration import ENTITY_TYPES
from domain.uscc import validate_uscc
from licensing.commands import BusinessDetails, Commands


class Intake(Commands):
    """Validation of a submission: every problem named at once, nothing written."""

    # 容缺受理: at most this many working days to supply what was accepted as missing.
    DEFICIENCY_LIMIT_DAYS = 20

    def _validate_submission(
        self,
        *,
        theme: str,
        business: BusinessDetails,
        answers: dict[str, Any],
        situation: dict[str, Any],
        commitments: dict[str, dict[str, str]],
    ) -> tuple[str, dict[str, Any]]:
        problems: list[InvalidParam] = []
        uscc = business.uscc
        try:
            uscc = validate_uscc(business.uscc)
        except ValidationFailed as error:
            problems += [InvalidParam(f"business.{p.name}", p.reason) for p in error.problems]
        if business.entity_type not in ENTITY_TYPES:
            problems.append(
                InvalidParam(
                    "business.entity_type",
                    f"unknown entity type {business.entity_type!r}; expected one of "
                    + ", ".join(ENTITY_TYPES),
                )
            )
        if business.registered_capital < 0:
            problems.append(InvalidParam("business.registered_capital", "must not be negative"))
        cleaned: dict[str, Any] = {}
        if theme not in self.catalogue.themes:
            problems.append(
                InvalidParam(
                    "theme",
                    f"unknown theme {theme!r}; expected one of " + ", ".join(self.catalogue.themes),
                )
            )
        else:
            try:
                cleaned = self.catalogue.validate_answers(theme, answers, situation)
                applicable = self.catalogue.permits_for(theme, situation)
            except ValidationFailed as error:
                problems += error.problems
            else:
                problems += self._commitment_problems(applicable, commitments)
        if problems:
            raise ValidationFailed(problems)
        return uscc, cleaned

    def _validate_deficiencies(self, deficiencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        today = self.today()
        latest = self.calendar.add_working_days(today, self.DEFICIENCY_LIMIT_DAYS)
        problems, seen, cleaned = [], set(), []
        for n, entry in enumerate(deficiencies):
            material = str(entry.get("material", "")).strip()
            supply_by = entry.get("supply_by")
            if not material or material in seen:
                problems.append(InvalidParam(f"deficiencies.{n}.material", "empty or repeated"))
            if not isinstance(supply_by, date) or not today < supply_by <= latest:
                problems.append(
                    InvalidParam(
                        f"deficiencies.{n}.supply_by",
                        f"must be after today and no later than {latest} "
                        f"({self.DEFICIENCY_LIMIT_DAYS} working days)",
                    )
                )
            seen.add(material)
            if isinstance(supply_by, date):
                cleaned.append({"material": material, "supply_by": supply_by.isoformat()})
        if problems:
            raise ValidationFailed(problems)
        return cleaned

    def _validate_fast_track(self, theme: str, fast_track: dict[str, str]) -> dict[str, str]:
        problems = []
        known = self.catalogue.themes.get(theme)
        if known is not None and known.fast_track_days is None:
            problems.append(InvalidParam("fast_track", f"theme {theme} has no fast track"))
        hq = str(fast_track.get("chain_hq_uscc", ""))
        try:
            hq = validate_uscc(hq)
        except ValidationFailed as error:
            problems += [
                InvalidParam(f"fast_track.chain_hq_{p.name}", p.reason) for p in error.problems
            ]
        if not str(fast_track.get("declaration", "")).strip():
            problems.append(
                InvalidParam(
                    "fast_track.declaration", "the written declaration (书面声明) is required"
                )
            )
        if problems:
            raise ValidationFailed(problems)
        return {"chain_hq_uscc": hq, "declaration": str(fast_track["declaration"])}

    def _fast_track_record(
        self,
        uscc: str,
        credit: dict[str, Any],
        fast_track: dict[str, str],
        today: date,
        target_days: int,
    ) -> dict[str, Any]:
        """守信快批: only for an applicant and a chain headquarters with no listing (失信即受限)."""
        hq_credit = self._credit_snapshot(fast_track["chain_hq_uscc"], today)
        for whose, snapshot in (("the applicant", credit), ("the chain headquarters", hq_credit)):
            if snapshot["listings"]:
                lists = ", ".join(
                    f"{LISTS[x['list']][0]} since {x['listed_on']}" for x in snapshot["listings"]
                )
                msg = f"the credit fast track (守信快批) is not available: {whose} is listed ({lists})"
                raise Conflict(msg)
        return {**fast_track, "hq_credit": hq_credit, "target_days": target_days}

    def _commitment_problems(
        self, applicable: tuple[str, ...], commitments: dict[str, dict[str, str]]
    ) -> list[InvalidParam]:
        """A signed letter must be for a commitment-mode permit of this application, and be
        the version now published (the applicant signs what they were shown)."""
        problems = []
        for code, signed in commitments.items():
            name = f"commitments.{code}"
            permit_type = self.catalogue.permit_types.get(code)
            if code not in applicable or permit_type is None or permit_type.mode != "commitment":
                problems.append(
                    InvalidParam(name, "not a commitment-mode permit of this application")
                )
            elif permit_type.commitment is not None and (
                signed.get("version") != permit_type.commitment.version
            ):
                problems.append(
                    InvalidParam(
                        f"{name}.version",
                        f"the published letter is version {permit_type.commitment.version}; "
                        f"got {signed.get('version')!r}",
                    )
                )
            elif not str(signed.get("signed_by", "")).strip():
                problems.append(InvalidParam(f"{name}.signed_by", "must name who signed"))
        return problems
