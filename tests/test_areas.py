"""Areas: what ``--area NAME`` resolves to, custom areas, and their crimes and residents.

Every expected number is computed from the raw bundled files (see ``fixtures_store``),
never by BeatBook: crime counts by a separate DuckDB connection or the ``csv`` module over
the gzipped police.uk CSVs, populations by joining the raw ONS lookup and estimate files,
and polygon membership by shapely on the raw coordinates.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from beatbook import areas, populations, queries
from beatbook.errors import AmbiguousAreaError, DataMissingError, InputError, UnknownAreaError
from beatbook.store import Store
from support.fixtures_store import (
    DISTRICTS,
    FORCE_AREA,
    LEICESTER_BOUNDARIES,
    raw_scalar,
    raw_street_rows,
)

JAN_2020, DEC_2021 = dt.date(2020, 1, 1), dt.date(2021, 12, 1)
JAN_2025, MAR_2025 = dt.date(2025, 1, 1), dt.date(2025, 3, 1)
MONTHS_2020_2021 = [f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)]


# --- independent helpers over the raw files ------------------------------------------------


def raw_ward(con: duckdb.DuckDBPyConnection, name: str, lad: str) -> tuple[str, set[str]]:
    """(ward code, its 2011 LSOAs) from the raw ONS ward lookup."""
    rows = con.execute(
        "SELECT WD19CD, LSOA11CD FROM ward_lookup WHERE WD19NM = ? AND LAD19NM = ?", [name, lad]
    ).fetchall()
    codes = {c for c, _ in rows}
    assert len(codes) == 1, codes
    return codes.pop(), {lsoa for _, lsoa in rows}


def raw_bridged_2021(con: duckdb.DuckDBPyConnection, lsoa11: set[str]) -> set[str]:
    """2021 LSOAs whose first (lowest-coded) 2011 parent is in ``lsoa11`` (README's rule)."""
    rows = con.execute("SELECT LSOA21CD, min(LSOA11CD) FROM bridge GROUP BY 1").fetchall()
    return {new for new, first_parent in rows if first_parent in lsoa11}


def raw_population(con: duckdb.DuckDBPyConnection, year: int, codes: set[str]) -> float:
    table = {2019: "pop2019", 2022: "pop2022"}[year]
    return float(
        raw_scalar(
            con,
            f"SELECT coalesce(sum(population), 0) FROM {table} "
            "WHERE code IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(codes)],
        )
    )


def raw_count_by_lsoa(
    con: duckdb.DuckDBPyConnection, codes: set[str], first: str, last: str
) -> int:
    return int(
        raw_scalar(
            con,
            'SELECT count(*) FROM street WHERE "LSOA code" IN (SELECT unnest(?::VARCHAR[])) '
            "AND month BETWEEN ? AND ?",
            [sorted(codes), first, last],
        )
    )


# --- built-in areas ----------------------------------------------------------------------------


def test_leicester_is_the_local_authority(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    area = areas.resolve(sample_store, "Leicester")
    lad_code = raw_scalar(
        raw_db, "SELECT any_value(LAD19CD) FROM ward_lookup WHERE LAD19NM = ?", ["Leicester"]
    )
    assert (area.kind, area.code, area.local_authorities) == (
        "local authority",
        lad_code,
        frozenset({"Leicester"}),
    )
    assert lad_code == "E06000016"


def test_force_area_is_leicester_the_seven_districts_and_rutland(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    area = areas.resolve(sample_store, "Leicestershire")
    assert area.kind == "force area"
    assert area.local_authorities == frozenset(FORCE_AREA)
    # The raw files do hold crimes in other districts (Birmingham, Rugby, ...): not members.
    elsewhere = {
        d
        for (d,) in raw_db.execute(
            "SELECT DISTINCT district FROM street WHERE district <> ''"
        ).fetchall()
    } - set(FORCE_AREA)
    assert {"Birmingham", "Rugby", "South Kesteven"} <= elsewhere
    assert not elsewhere & area.local_authorities


def test_force_area_excluding_leicester_is_the_eight_others(sample_store: Store) -> None:
    area = areas.resolve(sample_store, "Leicestershire excluding Leicester")
    assert area.local_authorities == frozenset([*DISTRICTS, "Rutland"])
    assert len(area.local_authorities) == 8


def test_ward_by_qualified_name_and_by_code(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    code, lsoa11 = raw_ward(raw_db, "Abbey", "Leicester")
    by_name = areas.resolve(sample_store, "Abbey (Leicester)")
    by_code = areas.resolve(sample_store, code)
    assert by_name == by_code
    assert (by_name.kind, by_name.code, by_name.parent) == ("ward", code, "Leicester")
    # Both vintages: the ward's 2011 LSOAs and the 2021 LSOAs bridged from them.
    assert by_name.lsoa_codes == frozenset(lsoa11 | raw_bridged_2021(raw_db, lsoa11))


def test_ambiguous_ward_name_lists_candidates_with_codes(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    n_abbeys = raw_scalar(
        raw_db, "SELECT count(DISTINCT WD19CD) FROM ward_lookup WHERE WD19NM = 'Abbey'"
    )
    assert n_abbeys > 1
    with pytest.raises(AmbiguousAreaError) as info:
        areas.resolve(sample_store, "Abbey")
    message = str(info.value)
    assert f"matches {n_abbeys} areas" in message
    assert "Abbey (ward E05010458 in Leicester)" in message
    listed = re.findall(r"Abbey \(ward (E05\d{6}) in [^)]+\)", message)
    assert len(listed) == min(n_abbeys, 10)
    assert "\n" not in message


@pytest.mark.parametrize(
    ("typo", "suggestion"), [("Leicstr", "Leicester"), ("Charnwod", "Charnwood")]
)
def test_unknown_area_suggests_close_names(sample_store: Store, typo: str, suggestion: str) -> None:
    with pytest.raises(UnknownAreaError) as info:
        areas.resolve(sample_store, typo)
    message = str(info.value)
    assert "no such area" in message
    assert f"'{suggestion}'" in message
    assert "\n" not in message


def test_local_authority_sharing_a_ward_name_is_ambiguous_but_resolvable(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    ward = raw_db.execute(
        "SELECT WD19CD, LAD19NM FROM ward_lookup WHERE WD19NM = 'Melton'"
    ).fetchall()
    assert ward and ward[0][1] != "Melton"
    with pytest.raises(AmbiguousAreaError, match=ward[0][0]):
        areas.resolve(sample_store, "Melton")
    by_prefix = areas.resolve(sample_store, "local authority:Melton")
    assert by_prefix == areas.resolve(sample_store, "E07000133")
    assert by_prefix.local_authorities == frozenset({"Melton"})
    # Derived areas refer to it unambiguously and are named plainly.
    rest = areas.resolve(sample_store, "Leicestershire excluding E07000133")
    assert rest.name == "Leicestershire excluding Melton"
    assert rest.local_authorities == frozenset(FORCE_AREA) - {"Melton"}
    assert areas.resolve(sample_store, areas.reference(by_prefix)) == by_prefix


# --- populations -------------------------------------------------------------------------------


# MANIFEST.md section 4 (checked there against ONS published totals).
MANIFEST_POPULATION = {
    "Leicester": (354_224, 373_399),
    "Blaby": (101_526, 104_182),
    "Charnwood": (185_851, 184_748),
    "Harborough": (93_807, 100_481),
    "Hinckley and Bosworth": (113_136, 114_298),
    "Melton": (51_209, 52_433),
    "North West Leicestershire": (103_611, 107_672),
    "Oadby and Wigston": (57_015, 58_341),
    "Rutland": (39_927, 41_151),
}


@pytest.mark.parametrize("lad", sorted(MANIFEST_POPULATION))
def test_local_authority_population_matches_raw_ons_files(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection, lad: str
) -> None:
    # 'Melton' alone is ambiguous (a ward in East Suffolk has that name): use the kind prefix.
    area = areas.resolve(sample_store, f"local authority:{lad}")
    lsoa11 = {
        c
        for (c,) in raw_db.execute(
            "SELECT LSOA11CD FROM ward_lookup WHERE LAD19NM = ?", [lad]
        ).fetchall()
    }
    lsoa21 = {
        c
        for (c,) in raw_db.execute(
            "SELECT DISTINCT LSOA21CD FROM bridge WHERE LAD22NM = ?", [lad]
        ).fetchall()
    }
    p2019 = populations.population(sample_store, area, 2019)
    p2022 = populations.population(sample_store, area, 2022)
    assert (p2019.population, p2019.lsoas_found) == (
        raw_population(raw_db, 2019, lsoa11),
        len(lsoa11),
    )
    assert (p2022.population, p2022.lsoas_found) == (
        raw_population(raw_db, 2022, lsoa21),
        len(lsoa21),
    )
    assert (p2019.population, p2022.population) == MANIFEST_POPULATION[lad]
    if lad == "Leicester":
        assert (p2019.lsoas_found, p2022.lsoas_found) == (192, 200)


def test_ward_population_and_crimes_match_raw_files(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    # Castle has 2011 LSOAs that were split and two that were merged into one 2021 LSOA.
    _, lsoa11 = raw_ward(raw_db, "Castle", "Leicester")
    lsoa21 = raw_bridged_2021(raw_db, lsoa11)
    area = areas.resolve(sample_store, "Castle (Leicester)")
    assert populations.population(sample_store, area, 2019).population == raw_population(
        raw_db, 2019, lsoa11
    )
    assert populations.population(sample_store, area, 2022).population == raw_population(
        raw_db, 2022, lsoa21
    )
    assert queries.crime_total(sample_store, area, JAN_2020, DEC_2021) == raw_count_by_lsoa(
        raw_db, lsoa11, "2020-01", "2021-12"
    )
    # 2025 files carry 2021 codes: the bridged codes count them.
    assert queries.crime_total(sample_store, area, JAN_2025, MAR_2025) == raw_count_by_lsoa(
        raw_db, lsoa21, "2025-01", "2025-03"
    )


# --- custom areas ------------------------------------------------------------------------------


def test_add_area_from_lsoa_list(writable_store: Store, raw_db: duckdb.DuckDBPyConnection) -> None:
    # Unchanged (U), split (S) and the first parent of a merged (M) 2011 LSOA.
    lsoa11 = {"E01013600", "E01013607", "E01013647"}
    changes = dict(
        raw_db.execute(
            "SELECT LSOA11CD, any_value(CHGIND) FROM bridge "
            "WHERE LSOA11CD IN ('E01013600', 'E01013607', 'E01013647') GROUP BY 1"
        ).fetchall()
    )
    assert changes == {"E01013600": "U", "E01013607": "S", "E01013647": "M"}
    lsoa21 = raw_bridged_2021(raw_db, lsoa11)

    area = areas.add_area(
        writable_store, "Three LSOAs", lsoas=sorted(lsoa11), wards=[], geojson=None
    )
    assert area.kind == "custom"
    assert area == areas.resolve(writable_store, "Three LSOAs")
    assert queries.crime_total(writable_store, area, JAN_2020, DEC_2021) == raw_count_by_lsoa(
        raw_db, lsoa11, "2020-01", "2021-12"
    )
    assert queries.crime_total(writable_store, area, JAN_2025, MAR_2025) == raw_count_by_lsoa(
        raw_db, lsoa21, "2025-01", "2025-03"
    )
    p2019 = populations.population(writable_store, area, 2019)
    p2022 = populations.population(writable_store, area, 2022)
    assert (p2019.population, p2019.lsoas_found) == (raw_population(raw_db, 2019, lsoa11), 3)
    assert (p2022.population, p2022.lsoas_found) == (
        raw_population(raw_db, 2022, lsoa21),
        len(lsoa21),
    )


def test_add_area_rejects_a_code_that_is_not_an_lsoa(writable_store: Store) -> None:
    with pytest.raises(InputError, match="E0101360"):
        areas.add_area(writable_store, "Bad", lsoas=["E0101360"], wards=[], geojson=None)
    assert writable_store.scalar("SELECT count(*) FROM custom_areas") == 0


def test_add_area_from_wards(writable_store: Store, raw_db: duckdb.DuckDBPyConnection) -> None:
    fosse_code, fosse = raw_ward(raw_db, "Fosse", "Leicester")
    _, westcotes = raw_ward(raw_db, "Westcotes", "Leicester")
    lsoa11 = fosse | westcotes
    lsoa21 = raw_bridged_2021(raw_db, lsoa11)
    # One ward by qualified name, one by code.
    area = areas.add_area(
        writable_store, "West", lsoas=[], wards=["Westcotes (Leicester)", fosse_code], geojson=None
    )
    assert area.lsoa_codes == frozenset(lsoa11 | lsoa21)
    assert queries.crime_total(writable_store, area, JAN_2020, DEC_2021) == raw_count_by_lsoa(
        raw_db, lsoa11, "2020-01", "2021-12"
    )
    assert populations.population(writable_store, area, 2019).population == raw_population(
        raw_db, 2019, lsoa11
    )
    assert populations.population(writable_store, area, 2022).population == raw_population(
        raw_db, 2022, lsoa21
    )


def test_add_area_from_geojson_polygon_counts_by_point_in_polygon(
    writable_store: Store, raw_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    _, abbey = raw_ward(raw_db, "Abbey", "Leicester")
    collection = json.loads(gzip.decompress(LEICESTER_BOUNDARIES.read_bytes()))
    features = [f for f in collection["features"] if f["properties"]["LSOA11CD"] in abbey]
    assert len(features) == len(abbey)
    path = tmp_path / "abbey.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))

    area = areas.add_area(writable_store, "Abbey polygon", lsoas=[], wards=[], geojson=path)
    got = queries.crime_total(writable_store, area, JAN_2020, DEC_2021)

    # Independent: the csv module over the raw files, shapely on the raw coordinates.
    polygon = shapely.union_all([shape(f["geometry"]) for f in features])
    lon, lat, lsoa = [], [], []
    for row in raw_street_rows(MONTHS_2020_2021):
        if row["Longitude"]:
            lon.append(float(row["Longitude"]))
            lat.append(float(row["Latitude"]))
            lsoa.append(row["LSOA code"])
    inside = shapely.contains_xy(polygon, np.array(lon), np.array(lat))
    in_lsoas = np.array([code in abbey for code in lsoa])
    assert got == int(inside.sum())
    # Same places by LSOA: equal up to the snap points police.uk placed in these LSOAs that
    # fall outside ONS's generalised boundary; no point inside belongs to another LSOA.
    by_lsoa = raw_count_by_lsoa(raw_db, abbey, "2020-01", "2021-12")
    assert int(in_lsoas.sum()) == by_lsoa
    assert not (inside & ~in_lsoas).any()
    assert 0 <= by_lsoa - got <= 0.005 * by_lsoa

    # A polygon has crimes but no residents: asking for its population says so.
    with pytest.raises(DataMissingError, match="polygon"):
        populations.population(writable_store, area, 2019)


def test_add_area_rejects_projected_coordinates(writable_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bng.geojson"
    square = [[[450000, 300000], [451000, 300000], [451000, 301000], [450000, 300000]]]
    path.write_text(json.dumps({"type": "Polygon", "coordinates": square}))
    with pytest.raises(InputError, match="EPSG:4326"):
        areas.add_area(writable_store, "Projected", lsoas=[], wards=[], geojson=path)
