"""Shared by the records tests: a fresh database per test on each backend, and what the
database itself reports about its tables (information_schema, never SQLAlchemy reflection)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import sqlalchemy as sa

from beatbook.records.engine import Records
from beatbook.records.schema import metadata
from support.postgres import fresh_database

TEAM_TABLES = set(metadata.tables)
SEQUENCES = {"concern_ids", "priority_ids", "priority_note_ids"}


@contextmanager
def fresh_records(backend: str, tmp_path: Path, postgres_url: str | None) -> Iterator[Records]:
    """Empty records: a new DuckDB file, or a new database in the tests' PostgreSQL."""
    if backend == "duckdb":
        con = duckdb.connect(str(tmp_path / "records.duckdb"))
        records = Records.embedded(con)
        try:
            yield records
        finally:
            records.dispose()
            con.close()
        return
    assert postgres_url is not None
    with fresh_database(postgres_url) as url:
        records = Records.from_url(url)
        try:
            yield records
        finally:
            records.dispose()


def tables(records: Records) -> set[str]:
    """The base tables in the records' default schema."""
    query = sa.text(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )
    with records.begin() as c:
        return {name for (name,) in c.execute(query)}


def sequences(records: Records) -> set[str]:
    # DuckDB has no information_schema.sequences; both have pg_catalog.pg_sequences
    query = sa.text(
        "SELECT sequencename FROM pg_catalog.pg_sequences WHERE schemaname = current_schema()"
    )
    with records.begin() as c:
        return {name for (name,) in c.execute(query)}


def columns(records: Records, table: str) -> list[tuple[str, str, bool]]:
    """(name, broad type, nullable) of each column, in the table's order."""
    query = sa.text(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = :t ORDER BY ordinal_position"
    )
    with records.begin() as c:
        rows = c.execute(query, {"t": table}).all()
    return [(name, broad(kind), nullable == "YES") for name, kind, nullable in rows]


# What each backend's information_schema.columns.data_type says, as one broad word.
REPORTED = {
    "VARCHAR": "text",
    "character varying": "text",
    "BIGINT": "bigint",
    "bigint": "bigint",
    "INTEGER": "integer",
    "integer": "integer",
    "DOUBLE": "double",
    "double precision": "double",
    "DATE": "date",
    "date": "date",
    "BOOLEAN": "boolean",
    "boolean": "boolean",
    "TIMESTAMP": "timestamp",
    "timestamp without time zone": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "timestamp with time zone": "timestamptz",
    "VARCHAR[]": "text[]",
    "ARRAY": "text[]",  # PostgreSQL says ARRAY (udt_name _varchar); schema.py has no other array
    "JSON": "json",
    "json": "json",
    "BLOB": "bytes",
    "bytea": "bytes",
}


def broad(reported: str) -> str:
    return REPORTED.get(reported, f"unknown: {reported}")


def expected_type(column: sa.Column[object]) -> str:
    """The broad type schema.py gives a column."""
    kind = column.type
    if isinstance(kind, sa.ARRAY):
        assert isinstance(kind.item_type, sa.String)
        return "text[]"
    if isinstance(kind, sa.DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    for cls, word in (
        (sa.String, "text"),
        (sa.BigInteger, "bigint"),
        (sa.Integer, "integer"),
        (sa.Double, "double"),
        (sa.Date, "date"),
        (sa.Boolean, "boolean"),
        (sa.JSON, "json"),
        (sa.LargeBinary, "bytes"),
    ):
        if isinstance(kind, cls):
            return word
    raise AssertionError(f"{column.table.name}.{column.name}: no broad type for {kind!r}")


def described(table: sa.Table) -> list[tuple[str, str, bool]]:
    """(name, broad type, nullable) of each column as schema.py describes it."""
    return [(c.name, expected_type(c), bool(c.nullable)) for c in table.columns]
