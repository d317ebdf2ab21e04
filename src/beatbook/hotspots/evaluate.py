"""Rolling-origin backtest of forecasts: hit rate, PAI and PEI at fixed area coverages.

For each cutoff month, every method forecasts the month after it from the months
up to the cutoff only; the cells it ranks highest, taken until they cover c% of
the area, are scored against what happened:

- hit rate = share of next month's crimes inside those cells, out of all the area's
  located crimes that month (a crime in a cell the grid lacks is a miss, not left out);
- PAI (predictive accuracy index, Chainey, Tompson & Uhlig 2008) = hit rate / area share;
- the ceiling = the PAI of a perfect forecast (cells ranked by next month's own crime
  density), the best any method could do at that coverage;
- PEI (Hunt 2016) = PAI / ceiling: how much of the achievable gain a method takes.

Ties in a ranking (many cells score 0) are broken in a random order fixed by the seed,
so a method is not flattered by the order cells happen to be listed in.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from numpy.typing import NDArray

from beatbook.geo import Grid
from beatbook.hotspots.forecast import Counts, Scores, forecast

COVERAGES = (0.01, 0.02, 0.05, 0.10, 0.20)
BOOTSTRAP = 2000


def top_cells(
    scores: Scores, area: NDArray[np.float64], coverage: float, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """Mask of the highest-scoring cells, added until they cover ``coverage`` of the area."""
    shuffle = rng.permutation(len(scores))
    order = shuffle[np.argsort(-scores[shuffle], kind="stable")]
    covered = np.cumsum(area[order])
    take = int(np.searchsorted(covered, coverage * area.sum(), side="left")) + 1
    mask = np.zeros(len(scores), dtype=bool)
    mask[order[: min(take, len(order))]] = True
    return mask


def score_forecast(
    scores: Scores,
    actual: NDArray[np.float64],
    area: NDArray[np.float64],
    coverage: float,
    rng: np.random.Generator,
    total: float | None = None,
) -> dict[str, float]:
    """Hit rate, area share, PAI, ceiling PAI and PEI of one forecast at one coverage.

    ``total``: the month's crimes, those in no cell of the grid included (default: the
    grid's own, ``actual.sum()``)."""
    chosen = top_cells(scores, area, coverage, rng)
    best = top_cells(actual / area, area, coverage, rng)
    total = float(actual.sum()) if total is None else total
    whole = area.sum()
    share, best_share = area[chosen].sum() / whole, area[best].sum() / whole
    hit = actual[chosen].sum() / total if total else float("nan")
    ceiling = (actual[best].sum() / total) / best_share if total else float("nan")
    pai = hit / share
    return {
        "hit_rate": hit,
        "area_share": share,
        "pai": pai,
        "pai_ceiling": ceiling,
        "pei": pai / ceiling if ceiling else float("nan"),
    }


def backtest(
    counts: Counts,
    months: list[dt.date],
    grid: Grid,
    cutoffs: list[dt.date],
    methods: list[str],
    coverages: tuple[float, ...] = COVERAGES,
    seed: int = 0,
    totals: NDArray[np.int64] | None = None,
) -> pl.DataFrame:
    """One row per cutoff x method x coverage. ``counts`` holds every month (cells x months);
    each forecast is given only the columns up to its cutoff. ``totals``: each month's
    crimes in the area, on the grid or not (default: the grid's), so a crime in a cell the
    grid lacks counts as a miss (``crimes_off_grid`` says how many)."""
    rows = []
    for cutoff in cutoffs:
        k = months.index(cutoff)
        if k + 1 >= len(months):
            raise ValueError(f"no month after the cutoff {cutoff:%Y-%m} to score against")
        actual = counts[:, k + 1].astype(float)
        total = float(actual.sum() if totals is None else totals[k + 1])
        for method in methods:
            scores = forecast(method, counts[:, : k + 1], months[: k + 1], grid, cutoff)
            for coverage in coverages:
                rng = np.random.default_rng([seed, k, int(coverage * 1000)])
                rows.append(
                    {
                        "cutoff": cutoff,
                        "target": months[k + 1],
                        "method": method,
                        "coverage": coverage,
                        "crimes": int(total),
                        "crimes_off_grid": int(total - actual.sum()),
                        **score_forecast(scores, actual, grid.area, coverage, rng, total),
                    }
                )
    return pl.DataFrame(rows)


def bootstrap_mean(
    values: NDArray[np.float64], seed: int = 0, n: int = BOOTSTRAP
) -> tuple[float, float, float]:
    """Mean and 95% percentile bootstrap interval of a per-month metric (months resampled)."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    draws = rng.choice(values, size=(n, len(values)), replace=True).mean(axis=1)
    return float(values.mean()), float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975))


def bootstrap_ratio(
    numerator: NDArray[np.float64],
    denominator: NDArray[np.float64],
    seed: int = 0,
    n: int = BOOTSTRAP,
) -> tuple[float, float, float]:
    """Ratio of means of two paired per-month metrics, with a paired bootstrap interval."""
    a, b = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n, len(a)))
    draws = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    return (
        float(a.mean() / b.mean()),
        float(np.quantile(draws, 0.025)),
        float(np.quantile(draws, 0.975)),
    )


def summarise(results: pl.DataFrame, seed: int = 0) -> pl.DataFrame:
    """Per method and coverage: mean hit rate, PAI (with bootstrap CI), ceiling and PEI."""
    rows = []
    for (method, coverage), part in results.group_by(["method", "coverage"], maintain_order=True):
        pai, low, high = bootstrap_mean(part["pai"].to_numpy(), seed)
        rows.append(
            {
                "method": method,
                "coverage": coverage,
                "months": part.height,
                "hit_rate": float(part["hit_rate"].to_numpy().mean()),
                "pai": pai,
                "pai_low": low,
                "pai_high": high,
                "pai_ceiling": float(part["pai_ceiling"].to_numpy().mean()),
                "pei": float(part["pei"].to_numpy().mean()),
            }
        )
    return pl.DataFrame(rows)
