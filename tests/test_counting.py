"""The counting unit (issue 16, docs/statistics.md): a crime is one Crime ID in one month of
a force's file, its first row in file order deciding its type and place; ASB rows (no ID)
count per row. Checked on Nottinghamshire's real files, which repeat IDs, against a count
made with the csv module alone."""

from __future__ import annotations

import csv
import gzip
import shutil
from collections import Counter
from pathlib import Path

import pytest

from beatbook import areas, queries
from beatbook.errors import StoreError
from beatbook.ingest.policeuk_csv import ingest
from beatbook.months import parse_month
from beatbook.store import Store
from support.two_forces import NOTTS_DISTRICTS, NOTTS_FILES, NOTTS_MONTHS

# MANIFEST.md section 1b: "extra rows on a repeated Crime ID", 2025-01 … 2025-06.
PUBLISHED_REPEATS = {
    "2025-01": 32,
    "2025-02": 36,
    "2025-03": 32,
    "2025-04": 31,
    "2025-05": 20,
    "2025-06": 31,
}


def _by_district(path: Path) -> tuple[Counter[str], int]:
    """Crimes per district under the counting unit, and the rows it folds, from the file."""
    seen: set[str] = set()
    counts: Counter[str] = Counter()
    folded = 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            crime_id = row["Crime ID"]
            if crime_id:
                if crime_id in seen:
                    folded += 1
                    continue
                seen.add(crime_id)
            district = row["LSOA name"].rsplit(" ", 1)[0] if row["LSOA name"] else ""
            counts[district] += 1
    return counts, folded


@pytest.fixture(scope="module")
def by_file() -> dict[str, tuple[Counter[str], int]]:
    return {m: _by_district(f) for m, f in zip(NOTTS_MONTHS, NOTTS_FILES, strict=True)}


def test_ingest_reports_the_repeated_rows(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as st:
        results = ingest(st, NOTTS_FILES)
    assert {r.months[0]: r.rows_repeated for r in results} == PUBLISHED_REPEATS
    assert all(r.to_dict()["rows_repeated"] == r.rows_repeated for r in results)


@pytest.mark.parametrize("district", ["Nottingham", "Gedling", "Erewash"])
def test_a_district_counts_each_crime_once(
    two_force_store: Store, by_file: dict[str, tuple[Counter[str], int]], district: str
) -> None:
    area = areas.resolve(two_force_store, f"lad:{district}")
    for month in NOTTS_MONTHS:
        when = parse_month(month)
        counted = queries.crime_total(two_force_store, area, when, when)
        # A district counts the crimes of the force that polices it (Erewash: Derbyshire,
        # whose files are not stored), whatever other forces record there.
        expected = by_file[month][0][district] if district != "Erewash" else 0
        assert counted == expected, (district, month)


def test_repeats_folded_is_the_difference(
    two_force_store: Store, by_file: dict[str, tuple[Counter[str], int]]
) -> None:
    first, last = parse_month("2025-01"), parse_month("2025-06")
    folded = 0
    for district in NOTTS_DISTRICTS:
        area = areas.resolve(two_force_store, f"lad:{district}")
        folded += queries.repeats_folded(two_force_store, area, first, last)
    # Every repeat in these files falls in one of the force's districts or nowhere.
    assert 0 < folded <= sum(n for _, n in by_file.values()) == sum(PUBLISHED_REPEATS.values())


def test_an_old_store_is_upgraded_on_write_and_refused_read_only(
    two_force_store_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "old.duckdb"
    shutil.copyfile(two_force_store_path, path)
    with Store(path) as st:
        before = st.rows("SELECT * FROM crime_repeats ORDER BY ALL")
        with st.transaction() as con:  # what a version-1 store looked like
            con.execute("DROP VIEW crimes; DROP TABLE crime_repeats")
            con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="older BeatBook: open it once for writing"):
        Store(path, read_only=True)
    with Store(path) as st:
        assert st.rows("SELECT * FROM crime_repeats ORDER BY ALL") == before
        assert len(before) == sum(PUBLISHED_REPEATS.values())
