"""Import police.uk street, outcomes and stop-and-search CSVs into the store.

Accepts single CSVs, ``.csv.gz``, folders of them and the police.uk archive
zip (one folder per month). The kind of file is recognised by its header,
never by its name. Files of one kind are read together, once, by DuckDB's CSV
reader (all columns as text) into a staging table, checked in SQL there, and
stored as ``(force, month, kind)`` partitions that replace what was there before.

Everything one call imports happens in one transaction: a bad file (wrong
header, not UTF-8, truncated gzip/zip, a Month that is not YYYY-MM) aborts
the whole import with a :class:`~beatbook.errors.CSVFormatError` and leaves
the store exactly as it was. Rows that are individually invalid (a latitude
outside the UK, a row with missing fields) are kept apart in ``quarantine``
with their file, line and reason.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from beatbook.errors import CSVFormatError, InputError
from beatbook.ingest import arrow_arrays
from beatbook.ingest.kinds import KINDS, FileKind, clean_sql, kind_for_header
from beatbook.ingest.line_numbers import (
    accounts_for_every_byte,
    quoting_bytes,
    record_lines,
    unquoted_bytes_sql,
)
from beatbook.ingest.sources import (
    Source,
    empty_lines,
    file_sha256,
    find_sources,
    read_header,
)
from beatbook.store import REPEATS_SQL, Params, Store

FILE_NAME = re.compile(
    r"(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)"
    r"\.csv(\.gz)?$"
)
# Text staged at once (a gzip file counts GZIP_RATIO times its size): bounds memory, so
# a 10-million-row import needs no more than a one-month one.
BATCH_BYTES = 128 << 20
GZIP_RATIO = 6  # police.uk CSVs shrink about 6-fold under gzip
_SCRATCH = ("_replaced", "_bad", "rejects_errors", "rejects_scans")


@dataclass
class FileResult:
    """What one imported file did to the store (one line of the summary table)."""

    file: str
    kind: str
    force: str
    months: list[str]
    rows_stored: int
    rows_quarantined: int
    rows_repeated: int = 0  # rows repeating a Crime ID already in the month: kept, not counted
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
            "rows_repeated": self.rows_repeated,
            "status": self.status,
            "replaced": self.replaced,
        }


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
    on_file : called with each file's name as the batch holding it starts (progress bars).
    """
    with tempfile.TemporaryDirectory(prefix="beatbook-") as tmpdir:
        sources = find_sources(paths, Path(tmpdir))
        kinds = {s: kind_for_header(s.name, read_header(s)) for s in sources}
        results: dict[Source, FileResult] = {}
        with store.transaction() as con:
            for kind, batch in _batches(sources, kinds):
                for source in batch:
                    if on_file:
                        on_file(source.name)
                results.update(_Batch(con, kind, force).run(batch))
        return [results[s] for s in sources]


def _batches(
    sources: list[Source], kinds: dict[Source, FileKind]
) -> Iterator[tuple[FileKind, list[Source]]]:
    """Sources grouped by kind (in order of first appearance), cut into batches of BATCH_BYTES."""
    for kind in dict.fromkeys(kinds[s] for s in sources):
        batch: list[Source] = []
        size = 0
        for source in (s for s in sources if kinds[s] is kind):
            weight = source.path.stat().st_size * (GZIP_RATIO if source.is_gzip() else 1)
            if batch and size + weight > BATCH_BYTES:
                yield kind, batch
                batch, size = [], 0
            batch.append(source)
            size += weight
        yield kind, batch


@dataclass(eq=False)  # compared and hashed by identity
class _File:
    """One file of a batch and what reading it found."""

    source: Source
    sha: str
    skipped: list[int] = field(default_factory=list)  # lines that are not records, sorted
    months: dict[str, int] = field(default_factory=dict)  # records per 'YYYY-MM'
    first_rid: int = 0  # staging ``_rid`` of the file's first record
    force: str = ""
    invalid: list[tuple[str, int, str, str]] = field(default_factory=list)  # month, row, why, raw
    unparsed: list[tuple[int, str, str]] = field(default_factory=list)  # line, message, raw
    duplicate_of: _File | None = None  # an earlier file of the batch: same bytes, same force

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def only_month(self) -> str | None:
        return next(iter(self.months)) if len(self.months) == 1 else None

    def line(self, row: int) -> int:
        """File line of record ``row`` (1-based), counting the header and skipped lines."""
        return int(record_lines(np.array([row]), self.skipped)[0])


