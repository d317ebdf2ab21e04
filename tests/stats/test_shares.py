"""Share changes: the type against the rest of crime, exact (Fisher) or over-dispersed, and Holm.

References: scipy's Fisher test and conditional odds ratio; for the over-dispersed test, the
equivalent Poisson log-linear GLM in statsmodels (cells month x period, type x month and the
type x period interaction, ``scale="X2"``): a different model with the same estimate and
Pearson chi-square as BeatBook's binomial one.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import odds_ratio

from beatbook.errors import InputError
from beatbook.stats import ShareChange, compare_shares, share_changes_by_category
from beatbook.stats.shares import (
    FISHER_TEST,
    QUASI_SHARE_MONTHS,
    QUASI_SHARE_PERIOD,
    SHARE_FEW_MONTHS,
    SHARE_NOT_OVERDISPERSED,
    SHARE_UNBOUNDED,
    conditional_odds_ratio,
)
from support.fixtures_store import holm as holm_by_hand

CALENDAR = list(range(1, 13))


def months_of(year: int, calendar: list[int] = CALENDAR) -> list[dt.date]:
    return [dt.date(year, m, 1) for m in calendar]


def splits(seed: int, totals: np.ndarray, share: float, spread: float) -> list[tuple[int, int]]:
    """(type, total) a month: the type's share wanders month to month (beta, by ``spread``)."""
    rng = np.random.default_rng(seed)
    shares = rng.beta(share * spread, (1 - share) * spread, len(totals))
    return [(int(rng.binomial(int(t), s)), int(t)) for t, s in zip(totals, shares, strict=True)]


TOTALS = np.round(3000 * (1 + 0.2 * np.sin(np.arange(12) / 2))).astype(int)


def reference(
    before: dict[dt.date, tuple[int, int]],
    after: dict[dt.date, tuple[int, int]],
    month_effects: bool,
) -> sm.GLM:
    """Poisson log-linear GLM of the type and rest cells; the last parameter is log OR."""
    months = [*before, *after]
    periods = [0] * len(before) + [1] * len(after)
    splits_ = [*before.values(), *after.values()]
    y, rows = [], []
    n = len(months)
    calendar = sorted({m.month for m in months})
    for i, (month, period, (part, total)) in enumerate(zip(months, periods, splits_, strict=True)):
        for is_type, count in ((1, part), (0, total - part)):
            cell = [float(i == j) for j in range(n)]  # each month's total is fitted
            if month_effects:
                by_month = [float(is_type and month.month == c) for c in calendar]
            else:
                by_month = [float(is_type)]
            rows.append([*cell, *by_month, float(is_type * period)])
            y.append(count)
    fit = sm.GLM(np.array(y, dtype=float), np.array(rows), family=sm.families.Poisson())
    return fit.fit(scale="X2", use_t=True)


def test_exact_test_is_fishers_with_the_conditional_odds_ratio() -> None:
    s = compare_shares(1577, 39238, 1833, 42953)
    table = [[1833, 42953 - 1833], [1577, 39238 - 1577]]
    assert isinstance(s, ShareChange)
    assert s.test == FISHER_TEST and s.dispersion == 1.0
    assert s.p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-12)
    assert (s.share_before, s.share_after) == (1577 / 39238, 1833 / 42953)
    assert s.odds_ratio == pytest.approx((1833 / (42953 - 1833)) / (1577 / (39238 - 1577)), 1e-4)
    assert json.loads(json.dumps(s.to_dict(), allow_nan=False))["part_after"] == 1833


@pytest.mark.parametrize(
    "table",
    [
        ((7, 2), (3, 8)),
        ((0, 500), (12, 480)),
        ((50, 60), (70, 20)),
        ((5, 0), (3, 4)),
        ((1, 9), (1, 9)),
    ],
)
def test_conditional_odds_ratio_matches_scipy(
    table: tuple[tuple[int, int], tuple[int, int]],
) -> None:
    ours = conditional_odds_ratio(table, 0.95)
    ref = odds_ratio([list(table[0]), list(table[1])], kind="conditional")
    ci = ref.confidence_interval(confidence_level=0.95)
    assert ours == (
        pytest.approx(ref.statistic, rel=1e-8),
        pytest.approx(ci.low, rel=1e-8, abs=1e-12),
        pytest.approx(ci.high, rel=1e-8),
    )


