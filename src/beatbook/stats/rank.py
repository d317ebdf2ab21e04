"""Rank areas by crime rate, with the uncertainty of each rank.

"30th highest of 99" is only honest when it is computed on rates, names its
peers, and says how sure it is: two areas whose rates differ by less than
their noise could easily swap places. :func:`rank_rates` ranks on rates and
gives a simulation interval for each rank.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

from beatbook.errors import InputError
from beatbook.settings import MIN_DISPERSION_DF
from beatbook.stats._common import check_count, check_per, check_positive, check_probability
from beatbook.stats.overdispersed import pearson_dispersion

__all__ = ["RANK_FEW_MONTHS", "RANK_OVERDISPERSED", "RANK_POISSON", "rank_rates"]

RANK_POISSON = "each rate drawn from its Jeffreys posterior for a Poisson count"
RANK_OVERDISPERSED = (
    "each rate drawn from its Jeffreys posterior widened by the peer's over-dispersion in the "
    "monthly counts (peers x months quasi-Poisson model with month effects; Pearson chi2 over "
    "the peer's share of the residual df, floored at 1)"
)
RANK_FEW_MONTHS = (
    f"{RANK_POISSON}: too few months to estimate the over-dispersion (fewer than "
    f"{MIN_DISPERSION_DF} residual degrees of freedom a peer), so Poisson variation is assumed"
)

#: Draws simulated at once; bounds memory at about ``_CHUNK_CELLS`` floats per chunk.
_CHUNK_CELLS = 2_000_000


def rank_rates(
    names: Sequence[str],
    counts: Sequence[int],
    populations: Sequence[float],
    *,
    seed: int = 0,
    n_sim: int = 10_000,
    conf: float = 0.95,
    per: int = 1000,
    monthly: Sequence[Sequence[int]] | None = None,
) -> pl.DataFrame:
    """Rank peer areas by rate (1 = highest) with a simulated interval for each rank.

    Parameters
    ----------
    names : sequence of str
        Unique area names: the peers (say what they are when publishing).
    counts : sequence of int
        Crime count of each area, ``>= 0``.
    populations : sequence of float
        Residents of each area, ``> 0``.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``; the same inputs and seed give
        the same table.
    n_sim : int, default 10000
        Number of simulated draws of all the rates.
    conf : float, default 0.95
        Level of the rank interval.
    per : int, default 1000
        Multiplier for the published rate.
    monthly : sequence of sequences of int, optional
        Each area's counts in each month with data (the same months, in the same order, for
        every area; each row adds up to the area's count). With them, each area's draws
        allow for its over-dispersion; without, Poisson variation (today's behaviour).

    Returns
    -------
    polars.DataFrame
        One row per area, sorted by ``rank`` then ``name``, with columns
        ``name``, ``count``, ``population``, ``rate`` (per ``per``),
        ``rank`` (1 = highest rate; ties share the smallest rank, "min"
        method), ``rank_low``, ``rank_high`` (the ``conf`` interval of the
        rank), ``n_peers``, ``dispersion`` (the area's, used in the draws; 1 for
        Poisson) and ``method`` (how the rates were drawn, and why).

    Raises
    ------
    InputError
        With fewer than 2 areas, lists of different lengths, repeated names,
        negative counts, non-positive populations, or bad ``n_sim``/``conf``.

    Notes
    -----
    Each simulated draw samples every area's rate from its Jeffreys
    posterior, ``Gamma(count + 0.5, 1) / population`` (the posterior of a
    Poisson mean under the Jeffreys prior ``mu^(-1/2)``; Gelman, A. et al.
    (2013). *Bayesian Data Analysis*, 3rd ed., chapter 2), ranks the
    areas within the draw, and the interval is the ``(1 - conf)/2`` and
    ``(1 + conf)/2`` quantiles of each area's ranks ("inverted CDF"
    quantiles, so the bounds are ranks that occurred). This is the
    rank-uncertainty approach of Goldstein, H. and Spiegelhalter, D. J.
    (1996). "League tables and their limitations". *Journal of the Royal
    Statistical Society A* 159(3), 385-443, and Marshall, E. C. and
    Spiegelhalter, D. J. (1998). *BMJ* 316, 1701-1704. The point rank uses
    the observed rates, so with very small counts it can fall outside the
    interval. Memory grows as ``n_sim * len(names)``.

    With ``monthly``, the counts are allowed to be more variable than Poisson. The
    peers x months table is fitted by the quasi-Poisson model ``log E[y] = peer + month``
    (closed form: ``row total x column total / grand total``; the month effects take up
    the seasonality and the shocks the peers share), and each peer's dispersion is
    ``phi_i = max(1, X2_i / df_i)``: its Pearson chi-square over its share of the residual
    degrees of freedom, ``df_i = (T - 1)(n - 1) / n`` for ``T`` months and ``n`` peers
    (a city's monthly counts vary far more than Poisson, a village's barely, so one
    common dispersion would misstate both). Its rate is then drawn from
    ``Gamma(count / phi_i + 0.5, scale=phi_i) / population``: the Jeffreys posterior of the
    quasi-likelihood (the Poisson likelihood raised to ``1 / phi_i``), with variance about
    ``phi_i`` times the Poisson one. With ``phi_i = 1`` the draws are exactly the Poisson
    ones. With ``df_i < MIN_DISPERSION_DF`` (too few months) Poisson is kept and ``method``
    says so.

    Examples
    --------
    >>> t = rank_rates(["A", "B", "C"], [500, 100, 300], [10_000, 10_000, 10_000], n_sim=2000)
    >>> t["name"].to_list(), t["rank"].to_list()
    (['A', 'C', 'B'], [1, 2, 3])
    """
    name_list = [str(n) for n in names]
    n = len(name_list)
    if not len(counts) == len(populations) == n:
        raise InputError(
            f"names, counts and populations must have the same length, got "
            f"{n}, {len(counts)} and {len(populations)}"
        )
    if n < 2:
        raise InputError(f"ranking needs at least 2 peer areas, got {n}")
    if len(set(name_list)) != n:
        repeated = sorted(x for x, times in Counter(name_list).items() if times > 1)
        raise InputError(f"area names must be unique; repeated: {', '.join(repeated)}")
    k = np.array([check_count(c, f"counts[{i}] ({name_list[i]})") for i, c in enumerate(counts)])
    pop = np.array(
        [check_positive(p, f"populations[{i}] ({name_list[i]})") for i, p in enumerate(populations)]
    )
    if isinstance(n_sim, bool) or not isinstance(n_sim, int | np.integer) or n_sim < 1:
        raise InputError(f"n_sim must be a whole number of draws of at least 1, got {n_sim!r}")
    level = check_probability(conf, "conf")
    multiplier = check_per(per)

    phi, method = _dispersions(monthly, k, name_list)

    from scipy import stats  # about 1 s to import: imported where it is used

    rates = k / pop * multiplier
    point_rank = stats.rankdata(-rates, method="min").astype(np.int64)

    rng = np.random.default_rng(seed)
    sim_ranks = np.empty((int(n_sim), n), dtype=np.int32)
    chunk = max(1, _CHUNK_CELLS // n)
    for start in range(0, int(n_sim), chunk):
        stop = min(int(n_sim), start + chunk)
        draws = rng.gamma(shape=k / phi + 0.5, scale=phi, size=(stop - start, n)) / pop
        order = np.argsort(-draws, axis=1, kind="stable")
        rows = np.arange(stop - start)[:, None]
        sim_ranks[start:stop][rows, order] = np.arange(1, n + 1, dtype=np.int32)
    tail = (1.0 - level) / 2.0
    rank_low = np.quantile(sim_ranks, tail, axis=0, method="inverted_cdf").astype(np.int64)
    rank_high = np.quantile(sim_ranks, 1.0 - tail, axis=0, method="inverted_cdf").astype(np.int64)

    return pl.DataFrame(
        {
            "name": name_list,
            "count": k.astype(np.int64),
            "population": pop.astype(np.float64),
            "rate": rates.astype(np.float64),
            "rank": point_rank,
            "rank_low": rank_low,
            "rank_high": rank_high,
            "n_peers": np.full(n, n, dtype=np.int64),
            "dispersion": phi,
            "method": [method] * n,
        },
        schema={
            "name": pl.String,
            "count": pl.Int64,
            "population": pl.Float64,
            "rate": pl.Float64,
            "rank": pl.Int64,
            "rank_low": pl.Int64,
            "rank_high": pl.Int64,
            "n_peers": pl.Int64,
            "dispersion": pl.Float64,
            "method": pl.String,
        },
    ).sort(["rank", "name"])


def _dispersions(
    monthly: Sequence[Sequence[int]] | None, counts: NDArray[np.int64], names: list[str]
) -> tuple[NDArray[np.float64], str]:
    """Each peer's dispersion (floored at 1) and the method text; ones without ``monthly``."""
    n = len(names)
    ones = np.ones(n, dtype=np.float64)
    if monthly is None:
        return ones, RANK_POISSON
    if len(monthly) != n:
        raise InputError(f"monthly has {len(monthly)} rows but there are {n} areas")
    widths = {len(row) for row in monthly}
    if len(widths) != 1 or 0 in widths:
        raise InputError("monthly must give every area the same months, at least one")
    table = np.array(
        [
            [check_count(c, f"monthly[{i}] ({names[i]})") for c in row]
            for i, row in enumerate(monthly)
        ],
        dtype=np.float64,
    )
    sums = table.sum(axis=1)
    wrong = [names[i] for i in range(n) if sums[i] != counts[i]]
    if wrong:
        raise InputError(f"monthly counts do not add up to the count for: {', '.join(wrong)}")
    months = table.shape[1]
    share_df = (months - 1) * (n - 1) / n
    grand = float(sums.sum())
    if share_df < MIN_DISPERSION_DF or grand == 0:
        return ones, RANK_FEW_MONTHS
    fitted = np.outer(sums, table.sum(axis=0)) / grand
    phi = np.array(
        [max(1.0, pearson_dispersion(table[i], fitted[i], 1) / share_df) for i in range(n)],
        dtype=np.float64,
    )
    return phi, RANK_OVERDISPERSED
