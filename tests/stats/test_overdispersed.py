"""The change test that allows for over-dispersion, against statsmodels' own quasi-Poisson GLM.

Every reference here is fitted independently with ``statsmodels`` (``families.Poisson``,
``scale="X2"``, ``use_t=True``: R's quasi-Poisson) on the monthly counts, with month
dummies and an offset, or with scipy; never with BeatBook's closed form.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from beatbook.errors import InputError
from beatbook.settings import MIN_DISPERSION_DF
from beatbook.stats import Change, compare_counts, compare_monthly_counts
from beatbook.stats.overdispersed import (
    FEW_MONTHS,
    NOT_OVERDISPERSED,
    ONE_PERIOD_EMPTY,
    QUASI_TEST_MONTHS,
    QUASI_TEST_PERIOD,
)


def months_of(year: int, calendar: list[int]) -> list[dt.date]:
    return [dt.date(year, m, 1) for m in calendar]


def overdispersed(seed: int, means: np.ndarray, size: float = 6.0) -> list[int]:
    """Negative binomial counts with these means: variance mean + mean^2 / size."""
    rng = np.random.default_rng(seed)
    return rng.negative_binomial(size, size / (size + means)).tolist()


SEASON = 300 * (1 + 0.25 * np.sin(np.arange(12) / 12 * 2 * np.pi))


def reference_fit(
    before: dict[dt.date, int],
    after: dict[dt.date, int],
    exposure_before: float,
    exposure_after: float,
    month_effects: bool,
) -> sm.GLM:
    """statsmodels' quasi-Poisson GLM: counts ~ [month-of-year +] period, offset log exposure."""
    months = [*before, *after]
    y = np.array([*before.values(), *after.values()], dtype=float)
    period = np.array([0.0] * len(before) + [1.0] * len(after))
    if month_effects:
        calendar = sorted({m.month for m in months})
        columns = [np.array([m.month == c for m in months], dtype=float) for c in calendar]
    else:
        columns = [np.ones(len(y))]
    exog = np.column_stack([*columns, period])
    offset = np.log(
        np.array(
            [exposure_before / len(before)] * len(before)
            + [exposure_after / len(after)] * len(after)
        )
    )
    model = sm.GLM(y, exog, family=sm.families.Poisson(), offset=offset)
    return model.fit(scale="X2", use_t=True)


def test_matches_statsmodels_with_month_effects() -> None:
    calendar = list(range(1, 13))
    before = dict(zip(months_of(2020, calendar), overdispersed(1, SEASON), strict=True))
    after = dict(zip(months_of(2021, calendar), overdispersed(2, SEASON * 1.12), strict=True))
    c = compare_monthly_counts(before, after)
    ref = reference_fit(before, after, 12, 12, month_effects=True)
    assert isinstance(c, Change)
    assert c.test == QUASI_TEST_MONTHS
    assert ref.df_resid == 11
    assert ref.scale > 3  # clearly over-dispersed: the floor at 1 plays no part
    assert c.dispersion == pytest.approx(ref.scale, rel=1e-9)
    assert c.rate_ratio == pytest.approx(math.exp(ref.params[-1]), rel=1e-9)
    exact = compare_counts(sum(before.values()), sum(after.values()))
    assert ref.pvalues[-1] > exact.p_value  # the quasi-Poisson p is the one reported
    assert c.p_value == pytest.approx(ref.pvalues[-1], rel=1e-7)
    low, high = np.exp(ref.conf_int(alpha=0.05)[-1])
    assert (c.ci_low, c.ci_high) == (pytest.approx(low, rel=1e-7), pytest.approx(high, rel=1e-7))
    assert (c.count_before, c.count_after) == (sum(before.values()), sum(after.values()))
    assert c.significant == (c.p_value < 0.05)
    assert json.loads(json.dumps(c.to_dict(), allow_nan=False))["dispersion"] == c.dispersion


