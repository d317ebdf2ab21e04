"""Monthly counts kept beside the street rows: what the count-only figures read.

A national store holds about 90 million street rows; a district's count, a rank of every
district or a list of districts needs only how many crimes each (force, month, LSOA,
district, crime type) has. ``monthly_counts`` holds that, a few rows for each LSOA and
month, with two counts: ``counted`` under the counting rules of docs/statistics.md (the
``crimes`` view: a Crime ID repeated in a force's month counts once, each ASB row counts)
and ``stored`` (every row, repeats included). Crime or ASB follows from the crime type.
``force_districts`` lists the districts named in each force's rows, a few hundred rows
nationally, for lists of areas.

The import keeps it: :func:`refresh` runs at the end of the import's transaction and
recounts the partitions that transaction stored, so the counts never disagree with the
rows, and a failed import changes neither. :func:`rebuild` recounts everything (stores
made before the table existed; the national benchmark's replicated store).
"""

from __future__ import annotations

import datetime as dt

import duckdb

#: The (force, month) street partitions stored by the running transaction: their rows were
#: written with ``ingested_at = now()``, the transaction's start time.
_THIS_TRANSACTION = (
    "SELECT force, month FROM partitions WHERE kind = 'street' AND ingested_at = now()"
)

# The partitions to count are given as lists ($forces, $months, pairwise), with the first and
# last month as constants ($first, $last): DuckDB then skips the row groups of other months
# (the rows lie in import order, month by month) instead of reading every row's keys.
_PARTS = (
    "month BETWEEN $first AND $last "
    "AND (force, month) IN (SELECT unnest($forces), unnest($months)::DATE)"
)
_COUNT = f"""
INSERT INTO monthly_counts
SELECT s.force, s.month, s.lsoa_code, s.local_authority, s.crime_type,
       count(*) FILTER (WHERE r.source_line IS NULL) AS counted, count(*) AS stored
FROM (SELECT * FROM street_crimes WHERE {_PARTS}) s
LEFT JOIN (SELECT DISTINCT force, month, source_line FROM crime_repeats WHERE {_PARTS}) r
    ON s.force = r.force AND s.month = r.month AND s.source_line = r.source_line
GROUP BY s.force, s.month, s.lsoa_code, s.local_authority, s.crime_type
"""
_DISTRICTS = """
INSERT INTO force_districts
SELECT DISTINCT force, local_authority FROM monthly_counts
WHERE local_authority IS NOT NULL AND list_contains($forces, force)
"""


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Recount the street partitions this transaction stored, and the districts of their
    forces. Call it last in the import's transaction (every import that replaces a street
    partition stores it again in the same transaction)."""
    _count(con, con.execute(_THIS_TRANSACTION).fetchall())


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recount every stored street partition (in the caller's transaction)."""
    con.execute("DELETE FROM monthly_counts; DELETE FROM force_districts")
    _count(con, con.execute("SELECT force, month FROM partitions WHERE kind = 'street'").fetchall())


def _count(con: duckdb.DuckDBPyConnection, parts: list[tuple[str, dt.date]]) -> None:
    if not parts:
        return
    params = {
        "forces": [f for f, _ in parts],
        "months": [m for _, m in parts],
        "first": min(m for _, m in parts),
        "last": max(m for _, m in parts),
    }
    con.execute(f"DELETE FROM monthly_counts WHERE {_PARTS}", params)
    con.execute(_COUNT, params)
    forces = {"forces": sorted({f for f, _ in parts})}
    con.execute("DELETE FROM force_districts WHERE list_contains($forces, force)", forces)
    con.execute(_DISTRICTS, forces)
