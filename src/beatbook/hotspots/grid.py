"""Crimes counted per grid cell and month: the matrix every hotspot method reads."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from numpy.typing import NDArray

from beatbook.geo import Grid, to_bng


def cell_month_counts(
    incidents: pl.DataFrame, grid: Grid, months: list[dt.date]
) -> NDArray[np.int64]:
    """Counts of shape (n_cells, n_months); crimes outside the kept cells are left out.

    ``incidents`` needs month, longitude and latitude (as from ``queries.incidents``).
    """
    counts = np.zeros((grid.n_cells, len(months)), dtype=np.int64)
    if incidents.height == 0:
        return counts
    x, y = to_bng(incidents["longitude"].to_numpy(), incidents["latitude"].to_numpy())
    cell = grid.cell_of(x, y)
    position = {m: i for i, m in enumerate(months)}
    month = np.array([position.get(m, -1) for m in incidents["month"].to_list()])
    keep = (cell >= 0) & (month >= 0)
    np.add.at(counts, (cell[keep], month[keep]), 1)
    return counts
