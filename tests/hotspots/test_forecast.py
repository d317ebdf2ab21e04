"""Forecasts: no leakage past the cutoff, baselines and metrics as defined, real backtests sane."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely

from beatbook import geo
from beatbook.errors import LeakageError
from beatbook.figures import hotspots as hotspot_figures
from beatbook.hotspots.evaluate import backtest, bootstrap_ratio, score_forecast, top_cells
from beatbook.hotspots.forecast import METHODS, forecast
from beatbook.store import Store

MONTHS = [dt.date(2021, m, 1) for m in range(1, 13)]


@pytest.fixture(scope="module")
def small() -> tuple[geo.Grid, np.ndarray]:
    """A 6 x 5 grid with Poisson counts, one busy corner, 12 months."""
    grid = geo.grid_over(shapely.box(0, 0, 6 * 150, 5 * 150), 150)
    rng = np.random.default_rng(5)
    rate = np.where((grid.cols < 2) & (grid.rows < 2), 8.0, 0.5)
    return grid, rng.poisson(rate[:, None], size=(grid.n_cells, 12))


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_refuses_months_after_its_cutoff(small, method: str) -> None:
    grid, counts = small
    with pytest.raises(
        LeakageError, match="data for 2021-12 was given to a forecast with cutoff 2021-11"
    ):
        forecast(method, counts, MONTHS, grid, dt.date(2021, 11, 1))
    scores = forecast(method, counts[:, :11], MONTHS[:11], grid, dt.date(2021, 11, 1))
    assert scores.shape == (grid.n_cells,) and np.isfinite(scores).all()
    busy = (grid.cols < 2) & (grid.rows < 2)
    assert scores[busy].mean() > scores[~busy].mean()  # every method finds the busy corner


def test_baselines_by_hand(small) -> None:
    grid, counts = small
    cutoff = MONTHS[-1]
    np.testing.assert_array_equal(
        forecast("last-month", counts, MONTHS, grid, cutoff), counts[:, 11]
    )
    np.testing.assert_allclose(
        forecast("mean-3", counts, MONTHS, grid, cutoff),
        (counts[:, 9] + counts[:, 10] + counts[:, 11]) / 3,
    )
    np.testing.assert_allclose(
        forecast("mean-12", counts, MONTHS, grid, cutoff), counts.mean(axis=1)
    )


def test_backtest_never_reads_past_the_month_it_scores(small) -> None:
    """Changing the months after a target leaves that target's scores unchanged."""
    grid, counts = small
    cutoffs = [MONTHS[6], MONTHS[8]]
    before = backtest(counts, MONTHS, grid, cutoffs, list(METHODS), coverages=(0.1,))
    changed = counts.copy()
    changed[:, 10:] = 99  # after both targets (2021-08 and 2021-10)
    after = backtest(changed, MONTHS, grid, cutoffs, list(METHODS), coverages=(0.1,))
    assert before.equals(after)


def test_metrics_by_hand() -> None:
    area = np.array([100.0, 100.0, 100.0, 100.0, 200.0, 400.0])  # 1,000 m² in all
    actual = np.array([10.0, 0.0, 5.0, 0.0, 5.0, 0.0])  # 20 crimes
    scores = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    rng = np.random.default_rng(0)
    # 20% of the area: cells 0 and 1 (200 m²) hold 10 of 20 crimes.
    m = score_forecast(scores, actual, area, 0.2, rng)
    assert (m["hit_rate"], m["area_share"], m["pai"]) == pytest.approx((0.5, 0.2, 2.5))
    # The perfect forecast at 20%: densities 0.1, 0.05, 0.025 -> cells 0 and 2: 15 of 20.
    assert m["pai_ceiling"] == pytest.approx(0.75 / 0.2)
    assert m["pei"] == pytest.approx(2.5 / 3.75)
    # 20 more crimes that month fell in cells the grid lacks: misses, in the base.
    off = score_forecast(scores, actual, area, 0.2, np.random.default_rng(0), total=40.0)
    assert (off["hit_rate"], off["pai"]) == pytest.approx((0.25, 1.25))
    assert off["pai_ceiling"] == pytest.approx(15 / 40 / 0.2)
    # Cells are added until the coverage is reached: 15% needs cells 0 and 1.
    assert top_cells(scores, area, 0.15, rng).tolist() == [True, True, False, False, False, False]


def test_ties_are_broken_at_random_not_by_position() -> None:
    area, scores = np.ones(100), np.zeros(100)
    firsts = {
        int(np.flatnonzero(top_cells(scores, area, 0.01, np.random.default_rng(s)))[0])
        for s in range(20)
    }
    assert len(firsts) > 10


def test_bootstrap_ratio_of_identical_series_is_one() -> None:
    a = np.array([5.0, 6.0, 7.0, 8.0])
    assert bootstrap_ratio(a, a) == (1.0, 1.0, 1.0)
    ratio, low, high = bootstrap_ratio(a * 1.1, a)
    assert ratio == pytest.approx(1.1) and low == pytest.approx(1.1) and high == pytest.approx(1.1)


def test_real_backtest_is_sane(sample_store: Store) -> None:
    r = hotspot_figures.evaluate_forecasts(
        sample_store,
        "Leicester",
        "2021-10",
        "2021-12",
        methods=["last-month", "mean-3", "mean-12", "kde"],
        seed=1,
    )
    assert r["targets"] == ["2021-10", "2021-11", "2021-12"] and r["skipped"] == []
    for row in r["summary"]:
        assert 0 < row["hit_rate"] <= 1
        assert row["pai"] <= row["pai_ceiling"] + 1e-9 and 0 < row["pei"] <= 1
    best = r["best_baseline_pai5"]
    assert best in ("last-month", "mean-3", "mean-12")
    assert {x["method"]: x["ratio"] for x in r["pai5_vs_best_baseline"]}[best] == 1.0


def test_real_forecast_reads_nothing_after_the_cutoff(sample_store: Store) -> None:
    """The cutoff month's counts shown are that month's, and 2021-12 onwards is unused."""
    r = hotspot_figures.forecast_cells(
        sample_store, "Leicester", "2021-11", method="last-month", limit=5
    )
    assert (r["cutoff"], r["target"], r["months_used"]) == ("2021-11", "2021-12", 23)
    assert [c["score"] for c in r["cells"]] == [c["count_cutoff_month"] for c in r["cells"]]


def test_gaps_are_skipped_not_zero_filled(sample_store: Store) -> None:
    r = hotspot_figures.evaluate_forecasts(
        sample_store, "Leicester", "2024-12", "2025-02", methods=["mean-3"]
    )
    assert r["targets"] == ["2025-02"] and r["skipped"] == ["2024-12", "2025-01"]
