"""Calendar months: the one place BeatBook parses and steps through them.

police.uk publishes by calendar month, so a month is a :class:`datetime.date` on the first
day. Every command, page and analysis uses these functions rather than its own arithmetic.

>>> add_months(dt.date(2025, 11, 1), 3)
datetime.date(2026, 2, 1)
>>> [f"{m:%Y-%m}" for m in months_back(dt.date(2025, 2, 1), 3)]
['2024-12', '2025-01', '2025-02']

Months and days a person gives are checked here too, so the CLI and the web refuse the same
values with the same message: :func:`check_month` keeps a month to the stored data's months
and :data:`~beatbook.settings.MONTHS_AFTER_DATA` after them, :func:`check_day` keeps a day
from :data:`~beatbook.settings.FIRST_DAY` to :data:`~beatbook.settings.YEARS_AHEAD` years
ahead. Arithmetic that would leave the calendar (past 9999-12) is an
:class:`~beatbook.errors.InputError`, never an overflow.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from beatbook.errors import InputError
from beatbook.settings import FIRST_DAY, MONTHS_AFTER_DATA, YEARS_AHEAD

__all__ = [
    "CALENDAR",
    "add_months",
    "check_day",
    "check_month",
    "day_bounds",
    "in_calendar",
    "month_end",
    "month_range",
    "months_back",
    "months_between",
    "parse_day",
    "parse_month",
    "ym",
]

#: The first and last month a date can hold: ``queries.months_with_data(store, *CALENDAR)``
#: is every stored month.
CALENDAR = (dt.date(1, 1, 1), dt.date(9999, 12, 1))


def ym(month: dt.date) -> str:
    """'YYYY-MM' for any year (``strftime('%Y')`` writes year 1 as '1')."""
    return month.isoformat()[:7]


def parse_month(
    text: str, option: str = "--from", stored: Sequence[dt.date] | None = None
) -> dt.date:
    """'2021-07' -> date(2021, 7, 1), with a clear error naming the option; with ``stored``
    (the months with data, oldest first) it must also pass :func:`check_month`."""
    try:
        year, month = text.strip().split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        parsed = dt.date(int(year), int(month), 1)
    except ValueError:
        raise InputError(f"{option} {text!r}: expected a month as YYYY-MM, e.g. 2021-07") from None
    return parsed if stored is None else check_month(parsed, option, stored)


def day_bounds(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day a person may give: settings.FIRST_DAY to the end of the year
    settings.YEARS_AHEAD years after ``today``."""
    today = today or dt.date.today()
    return FIRST_DAY, dt.date(min(today.year + YEARS_AHEAD, 9999), 12, 31)


def in_calendar(day: dt.date, today: dt.date | None = None) -> bool:
    """Whether a stored day or month lies within :func:`day_bounds` (a value outside was
    written before these checks, or by hand: readers leave it out and log it)."""
    first, last = day_bounds(today)
    return first <= day <= last


def check_day(day: dt.date, option: str, today: dt.date | None = None) -> dt.date:
    """``day`` if it lies within :func:`day_bounds`, else an InputError naming ``option``."""
    first, last = day_bounds(today)
    if not first <= day <= last:
        raise InputError(
            f"{option} {day.isoformat()}: expected a day from {first.isoformat()} to "
            f"{last.isoformat()}"
        )
    return day


def parse_day(text: str, option: str, today: dt.date | None = None) -> dt.date:
    """'2021-07-14' -> that date, within :func:`day_bounds`, with a clear error naming the option."""
    value = text.strip()
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{option} {text!r}: expected a date as YYYY-MM-DD, e.g. 2025-01-06"
        ) from None
    return check_day(day, option, today)


def check_month(
    month: dt.date, option: str, stored: Sequence[dt.date], today: dt.date | None = None
) -> dt.date:
    """``month`` if it is from the first stored month (``stored``: the months with data,
    oldest first) to settings.MONTHS_AFTER_DATA months after the last; with no data stored,
    within :func:`day_bounds`. Else an InputError naming ``option`` and the months allowed."""
    if stored:
        first, last = stored[0], add_months(stored[-1], MONTHS_AFTER_DATA)
        why = (
            f"police.uk data are stored from {ym(stored[0])} to {ym(stored[-1])}; a month may "
            f"be up to {MONTHS_AFTER_DATA} after them"
        )
    else:
        first, last = (d.replace(day=1) for d in day_bounds(today))
        why = "no police.uk data are stored yet"
    if not first <= month <= last:
        raise InputError(
            f"{option} {ym(month)}: expected a month from {ym(first)} to {ym(last)} ({why})"
        )
    return month


def add_months(month: dt.date, n: int) -> dt.date:
    """The month ``n`` calendar months after ``month`` (before it when ``n`` is negative);
    an InputError, not an overflow, when that is before 0001-01 or after 9999-12."""
    index = month.year * 12 + month.month - 1 + n
    if not 12 <= index < 10_000 * 12:
        raise InputError(
            f"{ym(month)} {'+' if n >= 0 else '-'} {abs(n)} month{'' if abs(n) == 1 else 's'} "
            "is outside the calendar (0001-01 to 9999-12)"
        )
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(start: dt.date, end: dt.date) -> int:
    """How many calendar months ``end`` is after ``start`` (0 for the same month)."""
    return (end.year - start.year) * 12 + end.month - start.month


def month_range(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every calendar month from ``start`` to ``end``, both included."""
    if end < start:
        raise InputError(f"the period ends ({end:%Y-%m}) before it starts ({start:%Y-%m})")
    return [add_months(start, i) for i in range(months_between(start, end) + 1)]


def months_back(last: dt.date, n: int) -> list[dt.date]:
    """The ``n`` calendar months ending with ``last``, oldest first."""
    return month_range(add_months(last, 1 - n), last)


def month_end(month: dt.date) -> dt.date:
    """The last day of ``month`` (9999-12 included)."""
    if month.month == 12:
        return month.replace(day=31)
    return add_months(month, 1) - dt.timedelta(days=1)
