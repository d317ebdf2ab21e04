"""Rates and shares: exact intervals checked against published tables and other implementations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson

from beatbook.errors import InputError
from beatbook.stats import Rate, Share, poisson_ci, rate, share

# Published exact 95% limits for a Poisson count (Garwood 1936, as reproduced in
# standard tables of Poisson confidence limits), to the printed precision.
GARWOOD_TABLE = [
    (0, 0.0, 3.689),
    (1, 0.0253, 5.572),
    (5, 1.623, 11.668),
    (10, 4.795, 18.390),
]


@pytest.mark.parametrize(("k", "low", "high"), GARWOOD_TABLE)
def test_poisson_ci_matches_published_table(k: int, low: float, high: float) -> None:
    got_low, got_high = poisson_ci(k)
    assert got_low == pytest.approx(low, abs=5e-4 if low >= 0.1 else 5e-5)
    assert got_high == pytest.approx(high, abs=5e-4)


def _poisson_ci_by_root_finding(k: int, conf: float) -> tuple[float, float]:
    """The exact interval from its definition: tail probabilities equal (1 - conf) / 2."""
    tail = (1 - conf) / 2
    high = optimize.brentq(lambda mu: stats.poisson.cdf(k, mu) - tail, 1e-12, 10 * k + 50)
    if k == 0:
        return 0.0, high
    low = optimize.brentq(lambda mu: stats.poisson.sf(k - 1, mu) - tail, 1e-12, 10 * k + 50)
    return low, high


@pytest.mark.parametrize("conf", [0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("k", [0, 1, 2, 3, 7, 15, 42, 100, 1234])
def test_poisson_ci_matches_root_finding_and_statsmodels(k: int, conf: float) -> None:
    low, high = poisson_ci(k, conf)
    ref_low, ref_high = _poisson_ci_by_root_finding(k, conf)
    assert low == pytest.approx(ref_low, rel=1e-7, abs=1e-12)
    assert high == pytest.approx(ref_high, rel=1e-7)
    sm_low, sm_high = confint_poisson(k, 1, method="exact-c", alpha=1 - conf)
    assert low == pytest.approx(float(sm_low), rel=1e-9, abs=1e-12)
    assert high == pytest.approx(float(sm_high), rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**8), st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
def test_poisson_ci_is_the_chi_square_form_to_the_last_bit(k: int, conf: float) -> None:
    """The documented form, ``chi2.ppf(a/2, 2k) / 2`` and ``chi2.ppf(1 - a/2, 2k + 2) / 2``,
    gives the very same floats (poisson_ci calls scipy.special, not scipy.stats)."""
    alpha = 1 - conf
    low = 0.0 if k == 0 else float(stats.chi2.ppf(alpha / 2, 2 * k)) / 2
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * k + 2)) / 2
    assert poisson_ci(k, conf) == (low, high)


def test_poisson_ci_has_at_least_nominal_coverage() -> None:
    """Exact coverage P(low(K) <= mu <= high(K)), K ~ Poisson(mu), is >= 95% for every mu."""
    ks = np.arange(0, 200)
    limits = np.array([poisson_ci(int(k)) for k in ks])
    for mu in np.linspace(0.05, 60, 400):
        covered = (limits[:, 0] <= mu) & (mu <= limits[:, 1])
        coverage = stats.poisson.pmf(ks, mu)[covered].sum()
        assert coverage >= 0.95 - 1e-9, mu


@given(st.integers(min_value=0, max_value=100_000))
def test_poisson_ci_contains_the_count(k: int) -> None:
    low, high = poisson_ci(k)
    assert 0 <= low <= k <= high


@given(st.integers(min_value=0, max_value=100_000), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_poisson_ci_is_monotone_in_count(k: int, conf: float) -> None:
    low, high = poisson_ci(k, conf)
    next_low, next_high = poisson_ci(k + 1, conf)
    assert next_low >= low
    assert next_high >= high


@given(st.integers(min_value=1, max_value=50_000))
def test_poisson_ci_narrows_relative_to_count(k: int) -> None:
    low, high = poisson_ci(k)
    low2, high2 = poisson_ci(2 * k)
    assert (high2 - low2) / (2 * k) < (high - low) / k


@given(st.integers(min_value=0, max_value=1000))
def test_wider_confidence_gives_wider_interval(k: int) -> None:
    low90, high90 = poisson_ci(k, 0.90)
    low99, high99 = poisson_ci(k, 0.99)
    assert low99 <= low90 and high99 > high90


def test_rate_scales_the_count_interval() -> None:
    r = rate(10, 5000)
    assert isinstance(r, Rate)
    assert r.rate == 2.0
    low, high = poisson_ci(10)
    assert r.ci_low == pytest.approx(low * 1000 / 5000)
    assert r.ci_high == pytest.approx(high * 1000 / 5000)
    per_100k = rate(10, 5000, per=100_000, conf=0.9)
    assert per_100k.rate == pytest.approx(200.0)
    assert per_100k.ci_high == pytest.approx(poisson_ci(10, 0.9)[1] * 20)
    assert per_100k.conf == 0.9


@given(
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=1.0, max_value=1e8, allow_nan=False),
)
def test_rate_interval_contains_the_rate(count: int, population: float) -> None:
    r = rate(count, population)
    assert r.ci_low <= r.rate <= r.ci_high
    assert r.rate == pytest.approx(count / population * 1000)


def test_rate_to_dict_is_json_safe_and_full_precision() -> None:
    r = rate(np.int64(7), np.float64(3333.0))  # type: ignore[arg-type]
    d = r.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert type(d["count"]) is int and type(d["population"]) is float
    assert d["rate"] == 7 / 3333 * 1000  # not rounded
    with pytest.raises(AttributeError):
        r.rate = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 100), "count"),
        ((2.5, 100), "whole number"),
        ((True, 100), "whole number"),
        ((5, 0), "population"),
        ((5, -10), "population"),
        ((5, math.nan), "population"),
        ((5, math.inf), "population"),
    ],
)
def test_rate_rejects_bad_input(args: tuple[float, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        rate(*args)  # type: ignore[arg-type]


def test_rate_rejects_bad_per_and_conf() -> None:
    with pytest.raises(InputError, match="per"):
        rate(5, 100, per=0)
    with pytest.raises(InputError, match="conf"):
        rate(5, 100, conf=1.0)
    with pytest.raises(InputError, match="conf"):
        poisson_ci(5, conf=0)
    with pytest.raises(InputError, match="count"):
        poisson_ci(-3)


def test_rate_accepts_integral_floats() -> None:
    assert rate(12.0, 1000).count == 12  # type: ignore[arg-type]


def test_share_matches_clopper_pearson_beta_form() -> None:
    s = share(1577, 41500)
    assert isinstance(s, Share)
    assert s.share == pytest.approx(0.038)
    # Clopper-Pearson via beta quantiles, computed independently by statsmodels.
    low, high = proportion_confint(1577, 41500, alpha=0.05, method="beta")
    assert s.ci_low == pytest.approx(low, rel=1e-9)
    assert s.ci_high == pytest.approx(high, rel=1e-9)
    # And directly from the beta distribution (Clopper & Pearson 1934).
    assert s.ci_low == pytest.approx(stats.beta.ppf(0.025, 1577, 41500 - 1577 + 1), rel=1e-9)
    assert s.ci_high == pytest.approx(stats.beta.ppf(0.975, 1578, 41500 - 1577), rel=1e-9)


def test_share_known_small_case() -> None:
    # 0 of 10: upper limit is 1 - 0.025^(1/10) = 0.3085 (the "rule of three" region).
    s = share(0, 10)
    assert s.ci_low == 0.0
    assert s.ci_high == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    full = share(10, 10)
    assert full.ci_high == 1.0
    assert full.ci_low == pytest.approx(0.025 ** (1 / 10), rel=1e-9)


@given(
    st.integers(min_value=1, max_value=10**6).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    )
)
@settings(max_examples=100)
def test_share_interval_within_unit_range_and_contains_share(pair: tuple[int, int]) -> None:
    part, base = pair
    s = share(part, base)
    assert 0.0 <= s.ci_low <= s.share <= s.ci_high <= 1.0
    assert s.share == part / base


def test_share_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="base must be greater than 0"):
        share(0, 0)
    with pytest.raises(InputError, match="larger than base"):
        share(11, 10)
    with pytest.raises(InputError, match="part"):
        share(-1, 10)


def test_share_to_dict_is_json_safe() -> None:
    d = share(3, 7).to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert set(d) == {"part", "base", "share", "ci_low", "ci_high", "conf"}
