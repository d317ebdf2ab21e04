"""Force areas (issue 16, items 2 and 5): the districts a force polices, from the shipped
table, whatever months or forces are stored; and every crime in the force's files counted
for it, with those that have no location and those in other forces' districts reported.

Expected numbers come from the raw police.uk files in plain DuckDB (``two_force_raw``,
``raw_db``) or the csv module, never from BeatBook. The counting unit is recomputed there:
a Crime ID counts once in its month (the first row in file order), ASB rows each.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beatbook import areas, populations, queries
from beatbook.errors import DataMissingError
from beatbook.figures import stats as figures
from beatbook.ingest import ons
from beatbook.ingest.policeuk_csv import ingest
from beatbook.months import parse_month
from beatbook.store import Store
from support.fixtures_store import (
    BRIDGE_LOOKUP,
    FORCE_AREA,
    POLICE,
    POP_2022,
    WARD_LOOKUP,
    raw_scalar,
)
from support.two_forces import LEICS_MONTHS, NOTTS_DISTRICTS, NOTTS_FILES, NOTTS_MONTHS

# The counting unit over the raw rows: the first row of each (force, month, Crime ID) in
# file order, and every ASB row (no Crime ID).
COUNTED = """
    (SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY force, "Month", "Crime ID" ORDER BY rowid) AS k
        FROM street) WHERE "Crime ID" IS NULL OR k = 1)
