"""Did a crime type's share of crime change? A test that knows the type is part of the total.

A share is ``part / total`` and the part is inside the total, so the share of one
type can only rise if the rest falls behind it. :func:`compare_shares` therefore
compares the type's before/after split with the rest of crime's before/after split
(a 2 x 2 table: type and rest, before and after): the share is unchanged exactly
when the odds ``type / rest`` are, so the test is of the odds ratio
``(part_after / rest_after) / (part_before / rest_before) = 1``.

With the monthly counts it allows for over-dispersion the way
:func:`beatbook.stats.overdispersed.compare_monthly_counts` does for counts: a
quasi-binomial GLM of each month's split (month-of-year and period effects where
the design allows), dispersion from Pearson chi2/df floored at 1; else, or where
that is not justified, Fisher's exact test; ``test`` says which.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import special

from beatbook.errors import InputError
from beatbook.settings import MIN_DISPERSION_DF
from beatbook.stats._common import (
    Direction,
    check_count,
    check_probability,
    dataclass_to_dict,
    direction_of,
)
from beatbook.stats._frames import check_present, monthly_series, months_with_data, require_columns
from beatbook.stats.multiplicity import holm, holm_correction
from beatbook.stats.overdispersed import calendar_design

__all__ = [
    "FISHER_TEST",
    "ShareChange",
    "compare_shares",
    "conditional_odds_ratio",
    "share_changes_by_category",
]

FISHER_TEST = "Fisher's exact test of the type against the rest of crime (two-sided)"
QUASI_SHARE_MONTHS = (
    "quasi-binomial GLM on the monthly counts (the type against the rest of crime) with "
    "month-of-year and period effects (dispersion = Pearson chi2/df, floored at 1; Wald t-test; "
    "p never below Fisher's exact test's)"
)
QUASI_SHARE_PERIOD = (
    "quasi-binomial GLM on the monthly counts (the type against the rest of crime) with a "
    "period effect only, as the periods' calendar months differ (dispersion = Pearson chi2/df, "
    "floored at 1; Wald t-test; p never below Fisher's exact test's)"
)
SHARE_FEW_MONTHS = (
    f"{FISHER_TEST}: too few months to estimate the over-dispersion (fewer than "
    f"{MIN_DISPERSION_DF} residual degrees of freedom), so binomial variation is assumed"
)
SHARE_NOT_OVERDISPERSED = (
    f"{FISHER_TEST}: the monthly splits show no over-dispersion (Pearson chi2/df at most 1)"
)
SHARE_UNBOUNDED = (
    f"{FISHER_TEST}: the type or the rest has no crimes in one period, so over-dispersion "
    "cannot be allowed for and binomial variation is assumed"
)


@dataclass(frozen=True)
class ShareChange:
    """A crime type's share of crime before and after, and whether it changed.

    Attributes
    ----------
    part_before, base_before, part_after, base_after : int
        The type's count and the total it is part of, in each period.
    share_before, share_after : float
        ``part / base`` (``nan`` for an empty base).
    odds_ratio : float
        Estimated ``(part / rest)`` after over before: above 1 when the share rose. Exact
        test: the conditional maximum-likelihood estimate; quasi-binomial: the GLM's
        (month-adjusted) estimate.
    ci_low, ci_high : float
        ``1 - alpha`` interval for the odds ratio.
    p_value : float
        Two-sided p-value for an unchanged share.
    test : str
        The test used, and why.
    alpha : float
        Significance level.
    significant : bool
        ``p_value < alpha``.
    direction : {"rise", "fall", "no clear change"}
        ``"rise"``/``"fall"`` of the share only when ``significant``.
    dispersion : float
        Dispersion used: 1 for Fisher's exact test, else the quasi-binomial estimate.
    """

    part_before: int
    base_before: int
    part_after: int
    base_after: int
    share_before: float
    share_after: float
    odds_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    alpha: float
    significant: bool
    direction: Direction
    dispersion: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-safe Python values; ``inf``/``nan`` become ``None``."""
        return dataclass_to_dict(self)


