"""明确告知: from a business scope (经营范围), the permit types and themed items it probably
needs, each with the scope terms that led there (`data/scope_terms.yaml`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from licensing.catalogue import DATA_DIR, Catalogue, CatalogueError, default_catalogue

FILE = "scope_terms.yaml"
# Where a scope's items part: the separators a 经营范围 uses between its items.
_ITEMS = re.compile(r"[;；,，、。\n]+")
# The part a scope's items end with that is no item: "（依法须经批准的项目…）".
_BOILERPLATE = re.compile(
    r"\(依法须经批准的项目[^)]*\)|\(除依法须经批准的项目外[^)]*\)|(许可项目|一般项目|经营项目):"
)


class ScopeTerm(BaseModel):
    """One scope term, its other wordings, and what it points to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    term: str = Field(min_length=2)
    keywords: tuple[str, ...] = ()
    permits: tuple[str, ...] = Field(min_length=1)
    themes: tuple[str, ...] = ()
    note: str | None = None


def normalise(text: str) -> str:
    """As matching reads a scope: NFKC (full-width brackets and letters to ASCII), no
    whitespace, Latin letters in upper case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


@dataclass(frozen=True)
class Match:
    """A wording of a term found in the scope, and where."""

    term: ScopeTerm
    wording: str
    start: int
    end: int


class ScopeMap:
    """The scope terms, checked against one catalogue: each names permit types and themes it
    knows, and no wording belongs to two terms."""

    def __init__(self, terms: list[ScopeTerm], catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.terms = terms
        self._wordings: dict[str, ScopeTerm] = {}
        for entry in terms:
            for code in entry.permits:
                if code not in catalogue.permit_types:
                    raise CatalogueError(f"{FILE}: {entry.term!r} names unknown permit {code!r}")
            for code in entry.themes:
                if code not in catalogue.themes:
                    raise CatalogueError(f"{FILE}: {entry.term!r} names unknown theme {code!r}")
            for wording in (entry.term, *entry.keywords):
                key = normalise(wording)
                other = self._wordings.get(key)
                if other is not None:
                    raise CatalogueError(
                        f"{FILE}: {wording!r} is a wording of both {other.term!r} and {entry.term!r}"
                    )
                self._wordings[key] = entry
        # Longest wording first: it takes its stretch of the scope before any shorter one.
        self._ordered = sorted(self._wordings, key=lambda w: (-len(w), w))

    def matches(self, scope: str) -> list[Match]:
        """Every term's wording found in the scope, longest first, none overlapping another,
        in the order they stand in the scope."""
        text = normalise(scope)
        taken = [False] * len(text)
        found: list[Match] = []
        for wording in self._ordered:
            start = text.find(wording)
            while start != -1:
                end = start + len(wording)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * (end - start)
                    found.append(Match(self._wordings[wording], wording, start, end))
                start = text.find(wording, end)
        return sorted(found, key=lambda m: m.start)

    def suggest(self, scope: str) -> dict[str, Any]:
        """Which permits and themes the scope points to, each with the terms that matched
        (the reason), and the scope's items that point to none (no permit known for them)."""
        found = self.matches(scope)
        permits: dict[str, list[Match]] = {}
        themes: dict[str, list[Match]] = {}
        for match in found:
            for code in match.term.permits:
                permits.setdefault(code, []).append(match)
            for code in match.term.themes:
                themes.setdefault(code, []).append(match)
        c = self.catalogue
        return {
            "catalogue_version": c.version,
            "permits": [
                {
                    "permit_type": code,
                    "name_zh": c.permit_types[code].name_zh,
                    "name_en": c.permit_types[code].name_en,
                    "department": c.permit_types[code].department,
                    "department_name_zh": c.departments[c.permit_types[code].department].name_zh,
                    "mode": c.permit_types[code].mode,
                    "because": _reasons(matches),
                }
                for code, matches in permits.items()
            ],
            "themes": [
                {
                    "theme": code,
                    "name_zh": c.themes[code].name_zh,
                    "name_en": c.themes[code].name_en,
                    "covers": [p for p in permits if p in c.all_permits(code)],
                    "because": _reasons(matches),
                }
                for code, matches in themes.items()
            ],
            "unmatched": _unmatched(scope, found),
        }


def _reasons(matches: list[Match]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for match in matches:
        reason = seen.setdefault(
            match.term.term,
            {"term": match.term.term, "matched": [], "note": match.term.note},
        )
        if match.wording not in reason["matched"]:
            reason["matched"].append(match.wording)
    return list(seen.values())


def _unmatched(scope: str, found: list[Match]) -> list[str]:
    """The scope's items (split at its separators) in which no term was found."""
    text = _BOILERPLATE.sub("", normalise(scope))
    items = [item for item in _ITEMS.split(text) if item.strip("()（）")]
    wordings = {m.wording for m in found}
    return [item for item in items if not any(w in item for w in wordings)]


def load_scope_map(catalogue: Catalogue, directory: Path | None = None) -> ScopeMap:
    path = (DATA_DIR if directory is None else directory) / FILE
    try:
        data = yaml.safe_load(path.read_bytes())
    except (OSError, yaml.YAMLError) as error:
        raise CatalogueError(f"{FILE}: cannot read {path}: {error}") from None
    try:
        terms = TypeAdapter(list[ScopeTerm]).validate_python(data)
    except ValidationError as error:
        raise CatalogueError(f"{FILE}: {error}") from None
    return ScopeMap(terms, catalogue)


_LOADED: dict[str, ScopeMap] = {}


def scope_map(catalogue: Catalogue | None = None) -> ScopeMap:
    """The shipped scope terms against a catalogue (the shipped one by default), checked
    once per catalogue version."""
    catalogue = catalogue or default_catalogue()
    loaded = _LOADED.get(catalogue.version)
    if loaded is None:
        loaded = _LOADED[catalogue.version] = load_scope_map(catalogue)
    return loaded


def for_theme(suggestions: dict[str, Any], catalogue: Catalogue, theme: str) -> dict[str, Any]:
    """Suggestions (`ScopeMap.suggest`) split by whether the theme includes each permit."""
    included = set(catalogue.all_permits(theme))
    permits = suggestions["permits"]
    return {
        "in_theme": [p for p in permits if p["permit_type"] in included],
        "elsewhere": [p for p in permits if p["permit_type"] not in included],
        "unmatched": suggestions["unmatched"],
    }
