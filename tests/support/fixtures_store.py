"""Shared fixtures: one real store built from the bundled sample, and the raw files beside it.

The store holds what ``make demo`` loads (police.uk street files for 2020-01 .. 2021-12
and 2025-01 .. 2025-03, both ONS lookups, mid-2019 and mid-2022 populations, Leicester's
LSOA boundaries). It is built
once per test session and then opened read-only, so the CLI tests can open it from
other processes at the same time.

Expected numbers in the tests are never taken from BeatBook: they come from the raw
files through :func:`raw_db` (a separate in-memory DuckDB connection that reads the
gzipped CSVs directly), the ``csv`` module, shapely and scipy.
"""

from __future__ import annotations

import csv
import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from beatbook.ingest import ons
from beatbook.ingest.boundaries import import_boundaries
from beatbook.ingest.policeuk_csv import ingest
from beatbook.records.engine import Records
from beatbook.store import Store
from support.postgres import fresh_database
from support.records_backend import attached

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
POLICE = SAMPLE / "police-uk" / "leicestershire"
ONS = SAMPLE / "ons"
WARD_LOOKUP = ONS / "lsoa11-ward19-lad19-ew.csv.gz"
BRIDGE_LOOKUP = ONS / "lsoa11-lsoa21-lad22-ew.csv.gz"
POP_2019 = ONS / "lsoa11-population-mid2019-ew.csv.gz"
POP_2022 = ONS / "lsoa21-population-mid2022-ew.csv.gz"
LEICESTER_BOUNDARIES = ONS / "boundaries" / "lsoa11-E06000016-leicester.geojson.gz"

STORE_MONTHS = [f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)] + [
    "2025-01",
    "2025-02",
    "2025-03",
]
STREET_FILES = [POLICE / f"{m}-leicestershire-street.csv.gz" for m in STORE_MONTHS]

# MANIFEST.md, section 1: the force area is Leicester, the 7 districts and Rutland.
DISTRICTS = (
    "Blaby",
    "Charnwood",
    "Harborough",
    "Hinckley and Bosworth",
    "Melton",
    "North West Leicestershire",
    "Oadby and Wigston",
)
FORCE_AREA = ("Leicester", *DISTRICTS, "Rutland")

# A district from an LSOA name, in SQL over the raw files: 'North West Leicestershire 011F'.
RAW_DISTRICT = "regexp_extract(\"LSOA name\", '^(.*) [0-9]{3}[A-Z]$', 1)"


def build_store(path: Path, files: list[Path] = STREET_FILES) -> Path:
    """Load what ``make demo`` loads into a new store at ``path`` and close it."""
    with Store(path) as st:
        ingest(st, files)
        ons.import_lookup(st, WARD_LOOKUP)
        ons.import_lookup(st, BRIDGE_LOOKUP)
        ons.import_population(st, POP_2019, 2019)
        ons.import_population(st, POP_2022, 2022)
        import_boundaries(st, LEICESTER_BOUNDARIES)
    return path


@pytest.fixture(scope="session")
def sample_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the session's real store (closed: open it read-only, or copy it to write)."""
    return build_store(tmp_path_factory.mktemp("store") / "beatbook.duckdb")


@pytest.fixture(scope="session")
def sample_store(sample_store_path: Path) -> Iterator[Store]:
    """The session's real store, open read-only."""
    with Store(sample_store_path, read_only=True) as st:
        yield st


@pytest.fixture
def writable_store(sample_store_path: Path, tmp_path: Path) -> Iterator[Store]:
    """A private, writable copy of the session store (for ``areas add``), its team records
    where ``--records-backend`` keeps them (``support.records_backend``)."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_store_path, copy)
    with attached(copy) as database, Store(copy, database=database) as st:
        yield st


@pytest.fixture(params=["embedded", "postgres"])
def team_store(
    request: pytest.FixtureRequest, sample_store_path: Path, tmp_path: Path
) -> Iterator[Store]:
    """A private, writable copy of the session store whose team records are embedded in it,
    or in a new PostgreSQL database (the test runs once on each backend)."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_store_path, copy)
    if request.param == "embedded":
        with Store(copy) as st:
            yield st
        return
    with (
        fresh_database(request.getfixturevalue("postgres_url")) as url,
        Store(copy, database=url) as st,
    ):
        yield st


@pytest.fixture(params=["embedded", "postgres"])
def team_records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Records]:
    """Empty team records at the newest revision: in a new store file, or in a new
    PostgreSQL database (the test runs once on each backend)."""
    if request.param == "embedded":
        with Store(tmp_path / "records.duckdb") as st:
            yield st.team_records
        return
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        records = Records.from_url(url)
        records.upgrade()
        try:
            yield records
        finally:
            records.dispose()


@pytest.fixture(scope="session")
def raw_db() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB holding the raw bundled files (no BeatBook code).

    * ``street``: every row of the ingested police.uk street files, all text, plus
      ``month`` (``'YYYY-MM'``) and ``district`` (the LSOA name minus its last token,
      ``''`` when there is no LSOA).
    * ``ward_lookup``, ``bridge``: the raw ONS lookups.
    * ``pop2019(code, population)``, ``pop2022(code, population)``: the raw estimates.
    """
    con = duckdb.connect()
    files = ", ".join(f"'{p}'" for p in STREET_FILES)
    con.execute(
        f"""
        CREATE TABLE street AS
        SELECT *, "Month" AS month, coalesce({RAW_DISTRICT}, '') AS district
        FROM read_csv([{files}], header = true, all_varchar = true, delim = ',', quote = '"')
        """
    )
    con.execute(
        f"CREATE VIEW ward_lookup AS SELECT * FROM read_csv('{WARD_LOOKUP}', header = true, "
        "all_varchar = true)"
    )
    con.execute(
        f"CREATE VIEW bridge AS SELECT * FROM read_csv('{BRIDGE_LOOKUP}', header = true, "
        "all_varchar = true)"
    )
    # mid-2019: no header; mid-2022: header lsoacd,population. Both start with a BOM.
    con.execute(
        f"CREATE VIEW pop2019 AS SELECT ltrim(column0, chr(65279)) AS code, "
        f"CAST(column1 AS DOUBLE) AS population FROM read_csv('{POP_2019}', header = false, "
        "all_varchar = true)"
    )
    con.execute(
        f"CREATE VIEW pop2022 AS SELECT ltrim(c0, chr(65279)) AS code, CAST(c1 AS DOUBLE) "
        f"AS population FROM read_csv('{POP_2022}', header = false, skip = 1, "
        "all_varchar = true, names = ['c0', 'c1'])"
    )
    yield con
    con.close()


def raw_scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None):
    """The single value of a query over the raw views."""
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def raw_street_rows(months: list[str]) -> Iterator[dict[str, str]]:
    """Rows of the raw street files for ``months``, read with the csv module."""
    for month in months:
        path = POLICE / f"{month}-leicestershire-street.csv.gz"
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh)


def months_between(first: str, last: str) -> list[str]:
    """Every 'YYYY-MM' from ``first`` to ``last`` inclusive (independent of BeatBook)."""
    y, m = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    out = []
    while (y, m) <= end:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def holm(p_values: list[float]) -> list[float]:
    """Holm (1979) step-down adjusted p-values, written out from the definition."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    n = len(p_values)
    adjusted = [0.0] * n
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (n - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
