"""Read side of the store: counts of crimes and residents for an area.

These are the only queries behind every published figure, so each figure
can be traced to one function here and its inputs (area, months, year).
Crimes with no location (police.uk's ``No Location`` rows) belong to no
area; they are counted by :func:`unlocated_count` and reported apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import shapely
from shapely import wkt as shapely_wkt
from shapely.geometry.base import BaseGeometry

from beatbook import geo
from beatbook.areas import Area, lsoas_of
from beatbook.errors import DataMissingError, InputError
from beatbook.months import month_range, months_between
from beatbook.store import Store

GROUPABLE = ("month", "crime_type", "local_authority", "lsoa_code", "force")


def _area_filter(area: Area) -> tuple[str, list[object]]:
    """SQL predicate over street_crimes selecting the area (polygons: by bounding box only)."""
    if area.polygon_wkt:
        minx, miny, maxx, maxy = shapely_wkt.loads(area.polygon_wkt).bounds
        return ("longitude BETWEEN ? AND ? AND latitude BETWEEN ? AND ?", [minx, maxx, miny, maxy])
    if area.by_local_authority:
        return "local_authority IN (SELECT unnest(?::VARCHAR[]))", [sorted(area.local_authorities)]
    return "lsoa_code IN (SELECT unnest(?::VARCHAR[]))", [sorted(area.lsoa_codes)]


def _crimes_filter(
    area: Area, start: dt.date, end: dt.date, crime_types: Sequence[str] | None
) -> tuple[str, list[object]]:
    """SQL predicate over street_crimes: the area, months start..end, optionally some types."""
    where, params = _area_filter(area)
    where += " AND month BETWEEN ? AND ?"
    params += [start, end]
    if crime_types:
        where += " AND crime_type IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(crime_types))
    return where, params


def crime_counts(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    by: Sequence[str] = (),
    crime_types: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Street-level crimes (and ASB) in ``area``, months start..end, counted by ``by``."""
    unknown = [b for b in by if b not in GROUPABLE]
    if unknown:
        raise InputError(f"cannot group by {unknown[0]!r}; expected one of {', '.join(GROUPABLE)}")
    where, params = _crimes_filter(area, start, end, crime_types)
    if area.polygon_wkt:
        rows = _inside_polygon(
            area,
            store.frame(
                f"SELECT {', '.join([*by, 'longitude', 'latitude'])} FROM street_crimes "
                f"WHERE {where}",
                params,
            ),
        )
        if not by:
            return pl.DataFrame({"count": [rows.height]})
        return rows.group_by(list(by)).agg(pl.len().alias("count")).sort(list(by))
    group = ", ".join(by)
    sql = f"SELECT {group + ', ' if by else ''}count(*) AS count FROM street_crimes WHERE {where}"
    if by:
        sql += f" GROUP BY {group} ORDER BY {group}"
    return store.frame(sql, params)


