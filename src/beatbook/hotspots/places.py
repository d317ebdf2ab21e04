"""Top places: police.uk snap points ("On or near Elm Close"), the unit a team names.

police.uk moves every crime to the nearest of a fixed set of anonymous map
points, each with a name; all crimes at one point share its coordinates. A
place is one such point (name and coordinates), ranked by harm-weighted count
(reference/crime_types.csv), with the change from the month before.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from numpy.typing import NDArray

from beatbook import geo
from beatbook.geo import Grid
from beatbook.reference import crime_types, harm_table


def place_month_counts(incidents: pl.DataFrame) -> pl.DataFrame:
    """Crimes per place, month and problem group (reference/crime_types.csv).

    Columns: place, longitude, latitude, month, problem_group, count.
    """
    groups = pl.DataFrame(
        {
            "crime_type": [t.name for t in crime_types()],
            "problem_group": [t.problem_group for t in crime_types()],
        }
    )
    return (
        incidents.join(groups, on="crime_type", how="left")
        .with_columns(pl.col("problem_group").fill_null("other"))
        .group_by(["location", "longitude", "latitude", "month", "problem_group"])
        .agg(pl.len().alias("count"))
        .rename({"location": "place"})
        .sort(["place", "longitude", "latitude", "month", "problem_group"])
    )


def place_totals(counts: pl.DataFrame, limit: int = 20) -> pl.DataFrame:
    """The busiest places of a ``place_month_counts`` table: crimes and months with any."""
    return (
        counts.group_by(["place", "longitude", "latitude"])
        .agg(pl.col("count").sum().alias("crimes"), pl.col("month").n_unique().alias("months"))
        .sort(["crimes", "place"], descending=[True, False])
        .head(limit)
    )


def top_places(
    incidents: pl.DataFrame, month: dt.date, previous: dt.date, limit: int = 10
) -> pl.DataFrame:
    """Places ranked by harm in ``month`` (then by count), with counts and harm the month before.

    Columns: place, longitude, latitude, count, harm, count_before, harm_before,
    change (count - count_before), top_type (the most frequent category in ``month``).
    """
    rows = incidents.filter(pl.col("month").is_in([month, previous])).join(
        harm_table(asb_harm_days=0.0, include_proactive=False).select("crime_type", "harm"),
        on="crime_type",
        how="left",
    )
    key = ["location", "longitude", "latitude"]
    now = rows.filter(pl.col("month") == month)
    before = rows.filter(pl.col("month") == previous)
    top_type = (
        now.group_by([*key, "crime_type"])
        .agg(pl.len().alias("n"))
        .sort(["n", "crime_type"], descending=[True, False])
        .group_by(key, maintain_order=True)
        .agg(pl.col("crime_type").first().alias("top_type"))
    )
    summary = now.group_by(key).agg(
        pl.len().alias("count"), pl.col("harm").fill_null(0).sum().alias("harm")
    )
    earlier = before.group_by(key).agg(
        pl.len().alias("count_before"), pl.col("harm").fill_null(0).sum().alias("harm_before")
    )
    return (
        summary.join(earlier, on=key, how="left")
        .join(top_type, on=key, how="left")
        .with_columns(pl.col("count_before").fill_null(0), pl.col("harm_before").fill_null(0.0))
        .with_columns((pl.col("count") - pl.col("count_before")).alias("change"))
        .rename({"location": "place"})
        .sort(["harm", "count", "place"], descending=[True, True, False])
        .head(limit)
    )


def spread_to_places(
    incidents: pl.DataFrame, grid: Grid, cell_scores: NDArray[np.float64], since: dt.date
) -> pl.DataFrame:
    """A per-cell forecast shared among the cell's places by their crimes since ``since``.

    Columns: location, longitude, latitude, cell, n (crimes since ``since``), share, score.
    A place's score is its cell's score times its share of the cell's recent crimes,
    so the scores of a cell's places add up to the cell's.
    """
    recent = incidents.filter(pl.col("month") >= since)
    x, y = geo.to_bng(recent["longitude"].to_numpy(), recent["latitude"].to_numpy())
    recent = recent.with_columns(pl.Series("cell", grid.cell_of(x, y))).filter(pl.col("cell") >= 0)
    per_place = recent.group_by(["location", "longitude", "latitude", "cell"]).agg(
        pl.len().alias("n")
    )
    scores = pl.DataFrame(
        {"cell": np.arange(grid.n_cells, dtype=np.int64), "cell_score": cell_scores}
    )
    return (
        per_place.with_columns(pl.col("cell").cast(pl.Int64))
        .with_columns((pl.col("n") / pl.col("n").sum().over("cell")).alias("share"))
        .join(scores, on="cell")
        .with_columns((pl.col("share") * pl.col("cell_score")).alias("score"))
        .drop("cell_score")
    )