def test_same_gaps_in_both_years_keep_month_effects() -> None:
    calendar = [1, 2, 4, 5, 6, 8, 9, 10, 11, 12]  # March and July missing in both years
    means = SEASON[[c - 1 for c in calendar]]
    before = dict(zip(months_of(2020, calendar), overdispersed(3, means), strict=True))
    after = dict(zip(months_of(2021, calendar), overdispersed(4, means * 0.9), strict=True))
    c = compare_monthly_counts(before, after, exposure_before=10 * 5e5, exposure_after=10 * 5e5)
    ref = reference_fit(before, after, 10 * 5e5, 10 * 5e5, month_effects=True)
    assert c.test == QUASI_TEST_MONTHS and ref.df_resid == 9
    assert c.dispersion == pytest.approx(ref.scale, rel=1e-9)
    assert c.p_value == pytest.approx(max(ref.pvalues[-1], c.p_value), rel=1e-7)
    assert c.p_value == pytest.approx(ref.pvalues[-1], rel=1e-7)


def test_different_months_fit_a_period_effect_only() -> None:
    # Twelve months against nine (a year against January-September): exposures differ, and
    # the calendar months differ, so no month effects; the rate ratio is of monthly rates.
    before = dict(zip(months_of(2020, list(range(1, 13))), overdispersed(5, SEASON), strict=True))
    after = dict(
        zip(months_of(2021, list(range(1, 10))), overdispersed(6, SEASON[:9] * 1.3), strict=True)
    )
    c = compare_monthly_counts(before, after, exposure_before=12 * 4e5, exposure_after=9 * 4e5)
    ref = reference_fit(before, after, 12 * 4e5, 9 * 4e5, month_effects=False)
    assert c.test == QUASI_TEST_PERIOD and ref.df_resid == 19
    assert c.rate_ratio == pytest.approx(
        (sum(after.values()) / 9) / (sum(before.values()) / 12), rel=1e-12
    )
    assert c.rate_ratio == pytest.approx(math.exp(ref.params[-1]), rel=1e-9)
    assert c.dispersion == pytest.approx(ref.scale, rel=1e-9)
    assert c.p_value == pytest.approx(ref.pvalues[-1], rel=1e-7)
    # The default exposures are the months: the same comparison of monthly rates.
    default = compare_monthly_counts(before, after)
    assert default.p_value == pytest.approx(c.p_value, rel=1e-12)
    assert (default.exposure_before, default.exposure_after) == (12.0, 9.0)


def test_overdispersion_keeps_false_alarms_near_alpha_where_the_exact_test_fails() -> None:
    """Same mean both years, monthly counts 10x more variable than Poisson."""
    calendar = list(range(1, 13))
    ours = exact = 0
    for seed in range(200):
        y = overdispersed(seed, np.concatenate([SEASON, SEASON]), size=30.0)
        before = dict(zip(months_of(2020, calendar), y[:12], strict=True))
        after = dict(zip(months_of(2021, calendar), y[12:], strict=True))
        ours += compare_monthly_counts(before, after).significant
        exact += compare_counts(sum(y[:12]), sum(y[12:])).significant
    assert ours <= 20  # nominal 5% = 10 of 200
    assert exact >= 100


def test_poisson_counts_use_the_exact_test_and_say_so() -> None:
    # Each month of 2021 is its 2020 month plus 10%: no month-to-month noise at all.
    calendar = list(range(1, 13))
    base = [200, 180, 220, 210, 190, 230, 250, 240, 200, 210, 220, 250]
    before = dict(zip(months_of(2020, calendar), base, strict=True))
    after = dict(zip(months_of(2021, calendar), [round(n * 1.1) for n in base], strict=True))
    c = compare_monthly_counts(before, after)
    exact = compare_counts(sum(base), sum(after.values()), 12, 12)
    assert c.test == NOT_OVERDISPERSED and c.dispersion == 1.0
    assert c.test.startswith(exact.test)
    assert (c.p_value, c.ci_low, c.ci_high) == (exact.p_value, exact.ci_low, exact.ci_high)
    assert c.direction == exact.direction == "rise"