def _inside_polygon(area: Area, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows (with longitude, latitude) inside a polygon area; others pass unchanged."""
    if not area.polygon_wkt:
        return rows
    polygon = shapely_wkt.loads(area.polygon_wkt)
    inside = shapely.contains_xy(polygon, rows["longitude"].to_numpy(), rows["latitude"].to_numpy())
    return rows.filter(pl.Series(inside))


def incidents(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    crime_types: Sequence[str] | None = None,
    *,
    with_outcome: bool = False,
) -> pl.DataFrame:
    """Located street crimes and ASB in ``area``: one row each, for maps, grids and places.

    Columns: month, crime_type, location, longitude, latitude, lsoa_code (and
    last_outcome with ``with_outcome``).
    """
    where, params = _crimes_filter(area, start, end, crime_types)
    outcome = ", last_outcome" if with_outcome else ""
    rows = store.frame(
        f"SELECT month, crime_type, location, longitude, latitude, lsoa_code{outcome} "
        "FROM street_crimes "
        f"WHERE {where} AND longitude IS NOT NULL",
        params,
    )
    return _inside_polygon(area, rows)


def area_shape(store: Store, area: Area) -> BaseGeometry | None:
    """The area's outline (WGS84): its polygon, or the union of its imported LSOA boundaries.

    None when no boundaries of its LSOAs are stored (``beatbook areas import-boundaries``).
    """
    if area.polygon_wkt:
        return shapely_wkt.loads(area.polygon_wkt)
    if area.by_local_authority:
        where = (
            "regexp_extract(lsoa_name, '^(.*) [0-9]{3}[A-Z]$', 1) IN (SELECT unnest(?::VARCHAR[]))"
        )
        params: list[object] = [sorted(area.local_authorities)]
    else:
        where, params = (
            "lsoa_code IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(lsoas_of(store, area))],
        )
    wkts = [
        r[0] for r in store.rows(f"SELECT geometry_wkt FROM lsoa_boundaries WHERE {where}", params)
    ]
    if not wkts:
        return None
    return shapely.union_all([shapely_wkt.loads(w) for w in wkts])


def lsoa_wards(store: Store, codes: Sequence[str]) -> pl.DataFrame:
    """The ward of each LSOA code, both vintages: columns lsoa_code, ward_code, ward_name.

    2011 codes are looked up directly; 2021 codes through the ONS 2011 <-> 2021
    bridge (a merged or irregular LSOA takes the ward of its first 2011 parent).
    Codes with no ward in the lookup fall back to their local authority (from the
    LSOA name), with ward_code null, so every located crime has a ward-level home.
    """
    wanted = sorted({c for c in codes if c})
    frame = store.frame(
        """
        WITH codes AS (SELECT unnest(?::VARCHAR[]) AS lsoa_code),
        direct AS (
            SELECT c.lsoa_code, l.ward_code, l.ward_name FROM codes c
            JOIN lsoa_lookup l ON l.lsoa_code = c.lsoa_code AND l.ward_code IS NOT NULL
        ),
        bridged AS (
            SELECT c.lsoa_code, arg_min(l.ward_code, b.lsoa11_code) AS ward_code,
                   arg_min(l.ward_name, b.lsoa11_code) AS ward_name
            FROM codes c
            JOIN lsoa_bridge b ON b.lsoa21_code = c.lsoa_code
            JOIN lsoa_lookup l ON l.lsoa_code = b.lsoa11_code AND l.ward_code IS NOT NULL
            WHERE c.lsoa_code NOT IN (SELECT lsoa_code FROM direct)
            GROUP BY c.lsoa_code
        ),
        named AS (
            SELECT lsoa_code, any_value(lsoa_name) AS lsoa_name FROM street_crimes
            WHERE lsoa_code IN (SELECT lsoa_code FROM codes) GROUP BY 1
        )
        SELECT c.lsoa_code,
               coalesce(d.ward_code, b.ward_code) AS ward_code,
               coalesce(d.ward_name, b.ward_name,
                        regexp_extract(n.lsoa_name, '^(.*) [0-9]{3}[A-Z]$', 1)) AS ward_name
        FROM codes c
        LEFT JOIN direct d USING (lsoa_code)
        LEFT JOIN bridged b USING (lsoa_code)
        LEFT JOIN named n USING (lsoa_code)
        ORDER BY 1
        """,
        [wanted],
    )
    return frame.with_columns(pl.col("ward_name").fill_null("unknown ward"))


def crime_total(
    store: Store, area: Area, start: dt.date, end: dt.date, crime_types: Sequence[str] | None = None
) -> int:
    return int(crime_counts(store, area, start, end, crime_types=crime_types)["count"][0])


def unlocated_count(store: Store, start: dt.date, end: dt.date) -> int:
    """Crimes with no coordinates or LSOA in the period: in no area's count."""
    return int(
        store.scalar(
            "SELECT count(*) FROM street_crimes WHERE lsoa_code IS NULL AND month BETWEEN ? AND ?",
            [start, end],
        )
    )


def months_with_data(store: Store, start: dt.date, end: dt.date) -> list[dt.date]:
    """Months in the period for which street data is stored (missing months are not zeros)."""
    rows = store.rows(
        "SELECT DISTINCT month FROM partitions WHERE kind = 'street' AND month BETWEEN ? AND ? "
        "ORDER BY month",
        [start, end],
    )
    return [r[0] for r in rows]


def crime_types(store: Store) -> list[str]:
    return [r[0] for r in store.rows("SELECT DISTINCT crime_type FROM street_crimes ORDER BY 1")]


@dataclass(frozen=True)
class Population:
    """Residents of an area in one mid-year estimate, and how much of the area it covers."""

    population: float
    year: int
    lsoas_found: int

    def to_dict(self) -> dict[str, object]:
        return {
            "population": self.population,
            "population_year": self.year,
            "population_lsoas": self.lsoas_found,
        }


def population_years(store: Store) -> list[int]:
    return [r[0] for r in store.rows("SELECT DISTINCT year FROM population ORDER BY year")]


def nearest_population_year(store: Store, start: dt.date, end: dt.date) -> int:
    """The estimate nearest the middle of the period (ties: the earlier one)."""
    years = population_years(store)
    if not years:
        raise DataMissingError(
            "no population estimates in the store: run 'beatbook areas import-population FILE "
            "--year YYYY' (rates need residents)"
        )
    middle = start.year + (start.month - 1) / 12 + (months_between(start, end) + 1) / 24
    return min(years, key=lambda y: (abs(y + 0.5 - middle), y))


def population(store: Store, area: Area, year: int) -> Population:
    """Residents of ``area`` in the mid-``year`` estimate (sum over its LSOAs)."""
    if area.polygon_wkt:
        raise DataMissingError(
            f"area {area.name!r} is a polygon: BeatBook counts its crimes but has no resident "
            "count for it; define it with --lsoa or --ward to get rates"
        )
    codes = lsoas_of(store, area)
    if not codes:
        raise DataMissingError(
            f"no LSOAs known for {area.name!r}: import an ONS lookup "
            "('beatbook areas import-lookup FILE') so residents can be counted"
        )
    total, found = store.row(
        "SELECT sum(population), count(*) FROM population WHERE year = ? "
        "AND lsoa_code IN (SELECT unnest(?::VARCHAR[]))",
        [year, sorted(codes)],
    )
    if not found:
        years = population_years(store)
        raise DataMissingError(
            f"no mid-{year} population for the LSOAs of {area.name!r} "
            f"(years in the store: {', '.join(map(str, years)) or 'none'})"
        )
    return Population(float(total), year, int(found))


def lsoa_populations(store: Store, codes: frozenset[str], year: int) -> list[tuple[str, float]]:
    """(LSOA code, residents) for those of ``codes`` in the mid-``year`` estimate."""
    rows = store.rows(
        "SELECT lsoa_code, population FROM population WHERE year = ? "
        "AND lsoa_code IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1",
        [year, sorted(codes)],
    )
    return [(c, float(p)) for c, p in rows]


def year_matching_codes(store: Store, area: Area, start: dt.date, end: dt.date) -> int:
    """The estimate whose LSOA codes match most of the codes the crimes carry in the period.

    police.uk moved from 2011 to 2021 LSOA codes; per-LSOA rates need
    population by the same codes (nearest year breaks ties).
    """
    seen = crime_counts(store, area, start, end, by=["lsoa_code"])["lsoa_code"].to_list()
    nearest = nearest_population_year(store, start, end)
    scores = store.rows(
        "SELECT year, count(*) FROM population WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[])) "
        "GROUP BY year",
        [[c for c in seen if c]],
    )
    if not scores:
        return nearest
    return max(scores, key=lambda ys: (ys[1], -abs(ys[0] - nearest)))[0]


def period_coverage(store: Store, start: dt.date, end: dt.date) -> dict[str, Any]:
    """How many of the months from ``start`` to ``end`` have street-level data, and which are missing."""
    wanted = month_range(start, end)
    present = months_with_data(store, start, end)
    if not present:
        raise DataMissingError(
            f"no street-level crime data stored for {start:%Y-%m} to {end:%Y-%m}: "
            "run 'beatbook ingest' with those months"
        )
    missing = [m for m in wanted if m not in present]
    return {
        "months": len(present),
        "months_missing": [f"{m:%Y-%m}" for m in missing],
    }


def area_grid(store: Store, area: Area, cell_size: int) -> tuple[geo.Grid, str]:
    """The area's grid, and what bounds it: its boundary, or the cells it had crime in."""
    shape = area_shape(store, area)
    if shape is not None:
        return geo.grid_over(geo.shape_to_bng(shape), cell_size), "area boundary"
    everything = incidents(store, area, dt.date(1900, 1, 1), dt.date(2100, 1, 1))
    x, y = geo.to_bng(everything["longitude"].to_numpy(), everything["latitude"].to_numpy())
    return geo.grid_over_points(x, y, cell_size), "cells with any stored crime"


def ward_labels(store: Store, codes: list[str]) -> pl.DataFrame:
    """lsoa_code -> ward (its name, or "Name (code)" where two wards of the area share a name:
    Normanton in Blaby and in Rutland, so they never merge into one) and ward_code."""
    wards = lsoa_wards(store, codes)
    shared = (
        wards.group_by("ward_name")
        .agg(pl.col("ward_code").n_unique().alias("n"))
        .filter(pl.col("n") > 1)["ward_name"]
    )
    label = (
        pl.when(pl.col("ward_name").is_in(shared.implode()))
        .then(pl.col("ward_name") + " (" + pl.col("ward_code").fill_null("?") + ")")
        .otherwise(pl.col("ward_name"))
    )
    return wards.select("lsoa_code", label.alias("ward"), "ward_code")


def lsoas_in_local_authorities(store: Store, names: Iterable[str]) -> set[str]:
    """LSOA codes of the stored crimes in these districts (police.uk's own column, so it
    works before any ONS lookup is imported)."""
    rows = store.rows(
        "SELECT DISTINCT lsoa_code FROM street_crimes WHERE lsoa_code IS NOT NULL "
        "AND local_authority IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(names)],
    )
    return {r[0] for r in rows}


def sources(store: Store, months: list[dt.date]) -> list[dict[str, Any]]:
    """The police.uk street files behind these months: force, month, file, rows stored and
    quarantined, and the day each was imported (the brief's methods line)."""
    rows = store.rows(
        "SELECT force, strftime(month, '%Y-%m'), source_file, rows_stored, rows_quarantined, "
        "strftime(ingested_at, '%Y-%m-%d') FROM partitions WHERE kind = 'street' "
        "AND month IN (SELECT unnest(?::DATE[])) ORDER BY month",
        [months],
    )
    return [
        dict(zip(("force", "month", "file", "rows", "quarantined", "ingested"), r, strict=True))
        for r in rows
    ]