def _part_and_base(part: object, base: object, name: str) -> tuple[int, int]:
    p, b = check_count(part, f"part_{name}"), check_count(base, f"base_{name}")
    if p > b:
        raise InputError(f"part_{name} ({p}) is larger than base_{name} ({b})")
    return p, b


def conditional_odds_ratio(
    table: tuple[tuple[int, int], tuple[int, int]], conf: float = 0.95
) -> tuple[float, float, float]:
    """Conditional maximum-likelihood odds ratio of a 2 x 2 table and its exact interval.

    ``table = ((a, b), (c, d))``; the odds ratio is ``(a / b) / (c / d)``. Conditional on
    the margins, ``a`` follows Fisher's noncentral hypergeometric distribution; the
    estimate solves ``E[a] = a_observed`` and the interval inverts its two one-sided tails
    at ``(1 - conf) / 2`` each (Cornfield 1956; the method of R's ``fisher.test`` and
    ``scipy.stats.contingency.odds_ratio(kind="conditional")``). Computed in log space
    over the whole support, so large tables take milliseconds.

    Returns
    -------
    tuple of float
        ``(odds_ratio, low, high)``; ``(nan, 0, inf)`` when a margin is 0.

    Examples
    --------
    >>> tuple(round(x, 4) for x in conditional_odds_ratio(((7, 2), (3, 8))))
    (8.1538, 0.8821, 127.009)
    """
    (a, b), (c, d) = table
    rows, col = a + b, a + c
    other = c + d
    if rows == 0 or other == 0 or col == 0 or b + d == 0:
        return math.nan, 0.0, math.inf
    low_x, high_x = max(0, col - other), min(rows, col)
    support = np.arange(low_x, high_x + 1, dtype=float)
    log_base = (
        special.gammaln(rows + 1)
        - special.gammaln(support + 1)
        - special.gammaln(rows - support + 1)
        + special.gammaln(other + 1)
        - special.gammaln(col - support + 1)
        - special.gammaln(other - col + support + 1)
    )

    def log_weights(log_psi: float) -> NDArray[np.float64]:
        w = log_base + support * log_psi
        return np.asarray(w - special.logsumexp(w), dtype=np.float64)

    def mean(log_psi: float) -> float:
        return float(np.sum(np.exp(log_weights(log_psi)) * support))

    def upper_tail(log_psi: float) -> float:  # P(X >= a)
        return float(np.exp(special.logsumexp(log_weights(log_psi)[support >= a])))

    def lower_tail(log_psi: float) -> float:  # P(X <= a)
        return float(np.exp(special.logsumexp(log_weights(log_psi)[support <= a])))

    from scipy import optimize  # about 0.3 s to import: imported where it is used

    tail = (1.0 - check_probability(conf, "conf")) / 2.0
    bound = 50.0
    if a == low_x:
        estimate, low = 0.0, 0.0
    else:
        estimate = math.exp(optimize.brentq(lambda x: mean(x) - a, -bound, bound, xtol=1e-12))
        low = math.exp(optimize.brentq(lambda x: upper_tail(x) - tail, -bound, bound, xtol=1e-12))
    if a == high_x:
        estimate, high = (math.inf if a != low_x else math.nan), math.inf
    else:
        high = math.exp(optimize.brentq(lambda x: lower_tail(x) - tail, -bound, bound, xtol=1e-12))
    return estimate, low, high


