"""Ranks on rates, with simulated rank intervals."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy import stats

from beatbook.errors import InputError
from beatbook.stats import rank_rates
from beatbook.stats.rank import RANK_FEW_MONTHS, RANK_OVERDISPERSED, RANK_POISSON

NAMES = ["Blaby", "Charnwood", "Harborough", "Leicester", "Melton"]
COUNTS = [5200, 9800, 5100, 38000, 2900]
POPULATIONS = [101_000, 185_000, 95_000, 355_000, 51_000]


def test_columns_types_and_order() -> None:
    table = rank_rates(NAMES, COUNTS, POPULATIONS, n_sim=2000)
    assert table.columns == [
        "name",
        "count",
        "population",
        "rate",
        "rank",
        "rank_low",
        "rank_high",
        "n_peers",
        "dispersion",
        "method",
    ]
    assert table.schema["rank"] == pl.Int64 and table.schema["rate"] == pl.Float64
    assert table["n_peers"].to_list() == [5] * 5
    assert table["dispersion"].to_list() == [1.0] * 5  # no monthly counts: Poisson
    assert table["method"].to_list() == [RANK_POISSON] * 5
    assert table["rank"].to_list() == sorted(table["rank"].to_list())
    rates = {n: c / p * 1000 for n, c, p in zip(NAMES, COUNTS, POPULATIONS, strict=True)}
    assert table["rate"].to_list() == pytest.approx([rates[n] for n in table["name"]])
    assert table["name"][0] == max(rates, key=rates.__getitem__)  # Leicester: 107 per 1,000


def test_ranks_on_rates_not_counts() -> None:
    # The big area has the most crimes but the lowest rate.
    table = rank_rates(["big", "small"], [1000, 300], [100_000, 10_000], n_sim=500)
    assert table.filter(pl.col("name") == "small")["rank"].item() == 1
    assert table.filter(pl.col("name") == "big")["rank"].item() == 2


def test_ties_share_the_smallest_rank() -> None:
    table = rank_rates(["a", "b", "c", "d"], [50, 30, 30, 10], [1000] * 4, n_sim=500)
    assert dict(zip(table["name"], table["rank"], strict=True)) == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_deterministic_for_a_seed() -> None:
    first = rank_rates(NAMES, COUNTS, POPULATIONS, seed=42, n_sim=3000)
    again = rank_rates(NAMES, COUNTS, POPULATIONS, seed=42, n_sim=3000)
    assert_frame_equal(first, again)


def test_rank_interval_against_the_exact_two_area_probability() -> None:
    """With equal populations, P(rate_A > rate_B) = P(Beta(kA + .5, kB + .5) > 1/2) exactly."""
    for k_a, k_b in [(112, 100), (125, 100), (140, 100), (160, 100)]:
        p_first = stats.beta.sf(0.5, k_a + 0.5, k_b + 0.5)
        table = rank_rates(["A", "B"], [k_a, k_b], [1.0, 1.0], n_sim=20_000, seed=3)
        row = table.filter(pl.col("name") == "A").row(0, named=True)
        assert row["rank"] == 1 and row["rank_low"] == 1
        if p_first > 0.985:
            assert row["rank_high"] == 1, (k_a, p_first)
        elif p_first < 0.965:
            assert row["rank_high"] == 2, (k_a, p_first)
        else:  # pragma: no cover - the cases above are chosen away from the boundary
            pytest.fail("choose counts away from the 97.5% boundary")


def test_well_separated_areas_have_certain_ranks() -> None:
    table = rank_rates(["a", "b", "c"], [9000, 5000, 1000], [10_000] * 3, n_sim=2000)
    assert table["rank_low"].to_list() == [1, 2, 3]
    assert table["rank_high"].to_list() == [1, 2, 3]


def test_small_counts_give_wide_rank_intervals() -> None:
    table = rank_rates(["a", "b", "c", "d"], [3, 2, 2, 1], [1000] * 4, n_sim=4000)
    widths = (table["rank_high"] - table["rank_low"]).to_list()
    assert min(widths) >= 2


def test_lower_confidence_gives_narrower_intervals() -> None:
    wide = rank_rates(NAMES, COUNTS, POPULATIONS, conf=0.99, n_sim=4000, seed=1)
    narrow = rank_rates(NAMES, COUNTS, POPULATIONS, conf=0.5, n_sim=4000, seed=1)
    assert (narrow["rank_low"] >= wide["rank_low"]).all()
    assert (narrow["rank_high"] <= wide["rank_high"]).all()


@pytest.mark.parametrize(
    ("names", "counts", "populations", "message"),
    [
        (["a"], [1], [10.0], "at least 2"),
        (["a", "b"], [1], [10.0, 10.0], "same length"),
        (["a", "a"], [1, 2], [10.0, 10.0], "repeated: a"),
        (["a", "b"], [1, -2], [10.0, 10.0], r"counts\[1\] \(b\)"),
        (["a", "b"], [1, 2], [10.0, 0.0], r"populations\[1\] \(b\)"),
    ],
)
def test_rejects_bad_input(
    names: list[str], counts: list[int], populations: list[float], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        rank_rates(names, counts, populations)


def test_rejects_bad_options() -> None:
    with pytest.raises(InputError, match="n_sim"):
        rank_rates(["a", "b"], [1, 2], [1.0, 1.0], n_sim=0)
    with pytest.raises(InputError, match="conf"):
        rank_rates(["a", "b"], [1, 2], [1.0, 1.0], conf=1.0)


areas = st.integers(min_value=2, max_value=8).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(min_value=0, max_value=100_000), min_size=n, max_size=n),
        st.lists(st.floats(min_value=1_000, max_value=1e6), min_size=n, max_size=n),
    )
)


@given(areas, st.integers(min_value=0, max_value=2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_rank_properties(data: tuple[list[int], list[float]], seed: int) -> None:
    counts, populations = data
    names = [f"area {i}" for i in range(len(counts))]
    table = rank_rates(names, counts, populations, seed=seed, n_sim=1000)
    again = rank_rates(names, counts, populations, seed=seed, n_sim=1000)
    assert_frame_equal(table, again)
    assert table["rank"][0] == 1
    assert table["rate"][0] == max(c / p * 1000 for c, p in zip(counts, populations, strict=True))
    assert (table["rank_low"] <= table["rank_high"]).all()
    assert min(table["rank_low"].to_list()) >= 1
    assert max(table["rank_high"].to_list()) <= len(counts)


@given(
    st.integers(min_value=2, max_value=8).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(min_value=2_000, max_value=100_000), min_size=n, max_size=n),
            st.lists(st.floats(min_value=10_000, max_value=1e6), min_size=n, max_size=n),
        )
    ),
    st.integers(min_value=0, max_value=1000),
)
@settings(max_examples=50, deadline=None)
def test_rank_interval_contains_point_rank_when_counts_are_large(
    data: tuple[list[int], list[float]], seed: int
) -> None:
    counts, populations = data
    names = [f"area {i}" for i in range(len(counts))]
    table = rank_rates(names, counts, populations, seed=seed, n_sim=2000)
    assert (table["rank_low"] <= table["rank"]).all()
    assert (table["rank"] <= table["rank_high"]).all()


# --- with monthly counts: each peer's over-dispersion --------------------------------------------


def _monthly(seed: int, size: float | None) -> list[list[int]]:
    """Twelve months of each peer: a shared season, then Poisson (size None) or negative
    binomial scatter (variance mean + mean^2 / size)."""
    rng = np.random.default_rng(seed)
    season = 1 + 0.3 * np.sin(np.arange(12) / 12 * 2 * np.pi)
    rows = []
    for count in COUNTS:
        mean = count / 12 * season
        draws = (
            rng.poisson(mean) if size is None else rng.negative_binomial(size, size / (size + mean))
        )
        rows.append([int(x) for x in draws])
    return rows


def _reference_dispersions(monthly: list[list[int]]) -> list[float]:
    """statsmodels: Poisson GLM peers + months; each peer's Pearson chi2 over its df share."""
    n, months = len(monthly), len(monthly[0])
    y = np.array(monthly, dtype=float).ravel()
    peer = np.repeat(np.arange(n), months)
    month = np.tile(np.arange(months), n)
    exog = np.column_stack(
        [np.ones(n * months)]
        + [(peer == i).astype(float) for i in range(1, n)]
        + [(month == j).astype(float) for j in range(1, months)]
    )
    fit = sm.GLM(y, exog, family=sm.families.Poisson()).fit()
    assert fit.df_resid == (n - 1) * (months - 1)
    share = fit.df_resid / n
    return [max(1.0, float(np.sum(fit.resid_pearson[peer == i] ** 2)) / share) for i in range(n)]


