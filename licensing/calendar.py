"""The Chinese working-day calendar: chinese_calendar, official overrides, and a statutory fallback.

A date is resolved from the override files first, then from the chinesecalendar library, and for
a year neither knows from the law alone: Monday-Friday minus `statutory_holidays(year)` and their
补假 `substitute_days(year)`. The fallback cannot know 调休 (weekend make-up workdays and the
weekdays swapped off for them); those come only with the State Council's notice for the year.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import chinese_calendar
import yaml
from chinese_calendar import Holiday
from lunar_python import Lunar

from domain.china import today_in_china

logger = logging.getLogger(__name__)

PACKAGED_OVERRIDES = Path(__file__).parent / "data" / "calendar_overrides.yaml"
FIRST_COVERED_YEAR = 2004

Source = Literal["library", "override", "fallback"]

_ONE_DAY = dt.timedelta(days=1)
_ENTRY_KEYS = frozenset({"source", "holidays", "workdays"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarError(Exception):
    """A calendar override file is unreadable or malformed."""


class _NoDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so a bad one is reported by us, with its entry."""


_NoDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _library_years() -> range:
    years = {day.year for day in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


def statutory_holidays(year: int) -> dict[dt.date, Holiday]:
    """The public holidays every citizen has by law in `year`, without any 调休 or 补假.

    Their 补假 (substitute days) are `substitute_days(year)`; the fallback applies both.

    Rules of 《全国年节及纪念日放假办法》 as amended in 2024 (in force from 2025): 元旦 1/1;
    春节 除夕 and 正月初一至初三; 清明 on the solar term; 劳动节 5/1–5/2; 端午 五月初五;
    中秋 八月十五; 国庆 10/1–10/3. Earlier years had other rules, but those years come from
    the library.
    """
    new_year = _lunar_to_solar(year, 1, 1)
    days: dict[dt.date, Holiday] = {dt.date(year, 1, 1): Holiday.new_years_day}
    for offset in range(-1, 3):
        days[new_year + dt.timedelta(days=offset)] = Holiday.spring_festival
    days[_qingming(year)] = Holiday.tomb_sweeping_day
    days[dt.date(year, 5, 1)] = Holiday.labour_day
    days[dt.date(year, 5, 2)] = Holiday.labour_day
    days[_lunar_to_solar(year, 5, 5)] = Holiday.dragon_boat_festival
    days[_lunar_to_solar(year, 8, 15)] = Holiday.mid_autumn_festival
    for day in (1, 2, 3):
        days[dt.date(year, 10, day)] = Holiday.national_day
    return dict(sorted(days.items()))


def substitute_days(year: int) -> dict[dt.date, Holiday]:
    """The 补假 the law adds in `year` for its statutory holidays that fall on a weekend.

    Art. 6 of 《全国年节及纪念日放假办法》: 全体公民放假的假日，如果适逢星期六、星期日，应当在
    工作日补假. All of `statutory_holidays(year)` are such holidays. Each substitute day keeps
    the name of the holiday it stands in for. See `substitutes_for` for where they fall.
    """
    return substitutes_for(statutory_holidays(year))


def substitutes_for(holidays: Mapping[dt.date, Holiday]) -> dict[dt.date, Holiday]:
    """The substitute days Art. 6 gives for these 全体公民 holidays, under the same holiday names.

    For each holiday day on a Saturday or Sunday, in date order, the next weekday after the end
    of its block of holidays that is neither one of `holidays` nor already a substitute day is
    a day off: 2027 劳动节 5/1 (Sat) and 5/2 (Sun) give Monday 5/3 and Tuesday 5/4. Where the
    State Council's notice puts the 补假 is its own choice (it usually follows this rule, but
    e.g. 2012 put 端午's on the Friday before), so only the fallback relies on the rule.
    """
    days = dict(sorted(holidays.items()))
    substitutes: dict[dt.date, Holiday] = {}
    for day, holiday in days.items():
        if day.weekday() < 5:
            continue
        candidate = day + _ONE_DAY
        while candidate.weekday() >= 5 or candidate in days or candidate in substitutes:
            candidate += _ONE_DAY
        substitutes[candidate] = holiday
    return substitutes


def _lunar_to_solar(year: int, month: int, day: int) -> dt.date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> dt.date:
    # The table of lunar year `year` spans the solar year's April, where 清明 falls.
    term = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]
    return dt.date(term.getYear(), term.getMonth(), term.getDay())


