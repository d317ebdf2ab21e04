"""A polygon from a GeoJSON file or an outline: WGS84 longitude/latitude inside the UK.

What ``beatbook areas add --geojson`` reads (and the check a police.uk team boundary gets):
coordinates in another projection are refused, never silently misplaced.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from beatbook.errors import InputError


def read_polygon(path: Path) -> str:
    """Union of the (Multi)Polygons in a GeoJSON file (WGS84 lon/lat), as WKT."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable GeoJSON file ({exc})") from exc
    if data.get("type") == "FeatureCollection":
        geoms = [f.get("geometry") for f in data.get("features", [])]
    elif data.get("type") == "Feature":
        geoms = [data.get("geometry")]
    else:
        geoms = [data]
    try:
        polys = [shape(g) for g in geoms if g]
    except (ValueError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: a geometry could not be read ({exc})") from exc
    polys = [p for p in polys if p.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        raise InputError(f"{path}: no Polygon or MultiPolygon geometry found")
    merged = shapely.union_all([shapely.make_valid(p) for p in polys])
    check_uk_lon_lat(merged, str(path))
    return merged.wkt


def check_uk_lon_lat(geometry: BaseGeometry, source: str) -> None:
    """Refuse a polygon whose coordinates are not WGS84 lon/lat inside the UK."""
    minx, miny, maxx, maxy = geometry.bounds
    if not (minx >= -9 and maxx <= 2.5 and miny >= 49 and maxy <= 61):
        raise InputError(
            f"{source}: coordinates are not WGS84 longitude/latitude in the UK "
            f"(bounds {minx:.1f},{miny:.1f},{maxx:.1f},{maxy:.1f}); reproject to EPSG:4326"
        )
