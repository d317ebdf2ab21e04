"""Did a priority work? Difference-in-differences on monthly counts, then from the real store.

The reference is statsmodels, fitted here independently: a quasi-Poisson GLM of the monthly
counts with ``group x period`` (place / comparison x before / selection / during), the
dispersion the Pearson chi-square over its residual degrees of freedom floored at 1, and
Wald t intervals of the two contrasts (during vs before, during vs selection). On the real
store the monthly counts are checked against DuckDB queries over the raw files, the months
compared are checked to leave out the months the proposal was selected on, and a real spike
(a place proposed because it just spiked, with no action) is no longer called a fall.
"""

from __future__ import annotations

import doctest
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from priorities_support import glm
from scipy import stats

from beatbook.errors import InputError
from beatbook.priorities import assess as assess_mod
from beatbook.priorities import review
from beatbook.priorities.assess import POISSON, QUASI_POISSON, difference_in_differences

SERIES = [
    # (place before, during, comparison before, during, place selection, comparison selection)
    (
        [5, 6, 4, 5, 6, 4],
        [1, 2, 2],
        [100, 98, 103, 99, 101, 100],
        [99, 101, 100],
        [9, 11, 10],
        [100, 102, 98],
    ),
    (
        [2, 0, 1, 4, 3, 2],
        [3, 1, 2],
        [40, 61, 35, 70, 52, 45],
        [66, 38, 58],
        [6, 9, 5],
        [48, 71, 40],
    ),
    (
        [12, 3, 8, 1, 9, 7],
        [2, 9, 1, 4],
        [210, 260, 190, 300, 240, 220],
        [230, 280, 205, 250],
        [15, 2, 13],
        [250, 200, 270],
    ),
    (
        [1, 1, 2, 1, 0, 1],
        [1, 0, 1],
        [30, 31, 29, 30, 32, 28],
        [30, 29, 31],
        [3, 4, 2],
        [30, 31, 30],
    ),
    ([3, 4, 2, 5, 3, 4], [7, 9, 8], [80, 120, 60, 140, 90, 110], [100, 95, 105], [], []),
]


@pytest.mark.parametrize("series", SERIES)
def test_quasi_poisson_agrees_with_a_statsmodels_glm(series: tuple[list[int], ...]) -> None:
    tb, td, cb, cd, ts, cs = series
    a = difference_in_differences(tb, td, cb, cd, treated_selection=ts, comparison_selection=cs)
    ref = glm(tb, td, cb, cd, ts, cs)
    assert a.test == QUASI_POISSON and not a.corrected
    assert a.dispersion == pytest.approx(ref["dispersion"], rel=1e-9)
    assert a.residual_df == ref["df"]
    ratio, low, high, p = ref["before"]
    assert (a.ratio, a.ci_low, a.ci_high, a.p_value) == pytest.approx(
        (ratio, low, high, p), rel=1e-6
    )
    if ts:
        assert (
            a.selection_ratio,
            a.selection_ci_low,
            a.selection_ci_high,
            a.selection_p_value,
        ) == pytest.approx(ref["selection"], rel=1e-6)
    else:
        assert a.months_selection == 0 and math.isnan(a.selection_ratio)
    assert (a.treated_before, a.treated_during, a.comparison_before, a.comparison_during) == (
        sum(tb),
        sum(td),
        sum(cb),
        sum(cd),
    )
    assert (a.treated_selection, a.comparison_selection, a.months_selection) == (
        sum(ts),
        sum(cs),
        len(ts),
    )


def test_month_to_month_variation_widens_the_interval() -> None:
    # The same totals; in the second the comparison places swing from month to month.
    steady = difference_in_differences([6] * 6, [2] * 3, [100] * 6, [100] * 3)
    swinging = difference_in_differences(
        [6] * 6, [2] * 3, [40, 160, 60, 140, 30, 170], [20, 180, 100]
    )
    assert steady.dispersion == 1.0 and swinging.dispersion > 10
    assert steady.ratio == pytest.approx(swinging.ratio)
    assert swinging.ci_high > steady.ci_high and swinging.ci_low < steady.ci_low
    assert steady.verdict == "fell more" and swinging.verdict == "no clear difference"


def test_poisson_test_is_the_old_wald_test_on_the_totals() -> None:
    tb, td, cb, cd = [12, 10, 15, 9, 14, 12], [3, 2, 4], [40] * 6, [30] * 3
    a = difference_in_differences(tb, td, cb, cd, test="poisson")
    ref = glm([sum(tb)], [sum(td)], [sum(cb)], [sum(cd)], quasi=False)  # one row per total
    assert a.test == POISSON and a.dispersion == 1.0
    assert (a.ratio, a.ci_low, a.ci_high, a.p_value) == pytest.approx(ref["before"], rel=1e-6)


def test_too_few_months_to_estimate_the_dispersion_says_so() -> None:
    a = difference_in_differences([3, 5], [1], [50, 70], [40])  # 6 counts, 4 parameters: df 2
    assert a.residual_df == 2 and a.dispersion == 1.0
    assert a.test.startswith(POISSON) and "too few months" in a.test