def _monthly(
    series: Mapping[dt.date, tuple[int, int]], name: str, part: int, base: int
) -> tuple[list[dt.date], NDArray[np.float64], NDArray[np.float64]]:
    if not isinstance(series, Mapping) or len(series) == 0:
        raise InputError(f"monthly_{name} must map each month with data to (type count, total)")
    months, parts, bases = [], [], []
    for month in sorted(series):
        if not isinstance(month, dt.date):
            raise InputError(f"monthly_{name}: months must be dates, got {month!r}")
        value = series[month]
        if not isinstance(value, tuple) or len(value) != 2:
            raise InputError(f"monthly_{name}[{month:%Y-%m}] must be (type count, total)")
        p, b = _part_and_base(value[0], value[1], f"{name}[{month:%Y-%m}]")
        if b > 0:  # a month with no crimes at all says nothing about shares
            months.append(month)
            parts.append(p)
            bases.append(b)
    if (sum(parts), sum(bases)) != (part, base):
        raise InputError(
            f"monthly_{name} adds up to {sum(parts):,} of {sum(bases):,}, but the totals "
            f"given are {part:,} of {base:,}"
        )
    return months, np.array(parts, dtype=float), np.array(bases, dtype=float)


def compare_shares(
    part_before: int,
    base_before: int,
    part_after: int,
    base_after: int,
    *,
    monthly_before: Mapping[dt.date, tuple[int, int]] | None = None,
    monthly_after: Mapping[dt.date, tuple[int, int]] | None = None,
    alpha: float = 0.05,
) -> ShareChange:
    """Test whether a type's share of the total changed between two periods.

    Parameters
    ----------
    part_before, base_before, part_after, base_after : int
        The type's count and the total it is part of (``part <= base``) in each period.
    monthly_before, monthly_after : mapping of datetime.date to (int, int), optional
        ``(type count, total)`` of every month with data in each period; they must add up
        to the totals. Give both to allow for over-dispersion; without them, Fisher's
        exact test.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    ShareChange

    Raises
    ------
    InputError
        On negative counts, a part larger than its base, monthly counts that do not add up
        to the totals, only one monthly series, or ``alpha`` outside (0, 1).

    Notes
    -----
    Exact: Fisher's exact test of the table ``((part_after, rest_after), (part_before,
    rest_before))`` (``scipy.stats.fisher_exact``, two-sided), which under Poisson counts of
    the type and the rest is the conditional test of equal shares, with the conditional
    odds-ratio estimate and interval (:func:`conditional_odds_ratio`).

    Over-dispersed: a binomial GLM of each month's type count out of its total, logit link,
    ``month-of-year + period`` when both periods hold the same calendar months equally
    often, else ``period`` only; ``phi = max(1, X2 / df)`` from its Pearson chi-square, Wald
    t-test of the period effect on ``df`` degrees of freedom with standard error scaled by
    ``sqrt(phi)``. Its p-value is the larger of that and Fisher's, its interval spans both.
    Fisher's test is used instead, and ``test`` says why, with fewer than
    ``MIN_DISPERSION_DF`` residual degrees of freedom, when ``X2 / df <= 1``, or when the
    type or the rest has no crimes in a period.

    Examples
    --------
    >>> s = compare_shares(1577, 39238, 1833, 42953)
    >>> round(s.share_before * 100, 2), round(s.share_after * 100, 2), s.direction
    (4.02, 4.27, 'no clear change')
    """
    b_part, b_base = _part_and_base(part_before, base_before, "before")
    a_part, a_base = _part_and_base(part_after, base_after, "after")
    level = check_probability(alpha, "alpha")
    if (monthly_before is None) != (monthly_after is None):
        raise InputError("give both monthly_before and monthly_after, or neither")
    from scipy import stats  # about 1 s to import: imported where it is used

    table = ((a_part, a_base - a_part), (b_part, b_base - b_part))
    p_exact = float(stats.fisher_exact(table).pvalue)
    estimate, ci_low, ci_high = conditional_odds_ratio(table, 1.0 - level)

    def result(
        p: float, ratio: float, low: float, high: float, test: str, phi: float
    ) -> ShareChange:
        p = min(1.0, p)
        significant = bool(p < level)
        return ShareChange(
            part_before=b_part,
            base_before=b_base,
            part_after=a_part,
            base_after=a_base,
            share_before=b_part / b_base if b_base else math.nan,
            share_after=a_part / a_base if a_base else math.nan,
            odds_ratio=ratio,
            ci_low=low,
            ci_high=high,
            p_value=p,
            test=test,
            alpha=level,
            significant=significant,
            direction=direction_of(significant, ratio),
            dispersion=phi,
        )

    def exact(test: str) -> ShareChange:
        return result(p_exact, estimate, ci_low, ci_high, test, 1.0)

    if monthly_before is None or monthly_after is None:
        return exact(FISHER_TEST)
    months0, parts0, bases0 = _monthly(monthly_before, "before", b_part, b_base)
    months1, parts1, bases1 = _monthly(monthly_after, "after", a_part, a_base)
    if not months0 or not months1:
        return exact(SHARE_FEW_MONTHS)
    paired, df = calendar_design(months0, months1)
    if df < MIN_DISPERSION_DF:
        return exact(SHARE_FEW_MONTHS)
    if 0 in (b_part, a_part, b_base - b_part, a_base - a_part):
        return exact(SHARE_UNBOUNDED)
    fit = _fit(months0, parts0, bases0, months1, parts1, bases1, paired)
    raw = float(fit.pearson_chi2) / df
    if raw <= 1.0:
        return exact(SHARE_NOT_OVERDISPERSED)
    beta, se = float(fit.params[-1]), float(fit.bse[-1]) * math.sqrt(raw)
    p_quasi = float(2.0 * stats.t.sf(abs(beta) / se, df))
    quantile = float(stats.t.ppf(1.0 - level / 2.0, df))
    return result(
        max(p_quasi, p_exact),
        math.exp(beta),
        min(math.exp(beta - quantile * se), ci_low),
        max(math.exp(beta + quantile * se), ci_high),
        QUASI_SHARE_MONTHS if paired else QUASI_SHARE_PERIOD,
        raw,
    )