"""
DISTRICTS = {"leicestershire": tuple(FORCE_AREA), "nottinghamshire": NOTTS_DISTRICTS}
MONTHS = {"leicestershire": LEICS_MONTHS, "nottinghamshire": NOTTS_MONTHS}


def _raw_force_counts(
    raw: duckdb.DuckDBPyConnection, force: str, first: str, last: str
) -> dict[str | None, dict[str, int]]:
    """count, unlocated and outside_force_districts of a force's rows, in all (crimes: ASB
    is counted apart) and by type."""
    rows = raw.execute(
        f"""
        SELECT "Crime type", count(*),
               count(*) FILTER (WHERE "LSOA code" IS NULL),
               count(*) FILTER (WHERE district <> ''
                                AND district NOT IN (SELECT unnest(?::VARCHAR[])))
        FROM {COUNTED} WHERE force = ? AND "Month" BETWEEN ? AND ? GROUP BY 1
        """,
        [list(DISTRICTS[force]), force, first, last],
    ).fetchall()
    keys = ("count", "unlocated", "outside_force_districts")
    result: dict[str | None, dict[str, int]] = {
        t: dict(zip(keys, n, strict=True)) for t, *n in rows
    }
    crimes = [v for t, v in result.items() if t != "Anti-social behaviour"]
    result[None] = {k: sum(v[k] for v in crimes) for k in keys}
    return result


CRIME = "\"Crime type\" <> 'Anti-social behaviour'"  # crimes; ASB is counted apart


# --- which districts --------------------------------------------------------------------------


def test_each_force_area_is_the_districts_it_polices(
    two_force_store: Store, two_force_raw: duckdb.DuckDBPyConnection
) -> None:
    notts = areas.resolve(two_force_store, "Nottinghamshire")
    leics = areas.resolve(two_force_store, "Leicestershire")
    assert (notts.kind, notts.code, notts.force) == (
        "force area",
        "nottinghamshire",
        "nottinghamshire",
    )
    assert notts.local_authorities == frozenset(NOTTS_DISTRICTS)
    assert leics.local_authorities == frozenset(FORCE_AREA) and len(FORCE_AREA) == 9
    # Both forces do record crimes in other forces' districts: none of those joins.
    strays = {
        force: {
            d
            for (d,) in two_force_raw.execute(
                "SELECT DISTINCT district FROM street WHERE force = ? AND district <> ''", [force]
            ).fetchall()
        }
        - set(DISTRICTS[force])
        for force in DISTRICTS
    }
    assert {"Erewash", "Bolsover", "Leicester"} <= strays["nottinghamshire"]
    assert {"Rugby", "Birmingham", "Rushcliffe"} <= strays["leicestershire"]
    assert not strays["nottinghamshire"] & notts.local_authorities
    assert not strays["leicestershire"] & leics.local_authorities


def _relabelled(source: Path, month: str, folder: Path) -> Path:
    """A real file as if published for another month: only its Month column changes."""
    with gzip.open(source, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({**r, "Month": month} for r in rows)
    path = folder / f"{month}-nottinghamshire-street.csv.gz"
    path.write_bytes(gzip.compress(out.getvalue().encode("utf-8")))
    return path


def _notts_store(folder: Path, files: list[Path], *, lookups: bool) -> Path:
    path = folder / "beatbook.duckdb"
    with Store(path) as s:
        ingest(s, files)
        if lookups:
            ons.import_lookup(s, WARD_LOOKUP)
            ons.import_lookup(s, BRIDGE_LOOKUP)
    return path


def test_twelve_months_give_the_same_eight_districts(tmp_path: Path) -> None:
    """Issue 16: the old rule grew Nottinghamshire from eight districts with six months to
    ten with twelve. Twelve months here: the six real files and the same six published
    again as July to December 2024."""
    again = [
        _relabelled(f, f"2024-{m:02d}", tmp_path)
        for f, m in zip(NOTTS_FILES, range(7, 13), strict=True)
    ]
    path = _notts_store(tmp_path, [*again, *NOTTS_FILES], lookups=True)
    with Store(path, read_only=True) as s:
        area = areas.resolve(s, "Nottinghamshire")
        assert area.local_authorities == frozenset(NOTTS_DISTRICTS)
        assert (
            len(queries.months_with_data(s, parse_month("2024-01"), parse_month("2025-12"))) == 12
        )


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    months=st.sets(st.sampled_from(range(len(NOTTS_FILES))), min_size=1),
    lookups=st.booleans(),
)
def test_the_districts_do_not_depend_on_the_months_stored(months: set[int], lookups: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = [NOTTS_FILES[i] for i in sorted(months)]
        path = _notts_store(Path(folder), files, lookups=lookups)
        with Store(path, read_only=True) as s:
            area = areas.resolve(s, "force:Nottinghamshire")
            assert area.local_authorities == frozenset(NOTTS_DISTRICTS)


# --- what is counted --------------------------------------------------------------------------


@pytest.mark.parametrize("force", ["leicestershire", "nottinghamshire"])
def test_the_force_area_counts_every_row_of_its_force(
    two_force_store: Store, two_force_raw: duckdb.DuckDBPyConnection, force: str
) -> None:
    first, last = MONTHS[force][0], MONTHS[force][-1]
    expected = _raw_force_counts(two_force_raw, force, first, last)
    name = force.title()
    total = figures.area_stats(two_force_store, name, first, last)
    assert isinstance(total, dict)
    fields = ("count", "unlocated", "outside_force_districts")
    assert {k: total[k] for k in fields} == expected[None]
    assert total["unlocated"] > 0 and total["outside_force_districts"] > 0
    by_type = figures.area_stats(two_force_store, name, first, last, by="crime-type")
    assert isinstance(by_type, list)
    assert {r["crime_type"]: {k: r[k] for k in fields} for r in by_type} == {
        t: v for t, v in expected.items() if t not in (None, "Anti-social behaviour")
    }
    asb = figures.area_stats(two_force_store, name, first, last, measure="asb")
    assert isinstance(asb, dict)
    assert {k: asb[k] for k in fields} == expected["Anti-social behaviour"]
    assert total["asb_incidents"] == asb["count"]
    # Its residents are those of its districts alone.
    residents = raw_scalar(
        two_force_raw,
        f"SELECT sum(population) FROM read_csv('{POP_2022}', header = true) "
        f"WHERE lsoacd IN (SELECT LSOA21CD FROM read_csv('{BRIDGE_LOOKUP}', all_varchar = true) "
        "WHERE LAD22NM IN (SELECT unnest(?::VARCHAR[])))",
        [list(DISTRICTS[force])],
    )
    assert total["population"] == pytest.approx(float(residents), abs=1e-6)


def test_a_force_area_map_shows_only_its_districts(
    two_force_store: Store, two_force_raw: duckdb.DuckDBPyConnection
) -> None:
    """Crimes it recorded in Lancaster or Erewash count for the force, but its map and grid
    are its own districts."""
    area = areas.resolve(two_force_store, "Nottinghamshire")
    rows = queries.incidents(two_force_store, area, parse_month("2025-01"), parse_month("2025-06"))
    expected = raw_scalar(
        two_force_raw,
        f"SELECT count(*) FROM {COUNTED} WHERE force = 'nottinghamshire' "
        'AND district IN (SELECT unnest(?::VARCHAR[])) AND "Longitude" IS NOT NULL',
        [list(NOTTS_DISTRICTS)],
    )
    assert rows.height == expected
    named = queries.lsoa_wards(two_force_store, rows["lsoa_code"].unique().to_list())
    assert named.height == rows["lsoa_code"].n_unique()


def test_a_local_authority_leaves_unlocated_crimes_out(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    """One force: its districts' counts, its unlocated and its strays make up its total."""
    first, last = "2021-01", "2021-06"
    period = [first, last]
    force = figures.area_stats(sample_store, "Leicestershire", first, last)
    assert isinstance(force, dict)
    by_district = {}
    for name in FORCE_AREA:
        record = figures.area_stats(sample_store, f"local authority:{name}", first, last)
        assert isinstance(record, dict)
        assert record["unlocated"] is None and record["outside_force_districts"] is None
        by_district[name] = record["count"]
        assert record["count"] == raw_scalar(
            raw_db,
            f"SELECT count(*) FROM street WHERE district = ? AND month BETWEEN ? AND ? AND {CRIME}",
            [name, *period],
        )
    unlocated = raw_scalar(
        raw_db,
        'SELECT count(*) FROM street WHERE "LSOA code" IS NULL AND month BETWEEN ? AND ? '
        f"AND {CRIME}",
        period,
    )
    assert unlocated > 0 and force["unlocated"] == unlocated
    assert (
        sum(by_district.values()) + unlocated + force["outside_force_districts"] == force["count"]
    )


