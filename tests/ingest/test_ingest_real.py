"""Real police.uk files in, every stored row checked against an independent reading.

Reference values come from ``shared/data/MANIFEST.md`` (sections 1 and 2), which
counted the raw files independently, and from Python's ``csv`` module and a
separate DuckDB ``read_csv`` over the same raw bytes.
"""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import json
import re
from pathlib import Path

import duckdb
import pytest
from ingest_support import (
    FORCE,
    FORCE_AREA,
    ROOT,
    STOP_AND_SEARCH,
    csv_records,
    partition_consistency,
    raw_bytes,
    street_file,
    write,
)

from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store

# month: (rows, ASB rows = rows without Crime ID, "No Location" rows, rows in
# `Leicester nnnX` LSOAs, rows in LSOAs outside the force area, line ending) — MANIFEST §1.
MANIFEST = {
    "2020-01": (8852, 915, 729, 3908, 12, b"\r\n"),
    "2020-04": (7809, 1736, 330, 3554, 14, b"\r\n"),
    "2021-06": (9299, 1128, 60, 4336, 22, b"\r\n"),
    "2025-01": (8448, 892, 226, 3957, 63, b"\n"),
    "2025-09": (8545, 1101, 291, 3878, 74, b"\n"),
}
LEICESTER_LSOA = re.compile(r"Leicester \d{3}[A-Z]")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    """One store holding the MANIFEST months above and the stop-and-search month."""
    path = tmp_path_factory.mktemp("real") / "store.duckdb"
    files = [street_file(m) for m in MANIFEST] + [STOP_AND_SEARCH]
    with Store(path) as st:
        results = ingest(st, files)
        yield st, {r.file: r for r in results}


def test_every_file_is_reported_once_in_order(loaded) -> None:
    st, results = loaded
    assert list(results) == [str(street_file(m)) for m in MANIFEST] + [str(STOP_AND_SEARCH)]
    for month, (rows, *_) in MANIFEST.items():
        r = results[str(street_file(month))]
        assert (r.kind, r.force, r.months, r.status, r.replaced) == (
            "street",
            FORCE,
            [month],
            "stored",
            [],
        )
        assert (r.rows_stored, r.rows_quarantined) == (rows, 0)
    assert partition_consistency(st) == []
    assert st.table_counts()["street_crimes"] == sum(v[0] for v in MANIFEST.values())
    assert st.table_counts()["quarantine"] == 0


@pytest.mark.parametrize("month", list(MANIFEST))
def test_counts_match_manifest(loaded, month: str) -> None:
    st, _ = loaded
    rows, asb, no_location, leicester, outside, _ = MANIFEST[month]
    got = st.first(
        """
        SELECT count(*),
               count(*) FILTER (crime_id IS NULL),
               count(*) FILTER (crime_type = 'Anti-social behaviour'),
               count(*) FILTER (crime_id IS NULL AND crime_type = 'Anti-social behaviour'
                                AND last_outcome IS NULL),
               count(*) FILTER (location = 'No Location'),
               count(*) FILTER (location = 'No Location' AND latitude IS NULL
                                AND longitude IS NULL AND lsoa_code IS NULL
                                AND lsoa_name IS NULL AND local_authority IS NULL),
               count(*) FILTER (latitude IS NULL),
               count(*) FILTER (local_authority = 'Leicester'),
               count(*) FILTER (local_authority NOT IN ?),
               count(*) FILTER (context IS NOT NULL),
               count(DISTINCT force), count(DISTINCT month), min(month)
        FROM street_crimes WHERE month = ?
        """,
        [list(FORCE_AREA), f"{month}-01"],
    )
    assert got == (
        rows,
        asb,
        asb,
        asb,
        no_location,
        no_location,
        no_location,
        leicester,
        outside,
        0,
        1,
        1,
        dt.date.fromisoformat(f"{month}-01"),
    )
    (partition,) = st.rows(
        "SELECT kind, source_file, rows_stored, rows_quarantined FROM partitions "
        "WHERE force = ? AND month = ?",
        [FORCE, f"{month}-01"],
    )
    assert partition == ("street", str(street_file(month)), rows, 0)


