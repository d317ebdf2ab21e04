"""Two-period changes (exact conditional test) and monthly trends (quasi-Poisson GLM)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats import rates as sm_rates

from beatbook.errors import InputError
from beatbook.stats import Change, Trend, compare_counts, monthly_trend

counts = st.integers(min_value=0, max_value=5000)
exposures = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)


# --- compare_counts -------------------------------------------------------------------------


def test_hand_computation_equal_exposures() -> None:
    c = compare_counts(100, 150)
    assert isinstance(c, Change)
    assert c.p_value == pytest.approx(stats.binomtest(150, 250, 0.5).pvalue, rel=1e-12)
    assert c.p_value == pytest.approx(0.0018833, rel=1e-4)
    assert c.rate_ratio == 1.5
    assert c.pct_change == pytest.approx(50.0)
    assert c.significant and c.direction == "rise"
    assert c.test == "exact conditional binomial test (two-sided)"
    # Clopper-Pearson limits for p = 150/250 in beta form, mapped to RR = p / (1 - p).
    p_low = stats.beta.ppf(0.025, 150, 101)
    p_high = stats.beta.ppf(0.975, 151, 100)
    assert c.ci_low == pytest.approx(p_low / (1 - p_low), rel=1e-9)
    assert c.ci_high == pytest.approx(p_high / (1 - p_high), rel=1e-9)


def test_twelve_months_against_nine_months() -> None:
    # 120 crimes in 12 months, then 100 in 9 months: 10.0 a month against 11.1 a month.
    c = compare_counts(120, 100, exposure_before=12, exposure_after=9)
    assert c.rate_ratio == pytest.approx((100 / 9) / (120 / 12))
    assert c.pct_change == pytest.approx(11.111111, rel=1e-6)
    assert c.p_value == pytest.approx(stats.binomtest(100, 220, 9 / 21).pvalue, rel=1e-12)
    assert not c.significant and c.direction == "no clear change"
    # The same monthly rate in both periods is no change at all.
    same = compare_counts(120, 90, 12, 9)
    assert same.rate_ratio == pytest.approx(1.0)
    assert same.p_value == pytest.approx(1.0)
    # Ignoring the exposures would wrongly call 120 -> 90 a significant-looking fall.
    assert compare_counts(120, 90).p_value < same.p_value


@pytest.mark.parametrize(
    ("before", "after", "e_before", "e_after"),
    [(100, 150, 1, 1), (120, 100, 12, 9), (3, 11, 2.5, 1.0), (4000, 3800, 350_000, 360_000)],
)
def test_matches_statsmodels_exact_conditional_test(
    before: int, after: int, e_before: float, e_after: float
) -> None:
    c = compare_counts(before, after, e_before, e_after)
    ref = sm_rates.test_poisson_2indep(after, e_after, before, e_before, method="exact-cond")
    assert c.p_value == pytest.approx(float(ref.pvalue), rel=1e-9)
    assert c.rate_ratio == pytest.approx(float(ref.ratio), rel=1e-12)


def test_zero_counts() -> None:
    none = compare_counts(0, 0)
    assert none.p_value == 1.0 and not none.significant
    assert math.isnan(none.rate_ratio) and math.isnan(none.pct_change)
    assert none.ci_low == 0.0 and none.ci_high == math.inf
    assert none.direction == "no clear change"
    new = compare_counts(0, 12)
    assert new.rate_ratio == math.inf and new.ci_high == math.inf
    assert new.p_value == pytest.approx(0.5**11)
    assert new.direction == "rise"
    gone = compare_counts(5, 0)
    assert gone.rate_ratio == 0.0 and gone.ci_low == 0.0
    assert gone.p_value == pytest.approx(0.0625) and gone.direction == "no clear change"


def test_to_dict_maps_non_finite_to_none() -> None:
    d = compare_counts(0, 0).to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["rate_ratio"] is None and d["ci_high"] is None and d["p_value"] == 1.0
    assert compare_counts(10, 20).to_dict()["rate_ratio"] == 2.0


def test_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="count_before"):
        compare_counts(-1, 5)
    with pytest.raises(InputError, match="exposure_after"):
        compare_counts(1, 5, 1.0, 0.0)
    with pytest.raises(InputError, match="alpha"):
        compare_counts(1, 5, alpha=1.5)


@given(counts, counts, exposures, exposures)
@settings(max_examples=60)
def test_p_value_in_unit_interval_and_symmetric(b: int, a: int, eb: float, ea: float) -> None:
    c = compare_counts(b, a, eb, ea)
    swapped = compare_counts(a, b, ea, eb)
    assert 0.0 <= c.p_value <= 1.0
    assert swapped.p_value == pytest.approx(c.p_value, rel=1e-6, abs=1e-12)
    if b > 0 and a > 0:
        assert swapped.rate_ratio == pytest.approx(1 / c.rate_ratio, rel=1e-9)


@given(counts, counts, exposures, exposures, st.floats(min_value=1e-3, max_value=1e3))
@settings(max_examples=60)
def test_only_the_ratio_of_exposures_matters(
    b: int, a: int, eb: float, ea: float, factor: float
) -> None:
    c = compare_counts(b, a, eb, ea)
    scaled = compare_counts(b, a, eb * factor, ea * factor)
    assert scaled.p_value == pytest.approx(c.p_value, rel=1e-6, abs=1e-12)
    if b > 0:
        assert scaled.rate_ratio == pytest.approx(c.rate_ratio, rel=1e-9)


@given(counts, counts, exposures, exposures, st.sampled_from([0.01, 0.05, 0.1]))
@settings(max_examples=60)
def test_direction_only_when_significant(
    b: int, a: int, eb: float, ea: float, alpha: float
) -> None:
    c = compare_counts(b, a, eb, ea, alpha=alpha)
    assert c.significant == (c.p_value < alpha)
    if c.direction != "no clear change":
        assert c.p_value < alpha
        assert (c.direction == "rise") == (c.rate_ratio > 1)
    if not c.significant:
        assert c.direction == "no clear change"
    if math.isfinite(c.rate_ratio):
        assert c.ci_low <= c.rate_ratio <= c.ci_high


def test_false_alarm_rate_is_at_most_alpha() -> None:
    """Under equal rates the exact test rejects with probability <= alpha for any total."""
    for total in (5, 23, 80):
        for share_after in (0.5, 9 / 21):
            outcomes = list(range(total + 1))
            rejects = np.array(
                [
                    compare_counts(total - x, x, 1 - share_after, share_after).significant
                    for x in outcomes
                ]
            )
            size = stats.binom.pmf(outcomes, total, share_after)[rejects].sum()
            assert size <= 0.05 + 1e-12


# --- monthly_trend --------------------------------------------------------------------------


def _pct(beta: float) -> float:
    return (math.exp(12 * beta) - 1) * 100


def test_recovers_a_strong_exponential_trend() -> None:
    months = np.arange(48)
    true_beta = 0.03  # +43.3% a year
    hits = 0
    for seed in range(20):
        y = np.random.default_rng(seed).poisson(50 * np.exp(true_beta * months))
        t = monthly_trend(y.tolist())
        assert isinstance(t, Trend)
        assert t.significant and t.direction == "rise"
        assert t.n_months == 48
        assert t.ci_low < t.pct_per_year < t.ci_high
        hits += t.ci_low <= _pct(true_beta) <= t.ci_high
    assert hits >= 17  # a 95% interval should cover the truth in ~19 of 20


def test_detects_a_fall() -> None:
    y = np.random.default_rng(7).poisson(80 * np.exp(-0.02 * np.arange(36)))
    t = monthly_trend(y.tolist())
    assert t.direction == "fall" and t.pct_per_year < 0 and t.ci_high < 0


def test_flat_series_is_mostly_not_significant() -> None:
    false_alarms = sum(
        monthly_trend(np.random.default_rng(seed).poisson(30, 36).tolist()).significant
        for seed in range(100)
    )
    assert false_alarms <= 12  # nominal 5% = 5 of 100


def test_overdispersion_is_handled_where_plain_poisson_fails() -> None:
    """Flat but overdispersed counts: quasi-Poisson keeps false alarms near 5%; Poisson does not."""
    months = np.arange(36)
    ours = plain = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        y = rng.negative_binomial(n=5, p=5 / (5 + 60), size=36)  # mean 60, variance 780
        ours += monthly_trend(y.tolist()).significant
        exog = sm.add_constant(months.astype(float))
        plain += sm.GLM(y, exog, family=sm.families.Poisson()).fit().pvalues[1] < 0.05
    assert ours <= 12
    assert plain >= 30


def _overdispersed_series_with_gap() -> tuple[list[int], list[int]]:
    months = list(range(35)) + list(range(61, 70))
    rng = np.random.default_rng(11)
    mean = 40 * np.exp(-0.01 * np.array(months))
    y = rng.negative_binomial(n=8, p=8 / (8 + mean))
    return y.tolist(), months


def test_gaps_in_month_index_match_a_direct_statsmodels_fit() -> None:
    y, months = _overdispersed_series_with_gap()
    t = monthly_trend(y, month_index=months)
    assert t.n_months == 44
    exog = sm.add_constant(np.array(months, dtype=float))
    ref = sm.GLM(np.array(y), exog, family=sm.families.Poisson()).fit(scale="X2", use_t=True)
    assert ref.scale > 1  # overdispersed, so the floor at 1 does not apply
    assert t.dispersion == pytest.approx(ref.scale, rel=1e-6)
    assert t.pct_per_year == pytest.approx(_pct(ref.params[1]), rel=1e-6)
    low, high = ref.conf_int(alpha=0.05)[1]
    assert t.ci_low == pytest.approx(_pct(low), rel=1e-6)
    assert t.ci_high == pytest.approx(_pct(high), rel=1e-6)
    assert t.p_value == pytest.approx(ref.pvalues[1], rel=1e-6)
    # Treating the months as consecutive (ignoring the 26-month gap) gives another answer.
    assert monthly_trend(y).pct_per_year != pytest.approx(t.pct_per_year, rel=0.05)


def test_dispersion_is_floored_at_one() -> None:
    y = [20, 21, 20, 21, 20, 21, 21, 22, 21, 22, 21, 22]  # far less variable than Poisson
    t = monthly_trend(y)
    assert t.dispersion == 1.0
    exog = sm.add_constant(np.arange(12, dtype=float))
    ref = sm.GLM(np.array(y), exog, family=sm.families.Poisson()).fit(use_t=True)
    assert t.p_value == pytest.approx(ref.pvalues[1], rel=1e-6)
    unfloored = sm.GLM(np.array(y), exog, family=sm.families.Poisson()).fit(scale="X2", use_t=True)
    assert unfloored.pvalues[1] < t.p_value  # the floor refuses the spurious precision


def test_unsorted_month_index_is_the_same_fit() -> None:
    y, months = _overdispersed_series_with_gap()
    order = np.random.default_rng(0).permutation(len(y))
    shuffled = monthly_trend([y[i] for i in order], [months[i] for i in order])
    assert shuffled.pct_per_year == pytest.approx(monthly_trend(y, months).pct_per_year)


def test_all_zero_and_not_estimable_series() -> None:
    zero = monthly_trend([0] * 12)
    assert zero.pct_per_year == 0.0 and zero.p_value == 1.0 and not zero.significant
    assert zero.direction == "no clear change"
    assert json.dumps(zero.to_dict(), allow_nan=False)
    last = monthly_trend([0] * 11 + [25])
    assert math.isnan(last.pct_per_year) and not last.significant
    assert last.method.startswith("not estimable")
    middle = monthly_trend([0] * 5 + [25] + [0] * 6)  # finite MLE: a peak, not a trend
    assert math.isfinite(middle.pct_per_year) and not middle.significant


def test_trend_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="at least 6 months"):
        monthly_trend([1, 2, 3, 4, 5])
    with pytest.raises(InputError, match="month_index has 3 entries"):
        monthly_trend([1] * 6, month_index=[0, 1, 2])
    with pytest.raises(InputError, match="repeated"):
        monthly_trend([1] * 6, month_index=[0, 1, 2, 3, 4, 4])
    with pytest.raises(InputError, match=r"counts\[2\]"):
        monthly_trend([1, 2, -3, 4, 5, 6])
    with pytest.raises(InputError, match="alpha"):
        monthly_trend([1] * 6, alpha=0)


@given(
    st.lists(st.integers(min_value=0, max_value=500), min_size=6, max_size=40),
    st.sampled_from([0.01, 0.05, 0.1]),
)
@settings(max_examples=60, deadline=None)
def test_trend_direction_only_when_significant(y: list[int], alpha: float) -> None:
    t = monthly_trend(y, alpha=alpha)
    assert 0.0 <= t.p_value <= 1.0
    assert t.significant == (t.p_value < alpha)
    if t.direction != "no clear change":
        assert t.significant
        assert (t.direction == "rise") == (t.pct_per_year > 0)
    if math.isfinite(t.ci_low):
        assert t.ci_low <= t.pct_per_year <= t.ci_high
        assert t.dispersion >= 1.0
