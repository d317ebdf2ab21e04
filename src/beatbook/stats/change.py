"""Is crime rising or falling? Two-period comparisons and monthly trends.

A rise or fall is only ever reported as such when a test says so; otherwise
the direction is ``"no clear change"`` (DESIGN.md, "Statistics that must be
right").

* :func:`compare_counts` compares two Poisson counts with their exposures
  (months, or residents) by the exact conditional binomial test.
* :func:`monthly_trend` fits a log-linear (quasi-)Poisson trend to monthly
  counts (defined in :mod:`beatbook.stats.trend`, re-exported here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from beatbook.stats._common import (
    Direction,
    check_count,
    check_positive,
    check_probability,
    dataclass_to_dict,
    direction_of,
)
from beatbook.stats.trend import Trend, monthly_trend

__all__ = ["EXACT_TEST", "Change", "Direction", "Trend", "compare_counts", "monthly_trend"]

EXACT_TEST = "exact conditional binomial test (two-sided)"


@dataclass(frozen=True)
class Change:
    """Comparison of a count "before" with a count "after".

    Attributes
    ----------
    count_before, count_after : int
        The two counts.
    exposure_before, exposure_after : float
        What each count accrued over: months, residents, or both multiplied.
    rate_ratio : float
        ``(count_after / exposure_after) / (count_before / exposure_before)``;
        ``inf`` when only ``count_before`` is 0, ``nan`` when both are 0.
    ci_low, ci_high : float
        Exact interval for the rate ratio (``ci_high`` may be ``inf``).
    pct_change : float
        ``(rate_ratio - 1) * 100``: the change in the *rate*, which is the
        change in the count when the exposures are equal.
    p_value : float
        Two-sided p-value of the exact conditional binomial test.
    test : str
        Name of the test.
    alpha : float
        Significance level used.
    significant : bool
        ``p_value < alpha``.
    direction : {"rise", "fall", "no clear change"}
        ``"rise"`` or ``"fall"`` only when ``significant``.
    dispersion : float
        Dispersion used for inference: 1 for the exact Poisson test (Poisson
        assumed, or the monthly counts showed none), else the quasi-Poisson
        estimate (> 1) from the monthly counts; see
        :func:`beatbook.stats.overdispersed.compare_monthly_counts`.
    """

    count_before: int
    count_after: int
    exposure_before: float
    exposure_after: float
    rate_ratio: float
    ci_low: float
    ci_high: float
    pct_change: float
    p_value: float
    test: str
    alpha: float
    significant: bool
    direction: Direction
    dispersion: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-safe Python values; ``inf``/``nan`` become ``None``."""
        return dataclass_to_dict(self)


def compare_counts(
    count_before: int,
    count_after: int,
    exposure_before: float = 1.0,
    exposure_after: float = 1.0,
    alpha: float = 0.05,
) -> Change:
    """Test whether the rate changed between two periods (or differs between two areas).

    Parameters
    ----------
    count_before, count_after : int
        Counts, ``>= 0``.
    exposure_before, exposure_after : float, default 1.0
        Positive exposures: e.g. 12 and 9 to compare 12 months with 9 months,
        or two populations to compare two areas. Only their ratio matters.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    Change

    Raises
    ------
    InputError
        On negative counts, non-positive exposures or ``alpha`` outside (0, 1).

    Notes
    -----
    Conditional on the total ``n = count_before + count_after``, and under
    the null hypothesis of equal rates, ``count_after ~ Binomial(n, p0)`` with
    ``p0 = exposure_after / (exposure_before + exposure_after)``
    (Przyborowski, J. and Wilenski, H. (1940). "Homogeneity of results in
    testing samples from Poisson series". *Biometrika* 31, 313-323; Gu, K.,
    Ng, H. K. T., Tang, M. L. and Schucany, W. R. (2008). "Testing the ratio
    of two Poisson rates". *Biometrical Journal* 50(2), 283-298). The
    p-value is ``scipy.stats.binomtest(count_after, n, p0)`` (two-sided,
    summing outcomes no more likely than the one observed).

    The rate-ratio interval transforms the Clopper-Pearson interval
    ``(pl, ph)`` for ``p = count_after / n`` by
    ``RR = p / (1 - p) * exposure_before / exposure_after``, which is
    monotone in ``p`` (the standard conditional interval; e.g. Breslow, N. E.
    and Day, N. E. (1987). *Statistical Methods in Cancer Research, Vol. II*,
    IARC Scientific Publications No. 82). The
    interval and the test are both exact but not inverses of each other, so
    at the margin the interval can exclude 1 while ``p`` is just above
    ``alpha``; the verdict always follows the p-value.

    When both counts are 0 there is no information: ``p_value = 1``,
    ``rate_ratio = nan`` and the interval is ``(0, inf)``.

    Examples
    --------
    >>> c = compare_counts(100, 150)
    >>> c.direction, round(c.pct_change, 1), round(c.p_value, 4)
    ('rise', 50.0, 0.0019)
    """
    before = check_count(count_before, "count_before")
    after = check_count(count_after, "count_after")
    exp_before = check_positive(exposure_before, "exposure_before")
    exp_after = check_positive(exposure_after, "exposure_after")
    level = check_probability(alpha, "alpha")

    total = before + after
    if total == 0:
        ratio, ci_low, ci_high, p_value = math.nan, 0.0, math.inf, 1.0
    else:
        from scipy import stats  # about 1 s to import: imported where it is used

        ratio = math.inf if before == 0 else (after / exp_after) / (before / exp_before)
        p0 = exp_after / (exp_before + exp_after)
        result = stats.binomtest(after, total, p0, alternative="two-sided")
        p_value = min(1.0, float(result.pvalue))
        interval = result.proportion_ci(confidence_level=1 - level, method="exact")
        ci_low = _odds_to_ratio(float(interval.low), exp_before / exp_after)
        ci_high = _odds_to_ratio(float(interval.high), exp_before / exp_after)

    significant = bool(p_value < level)
    return Change(
        count_before=before,
        count_after=after,
        exposure_before=exp_before,
        exposure_after=exp_after,
        rate_ratio=ratio,
        ci_low=ci_low,
        ci_high=ci_high,
        pct_change=(ratio - 1.0) * 100.0,
        p_value=p_value,
        test=EXACT_TEST,
        alpha=level,
        significant=significant,
        direction=direction_of(significant, ratio),
    )


def _odds_to_ratio(p: float, exposure_ratio: float) -> float:
    """Map a binomial proportion to a rate ratio: ``p / (1 - p) * exposure_ratio``."""
    if p >= 1.0:
        return math.inf
    return p / (1.0 - p) * exposure_ratio
