"""Long-run series: a period's months gathered into calendar years, and the words for a
change in a type's share between two years.

A year counts as complete only with all twelve months stored: a year with missing months
keeps its counts and shares (both over the months it has, marked), but no rate, since its
count covers less than a year (docs/statistics.md, long-run series).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from beatbook.errors import InputError
from beatbook.stats.shares import ShareChange
from beatbook.stats.wording import format_p

__all__ = ["Year", "describe_share_change", "years_of"]


@dataclass(frozen=True)
class Year:
    """One calendar year of a series: its months in the period and those stored."""

    year: int
    months_in_period: tuple[dt.date, ...]
    months_stored: tuple[dt.date, ...]

    @property
    def complete(self) -> bool:
        """All twelve months are in the period and stored."""
        return len(self.months_stored) == 12

    @property
    def months_missing(self) -> list[str]:
        return [f"{m:%Y-%m}" for m in self.months_in_period if m not in self.months_stored]


def years_of(wanted: Sequence[dt.date], stored: Sequence[dt.date]) -> list[Year]:
    """The calendar years of the months ``wanted``, each with those of them ``stored``.

    >>> ys = years_of([dt.date(2020, m, 1) for m in range(1, 13)], [dt.date(2020, 1, 1)])
    >>> ys[0].year, ys[0].complete, len(ys[0].months_missing)
    (2020, False, 11)
    """
    kept = set(stored)
    if not kept <= set(wanted):
        raise InputError("stored months must be months of the period")
    years: dict[int, list[dt.date]] = {}
    for month in sorted(set(wanted)):
        years.setdefault(month.year, []).append(month)
    return [
        Year(y, tuple(ms), tuple(m for m in ms if m in kept)) for y, ms in sorted(years.items())
    ]


def monthly_split(
    parts: Mapping[dt.date, int], bases: Mapping[dt.date, int], months: Sequence[dt.date]
) -> dict[dt.date, tuple[int, int]]:
    """(part, base) of each month with data, for :func:`~beatbook.stats.shares.compare_shares`."""
    return {m: (int(parts.get(m, 0)), int(bases.get(m, 0))) for m in months}


def describe_share_change(change: ShareChange, what: str, first: int, last: int) -> str:
    """A share's change between two years in words the test supports: a rise or fall only
    when it is significant, otherwise that the data do not show a change.

    >>> from beatbook.stats.shares import compare_shares
    >>> c = compare_shares(1577, 39238, 1833, 42953)
    >>> describe_share_change(c, "Drugs", 2020, 2021)
    "Drugs' share of crime went from 4.0% (1,577 of 39,238) in 2020 to 4.3% (1,833 of 42,953) in 2021: no clear change (p = 0.077); the data do not show that the share changed"
    """
    before = f"{change.share_before * 100:.1f}% ({change.part_before:,} of {change.base_before:,})"
    after = f"{change.share_after * 100:.1f}% ({change.part_after:,} of {change.base_after:,})"
    head = f"{what}' share of crime" if what.endswith("s") else f"{what}'s share of crime"
    words = f"{head} went from {before} in {first} to {after} in {last}: "
    if change.significant:
        return words + f"a significant {change.direction} ({format_p(change.p_value)})"
    return (
        words + f"no clear change ({format_p(change.p_value)}); the data do not show that the "
        "share changed"
    )
