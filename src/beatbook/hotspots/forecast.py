"""Next month's hot places: a score per grid cell from the months up to a cutoff.

Every forecaster sees a cells x months count matrix that ends at the cutoff
month and returns one score per cell (higher = more crime expected). Nothing
after the cutoff may be passed in: :func:`forecast` refuses it, so a backtest
cannot leak the month it is scored on.

police.uk gives months, not days or times, so every method works at month
resolution: "near-repeat" and "self-exciting" effects are spread over months,
not the days the original papers used.

Methods (names used by ``--method``):

- ``last-month``: last month's counts (the rule "go where it happened last month").
- ``mean-3``, ``mean-6``, ``mean-12``: mean of the last 3, 6 or 12 months.
- ``kde``: Gaussian kernel density (fixed 250 m bandwidth) of the last 6 months.
- ``prospective``: prospective hotspotting (Bowers, Johnson & Pease 2004): each
  crime of the last 3 months adds risk to cells within 400 m, weighted 1/(1 + distance
  in cells) x 1/(months ago).
- ``sepp``: a self-exciting point process in the style of Mohler et al. (2011):
  a constant background rate per cell plus crimes triggering more crimes nearby in the
  following months (exponential decay in months, Gaussian in space), fitted by EM.
- ``glm``: a negative-binomial GLM (dispersion 1: crime counts vary more than Poisson)
  on the cell's last month and its means over 3, 12 and all earlier months, and its
  neighbours' means over 3, 12 and all months (pooling helps sparse crime types), fitted
  on every month before the cutoff.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from typing import cast

import numpy as np
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial import cKDTree

from beatbook.errors import InputError, LeakageError
from beatbook.geo import Grid

#: Crimes per cell and month (cells x months), as from ``grid.cell_month_counts``.
Counts = NDArray[np.int64]
#: One score per cell: crimes expected next month (higher = more).
Scores = NDArray[np.float64]
#: A forecaster: the count matrix up to the cutoff and the grid in, one score per cell out.
Forecaster = Callable[[Counts, Grid], Scores]


def _mean_last(k: int) -> Forecaster:
    def score(counts: Counts, grid: Grid) -> Scores:
        means: Scores = counts[:, -k:].mean(axis=1)
        return means

    return score


def _last_month(counts: Counts, grid: Grid) -> Scores:
    return counts[:, -1].astype(np.float64)


def _pairs(
    grid: Grid, radius: float
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Cell pairs (i, j) whose centres are within ``radius`` metres, self included, and d."""
    centres = grid.centroids()
    tree = cKDTree(centres)
    pairs = tree.query_pairs(radius, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(grid.n_cells)])
    j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(grid.n_cells)])
    d = np.linalg.norm(centres[i] - centres[j], axis=1)
    return i, j, d


def _spread(
    values: NDArray[np.float64],
    i: NDArray[np.intp],
    j: NDArray[np.intp],
    w: NDArray[np.float64],
    n: int,
) -> Scores:
    """out[i] = sum over pairs of w * values[j]."""
    # numpy's stubs type bincount as integer counts; with float weights it returns float64.
    return cast(Scores, np.bincount(i, weights=w * values[j], minlength=n))


def _kde(counts: Counts, grid: Grid, bandwidth: float = 250.0, months: int = 6) -> Scores:
    i, j, d = _pairs(grid, 3 * bandwidth)
    w = np.exp(-0.5 * (d / bandwidth) ** 2)
    return _spread(counts[:, -months:].sum(axis=1).astype(np.float64), i, j, w, grid.n_cells)


def _prospective(counts: Counts, grid: Grid, radius: float = 400.0, months: int = 3) -> Scores:
    i, j, d = _pairs(grid, radius)
    w_space = 1.0 / (1.0 + d / grid.size)
    score = np.zeros(grid.n_cells)
    for ago in range(1, min(months, counts.shape[1]) + 1):
        score += _spread(counts[:, -ago].astype(np.float64), i, j, w_space, grid.n_cells) / ago
    return score


