"""Import police.uk street, outcomes and stop-and-search CSVs into the store.

Accepts single CSVs, ``.csv.gz``, folders of them and the police.uk archive
zip (one folder per month). The kind of file is recognised by its header,
never by its name. Each file is parsed once by DuckDB's CSV reader (all
columns as text), checked in SQL, and stored as ``(force, month, kind)``
partitions that replace what was there before.

Everything one call imports happens in one transaction: a bad file (wrong
header, not UTF-8, truncated gzip/zip, a Month that is not YYYY-MM) aborts
the whole import with a :class:`~beatbook.errors.CSVFormatError` and leaves
the store exactly as it was. Rows that are individually invalid (a latitude
outside the UK, a row with missing fields) are kept apart in ``quarantine``
with their file, line and reason.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from beatbook.errors import CSVFormatError, InputError
from beatbook.ingest.kinds import KINDS, FileKind, clean_sql, kind_for_header
from beatbook.store import Store

FILE_NAME = re.compile(
    r"(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)"
    r"\.csv(\.gz)?$"
)
CSV_SUFFIXES = (".csv", ".csv.gz")


@dataclass
class FileResult:
    """What one imported file did to the store (one line of the summary table)."""

    file: str
    kind: str
    force: str
    months: list[str]
    rows_stored: int
    rows_quarantined: int
    status: str = "stored"  # 'stored' | 'unchanged' (same bytes already stored)
    replaced: list[str] = field(default_factory=list)  # partitions that existed before

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "kind": self.kind,
            "force": self.force,
            "months": self.months,
            "rows_stored": self.rows_stored,
            "rows_quarantined": self.rows_quarantined,
            "status": self.status,
            "replaced": self.replaced,
        }


@dataclass(frozen=True)
class _Source:
    """A CSV to read: the name shown to the user and a local path DuckDB can open."""

    name: str
    path: Path


def find_sources(paths: Iterable[str | Path], tmpdir: Path) -> list[_Source]:
    """Expand files, folders and zip archives into the CSVs to import, in a stable order."""
    sources: list[_Source] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.endswith(CSV_SUFFIXES):
                    sources.append(_Source(str(child), child))
                elif child.suffix == ".zip":
                    sources.extend(_zip_members(child, tmpdir))
        elif path.suffix == ".zip":
            sources.extend(_zip_members(path, tmpdir))
        else:
            sources.append(_Source(str(path), path))
    if not sources:
        raise InputError(
            "no police.uk CSV files found in " + ", ".join(str(p) for p in paths)
        )
    return sources


def _zip_members(archive: Path, tmpdir: Path) -> Iterator[_Source]:
    """Extract the CSVs of a police.uk archive zip, reporting a truncated archive clearly."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = sorted(n for n in zf.namelist() if n.endswith(CSV_SUFFIXES))
            # One folder per archive: two downloads may share a name and hold the same member.
            folder = Path(tempfile.mkdtemp(dir=tmpdir))
            for i, member in enumerate(names):
                target = folder / f"{i}-{Path(member).name}"
                with zf.open(member) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                yield _Source(f"{archive}!{member}", target)
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise CSVFormatError(
            str(archive), f"not a readable zip archive (truncated or corrupt?): {exc}"
        ) from exc


