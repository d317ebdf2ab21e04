"""Places a team can name on a leaflet, built from police.uk snap points.

police.uk moves every crime to one of a fixed set of anonymous map points, each
named after a street ("On or near Elm Close") or, for public places, after a
generic kind ("On or near Supermarket", "On or near Park/Open Space"). A
priority needs a place residents recognise, so snap points are turned into
places by two documented rules:

1. **Named points** (streets and named landmarks): every point of one name in
   one ward is one place, named by that name ("Elm Close"). A long street has
   several points; residents think of it as one street.
2. **Generic points** (the kinds in :data:`beatbook.reference.snap_points.GENERIC_KINDS`): points of the same
   kind in one ward that lie within :data:`GROUP_WITHIN_M` metres of one another
   (chained: single linkage) are one place, e.g. the several points of one park.
   It is labelled by the nearest named point to its centre: "the supermarket off
   Elm Road", "the park/open space off Victoria Park Road".

Each place has a stable key (``ward|name``) so a priority can find its crimes
again months later.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from beatbook import geo
from beatbook.reference.snap_points import is_generic, point_name

GROUP_WITHIN_M = 200.0


def name_places(points: pl.DataFrame) -> pl.DataFrame:
    """Give every snap point its place: columns location, longitude, latitude, ward,
    place_key and place (the label), one row per distinct input point.

    ``points`` needs location, longitude, latitude and ward.
    """
    points = points.select("location", "longitude", "latitude", "ward").unique(maintain_order=True)
    generic = points.filter(pl.col("location").map_elements(is_generic, return_dtype=pl.Boolean))
    named = points.filter(~pl.col("location").map_elements(is_generic, return_dtype=pl.Boolean))
    named = named.with_columns(
        pl.col("location").map_elements(point_name, return_dtype=pl.Utf8).alias("place")
    ).with_columns((pl.col("ward") + "|" + pl.col("place")).alias("place_key"))
    return pl.concat([named, _group_generic(generic, named)], how="diagonal_relaxed").select(
        "location", "longitude", "latitude", "ward", "place_key", "place"
    )


def _group_generic(generic: pl.DataFrame, named: pl.DataFrame) -> pl.DataFrame:
    """Rule 2: cluster generic points per (ward, kind) and label each cluster."""
    if generic.is_empty():
        return generic.with_columns(
            pl.lit(None, pl.Utf8).alias("place"), pl.lit(None, pl.Utf8).alias("place_key")
        )
    nx, ny = geo.to_bng(named["longitude"].to_numpy(), named["latitude"].to_numpy())
    streets = cKDTree(np.column_stack([nx, ny])) if named.height else None
    street_names = named["place"].to_list()
    parts = []
    for (ward, location), rows in generic.group_by(["ward", "location"], maintain_order=True):
        x, y = geo.to_bng(rows["longitude"].to_numpy(), rows["latitude"].to_numpy())
        xy = np.column_stack([x, y])
        labels = _clusters(xy)
        kind = point_name(str(location)).lower()
        names, keys = [], []
        for cluster in range(labels.max() + 1):
            centre = xy[labels == cluster].mean(axis=0)
            if streets is None:
                label = f"the {kind} at {centre[0]:.0f},{centre[1]:.0f}"
            else:
                label = f"the {kind} off {street_names[int(streets.query(centre)[1])]}"
            names.append(label)
            keys.append(f"{ward}|{label}|{centre[0]:.0f},{centre[1]:.0f}")
        names = _disambiguate(names)
        parts.append(
            rows.with_columns(
                pl.Series("place", [names[i] for i in labels]),
                pl.Series("place_key", [keys[i] for i in labels]),
            )
        )
    return pl.concat(parts)


def _clusters(xy: np.ndarray) -> np.ndarray:
    """Single-linkage clusters of points closer than GROUP_WITHIN_M (connected components)."""
    pairs = cKDTree(xy).query_pairs(GROUP_WITHIN_M, output_type="ndarray")
    n = len(xy)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _disambiguate(labels: list[str]) -> list[str]:
    """Two supermarkets off one road become 'the supermarket off X (1)' and '(2)'."""
    seen: dict[str, int] = {}
    counts = {label: labels.count(label) for label in labels}
    out = []
    for label in labels:
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            label = f"{label} ({seen[label]})"
        out.append(label)
    return out
