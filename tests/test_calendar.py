"""Working-day deadlines: the library's 2026 with 调休, the statutory fallback (holidays and their 补假)
for 2027, overrides, pauses."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import chinese_calendar
import pytest
from chinese_calendar import Holiday

from domain.china import today_in_china
from licensing.calendar import (
    PACKAGED_OVERRIDES,
    CalendarError,
    WorkingCalendar,
    statutory_holidays,
    substitute_days,
    substitutes_for,
)

D = dt.date
FALLBACK_2027 = [
    D(2027, 1, 1),  # 元旦, Friday
    D(2027, 2, 5),  # 除夕, Friday
    D(2027, 2, 6),  # 正月初一
    D(2027, 2, 7),
    D(2027, 2, 8),  # 正月初三, Monday
    D(2027, 4, 5),  # 清明, Monday
    D(2027, 5, 1),
    D(2027, 5, 2),
    D(2027, 6, 9),  # 端午
    D(2027, 9, 15),  # 中秋
    D(2027, 10, 1),
    D(2027, 10, 2),
    D(2027, 10, 3),
]
# Art. 6 补假 for the statutory days above that fall on a weekend.
SUBSTITUTES_2027 = {
    D(2027, 2, 9): Holiday.spring_festival,  # for 初一 2/6 (Sat), after the block ends Mon 2/8
    D(2027, 2, 10): Holiday.spring_festival,  # for 初二 2/7 (Sun)
    D(2027, 5, 3): Holiday.labour_day,  # for 5/1 (Sat)
    D(2027, 5, 4): Holiday.labour_day,  # for 5/2 (Sun)
    D(2027, 10, 4): Holiday.national_day,  # for 10/2 (Sat)
    D(2027, 10, 5): Holiday.national_day,  # for 10/3 (Sun)
}


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar.load()


def _override(tmp_path: Path, text: str, name: str = "operator.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_2026_comes_from_the_library_with_its_make_up_workday(calendar: WorkingCalendar) -> None:
    assert chinese_calendar.is_workday(D(2026, 10, 1)) is False
    assert chinese_calendar.is_workday(D(2026, 10, 10)) is True
    assert not calendar.is_working_day(D(2026, 10, 1))
    assert calendar.is_working_day(D(2026, 10, 10))  # a Saturday, 国庆节调休
    assert not calendar.is_working_day(D(2026, 11, 21))  # an ordinary Saturday
    assert calendar.is_working_day(D(2026, 11, 20))  # an ordinary Friday


def test_counting_across_the_2026_national_day_week(calendar: WorkingCalendar) -> None:
    eve = D(2026, 9, 30)
    assert calendar.add_working_days(eve, 0) == eve
    assert calendar.add_working_days(eve, 1) == D(2026, 10, 8)
    assert calendar.add_working_days(eve, 3) == D(2026, 10, 10)
    assert calendar.add_working_days(eve, 4) == D(2026, 10, 12)
    assert calendar.working_days_between(eve, D(2026, 10, 12)) == 4
    assert calendar.working_days_between(D(2026, 10, 12), eve) == 0
    with pytest.raises(ValueError, match="-1"):
        calendar.add_working_days(eve, -1)


def test_a_deadline_accepted_this_week_reaches_into_2027_without_raising(
    calendar: WorkingCalendar,
) -> None:
    accepted = D(2026, 11, 23)
    assert calendar.add_working_days(accepted, 25) == D(2026, 12, 28)
    assert calendar.add_working_days(accepted, 28) == D(2026, 12, 31)
    # 2027-01-01 is 元旦 under the fallback, so the 29th working day is the Monday after.
    assert calendar.add_working_days(accepted, 29) == D(2027, 1, 4)
    assert calendar.add_working_days(accepted, 60).year == 2027
    assert calendar.working_days_between(accepted, D(2027, 1, 4)) == 29


def test_the_2027_fallback_keeps_the_statutory_holidays_and_their_substitutes_but_no_tiaoxiu(
    calendar: WorkingCalendar,
) -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 4))
    assert sorted(statutory_holidays(2027)) == FALLBACK_2027
    assert substitute_days(2027) == SUBSTITUTES_2027
    for day in [*FALLBACK_2027, *SUBSTITUTES_2027]:
        assert not calendar.is_working_day(day), day
    # 劳动节 5/1 (Sat), 5/2 (Sun): 补假 Monday 5/3 and Tuesday 5/4; work resumes Wednesday.
    assert not calendar.is_working_day(D(2027, 5, 3))
    assert not calendar.is_working_day(D(2027, 5, 4))
    assert calendar.is_working_day(D(2027, 5, 5))
    assert calendar.is_working_day(D(2027, 5, 6))
    assert calendar.add_working_days(D(2027, 4, 30), 1) == D(2027, 5, 5)
    # 国庆 10/1 (Fri), 10/2 (Sat), 10/3 (Sun): 补假 10/4 and 10/5.
    assert not calendar.is_working_day(D(2027, 10, 4))
    assert not calendar.is_working_day(D(2027, 10, 5))
    assert calendar.is_working_day(D(2027, 10, 6))
    # 春节 除夕 2/5 (Fri) to 初三 2/8 (Mon), with 2/6 and 2/7 on the weekend: 补假 2/9 and 2/10.
    assert calendar.is_working_day(D(2027, 2, 4))  # the day before 除夕
    assert not calendar.is_working_day(D(2027, 2, 9))
    assert not calendar.is_working_day(D(2027, 2, 10))
    assert calendar.is_working_day(D(2027, 2, 11))
    assert not calendar.is_working_day(D(2027, 2, 13))  # a Saturday: no 调休 is guessed
    assert calendar.is_working_day(D(2027, 1, 4))  # 元旦 is a Friday: no 补假


def test_a_substitute_day_skips_weekends_holidays_and_earlier_substitutes() -> None:
    friday, saturday, sunday, monday = (
        D(2027, 10, 1),
        D(2027, 10, 2),
        D(2027, 10, 3),
        D(2027, 10, 4),
    )
    assert substitutes_for({saturday: Holiday.national_day}) == {monday: Holiday.national_day}
    assert substitutes_for({sunday: Holiday.labour_day}) == {monday: Holiday.labour_day}
    assert substitutes_for({friday: Holiday.national_day}) == {}
    # Monday is itself a holiday, so Saturday's 补假 moves on to Tuesday, Sunday's to Wednesday.
    assert substitutes_for(
        {saturday: Holiday.national_day, sunday: Holiday.national_day, monday: Holiday.national_day}
    ) == {D(2027, 10, 5): Holiday.national_day, D(2027, 10, 6): Holiday.national_day}


def test_the_statutory_rule_matches_the_library_where_both_know_the_year() -> None:
    # The 2024 amendment (除夕 and 劳动节 5/2 added) is in force from 2025.
    for year in (2025, 2026):
        days = {**statutory_holidays(year), **substitute_days(year)}
        for day, holiday in days.items():
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            assert on_holiday and name == holiday.value, (day, holiday)
    assert substitute_days(2026) == {
        D(2026, 4, 6): Holiday.tomb_sweeping_day,  # 清明 4/5 was a Sunday
        D(2026, 5, 4): Holiday.labour_day,  # 5/2 was a Saturday
        D(2026, 10, 5): Holiday.national_day,  # 10/3 was a Saturday
    }


def _law_before_2025(year: int) -> dict[dt.date, Holiday]:
    """The statutory days of 2014-2024 (the 2013 rules): no 除夕, 劳动节 5/1 only."""
    days = statutory_holidays(year)
    eve = min(day for day, holiday in days.items() if holiday is Holiday.spring_festival)
    return {day: holiday for day, holiday in days.items() if day != eve and day != D(year, 5, 2)}


def test_the_substitute_rule_predicts_the_known_years_substitute_days() -> None:
    # 元旦 on a Saturday (2022) and on a Sunday (2023): the notice gave the Monday off.
    assert substitutes_for(_law_before_2025(2022))[D(2022, 1, 3)] is Holiday.new_years_day
    assert substitutes_for(_law_before_2025(2023))[D(2023, 1, 2)] is Holiday.new_years_day
    # Every substitute day the rule gives for 2016-2024 was a day off, under the same holiday.
    # Only the substitute days are checked: the real schedules add 调休 the rule cannot know.
    # (Before that the notices sometimes differed: 2012 put 端午's 补假 on the Friday before,
    # and 2015 gave 中秋 on Sunday 9/27 none.)
    checked = 0
    for year in range(2016, 2025):
        for day, holiday in substitutes_for(_law_before_2025(year)).items():
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            assert on_holiday and name == holiday.value, (day, holiday, name)
            checked += 1
    assert checked == 29  # so the loop cannot pass vacuously


def test_the_fallback_warns_once_per_year(
    calendar: WorkingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="licensing.calendar"):
        calendar.is_working_day(D(2026, 12, 31))
        calendar.add_working_days(D(2027, 1, 1), 40)
        calendar.is_working_day(D(2027, 10, 1))
        calendar.is_working_day(D(2028, 1, 3))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "Year 2027" in warnings[0] and "Year 2028" in warnings[1]
    assert "调休" in warnings[0] and "calendar_overrides.yaml" in warnings[0]
    assert "补假" in warnings[0]


def test_an_operator_override_wins_over_the_fallback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _override(
        tmp_path,
        """