@pytest.mark.parametrize("month", list(MANIFEST))
def test_line_endings_are_the_published_ones(month: str) -> None:
    """The 2020-21 files are CRLF and the 2025 ones LF (both kinds must import, above)."""
    data = raw_bytes(street_file(month))
    eol = MANIFEST[month][-1]
    assert data.count(b"\n") - 1 <= data.count(eol) <= data.count(b"\n")
    if eol == b"\n":
        assert b"\r" not in data


@pytest.mark.parametrize("month", list(MANIFEST))
def test_leicester_rows_equal_python_csv_count(loaded, month: str) -> None:
    """Local authority 'Leicester' = LSOA names 'Leicester nnnX', counted by Python's csv."""
    st, _ = loaded
    records = csv_records(raw_bytes(street_file(month)))
    independent = sum(1 for _, row in records if LEICESTER_LSOA.fullmatch(row[8]))
    assert independent == MANIFEST[month][3]
    (stored,) = st.first(
        "SELECT count(*) FROM street_crimes WHERE month = ? AND local_authority = 'Leicester'",
        [f"{month}-01"],
    )
    assert stored == independent


@pytest.mark.parametrize("month", ["2020-01", "2025-09"])
def test_local_authority_by_district_equals_python(loaded, month: str) -> None:
    """Every district: stored local_authority = LSOA name minus its last token."""
    st, _ = loaded
    expected = collections.Counter(
        row[8].rsplit(" ", 1)[0] if row[8] else None
        for _, row in csv_records(raw_bytes(street_file(month)))
    )
    got = dict(
        st.rows(
            "SELECT local_authority, count(*) FROM street_crimes WHERE month = ? GROUP BY 1",
            [f"{month}-01"],
        )
    )
    assert got == dict(expected)
    assert set(FORCE_AREA) <= set(got)


@pytest.mark.parametrize("month", list(MANIFEST))
def test_crime_types_equal_independent_duckdb_group_by(loaded, month: str) -> None:
    st, _ = loaded
    other = duckdb.connect()  # a separate, auto-detecting reader of the raw file
    expected = dict(
        other.execute(
            'SELECT "Crime type", count(*) FROM read_csv(?) GROUP BY 1',
            [str(street_file(month))],
        ).fetchall()
    )
    other.close()
    got = dict(
        st.rows(
            "SELECT crime_type, count(*) FROM street_crimes WHERE month = ? GROUP BY 1",
            [f"{month}-01"],
        )
    )
    assert got == expected
    assert len(got) == 14  # MANIFEST: the 14 police.uk crime types
    assert sum(got.values()) == MANIFEST[month][0]


@pytest.mark.parametrize("month", ["2020-01", "2025-01"])
def test_every_row_equals_its_line_in_python_csv(loaded, month: str) -> None:
    """Each stored row, including its source_line, is the record Python's csv reads there."""
    st, _ = loaded

    def number(text: str) -> float | None:
        return float(text) if text else None

    expected = sorted(
        (
            line,
            row[0] or None,
            number(row[4]),
            number(row[5]),
            row[6],
            row[7] or None,
            row[8] or None,
            row[9],
            row[10] or None,
        )
        for line, row in csv_records(raw_bytes(street_file(month)))
    )
    got = st.rows(
        "SELECT source_line, crime_id, longitude, latitude, location, lsoa_code, lsoa_name, "
        "crime_type, last_outcome FROM street_crimes WHERE month = ? ORDER BY source_line",
        [f"{month}-01"],
    )
    assert got == expected


