"""Honest plain-English phrases for the statistics brief and the community update.

Every phrase follows the rules in DESIGN.md ("Statistics that must be
right"): a change is called a rise or fall only when its test is
significant, otherwise "no clear change"; a rate carries its interval; a
share carries its base; a rank names its peers and its plausible range.
Numbers use thousands separators; p-values are written "p < 0.001" or with
two significant figures ("p = 0.048").
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Sequence

from beatbook.errors import InputError
from beatbook.stats.change import Change
from beatbook.stats.rates import Rate, Share
from beatbook.stats.trend import NO_CRIMES_METHOD, NOT_ESTIMABLE_METHOD, Trend

__all__ = [
    "describe_change",
    "describe_months",
    "describe_rank",
    "describe_rate",
    "describe_share",
    "describe_trend",
    "format_p",
    "ordinal",
]


def ordinal(n: int) -> str:
    """English ordinal of a whole number: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 111th.

    Examples
    --------
    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 111)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '111th']
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise InputError(f"ordinal needs a whole number of 0 or more, got {n!r}")
    value = int(n)
    if value % 100 in (11, 12, 13):
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value:,}{suffix}"


def format_p(p: float, alpha: float = 0.05) -> str:
    """Write a p-value for readers: ``"p < 0.001"`` or ``"p = 0.048"`` (two significant figures).

    Digits are added when two significant figures would round the p-value
    across ``alpha`` (so a significant ``p = 0.0496`` is never written
    ``p = 0.05``).

    Examples
    --------
    >>> format_p(0.0004), format_p(0.048), format_p(0.4812), format_p(0.04996)
    ('p < 0.001', 'p = 0.048', 'p = 0.48', 'p = 0.04996')
    """
    if not 0.0 <= p <= 1.0:
        raise InputError(f"a p-value must be between 0 and 1, got {p!r}")
    if p < 0.001:
        return "p < 0.001"
    for digits in range(2, 8):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha):
            return f"p = {text}"
    return f"p = {p!r}"


def _decimals(scale: float) -> int:
    """Decimal places for numbers of size ``scale``: 1, or 2 significant figures below 1."""
    if scale == 0 or not math.isfinite(scale) or abs(scale) >= 1:
        return 1
    return max(1, 1 - math.floor(math.log10(abs(scale))))


def _number(x: float, decimals: int | None = None) -> str:
    """Format with thousands separators and :func:`_decimals` places (unless given)."""
    places = _decimals(x) if decimals is None else decimals
    return f"{x:,.{places}f}"


def describe_change(c: Change, noun: str = "crimes") -> str:
    """Describe a :class:`~beatbook.stats.change.Change` in one honest phrase.

    The one wording of a change that the brief, the dashboard and the community update
    print, e.g. ``"from 39,238 to 42,953 crimes, up 9.5%: a significant rise (p < 0.001)"``
    or ``"from 80 to 71 crimes, down 11.3%: no clear change (p = 0.52)"``. With unequal
    exposures (12 months against 9, or two populations) the percentage is the change in
    the *rate*, and the phrase says so. "Rise" or "fall" appears only when
    ``c.significant`` is true.

    >>> from beatbook.stats.change import compare_counts
    >>> describe_change(compare_counts(200, 120), "burglaries")
    'from 200 to 120 burglaries, down 40.0%: a significant fall (p < 0.001)'
    """
    if c.count_before == 0 and c.count_after == 0:
        return f"no {noun} in either period"
    counts = f"from {c.count_before:,} to {c.count_after:,} {noun}"
    if c.count_before == 0:
        return f"{counts}: no earlier {noun} to compare with"
    verdict = {"rise": "a significant rise", "fall": "a significant fall"}.get(
        c.direction, "no clear change"
    )
    tail = f"{'up' if c.pct_change >= 0 else 'down'} {abs(c.pct_change):,.1f}%: {verdict}"
    tail += f" ({format_p(c.p_value, c.alpha)})"
    if c.exposure_before == c.exposure_after:
        return f"{counts}, {tail}"
    return f"{counts}; allowing for the different periods or populations, the rate is {tail}"


def describe_rate(r: Rate, of: str = "residents") -> str:
    """Describe a :class:`~beatbook.stats.rates.Rate` with its interval.

    One decimal place, or two significant figures of the upper limit when
    the whole interval is below 1 (e.g. ``"0.07 per 1,000 residents (95% CI
    0.02–0.21)"``).

    Examples
    --------
    >>> from beatbook.stats.rates import rate
    >>> describe_rate(rate(3493, 41500))
    '84.2 per 1,000 residents (95% CI 81.4–87.0)'
    """
    level = f"{r.conf * 100:g}%"
    places = _decimals(r.ci_high)
    return (
        f"{_number(r.rate, places)} per {r.per:,} {of} "
        f"({level} CI {_number(r.ci_low, places)}–{_number(r.ci_high, places)})"
    )


