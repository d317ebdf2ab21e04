"""The DuckDB store: schema, migrations and transactions.

One embedded DuckDB file holds everything BeatBook knows. Every import runs
inside one transaction (:meth:`Store.transaction`), so a failed or killed
import leaves the store exactly as it was: DuckDB's write-ahead log replays
only committed transactions after a crash.

police.uk data is stored in *partitions* keyed by ``(force, month, kind)``.
Re-importing a partition (police.uk re-publishes months with new outcomes)
deletes and re-inserts it in the same transaction, so nothing is counted twice.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from beatbook import aggregates
from beatbook.errors import StoreError
from beatbook.records import migrations as records_migrations

if TYPE_CHECKING:
    from beatbook.records.engine import Records

DEFAULT_STORE = "beatbook.duckdb"
STORE_ENV = "BEATBOOK_STORE"
SCHEMA_VERSION = 4  # 2: crime_repeats and the crimes view (issue 16); 3: partitions' provenance;
# 4: monthly_counts (issue 19)

# Table per police.uk file kind; the columns after the partition key follow the CSV.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE TABLE IF NOT EXISTS street_crimes (
    force VARCHAR NOT NULL,            -- police.uk force id, e.g. 'leicestershire'
    month DATE NOT NULL,               -- first day of the month
    crime_id VARCHAR,                  -- empty for anti-social behaviour
    reported_by VARCHAR,
    falls_within VARCHAR,
    longitude DOUBLE,
    latitude DOUBLE,
    location VARCHAR,                  -- snap point, e.g. 'On or near Elm Close'
    lsoa_code VARCHAR,                 -- 2011 or 2021 vintage, as published
    lsoa_name VARCHAR,
    local_authority VARCHAR,           -- LSOA name minus its last token
    crime_type VARCHAR NOT NULL,
    last_outcome VARCHAR,
    context VARCHAR,
    source_file VARCHAR NOT NULL,
    source_line INTEGER NOT NULL
);

-- The counting unit (docs/statistics.md): a crime is one Crime ID in one month of a force's
-- file. police.uk repeats IDs (exact copies, or copies that differ in the outcome or the
-- location); every row is kept in street_crimes, and each later row of an ID already seen
-- in that month is listed here with the row that counts (the first in file order, whose
-- type and place the crime takes). ASB rows have no ID and each counts.
CREATE TABLE IF NOT EXISTS crime_repeats (
    force VARCHAR NOT NULL,
    month DATE NOT NULL,
    source_line INTEGER NOT NULL,      -- the repeated row
    first_line INTEGER NOT NULL        -- the row of the same Crime ID that counts
);

-- The crimes every figure counts: street_crimes without the repeated rows.
CREATE OR REPLACE VIEW crimes AS
SELECT s.* FROM street_crimes s
ANTI JOIN crime_repeats r
    ON s.force = r.force AND s.month = r.month AND s.source_line = r.source_line;

-- Counts per (force, month, LSOA, district, crime type) of the stored street rows, kept by
-- aggregates.py in the import's transaction: what the count-only figures read.
CREATE TABLE IF NOT EXISTS monthly_counts (
    force VARCHAR NOT NULL,
    month DATE NOT NULL,
    lsoa_code VARCHAR,
    local_authority VARCHAR,
    crime_type VARCHAR NOT NULL,
    counted INTEGER NOT NULL,          -- crimes under the counting rules (the crimes view)
    stored INTEGER NOT NULL            -- stored rows, repeated Crime IDs included
);

-- The districts named in each force's stored street rows (aggregates.py, with the counts):
-- what lists of areas read instead of every row.
CREATE TABLE IF NOT EXISTS force_districts (
    force VARCHAR NOT NULL,
    local_authority VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS outcomes (
    force VARCHAR NOT NULL,
    month DATE NOT NULL,
    crime_id VARCHAR,
    reported_by VARCHAR,
    falls_within VARCHAR,
    longitude DOUBLE,
    latitude DOUBLE,
    location VARCHAR,
    lsoa_code VARCHAR,
    lsoa_name VARCHAR,
    local_authority VARCHAR,
    outcome_type VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_line INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS stop_searches (
    force VARCHAR NOT NULL,
    month DATE NOT NULL,
    type VARCHAR,
    searched_at TIMESTAMPTZ NOT NULL,
    part_of_operation BOOLEAN,
    operation VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE,
    gender VARCHAR,
    age_range VARCHAR,
    self_defined_ethnicity VARCHAR,
    officer_defined_ethnicity VARCHAR,
    legislation VARCHAR,
    object_of_search VARCHAR,
    outcome VARCHAR,
    outcome_linked_to_object BOOLEAN,
    removal_of_more_than_outer_clothing BOOLEAN,
    source_file VARCHAR NOT NULL,
    source_line INTEGER NOT NULL
);

-- One row per stored partition: where it came from and what it held.
CREATE TABLE IF NOT EXISTS partitions (
    force VARCHAR NOT NULL,
    month DATE NOT NULL,
    kind VARCHAR NOT NULL,             -- 'street' | 'outcomes' | 'stop-and-search'
    source_file VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,    -- of the file's bytes: re-importing them is a no-op
    rows_stored INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    origin VARCHAR NOT NULL DEFAULT 'file',  -- 'file' | 'archive' | 'api'
    publication VARCHAR,               -- archive: its latest month (police.uk's publication, 'YYYY-MM'); api: the day fetched
    coverage VARCHAR NOT NULL DEFAULT 'force',  -- 'force': the whole force's file; api: the area fetched
    PRIMARY KEY (force, month, kind)
);
-- Stores made before schema 3 gain the provenance columns.
ALTER TABLE partitions ADD COLUMN IF NOT EXISTS origin VARCHAR DEFAULT 'file';
ALTER TABLE partitions ADD COLUMN IF NOT EXISTS publication VARCHAR;
ALTER TABLE partitions ADD COLUMN IF NOT EXISTS coverage VARCHAR DEFAULT 'force';

-- Rows that were individually invalid, with where they were and why.
CREATE TABLE IF NOT EXISTS quarantine (
    force VARCHAR NOT NULL,
    month DATE,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_line INTEGER,
    reason VARCHAR NOT NULL,
    raw VARCHAR
);

-- LSOA -> ward -> local authority, one row per (vintage, LSOA).
CREATE TABLE IF NOT EXISTS lsoa_lookup (
    lsoa_code VARCHAR NOT NULL,
    lsoa_name VARCHAR,
    vintage INTEGER NOT NULL,          -- 2011 or 2021 (census year of the LSOA codes)
    ward_code VARCHAR,
    ward_name VARCHAR,
    ward_year INTEGER,
    lad_code VARCHAR,
    lad_name VARCHAR,
    lad_year INTEGER,
    source_file VARCHAR NOT NULL,
    PRIMARY KEY (vintage, lsoa_code)
);

-- LSOA 2011 <-> 2021 (ONS exact fit; CHGIND U unchanged, S split, M merged, X irregular).
CREATE TABLE IF NOT EXISTS lsoa_bridge (
    lsoa11_code VARCHAR NOT NULL,
    lsoa21_code VARCHAR NOT NULL,
    change VARCHAR,
    PRIMARY KEY (lsoa11_code, lsoa21_code)
);

CREATE TABLE IF NOT EXISTS population (
    lsoa_code VARCHAR NOT NULL,
    year INTEGER NOT NULL,             -- mid-year estimate year
    population DOUBLE NOT NULL,
    source_file VARCHAR NOT NULL,
    PRIMARY KEY (year, lsoa_code)
);

-- LSOA boundaries (WKT, WGS84 lon/lat), e.g. ONS generalised clipped boundaries.
CREATE TABLE IF NOT EXISTS lsoa_boundaries (
    lsoa_code VARCHAR PRIMARY KEY,
    lsoa_name VARCHAR,
    geometry_wkt VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL
);

-- The team's records (users, concerns, priorities, ...) are not here: records/schema.py
-- describes them and records/migrations/ creates them (Store._migrate runs it).
"""