def test_monthly_dispersion_matches_statsmodels_and_widens_the_intervals() -> None:
    monthly = _monthly(1, size=8.0)
    counts = [sum(row) for row in monthly]
    table = rank_rates(NAMES, counts, POPULATIONS, n_sim=4000, seed=2, monthly=monthly)
    plain = rank_rates(NAMES, counts, POPULATIONS, n_sim=4000, seed=2)
    expected = dict(zip(NAMES, _reference_dispersions(monthly), strict=True))
    got = dict(zip(table["name"], table["dispersion"], strict=True))
    assert got == {k: pytest.approx(v, rel=1e-6) for k, v in expected.items()}
    assert max(got.values()) > 10  # Leicester's monthly counts swing far beyond Poisson
    assert table["method"].to_list() == [RANK_OVERDISPERSED] * 5
    assert table["rank"].to_list() == plain["rank"].to_list()
    assert (
        (table["rank_high"] - table["rank_low"]) >= (plain["rank_high"] - plain["rank_low"])
    ).all()
    assert (table["rank_high"] - table["rank_low"]).sum() > (
        plain["rank_high"] - plain["rank_low"]
    ).sum()


def test_monthly_dispersion_one_gives_the_poisson_draws() -> None:
    # Every peer's months exactly in proportion to the month totals: X2 = 0, dispersion 1.
    monthly = [[c // 12] * 12 for c in [1200, 2400, 600]]
    counts = [sum(row) for row in monthly]
    names, pops = ["a", "b", "c"], [10_000.0, 20_000.0, 5_000.0]
    table = rank_rates(names, counts, pops, seed=4, n_sim=3000, monthly=monthly)
    plain = rank_rates(names, counts, pops, seed=4, n_sim=3000)
    assert table["dispersion"].to_list() == [1.0] * 3
    assert table["method"].to_list() == [RANK_OVERDISPERSED] * 3
    assert_frame_equal(table.drop("method"), plain.drop("method"))


def test_too_few_months_keep_poisson_and_say_so() -> None:
    monthly = [row[:3] for row in _monthly(2, size=4.0)]
    counts = [sum(row) for row in monthly]
    table = rank_rates(NAMES, counts, POPULATIONS, n_sim=500, monthly=monthly)
    assert table["method"].to_list() == [RANK_FEW_MONTHS] * 5
    assert table["dispersion"].to_list() == [1.0] * 5


def test_monthly_counts_must_fit_the_areas() -> None:
    monthly = _monthly(3, size=None)
    counts = [sum(row) for row in monthly]
    with pytest.raises(InputError, match="4 rows but there are 5 areas"):
        rank_rates(NAMES, counts, POPULATIONS, monthly=monthly[:4])
    with pytest.raises(InputError, match="same months"):
        rank_rates(NAMES, counts, POPULATIONS, monthly=[*monthly[:4], monthly[4][:6]])
    with pytest.raises(InputError, match="do not add up to the count for: Blaby"):
        rank_rates(NAMES, [counts[0] + 1, *counts[1:]], POPULATIONS, monthly=monthly)