def _sepp(counts: Counts, grid: Grid, max_lag: int = 6, iterations: int = 25) -> Scores:
    """Discrete-time Hawkes model on the grid, fitted by expectation-maximisation.

    Rate in cell i, month t: mu_i + theta * sum_{l=1..L} g(l) sum_j h_ij n_j(t - l), with
    g(l) proportional to exp(-beta (l - 1)) and h a Gaussian of width sigma that spreads
    each source cell's crimes with total weight 1. The E-step splits each month's crimes
    into background and triggered parts; the M-step re-estimates mu (per cell), theta
    (crimes triggered per crime), beta (from the mean lag) and sigma (from the mean
    squared distance) from those parts.
    """
    n_cells, n_months = counts.shape
    c = counts.astype(np.float64)
    i, j, d = _pairs(grid, 4 * grid.size)
    lags = np.arange(1, min(max_lag, n_months - 1) + 1)
    mean: Scores = c.mean(axis=1)
    if len(lags) == 0:
        return mean
    mu: Scores = mean * 0.5 + 1e-6
    theta, beta, sigma = 0.5, 1.0, float(grid.size)

    def kernels() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        g = np.exp(-beta * (lags - 1))
        h = np.exp(-0.5 * (d / sigma) ** 2)
        return g / g.sum(), h / np.bincount(j, weights=h, minlength=n_cells)[j]

    for _ in range(iterations):
        g, h = kernels()
        # excitation[l][:, t] = sum_j h_ij n_j(t - l) (zero where month t - l is not known)
        excitation = np.zeros((len(lags), n_cells, n_months))
        for li, lag in enumerate(lags):
            for t in range(lag, n_months):
                excitation[li, :, t] = _spread(c[:, t - lag], i, j, h, n_cells)
        triggered = theta * np.tensordot(g, excitation, axes=1)
        rate = mu[:, None] + triggered + 1e-12
        ratio = c / rate  # crimes per unit of rate: responsibilities are rate parts times this
        mu = (mu[:, None] * ratio).sum(axis=1) / n_months + 1e-9
        by_lag = np.array(
            [theta * g[li] * (excitation[li] * ratio).sum() for li in range(len(lags))]
        )
        theta = float(np.clip(by_lag.sum() / max(c.sum(), 1e-12), 1e-6, 0.95))
        mean_lag = float((by_lag * (lags - 1)).sum() / max(by_lag.sum(), 1e-12))
        beta = float(np.clip(np.log1p(1.0 / max(mean_lag, 1e-3)), 0.05, 10.0))
        pair = np.zeros(len(i))
        for li, lag in enumerate(lags):
            pair += g[li] * (ratio[i, lag:] * c[j, :-lag]).sum(axis=1)
        pair *= h
        sigma = float(
            np.clip(
                np.sqrt((pair * d**2).sum() / max(2 * pair.sum(), 1e-12)),
                grid.size / 2,
                4 * grid.size,
            )
        )
    g, h = kernels()
    upcoming = np.zeros(n_cells)
    for li, lag in enumerate(lags):
        upcoming += g[li] * _spread(c[:, n_months - lag], i, j, h, n_cells)
    return mu + theta * upcoming


def _neighbour_matrix(grid: Grid) -> sparse.csr_matrix:
    """Row-normalised queen adjacency: ``matrix @ values`` is each cell's neighbours' mean."""
    neighbours = grid.neighbours()
    rows = np.array([i for i, others in neighbours.items() for _ in others], dtype=np.int64)
    cols = np.array([j for others in neighbours.values() for j in others], dtype=np.int64)
    degree = np.bincount(rows, minlength=grid.n_cells)
    weights = 1.0 / degree[rows]
    return sparse.csr_matrix((weights, (rows, cols)), shape=(grid.n_cells, grid.n_cells))


def _features(counts: Counts, near: sparse.csr_matrix, t: int) -> NDArray[np.float64]:
    """Predictors for month ``t`` from months before it: the cell's and its neighbours' past."""
    c = counts.astype(np.float64)
    last = c[:, t - 1]
    mean3 = c[:, max(0, t - 3) : t].mean(axis=1)
    mean12 = c[:, max(0, t - 12) : t].mean(axis=1)
    mean_all = c[:, :t].mean(axis=1)
    columns = [last, mean3, mean12, mean_all, near @ mean3, near @ mean12, near @ mean_all]
    return np.column_stack([np.ones(len(c)), *(np.log1p(x) for x in columns)])


def _glm(counts: Counts, grid: Grid, min_history: int = 3) -> Scores:
    n_months = counts.shape[1]
    targets = range(min_history, n_months)
    if not targets:
        return _mean_last(3)(counts, grid)
    near = _neighbour_matrix(grid)
    x = np.vstack([_features(counts, near, t) for t in targets])
    y = np.concatenate([counts[:, t] for t in targets]).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.NegativeBinomial(alpha=1.0)).fit()
    predicted: Scores = np.asarray(fit.predict(_features(counts, near, n_months)))
    return predicted


METHODS: dict[str, Forecaster] = {
    "last-month": _last_month,
    "mean-3": _mean_last(3),
    "mean-6": _mean_last(6),
    "mean-12": _mean_last(12),
    "kde": _kde,
    "prospective": _prospective,
    "sepp": _sepp,
    "glm": _glm,
}
BASELINES = ("last-month", "mean-3", "mean-6", "mean-12")


def check_method(method: str) -> str:
    if method not in METHODS:
        raise InputError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    return method


def forecast(
    method: str, counts: Counts, months: list[dt.date], grid: Grid, cutoff: dt.date
) -> Scores:
    """Score per cell for the month after ``cutoff`` from ``counts`` (cells x ``months``).

    Raises :class:`LeakageError` if any month after the cutoff is given.
    """
    check_method(method)
    late = [m for m in months if m > cutoff]
    if late:
        raise LeakageError(
            f"data for {late[0]:%Y-%m} was given to a forecast with cutoff {cutoff:%Y-%m}: "
            "a forecaster may only see months up to its cutoff"
        )
    if counts.shape != (grid.n_cells, len(months)) or not months:
        raise InputError("counts must have one row per grid cell and one column per month")
    return np.asarray(METHODS[method](counts, grid), dtype=np.float64)