def _fit(
    months0: list[dt.date],
    parts0: NDArray[np.float64],
    bases0: NDArray[np.float64],
    months1: list[dt.date],
    parts1: NDArray[np.float64],
    bases1: NDArray[np.float64],
    paired: bool,
) -> Any:
    """The binomial GLM (scale 1) of the monthly splits; the period effect is the last column."""
    # statsmodels (with pandas) takes about 1 s to import: imported where it is used
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    parts = np.concatenate([parts0, parts1])
    bases = np.concatenate([bases0, bases1])
    after = np.concatenate([np.zeros(len(parts0)), np.ones(len(parts1))])
    if paired:
        calendar = sorted({m.month for m in months0})
        month_of = np.array([m.month for m in [*months0, *months1]])
        columns = [(month_of == c).astype(float) for c in calendar]
    else:
        columns = [np.ones(len(parts))]
    exog = np.column_stack([*columns, after])
    with warnings.catch_warnings():
        # A calendar month with none of the type in either period has an infinite effect;
        # statsmodels warns of "perfect separation" and its fitted share goes to 0, which
        # adds nothing to the Pearson chi-square: the period effect is still estimated.
        warnings.simplefilter("ignore")
        fit = GLM(np.column_stack([parts, bases - parts]), exog, family=families.Binomial()).fit()
    if not fit.converged:  # pragma: no cover - not seen in practice
        raise InputError("the share model did not converge for these monthly counts")
    return fit


_SHARE_SCHEMA: dict[str, type[pl.DataType]] = {
    "category": pl.String,
    "part_before": pl.Int64,
    "base_before": pl.Int64,
    "part_after": pl.Int64,
    "base_after": pl.Int64,
    "share_before": pl.Float64,
    "share_after": pl.Float64,
    "odds_ratio": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "p_adjusted": pl.Float64,
    "test": pl.String,
    "alpha": pl.Float64,
    "significant": pl.Boolean,
    "direction": pl.String,
    "dispersion": pl.Float64,
    "correction": pl.String,
}


