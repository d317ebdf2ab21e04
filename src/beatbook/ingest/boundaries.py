"""Import LSOA boundaries (GeoJSON, WGS84) so areas have a shape: grids are clipped to it.

ONS publishes LSOA boundaries as GeoJSON with the code and name in properties
named ``LSOA11CD``/``LSOA11NM`` (or ``LSOA21CD``/``LSOA21NM``). Re-importing a
file replaces the LSOAs it holds; other LSOAs are kept.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from beatbook.errors import InputError
from beatbook.store import Store

LSOA_CODE = re.compile(r"[EWN]0[0-9]{7}")
UK_BOUNDS = (-9.0, 49.0, 2.5, 61.0)  # lon/lat box: anything outside is not WGS84 UK


def _read_geojson(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
        data = json.loads(text)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: not a readable GeoJSON file ({exc})") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InputError(f"{path}: expected a GeoJSON FeatureCollection of LSOA polygons")
    return data


def _code_and_name(path: Path, index: int, props: dict[str, Any]) -> tuple[str, str | None]:
    keys = {k.lower(): k for k in props}
    code_key = next((keys[k] for k in keys if re.fullmatch(r"lsoa\d\dcd|lsoa_?code|code", k)), None)
    name_key = next((keys[k] for k in keys if re.fullmatch(r"lsoa\d\dnm|lsoa_?name|name", k)), None)
    code = str(props.get(code_key, "")).strip() if code_key else ""
    if not LSOA_CODE.fullmatch(code):
        raise InputError(
            f"{path}: feature {index + 1}: expected an LSOA code in a property such as "
            f"LSOA11CD or LSOA21CD, found {dict(list(props.items())[:3])}"
        )
    return code, (str(props[name_key]).strip() if name_key else None)


def import_boundaries(store: Store, path: str | Path) -> int:
    """Load the LSOA polygons of a GeoJSON file; return how many LSOAs it held."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    data = _read_geojson(path)
    rows = []
    for i, feature in enumerate(data.get("features") or []):
        code, name = _code_and_name(path, i, feature.get("properties") or {})
        try:
            geom = shapely.make_valid(shape(feature.get("geometry")))
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{path}: feature {i + 1} ({code}): unreadable geometry ({exc})"
            ) from exc
        if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection") or geom.is_empty:
            raise InputError(f"{path}: feature {i + 1} ({code}): not a polygon ({geom.geom_type})")
        minx, miny, maxx, maxy = geom.bounds
        lo_x, lo_y, hi_x, hi_y = UK_BOUNDS
        if not (minx >= lo_x and maxx <= hi_x and miny >= lo_y and maxy <= hi_y):
            raise InputError(
                f"{path}: feature {i + 1} ({code}): coordinates are not WGS84 longitude/latitude "
                "in the UK; reproject to EPSG:4326"
            )
        rows.append((code, name, geom.wkt, str(path)))
    if not rows:
        raise InputError(f"{path}: the FeatureCollection has no features")
    with store.transaction() as con:
        con.executemany("INSERT OR REPLACE INTO lsoa_boundaries VALUES (?, ?, ?, ?)", rows)
    return len(rows)
