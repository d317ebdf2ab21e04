"""Local Getis-Ord Gi*: is a cell, with its neighbours, busier than chance would make it?

A heat map shows where counts are high; Gi* says where they are *significantly*
high (or low) given the whole area, so a team is not sent after noise. Counts on
a grid with queen contiguity and binary weights (the cell itself included, the
"star"), two-sided conditional-permutation p-values from esda, and the false-discovery
rate controlled across cells (Benjamini-Hochberg), because hundreds of cells are
tested at once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import esda
import libpysal
import numpy as np
from numpy.typing import NDArray

from beatbook import settings
from beatbook.geo import Grid

PERMUTATIONS = settings.PERMUTATIONS
ALPHA = settings.FDR_ALPHA


@dataclass(frozen=True)
class GiStar:
    """Per cell: Gi* z-score, permutation p-value and its class under FDR control."""

    z: NDArray[np.float64]
    p: NDArray[np.float64]  # two-sided pseudo p-value from conditional permutations
    threshold: float  # significant when p <= threshold (Benjamini-Hochberg line at the cut)
    label: NDArray[np.object_]  # 'hot' | 'cold' | 'not significant'


def grid_weights(grid: Grid) -> libpysal.weights.W:
    """Binary queen-contiguity weights between the kept cells of a grid."""
    with warnings.catch_warnings():  # islands (cells with no kept neighbour) are fine for Gi*
        warnings.simplefilter("ignore")
        return libpysal.weights.W(grid.neighbours(), silence_warnings=True)


def gi_star(
    counts: NDArray[np.int64] | NDArray[np.float64],
    grid: Grid,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
    alpha: float = ALPHA,
) -> GiStar:
    """Gi* of ``counts`` (one value per kept cell of ``grid``)."""
    values = np.asarray(counts, dtype=float)
    if values.std() == 0:  # all cells equal (e.g. no crimes): nothing stands out
        n = len(values)
        return GiStar(np.zeros(n), np.ones(n), 0.0, np.full(n, "not significant", dtype=object))
    with warnings.catch_warnings():  # esda warns that its default alternative will change
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        g = esda.G_Local(
            values,
            grid_weights(grid),
            transform="B",
            permutations=permutations,
            star=True,
            keep_simulations=False,
            n_jobs=1,
            seed=seed,
        )
    # esda's p_sim is one-sided in the observed direction; doubled, it is two-sided, so a
    # cell can be called hot or cold without having chosen the direction beforehand.
    z, p = np.asarray(g.Zs, dtype=float), np.minimum(1.0, 2 * np.asarray(g.p_sim, dtype=float))
    threshold = float(esda.fdr(p, alpha))
    significant = p <= threshold
    label = np.where(
        significant & (z > 0), "hot", np.where(significant & (z < 0), "cold", "not significant")
    )
    return GiStar(z, p, threshold, label.astype(object))
