"""The day an act happened is the day in China (UTC+8), whatever the server's clock zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "UTC+8")


def day_in_china(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def today_in_china() -> date:
    return datetime.now(CHINA).date()