def test_over_dispersed_with_month_effects_matches_the_log_linear_glm() -> None:
    before = dict(zip(months_of(2020), splits(1, TOTALS, 0.05, 300), strict=True))
    after = dict(zip(months_of(2021), splits(2, TOTALS * 1.1, 0.06, 300), strict=True))
    part0, base0 = map(sum, zip(*before.values(), strict=True))
    part1, base1 = map(sum, zip(*after.values(), strict=True))
    s = compare_shares(part0, base0, part1, base1, monthly_before=before, monthly_after=after)
    ref = reference(before, after, month_effects=True)
    assert ref.df_resid == 11 and ref.scale > 1.5
    assert s.test == QUASI_SHARE_MONTHS
    assert s.dispersion == pytest.approx(ref.scale, rel=1e-6)
    assert s.odds_ratio == pytest.approx(math.exp(ref.params[-1]), rel=1e-6)
    fisher = stats.fisher_exact([[part1, base1 - part1], [part0, base0 - part0]]).pvalue
    assert ref.pvalues[-1] > fisher
    assert s.p_value == pytest.approx(ref.pvalues[-1], rel=1e-5)
    low, high = np.exp(ref.conf_int(alpha=0.05)[-1])
    assert (s.ci_low, s.ci_high) == (pytest.approx(low, rel=1e-5), pytest.approx(high, rel=1e-5))


def test_over_dispersed_without_month_effects_matches_the_log_linear_glm() -> None:
    before = dict(zip(months_of(2020), splits(3, TOTALS, 0.3, 200), strict=True))
    after = dict(
        zip(months_of(2021, list(range(1, 10))), splits(4, TOTALS[:9], 0.27, 200), strict=True)
    )
    part0, base0 = map(sum, zip(*before.values(), strict=True))
    part1, base1 = map(sum, zip(*after.values(), strict=True))
    s = compare_shares(part0, base0, part1, base1, monthly_before=before, monthly_after=after)
    ref = reference(before, after, month_effects=False)
    assert ref.df_resid == 19
    assert s.test == QUASI_SHARE_PERIOD
    assert s.dispersion == pytest.approx(ref.scale, rel=1e-6)
    assert s.odds_ratio == pytest.approx(math.exp(ref.params[-1]), rel=1e-6)
    assert s.p_value == pytest.approx(max(ref.pvalues[-1], s.p_value), rel=1e-5)


def test_fisher_is_kept_where_justified_or_nothing_better_can_be_done() -> None:
    # Every month the type is exactly 10% of the total: no over-dispersion.
    steady0 = {m: (100, 1000) for m in months_of(2020)}
    steady1 = {m: (120, 1000) for m in months_of(2021)}
    s = compare_shares(1200, 12000, 1440, 12000, monthly_before=steady0, monthly_after=steady1)
    assert s.test == SHARE_NOT_OVERDISPERSED and s.dispersion == 1.0
    assert s.p_value == compare_shares(1200, 12000, 1440, 12000).p_value
    few0 = {m: (10, 100) for m in months_of(2020, [1, 2, 3])}
    few1 = {m: (30, 100) for m in months_of(2021, [1, 2, 3])}
    assert compare_shares(30, 300, 90, 300, monthly_before=few0, monthly_after=few1).test == (
        SHARE_FEW_MONTHS
    )
    empty1 = {m: (0, 1000) for m in months_of(2021)}
    none_after = compare_shares(1200, 12000, 0, 12000, monthly_before=steady0, monthly_after=empty1)
    assert none_after.test == SHARE_UNBOUNDED


def test_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="larger than base_before"):
        compare_shares(11, 10, 1, 10)
    with pytest.raises(InputError, match="both monthly"):
        compare_shares(1, 10, 1, 10, monthly_before={dt.date(2020, 1, 1): (1, 10)})
    with pytest.raises(InputError, match="adds up to 1 of 10, but the totals given are 2 of 10"):
        compare_shares(
            2,
            10,
            1,
            10,
            monthly_before={dt.date(2020, 1, 1): (1, 10)},
            monthly_after={dt.date(2021, 1, 1): (1, 10)},
        )
    with pytest.raises(InputError, match="alpha"):
        compare_shares(1, 10, 1, 10, alpha=0)


