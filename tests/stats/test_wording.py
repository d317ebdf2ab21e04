"""Plain-English phrases: exact strings, and honesty properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beatbook.errors import InputError
from beatbook.stats import (
    compare_counts,
    describe_change,
    describe_rank,
    describe_rate,
    describe_share,
    describe_trend,
    format_p,
    monthly_trend,
    ordinal,
    rate,
    share,
)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0th"),
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (10, "10th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (14, "14th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (101, "101st"),
        (111, "111th"),
        (112, "112th"),
        (113, "113th"),
        (1001, "1,001st"),
        (np.int64(2), "2nd"),
    ],
)
def test_ordinal(n: int, expected: str) -> None:
    assert ordinal(n) == expected


def test_ordinal_rejects_non_whole_numbers() -> None:
    for bad in (-1, 1.5, True):
        with pytest.raises(InputError):
            ordinal(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0, "p < 0.001"),
        (0.000999, "p < 0.001"),
        (0.001, "p = 0.001"),
        (0.0482, "p = 0.048"),
        (0.4812, "p = 0.48"),
        (1.0, "p = 1"),
        # Two significant figures would print 0.05 for a significant result: add digits.
        (0.04996, "p = 0.04996"),
        (0.0496, "p = 0.0496"),
        (0.05004, "p = 0.05"),
    ],
)
def test_format_p(p: float, expected: str) -> None:
    assert format_p(p) == expected


def test_format_p_rejects_impossible_values() -> None:
    with pytest.raises(InputError):
        format_p(1.2)
    with pytest.raises(InputError):
        format_p(float("nan"))


def test_describe_change_exact_strings() -> None:
    assert describe_change(compare_counts(1234, 1456)) == (
        "from 1,234 to 1,456 crimes, up 18.0%: a significant rise (p < 0.001)"
    )
    assert describe_change(compare_counts(80, 71)) == (
        "from 80 to 71 crimes, down 11.3%: no clear change (p = 0.52)"
    )
    assert describe_change(compare_counts(200, 120), noun="burglaries") == (
        "from 200 to 120 burglaries, down 40.0%: a significant fall (p < 0.001)"
    )
    assert describe_change(compare_counts(100, 100)) == (
        "from 100 to 100 crimes, up 0.0%: no clear change (p = 1)"
    )
    assert describe_change(compare_counts(0, 0)) == "no crimes in either period"
    assert describe_change(compare_counts(0, 12)) == (
        "from 0 to 12 crimes: no earlier crimes to compare with"
    )


def test_describe_change_with_unequal_periods_talks_about_the_rate() -> None:
    assert describe_change(compare_counts(120, 100, 12, 9)) == (
        "from 120 to 100 crimes; allowing for the different periods or "
        "populations, the rate is up 11.1%: no clear change (p = 0.45)"
    )
    assert describe_change(compare_counts(120, 90, 12, 9)) == (
        "from 120 to 90 crimes; allowing for the different periods or "
        "populations, the rate is up 0.0%: no clear change (p = 1)"
    )


@given(
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=0, max_value=3000),
    st.sampled_from([1.0, 9.0, 12.0]),
)
@settings(max_examples=60)
def test_describe_change_says_rise_or_fall_only_when_significant(
    before: int, after: int, exposure_after: float
) -> None:
    c = compare_counts(before, after, 12.0, exposure_after)
    text = describe_change(c)
    if before == 0:  # nothing to compare with: no verdict either way
        assert "significant" not in text and "no clear change" not in text
        return
    assert ("significant" in text) == c.significant
    assert ("no clear change" in text) == (not c.significant)
    assert ("allowing for the different periods" in text) == (exposure_after != 12.0)
    if "rise" in text or "fall" in text:
        assert c.significant and f"significant {c.direction}" in text


def test_describe_rate() -> None:
    assert describe_rate(rate(3493, 41500)) == "84.2 per 1,000 residents (95% CI 81.4–87.0)"
    assert describe_rate(rate(3, 41500)) == "0.07 per 1,000 residents (95% CI 0.01–0.21)"
    assert describe_rate(rate(125_000, 1_000_000, per=100_000, conf=0.9)) == (
        "12,500.0 per 100,000 residents (90% CI 12,441.9–12,558.3)"
    )


def test_describe_share() -> None:
    assert describe_share(share(1577, 41500)) == "3.8% (1,577 of 41,500)"
    assert describe_share(share(1, 41500)) == "0.0024% (1 of 41,500)"
    assert describe_share(share(41500, 41500)) == "100.0% (41,500 of 41,500)"


def test_describe_rank() -> None:
    assert describe_rank(3, 2, 4, 9, "local authorities in Leicestershire") == (
        "3rd highest of 9 local authorities in Leicestershire (plausible range 2nd–4th)"
    )
    assert describe_rank(1, 1, 1, 99, "community safety partnerships") == (
        "highest of 99 community safety partnerships (plausible range 1st only)"
    )
    assert describe_rank(30, 21, 43, 1200, "wards") == (
        "30th highest of 1,200 wards (plausible range 21st–43rd)"
    )
    with pytest.raises(InputError, match="between 1 and n"):
        describe_rank(10, 2, 4, 9, "areas")
    with pytest.raises(InputError, match="reversed"):
        describe_rank(3, 4, 2, 9, "areas")


def test_describe_trend() -> None:
    months = np.arange(48)
    rising = monthly_trend(np.random.default_rng(1).poisson(50 * np.exp(0.03 * months)).tolist())
    assert describe_trend(rising) == (
        "rising by 43.4% a year over 48 months (95% CI +39.9% to +47.1%), "
        "a significant rise (p < 0.001)"
    )
    steep = monthly_trend([0] * 5 + [300] + [0] * 6 + [1])
    assert describe_trend(steep) == (
        "no clear trend over 13 months "
        "(estimated -57.2% a year, 95% CI -100.0% to +66,966.6%; p = 0.8)"
    )
    flat = monthly_trend(np.random.default_rng(1).poisson(50, 48).tolist())
    text = describe_trend(flat)
    assert text.startswith("no clear trend over 48 months (estimated ")
    assert "rise" not in text and "fall" not in text
    assert describe_trend(monthly_trend([0] * 12), noun="robberies") == (
        "no robberies in any of the 12 months: no trend to report"
    )
    assert describe_trend(monthly_trend([0] * 11 + [4])) == (
        "no trend can be estimated over 12 months: all the crimes fell in one end month"
    )
