"""Two neighbouring forces in one store, with months missing for one of them (issue 16).

Leicestershire 2025-01 … 2025-06 without 2025-02 and 2025-03, and Nottinghamshire 2025-01 …
2025-06 (repeated Crime IDs; crimes in Derbyshire's districts), with both ONS lookups and
the mid-2022 population. ``two_force_raw`` is the same files in a plain DuckDB connection,
no BeatBook code, for recomputing every figure another way.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from beatbook.ingest import ons
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support.fixtures_store import (
    BRIDGE_LOOKUP,
    POLICE,
    POP_2022,
    RAW_DISTRICT,
    SAMPLE,
    WARD_LOOKUP,
)

NOTTS = SAMPLE / "second-force" / "nottinghamshire"
NOTTS_MONTHS = [f"2025-{m:02d}" for m in range(1, 7)]
LEICS_MONTHS = ["2025-01", "2025-04", "2025-05", "2025-06"]  # 2025-02 and -03 left out
LEICS_MISSING = ["2025-02", "2025-03"]
NOTTS_FILES = [NOTTS / f"{m}-nottinghamshire-street.csv.gz" for m in NOTTS_MONTHS]
LEICS_FILES = [POLICE / f"{m}-leicestershire-street.csv.gz" for m in LEICS_MONTHS]
# MANIFEST 1b: the city and the seven county districts Nottinghamshire Police polices.
NOTTS_DISTRICTS = (
    "Ashfield",
    "Bassetlaw",
    "Broxtowe",
    "Gedling",
    "Mansfield",
    "Newark and Sherwood",
    "Nottingham",
    "Rushcliffe",
)


def build_two_force_store(path: Path) -> Path:
    with Store(path) as st:
        ingest(st, [*LEICS_FILES, *NOTTS_FILES])
        ons.import_lookup(st, WARD_LOOKUP)
        ons.import_lookup(st, BRIDGE_LOOKUP)
        ons.import_population(st, POP_2022, 2022)
    return path


@pytest.fixture(scope="session")
def two_force_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the two-force store (closed: open it read-only, or copy it to write)."""
    return build_two_force_store(tmp_path_factory.mktemp("two-forces") / "beatbook.duckdb")


@pytest.fixture(scope="session")
def two_force_store(two_force_store_path: Path) -> Iterator[Store]:
    with Store(two_force_store_path, read_only=True) as st:
        yield st


@pytest.fixture(scope="session")
def two_force_raw() -> Iterator[duckdb.DuckDBPyConnection]:
    """The same street files as text in table ``street`` (``Month`` is 'YYYY-MM'), with
    ``force`` and ``district`` (the LSOA name minus its last token, '' when none)."""
    con = duckdb.connect()
    parts = []
    for force, files in (("leicestershire", LEICS_FILES), ("nottinghamshire", NOTTS_FILES)):
        listed = ", ".join(f"'{p}'" for p in files)
        parts.append(
            f"SELECT *, '{force}' AS force, "
            f"coalesce({RAW_DISTRICT}, '') AS district FROM read_csv([{listed}], header = true, "
            "all_varchar = true, delim = ',', quote = '\"')"
        )
    con.execute("CREATE TABLE street AS " + " UNION ALL BY NAME ".join(parts))
    yield con
    con.close()


def counted_rows(force: str) -> list[dict[str, str]]:
    """The rows of a force's files that count under the counting unit, read with the csv
    module alone: ASB rows (no Crime ID) each, and the first row of each Crime ID in its
    month's file."""
    files = {"leicestershire": LEICS_FILES, "nottinghamshire": NOTTS_FILES}[force]
    kept = []
    for path in files:
        seen: set[str] = set()
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                crime_id = row["Crime ID"]
                if crime_id and crime_id in seen:
                    continue
                seen.add(crime_id)
                kept.append(row)
    return kept
