"""Residents across LSOA vintages (issue 16, item 9): an area's population covers the whole
area whichever code vintage (2011 or 2021) the estimate is keyed by, or BeatBook refuses.

Before the fix, codes of the other vintage were silently dropped: Corby (41 LSOAs of 2011)
had 39 of them in the mid-2022 estimate and lost 13.8 % of its residents; Leicester in a
store with only the 2011 -> 2021 lookup lost 10 of its 192 LSOAs and 9.4 % of its mid-2019
residents.

Every expected figure comes from the raw ONS files in a plain DuckDB connection (``raw_db``),
never from BeatBook: which 2011 and 2021 LSOAs make up a district comes from the two raw
lookups, and residents from the raw estimates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beatbook import areas, populations, queries
from beatbook.errors import DataMissingError
from beatbook.ingest import ons
from beatbook.store import Store
from support.fixtures_store import (
    BRIDGE_LOOKUP,
    FORCE_AREA,
    POP_2019,
    POP_2022,
    WARD_LOOKUP,
    raw_scalar,
)

JAN_2020, DEC_2021 = dt.date(2020, 1, 1), dt.date(2021, 12, 1)


# --- independent helpers over the raw files ------------------------------------------------


def raw_residents(raw: duckdb.DuckDBPyConnection, year: int, codes: set[str]) -> float:
    table = {2019: "pop2019", 2022: "pop2022"}[year]
    sql = f"SELECT sum(population) FROM {table} WHERE code IN (SELECT unnest(?::VARCHAR[]))"
    return float(raw_scalar(raw, sql, [sorted(codes)]))


def raw_codes(raw: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> set[str]:
    return {c for (c,) in raw.execute(sql, params).fetchall()}


def lsoa11_of(raw: duckdb.DuckDBPyConnection, lad: str) -> set[str]:
    """A 2019 district's 2011 LSOAs, from the raw ward lookup."""
    return raw_codes(raw, "SELECT LSOA11CD FROM ward_lookup WHERE LAD19NM = ?", [lad])


def lsoa21_of(raw: duckdb.DuckDBPyConnection, lad: str) -> set[str]:
    """A 2022 district's 2021 LSOAs, from the raw 2011 -> 2021 lookup."""
    return raw_codes(raw, "SELECT LSOA21CD FROM bridge WHERE LAD22NM = ?", [lad])