def test_expected_and_difference_by_hand() -> None:
    # 12 a month before at the place (72 in 6), 3 a month during (9 in 3); comparison places
    # went from 40 to 30 a month, so 12 x 30/40 = 9 a month was expected: 6 fewer than that.
    a = difference_in_differences([12] * 6, [3] * 3, [40] * 6, [30] * 3)
    assert a.expected_during == pytest.approx(9.0)
    assert a.difference_per_month == pytest.approx(3 - 9)
    assert a.ratio == pytest.approx((9 / 72) / (90 / 240))
    assert a.verdict == "fell more"
    assert a.wording.startswith(
        "fell more than at comparison places: 12.0 a month before, 3.0 during"
    )
    assert "against 9.0 expected" in a.wording
    assert f"ratio {a.ratio:.2f}, 95% CI {a.ci_low:.2f}-{a.ci_high:.2f}" in a.wording


@pytest.mark.parametrize("zero_at", range(4))
def test_a_zero_total_adds_one_half_to_every_total(zero_at: int) -> None:
    months = [[2, 1, 2, 1, 1, 1], [2, 2, 2], [8, 9, 7, 9, 8, 9], [15, 15, 15]]
    months[zero_at] = [0] * len(months[zero_at])
    a = difference_in_differences(*months)
    tb, td, cb, cd = (sum(m) + 0.5 for m in months)
    assert a.corrected
    assert a.ratio == pytest.approx((td / tb) / (cd / cb), rel=1e-12)
    se = math.sqrt(a.dispersion * (1 / tb + 1 / td + 1 / cb + 1 / cd))
    q = stats.t.ppf(0.975, a.residual_df)
    assert (a.ci_low, a.ci_high) == pytest.approx(
        (a.ratio * math.exp(-q * se), a.ratio * math.exp(q * se)), rel=1e-9
    )
    assert a.treated_before + a.treated_during + a.comparison_before + a.comparison_during == sum(
        map(sum, months)
    )


def test_the_selection_months_are_compared_apart() -> None:
    # A spike that persists: 2 a month before, 8 when it was proposed, 8 during; the rest of
    # the ward flat. Against "before" alone it rose more, but it only stayed where it was
    # when it was picked out, so nothing is claimed.
    flat = [100] * 6, [100] * 3, [100] * 3
    a = difference_in_differences(
        [2] * 6, [8] * 3, flat[0], flat[1], treated_selection=[8] * 3, comparison_selection=flat[2]
    )
    assert a.ci_low > 1 and a.selection_ci_low < 1 < a.selection_ci_high
    assert a.verdict == "no clear difference"
    assert a.wording.startswith("no clear difference from comparison places")
    assert "8.0 a month in the 3 months it was proposed on" in a.wording
    # A spike that went back to where it was: nothing claimed either.
    back = difference_in_differences(
        [2] * 6, [2] * 3, flat[0], flat[1], treated_selection=[8] * 3, comparison_selection=flat[2]
    )
    assert back.selection_ci_high < 1 and back.verdict == "no clear difference"
    # Below where it was before the spike: a fall against both.
    below = difference_in_differences(
        [6] * 6, [1] * 3, flat[0], flat[1], treated_selection=[8] * 3, comparison_selection=flat[2]
    )
    assert below.ci_high < 1 and below.selection_ci_high < 1 and below.verdict == "fell more"
    # Without selection months (a priority raised by residents with nothing stored before it)
    # the verdict is the before contrast's.
    alone = difference_in_differences([2] * 6, [8] * 3, flat[0], flat[1])
    assert alone.months_selection == 0 and alone.verdict == "rose more"


def test_a_wider_confidence_level_can_turn_a_result_into_no_clear_difference() -> None:
    counts = ([10] * 6, [5] * 6, [100] * 6, [100] * 6)
    assert difference_in_differences(*counts).verdict == "fell more"
    strict = difference_in_differences(*counts, alpha=0.001)
    assert strict.verdict == "no clear difference" and "99.9% CI" in strict.wording


@pytest.mark.parametrize(
    "series",
    [
        ([0] * 6, [0] * 3, [8] * 6, [7] * 3),
        ([1] * 6, [1] * 3, [0] * 6, [0] * 3),
        ([0], [0], [0], [0]),
    ],
)
def test_not_assessable_without_crimes_on_one_side(series: tuple[list[int], ...]) -> None:
    a = difference_in_differences(*series)
    assert a.verdict == "not assessable"
    assert a.wording.startswith("not assessable: no crimes")
    assert math.isnan(a.ratio) and math.isnan(a.ci_low) and math.isnan(a.p_value)
    assert a.to_dict()["ratio"] is None  # JSON-safe