@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 3000)), min_size=1, max_size=14),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 3000)), min_size=1, max_size=14),
)
@settings(max_examples=80, deadline=None)
def test_share_properties(before: list[tuple[int, int]], after: list[tuple[int, int]]) -> None:
    m0 = {dt.date(2010 + i // 12, i % 12 + 1, 1): (p, p + r) for i, (p, r) in enumerate(before)}
    m1 = {dt.date(2020 + i // 12, i % 12 + 1, 1): (p, p + r) for i, (p, r) in enumerate(after)}
    p0, b0 = sum(p for p, _ in m0.values()), sum(b for _, b in m0.values())
    p1, b1 = sum(p for p, _ in m1.values()), sum(b for _, b in m1.values())
    s = compare_shares(p0, b0, p1, b1, monthly_before=m0, monthly_after=m1)
    fisher = compare_shares(p0, b0, p1, b1)
    assert 0.0 <= s.p_value <= 1.0 and s.dispersion >= 1.0
    assert s.p_value >= fisher.p_value - 1e-12  # never more confident than the exact test
    assert s.direction == "no clear change" or s.significant
    swapped = compare_shares(p1, b1, p0, b0, monthly_before=m1, monthly_after=m0)
    assert swapped.p_value == pytest.approx(s.p_value, rel=1e-6, abs=1e-12)


# --- share_changes_by_category ------------------------------------------------------------------

TYPES = pl.DataFrame(
    {
        "category": ["Burglary", "Drugs", "Violence", "Other"],
        "count_before": [2149, 1577, 16547, 18965],
        "count_after": [1631, 1833, 19009, 20480],
    }
)


def test_share_changes_are_holm_adjusted_and_say_so() -> None:
    out = share_changes_by_category(TYPES, family="crime types")
    base0, base1 = sum(TYPES["count_before"]), sum(TYPES["count_after"])
    assert out["base_before"].to_list() == [base0] * 4
    assert out["base_after"].to_list() == [base1] * 4
    raw = [
        stats.fisher_exact([[a, base1 - a], [b, base0 - b]]).pvalue
        for b, a in zip(TYPES["count_before"], TYPES["count_after"], strict=True)
    ]
    assert out["p_value"].to_list() == pytest.approx(raw, rel=1e-12)
    assert out["p_adjusted"].to_list() == pytest.approx(holm_by_hand(raw), rel=1e-12)
    assert out["correction"].to_list() == ["Holm over 4 crime types"] * 4
    assert out["significant"].to_list() == [p < 0.05 for p in holm_by_hand(raw)]
    assert out.row(0, named=True)["direction"] == "fall"  # burglary's share fell


def test_share_changes_with_monthly_counts() -> None:
    rng = np.random.default_rng(5)
    before, after = months_of(2020), months_of(2021)
    rows = []
    for category, count0, count1 in TYPES.iter_rows():
        for months, total in ((before, count0), (after, count1)):
            for month, n in zip(months, rng.multinomial(total, [1 / 12] * 12), strict=True):
                rows.append({"category": category, "month": month, "count": int(n)})
    monthly = pl.DataFrame(rows)
    out = share_changes_by_category(
        TYPES, monthly=monthly, months_before=before, months_after=after
    )
    bases = monthly.group_by("month").agg(pl.col("count").sum())
    base = dict(bases.iter_rows())
    burglary = monthly.filter(pl.col("category") == "Burglary")
    own = {m: n for _, m, n in burglary.iter_rows()}
    direct = compare_shares(
        2149,
        sum(TYPES["count_before"]),
        1631,
        sum(TYPES["count_after"]),
        monthly_before={m: (own[m], base[m]) for m in before},
        monthly_after={m: (own[m], base[m]) for m in after},
    )
    row = out.row(0, named=True)
    assert (row["p_value"], row["test"], row["dispersion"]) == (
        direct.p_value,
        direct.test,
        direct.dispersion,
    )
    assert out["correction"][0] == "Holm over 4 categories"
    with pytest.raises(InputError, match="overlap"):
        share_changes_by_category(TYPES, monthly=monthly, months_before=before, months_after=before)