def share_changes_by_category(
    frame: pl.DataFrame,
    alpha: float = 0.05,
    *,
    monthly: pl.DataFrame | None = None,
    months_before: Sequence[dt.date] | None = None,
    months_after: Sequence[dt.date] | None = None,
    family: str = "categories",
) -> pl.DataFrame:
    """Change in each category's share of the total, with Holm-adjusted significance.

    Parameters
    ----------
    frame : polars.DataFrame
        Columns ``category``, ``count_before``, ``count_after``: the categories that make up
        the total (e.g. the 13 crime types; anti-social behaviour left out), whose sums are
        each period's total.
    alpha : float, default 0.05
        Family-wise significance level across the categories.
    monthly, months_before, months_after : optional
        As in :func:`changes_by_category`: with them, each share's test allows for
        over-dispersion in the monthly splits (a month's total is the sum of its
        categories).
    family : str, default "categories"
        What the categories are, for the ``correction`` text.

    Returns
    -------
    polars.DataFrame
        One row per category (input order): every field of
        :class:`~beatbook.stats.shares.ShareChange` (``part_*`` the category, ``base_*``
        the total), ``p_adjusted`` (Holm), ``correction``; ``significant`` and
        ``direction`` are decided on ``p_adjusted``.

    Raises
    ------
    InputError
        On missing columns, repeated categories, negative or missing counts, monthly
        counts that do not add up, or ``alpha`` outside (0, 1).

    Notes
    -----
    Each share is tested against the rest of the total by
    :func:`~beatbook.stats.shares.compare_shares` (Fisher's exact test, or its
    quasi-binomial over-dispersed equivalent); the correction is Holm (1979), the same
    policy as for counts.
    """
    require_columns(frame, ["category", "count_before", "count_after"], "share_changes")
    level = check_probability(alpha, "alpha")
    records = frame.select("category", "count_before", "count_after").to_dicts()
    for r in records:
        check_present(r, ("count_before", "count_after"))
    base_before = sum(int(r["count_before"]) for r in records)
    base_after = sum(int(r["count_after"]) for r in records)
    categories = [str(r["category"]) for r in records]
    series = None
    bases: dict[str, dict[dt.date, int]] = {}
    if monthly is not None:
        before, after = (
            months_with_data(months_before, "months_before"),
            months_with_data(months_after, "months_after"),
        )
        if set(before) & set(after):
            raise InputError("months_before and months_after overlap: a month is in both periods")
        series = monthly_series(
            monthly,
            categories,
            {"before": ("count", before), "after": ("count", after)},
            "share_changes_by_category",
        )
        for period, months in (("before", before), ("after", after)):
            bases[period] = {m: sum(series[c][period][m] for c in categories) for m in months}
    results = []
    for r in records:
        category = str(r["category"])
        monthly_before = monthly_after = None
        if series is not None:
            own = series[category]
            monthly_before = {m: (n, bases["before"][m]) for m, n in own["before"].items()}
            monthly_after = {m: (n, bases["after"][m]) for m, n in own["after"].items()}
        results.append(
            compare_shares(
                int(r["count_before"]),
                base_before,
                int(r["count_after"]),
                base_after,
                monthly_before=monthly_before,
                monthly_after=monthly_after,
                alpha=level,
            )
        )
    adjusted = holm([s.p_value for s in results], level)
    correction = holm_correction(len(results), family)
    out = []
    for category, result, p_adj in zip(categories, results, adjusted, strict=True):
        significant = p_adj < level
        row = {"category": category, **dataclasses.asdict(result)}
        row.update(
            p_adjusted=p_adj,
            significant=significant,
            direction=direction_of(significant, result.odds_ratio),
            correction=correction,
        )
        out.append(row)
    return pl.DataFrame(out, schema=_SHARE_SCHEMA)