def bridge_rows(raw: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return raw.execute("SELECT LSOA11CD, LSOA21CD, CHGIND FROM bridge").fetchall()


def raw_crimes(raw: duckdb.DuckDBPyConnection, codes: set[str]) -> int:
    """Crimes and ASB in 2020-2021 (2011 codes) in these LSOAs: one per Crime ID and month,
    ASB rows each (the counting rule), straight from the raw street files."""
    sql = (
        'SELECT count(DISTINCT (month, "Crime ID")) FILTER (WHERE "Crime ID" IS NOT NULL) '
        '+ count(*) FILTER (WHERE "Crime ID" IS NULL) FROM street '
        "WHERE month BETWEEN '2020-01' AND '2021-12' "
        'AND "LSOA code" IN (SELECT unnest(?::VARCHAR[]))'
    )
    return int(raw_scalar(raw, sql, [sorted(codes)]))


# --- stores holding one lookup ---------------------------------------------------------------


def _store(path: Path, lookups: list[Path]) -> Path:
    with Store(path) as st:
        for lookup in lookups:
            ons.import_lookup(st, lookup)
        ons.import_population(st, POP_2019, 2019)
        ons.import_population(st, POP_2022, 2022)
    return path


@pytest.fixture(scope="module")
def only_2021_lookup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Both estimates, and only the 2011 -> 2021 lookup: districts are known by 2021 LSOAs."""
    path = _store(tmp_path_factory.mktemp("bridge") / "s.duckdb", [BRIDGE_LOOKUP])
    with Store(path, read_only=True) as st:
        yield st


@pytest.fixture(scope="module")
def only_2011_lookup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Both estimates, and only the 2011 ward lookup: no bridge between the vintages."""
    path = _store(tmp_path_factory.mktemp("wards") / "s.duckdb", [WARD_LOOKUP])
    with Store(path, read_only=True) as st:
        yield st


# --- districts -------------------------------------------------------------------------------


@pytest.mark.parametrize("lad", FORCE_AREA)
def test_a_district_known_by_2021_lsoas_has_its_whole_mid_2019_population(
    only_2021_lookup: Store, raw_db: duckdb.DuckDBPyConnection, lad: str
) -> None:
    area = areas.resolve(only_2021_lookup, f"local authority:{lad}")
    old, new = lsoa11_of(raw_db, lad), lsoa21_of(raw_db, lad)
    p2019 = populations.population(only_2021_lookup, area, 2019)
    p2022 = populations.population(only_2021_lookup, area, 2022)
    assert p2019.population == raw_residents(raw_db, 2019, old)
    assert (p2019.lsoas_found, p2019.lsoas_bridged) == (len(old), len(old - new))
    assert (p2022.population, p2022.lsoas_found, p2022.lsoas_bridged) == (
        raw_residents(raw_db, 2022, new),
        len(new),
        0,
    )
    if lad == "Leicester":  # the MANIFEST's figure; the unchanged codes alone hold 320,957
        assert (p2019.population, len(old - new), len(old & new)) == (354_224, 10, 182)
        assert raw_residents(raw_db, 2019, old & new) == 320_957


# Districts abolished in 2020-21 (known by 2011 LSOAs only) and those that replaced them.
OLD_DISTRICTS = ("Corby", "Kettering", "Aylesbury Vale", "Daventry", "Northampton")
NEW_DISTRICTS = {
    "Buckinghamshire": ("Aylesbury Vale", "Chiltern", "South Bucks", "Wycombe"),
    "North Northamptonshire": ("Corby", "East Northamptonshire", "Kettering", "Wellingborough"),
    "West Northamptonshire": ("Daventry", "Northampton", "South Northamptonshire"),
}


@pytest.mark.parametrize("lad", OLD_DISTRICTS)
def test_a_district_of_2011_lsoas_has_its_whole_mid_2022_population(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection, lad: str
) -> None:
    old = lsoa11_of(raw_db, lad)
    new = raw_codes(
        raw_db, "SELECT LSOA21CD FROM bridge WHERE LSOA11CD IN (SELECT unnest(?))", [sorted(old)]
    )
    # Each of those 2021 LSOAs lies wholly inside the district: all its parents are in it.
    parents = raw_codes(
        raw_db, "SELECT LSOA11CD FROM bridge WHERE LSOA21CD IN (SELECT unnest(?))", [sorted(new)]
    )
    assert parents == old and new - old  # and some codes changed
    area = areas.resolve(sample_store, f"local authority:{lad}")
    got = populations.population(sample_store, area, 2022)
    assert got.population == raw_residents(raw_db, 2022, new)
    assert (got.lsoas_found, got.lsoas_bridged) == (len(new), len(new - old))
    assert got.population > raw_residents(raw_db, 2022, old & new)  # what was summed before
    assert got.to_dict()["population_lsoas_bridged"] == len(new - old)


@pytest.mark.parametrize("lad", sorted(NEW_DISTRICTS))
def test_a_district_of_2021_lsoas_has_its_whole_mid_2019_population(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection, lad: str
) -> None:
    area = areas.resolve(sample_store, f"local authority:{lad}")
    got = populations.population(sample_store, area, 2019)
    # The districts it replaced, from the other raw lookup.
    old = set().union(*(lsoa11_of(raw_db, d) for d in NEW_DISTRICTS[lad]))
    assert got.population == raw_residents(raw_db, 2019, old)
    assert got.lsoas_found == len(old)
    assert got.lsoas_bridged == len(old - lsoa21_of(raw_db, lad)) > 0


# --- areas of LSOAs ----------------------------------------------------------------------------


def leicester_units(raw: duckdb.DuckDBPyConnection) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Leicester's places that are whole in both vintages, as (2011 codes, 2021 codes): an
    unchanged LSOA, a split one with its parts, a merged one with its parents."""
    leicester = lsoa11_of(raw, "Leicester")
    rows = [r for r in bridge_rows(raw) if r[0] in leicester]
    assert {change for *_, change in rows} == {"U", "S", "M"}
    units: dict[str, tuple[set[str], set[str]]] = {}
    for old, new, change in rows:
        old_codes, new_codes = units.setdefault(new if change == "M" else old, (set(), set()))
        old_codes.add(old)
        new_codes.add(new)
    return sorted((frozenset(o), frozenset(n)) for o, n in units.values())


def test_castle_defined_by_its_2021_lsoas_has_its_mid_2019_residents_and_crimes(
    writable_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    castle = "SELECT LSOA11CD FROM ward_lookup WHERE WD19NM = 'Castle' AND LAD19NM = 'Leicester'"
    old = raw_codes(raw_db, castle, [])
    new = raw_codes(
        raw_db, "SELECT LSOA21CD FROM bridge WHERE LSOA11CD IN (SELECT unnest(?))", [sorted(old)]
    )
    changes = raw_codes(
        raw_db, "SELECT CHGIND FROM bridge WHERE LSOA11CD IN (SELECT unnest(?))", [sorted(old)]
    )
    assert changes == {"U", "S", "M"}  # split and merged LSOAs, all wholly inside the ward
    area = areas.add_area(writable_store, "Castle 2021", lsoas=sorted(new), wards=[], geojson=None)
    assert populations.population(writable_store, area, 2019).population == raw_residents(
        raw_db, 2019, old
    )
    assert populations.population(writable_store, area, 2022).population == raw_residents(
        raw_db, 2022, new
    )
    # Its 2020-2021 crimes carry 2011 codes: the merged LSOA's parents count too.
    assert queries.crime_total(writable_store, area, JAN_2020, DEC_2021) == raw_crimes(raw_db, old)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_whole_places_have_the_same_residents_whichever_vintage_defines_them(
    writable_store: Store, raw_db: duckdb.DuckDBPyConnection, data: st.DataObject
) -> None:
    units = leicester_units(raw_db)
    changed = [u for u in units if u[0] != u[1]]
    chosen = data.draw(st.sets(st.sampled_from(changed + units[:5]), min_size=1))
    old = set().union(*(o for o, _ in chosen))
    new = set().union(*(n for _, n in chosen))
    by = data.draw(st.sampled_from(["2011", "2021"]))
    codes = sorted(old if by == "2011" else new)
    area = areas.add_area(writable_store, "Places", lsoas=codes, wards=[], geojson=None)
    for year, codes_of_year in ((2019, old), (2022, new)):
        got = populations.population(writable_store, area, year)
        assert got.population == raw_residents(raw_db, year, codes_of_year)
    assert queries.crime_total(writable_store, area, JAN_2020, DEC_2021) == raw_crimes(raw_db, old)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_2011_lsoas_in_mid_2022_are_counted_whole_or_refused(
    writable_store: Store, raw_db: duckdb.DuckDBPyConnection, data: st.DataObject
) -> None:
    """Any set of Leicester's 2011 LSOAs: its mid-2019 residents are theirs; in mid-2022 a
    merged LSOA goes with its first parent, so a set holding a later parent alone is refused
    (its residents are inside a 2021 LSOA that reaches beyond the set), and any other set
    has the residents of the 2021 LSOAs it holds."""
    units = leicester_units(raw_db)
    pool = sorted(
        {c for o, n in units if o != n for c in o} | set().union(*(o for o, _ in units[:5]))
    )
    old = data.draw(st.sets(st.sampled_from(pool), min_size=1))
    area = areas.add_area(writable_store, "Set", lsoas=sorted(old), wards=[], geojson=None)
    assert populations.population(writable_store, area, 2019).population == raw_residents(
        raw_db, 2019, old
    )
    first_parent = dict(
        raw_db.execute("SELECT LSOA21CD, min(LSOA11CD) FROM bridge GROUP BY 1").fetchall()
    )
    new = {n for n, first in first_parent.items() if first in old}
    alone = {o for o, n, _ in bridge_rows(raw_db) if o in old and first_parent[n] not in old}
    if alone:
        with pytest.raises(DataMissingError, match="reach beyond") as refused:
            populations.population(writable_store, area, 2022)
        assert all(code in str(refused.value) for code in alone)
    else:
        assert populations.population(writable_store, area, 2022).population == raw_residents(
            raw_db, 2022, new
        )


# --- refusals ----------------------------------------------------------------------------------


def test_without_the_2011_to_2021_lookup_mid_2022_is_refused_not_summed_short(
    only_2011_lookup: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    area = areas.resolve(only_2011_lookup, "local authority:Leicester")
    old = lsoa11_of(raw_db, "Leicester")
    unmatched = old - raw_codes(raw_db, "SELECT code FROM pop2022", [])
    assert len(unmatched) == 10
    with pytest.raises(DataMissingError) as refused:
        populations.population(only_2011_lookup, area, 2022)
    message = str(refused.value)
    assert "mid-2022" in message and "'Leicester'" in message
    assert f"{len(unmatched)} of its LSOAs ({min(unmatched)}" in message
    assert "beatbook areas import-lookup" in message
    assert "use --population-year 2019, which covers the whole area" in message
    assert populations.population(only_2011_lookup, area, 2019).population == raw_residents(
        raw_db, 2019, old
    )


def test_a_ward_whose_lsoa_merged_across_its_edge_is_refused_in_mid_2022(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    # A 2011 LSOA merged into a 2021 LSOA whose first parent lies in another ward.
    later, ward, merged = raw_db.execute(
        """
        SELECT b.LSOA11CD, w.WD19CD, b.LSOA21CD FROM bridge b JOIN ward_lookup w USING (LSOA11CD)
        WHERE b.CHGIND = 'M' AND b.LSOA11CD <> (
            SELECT min(LSOA11CD) FROM bridge f WHERE f.LSOA21CD = b.LSOA21CD)
          AND w.WD19CD <> (SELECT any_value(v.WD19CD) FROM ward_lookup v WHERE v.LSOA11CD = (
            SELECT min(LSOA11CD) FROM bridge f WHERE f.LSOA21CD = b.LSOA21CD))
        ORDER BY 1 LIMIT 1
        """
    ).fetchone()
    area = areas.resolve(sample_store, ward)
    assert merged not in area.lsoa_codes  # the 2021 LSOA went with its first parent's ward
    with pytest.raises(DataMissingError, match="reach beyond the area") as refused:
        populations.population(sample_store, area, 2022)
    assert later in str(refused.value) and "--population-year 2019" in str(refused.value)
    codes = raw_codes(raw_db, "SELECT LSOA11CD FROM ward_lookup WHERE WD19CD = ?", [ward])
    assert populations.population(sample_store, area, 2019).population == raw_residents(
        raw_db, 2019, codes
    )


def test_an_irregularly_changed_lsoa_is_refused_in_the_other_vintage(
    writable_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    (irregular,) = raw_db.execute(
        "SELECT LSOA21CD FROM bridge WHERE CHGIND = 'X' GROUP BY 1 HAVING count(*) > 1 "
        "ORDER BY 1 LIMIT 1"
    ).fetchone()
    area = areas.add_area(writable_store, "X", lsoas=[irregular], wards=[], geojson=None)
    with pytest.raises(DataMissingError, match="changed irregularly") as refused:
        populations.population(writable_store, area, 2019)
    assert irregular in str(refused.value)
    assert "no estimate in the store covers the whole area" not in str(refused.value)
    assert populations.population(writable_store, area, 2022).population == raw_residents(
        raw_db, 2022, {irregular}
    )
