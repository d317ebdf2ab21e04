"""Calendar months: the one place BeatBook parses and steps through them.

police.uk publishes by calendar month, so a month is a :class:`datetime.date` on the first
day. Every command, page and analysis uses these functions rather than its own arithmetic.

>>> add_months(dt.date(2025, 11, 1), 3)
datetime.date(2026, 2, 1)
>>> [f"{m:%Y-%m}" for m in months_back(dt.date(2025, 2, 1), 3)]
['2024-12', '2025-01', '2025-02']
"""

from __future__ import annotations

import datetime as dt

from beatbook.errors import InputError

__all__ = [
    "add_months",
    "month_end",
    "month_range",
    "months_back",
    "months_between",
    "parse_month",
]


def parse_month(text: str, option: str = "--from") -> dt.date:
    """'2021-07' -> date(2021, 7, 1), with a clear error naming the option."""
    try:
        year, month = text.strip().split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise InputError(f"{option} {text!r}: expected a month as YYYY-MM, e.g. 2021-07") from None


def add_months(month: dt.date, n: int) -> dt.date:
    """The month ``n`` calendar months after ``month`` (before it when ``n`` is negative)."""
    index = month.year * 12 + month.month - 1 + n
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
    """The last day of ``month``."""
    return add_months(month, 1) - dt.timedelta(days=1)
