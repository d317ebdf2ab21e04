"""Log-linear trend in monthly crime counts, robust to overdispersion.

Re-exported by :mod:`beatbook.stats.change`. A trend is called a rise or a
fall only when its test is significant (DESIGN.md, "Statistics that must be
right").
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from beatbook.errors import InputError
from beatbook.settings import MIN_TREND_MONTHS
from beatbook.stats._common import (
    Direction,
    check_count,
    check_probability,
    dataclass_to_dict,
    direction_of,
)

__all__ = ["MIN_MONTHS", "NOT_ESTIMABLE_METHOD", "NO_CRIMES_METHOD", "Trend", "monthly_trend"]

TREND_METHOD = (
    "log-linear quasi-Poisson GLM (Pearson chi2/df dispersion, floored at 1; "
    "Wald t-test on the monthly slope)"
)
NO_CRIMES_METHOD = "no crimes in any month: no trend to estimate"
NOT_ESTIMABLE_METHOD = "not estimable: every crime fell in the first or last month"
MIN_MONTHS = MIN_TREND_MONTHS


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

    def flat(pct: float, method: str) -> Trend:
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

    positive = t[y > 0]
    if positive.size == 0:
        return flat(0.0, NO_CRIMES_METHOD)
    if positive.min() == positive.max() and positive[0] in (t.min(), t.max()):
        return flat(math.nan, NOT_ESTIMABLE_METHOD)

    exog = np.column_stack([np.ones(n), t - t.mean()])
    with warnings.catch_warnings():
        # statsmodels warns "perfect separation or prediction" whenever fitted values equal
        # the counts (e.g. a constant series); the one real non-existence case (all crimes in
        # an end month) is handled above, and IRLS convergence is checked below.
        warnings.simplefilter("ignore")
        poisson = GLM(y, exog, family=families.Poisson()).fit()
        dispersion = max(1.0, float(poisson.pearson_chi2) / float(poisson.df_resid))
        fit = GLM(y, exog, family=families.Poisson()).fit(scale=dispersion, use_t=True)
    if not (poisson.converged and fit.converged):  # pragma: no cover - not seen in practice
        raise InputError("the monthly trend model did not converge for these counts")
    beta = float(fit.params[1])
    p_value = float(fit.pvalues[1])
    beta_low, beta_high = (float(b) for b in fit.conf_int(alpha=level)[1])

    def pct(slope: float) -> float:
        # exp overflows above ~709: a slope that steep is an unbounded percentage.
        return math.expm1(12.0 * slope) * 100.0 if 12.0 * slope < 700 else math.inf

    significant = bool(p_value < level)
    return Trend(
        n_months=n,
        pct_per_year=pct(beta),
        ci_low=pct(beta_low),
        ci_high=pct(beta_high),
        p_value=p_value,
        method=TREND_METHOD,
        dispersion=dispersion,
        alpha=level,
        significant=significant,
        direction=direction_of(significant, math.exp(beta)),
    )
