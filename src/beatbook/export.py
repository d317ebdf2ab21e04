"""The store as Hive-partitioned Parquet: ``kind=street/force=leicestershire/month=2025-09/``.

What a national analyst reads with DuckDB, Polars, pandas or Spark without BeatBook, on a
laptop or from object storage (docs/data.md, Parquet export). Every stored row is
written, with the columns the counting rules need beside the published ones:

* street: ``is_asb`` (anti-social behaviour, never added to crimes), ``counted`` (the row
  counts under docs/statistics.md: false for a repeat of a Crime ID already seen in the
  force's month), ``repeat_of_line`` (the ``source_line`` of the row that counts instead),
  ``lsoa_vintage`` (2011 or 2021: the LSOA codes police.uk used for that force's month,
  from the ONS lookups; null without an LSOA or a lookup);
* outcomes: ``lsoa_vintage`` likewise; stop-and-search: as stored.

The export is written to a temporary folder beside the target and renamed into place, so
a failed export leaves the previous one (or nothing), never a half-written folder.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from beatbook.errors import InputError
from beatbook.months import parse_month
from beatbook.store import Store

KINDS = {"street": "street_crimes", "outcomes": "outcomes", "stop-and-search": "stop_searches"}
ASB = "Anti-social behaviour"

# The LSOA vintage of each stored (force, month) of a table: the vintage holding most of
# its codes that appear in one vintage only (a code unchanged in 2021 is in both).
_VINTAGE = """
WITH codes AS (SELECT DISTINCT force, month, lsoa_code FROM {table} WHERE lsoa_code IS NOT NULL),
     known AS (SELECT lsoa_code, list(DISTINCT vintage) AS vs FROM lsoa_lookup GROUP BY 1)
SELECT force, month, CASE
    WHEN count(*) FILTER (NOT list_contains(vs, 2011)) > count(*) FILTER (NOT list_contains(vs, 2021))
        THEN 2021
    WHEN count(*) FILTER (NOT list_contains(vs, 2021)) > 0 THEN 2011 END AS lsoa_vintage
FROM codes JOIN known USING (lsoa_code) GROUP BY ALL
"""

_WHERE = "{a}.force IN (SELECT unnest($forces::VARCHAR[])) AND {a}.month BETWEEN $start AND $end"
_ALIAS = {"street": "s", "outcomes": "o", "stop-and-search": "x"}
_SELECT = {
    "street": f"""
        SELECT 'street' AS kind, s.force, strftime(s.month, '%Y-%m') AS month,
               s.* EXCLUDE (force, month), s.crime_type = '{ASB}' AS is_asb,
               r.first_line IS NULL AS counted, r.first_line AS repeat_of_line,
               CASE WHEN s.lsoa_code IS NOT NULL THEN v.lsoa_vintage END AS lsoa_vintage
        FROM street_crimes s
        LEFT JOIN (SELECT force, month, source_line, min(first_line) AS first_line
                   FROM crime_repeats GROUP BY ALL) r USING (force, month, source_line)
        LEFT JOIN ({_VINTAGE.format(table="street_crimes")}) v USING (force, month)
        WHERE {{where}}
    """,
    "outcomes": f"""
        SELECT 'outcomes' AS kind, o.force, strftime(o.month, '%Y-%m') AS month,
               o.* EXCLUDE (force, month),
               CASE WHEN o.lsoa_code IS NOT NULL THEN v.lsoa_vintage END AS lsoa_vintage
        FROM outcomes o LEFT JOIN ({_VINTAGE.format(table="outcomes")}) v USING (force, month)
        WHERE {{where}}
    """,
    "stop-and-search": """
        SELECT 'stop-and-search' AS kind, x.force, strftime(x.month, '%Y-%m') AS month,
               x.* EXCLUDE (force, month)
        FROM stop_searches x WHERE {where}
    """,
}


def export_parquet(
    store: Store,
    target: str | Path,
    *,
    kinds: Sequence[str] = (),
    forces: Sequence[str] = (),
    from_: str | None = None,
    to: str | None = None,
) -> dict[str, Any]:
    """Write the stored rows (all, or those of ``kinds``, ``forces`` and months
    ``from_``..``to``) to ``target`` as Hive-partitioned Parquet, replacing what was there.

    Returns folder, rows (by kind), partitions (folders written), files, bytes, seconds.
    """
    target = Path(target)
    wanted = list(kinds) or list(KINDS)
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise InputError(f"--kind {unknown[0]!r}: expected one of {', '.join(KINDS)}")
    start = parse_month(from_, "--from") if from_ else dt.date(1, 1, 1)
    end = parse_month(to, "--to") if to else dt.date(9999, 12, 1)
    if start > end:
        raise InputError(f"--from {from_} is after --to {to}")
    stored = {f for (f,) in store.rows("SELECT DISTINCT force FROM partitions")}
    missing = sorted(set(forces) - stored)
    if missing:
        raise InputError(
            f"--force {missing[0]!r}: no such force in the store "
            f"(stored: {', '.join(sorted(stored)) or 'none'})"
        )
    if target.exists() and not target.is_dir():
        raise InputError(f"--parquet {target}: exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        rows = {
            k: _write(store, work, k, list(forces) or sorted(stored), start, end) for k in wanted
        }
        _swap(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    files = sorted(target.rglob("*.parquet"))
    return {
        "folder": str(target),
        "rows": rows,
        "partitions": len({f.parent for f in files}),
        "files": len(files),
        "bytes": sum(f.stat().st_size for f in files),
        "seconds": round(time.perf_counter() - began, 2),
    }


def _write(
    store: Store, work: Path, kind: str, forces: list[str], start: dt.date, end: dt.date
) -> int:
    """One kind's rows under ``work`` (kind=…/force=…/month=…/); how many."""
    query = _SELECT[kind].replace("{where}", _WHERE.format(a=_ALIAS[kind]))
    params = {"forces": forces, "start": start, "end": end}
    n = int(store.scalar(f"SELECT count(*) FROM ({query})", params))
    if n:
        store.execute(
            f"COPY ({query}) TO '{_sql_path(work)}' (FORMAT parquet, COMPRESSION zstd, "
            "PARTITION_BY (kind, force, month), OVERWRITE_OR_IGNORE true)",
            params,
        )
    return n


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _swap(work: Path, target: Path) -> None:
    """Put ``work`` where ``target`` is: the old export is moved aside, the new one renamed
    in, then the old one deleted (put back if the rename fails)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{time.time_ns()}")
        target.rename(old)
    try:
        work.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
