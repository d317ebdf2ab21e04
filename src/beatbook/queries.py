"""Read side of the store: counts of crimes and residents for an area.

These are the only queries behind every published figure, so each figure
can be traced to one function here and its inputs (area, months, year).
Every count is of the store's ``crimes`` view, read from its monthly counts
(``aggregates.py``) except for a polygon's: a Crime ID counts once in a month
(docs/statistics.md, counting rules); :func:`repeats_folded` says how many rows
that folded. Crimes with no location (police.uk's ``No Location`` rows) belong to
no area but their force's force area (which counts every row of the force's files); they
are counted by :func:`unlocated_count` and reported apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
import shapely
from shapely import wkt as shapely_wkt
from shapely.geometry.base import BaseGeometry

from beatbook import geo
from beatbook.areas import Area, lsoas_of, resolve, within
from beatbook.errors import BeatBookError, DataMissingError, InputError
from beatbook.months import month_range
from beatbook.reference import ASB, check_measure, district_forces, force_of_district
from beatbook.store import Store

GROUPABLE = ("month", "crime_type", "local_authority", "lsoa_code", "force")


def _area_filter(area: Area) -> tuple[str, list[object]]:
    """SQL predicate over street_crimes selecting the area (polygons: by bounding box only)."""
    if area.force:  # a force area: every row of the force's files, located anywhere or not
        return "force = ?", [area.force]
    policed, params = _policed_here(area)
    if area.polygon_wkt:
        minx, miny, maxx, maxy = shapely_wkt.loads(area.polygon_wkt).bounds
        where = "longitude BETWEEN ? AND ? AND latitude BETWEEN ? AND ?"
        return f"{where} AND {policed}", [minx, maxx, miny, maxy, *params]
    if area.by_local_authority:
        where = "local_authority IN (SELECT unnest(?::VARCHAR[]))"
        return f"{where} AND {policed}", [sorted(area.local_authorities), *params]
    where = "lsoa_code IN (SELECT unnest(?::VARCHAR[]))"
    return f"{where} AND {policed}", [sorted(area.lsoa_codes), *params]


def _policed_here(area: Area) -> tuple[str, list[object]]:
    """SQL predicate: a located crime counts for a district (and its wards, LSOAs and any
    area drawn over it) only when the force that polices the district recorded it. A crime
    a force records in another force's district counts for its own force area, reported
    there as outside its districts, so no crime counts in two forces' areas and a second
    force's files change no figure of the first's. Districts not in the reference table
    (reference/lad_forces.csv) keep every force's crimes."""
    names = area.local_authorities if area.by_local_authority else None
    known = [d for d in district_forces() if names is None or d.lad_name in names]
    pairs = sorted({f"{d.lad_name}|{d.force}" for d in known})
    return (
        "(local_authority IS NULL OR NOT list_contains(?, local_authority) "
        "OR list_contains(?, local_authority || '|' || force))",
        [sorted({d.lad_name for d in known}), pairs],
    )


def _measure_filter(measure: str | None) -> tuple[str, list[object]]:
    """SQL predicate: crimes (every type but ASB), ASB incidents, or (None) every row."""
    if measure is None:
        return "TRUE", []
    return ("crime_type <> ?" if check_measure(measure) == "crime" else "crime_type = ?"), [ASB]


def _crimes_filter(
    area: Area,
    start: dt.date,
    end: dt.date,
    crime_types: Sequence[str] | None,
    measure: str | None = None,
    months: Sequence[dt.date] | None = None,
) -> tuple[str, list[object]]:
    """SQL predicate over street_crimes: the area, months start..end (only ``months`` of
    them when given), optionally some types or one measure ('crime' or 'asb')."""
    where, params = _area_filter(area)
    where += " AND month BETWEEN ? AND ?"
    params += [start, end]
    if months is not None:
        where += " AND month IN (SELECT unnest(?::DATE[]))"
        params.append(list(months))
    if crime_types:
        where += " AND crime_type IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(crime_types))
    measured, more = _measure_filter(measure)
    return f"{where} AND {measured}", params + more