def read_header(source: _Source) -> tuple[str, ...]:
    """Read the first line of a CSV (plain or gzip), failing with a clear message."""
    try:
        with open(source.path, "rb") as fh:
            magic = fh.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(source.path, "rb") as fh:  # type: ignore[operator]
            first = fh.readline(1 << 16)
    except (OSError, EOFError, zlib.error) as exc:
        raise CSVFormatError(
            source.name, f"cannot be read (truncated or corrupt gzip?): {exc}"
        ) from exc
    if not first.strip():
        raise CSVFormatError(source.name, "is empty: expected a police.uk CSV header", line=1)
    try:
        text = first.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError:
        raise CSVFormatError(
            source.name, "is not a UTF-8 text CSV (binary or another encoding)", line=1
        ) from None
    return tuple(next(csv.reader([text])))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ingest(
    store: Store,
    paths: Iterable[str | Path],
    *,
    force: str | None = None,
    on_file: Callable[[str], None] | None = None,
) -> list[FileResult]:
    """Import police.uk CSVs into ``store`` in one transaction; return one result per file.

    Parameters
    ----------
    store : the open store to write to.
    paths : CSV / ``.csv.gz`` files, folders, or police.uk archive zips.
    force : police.uk force id to use when neither the file name
        (``YYYY-MM-<force>-<kind>.csv``) nor a ``Falls within`` column names it.
    on_file : called with each file's name before it is imported (progress bars).
    """
    paths = list(paths)
    with ExitStack() as stack:
        tmpdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="beatbook-")))
        sources = find_sources(paths, tmpdir)
        kinds = {s: kind_for_header(s.name, read_header(s)) for s in sources}
        results: list[FileResult] = []
        with store.transaction() as con:
            for source in sources:
                if on_file:
                    on_file(source.name)
                results.append(_ingest_file(con, source, kinds[source], force))
        return results


def _ingest_file(
    con: duckdb.DuckDBPyConnection, source: _Source, kind: FileKind, force: str | None
) -> FileResult:
    sha = file_sha256(source.path)
    same = con.execute(
        "SELECT force, strftime(month, '%Y-%m') FROM partitions "
        "WHERE source_sha256 = ? AND kind = ? ORDER BY month",
        [sha, kind.name],
    ).fetchall()
    # The same bytes are a no-op only for the same force: a copy filed under another force
    # (by --force or its file name) is new data. Without either, trust the stored force.
    named = FILE_NAME.search(Path(source.name).name)
    expected = force or (named["force"] if named else None)
    if same and (expected is None or all(f == expected for f, _ in same)):
        return FileResult(
            source.name, kind.name, same[0][0], [m for _, m in same], 0, 0, status="unchanged"
        )
    scan = _Scan(con, source, kind)
    force_id = _force_for(con, scan, force)
    previous = {
        m
        for (m,) in con.execute(
            "SELECT strftime(month, '%Y-%m') FROM partitions WHERE force = ? AND kind = ?",
            [force_id, kind.name],
        ).fetchall()
    }
    return _replace_partitions(con, scan, force_id, sha, previous)