def test_crimes_only_in_the_selection_months_are_assessable() -> None:
    # It spiked from nothing and went back to nothing: no clear difference, not "no crimes".
    a = difference_in_differences(
        [0] * 6,
        [0] * 3,
        [20] * 6,
        [20] * 3,
        treated_selection=[3, 4, 2],
        comparison_selection=[20] * 3,
    )
    assert a.corrected and a.verdict == "no clear difference"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([-1], [3], [4], [5]), {}, "must be zero or more"),
        (([1], [3], [4], [1.5]), {}, "whole number"),
        (([], [3], [], [5]), {}, "at least one month before and during"),
        (([1], [], [4], []), {}, "at least one month before and during"),
        (([1, 2], [3], [4], [5]), {}, "before: the place has 2 months"),
        (([1], [3], [4], [5]), {"treated_selection": [1]}, "selection: the place has 1 months"),
        (([1], [3], [4], [5]), {"test": "exact"}, "test 'exact'"),
        (([1], [3], [4], [5]), {"alpha": 1.5}, "alpha"),
    ],
)
def test_bad_counts_or_months_are_refused(
    args: tuple[list[int], ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        difference_in_differences(*args, **kwargs)


def test_doctest_example() -> None:
    result = doctest.testmod(assess_mod, verbose=False)
    assert result.attempted >= 1 and result.failed == 0
    result = doctest.testmod(review, verbose=False)
    assert result.attempted >= 1 and result.failed == 0


ASSESSMENT_FIELDS = {
    "treated_before",
    "treated_during",
    "comparison_before",
    "comparison_during",
    "months_before",
    "months_during",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "expected_during",
    "difference_per_month",
    "corrected",
    "treated_selection",
    "comparison_selection",
    "months_selection",
    "selection_ratio",
    "selection_ci_low",
    "selection_ci_high",
    "selection_p_value",
    "test",
    "dispersion",
    "residual_df",
    "verdict",
    "wording",
}


def test_to_dict_has_the_documented_fields() -> None:
    assert set(difference_in_differences(*SERIES[0][:4]).to_dict()) == ASSESSMENT_FIELDS


month_counts = st.lists(st.integers(0, 200), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(1, 8), st.integers(0, 3), st.integers(1, 6))
def test_swapping_treated_and_comparison_inverts_the_ratio(
    data: st.DataObject, nb: int, ns: int, nd: int
) -> None:
    def draw(n: int) -> list[int]:
        return data.draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))

    tb, ts, td, cb, cs, cd = draw(nb), draw(ns), draw(nd), draw(nb), draw(ns), draw(nd)
    a = difference_in_differences(tb, td, cb, cd, treated_selection=ts, comparison_selection=cs)
    b = difference_in_differences(cb, cd, tb, td, treated_selection=cs, comparison_selection=ts)
    if a.verdict == "not assessable" or b.verdict == "not assessable":
        return
    assert a.ratio * b.ratio == pytest.approx(1.0, rel=1e-9)
    assert a.ci_low * b.ci_high == pytest.approx(1.0, rel=1e-9)
    assert a.p_value == pytest.approx(b.p_value, rel=1e-9)
    assert a.dispersion == pytest.approx(b.dispersion, rel=1e-9)
    swapped = {"fell more": "rose more", "rose more": "fell more"}
    assert b.verdict == swapped.get(a.verdict, a.verdict)
    assert a.ci_low <= a.ratio <= a.ci_high
    # A claim needs both contrasts; the interval of each is at least as wide as Poisson's.
    if a.verdict == "fell more":
        assert a.ci_high < 1 and (not ns or a.selection_ci_high < 1)
    poisson = difference_in_differences(
        tb, td, cb, cd, treated_selection=ts, comparison_selection=cs, test="poisson"
    )
    assert a.ci_low <= poisson.ci_low * (1 + 1e-12) and a.ci_high >= poisson.ci_high * (1 - 1e-12)


def test_false_claims_stay_within_alpha_on_overdispersed_counts() -> None:
    """Seeded negative-binomial months (variance 3x the mean at the place, month effects
    shared with the ward), no effect: the quasi-Poisson test claims a fall or a rise about
    alpha/2 of the time each; the Poisson test, which ignores the variation, far more."""
    rng = np.random.default_rng(20261204)
    claims = {"quasi-poisson": 0, "poisson": 0}
    runs = 1000
    for _ in range(runs):
        month = rng.gamma(20, 1 / 20, size=12)  # shared month-to-month swings

        def nb(mean: np.ndarray, size: float) -> list[int]:
            return [int(x) for x in rng.negative_binomial(size, size / (size + mean))]

        place = nb(3 * month, 1.5)
        ward = nb(60 * month, 20)
        for test in claims:
            a = difference_in_differences(
                place[:6],
                place[9:],
                ward[:6],
                ward[9:],
                treated_selection=place[6:9],
                comparison_selection=ward[6:9],
                test=test,
            )
            claims[test] += a.verdict in ("fell more", "rose more")
    assert claims["quasi-poisson"] / runs <= 0.05
    assert claims["poisson"] / runs > 2 * claims["quasi-poisson"] / runs