def test_a_force_not_in_the_table_is_counted_but_has_no_districts(tmp_path: Path) -> None:
    """British Transport Police (``btp``) polices railways, not districts: here the real
    2025-01 Leicestershire file stored under that id."""
    source = POLICE / "2025-01-leicestershire-street.csv.gz"
    copy = tmp_path / "2025-01-btp-street.csv.gz"
    shutil.copy(source, copy)
    path = tmp_path / "beatbook.duckdb"
    with Store(path) as s:
        ingest(s, [copy])
        ons.import_lookup(s, BRIDGE_LOOKUP)
        ons.import_population(s, POP_2022, 2022)
    with gzip.open(source, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with Store(path, read_only=True) as s:
        area = areas.resolve(s, "btp")
        assert (area.kind, area.force, area.local_authorities) == ("force area", "btp", frozenset())
        assert "districts and residents are unknown" in area.description
        record = figures.area_stats(s, "btp", "2025-01", "2025-01")
        assert isinstance(record, dict)
        crimes = [r for r in rows if r["Crime type"] != "Anti-social behaviour"]
        assert record["count"] == len(crimes)
        assert record["unlocated"] == sum(1 for r in crimes if not r["LSOA code"])
        assert record["outside_force_districts"] is None and record["rate_per_1000"] is None
        assert "not one of the 43 territorial forces" in record["rate_unavailable"]
        with pytest.raises(DataMissingError, match="districts and residents are unknown"):
            populations.population(s, area, 2022)


# --- a second force changes nothing of the first's force area ------------------------------

PERIODS = [
    ("2025-01", "2025-03"),
    ("2025-01", "2025-06"),
    ("2025-02", "2025-02"),
    ("2025-03", "2025-05"),
    ("2021-01", "2021-12"),
    ("2020-11", "2025-01"),
]


@pytest.fixture(scope="module")
def with_notts(
    sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Store]]:
    """The sample store (Leicestershire 2020-21, 2025-01..03) as it is, and copies with all
    six Nottinghamshire months and with two of them added."""
    stores = {"alone": Store(sample_store_path, read_only=True)}
    for label, files in (("all six", NOTTS_FILES), ("two", [NOTTS_FILES[1], NOTTS_FILES[4]])):
        path = tmp_path_factory.mktemp("with-notts") / "beatbook.duckdb"
        shutil.copy(sample_store_path, path)
        with Store(path) as s:
            ingest(s, files)
        stores[label] = Store(path, read_only=True)
    yield stores
    for s in stores.values():
        s.close()


def _figures(store: Store, first: str, last: str, by: str | None) -> Any:
    return figures.area_stats(store, "Leicestershire", first, last, by=by)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    period=st.sampled_from(PERIODS),
    which=st.sampled_from(["all six", "two"]),
    by=st.sampled_from([None, "crime-type"]),
)
def test_adding_a_second_force_changes_no_figure_of_the_first_force_area(
    with_notts: dict[str, Store], period: tuple[str, str], which: str, by: str | None
) -> None:
    alone, added = with_notts["alone"], with_notts[which]
    assert areas.resolve(added, "Leicestershire") == areas.resolve(alone, "Leicestershire")
    assert _figures(added, *period, by) == _figures(alone, *period, by)