def test_source_line_of_some_crime_ids(loaded) -> None:
    """A few rows looked up by Crime ID, anywhere in the file (start, quoted, end)."""
    st, _ = loaded
    records = [r for r in csv_records(raw_bytes(street_file("2020-01"))) if r[1][0]]
    quoted = [(line, row) for line, row in records if "," in row[6]]
    assert quoted, "2020-01 has quoted locations such as 'On or near Asda, Thurmaston'"
    picks = [records[0], records[len(records) // 2], quoted[0], records[-1]]
    for line, row in picks:
        got = st.rows(
            "SELECT source_line, location FROM street_crimes WHERE crime_id = ?", [row[0]]
        )
        assert got == [(line, row[6])]


def test_2025_rows_keep_their_2021_lsoa_codes(loaded) -> None:
    """2025 files use 2021 LSOAs: 18 Leicester codes of 2025-09 are not 2011 LSOAs (MANIFEST)."""
    st, _ = loaded
    boundaries = ROOT / "data/sample/ons/boundaries/lsoa11-E06000016-leicester.geojson.gz"
    features = json.loads(gzip.decompress(boundaries.read_bytes()))["features"]
    lsoa11 = {f["properties"]["LSOA11CD"] for f in features}
    assert len(lsoa11) == 192
    codes = {
        c
        for (c,) in st.rows(
            "SELECT DISTINCT lsoa_code FROM street_crimes "
            "WHERE month = '2025-09-01' AND local_authority = 'Leicester'"
        )
    }
    assert len(codes) == 200
    assert len(codes - lsoa11) == 18
    codes_2020 = {
        c
        for (c,) in st.rows(
            "SELECT DISTINCT lsoa_code FROM street_crimes "
            "WHERE month = '2020-01-01' AND local_authority = 'Leicester'"
        )
    }
    assert codes_2020 <= lsoa11


def test_stop_and_search_file(loaded) -> None:
    """MANIFEST §2: 456 rows, month 2023-06, booleans True/False, 28 without coordinates."""
    st, results = loaded
    r = results[str(STOP_AND_SEARCH)]
    assert (r.kind, r.force, r.months, r.rows_stored, r.rows_quarantined) == (
        "stop-and-search",
        FORCE,
        ["2023-06"],
        456,
        0,
    )
    assert st.first(
        "SELECT count(*), min(month), max(month), count(*) FILTER (latitude IS NULL), "
        "count(*) FILTER (longitude IS NULL), count(part_of_operation), count(operation), "
        "count(*) FILTER (outcome IS NULL), count(*) FILTER (object_of_search IS NULL), "
        "count(*) FILTER (age_range IS NULL), count(*) FILTER (officer_defined_ethnicity IS NULL) "
        "FROM stop_searches"
    ) == (456, dt.date(2023, 6, 1), dt.date(2023, 6, 1), 28, 28, 0, 0, 5, 3, 55, 31)

    def boolean(text: str) -> bool | None:
        return {"True": True, "False": False, "": None}[text]

    def epoch_us(text: str) -> int:
        return int(dt.datetime.fromisoformat(text).timestamp()) * 1_000_000

    expected = sorted(
        (
            line,
            row[0],
            epoch_us(row[1]),
            float(row[4]) if row[4] else None,
            float(row[5]) if row[5] else None,
            row[6] or None,
            row[12] or None,
            boolean(row[13]),
            boolean(row[14]),
        )
        for line, row in csv_records(raw_bytes(STOP_AND_SEARCH))
    )
    assert len(expected) == 456
    got = st.rows(
        "SELECT source_line, type, epoch_us(searched_at), latitude, longitude, gender, outcome, "
        "outcome_linked_to_object, removal_of_more_than_outer_clothing "
        "FROM stop_searches ORDER BY source_line"
    )
    assert got == expected
    # Both boolean values occur, and 'Outcome linked' is empty exactly for "no further action".
    linked = dict(
        st.rows("SELECT outcome_linked_to_object, count(*) FROM stop_searches GROUP BY 1")
    )
    assert linked[True] > 0 and linked[False] > 0
    assert st.first(
        "SELECT count(*) FROM stop_searches WHERE (outcome_linked_to_object IS NULL) <> "
        "(outcome = 'A no further action disposal')"
    ) == (0,)


def test_plain_csv_and_gzip_store_the_same_rows(tmp_path: Path, store: Store) -> None:
    """An uncompressed copy (large enough for a parallel CSV read) stores identical rows."""
    plain = write(
        tmp_path / "in" / "2021-06-leicestershire-street.csv", raw_bytes(street_file("2021-06"))
    )
    [r] = ingest(store, [plain])
    assert (r.months, r.rows_stored, r.rows_quarantined) == (["2021-06"], 9299, 0)
    got = store.rows("SELECT * EXCLUDE (source_file) FROM street_crimes ORDER BY source_line")
    other = Path(store.path).with_name("gz.duckdb")
    with Store(other) as st2:
        ingest(st2, [street_file("2021-06")])
        want = st2.rows("SELECT * EXCLUDE (source_file) FROM street_crimes ORDER BY source_line")
    assert got == want
    assert [row[-1] for row in got] == list(range(2, 9299 + 2))
