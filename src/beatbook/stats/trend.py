"""Log-linear trend in monthly crime counts, robust to overdispersion.

Re-exported by :mod:`beatbook.stats.change`. A trend is called a rise or a
fall only when its test is significant (DESIGN.md, "Statistics that must be
right").

:func:`monthly_trend` fits the slope alone. Within one year that slope is mostly the
seasons (and one-off shocks such as the 2020 lockdowns), not a trend: a yearly growth rate
from 12 months is meaningless. :func:`seasonal_trend` fits the slope with month-of-year
effects and needs at least :data:`MIN_SEASONAL_MONTHS` months; publications use it.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from beatbook.errors import InputError
from beatbook.settings import MIN_TREND_MONTHS
from beatbook.stats._common import (
    Direction,
    check_count,
    check_probability,
    dataclass_to_dict,
    direction_of,
)

__all__ = [
    "MIN_MONTHS",
    "MIN_SEASONAL_MONTHS",
    "NOT_ESTIMABLE_METHOD",
    "NO_CRIMES_METHOD",
    "SEASONAL_TREND_METHOD",
    "Trend",
    "monthly_trend",
    "seasonal_trend",
]

TREND_METHOD = (
    "log-linear quasi-Poisson GLM (Pearson chi2/df dispersion, floored at 1; "
    "Wald t-test on the monthly slope)"
)
NO_CRIMES_METHOD = "no crimes in any month: no trend to estimate"
NOT_ESTIMABLE_METHOD = "not estimable: every crime fell in the first or last month"
MIN_MONTHS = MIN_TREND_MONTHS
SEASONAL_TREND_METHOD = (
    "log-linear quasi-Poisson GLM with month-of-year effects (Pearson chi2/df dispersion, "
    "floored at 1; Wald t-test on the monthly slope)"
)
# Two full years: fewer, and the slope cannot be told apart from the month effects well
# enough to call it a trend (12 months cannot separate them at all).
MIN_SEASONAL_MONTHS = 24


@dataclass(frozen=True)
class Trend:
    """Log-linear trend in monthly counts.

    Attributes
    ----------
    n_months : int
        Number of months with data (gaps are not counted).
    pct_per_year : float
        ``(exp(12 * beta) - 1) * 100`` where ``beta`` is the slope per month
        on the log scale; ``nan`` when the trend cannot be estimated.
    ci_low, ci_high : float
        ``1 - alpha`` interval for ``pct_per_year`` (``nan`` when there is
        nothing to estimate).
    p_value : float
        Two-sided p-value for ``beta = 0``.
    method : str
        How the trend was estimated.
    dispersion : float
        Dispersion used for inference (Pearson chi2 / df, floored at 1; ``nan``
        when not estimated).
    alpha : float
        Significance level.
    significant : bool
        ``p_value < alpha``.
    direction : {"rise", "fall", "no clear change"}
        ``"rise"`` or ``"fall"`` only when ``significant``.
    """

    n_months: int
    pct_per_year: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    dispersion: float
    alpha: float
    significant: bool
    direction: Direction

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-safe Python values; ``inf``/``nan`` become ``None``."""
        return dataclass_to_dict(self)