# The repeated rows of some (force, month) partitions of street_crimes (see crime_repeats).
REPEATS_SQL = """
INSERT INTO crime_repeats
SELECT force, month, source_line, first_line FROM (
    SELECT force, month, source_line,
           min(source_line) OVER (PARTITION BY force, month, crime_id) AS first_line
    FROM street_crimes
    WHERE crime_id IS NOT NULL AND (force, month) IN ({partitions})
) WHERE source_line > first_line
"""


def _has_meta(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta'")
    return bool((found.fetchone() or (0,))[0])


#: Query parameters: positional (``?``) or named (``$name``).
Params = list[object] | dict[str, object] | None


def default_store_path() -> Path:
    """The store path when none is given: ``$BEATBOOK_STORE`` or ``./beatbook.duckdb``."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def embedded_records_revision(path: str | Path | None = None) -> str | None:
    """The revision of the team's records in a store file, read without changing it."""
    path = Path(path) if path is not None else default_store_path()
    if not path.exists():
        raise StoreError(f"store {path} does not exist")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open store {path}: {exc}") from exc
    try:
        return records_migrations.embedded_revision(con)
    finally:
        con.close()


class Store:
    """An open BeatBook store. Use as a context manager so the file is closed."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        database: str | None = None,
        records: Records | None = None,
    ) -> None:
        """Open the store at ``path``. The team's records are in the same file, or in the
        database at ``database`` (``postgresql://…``): then they are written there even when
        the file is opened read-only, so the team works while an import or the desk holds it.
        ``records``: that database already open, to share (the web app reopening the file)."""
        self.path = Path(path) if path is not None else default_store_path()
        self.database = database
        if records is not None:
            self.__dict__["team_records"], self._owns_records = records, False
        if read_only and not self.path.exists():
            raise StoreError(
                f"store {self.path} does not exist: run 'beatbook ingest' first "
                f"(or pass --store / set {STORE_ENV})"
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
            # No progress bar: DuckDB prints it on stdout for any query over 2 s (national
            # stores), into the JSON a command prints.
            self._con.execute("SET enable_progress_bar = false")
        except duckdb.Error as exc:
            hint = (
                " (another process has it open, e.g. 'beatbook serve': import on the desk, or "
                "keep the team's records in PostgreSQL with --database, and imports run beside "
                "it)"
                if "lock" in str(exc).lower()
                else ""
            )
            raise StoreError(f"cannot open store {self.path}: {exc}{hint}") from exc
        try:
            if read_only:
                self._check_version()
            else:
                self._migrate()
        except BaseException:
            self._con.close()  # refused: let the next open of this file start afresh
            raise

    def _migrate(self) -> None:
        with self.transaction() as con:
            found = (
                con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if _has_meta(con)
                else None
            )
            con.execute(SCHEMA)
            if found is not None and int(found[0]) < 2:  # repeats of rows stored before v2
                con.execute(REPEATS_SQL.format(partitions="SELECT force, month FROM partitions"))
            if found is not None and int(found[0]) < 4:  # counts of rows stored before v4
                aggregates.rebuild(con)
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )
        self._migrate_records()

    def _migrate_records(self) -> None:
        """Bring the team's records in this file to the newest revision (Alembic, in its own
        transaction). A store made before the records had migrations keeps its tables and
        rows: the baseline creates only what is missing. Alembic is loaded only when there
        is something to do."""
        if records_migrations.embedded_revision(self._con) == records_migrations.HEAD:
            return
        from beatbook.records.engine import Records

        embedded = Records.embedded(self._con)  # the file's own, also when --database is used
        try:
            embedded.upgrade()
        except Exception as exc:
            raise StoreError(
                f"cannot upgrade the team's records in store {self.path}: {exc}"
            ) from exc
        finally:
            embedded.dispose()

    def _check_version(self) -> None:
        """A read-only store must already have this version's tables, views and records."""
        found = (
            self.first("SELECT value FROM meta WHERE key = 'schema_version'")
            if _has_meta(self._con)
            else None
        )
        records = (
            records_migrations.embedded_revision(self._con)
            if self.database is None
            else records_migrations.HEAD  # checked (and migrated) when first used
        )
        if found is None or int(found[0]) < SCHEMA_VERSION or records != records_migrations.HEAD:
            raise StoreError(
                f"store {self.path} was made by an older BeatBook: open it once for writing "
                "(any import, e.g. 'beatbook ingest' of a month already stored) to upgrade it"
            )

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction: all of it is committed, or none of it.

        The block gets the connection to write with. Only the module that owns a table
        writes it (``tests/test_architecture.py`` checks where SQL appears).
        """
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def execute(self, sql: str, params: Params = None) -> None:
        """Run one statement on its own (DuckDB commits it alone)."""
        self._con.execute(sql, params or [])

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Every row of a query, as tuples."""
        return self._con.execute(sql, params or []).fetchall()

    def first(self, sql: str, params: Params = None) -> tuple[Any, ...] | None:
        """The first row of a query, or None when it has none."""
        found = self._con.execute(sql, params or []).fetchone()
        return None if found is None else tuple(found)

    def records(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Every row of a query as a dict keyed by column name."""
        result = self._con.execute(sql, params or [])
        names = [d[0] for d in result.description or []]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        """Run a query and return its result as a polars frame."""
        with warnings.catch_warnings():  # duckdb notes the Arrow copy; results here are small
            warnings.simplefilter("ignore", UserWarning)
            result = pl.from_arrow(self._con.execute(sql, params or []).to_arrow_table())
        assert isinstance(result, pl.DataFrame)
        return result

    def row(self, sql: str, params: Params = None) -> tuple[Any, ...]:
        """The first row of a query that always returns one (an aggregate)."""
        found = self.first(sql, params)
        if found is None:
            raise StoreError(f"query returned no row: {sql[:60]}")
        return tuple(found)

    def scalar(self, sql: str, params: Params = None) -> Any:
        """The single value of an aggregate query."""
        return self.row(sql, params)[0]

    def cursor(self) -> Store:
        """Another connection to this open database, for one thread: DuckDB connections must
        not be shared between threads, their cursors may run side by side (the web app)."""
        other = Store.__new__(Store)
        other.path, other.database, other._con = self.path, self.database, self._con.cursor()
        if "team_records" in self.__dict__:  # one engine for all cursors
            other.__dict__["team_records"] = self.team_records
            other._owns_records = False
        return other

    _owns_records = True

    @cached_property
    def team_records(self) -> Records:
        """The team's records (``records/engine.py``). Embedded: each transaction runs on its
        own cursor of this store's DuckDB instance. In a database: brought to the newest
        revision on first use (the store file's own records are then not used)."""
        from beatbook.records.engine import Records

        if self.database is None:
            return Records.embedded(self._con)
        records = Records.from_url(self.database)
        try:
            if records.revision() != records_migrations.HEAD:
                records.upgrade()
        except Exception as exc:
            records.dispose()
            raise StoreError(f"cannot open the team's records at {records.where}: {exc}") from exc
        return records

    def records_certainly_empty(self, table: str) -> bool:
        """Whether a team's records table is known to hold no rows without reading it: an
        embedded one whose row count in DuckDB's catalog is 0. Lets a command skip loading
        SQLAlchemy (0.3-0.5 s) for a table most stores leave empty (custom areas)."""
        if self.database is not None:
            return False
        found = self.first(
            "SELECT estimated_size FROM duckdb_tables() WHERE table_name = ?", [table]
        )
        return found is not None and found[0] == 0

    def close(self) -> None:
        if self._owns_records and "team_records" in self.__dict__:
            self.team_records.dispose()
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def table_counts(self) -> dict[str, int]:
        """Row count of every table (used by tests and `beatbook status`)."""
        names = [r[0] for r in self.rows("SHOW TABLES")]
        return {n: self.scalar(f'SELECT count(*) FROM "{n}"') for n in names}