class _Batch:
    """Files of one kind imported together: read once into a staging table, then stored.

    DuckDB reads every file of the batch in one parallel scan into an Arrow table
    (``_staged``). Records keep their order there, so a record's place in its file,
    and so its line, follows from its row number ``_rid``. Tallies, checks and the
    final INSERT read the staging table, never the files again.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, kind: FileKind, force: str | None) -> None:
        self.con, self.kind, self.force = con, kind, force
        self.repeated: dict[tuple[str, str], int] = {}  # (force, month) -> repeated rows

    def run(self, sources: list[Source]) -> dict[Source, FileResult]:
        results: dict[Source, FileResult] = {}
        files: dict[Path, _File] = {}
        repeated: list[Source] = []  # the same file named twice
        shas = {source.path: file_sha256(source.path) for source in sources}
        stored = self._stored_by_sha(list(shas.values()))
        for source in sources:
            if source.path in files:
                repeated.append(source)
                continue
            unchanged = self._unchanged(source, stored.get(shas[source.path], []))
            if unchanged:
                results[source] = unchanged
            else:
                files[source.path] = _File(source, shas[source.path])
        if files:
            results.update(self._import(list(files.values())))
            del self.staged  # frees the batch's rows
            self.con.execute("; ".join(f"DROP TABLE IF EXISTS {t}" for t in _SCRATCH))
        for source in repeated:
            first = files[source.path]
            results[source] = FileResult(
                source.name,
                self.kind.name,
                first.force,
                list(first.months),
                0,
                0,
                status="unchanged",
            )
        return results

    def _stored_by_sha(self, shas: list[str]) -> dict[str, list[tuple[str, str]]]:
        """The (force, month) partitions already stored from each of these files' bytes."""
        stored: dict[str, list[tuple[str, str]]] = {}
        for sha, force, month in self.rows(
            "SELECT source_sha256, force, strftime(month, '%Y-%m') FROM partitions "
            "WHERE kind = ? AND list_contains(?, source_sha256) ORDER BY month",
            [self.kind.name, shas],
        ):
            stored.setdefault(sha, []).append((force, month))
        return stored

    def _unchanged(self, source: Source, same: list[tuple[str, str]]) -> FileResult | None:
        """A result when these exact bytes are already stored (as ``same``) for the same force."""
        # The same bytes are a no-op only for the same force: a copy filed under another
        # force (by --force or its file name) is new data. Without either, trust the store.
        expected = self.force or _named_force(source)
        if same and (expected is None or all(f == expected for f, _ in same)):
            return FileResult(
                source.name,
                self.kind.name,
                same[0][0],
                [m for _, m in same],
                0,
                0,
                status="unchanged",
            )
        return None

    def _import(self, files: list[_File]) -> dict[Source, FileResult]:
        self._stage(files)
        self._read_rejects(files)
        self._tally(files)
        for i, f in enumerate(files):
            f.force = self._force_for(f)
            f.duplicate_of = next(
                (e for e in files[:i] if (e.sha, e.force) == (f.sha, f.force)), None
            )
        stored = [f for f in files if f.duplicate_of is None]
        seen = self._stored_partitions({f.force for f in stored})
        owner = {(f.force, m): f for f in stored for m in f.months}  # the last file wins
        self._replace(stored, owner, seen)
        results: dict[Source, FileResult] = {}
        for f in files:
            if f.duplicate_of:
                first = f.duplicate_of
                results[f.source] = FileResult(
                    f.name,
                    self.kind.name,
                    first.force,
                    list(first.months),
                    0,
                    0,
                    status="unchanged",
                )
                continue
            results[f.source] = FileResult(
                file=f.name,
                kind=self.kind.name,
                force=f.force,
                months=list(f.months),
                rows_stored=sum(f.months.values()) - len(f.invalid),
                rows_quarantined=len(f.invalid) + len(f.unparsed),
                rows_repeated=sum(
                    self.repeated.get((f.force, m), 0) for m in f.months if owner[(f.force, m)] is f
                ),
                replaced=[m for m in f.months if (f.force, m) in seen],
            )
            seen.update((f.force, m) for m in f.months)
        return results

    def _read_options(self) -> str:
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in self.kind.header) + "}"
        return (
            f"header = true, columns = {columns}, auto_detect = false, delim = ',', "
            "quote = '\"', escape = '\"', store_rejects = true, "
            "rejects_table = 'rejects_errors', rejects_scan = 'rejects_scans'"
        )

    def _stage(self, files: list[_File]) -> None:
        """Read every file once into ``_staged``: path, columns trimmed, ``_rid`` in read order.

        The rows are held as an Arrow table in Python, not a DuckDB temporary table:
        DuckDB keeps a transaction's temporary tables until it commits, so an import of
        many batches would hold all of them; an Arrow table is freed after its batch.
        """
        try:
            table = self.con.sql(
                f"SELECT filename AS _file, {clean_sql(self.kind.header)}, "
                f"{unquoted_bytes_sql(self.kind.header)} AS _bytes "
                f"FROM read_csv($files, filename = true, {self._read_options()})",
                params={"files": [str(f.source.path) for f in files]},
            ).to_arrow_table()
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            raise self._unreadable(files, exc) from exc
        rid = arrow_arrays.numbers(np.arange(table.num_rows, dtype=np.int64))
        self.staged = table.append_column("_rid", rid)

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Every row of a query in this batch's transaction."""
        return self.con.execute(sql, params or []).fetchall()

    def _on_staged(self, sql: str, params: list[object] | None = None) -> duckdb.DuckDBPyConnection:
        """Run SQL reading ``_staged``, which DuckDB finds as a local variable of this frame.

        Not ``con.register``: a view registered in a transaction keeps its Arrow table
        alive until the commit, so a many-batch import would hold every batch.
        """
        _staged = self.staged  # noqa: F841 - read by DuckDB's replacement scan
        return self.con.execute(sql, params or [])

    def _unreadable(self, files: list[_File], exc: Exception) -> CSVFormatError:
        """Which file DuckDB could not read: each is tried alone on a scratch connection."""
        probe = duckdb.connect()
        for f in files:
            try:
                probe.execute(
                    f"SELECT count(*) FROM read_csv(?, {self._read_options()})",
                    [str(f.source.path)],
                )
            except (duckdb.IOException, duckdb.InvalidInputException) as err:
                exc = err
                break
        detail = str(exc).splitlines()[0]
        return CSVFormatError(f.name, f"cannot be read as CSV (truncated or corrupt?): {detail}")

    def _read_rejects(self, files: list[_File]) -> None:
        """Lines DuckDB could not split into fields: a file error, or quarantined."""
        rejected: dict[str, list[tuple[int, str, str, str]]] = {}
        for path, line, error_type, message, text in self.rows(
            "SELECT s.file_path, e.line, any_value(e.error_type::VARCHAR), "
            "any_value(e.error_message), any_value(e.csv_line) "
            "FROM rejects_errors e JOIN rejects_scans s USING (scan_id, file_id) "
            "GROUP BY ALL ORDER BY ALL"
        ):
            # DuckDB's csv_line starts with the '\n' of the line before in CRLF files.
            rejected.setdefault(path, []).append(
                (int(line), error_type, message, (text or "").strip("\r\n"))
            )
        for f in files:
            lines = rejected.get(str(f.source.path), [])
            for line, error_type, _, text in lines:
                if error_type in ("INVALID ENCODING", "INVALID UNICODE"):  # DuckDB >= 1.2 / older
                    raise CSVFormatError(
                        f.name, "is not UTF-8 encoded (police.uk publishes UTF-8)", line=line
                    )
                if "\n" in text or "\r" in text:  # a stray quote swallowed the lines after it
                    raise CSVFormatError(
                        f.name,
                        "a quoted value that opens on this line is not closed on it "
                        "(stray '\"'?), so the lines after it cannot be split into fields",
                        line=line,
                    )
            f.unparsed = [(line, message, text) for line, _, message, text in lines]
            f.skipped = [line for line, *_ in lines]

    def _tally(self, files: list[_File]) -> None:
        """Records per file and month; stop at the first unreadable month; list invalid rows."""
        kind = self.kind
        groups: dict[str, list[tuple[bool, str, int, int, int]]] = {}
        text_bytes: dict[str, int] = {}
        for path, ok, month, count, first, n_bad, size in self._on_staged(
            f"SELECT _file, {kind.month_valid_sql}, {kind.month_sql}, count(*), min(_rid), "
            f"count({kind.reason_sql}), sum(_bytes) "
            "FROM _staged GROUP BY ALL ORDER BY ALL"
        ).fetchall():
            groups.setdefault(path, []).append((ok, month, count, first, n_bad))
            text_bytes[path] = text_bytes.get(path, 0) + int(size)
        quoting = quoting_bytes(self.staged, kind.header)
        for f in files:
            mine = groups.get(str(f.source.path), [])
            f.first_rid = min((first for *_, first, _ in mine), default=0)
            f.months = {month: count for _, month, count, _, _ in mine}
            records = sum(f.months.values())
            size = text_bytes.get(str(f.source.path), 0)
            size += int(quoting[f.first_rid : f.first_rid + records].sum())
            unparsed = (text for _, _, text in f.unparsed)
            if not accounts_for_every_byte(f.source, records, size, unparsed):
                f.skipped = sorted(set(f.skipped) | empty_lines(f.source))
            for ok, month, _, first, _ in sorted(mine, key=lambda g: g[3]):
                if not ok:
                    shown = month if kind.month_column == "Month" else self._value(first)
                    raise CSVFormatError(
                        f.name,
                        f"'{shown or ''}' is not a valid {kind.month_expected}",
                        line=f.line(first - f.first_rid + 1),
                        column=kind.month_column,
                    )
        if not any(n_bad for mine in groups.values() for *_, n_bad in mine):
            return
        # The row as a CSV line again: quote values holding ',' or '"' as police.uk does.
        raw = " || ',' || ".join(
            f'CASE WHEN regexp_matches("{c}", \'[,"]\') '
            f"THEN '\"' || replace(\"{c}\", '\"', '\"\"') || '\"' "
            f"ELSE coalesce(\"{c}\", '') END"
            for c in kind.header
        )
        self._on_staged(
            f"CREATE TEMP TABLE _bad AS SELECT _rid, _file, {kind.month_sql} AS _month, "
            f"{kind.reason_sql} AS _reason, {raw} AS _raw "
            f"FROM _staged WHERE {kind.reason_sql} IS NOT NULL"
        )
        by_path = {str(f.source.path): f for f in files}
        for rid, path, month, reason, text in self.rows(
            "SELECT _rid, _file, _month, _reason, _raw FROM _bad ORDER BY _rid"
        ):
            f = by_path[path]
            f.invalid.append((month, rid - f.first_rid + 1, reason, text))

    def _value(self, rid: int) -> str:
        (value,) = self._on_staged(
            f'SELECT "{self.kind.month_column}" FROM _staged WHERE _rid = ?', [rid]
        ).fetchone() or (None,)
        return "" if value is None else str(value)

    def _force_for(self, f: _File) -> str:
        """The police.uk force id: --force, else the file name, else the 'Falls within' column."""
        named = self.force or _named_force(f.source)
        if named:
            return named
        if "Falls within" in self.kind.header:
            names = self._on_staged(
                'SELECT DISTINCT "Falls within" FROM _staged '
                'WHERE _file = ? AND "Falls within" IS NOT NULL',
                [str(f.source.path)],
            ).fetchall()
            if len(names) == 1:
                return force_slug(names[0][0])
        raise InputError(
            f"{f.name}: cannot tell which force this file is for; "
            "name it YYYY-MM-<force>-<kind>.csv as police.uk does, or pass --force"
        )

    def _stored_partitions(self, forces: set[str]) -> set[tuple[str, str]]:
        return {
            (force, month)
            for force, month in self.rows(
                "SELECT force, strftime(month, '%Y-%m') FROM partitions "
                "WHERE kind = ? AND list_contains(?, force)",
                [self.kind.name, sorted(forces)],
            )
        }

    def _replace(
        self,
        stored: list[_File],
        owner: dict[tuple[str, str], _File],
        seen: set[tuple[str, str]],
    ) -> None:
        """Delete the ``seen`` partitions the batch re-imports; insert the new rows,
        quarantine and tallies. (Every stored row and quarantined line belongs to a
        partition recorded in ``partitions``, so a new partition has nothing to delete.)"""
        kind, con = self.kind, self.con
        replaced = [key for key in owner if key in seen]
        if replaced:
            con.execute(
                "CREATE TEMP TABLE _replaced (_k_force VARCHAR, _k_day DATE); "
                "INSERT INTO _replaced SELECT unnest($forces), unnest($days)::DATE",
                {"forces": [f for f, _ in replaced], "days": [f"{m}-01" for _, m in replaced]},
            )
            tables = [
                (kind.table, ""),
                ("quarantine", "AND kind = ?"),
                ("partitions", "AND kind = ?"),
            ]
            if kind.name == "street":
                tables.append(("crime_repeats", ""))
            for table, by_kind in tables:
                con.execute(
                    f"DELETE FROM {table} USING _replaced "
                    f"WHERE {table}.force = _k_force AND {table}.month = _k_day {by_kind}",
                    [kind.name] if by_kind else [],
                )
        if owner:  # else every line was unparsable: only quarantine to write
            keep = self._add_row_columns(stored, owner)
            # One scan of the staged table and no join: DuckDB inserts it in parallel and in
            # order, writing full row groups as it goes rather than at the commit.
            self._on_staged(
                f"INSERT INTO {kind.table} SELECT _force, CAST({kind.month_sql} || '-01' AS DATE), "
                f"{kind.select_sql}, _name, _line FROM _staged{' WHERE _keep' if keep else ''}"
            )
            if kind.name == "street":
                con.execute(
                    REPEATS_SQL.format(partitions="SELECT unnest($forces), unnest($days)::DATE"),
                    {"forces": [f for f, _ in owner], "days": [f"{m}-01" for _, m in owner]},
                )
                self.repeated = {
                    (force, month): int(n)
                    for force, month, n in self.rows(
                        "SELECT force, strftime(month, '%Y-%m'), count(*) FROM crime_repeats "
                        "WHERE (force, month) IN (SELECT unnest($forces), unnest($days)::DATE) "
                        "GROUP BY ALL",
                        {"forces": [f for f, _ in owner], "days": [f"{m}-01" for _, m in owner]},
                    )
                }
        quarantined: list[tuple[object, ...]] = []
        for f in stored:
            quarantined += [
                (f.force, f"{month}-01", kind.name, f.name, f.line(row), reason, text)
                for month, row, reason, text in f.invalid
                if owner[(f.force, month)] is f
            ]
            if f.only_month is None or owner[(f.force, f.only_month)] is f:
                quarantined += [
                    (
                        f.force,
                        f"{f.only_month}-01" if f.only_month else None,
                        kind.name,
                        f.name,
                        line,
                        f"cannot be split into {len(kind.header)} fields: {message}",
                        text,
                    )
                    for line, message, text in f.unparsed
                ]
        if quarantined:
            con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?)", quarantined)
        partitions = []
        for (force, month), f in owner.items():
            bad = sum(1 for m, *_ in f.invalid if m == month)
            unparsed = len(f.unparsed) if f.only_month == month else 0
            partitions.append(
                (
                    force,
                    f"{month}-01",
                    kind.name,
                    f.name,
                    f.sha,
                    f.months[month] - bad,
                    bad + unparsed,
                )
            )
        if partitions:
            con.executemany(
                "INSERT INTO partitions VALUES (?, ?, ?, ?, ?, ?, ?, now())", partitions
            )

    def _add_row_columns(self, stored: list[_File], owner: dict[tuple[str, str], _File]) -> bool:
        """Give each staged record its ``_force``, file ``_name`` and file ``_line``, and,
        when some records are not to be stored, ``_keep``; return whether it added ``_keep``.

        A file's records are consecutive in ``_staged``, so each column is a run of values
        per file, built here in numpy.
        """
        n = self.staged.num_rows
        index = np.zeros(n, dtype=np.int32)
        line = np.zeros(n, dtype=np.int64)
        keep = np.zeros(n, dtype=bool)
        for i, f in enumerate(stored):
            count = sum(f.months.values())
            rows = slice(f.first_rid, f.first_rid + count)
            index[rows] = i
            line[rows] = record_lines(np.arange(1, count + 1, dtype=np.int64), f.skipped)
            keep[rows] = True  # records of a repeated file (not in ``stored``) stay False
            keep[[f.first_rid + row - 1 for _, row, _, _ in f.invalid]] = False
            for month in f.months:
                if owner[(f.force, month)] is not f:  # a later file of the batch has it
                    keep[
                        [
                            rid
                            for (rid,) in self._on_staged(
                                f"SELECT _rid FROM _staged WHERE _file = ? AND {self.kind.month_sql} = ?",
                                [str(f.source.path), month],
                            ).fetchall()
                        ]
                    ] = False
        indices = arrow_arrays.numbers(index)
        forces = arrow_arrays.strings([f.force for f in stored])
        names = arrow_arrays.strings([f.name for f in stored])
        columns = {
            "_force": pa.DictionaryArray.from_arrays(indices, forces),
            "_name": pa.DictionaryArray.from_arrays(indices, names),
            "_line": arrow_arrays.numbers(line),
        }
        if not keep.all():
            columns["_keep"] = arrow_arrays.numbers(keep)
        for name, column in columns.items():
            self.staged = self.staged.append_column(name, column)
        return "_keep" in columns


def _named_force(source: Source) -> str | None:
    match = FILE_NAME.search(Path(source.name).name)
    return match["force"] if match else None


def force_slug(name: str) -> str:
    """police.uk force id from a force name: 'Leicestershire Police' -> 'leicestershire'."""
    name = re.sub(r"\b(Police Service|Police|Constabulary)\b", "", name, flags=re.I)
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


__all__ = ["FileResult", "KINDS", "force_slug", "ingest"]