def crime_counts(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    by: Sequence[str] = (),
    crime_types: Sequence[str] | None = None,
    *,
    measure: str | None = None,
    months: Sequence[dt.date] | None = None,
    table: str = "crimes",
) -> pl.DataFrame:
    """Street-level crimes (and ASB) in ``area``, months start..end, counted by ``by``:
    ``measure`` 'crime' (ASB excluded) or 'asb' keeps one of the two; ``months`` keeps
    those months alone (the months every force of a figure published).

    ``table="street_crimes"`` counts every stored row instead, repeats included (only
    :func:`repeats_folded` wants that)."""
    if table not in ("crimes", "street_crimes"):
        raise ValueError(f"table={table!r}: expected 'crimes' or 'street_crimes'")
    unknown = [b for b in by if b not in GROUPABLE]
    if unknown:
        raise InputError(f"cannot group by {unknown[0]!r}; expected one of {', '.join(GROUPABLE)}")
    where, params = _crimes_filter(area, start, end, crime_types, measure, months)
    if area.polygon_wkt:
        rows = _inside_polygon(
            area,
            store.frame(
                f"SELECT {', '.join([*by, 'longitude', 'latitude'])} FROM {table} WHERE {where}",
                params,
            ),
        )
        if not by:
            return pl.DataFrame({"count": [rows.height]})
        return rows.group_by(list(by)).agg(pl.len().alias("count")).sort(list(by))
    group = ", ".join(by)
    # Every other area is counted from the monthly counts (aggregates.py), not the rows.
    count = f"coalesce(sum({'counted' if table == 'crimes' else 'stored'}), 0)::BIGINT"
    sql = f"SELECT {group + ', ' if by else ''}{count} AS count FROM monthly_counts WHERE {where}"
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
    if area.force and area.local_authorities:  # a force area's map is its own districts
        where += " AND local_authority IN (SELECT unnest(?::VARCHAR[]))"
        params.append(sorted(area.local_authorities))
    outcome = ", last_outcome" if with_outcome else ""
    rows = store.frame(
        f"SELECT month, crime_type, location, longitude, latitude, lsoa_code{outcome} "
        "FROM crimes "
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


def repeats_folded(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    crime_types: Sequence[str] | None = None,
    *,
    measure: str | None = None,
    months: Sequence[dt.date] | None = None,
) -> int:
    """Stored rows of the area and months that repeat a Crime ID already counted in their
    month (kept in the store, not counted: the figure's methods say how many)."""
    raw = crime_counts(
        store,
        area,
        start,
        end,
        crime_types=crime_types,
        measure=measure,
        months=months,
        table="street_crimes",
    )
    counted = crime_total(store, area, start, end, crime_types, measure=measure, months=months)
    return int(raw["count"][0]) - counted


def counting_units(
    store: Store, area: Area, start: dt.date, end: dt.date, *, every_force: bool = False
) -> pl.DataFrame:
    """The area's rows, months start..end, by crime_type and lsoa_code, counted three ways
    (what ``beatbook check`` tries a published figure with): ``rows`` every stored row,
    ``crimes`` one per Crime ID a month (the counting rule: the ``crimes`` view) and
    ``crime_ids`` one per Crime ID in the whole period (its first row). ``every_force``: a
    district's rows from every force's files (police.uk's LSOA names alone), not only those
    of the force that polices it. Not for polygon areas."""
    if every_force and area.by_local_authority:
        where = "local_authority IN (SELECT unnest(?::VARCHAR[])) AND month BETWEEN ? AND ?"
        params: list[object] = [sorted(area.local_authorities), start, end]
    else:
        where, params = _crimes_filter(area, start, end, None)
    return store.frame(
        "SELECT crime_type, lsoa_code, count(*) AS rows, "
        "count(*) FILTER (WHERE r.source_line IS NULL) AS crimes, "
        "count(*) FILTER (WHERE first_of_id) AS crime_ids FROM (SELECT *, crime_id IS NULL OR "
        "row_number() OVER (PARTITION BY force, crime_id ORDER BY month, source_line) = 1 "
        f"AS first_of_id FROM street_crimes WHERE {where}) "
        "LEFT JOIN crime_repeats r USING (force, month, source_line) GROUP BY ALL ORDER BY ALL",
        params,
    )


def crime_total(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    crime_types: Sequence[str] | None = None,
    *,
    measure: str | None = None,
    months: Sequence[dt.date] | None = None,
) -> int:
    counts = crime_counts(
        store, area, start, end, crime_types=crime_types, measure=measure, months=months
    )
    return int(counts["count"][0])


def unlocated_count(
    store: Store,
    start: dt.date,
    end: dt.date,
    forces: Sequence[str] | None = None,
    *,
    measure: str | None = None,
) -> int:
    """Crimes with no coordinates or LSOA in the period (of these forces' files): in no
    local authority's or ward's count."""
    measured, params = _measure_filter(measure)
    where = f"lsoa_code IS NULL AND month BETWEEN ? AND ? AND {measured}"
    params = [start, end, *params]
    if forces:
        where += " AND force IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(forces))
    return int(store.scalar(f"SELECT sum(counted) FROM monthly_counts WHERE {where}", params) or 0)


# A force whose files hold fewer of an area's crimes than this share does not police it:
# its months don't decide the area's (Leicestershire records a few crimes in Nottingham).
MIN_FORCE_SHARE = 0.05


class AreaForces(list[str]):
    """The forces an area's figures depend on (:func:`forces_of`), remembering the area: a
    month fetched from the police.uk API for part of a force counts only for areas inside
    what was fetched (:func:`months_with_data`)."""

    def __init__(self, forces: Iterable[str], area: Area) -> None:
        super().__init__(forces)
        self.area = area


def forces_of(store: Store, area: Area, start: dt.date, end: dt.date) -> list[str]:
    """The forces whose months an area's figures depend on: a force area's own force; for
    any other area the forces that police its districts (reference/lad_forces.csv), or,
    for districts not in that table, the forces holding at least
    :data:`MIN_FORCE_SHARE` of its crimes. Months are per force: a month counts for the
    area only when each of these forces has published it (for this area: an
    :class:`AreaForces`)."""
    return AreaForces(_forces_of(store, area, start, end), area)


def _forces_of(store: Store, area: Area, start: dt.date, end: dt.date) -> list[str]:
    if area.force:
        return [area.force]
    everything = (dt.date(1900, 1, 1), dt.date(9999, 12, 1))
    districts = set(area.local_authorities) or {
        str(d)
        for d in crime_counts(store, area, *everything, by=["local_authority"])["local_authority"]
        if d is not None
    }
    policing = {force_of_district(d) for d in districts}
    if policing and None not in policing:
        return sorted(f for f in policing if f is not None)
    for first, last in ((start, end), everything):
        counts = crime_counts(store, area, first, last, by=["force"])
        total = int(counts["count"].sum()) if counts.height else 0
        if total:
            return sorted(
                str(force) for force, n in counts.iter_rows() if n >= MIN_FORCE_SHARE * total
            )
    return []


def months_with_data(
    store: Store, start: dt.date, end: dt.date, forces: Sequence[str] | None = None
) -> list[dt.date]:
    """Months in the period with street data stored (missing months are not zeros): with
    ``forces``, the months every one of them has published; else those any force has.

    A month fetched from the police.uk API holds one area's crimes, not the force's
    (``partitions.coverage``): it counts only when ``forces`` are an :class:`AreaForces`
    (:func:`forces_of`) whose area lies inside that area (:func:`covers`), and is missing
    for every other area (the force, its districts, a neighbouring ward) and for a caller
    that names no area."""
    where = "kind = 'street' AND month BETWEEN ? AND ?"
    params: list[object] = [start, end]
    if forces:
        where += " AND force IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(forces))
    area = getattr(forces, "area", None)
    covered = {WHOLE_FORCE: True}
    published: dict[dt.date, set[str]] = {}
    for month, force, coverage in store.rows(
        f"SELECT month, force, coverage FROM partitions WHERE {where} ORDER BY month", params
    ):
        if coverage not in covered:
            covered[coverage] = covers(store, coverage, area)
        if covered[coverage]:
            published.setdefault(month, set()).add(force)
    wanted = len(set(forces)) if forces else 1
    return [m for m, found in published.items() if len(found) >= wanted]


WHOLE_FORCE = "force"  # partitions.coverage of a force's file or archive: every area's crimes


def covers(store: Store, coverage: str, area: Area | None) -> bool:
    """Whether a partition of this ``coverage`` holds all of ``area``'s crimes of its month:
    a force's file does; an API fetch ('custom:West Leicester') only for areas inside the
    area fetched (:func:`beatbook.areas.within`); no area, or one that cannot be placed
    against it (a missing boundary, an area since deleted), is not inside."""
    if coverage == WHOLE_FORCE:
        return True
    if area is None or area.force:  # a force area is never inside a part of its force
        return False
    try:
        return within(store, area, resolve(store, coverage))
    except BeatBookError:
        return False


def crime_types(store: Store) -> list[str]:
    return [r[0] for r in store.rows("SELECT DISTINCT crime_type FROM monthly_counts ORDER BY 1")]


def period_coverage(
    store: Store, start: dt.date, end: dt.date, forces: Sequence[str] | None = None
) -> dict[str, Any]:
    """Which of the months from ``start`` to ``end`` have street-level data: with
    ``forces``, the months all of them published (``months_used``), and each force's own
    missing months (``months_missing_by_force``)."""
    wanted = month_range(start, end)
    present = months_with_data(store, start, end, forces)
    if not present:
        whose = f" by {', '.join(forces)}" if forces else ""
        raise DataMissingError(
            f"no street-level crime data stored{whose} for {start:%Y-%m} to {end:%Y-%m}: "
            "run 'beatbook ingest' with those months"
        )
    missing = [m for m in wanted if m not in present]
    coverage: dict[str, Any] = {
        "months": len(present),
        "months_missing": [f"{m:%Y-%m}" for m in missing],
        "months_used": [f"{m:%Y-%m}" for m in present],
    }
    if forces:
        coverage["forces"] = list(forces)
        area = getattr(forces, "area", None)
        published = {
            force: set(
                months_with_data(
                    store, start, end, [force] if area is None else AreaForces([force], area)
                )
            )
            for force in forces
        }
        coverage["months_missing_by_force"] = {
            force: [f"{m:%Y-%m}" for m in wanted if m not in published[force]] for force in forces
        }
    return coverage


def area_grid(store: Store, area: Area, cell_size: int, up_to: dt.date) -> tuple[geo.Grid, str]:
    """The area's grid, and what bounds it: its boundary, or the cells it had crime in
    in the months up to ``up_to`` (never later ones: a forecast's grid must not know
    where crime happened after its cutoff; boundaries are fixed, so they use no months)."""
    shape = area_shape(store, area)
    if shape is not None:
        return geo.grid_over(geo.shape_to_bng(shape), cell_size), "area boundary"
    seen = incidents(store, area, dt.date(1900, 1, 1), up_to)
    if seen.is_empty():
        raise DataMissingError(
            f"no located crimes in {area.name} up to {up_to:%Y-%m}: cannot lay a grid over it "
            "without its LSOA boundaries ('beatbook areas import-boundaries')"
        )
    x, y = geo.to_bng(seen["longitude"].to_numpy(), seen["latitude"].to_numpy())
    return geo.grid_over_points(x, y, cell_size), f"cells with crime up to {up_to:%Y-%m}"


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
        "SELECT DISTINCT lsoa_code FROM monthly_counts WHERE lsoa_code IS NOT NULL "
        "AND local_authority IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(names)],
    )
    return {r[0] for r in rows}