class _Scan:
    """One file read by DuckDB: a first pass tallies months and finds invalid rows.

    Reading a police.uk CSV is cheap and writing is not, so the file is read
    twice (tally, then insert) and written once, straight into its table.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, source: _Source, kind: FileKind) -> None:
        self.con, self.source, self.kind = con, source, kind
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in kind.header) + "}"
        path = str(source.path).replace("'", "''")
        self.relation = (
            f"(SELECT row_number() OVER () AS _row, {clean_sql(kind.header)} "
            f"FROM read_csv('{path}', header = true, columns = {columns}, auto_detect = false, "
            "delim = ',', quote = '\"', escape = '\"', store_rejects = true, "
            "rejects_table = 'rejects_errors', rejects_scan = 'rejects_scans'))"
        )
        with_reason = f"(SELECT *, {kind.reason_sql} AS _reason FROM {self.relation})"
        # Touch every column: DuckDB checks a value's encoding only when it reads the column,
        # and a line it rejects here must also be the line the INSERT skips.
        every_column = " + ".join(f'count("{c}")' for c in kind.header)
        try:
            groups = con.execute(
                f"SELECT {kind.month_valid_sql} AS ok, {kind.month_sql} AS month, count(*), "
                f"min(_row), count(_reason), {every_column} "
                f"FROM {with_reason} GROUP BY ALL ORDER BY month"
            ).fetchall()
            rejected = con.execute(
                "SELECT line, any_value(error_type::VARCHAR), any_value(error_message), "
                "any_value(csv_line) FROM rejects_errors GROUP BY line ORDER BY line"
            ).fetchall()
            invalid = []
            if any(n_bad for _, _, _, _, n_bad, _ in groups):
                # The row as a CSV line again: quote values holding ',' or '"' as police.uk does.
                raw = " || ',' || ".join(
                    f"CASE WHEN regexp_matches(\"{c}\", '[,\"]') "
                    f"THEN '\"' || replace(\"{c}\", '\"', '\"\"') || '\"' "
                    f"ELSE coalesce(\"{c}\", '') END"
                    for c in kind.header
                )
                invalid = con.execute(
                    f"SELECT {kind.month_sql}, _row, _reason, {raw} FROM {with_reason} "
                    "WHERE _reason IS NOT NULL ORDER BY _row"
                ).fetchall()
            con.execute("DROP TABLE rejects_errors; DROP TABLE rejects_scans")
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            detail = str(exc).splitlines()[0]
            raise CSVFormatError(
                source.name, f"cannot be read as CSV (truncated or corrupt?): {detail}"
            ) from exc
        # DuckDB's csv_line starts with the '\n' of the line before in CRLF files.
        rejected = [
            (line, error_type, message, (text or "").strip("\r\n"))
            for line, error_type, message, text in rejected
        ]
        # Lines that are not records: rejected ones and empty ones (DuckDB skips those silently).
        self.rejected_lines = sorted({int(line) for line, *_ in rejected} | _empty_lines(source))
        for line, error_type, _, text in rejected:
            if error_type in ("INVALID ENCODING", "INVALID UNICODE"):  # DuckDB >= 1.2 / older
                raise CSVFormatError(
                    source.name, "is not UTF-8 encoded (police.uk publishes UTF-8)", line=line
                )
            if "\n" in text or "\r" in text:  # a stray quote swallowed the lines after it
                raise CSVFormatError(
                    source.name,
                    "a quoted value that opens on this line is not closed on it (stray '\"'?), "
                    "so the lines after it cannot be split into fields",
                    line=line,
                )
        for ok, month, _, first_row, _, _ in groups:
            if not ok:
                shown = month if kind.month_column == "Month" else _first_value(
                    con, self, first_row
                )
                raise CSVFormatError(
                    source.name,
                    f"'{shown or ''}' is not a valid {kind.month_expected}",
                    line=self.line(first_row),
                    column=kind.month_column,
                )
        self.months = {month: count for _, month, count, _, _, _ in groups}
        self.invalid = [(month, int(row), reason, text) for month, row, reason, text in invalid]
        self.unparsed = [(line, message, text) for line, _, message, text in rejected]

    def line(self, row: int) -> int:
        """File line of parsed record ``row`` (1-based), counting the header and skipped lines."""
        line = row + 1
        for rejected in self.rejected_lines:
            if rejected <= line:
                line += 1
        return line

    def line_sql(self) -> str:
        """:meth:`line` in SQL: a rejected line ``L``, the ``j``-th, precedes row ``r`` if ``L-j < r``."""
        adjusted = [line - j for j, line in enumerate(self.rejected_lines, start=1)]
        if not adjusted:
            return "(_row + 1)"
        terms = " + ".join(f"(_row >= {a})::INTEGER" for a in adjusted)
        return f"(_row + 1 + {terms})"


def _empty_lines(source: _Source) -> set[int]:
    """Numbers of the empty lines of a CSV (plain or gzip) that DuckDB has already read."""
    try:
        with open(source.path, "rb") as fh:
            opener = gzip.open if fh.read(2) == b"\x1f\x8b" else open
        with opener(source.path, "rb") as fh:  # type: ignore[operator]
            data = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise CSVFormatError(source.name, f"cannot be read (truncated or corrupt?): {exc}") from exc
    if b"\n\n" not in data and b"\n\r\n" not in data and not data.startswith((b"\n", b"\r\n")):
        return set()  # the usual case: no line-by-line pass needed
    lines = data.split(b"\n")[:-1]  # each element was followed by a newline
    return {n for n, text in enumerate(lines, start=1) if text in (b"", b"\r")}


def _first_value(con: duckdb.DuckDBPyConnection, scan: _Scan, row: int) -> str:
    value = con.execute(
        f'SELECT "{scan.kind.month_column}" FROM {scan.relation} WHERE _row = ?', [row]
    ).fetchone()
    return "" if value is None or value[0] is None else str(value[0])


def _force_for(con: duckdb.DuckDBPyConnection, scan: _Scan, given: str | None) -> str:
    """The police.uk force id: --force, else the file name, else the 'Falls within' column."""
    if given:
        return given
    match = FILE_NAME.search(Path(scan.source.name).name)
    if match:
        return match["force"]
    if "Falls within" in scan.kind.header:
        names = [
            r[0]
            for r in con.execute(
                f'SELECT DISTINCT "Falls within" FROM {scan.relation} '
                'WHERE "Falls within" IS NOT NULL'
            ).fetchall()
        ]
        if len(names) == 1:
            return force_slug(names[0])
    raise InputError(
        f"{scan.source.name}: cannot tell which force this file is for; "
        "name it YYYY-MM-<force>-<kind>.csv as police.uk does, or pass --force"
    )


def force_slug(name: str) -> str:
    """police.uk force id from a force name: 'Leicestershire Police' -> 'leicestershire'."""
    name = re.sub(r"\b(Police Service|Police|Constabulary)\b", "", name, flags=re.I)
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _replace_partitions(
    con: duckdb.DuckDBPyConnection, scan: _Scan, force_id: str, sha: str, previous: set[str]
) -> FileResult:
    kind, name = scan.kind, scan.source.name
    for month in scan.months:
        first_day = f"{month}-01"
        con.execute(f"DELETE FROM {kind.table} WHERE force = ? AND month = ?", [force_id, first_day])
        for table in ("quarantine", "partitions"):
            con.execute(
                f"DELETE FROM {table} WHERE force = ? AND month = ? AND kind = ?",
                [force_id, first_day, kind.name],
            )
    skip = ""
    if scan.invalid:
        rows = ", ".join(str(row) for _, row, _, _ in scan.invalid)
        skip = f"WHERE _row NOT IN ({rows})"
    con.execute(
        f"INSERT INTO {kind.table} SELECT ?, ({kind.month_sql} || '-01')::DATE, "
        f"{kind.select_sql}, ?, {scan.line_sql()} FROM {scan.relation} {skip}",
        [force_id, name],
    )
    con.execute("DROP TABLE IF EXISTS rejects_errors; DROP TABLE IF EXISTS rejects_scans")
    only_month = next(iter(scan.months)) if len(scan.months) == 1 else None
    quarantined = [
        (force_id, f"{month}-01", kind.name, name, scan.line(row), reason, text)
        for month, row, reason, text in scan.invalid
    ] + [
        (force_id, f"{only_month}-01" if only_month else None, kind.name, name, line,
         f"cannot be split into {len(kind.header)} fields: {message}", text)
        for line, message, text in scan.unparsed
    ]
    if quarantined:
        con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?)", quarantined)
    bad_by_month: dict[str | None, int] = {}
    for row in quarantined:
        key = row[1][:7] if row[1] else None
        bad_by_month[key] = bad_by_month.get(key, 0) + 1
    for month, count in scan.months.items():
        bad_here = sum(1 for m, *_ in scan.invalid if m == month)
        con.execute(
            "INSERT INTO partitions VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [force_id, f"{month}-01", kind.name, name, sha, count - bad_here,
             bad_by_month.get(month, 0)],
        )
    return FileResult(
        file=name,
        kind=kind.name,
        force=force_id,
        months=list(scan.months),
        rows_stored=sum(scan.months.values()) - len(scan.invalid),
        rows_quarantined=len(quarantined),
        replaced=[m for m in scan.months if m in previous],
    )


__all__ = ["FileResult", "KINDS", "force_slug", "ingest"]
