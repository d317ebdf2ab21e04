"""The team's records' Alembic history: ``env.py`` and hand-written revisions in ``versions/``.

Importing this package loads neither SQLAlchemy nor Alembic: opening a store whose records are
already at :data:`HEAD` costs one small query (:func:`embedded_revision`). A test checks that
:data:`HEAD` is the newest revision in ``versions/``.

Revisions are written by hand (no autogenerate: duckdb-engine's reflection is lossy). A new one
adds a file in ``versions/`` with ``down_revision`` set to the previous head, moves
:data:`HEAD`, and changes ``records/schema.py`` to match. On DuckDB, an ALTER of an indexed
table goes through ``op.batch_alter_table(..., recreate="always", copy_from=<the table as it
was>)``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

LOCATION = Path(__file__).resolve().parent
HEAD = "0002"  # the newest revision in versions/
VERSION_TABLE = "alembic_version"  # Alembic's, one row: the revision the records are at


def embedded_revision(con: duckdb.DuckDBPyConnection) -> str | None:
    """The revision of the records in a DuckDB store, or None when they have none yet."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [VERSION_TABLE]
    ).fetchone()
    if not found or not found[0]:
        return None
    row = con.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    return None if row is None else str(row[0])