def test_too_few_months_fall_back_to_the_exact_test() -> None:
    # Three months each side, matched: 2 residual degrees of freedom.
    before = dict(zip(months_of(2020, [4, 5, 6]), [30, 90, 20], strict=True))
    after = dict(zip(months_of(2021, [4, 5, 6]), [80, 20, 100], strict=True))
    c = compare_monthly_counts(before, after)
    assert c.test == FEW_MONTHS and c.dispersion == 1.0
    assert f"fewer than {MIN_DISPERSION_DF} residual degrees of freedom" in c.test
    assert c.p_value == compare_counts(140, 200, 3, 3).p_value
    one = compare_monthly_counts({dt.date(2020, 1, 1): 5}, {dt.date(2021, 1, 1): 9})
    assert one.test == FEW_MONTHS


def test_an_empty_period_and_no_crimes_at_all() -> None:
    calendar = list(range(1, 13))
    none = compare_monthly_counts(
        dict.fromkeys(months_of(2020, calendar), 0), dict.fromkeys(months_of(2021, calendar), 0)
    )
    assert none.p_value == 1.0 and none.direction == "no clear change"
    assert none.test.endswith("no crimes in either period")
    # Twelve months of nothing, then nine very uneven months: Poisson is all that is left.
    gone = compare_monthly_counts(
        dict.fromkeys(months_of(2020, calendar), 0),
        dict(zip(months_of(2021, list(range(1, 10))), [0, 0, 9, 0, 0, 1, 0, 0, 4], strict=True)),
    )
    assert gone.test == ONE_PERIOD_EMPTY and gone.dispersion == 1.0
    assert gone.rate_ratio == math.inf


def test_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="at least one month"):
        compare_monthly_counts({}, {dt.date(2021, 1, 1): 3})
    with pytest.raises(InputError, match=r"after\[2021-02\]"):
        compare_monthly_counts({dt.date(2020, 1, 1): 3}, {dt.date(2021, 2, 1): -1})
    with pytest.raises(InputError, match="dates"):
        compare_monthly_counts({"2020-01": 3}, {dt.date(2021, 2, 1): 1})  # type: ignore[dict-item]
    with pytest.raises(InputError, match="exposure_after"):
        compare_monthly_counts({dt.date(2020, 1, 1): 3}, {dt.date(2021, 1, 1): 1}, exposure_after=0)
    with pytest.raises(InputError, match="alpha"):
        compare_monthly_counts({dt.date(2020, 1, 1): 3}, {dt.date(2021, 1, 1): 1}, alpha=2)


# --- properties -------------------------------------------------------------------------------

monthly_counts = st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=24)


