"""The desk map's layers as GeoJSON (RFC 7946: WGS84 longitude/latitude).

* ``outline``: the area's outline (its polygon, or the union of its stored LSOA boundaries);
* ``hotspots``: the month's Getis-Ord Gi* hot and cold grid cells, exactly those of
  :func:`beatbook.figures.hotspots.hotspots` (what ``beatbook hotspots`` reports), each cell
  clipped to the area outline where the grid is laid over one;
* ``priorities``: the snap points of the area's priorities running in the month (adopted or
  continued for it), one point each;
* ``wards``: the wards of the area, outlined from the stored LSOA boundaries (the outlines
  the community update's map draws).

Layers hold no concern text or contact: only places, counts and statistics.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import polars as pl
import shapely
from shapely.geometry.base import BaseGeometry

from beatbook import areas as areas_mod
from beatbook import geo
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.errors import InputError
from beatbook.figures.hotspots import hotspots
from beatbook.figures.public import running_months
from beatbook.months import CALENDAR, months_back, parse_month
from beatbook.priorities import lifecycle
from beatbook.priorities.wording import problem_label
from beatbook.store import Store

__all__ = ["LAYERS", "layer", "ward_outlines"]

LAYERS = ("outline", "hotspots", "priorities", "wards")
SLIVER = 0.01  # a ward sharing less than this part of the area's outline is left out
DECIMALS = 6  # about 0.1 m: plenty for a street map


def _geometry(geom: BaseGeometry) -> dict[str, Any]:
    rounded = shapely.set_precision(geom, 10.0**-DECIMALS)
    geometry: dict[str, Any] = json.loads(shapely.to_geojson(rounded))
    return geometry


def _collection(features: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, "properties": properties}


def _feature(geom: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _geometry(geom), "properties": properties}


def _to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(geo.to_wgs84(xy[:, 0], xy[:, 1])))


def ward_outlines(store: Store, area: Area, month: dt.date) -> list[tuple[str, BaseGeometry]]:
    """The wards of ``area`` with their outlines (WGS84) from the stored LSOA boundaries,
    sorted by name; a polygon area's wards are those of its crimes in the 12 months to
    ``month``, cut to the polygon. Wards without stored boundaries, or only touching the area
    in a sliver, are left out; no outlines at all when the area has none stored."""
    if area.polygon_wkt:
        crimes = q.incidents(store, area, months_back(month, 12)[0], month)
        codes = crimes["lsoa_code"].drop_nulls().unique().to_list()
    else:
        codes = sorted(areas_mod.lsoas_of(store, area))
    labels = q.ward_labels(store, codes).filter(pl.col("ward_code").is_not_null())
    outline = q.area_shape(store, area)
    wards = []
    for ward, code in labels.select("ward", "ward_code").unique().sort("ward").iter_rows():
        shape = q.area_shape(store, areas_mod.resolve(store, code))
        if shape is None or outline is None or not shape.intersects(outline):
            continue
        if area.polygon_wkt:
            shape = shape.intersection(outline)
        if shape.area > SLIVER * outline.area:  # not a sliver where boundaries nearly meet
            wards.append((ward, shape))
    return wards


def _outline(store: Store, area: Area) -> dict[str, Any]:
    shape = q.area_shape(store, area)
    features = [] if shape is None else [_feature(shape, {"name": area.name})]
    return _collection(features, layer="outline", area=area.name)


def _hotspots(store: Store, area: Area, month: str) -> dict[str, Any]:
    result = hotspots(store, areas_mod.reference(area), month)
    size = result["grid"]["cell_size_m"]
    clip = None
    if result["grid"]["extent"] == "area boundary":
        shape = q.area_shape(store, area)
        clip = geo.shape_to_bng(shape) if shape is not None else None
    features = []
    for cell in result["cells"]:
        x, y = (float(v) for v in cell["cell"].split(","))
        box = shapely.box(x, y, x + size, y + size)
        if clip is not None:
            box = box.intersection(clip)
        features.append(
            _feature(
                _to_wgs84(box),
                {
                    "cell": cell["cell"],
                    "class": cell["class"],
                    "count": cell["count"],
                    "z": cell["z"],
                    "p": cell["p"],
                },
            )
        )
    return _collection(
        features,
        layer="hotspots",
        area=area.name,
        month=result["month"],
        cell_size_m=size,
        crimes=result["crimes"],
        hot_cells=result["hot_cells"],
        cold_cells=result["cold_cells"],
        method=result["method"]["statistic"],
        fdr_alpha=result["method"]["fdr_alpha"],
        permutations=result["method"]["permutations"],
        extent=result["grid"]["extent"],
    )


def _priorities(store: Store, area: Area, month: dt.date) -> dict[str, Any]:
    features = []
    running = [
        p
        for p in lifecycle.list_priorities(store, area=areas_mod.reference(area))
        if month in running_months(p)
    ]
    for p in running:
        for point in p["snap_points"]:
            features.append(
                _feature(
                    shapely.Point(point["longitude"], point["latitude"]),
                    {
                        "priority_id": p["priority_id"],
                        "label": p["label"],
                        "ward": p["ward"],
                        "problem": p["problem"],
                        "problem_label": problem_label(p["problem"]),
                        "status": p["status"],
                        "location": point["location"],
                    },
                )
            )
    return _collection(features, layer="priorities", area=area.name, month=f"{month:%Y-%m}")


def _wards(store: Store, area: Area, month: dt.date) -> dict[str, Any]:
    features = []
    for name, shape in ward_outlines(store, area, month):
        # Generalised boundaries leave slivers between neighbouring LSOAs: close them (10 m).
        closed = _to_wgs84(geo.shape_to_bng(shape).buffer(10).buffer(-10))
        features.append(_feature(closed, {"name": name}))
    return _collection(features, layer="wards", area=area.name)


def layer(store: Store, name: str, area_name: str, month: str) -> dict[str, Any]:
    """One map layer (see the module notes) as a GeoJSON FeatureCollection."""
    if name not in LAYERS:
        raise InputError(f"map layer {name!r}: expected one of {', '.join(LAYERS)}")
    when = parse_month(month, "month", q.months_with_data(store, *CALENDAR))
    area = areas_mod.resolve(store, area_name)
    if name == "outline":
        return _outline(store, area)
    if name == "hotspots":
        return _hotspots(store, area, f"{when:%Y-%m}")
    if name == "priorities":
        return _priorities(store, area, when)
    return _wards(store, area, when)