def describe_share(s: Share) -> str:
    """Describe a :class:`~beatbook.stats.rates.Share` with its base.

    Examples
    --------
    >>> from beatbook.stats.rates import share
    >>> describe_share(share(1577, 41500))
    '3.8% (1,577 of 41,500)'
    """
    return f"{_number(s.share * 100)}% ({s.part:,} of {s.base:,})"


def describe_rank(rank: int, low: int, high: int, n: int, peers: str) -> str:
    """Describe a rank among named peers with its plausible range.

    Parameters
    ----------
    rank : int
        Rank by rate, 1 = highest.
    low, high : int
        Plausible range of the rank (e.g. ``rank_low``/``rank_high`` from
        :func:`beatbook.stats.rank.rank_rates`).
    n : int
        Number of peers, including this area.
    peers : str
        What the peers are, in the plural, e.g. ``"local authorities in
        Leicestershire"``.

    Examples
    --------
    >>> describe_rank(3, 2, 4, 9, "local authorities in Leicestershire")
    '3rd highest of 9 local authorities in Leicestershire (plausible range 2nd–4th)'
    >>> describe_rank(1, 1, 1, 9, "wards")
    'highest of 9 wards (plausible range 1st only)'
    """
    for name, value in (("rank", rank), ("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InputError(f"{name} must be a whole number, got {value!r}")
        if not 1 <= value <= n:
            raise InputError(f"{name} must be between 1 and n ({n}), got {value}")
    if low > high:
        raise InputError(f"the plausible range is reversed: low {low} > high {high}")
    position = "highest" if rank == 1 else f"{ordinal(rank)} highest"
    spread = f"{ordinal(low)} only" if low == high else f"{ordinal(low)}–{ordinal(high)}"
    return f"{position} of {n:,} {peers} (plausible range {spread})"


MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def describe_months(months: Sequence[dt.date]) -> str:
    """Name a set of months in runs: ``"Jan–Sep"``, ``"Jan, Apr–Dec"`` (one year), or with
    their years when they span several (``"Nov 2020–Feb 2021, Apr 2021"``).

    The label of a partial year in a title ("Crime in 2021 (9 months: Jan–Sep)").

    Examples
    --------
    >>> import datetime as dt
    >>> describe_months([dt.date(2021, m, 1) for m in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12)])
    'Jan, Apr–Dec'
    >>> describe_months([dt.date(2020, 11, 1), dt.date(2020, 12, 1), dt.date(2021, 1, 1)])
    'Nov 2020–Jan 2021'
    """
    index = sorted({m.year * 12 + m.month - 1 for m in months})
    if not index:
        raise InputError("describe_months needs at least one month")
    one_year = index[0] // 12 == index[-1] // 12

    def name(i: int) -> str:
        return MONTH_NAMES[i % 12] if one_year else f"{MONTH_NAMES[i % 12]} {i // 12}"

    runs: list[list[int]] = []
    for i in index:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(name(r[0]) if len(r) == 1 else f"{name(r[0])}–{name(r[-1])}" for r in runs)


def describe_trend(t: Trend, noun: str = "crimes") -> str:
    """Describe a :class:`~beatbook.stats.change.Trend` over the months fitted.

    Examples
    --------
    >>> from beatbook.stats.change import monthly_trend
    >>> describe_trend(monthly_trend([0] * 12))
    'no crimes in any of the 12 months: no trend to report'
    """
    months = f"{t.n_months:,} months"
    if t.method == NO_CRIMES_METHOD:
        return f"no {noun} in any of the {months}: no trend to report"
    if t.method == NOT_ESTIMABLE_METHOD or not math.isfinite(t.pct_per_year):
        return f"no trend can be estimated over {months}: all the {noun} fell in one end month"
    level = f"{(1 - t.alpha) * 100:g}% CI"
    upper = f"{t.ci_high:+,.1f}%" if math.isfinite(t.ci_high) else "no upper limit"
    interval = f"{level} {t.ci_low:+,.1f}% to {upper}"
    p_text = format_p(t.p_value, t.alpha)
    if t.significant:
        word = "rising" if t.direction == "rise" else "falling"
        return (
            f"{word} by {abs(t.pct_per_year):,.1f}% a year over {months} "
            f"({interval}), a significant {t.direction} ({p_text})"
        )
    return (
        f"no clear trend over {months} "
        f"(estimated {t.pct_per_year:+,.1f}% a year, {interval}; {p_text})"
    )
