"""Did a priority work? A difference-in-differences on monthly counts, allowing for
over-dispersion and for the spike that got the place proposed.

The priority place's crimes of its problem are compared with the same problem at
comparison places (the rest of the ward, not priorities themselves) over the same
months, in three periods:

* **before**: months before the place was picked out (they never include the months
  it was proposed on);
* **selection**: the months the proposal was selected on (its recent months). A place
  is proposed because its problem just rose there; left alone it will usually fall back
  part of the way (regression to the mean) and stay up part of the way (a real rise
  persists). So these months are compared apart, never counted as "before";
* **during**: the months it was a priority.

The estimate is the ratio of rate ratios, during against before,

    RRR = (T_during / T_before) / (C_during / C_before)

(< 1: fell more, or rose less, at the place than the comparison places predict). A fall
is claimed only when the place fell more than the comparison places *both* against the
months before and against the selection months, a rise only when it rose more against
both: each contrast at level ``alpha``, so under no effect either claim is made at most
``alpha / 2`` of the time wherever the place's level without action lies between its
level before and its level when selected (an intersection-union test).

The test is a quasi-Poisson log-linear model of the monthly counts,
``log E[y] = group x period`` (place / comparison x before / selection / during). Its
maximum-likelihood fit is closed form (each group and period's monthly mean), so each
contrast's log ratio is that of the totals and its standard error is
``sqrt(phi (1/T_1 + 1/T_0 + 1/C_1 + 1/C_0))``, with the dispersion ``phi`` = the
Pearson chi-square of the monthly counts over its residual degrees of freedom, floored
at 1 (McCullagh and Nelder 1989, 4.5); intervals are Wald t intervals on those degrees
of freedom, as R's ``summary.glm`` gives for a quasi family. With fewer than
``MIN_DISPERSION_DF`` residual degrees of freedom the dispersion cannot be estimated and
Poisson variation is assumed (``test`` says so). A zero total makes a ratio undefined,
so then 0.5 is added to every total (Haldane-Anscombe; ``corrected``).

``test="poisson"`` gives the Poisson Wald test on the totals (the method before issue
16: it ignores month-to-month variation), kept for the placebo benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from beatbook.errors import InputError
from beatbook.settings import MIN_DISPERSION_DF
from beatbook.stats._common import check_count, check_probability, dataclass_to_dict
from beatbook.stats.overdispersed import pearson_dispersion

QUASI_POISSON = (
    "quasi-Poisson GLM on the monthly counts, place/comparison x before/selection/during "
    "(dispersion = Pearson chi2/df, floored at 1; Wald t intervals)"
)
POISSON = (
    "Poisson log-linear model on the totals (Wald z intervals; month-to-month variation ignored)"
)
FEW_MONTHS = (
    f"{POISSON}: too few months to estimate the over-dispersion (fewer than "
    f"{MIN_DISPERSION_DF} residual degrees of freedom), so Poisson variation is assumed"
)
TESTS = ("quasi-poisson", "poisson")
VERDICT_TEXT = {
    "fell more": "fell more than at comparison places",
    "rose more": "rose more than at comparison places",
    "no clear difference": "no clear difference from comparison places",
}


@dataclass(frozen=True)
class Assessment:
    """The counts, the estimate with its interval, the test, and the verdict in words."""

    treated_before: int
    treated_during: int
    comparison_before: int
    comparison_during: int
    months_before: int
    months_during: int
    ratio: float  # ratio of rate ratios, during vs before; < 1: fell more than comparison places
    ci_low: float
    ci_high: float
    p_value: float
    expected_during: float  # priority-place crimes a month had it followed the comparison places
    difference_per_month: float  # observed minus expected, crimes a month
    corrected: bool  # 0.5 added to every total because one was zero
    treated_selection: int  # the months the proposal was selected on, compared apart
    comparison_selection: int
    months_selection: int
    selection_ratio: float  # ratio of rate ratios, during vs the selection months (nan: none)
    selection_ci_low: float
    selection_ci_high: float
    selection_p_value: float
    test: str  # QUASI_POISSON, POISSON or FEW_MONTHS
    dispersion: float  # the phi the intervals use (1 for Poisson)
    residual_df: int  # monthly counts minus the model's parameters
    verdict: str  # 'fell more' | 'rose more' | 'no clear difference' | 'not assessable'
    wording: str

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_dict(self)


def _series(values: Sequence[int], name: str) -> np.ndarray:
    return np.array([check_count(v, f"{name}[{i}]") for i, v in enumerate(values)], dtype=float)


def _contrast(
    during: tuple[float, float],
    reference: tuple[float, float],
    phi: float,
    df: int | None,
    q: float,
) -> tuple[float, float, float, float]:
    """Ratio of rate ratios (during vs reference), its interval and two-sided p-value, from
    the totals (place, comparison) of two periods."""
    (td, cd), (tr, cr) = during, reference
    log_ratio = math.log(td / tr) - math.log(cd / cr)
    se = math.sqrt(phi * (1 / td + 1 / tr + 1 / cd + 1 / cr))
    tail = stats.norm.sf(abs(log_ratio) / se) if df is None else stats.t.sf(abs(log_ratio) / se, df)
    return (
        math.exp(log_ratio),
        math.exp(log_ratio - q * se),
        math.exp(log_ratio + q * se),
        float(2 * tail),
    )


def difference_in_differences(
    treated_before: Sequence[int],
    treated_during: Sequence[int],
    comparison_before: Sequence[int],
    comparison_during: Sequence[int],
    alpha: float = 0.05,
    *,
    treated_selection: Sequence[int] = (),
    comparison_selection: Sequence[int] = (),
    test: str = "quasi-poisson",
) -> Assessment:
    """Compare the change at the priority place with the change at comparison places.

    Each argument is a period's monthly counts, month by month (the place and its
    comparison places over the same months, so the same length). The selection months
    may be left empty (a priority raised without a proposal); then only before and
    during are compared.

    Examples
    --------
    >>> a = difference_in_differences(
    ...     [5, 6, 4, 5, 6, 4], [1, 2, 2], [100, 98, 103, 99, 101, 100], [99, 101, 100],
    ...     treated_selection=[9, 11, 10], comparison_selection=[100, 102, 98])
    >>> a.verdict, round(a.ratio, 2), a.dispersion
    ('fell more', 0.33, 1.0)
    """
    check_probability(alpha, "alpha")
    if test not in TESTS:
        raise InputError(f"test {test!r}: expected one of {', '.join(TESTS)}")
    t_b, t_s, t_d = (
        _series(treated_before, "treated_before"),
        _series(treated_selection, "treated_selection"),
        _series(treated_during, "treated_during"),
    )
    c_b, c_s, c_d = (
        _series(comparison_before, "comparison_before"),
        _series(comparison_selection, "comparison_selection"),
        _series(comparison_during, "comparison_during"),
    )
    if len(t_b) < 1 or len(t_d) < 1:
        raise InputError("assessment needs counts >= 0 and at least one month before and during")
    for place, comparison, period in (
        (t_b, c_b, "before"),
        (t_s, c_s, "selection"),
        (t_d, c_d, "during"),
    ):
        if len(place) != len(comparison):
            raise InputError(
                f"{period}: the place has {len(place)} months and the comparison places "
                f"{len(comparison)}; both need the same months"
            )
    nb, ns, nd = len(t_b), len(t_s), len(t_d)
    tb, ts, td, cb, cs, cd = (int(s.sum()) for s in (t_b, t_s, t_d, c_b, c_s, c_d))
    totals = (tb, td, cb, cd)
    per_before, per_during = tb / nb, td / nd
    if cb + cd == 0 or tb + ts + td == 0:
        return _not_assessable(
            totals,
            (ts, cs, ns),
            nb,
            nd,
            "no crimes of this problem at the place or at comparison places",
        )
    used = (tb, td, cb, cd, ts, cs) if ns else totals
    corrected = 0 in used
    shift = 0.5 if corrected else 0.0
    tb_, td_, cb_, cd_, ts_, cs_ = (float(x) + shift for x in (tb, td, cb, cd, ts, cs))

    series = [t_b, t_d, c_b, c_d, *([t_s, c_s] if ns else [])]
    df = sum(len(s) for s in series) - len(series)
    if test == "poisson" or df < MIN_DISPERSION_DF:
        phi, t_df, label = 1.0, None, POISSON if test == "poisson" else FEW_MONTHS
        q = float(stats.norm.ppf(1 - alpha / 2))
    else:
        observed = np.concatenate(series)
        fitted = np.concatenate([np.full(len(s), s.mean()) for s in series])
        phi, t_df, label = max(1.0, pearson_dispersion(observed, fitted, df)), df, QUASI_POISSON
        q = float(stats.t.ppf(1 - alpha / 2, df))
    ratio, low, high, p = _contrast((td_, cd_), (tb_, cb_), phi, t_df, q)
    nan = math.nan
    s_ratio, s_low, s_high, s_p = (
        _contrast((td_, cd_), (ts_, cs_), phi, t_df, q) if ns else (nan, nan, nan, nan)
    )
    fell = high < 1 and (not ns or s_high < 1)
    rose = low > 1 and (not ns or s_low > 1)
    verdict = "fell more" if fell else "rose more" if rose else "no clear difference"
    expected = per_before * (cd_ / nd) / (cb_ / nb)
    level = f"{100 * (1 - alpha):g}% CI"
    wording = (
        f"{VERDICT_TEXT[verdict]}: {per_before:.1f} a month before, {per_during:.1f} during, "
        f"against {expected:.1f} expected from the comparison places (ratio {ratio:.2f}, "
        f"{level} {low:.2f}-{high:.2f}"
    )
    if ns:
        wording += (
            f"; {ts / ns:.1f} a month in the {ns} month{'s' if ns > 1 else ''} it was proposed "
            f"on, compared apart: ratio {s_ratio:.2f}, {level} {s_low:.2f}-{s_high:.2f}"
        )
    wording += ")"
    return Assessment(
        treated_before=tb,
        treated_during=td,
        comparison_before=cb,
        comparison_during=cd,
        months_before=nb,
        months_during=nd,
        ratio=ratio,
        ci_low=low,
        ci_high=high,
        p_value=p,
        expected_during=expected,
        difference_per_month=per_during - expected,
        corrected=corrected,
        treated_selection=ts,
        comparison_selection=cs,
        months_selection=ns,
        selection_ratio=s_ratio,
        selection_ci_low=s_low,
        selection_ci_high=s_high,
        selection_p_value=s_p,
        test=label,
        dispersion=phi,
        residual_df=df,
        verdict=verdict,
        wording=wording,
    )


def _not_assessable(
    totals: tuple[int, int, int, int],
    selection: tuple[int, int, int],
    months_before: int,
    months_during: int,
    why: str,
) -> Assessment:
    nan = math.nan
    tb, td, cb, cd = totals
    ts, cs, ns = selection
    return Assessment(
        treated_before=tb,
        treated_during=td,
        comparison_before=cb,
        comparison_during=cd,
        months_before=months_before,
        months_during=months_during,
        ratio=nan,
        ci_low=nan,
        ci_high=nan,
        p_value=nan,
        expected_during=nan,
        difference_per_month=nan,
        corrected=False,
        treated_selection=ts,
        comparison_selection=cs,
        months_selection=ns,
        selection_ratio=nan,
        selection_ci_low=nan,
        selection_ci_high=nan,
        selection_p_value=nan,
        test="none",
        dispersion=nan,
        residual_df=0,
        verdict="not assessable",
        wording=f"not assessable: {why}",
    )