2027:
  source: "provisional: test schedule"
  holidays: [2027-05-03, 2027-05-04]
  workdays: [2027-02-20]
""",
    )
    calendar = WorkingCalendar.load(path)
    with caplog.at_level(logging.WARNING, logger="licensing.calendar"):
        # The notice places the 补假 itself: the rule's 10/4 and 10/5 are not guessed here.
        assert calendar.is_working_day(D(2027, 10, 4))
        assert calendar.is_working_day(D(2027, 10, 5))
        assert not calendar.is_working_day(D(2027, 5, 3))
        assert not calendar.is_working_day(D(2027, 5, 4))
        assert calendar.is_working_day(D(2027, 2, 20))  # a Saturday made a workday
        assert not calendar.is_working_day(D(2027, 1, 1))  # statutory days stay off
        assert calendar.is_working_day(D(2027, 5, 5))
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    assert calendar.add_working_days(D(2027, 4, 30), 1) == D(2027, 5, 5)
    coverage = calendar.coverage()
    assert coverage[2026] == "library" and coverage[2027] == "override"


def test_the_later_file_wins_per_date_and_may_correct_the_library(tmp_path: Path) -> None:
    path = _override(
        tmp_path,
        """
2026:
  source: "provisional: correction"
  holidays: [2026-10-10]