class WorkingCalendar:
    """Which days are working days in mainland China; immutable once loaded."""

    __slots__ = ("_files", "_library_years", "_lock", "_overrides", "_sources", "_years")

    def __init__(
        self,
        *,
        overrides: Mapping[dt.date, bool],
        sources: Mapping[int, str],
        files: Sequence[Path] = (),
    ) -> None:
        self._overrides: dict[dt.date, bool] = dict(overrides)
        self._sources: dict[int, str] = dict(sources)
        self._files: tuple[Path, ...] = tuple(files)
        self._library_years = _library_years()
        # Per year, the dates that break the Monday–Friday rule (weekday off, weekend worked).
        self._years: dict[int, frozenset[dt.date]] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, override_path: Path | None = None) -> WorkingCalendar:
        """The packaged overrides, then the operator's file if given; the later file wins per date."""
        files = (
            [PACKAGED_OVERRIDES] if override_path is None else [PACKAGED_OVERRIDES, override_path]
        )
        overrides: dict[dt.date, bool] = {}
        sources: dict[int, str] = {}
        for path in files:
            for year, (source, holidays, workdays) in _read_overrides(path).items():
                sources[year] = source
                overrides.update(dict.fromkeys(holidays, False))
                overrides.update(dict.fromkeys(workdays, True))
        return cls(overrides=overrides, sources=sources, files=files)

    def is_working_day(self, day: dt.date) -> bool:
        """Whether `day` is a working day: override entry, else the library, else the statutory fallback."""
        if isinstance(day, dt.datetime):
            day = day.date()
        exceptions = self._years.get(day.year)
        if exceptions is None:
            exceptions = self._exceptions(day.year)
        return (day.weekday() < 5) != (day in exceptions)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start`; `start` itself never counts."""
        if days < 0:
            raise ValueError(f"days must be >= 0, not {days}")
        day = start
        while days:
            day += _ONE_DAY
            if self.is_working_day(day):
                days -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days lie in (start, end]; 0 when end <= start."""
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def deadline(
        self,
        start: dt.date,
        days: int,
        *,
        pauses: Sequence[tuple[dt.date, dt.date | None]] = (),
    ) -> dt.date | None:
        """The end of a `days`-working-day time limit from `start` whose clock stops during pauses.

        A pause (paused_on, resumed_on) is the half-open interval [paused_on, resumed_on): the
        working days from the day a supplement is requested up to, not including, the day it
        comes back do not count. A pause still open (resumed_on None) makes the deadline unknown,
        so the result is None — unless the time limit already ran out before that pause began.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, not {days}")
        for paused_on, resumed_on in pauses:
            if resumed_on is not None and resumed_on < paused_on:
                raise ValueError(f"pause resumes on {resumed_on}, before it began on {paused_on}")
        day = start
        while days:
            day += _ONE_DAY
            paused = False
            for paused_on, resumed_on in pauses:
                if paused_on <= day and (resumed_on is None or day < resumed_on):
                    if resumed_on is None:
                        return None
                    paused = True
            if not paused and self.is_working_day(day):
                days -= 1
        return day

    def coverage(self) -> dict[int, Source]:
        """Where each year from 2004 to two years ahead takes its data from."""
        last = today_in_china().year + 2
        return {year: self._source(year) for year in range(FIRST_COVERED_YEAR, last + 1)}

    def _source(self, year: int) -> Source:
        if year in self._sources:
            return "override"
        if year in self._library_years:
            return "library"
        return "fallback"

    def _exceptions(self, year: int) -> frozenset[dt.date]:
        with self._lock:
            cached = self._years.get(year)
            if cached is not None:
                return cached
            if self._source(year) == "fallback":
                self._warn_fallback(year)
            exceptions = frozenset(
                day for day in _days_of(year) if self._resolve(day) != (day.weekday() < 5)
            )
            self._years[year] = exceptions
            return exceptions

    def _resolve(self, day: dt.date) -> bool:
        listed = self._overrides.get(day)
        if listed is not None:
            return listed
        if day.year in self._library_years:
            return bool(chinese_calendar.is_workday(day))
        # Statutory holidays are days off whatever a notice adds, so a year known only from
        # the override file starts from them too; only its listed dates differ. Their 补假 is
        # guessed by the rule only in the fallback: a notice places it itself (the override
        # lists it among its holidays), and may place it elsewhere than the rule would.
        if day.year in self._sources:
            return day.weekday() < 5 and day not in _statutory_days(day.year)
        return day.weekday() < 5 and day not in _fallback_days_off(day.year)

    def _warn_fallback(self, year: int) -> None:
        first, last = self._library_years[0], self._library_years[-1]
        files = ", ".join(str(path) for path in self._files)
        logger.warning(
            "Year %d is not in the chinese_calendar library (it knows %d-%d) or in the calendar "
            "override file(s) (%s): applying Monday-Friday with the statutory public holidays "
            "and their 补假 substitute days (Art. 6, for holidays on a weekend), but without "
            "调休: the make-up workdays (and any other swapped days off) are not known until the "
            "State Council publishes its notice for %d. Then add a %d entry with source, "
            "holidays and workdays to %s or to the operator's override file, or upgrade "
            "chinesecalendar.",
            year,
            first,
            last,
            files,
            year,
            year,
            PACKAGED_OVERRIDES,
        )


@functools.lru_cache(maxsize=16)
def _statutory_days(year: int) -> frozenset[dt.date]:
    return frozenset(statutory_holidays(year))


@functools.lru_cache(maxsize=16)
def _fallback_days_off(year: int) -> frozenset[dt.date]:
    return _statutory_days(year) | frozenset(substitute_days(year))


def _days_of(year: int) -> Iterable[dt.date]:
    day = dt.date(year, 1, 1)
    while day.year == year:
        yield day
        day += _ONE_DAY


def _read_overrides(path: Path) -> dict[int, tuple[str, list[dt.date], list[dt.date]]]:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CalendarError(f"{path}: cannot read: {error.strerror}") from None
    try:
        data: Any = yaml.load(raw, Loader=_NoDatesLoader)  # noqa: S506 — a SafeLoader
    except yaml.YAMLError as error:
        raise CalendarError(f"{path}: not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CalendarError(
            f"{path}: expected a mapping of year to entry, got {type(data).__name__}"
        )
    entries: dict[int, tuple[str, list[dt.date], list[dt.date]]] = {}
    for key, entry in data.items():
        year = _year(path, key)
        where = f"{path}: year {year}"
        if not isinstance(entry, dict):
            raise CalendarError(f"{where}: expected a mapping with source, holidays and workdays")
        unknown = sorted(str(k) for k in entry.keys() - _ENTRY_KEYS)
        if unknown:
            raise CalendarError(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"allowed are {', '.join(sorted(_ENTRY_KEYS))}"
            )
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise CalendarError(f"{where}: 'source' must name the notice (or 'provisional: ...')")
        holidays = _dates(where, "holidays", entry.get("holidays", []), year)
        workdays = _dates(where, "workdays", entry.get("workdays", []), year)
        both = sorted(set(holidays) & set(workdays))
        if both:
            raise CalendarError(f"{where}: {both[0].isoformat()} is both a holiday and a workday")
        entries[year] = (source.strip(), holidays, workdays)
    return entries


def _year(path: Path, key: object) -> int:
    if isinstance(key, bool) or not isinstance(key, int | str) or not str(key).isdigit():
        raise CalendarError(f"{path}: {key!r} is not a year")
    year = int(key)
    if not 1900 <= year <= 2100:
        raise CalendarError(f"{path}: {year} is not a supported year (1900-2100)")
    return year


def _dates(where: str, field: str, value: object, year: int) -> list[dt.date]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CalendarError(f"{where}: '{field}' must be a list of dates")
    days: list[dt.date] = []
    for item in value:
        try:
            if not _ISO_DATE.fullmatch(str(item)):
                raise ValueError
            day = dt.date.fromisoformat(str(item))
        except ValueError:
            raise CalendarError(
                f"{where}: '{field}' entry {item!r} is not a date (YYYY-MM-DD)"
            ) from None
        if day.year != year:
            raise CalendarError(f"{where}: '{field}' entry {day.isoformat()} is not in {year}")
        if day in days:
            raise CalendarError(f"{where}: '{field}' lists {day.isoformat()} twice")
        days.append(day)
    return days
