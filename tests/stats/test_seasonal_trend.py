"""The trend a publication prints: a slope with month-of-year effects over 24 months or more
(issue 16, item 11), and the names of a partial year's months.

Expected values come from statsmodels' formula interface written from the description in
docs/statistics.md (quasi-Poisson: Pearson chi2 over the residual df, floored at 1; t-test),
never from BeatBook's code.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.genmod import families

from beatbook.errors import InputError
from beatbook.stats.trend import (
    NO_CRIMES_METHOD,
    NOT_ESTIMABLE_METHOD,
    monthly_trend,
    seasonal_trend,
)
from beatbook.stats.wording import describe_months, describe_trend

SEASON = 1 + 0.35 * np.sin(np.arange(12) / 12 * 2 * np.pi)  # a strong yearly cycle


def months_from(year: int, n: int) -> list[dt.date]:
    return [dt.date(year + i // 12, i % 12 + 1, 1) for i in range(n)]


def reference(counts: list[int], months: list[dt.date], alpha: float = 0.05) -> dict[str, float]:
    frame = pd.DataFrame(
        {
            "y": counts,
            "moy": [m.month for m in months],
            "t": [m.year * 12 + m.month for m in months],
        }
    )
    formula = "y ~ C(moy) + t"
    poisson = smf.glm(formula, frame, family=families.Poisson()).fit()
    scale = max(1.0, poisson.pearson_chi2 / poisson.df_resid)
    fit = smf.glm(formula, frame, family=families.Poisson()).fit(scale=scale, use_t=True)
    low, high = fit.conf_int(alpha=alpha).loc["t"]
    return {
        "pct": math.expm1(12 * fit.params["t"]) * 100,
        "low": math.expm1(12 * low) * 100,
        "high": math.expm1(12 * high) * 100,
        "p": float(fit.pvalues["t"]),
        "dispersion": scale,
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_statsmodels_with_month_effects_and_gaps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    months = months_from(2019, 40)
    mean = [80 * SEASON[m.month - 1] * 1.004 ** (i) for i, m in enumerate(months)]
    counts = rng.negative_binomial(20, 20 / (20 + np.array(mean))).tolist()
    keep = [i for i in range(40) if i not in (3, 4, 17, 30)]  # gaps are missing, not zero
    counts = [counts[i] for i in keep]
    months = [months[i] for i in keep]
    got = seasonal_trend(counts, months)
    want = reference(counts, months)
    assert got.n_months == 36 and "month-of-year" in got.method
    assert got.pct_per_year == pytest.approx(want["pct"], rel=1e-6)
    assert (got.ci_low, got.ci_high) == (
        pytest.approx(want["low"], rel=1e-6),
        pytest.approx(want["high"], rel=1e-6),
    )
    assert got.p_value == pytest.approx(want["p"], rel=1e-6)
    assert got.dispersion == pytest.approx(want["dispersion"], rel=1e-9)
    # Order does not matter: months say where each count belongs.
    order = np.random.default_rng(seed).permutation(len(counts))
    shuffled = seasonal_trend([counts[i] for i in order], [months[i] for i in order])
    assert shuffled.pct_per_year == pytest.approx(got.pct_per_year, rel=1e-9)


def test_two_full_years_give_the_same_months_change_per_year() -> None:
    rng = np.random.default_rng(7)
    before = rng.poisson(100 * SEASON).tolist()
    after = rng.poisson(112 * SEASON).tolist()
    t = seasonal_trend(before + after, months_from(2020, 24))
    assert t.pct_per_year == pytest.approx((sum(after) / sum(before) - 1) * 100, rel=1e-7)


def test_seasons_alone_are_not_a_trend() -> None:
    # No trend, a season that climbs through the year (quiet winter, busy autumn): the slope
    # of one year's 12 months (no month effects) calls it a rise most of the time; with month
    # effects over 24 months, about 5% of the time (the test's level).
    rng = np.random.default_rng(11)
    months = months_from(2020, 24)
    climbing = np.linspace(0.8, 1.2, 12)
    one_year = with_effects = 0
    runs = 200
    for _ in range(runs):
        counts = rng.poisson(np.tile(60 * climbing, 2)).tolist()
        one_year += monthly_trend(counts[:12]).significant
        with_effects += seasonal_trend(counts, months).significant
    assert one_year / runs > 0.5
    assert with_effects / runs < 0.1


def test_edge_cases_and_refusals() -> None:
    months = months_from(2020, 24)
    assert seasonal_trend([0] * 24, months).method == NO_CRIMES_METHOD
    # Every crime in the later year of each calendar month: the slope's MLE is infinite.
    later_only = seasonal_trend([0] * 12 + [5] * 12, months)
    assert later_only.method == NOT_ESTIMABLE_METHOD and later_only.direction == "no clear change"
    # A calendar month with no crimes in any year says nothing about the slope.
    counts = [0 if i % 12 == 6 else 50 + i for i in range(24)]
    assert math.isfinite(seasonal_trend(counts, months).pct_per_year)
    text = describe_trend(seasonal_trend([50] * 24, months))
    assert text.startswith("no clear trend over 24 months")
    with pytest.raises(InputError, match="at least 24 months"):
        seasonal_trend([5] * 23, months[:23])
    with pytest.raises(InputError, match="repeated"):
        seasonal_trend([5] * 24, [*months[:23], months[0]])
    with pytest.raises(InputError, match="one month per count"):
        seasonal_trend([5] * 24, months[:20])
    with pytest.raises(InputError, match="must be a date"):
        seasonal_trend([5] * 24, [*months[:23], "2022-01"])  # type: ignore[list-item]


def test_describe_months() -> None:
    year = [dt.date(2021, m, 1) for m in range(1, 13)]
    assert describe_months(year) == "Jan–Dec"
    assert describe_months(year[:9]) == "Jan–Sep"
    assert describe_months([year[0], *year[3:]]) == "Jan, Apr–Dec"
    assert describe_months([year[4]]) == "May"
    assert describe_months([dt.date(2020, 12, 1), dt.date(2021, 1, 1), dt.date(2021, 3, 1)]) == (
        "Dec 2020–Jan 2021, Mar 2021"
    )
    with pytest.raises(InputError):
        describe_months([])
