"""Dates and times with real time zones (IANA names through `zoneinfo`).

Models are bad at calendars: what day it is, what 9:00 in Tokyo is in Paris,
how many days lie between two dates, what date is three months after
January 31st. These tools answer from the clock and the tz database.
Times are ISO 8601 text in and out.
"""

from __future__ import annotations

import calendar
import zoneinfo
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from ..tools.tool import tool
from ..tools.toolkit import ToolkitError

__all__ = ["convert_timezone", "current_time", "date_difference", "shift_date"]

Unit = Literal["weeks", "days", "hours", "minutes", "seconds"]
_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def zone(name: str) -> tzinfo:
    """An IANA time zone by name ("Europe/Paris", "UTC"); ToolkitError names what to send."""
    if name.upper() in ("UTC", "Z"):
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ToolkitError(
            f"Unknown time zone {name!r}. Use an IANA name such as 'Europe/Paris', "
            f"'America/New_York', 'Asia/Tokyo' or 'UTC'."
        ) from None


def parse_time(text: str, default_zone: tzinfo | None = None) -> datetime:
    """ISO 8601 date or date-time; a naive time takes `default_zone` when given."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ToolkitError(
            f"{text!r} is not an ISO 8601 date or time. Send e.g. '2026-03-01', "
            f"'2026-03-01T09:30' or '2026-03-01T09:30:00+01:00'."
        ) from None
    if parsed.tzinfo is None and default_zone is not None:
        parsed = parsed.replace(tzinfo=default_zone)
    return parsed


def _describe(moment: datetime) -> dict[str, str]:
    return {
        "iso": moment.isoformat(),
        "weekday": moment.strftime("%A"),
        "timezone": str(moment.tzinfo),
        "utc_offset": moment.strftime("%z") or "",
    }


@tool
def current_time(timezone_name: str = "UTC") -> dict[str, str]:
    """The current date and time in a time zone, with the weekday.

    Args:
        timezone_name: an IANA time zone such as 'Europe/Paris' (default UTC).
    """
    return _describe(datetime.now(zone(timezone_name)))


@tool
def convert_timezone(
    time: str, to_timezone: str, from_timezone: str | None = None
) -> dict[str, str]:
    """Convert a time from one time zone to another (daylight saving time included).

    Args:
        time: ISO 8601, e.g. '2026-03-01T09:30' or with an offset '...+09:00'.
        to_timezone: the IANA time zone to convert to.
        from_timezone: the time zone of `time` when it has no offset (default UTC).
    """
    source = zone(from_timezone) if from_timezone else UTC
    return _describe(parse_time(time, source).astimezone(zone(to_timezone)))


@tool
def date_difference(start: str, end: str, unit: Unit = "days") -> float:
    """How long from `start` to `end` (negative when `end` is earlier).

    Args:
        start: ISO 8601 date or time (naive times are taken as UTC).
        end: ISO 8601 date or time (naive times are taken as UTC).
        unit: weeks, days, hours, minutes or seconds.
    """
    first = parse_time(start, UTC)
    second = parse_time(end, UTC)
    return (second - first).total_seconds() / _SECONDS[unit]


@tool
def shift_date(
    time: str, months: int = 0, weeks: int = 0, days: int = 0, hours: int = 0, minutes: int = 0
) -> str:
    """Add (or, with negative numbers, subtract) months, weeks, days, hours and minutes.

    Months keep the day of the month where it exists and otherwise end on the
    month's last day (January 31st + 1 month = February 28th or 29th).

    Args:
        time: ISO 8601 date or time.
        months: whole months to add.
        weeks: weeks to add.
        days: days to add.
        hours: hours to add.
        minutes: minutes to add.
    """
    moment = parse_time(time)
    if abs(months) > 12 * 1000 or abs(weeks) > 52 * 1000 or abs(days) > 366 * 1000:
        raise ToolkitError("Shifts are limited to a thousand years.")
    if months:
        total = moment.month - 1 + months
        year, month = moment.year + total // 12, total % 12 + 1
        if not 1 <= year <= 9999:
            raise ToolkitError("The result is outside the years 1 to 9999.")
        day = min(moment.day, calendar.monthrange(year, month)[1])
        moment = moment.replace(year=year, month=month, day=day)
    try:
        shifted = moment + timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    except OverflowError:
        raise ToolkitError("The result is outside the years 1 to 9999.") from None
    only_date = "T" not in time and " " not in time.strip()
    return shifted.date().isoformat() if only_date else shifted.isoformat()