def _series(year: int, values: list[int]) -> dict[dt.date, int]:
    return {dt.date(year + i // 12, i % 12 + 1, 1): v for i, v in enumerate(values)}


@given(monthly_counts, monthly_counts, st.sampled_from([0.01, 0.05, 0.1]))
@settings(max_examples=100, deadline=None)
def test_p_value_and_verdict_properties(before: list[int], after: list[int], alpha: float) -> None:
    c = compare_monthly_counts(_series(2010, before), _series(2020, after), alpha=alpha)
    exact = compare_counts(sum(before), sum(after), len(before), len(after), alpha)
    assert 0.0 <= c.p_value <= 1.0
    assert c.dispersion >= 1.0
    assert c.p_value >= exact.p_value  # never more confident than Poisson
    assert c.ci_low <= exact.ci_low and c.ci_high >= exact.ci_high
    assert c.significant == (c.p_value < alpha)
    assert c.direction == "no clear change" or c.significant
    if c.dispersion == 1.0:  # dispersion 1: exactly the Poisson test
        assert c.p_value == exact.p_value
    if math.isfinite(c.rate_ratio):
        assert c.ci_low <= c.rate_ratio <= c.ci_high


@given(
    st.lists(st.integers(min_value=5, max_value=400), min_size=6, max_size=12),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=4),
    st.lists(st.integers(min_value=-60, max_value=60), min_size=12, max_size=12),
)
@settings(max_examples=100, deadline=None)
def test_doubling_the_noise_never_makes_p_smaller_with_month_effects(
    level: list[int], b0: int, b1: int, noise: list[int]
) -> None:
    """Counts a_m * b_p plus noise that leaves every month's and period's total unchanged
    (+d_m before, -d_m after, sum d = 0): the fit is the same, only the scatter grows."""
    k = len(level)
    d = noise[: k - 1]
    d.append(-sum(d))
    for a, dm in zip(level, d, strict=True):
        assume(a * min(b0, b1) >= 2 * abs(dm))
    calendar = list(range(1, k + 1))

    def test(factor: int) -> Change:
        before = [a * b0 + factor * dm for a, dm in zip(level, d, strict=True)]
        after = [a * b1 - factor * dm for a, dm in zip(level, d, strict=True)]
        return compare_monthly_counts(
            dict(zip(months_of(2020, calendar), before, strict=True)),
            dict(zip(months_of(2021, calendar), after, strict=True)),
        )

    once, twice = test(1), test(2)
    assert twice.rate_ratio == once.rate_ratio
    assert twice.dispersion >= once.dispersion
    assert twice.p_value >= once.p_value


@given(
    st.integers(min_value=20, max_value=3000),
    st.integers(min_value=20, max_value=3000),
    st.lists(st.integers(min_value=-10, max_value=10), min_size=3, max_size=12),
    st.lists(st.integers(min_value=-10, max_value=10), min_size=3, max_size=12),
)
@settings(max_examples=100, deadline=None)
def test_doubling_the_noise_never_makes_p_smaller_without_month_effects(
    mean0: int, mean1: int, noise0: list[int], noise1: list[int]
) -> None:
    """Different calendar months (January-March against October-December...): period only."""

    def centred(noise: list[int]) -> list[int]:
        return [*noise[:-1], -sum(noise[:-1])]

    d0, d1 = centred(noise0), centred(noise1)
    assume(mean0 >= 2 * max(map(abs, d0)) and mean1 >= 2 * max(map(abs, d1)))

    def test(factor: int) -> Change:
        return compare_monthly_counts(
            {dt.date(2020, i + 1, 1): mean0 + factor * d for i, d in enumerate(d0)},
            {dt.date(2021, 12 - i, 1): mean1 + factor * d for i, d in enumerate(d1)},
        )

    once, twice = test(1), test(2)
    assert twice.dispersion >= once.dispersion
    assert twice.p_value >= once.p_value


def test_with_dispersion_near_one_it_approaches_the_poisson_test() -> None:
    """Many months of Poisson scatter (X2/df just above 1) and equal exposures: on the normal
    scale the quasi-Poisson statistic is the exact test's divided by sqrt(phi), so it tends to
    the Poisson test as phi tends to 1."""
    rng = np.random.default_rng(12)
    seen = 0
    for _ in range(20):
        before, after = rng.poisson(400, 120).tolist(), rng.poisson(404, 120).tolist()
        c = compare_monthly_counts(_series(1990, before), _series(2010, after))
        exact = compare_counts(sum(before), sum(after))
        if c.dispersion == 1.0:
            assert c.p_value == exact.p_value
            continue
        seen += 1
        assert c.dispersion < 1.4
        z, z_exact = stats.norm.isf(c.p_value / 2), stats.norm.isf(exact.p_value / 2)
        assert z * math.sqrt(c.dispersion) == pytest.approx(z_exact, rel=0.03, abs=0.03)
    assert seen >= 5
