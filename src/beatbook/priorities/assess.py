"""Did a priority work? A difference-in-differences on counts, before vs during.

The priority place's crimes of its problem are compared before and during the
priority with the same problem at comparison places (the rest of the ward, not
priorities themselves) over the same months. With Poisson counts and equal
months for both groups the estimate is the ratio of rate ratios

    RRR = (T_during / T_before) / (C_during / C_before)

whose log has standard error sqrt(1/T_b + 1/T_d + 1/C_b + 1/C_d) (Wald; the
saturated Poisson log-linear model with a group x period interaction gives the
same). A zero count makes the ratio undefined, so then 0.5 is added to all four
counts (Haldane-Anscombe). RRR < 1 means the problem fell more (or rose less) at
the priority place than comparison places would predict. Counts are treated as
Poisson, so extra-Poisson variation makes the interval too narrow: read a
borderline result as "no clear difference".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats

from beatbook.errors import InputError
from beatbook.stats._common import dataclass_to_dict


@dataclass(frozen=True)
class Assessment:
    """The four counts, the estimate with its interval, and the verdict in words."""

    treated_before: int
    treated_during: int
    comparison_before: int
    comparison_during: int
    months_before: int
    months_during: int
    ratio: float  # ratio of rate ratios; < 1: fell more than comparison places
    ci_low: float
    ci_high: float
    p_value: float
    expected_during: float  # priority-place crimes a month had it followed the comparison places
    difference_per_month: float  # observed minus expected, crimes a month
    corrected: bool  # 0.5 added to every count because one was zero
    verdict: str  # 'fell more' | 'rose more' | 'no clear difference' | 'not assessable'
    wording: str

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_dict(self)


def difference_in_differences(
    treated_before: int,
    treated_during: int,
    comparison_before: int,
    comparison_during: int,
    months_before: int,
    months_during: int,
    alpha: float = 0.05,
) -> Assessment:
    """Compare the change at the priority place with the change at comparison places.

    Examples
    --------
    >>> a = difference_in_differences(30, 10, 100, 100, 6, 6)
    >>> a.verdict, round(a.ratio, 2)
    ('fell more', 0.33)
    """
    counts = (treated_before, treated_during, comparison_before, comparison_during)
    if any(c < 0 for c in counts) or months_before < 1 or months_during < 1:
        raise InputError("assessment needs counts >= 0 and at least one month before and during")
    per_before, per_during = treated_before / months_before, treated_during / months_during
    if comparison_before + comparison_during == 0 or treated_before + treated_during == 0:
        return _not_assessable(
            counts,
            months_before,
            months_during,
            "no crimes of this problem at the place or at comparison places",
        )
    corrected = 0 in counts
    tb, td, cb, cd = (c + 0.5 if corrected else float(c) for c in counts)
    log_ratio = math.log(td / tb) - math.log(cd / cb)
    se = math.sqrt(1 / tb + 1 / td + 1 / cb + 1 / cd)
    z = stats.norm.ppf(1 - alpha / 2)
    ratio, low, high = (
        math.exp(log_ratio),
        math.exp(log_ratio - z * se),
        math.exp(log_ratio + z * se),
    )
    p = float(2 * stats.norm.sf(abs(log_ratio) / se))
    trend = (cd / months_during) / (cb / months_before)
    expected = per_before * trend
    verdict = "fell more" if high < 1 else "rose more" if low > 1 else "no clear difference"
    text = {
        "fell more": "fell more than at comparison places",
        "rose more": "rose more than at comparison places",
        "no clear difference": "no clear difference from comparison places",
    }[verdict]
    wording = (
        f"{text}: {per_before:.1f} a month before, {per_during:.1f} during, against "
        f"{expected:.1f} expected from the comparison places (ratio {ratio:.2f}, "
        f"{100 * (1 - alpha):g}% CI {low:.2f}-{high:.2f})"
    )
    return Assessment(
        *counts,
        months_before,
        months_during,
        ratio,
        low,
        high,
        p,
        expected,
        per_during - expected,
        corrected,
        verdict,
        wording,
    )


def _not_assessable(
    counts: tuple[int, int, int, int], months_before: int, months_during: int, why: str
) -> Assessment:
    nan = math.nan
    return Assessment(
        *counts,
        months_before,
        months_during,
        nan,
        nan,
        nan,
        nan,
        nan,
        nan,
        False,
        "not assessable",
        f"not assessable: {why}",
    )
