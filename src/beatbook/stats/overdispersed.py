"""Changes that allow for over-dispersion estimated from the monthly counts.

The exact test of :func:`beatbook.stats.change.compare_counts` treats a year's
total as one Poisson count. Real monthly crime counts vary 6 to 90 times more
than Poisson allows (the trend fit in :mod:`beatbook.stats.trend` measures
it), so that test calls ordinary month-to-month swings "significant".
:func:`compare_monthly_counts` takes the monthly counts of the two periods
instead, estimates the over-dispersion from them with a quasi-Poisson GLM
(month-of-year and period effects where the design allows), and tests the
change in the rate with it. It keeps the exact Poisson test only where that
is justified (the months show no over-dispersion) or where nothing better
can be done (too few months, one period with no crimes), and says which in
``Change.test``.

The helpers :func:`calendar_design` and :func:`pearson_dispersion` are shared
with :mod:`beatbook.stats.shares` and :mod:`beatbook.stats.rank`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from beatbook.errors import InputError
from beatbook.settings import MIN_DISPERSION_DF
from beatbook.stats._common import check_count, check_positive, check_probability, direction_of
from beatbook.stats.change import EXACT_TEST, Change, compare_counts

__all__ = [
    "MIN_DISPERSION_DF",
    "QUASI_TEST_MONTHS",
    "QUASI_TEST_PERIOD",
    "calendar_design",
    "compare_monthly_counts",
    "pearson_dispersion",
]

QUASI_TEST_MONTHS = (
    "quasi-Poisson GLM on the monthly counts with month-of-year and period effects "
    "(dispersion = Pearson chi2/df, floored at 1; Wald t-test; p never below the exact "
    "Poisson test's)"
)
QUASI_TEST_PERIOD = (
    "quasi-Poisson GLM on the monthly counts with a period effect only, as the periods' "
    "calendar months differ (dispersion = Pearson chi2/df, floored at 1; Wald t-test; p never "
    "below the exact Poisson test's)"
)
FEW_MONTHS = (
    f"{EXACT_TEST}: too few months to estimate the over-dispersion (fewer than "
    f"{MIN_DISPERSION_DF} residual degrees of freedom), so Poisson variation is assumed"
)
NOT_OVERDISPERSED = (
    f"{EXACT_TEST}: the monthly counts show no over-dispersion (Pearson chi2/df at most 1)"
)
ONE_PERIOD_EMPTY = (
    f"{EXACT_TEST}: one period has no crimes, so over-dispersion cannot be allowed for "
    "and Poisson variation is assumed"
)
NONE_AT_ALL = f"{EXACT_TEST}: no crimes in either period"


def calendar_design(
    months_before: Sequence[dt.date], months_after: Sequence[dt.date]
) -> tuple[bool, int]:
    """Whether month-of-year effects can be fitted, and the residual degrees of freedom.

    Month-of-year effects are fitted when both periods hold the same calendar months
    equally often (a year against the same months of another year, with the same gaps;
    or two areas over the same months): then each month's effect is identified and the
    period effect compares like with like. Otherwise only a period effect is fitted and
    seasonality counts as noise (conservative).

    Returns
    -------
    tuple of (bool, int)
        ``(paired, df)``: ``paired`` is true when month effects are fitted; ``df`` is the
        number of months minus the parameters (``K + 1`` when paired with ``K`` distinct
        calendar months, else 2).
    """
    before = Counter(m.month for m in months_before)
    after = Counter(m.month for m in months_after)
    n = len(months_before) + len(months_after)
    if before == after:
        return True, n - (len(before) + 1)
    return False, n - 2


def pearson_dispersion(
    observed: NDArray[np.float64], fitted: NDArray[np.float64], df: int
) -> float:
    """Pearson chi2 / df of Poisson counts against their fitted means, *not* floored.

    Cells with a fitted mean of 0 (whose count must then be 0) add nothing.
    Returns ``nan`` when ``df < 1``.
    """
    if df < 1:
        return math.nan
    keep = fitted > 0
    residual = observed[keep] - fitted[keep]
    return float(np.sum(residual * residual / fitted[keep])) / df


def _counts(series: Mapping[dt.date, int], name: str) -> tuple[list[dt.date], NDArray[np.float64]]:
    if not isinstance(series, Mapping):
        raise InputError(f"{name} must map each month with data to its count")
    if len(series) == 0:
        raise InputError(f"{name} needs at least one month with data")
    months = sorted(series)
    for m in months:
        if not isinstance(m, dt.date):
            raise InputError(f"{name}: months must be dates, got {m!r}")
    values = [check_count(series[m], f"{name}[{m:%Y-%m}]") for m in months]
    return months, np.array(values, dtype=float)


def compare_monthly_counts(
    before: Mapping[dt.date, int],
    after: Mapping[dt.date, int],
    *,
    exposure_before: float | None = None,
    exposure_after: float | None = None,
    alpha: float = 0.05,
) -> Change:
    """Test whether the rate changed, allowing for over-dispersion in the monthly counts.

    Parameters
    ----------
    before, after : mapping of datetime.date to int
        The count of every month *with data* in each period (0 where a stored month had
        no crimes; months without data are left out: gaps, not zeros). For a year against
        the same months of another year, both periods hold the same calendar months. Two
        areas over the same months are compared the same way (``before`` = area B).
    exposure_before, exposure_after : float, optional
        What each period's *total* accrued over, as in
        :func:`~beatbook.stats.change.compare_counts` (e.g. months x residents); spread
        evenly over its months. Default: the number of months, so monthly rates are
        compared. Only their ratio matters.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    Change
        Totals, rate ratio, interval, p-value, verdict; ``test`` says which test was used
        and why, ``dispersion`` the dispersion used (1 for the exact test).

    Raises
    ------
    InputError
        On an empty period, months that are not dates, negative counts, non-positive
        exposures or ``alpha`` outside (0, 1).

    Notes
    -----
    The model is a Poisson GLM with log link, ``log E[y] = month-of-year + period +
    log(exposure per month)`` when both periods hold the same calendar months equally often,
    else ``period`` only (:func:`calendar_design`). Its maximum-likelihood fit is closed
    form: with month effects the fitted mean of a month is its calendar month's total over
    both periods, shared between the periods in proportion to their totals; without, each
    period's monthly mean. Either way the rate ratio is exactly that of the totals,
    ``(Y1 / E1) / (Y0 / E0)``, as in the exact test.

    The dispersion is ``phi = max(1, X2 / df)``: the Pearson chi-square of the monthly
    counts against the fit over its residual degrees of freedom (McCullagh and Nelder
    1989, section 4.5; Wedderburn 1974), floored at 1 so it never claims more precision
    than Poisson. The log rate ratio has standard error ``sqrt(phi (1/Y0 + 1/Y1))`` and is
    tested with a t distribution on ``df`` degrees of freedom, as R's ``summary.glm`` does
    for quasi families; its interval is the Wald t interval. The p-value is the larger of
    that and the exact conditional test's, and the interval spans both, so allowing for
    over-dispersion can only widen the uncertainty.

    The exact test (:func:`~beatbook.stats.change.compare_counts`) is used instead, and
    ``test`` says why, when ``df < MIN_DISPERSION_DF`` (too few months), when ``X2 / df
    <= 1`` (no over-dispersion to allow for: Poisson is justified), or when one period has
    no crimes (the quasi-Poisson estimate is unbounded).

    Examples
    --------
    The same +10% in both cases; month to month, the first year after moves with the year
    before (Poisson is enough), the second swings about it (over-dispersed):

    >>> import datetime as dt
    >>> months = [dt.date(2020, m, 1) for m in range(1, 13)]
    >>> last = dict(zip(months, [90, 110, 80, 130, 70, 120, 100, 95, 105, 85, 115, 100]))
    >>> year = [m.replace(year=2021) for m in months]
    >>> steady = dict(zip(year, [99, 121, 88, 143, 77, 132, 110, 105, 115, 94, 126, 110]))
    >>> swinging = dict(zip(year, [130, 90, 118, 100, 107, 102, 140, 75, 125, 94, 126, 113]))
    >>> c = compare_monthly_counts(last, steady)
    >>> c.direction, round(c.pct_change, 1), c.dispersion, round(c.p_value, 3)
    ('rise', 10.0, 1.0, 0.018)
    >>> c = compare_monthly_counts(last, swinging)
    >>> c.direction, round(c.pct_change, 1), round(c.dispersion, 2), round(c.p_value, 3)
    ('no clear change', 10.0, 3.32, 0.217)
    """
    months0, y0 = _counts(before, "before")
    months1, y1 = _counts(after, "after")
    n0, n1 = len(months0), len(months1)
    exp0 = (
        float(n0) if exposure_before is None else check_positive(exposure_before, "exposure_before")
    )
    exp1 = float(n1) if exposure_after is None else check_positive(exposure_after, "exposure_after")
    level = check_probability(alpha, "alpha")
    total0, total1 = int(y0.sum()), int(y1.sum())
    exact = compare_counts(total0, total1, exp0, exp1, level)

    def fallback(reason: str) -> Change:
        return dataclasses.replace(exact, test=reason, dispersion=1.0)

    if total0 + total1 == 0:
        return fallback(NONE_AT_ALL)
    paired, df = calendar_design(months0, months1)
    if df < MIN_DISPERSION_DF:
        return fallback(FEW_MONTHS)
    fitted0, fitted1 = _fitted(months0, y0, months1, y1, paired)
    raw = pearson_dispersion(np.concatenate([y0, y1]), np.concatenate([fitted0, fitted1]), df)
    if raw <= 1.0:
        return fallback(NOT_OVERDISPERSED)
    if total0 == 0 or total1 == 0:
        return fallback(ONE_PERIOD_EMPTY)

    from scipy import stats  # about 1 s to import: imported where it is used

    phi = raw
    log_ratio = math.log(exact.rate_ratio)
    se = math.sqrt(phi * (1.0 / total0 + 1.0 / total1))
    p_quasi = float(2.0 * stats.t.sf(abs(log_ratio) / se, df))
    quantile = float(stats.t.ppf(1.0 - level / 2.0, df))
    p_value = max(p_quasi, exact.p_value)
    significant = bool(p_value < level)
    return Change(
        count_before=total0,
        count_after=total1,
        exposure_before=exp0,
        exposure_after=exp1,
        rate_ratio=exact.rate_ratio,
        ci_low=min(math.exp(log_ratio - quantile * se), exact.ci_low),
        ci_high=max(math.exp(log_ratio + quantile * se), exact.ci_high),
        pct_change=exact.pct_change,
        p_value=p_value,
        test=QUASI_TEST_MONTHS if paired else QUASI_TEST_PERIOD,
        alpha=level,
        significant=significant,
        direction=direction_of(significant, exact.rate_ratio),
        dispersion=phi,
    )


def _fitted(
    months0: list[dt.date],
    y0: NDArray[np.float64],
    months1: list[dt.date],
    y1: NDArray[np.float64],
    paired: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Closed-form maximum-likelihood fitted means of the two periods' months.

    Paired (month-of-year + period): month ``m`` of period ``p`` gets
    ``S_m / k_m * Y_p / Y`` (``S_m`` the calendar month's total over both periods, ``k_m``
    how often it occurs in each, ``Y_p`` the period's total). Unpaired: ``Y_p / n_p``.
    """
    total0, total1 = float(y0.sum()), float(y1.sum())
    if not paired:
        return np.full(len(y0), total0 / len(y0)), np.full(len(y1), total1 / len(y1))
    grand = total0 + total1
    by_month: dict[int, float] = {}
    for month, y in [*zip(months0, y0, strict=True), *zip(months1, y1, strict=True)]:
        by_month[month.month] = by_month.get(month.month, 0.0) + float(y)
    times = Counter(m.month for m in months0)
    fitted0 = np.array([by_month[m.month] / times[m.month] * total0 / grand for m in months0])
    fitted1 = np.array([by_month[m.month] / times[m.month] * total1 / grand for m in months1])
    return fitted0, fitted1