def _months(
    counts: Sequence[int], month_index: Sequence[int] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    y = np.array([check_count(c, f"counts[{i}]") for i, c in enumerate(counts)], dtype=float)
    if month_index is None:
        t = np.arange(len(y), dtype=float)
    else:
        if len(month_index) != len(y):
            raise InputError(
                f"month_index has {len(month_index)} entries but counts has {len(y)}; "
                "give one month number per count"
            )
        months = []
        for i, m in enumerate(month_index):
            if isinstance(m, bool) or not isinstance(m, int | np.integer):
                raise InputError(f"month_index[{i}] must be a whole month number, got {m!r}")
            months.append(int(m))
        if len(set(months)) != len(months):
            raise InputError("month_index has repeated months; each month may appear once")
        t = np.array(months, dtype=float)
    if len(y) < MIN_MONTHS:
        raise InputError(f"a monthly trend needs at least {MIN_MONTHS} months, got {len(y)}")
    return y, t


def monthly_trend(
    counts: Sequence[int],
    month_index: Sequence[int] | None = None,
    alpha: float = 0.05,
) -> Trend:
    """Log-linear trend of monthly counts, robust to overdispersion.

    Parameters
    ----------
    counts : sequence of int
        Count for each month with data, ``>= 0``.
    month_index : sequence of int, optional
        Month number of each count (e.g. months since January 2019). Gaps are
        allowed: a month that is absent is missing, not zero. Defaults to
        ``0, 1, ..., len(counts) - 1``.
    alpha : float, default 0.05
        Significance level; the interval is at level ``1 - alpha``.

    Returns
    -------
    Trend

    Raises
    ------
    InputError
        With fewer than 6 months, negative counts, repeated months, or a
        ``month_index`` of the wrong length.

    Notes
    -----
    The model is ``log E[y_t] = a + beta * t`` (a Poisson GLM with log link,
    fitted by ``statsmodels`` ``GLM``). Monthly crime counts are usually
    *overdispersed* (more variable than Poisson, because of seasonality and
    clustered incidents), and a plain Poisson fit then understates standard
    errors and reports spurious trends. We therefore use quasi-Poisson
    inference: standard errors are multiplied by ``sqrt(phi)`` with
    ``phi = max(1, X2 / (n - 2))``, the Pearson chi-square over its
    residual degrees of freedom (McCullagh, P. and Nelder, J. A. (1989).
    *Generalized Linear Models*, 2nd ed., Chapman & Hall; Wedderburn,
    R. W. M. (1974). *Biometrika* 61(3), 439-447). The floor at 1 stops a
    short, underdispersed series from claiming more precision than Poisson
    variation allows. Because ``phi`` is estimated, the slope is tested with
    a t distribution on ``n - 2`` degrees of freedom, as R's ``summary.glm``
    does for quasi families. ``pct_per_year = (exp(12 beta) - 1) * 100`` and
    its interval is the same transform of the interval for ``beta``.

    If every month is 0 there is no trend: ``pct_per_year = 0``, ``p = 1``.
    If every crime fell in the first (or last) month the maximum-likelihood
    slope is infinite; the trend is then reported as not estimable
    (``nan``, ``p = 1``, "no clear change") rather than guessed.

    Examples
    --------
    >>> t = monthly_trend([10, 12, 9, 11, 10, 12, 11, 9])
    >>> t.direction
    'no clear change'
    """
    y, t = _months(counts, month_index)
    level = check_probability(alpha, "alpha")
    n = len(y)
    positive = t[y > 0]
    if positive.size == 0:
        return _flat(n, 0.0, NO_CRIMES_METHOD, level)
    if positive.min() == positive.max() and positive[0] in (t.min(), t.max()):
        return _flat(n, math.nan, NOT_ESTIMABLE_METHOD, level)
    exog = np.column_stack([np.ones(n), t - t.mean()])
    return _fit(y, exog, n, level, TREND_METHOD)


def _flat(n: int, pct: float, method: str, level: float) -> Trend:
    """A trend with nothing to estimate: no crimes, or a slope that is not estimable."""
    return Trend(
        n_months=n,
        pct_per_year=pct,
        ci_low=math.nan,
        ci_high=math.nan,
        p_value=1.0,
        method=method,
        dispersion=math.nan,
        alpha=level,
        significant=False,
        direction="no clear change",
    )


def _pct(slope: float) -> float:
    """Yearly percentage of a monthly log slope (exp overflows above ~709: unbounded)."""
    return math.expm1(12.0 * slope) * 100.0 if 12.0 * slope < 700 else math.inf


def _fit(
    y: NDArray[np.float64], exog: NDArray[np.float64], n: int, level: float, method: str
) -> Trend:
    """Quasi-Poisson fit whose last column is the centred month number: the slope's test."""
    # statsmodels (with pandas) takes about 1 s to import: imported where it is used
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    with warnings.catch_warnings():
        # statsmodels warns "perfect separation or prediction" whenever fitted values equal
        # the counts (e.g. a constant series); the real non-existence cases (the slope's MLE
        # infinite) are handled by the callers, and IRLS convergence is checked below.
        warnings.simplefilter("ignore")
        poisson = GLM(y, exog, family=families.Poisson()).fit()
        dispersion = max(1.0, float(poisson.pearson_chi2) / float(poisson.df_resid))
        fit = GLM(y, exog, family=families.Poisson()).fit(scale=dispersion, use_t=True)
    if not (poisson.converged and fit.converged):  # pragma: no cover - not seen in practice
        raise InputError("the monthly trend model did not converge for these counts")
    beta = float(fit.params[-1])
    p_value = float(fit.pvalues[-1])
    beta_low, beta_high = (float(b) for b in fit.conf_int(alpha=level)[-1])
    significant = bool(p_value < level)
    return Trend(
        n_months=n,
        pct_per_year=_pct(beta),
        ci_low=_pct(beta_low),
        ci_high=_pct(beta_high),
        p_value=p_value,
        method=method,
        dispersion=dispersion,
        alpha=level,
        significant=significant,
        direction=direction_of(significant, math.exp(beta)),
    )


def seasonal_trend(counts: Sequence[int], months: Sequence[dt.date], alpha: float = 0.05) -> Trend:
    """Log-linear trend of monthly counts with month-of-year effects, robust to overdispersion.

    The trend a publication may print: the seasons (and the shocks that recur in the same
    calendar month) are taken by the month effects, so only change between the same months
    of different years makes the slope. With two years of matched months the yearly rate is
    exactly the ratio of the two years' totals (the same-months change, put per year).

    Parameters
    ----------
    counts : sequence of int
        Count for each month with data, ``>= 0``.
    months : sequence of datetime.date
        The month (first day) of each count; gaps are missing months, not zeros.
    alpha : float, default 0.05
        Significance level; the interval is at level ``1 - alpha``.

    Raises
    ------
    InputError
        With fewer than :data:`MIN_SEASONAL_MONTHS` months, repeated months, negative
        counts, or ``months`` of the wrong length.

    Notes
    -----
    ``log E[y_t] = a_{month of year(t)} + beta * t``, a Poisson GLM with quasi-Poisson
    inference as in :func:`monthly_trend` (dispersion = Pearson chi2 / residual df, floored
    at 1; t-test on the residual df). Calendar months with no crimes in any year are left
    out (with a free month effect they say nothing about the slope). When every calendar
    month's crimes all fall in its latest (or all in its earliest) year, the slope's MLE is
    infinite and the trend is reported not estimable.

    Examples
    --------
    >>> import datetime as dt
    >>> months = [dt.date(2020 + i // 12, i % 12 + 1, 1) for i in range(24)]
    >>> t = seasonal_trend([100] * 12 + [110] * 12, months)
    >>> round(t.pct_per_year, 6)
    10.0
    """
    if len(months) != len(counts):
        raise InputError(
            f"months has {len(months)} entries but counts has {len(counts)}; "
            "give one month per count"
        )
    index = []
    for i, m in enumerate(months):
        if not isinstance(m, dt.date):
            raise InputError(f"months[{i}] must be a date, got {m!r}")
        index.append(m.year * 12 + m.month - 1)
    if len(set(index)) != len(index):
        raise InputError("months has repeated months; each month may appear once")
    if len(index) < MIN_SEASONAL_MONTHS:
        raise InputError(
            f"a trend with month-of-year effects needs at least {MIN_SEASONAL_MONTHS} months, "
            f"got {len(index)}"
        )
    y = np.array([check_count(c, f"counts[{i}]") for i, c in enumerate(counts)], dtype=float)
    t = np.array(index, dtype=float)
    calendar = np.array([i % 12 for i in index])
    level = check_probability(alpha, "alpha")
    n = len(y)
    if not (y > 0).any():
        return _flat(n, 0.0, NO_CRIMES_METHOD, level)
    used = np.isin(calendar, np.unique(calendar[y > 0]))
    y, t, calendar = y[used], t[used], calendar[used]
    # The slope's MLE is infinite when, in every calendar month seen in two years or more,
    # the crimes all fall in its latest year (or all in its earliest).
    repeated = [c for c in np.unique(calendar) if (calendar == c).sum() > 1]
    if not repeated:
        return _flat(n, math.nan, NOT_ESTIMABLE_METHOD, level)
    for end in (np.max, np.min):
        if all(set(t[(calendar == c) & (y > 0)]) == {end(t[calendar == c])} for c in repeated):
            return _flat(n, math.nan, NOT_ESTIMABLE_METHOD, level)
    levels = np.unique(calendar)
    dummies = [(calendar == c).astype(float) for c in levels[1:]]
    exog = np.column_stack([np.ones(len(y)), *dummies, t - t.mean()])
    if len(y) - exog.shape[1] < 1:  # pragma: no cover - 24 distinct months leave 11 df
        return _flat(n, math.nan, NOT_ESTIMABLE_METHOD, level)
    return _fit(y, exog, n, level, SEASONAL_TREND_METHOD)
