"""Helpers shared by the police.uk CSV importer tests (real bundled data, no mocks).

Everything here reads the real police.uk files bundled under ``data/sample`` and
builds test inputs from their real lines; nothing is invented except the
deliberate corruptions each test makes (and says it makes).
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from pathlib import Path

from beatbook.store import Store

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "police-uk" / "leicestershire"
FORCE = "leicestershire"

# Every table the importer may write: compared in full before/after a failed import.
INGEST_TABLES = ("street_crimes", "outcomes", "stop_searches", "partitions", "quarantine")

# The force area: Leicester, the 7 Leicestershire districts and Rutland (MANIFEST section 1).
FORCE_AREA = (
    "Leicester",
    "Blaby",
    "Charnwood",
    "Harborough",
    "Hinckley and Bosworth",
    "Melton",
    "North West Leicestershire",
    "Oadby and Wigston",
    "Rutland",
)


def street_file(month: str) -> Path:
    """The bundled real street-level crime file for ``month`` (``YYYY-MM``)."""
    path = SAMPLE / f"{month}-{FORCE}-street.csv.gz"
    assert path.exists(), path
    return path


STOP_AND_SEARCH = SAMPLE / f"2023-06-{FORCE}-stop-and-search.csv.gz"


def street_months() -> list[str]:
    """All bundled street months, sorted."""
    return sorted(p.name[:7] for p in SAMPLE.glob(f"*-{FORCE}-street.csv.gz"))


def raw_bytes(path: Path) -> bytes:
    """The uncompressed bytes of a real (gzipped) file, exactly as police.uk published them."""
    return gzip.decompress(path.read_bytes())


def split_lines(data: bytes) -> tuple[list[bytes], bytes]:
    """Lines without their endings, and the line ending the file uses (CRLF or LF)."""
    eol = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
    lines = data.split(eol)
    if lines and lines[-1] == b"":
        lines.pop()
    return lines, eol


def join_lines(lines: list[bytes], eol: bytes) -> bytes:
    return eol.join(lines) + eol


def head_lines(path: Path, n: int) -> tuple[list[bytes], bytes]:
    """Header plus the first ``n`` data lines of a real file, and its line ending."""
    lines, eol = split_lines(raw_bytes(path))
    return lines[: n + 1], eol


def fields(line: bytes) -> list[str]:
    return next(csv.reader([line.decode("utf-8")]))


def unfields(values: list[str]) -> bytes:
    """A CSV line (no ending) from fields, quoted the way police.uk quotes them."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue().encode("utf-8")


def set_field(lines: list[bytes], index: int, column: int, value: str) -> bytes:
    """Replace one field of ``lines[index]`` in place; return the original line."""
    before = lines[index]
    row = fields(before)
    row[column] = value
    lines[index] = unfields(row)
    return before


def write(path: Path, data: bytes, *, gz: bool | None = None) -> Path:
    """Write ``data`` to ``path``, gzipping it when the name ends in ``.gz``."""
    if gz is None:
        gz = path.name.endswith(".gz")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def csv_records(data: bytes) -> list[tuple[int, list[str]]]:
    """(file line number, fields) of every data record, as Python's csv module sees them."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    next(reader)
    return [(reader.line_num, row) for row in reader if row]


def _select_list(con: Store, table: str) -> str:
    """All columns of ``table``; TIMESTAMPTZ ones as exact epoch microseconds.

    (DuckDB needs pytz to hand TIMESTAMPTZ values to Python; microseconds are exact anyway.)
    """
    cols = []
    for name, type_, *_ in con.rows(f'DESCRIBE "{table}"'):
        quoted = '"' + name.replace('"', '""') + '"'
        cols.append(f"epoch_us({quoted})" if "TIME ZONE" in type_ else quoted)
    return ", ".join(cols)


def dump(con: Store, tables: tuple[str, ...] = INGEST_TABLES) -> dict:
    """Full, sorted contents of ``tables``: equal dumps mean equal table contents."""
    return {t: con.rows(f'SELECT {_select_list(con, t)} FROM "{t}" ORDER BY ALL') for t in tables}


def dump_store(path: Path) -> dict:
    """:func:`dump` of every table of the store file at ``path`` (opened read-only)."""
    with Store(path, read_only=True) as st:
        names = tuple(r[0] for r in st.rows("SHOW TABLES"))
        return dump(st, names)


def partition_consistency(con: Store) -> list[tuple]:
    """Partitions whose recorded rows_stored / rows_quarantined differ from the tables.

    Empty when every ``(force, month, kind)`` in ``partitions`` has exactly the rows it records.
    """
    return con.rows(
        """
        WITH stored AS (
            SELECT force, month, 'street' AS kind, count(*) AS n FROM street_crimes GROUP BY ALL
            UNION ALL
            SELECT force, month, 'outcomes', count(*) FROM outcomes GROUP BY ALL
            UNION ALL
            SELECT force, month, 'stop-and-search', count(*) FROM stop_searches GROUP BY ALL
        ), quarantined AS (
            SELECT force, month, kind, count(*) AS n FROM quarantine GROUP BY ALL
        )
        SELECT p.force, p.month, p.kind, p.rows_stored, coalesce(s.n, 0),
               p.rows_quarantined, coalesce(q.n, 0)
        FROM partitions p
        LEFT JOIN stored s USING (force, month, kind)
        LEFT JOIN quarantined q USING (force, month, kind)
        WHERE p.rows_stored <> coalesce(s.n, 0) OR p.rows_quarantined <> coalesce(q.n, 0)
        UNION ALL
        -- stored rows that no partition accounts for
        SELECT s.force, s.month, s.kind, NULL, s.n, NULL, NULL
        FROM stored s ANTI JOIN partitions p USING (force, month, kind)
        """
    )


def fingerprint(con: Store) -> dict[str, tuple[int, int]]:
    """Row count and order-independent hash of the full contents of every table.

    Equal fingerprints mean equal table contents (to a 64-bit hash per row); much
    faster than :func:`dump` on full months, so used before/after every failed import.
    """
    tables = [r[0] for r in con.rows("SHOW TABLES")]
    return {
        t: con.first(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{t}" t') for t in tables
    }


def fingerprint_store(path: Path) -> dict[str, tuple[int, int]]:
    """:func:`fingerprint` of the store file at ``path``, opened afresh and read-only."""
    with Store(path, read_only=True) as st:
        return fingerprint(st)


def republish(month: str, seed: int = 7, drop: int = 10, changed: int = 25) -> tuple[bytes, dict]:
    """A real month as police.uk might re-publish it: rows gone, outcomes updated.

    Returns the new file's bytes and {Crime ID: new outcome} for the changed rows.
    """
    lines, eol = split_lines(raw_bytes(street_file(month)))
    rng = random.Random(seed)
    for i in sorted(rng.sample(range(1, len(lines)), drop), reverse=True):
        del lines[i]
    updates = {}
    with_id = [i for i in range(1, len(lines)) if fields(lines[i])[0]]
    for i in rng.sample(with_id, changed):
        set_field(lines, i, 10, "Offender sent to prison")
        updates[fields(lines[i])[0]] = "Offender sent to prison"
    rng.shuffle(body := lines[1:])  # police.uk re-orders rows between publications
    return join_lines([lines[0], *body], eol), updates