""",
    )
    calendar = WorkingCalendar.load(path)
    assert not calendar.is_working_day(D(2026, 10, 10))
    assert calendar.is_working_day(D(2026, 10, 9))  # unlisted dates still come from the library


def test_the_packaged_file_loads_and_lists_no_invented_year() -> None:
    assert PACKAGED_OVERRIDES.is_file()
    coverage = WorkingCalendar.load().coverage()
    assert coverage[2004] == "library" and coverage[2026] == "library"
    assert coverage[2027] == "fallback"
    assert max(coverage) == today_in_china().year + 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('2027:\n  source: "x"\n  holidays: [2027-13-01]\n', "2027-13-01"),
        ('2027:\n  source: "x"\n  holiday: [2027-01-04]\n', "'holiday'"),
        ("2027:\n  holidays: [2027-01-04]\n", "source"),
        ('2027:\n  source: "x"\n  holidays: [2028-01-04]\n', "2028-01-04"),
        ('2027:\n  source: "x"\n  holidays: [2027-02-09]\n  workdays: [2027-02-09]\n', "both"),
        ('twenty:\n  source: "x"\n', "'twenty'"),
        ("- 2027-01-01\n", "mapping"),
        ("2027: [unclosed\n", "YAML"),
    ],
)
def test_a_malformed_override_names_the_file_and_entry(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = _override(tmp_path, text, name="bad-overrides.yaml")
    with pytest.raises(CalendarError) as caught:
        WorkingCalendar.load(path)
    assert "bad-overrides.yaml" in str(caught.value)
    assert fragment in str(caught.value)


def test_pauses_extend_the_deadline_by_the_working_days_paused(calendar: WorkingCalendar) -> None:
    accepted = D(2026, 11, 23)
    plain = calendar.deadline(accepted, 20)
    assert plain == calendar.add_working_days(accepted, 20) == D(2026, 12, 21)
    # Supplement requested Monday 11-30, resubmitted Monday 12-07: five working days paused.
    pause = (D(2026, 11, 30), D(2026, 12, 7))
    paused = calendar.working_days_between(D(2026, 11, 29), D(2026, 12, 6))
    assert paused == 5
    assert calendar.deadline(accepted, 20, pauses=[pause]) == calendar.add_working_days(
        accepted, 20 + paused
    )
    # Two pauses, the second reaching into the 2027 fallback year.
    second = (D(2026, 12, 28), D(2027, 1, 5))
    also = calendar.working_days_between(D(2026, 12, 27), D(2027, 1, 4))
    assert also == 5  # 12-28..12-31 and 2027-01-04; 01-01 is 元旦
    assert calendar.deadline(accepted, 20, pauses=[pause, second]) == calendar.add_working_days(
        accepted, 20 + paused + also
    )
    # A pause after the time limit ran out changes nothing.
    assert calendar.deadline(accepted, 20, pauses=[(D(2026, 12, 22), D(2027, 1, 8))]) == plain


def test_an_open_pause_leaves_the_deadline_unknown(calendar: WorkingCalendar) -> None:
    accepted = D(2026, 11, 23)
    assert calendar.deadline(accepted, 20, pauses=[(D(2026, 12, 1), None)]) is None
    # Opened only after the limit ran out: the deadline was already fixed.
    assert calendar.deadline(accepted, 20, pauses=[(D(2026, 12, 22), None)]) == D(2026, 12, 21)
    with pytest.raises(ValueError, match="before it began"):
        calendar.deadline(accepted, 20, pauses=[(D(2026, 12, 2), D(2026, 12, 1))])
    with pytest.raises(ValueError, match="days must be >= 0"):
        calendar.deadline(accepted, -1)
    assert calendar.deadline(accepted, 0, pauses=[(D(2026, 11, 1), None)]) == accepted