def sources(
    store: Store, months: list[dt.date], forces: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The police.uk street files behind these months (of these forces): force, month, file,
    rows stored and quarantined, and the day each was imported (the brief's methods line)."""
    where = "kind = 'street' AND month IN (SELECT unnest(?::DATE[]))"
    params: list[object] = [months]
    if forces:
        where += " AND force IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(forces))
    rows = store.rows(
        "SELECT force, strftime(month, '%Y-%m'), source_file, rows_stored, rows_quarantined, "
        f"strftime(ingested_at, '%Y-%m-%d') FROM partitions WHERE {where} ORDER BY month, force",
        params,
    )
    return [
        dict(zip(("force", "month", "file", "rows", "quarantined", "ingested"), r, strict=True))
        for r in rows
    ]


def snap_points_in(store: Store, codes: Sequence[str]) -> pl.DataFrame:
    """The police.uk snap points of the located crimes (ASB included, every stored month) in
    these LSOAs: location ('On or near Elm Close'), lsoa_code, crimes. What residents search
    streets by (the public search)."""
    return store.frame(
        "SELECT location, lsoa_code, count(*) AS crimes FROM crimes "
        "WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[])) AND location IS NOT NULL "
        "GROUP BY location, lsoa_code ORDER BY location, lsoa_code",
        [sorted(set(codes))],
    )


POSTCODES_TABLE = "postcodes"


def postcodes_loaded(store: Store) -> bool:
    """Whether a postcode lookup is stored: a ``postcodes`` table (postcode 'LE3 0AA', upper
    case with one space; lsoa_code; longitude; latitude) with at least one row."""
    if not store.scalar(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [POSTCODES_TABLE]
    ):
        return False
    return bool(store.scalar(f"SELECT count(*) > 0 FROM {POSTCODES_TABLE}"))


def postcode_lsoas(store: Store, postcode: str) -> list[str]:
    """The LSOAs of a full postcode ('LE3 0AA'), or of every postcode of an outward code
    ('LE3'), from the postcode lookup (:func:`postcodes_loaded` first); [] when unknown."""
    full = " " in postcode
    rows = store.rows(
        f"SELECT DISTINCT lsoa_code FROM {POSTCODES_TABLE} "
        f"WHERE {'postcode = ?' if full else 'postcode LIKE ?'} AND lsoa_code IS NOT NULL "
        "ORDER BY 1",
        [postcode if full else f"{postcode} %"],
    )
    return [r[0] for r in rows]
