"""Import police.uk street, outcomes and stop-and-search CSVs into the store.

Accepts single CSVs, ``.csv.gz``, folders of them and the police.uk archive
zip (one folder per month, read as a stream: ``ingest/pipes.py``). The kind of file
is recognised by its header, never by its name. Each file's text is first scanned
once, bounded (``sources.scan``: size, lines, empty lines). Files of one kind are then
read together by DuckDB's CSV reader (all columns as text) into a staging table,
checked there, and stored as ``(force, month, kind)`` partitions that replace what was
there before, under the rules of ``ingest/publication.py``: a file replaces only its
own month, one file per month and import, and no month shrinks without ``replace``.

Everything one call imports happens in one transaction: a bad file (wrong header, not
UTF-8, truncated gzip/zip, a Month that is not YYYY-MM, too large, lines that do not
add up) aborts the whole import with an :class:`~beatbook.errors.InputError` and leaves
the store exactly as it was. Rows that are individually invalid (a latitude outside
the UK, a row with missing fields, a row of another month) are kept apart in
``quarantine`` with their file, line and reason. Every line of a file is a header, a
stored row, a quarantined row or an empty line, or the file is refused.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from beatbook.errors import CSVFormatError, InputError
from beatbook.ingest import arrow_arrays
from beatbook.ingest.files import File, FileResult, batches, duplicate, scan_all
from beatbook.ingest.kinds import KINDS, FileKind, clean_sql, kind_for_header
from beatbook.ingest.line_numbers import (
    merged,
    record_lines,
    unaccounted,
    unaccounted_message,
    with_continuations,
)
from beatbook.ingest.pipes import Pipes
from beatbook.ingest.publication import (
    Claim,
    Plan,
    Replacement,
    named,
    publication_month,
    stray_reason,
)
from beatbook.ingest.sources import (
    Limits,
    Scan,
    Source,
    file_sha256,
    find_sources,
    read_header,
    scan,
)
from beatbook.store import REPEATS_SQL, Params, Store

_SCRATCH = ("_bad", "rejects_errors", "rejects_scans")


def ingest(
    store: Store,
    paths: Iterable[str | Path],
    *,
    force: str | None = None,
    replace: bool = False,
    limits: Limits | None = None,
    on_file: Callable[[str], None] | None = None,
) -> list[FileResult]:
    """Import police.uk CSVs into ``store`` in one transaction; return one result per file.

    Parameters
    ----------
    store : the open store to write to.
    paths : CSV / ``.csv.gz`` files, folders, or police.uk archive zips.
    force : police.uk force id to use when neither the file name
        (``YYYY-MM-<force>-<kind>.csv``) nor a ``Falls within`` column names it.
    replace : replace stored months even with more than ``SHRINK_TOLERANCE`` fewer rows;
        without it such an import raises :class:`~beatbook.errors.ReplaceRefusedError`
        and stores nothing.
    limits : bounds on each file's text (default: settings.py's).
    on_file : called with each file's name as its text is scanned (progress bars).
    """
    limits = limits or Limits()
    plan = Plan(replace)
    with tempfile.TemporaryDirectory(prefix="beatbook-") as tmpdir:
        sources = find_sources(paths, Path(tmpdir), limits)
        kinds = [kind_for_header(s.name, read_header(s)) for s in sources]
        results: dict[int, FileResult] = {}
        with store.transaction() as con:
            for kind in dict.fromkeys(kinds):
                mine = [(i, s) for i, s in enumerate(sources) if kinds[i] is kind]
                results.update(_Kind(con, kind, force, plan, limits, on_file).run(mine))
            plan.check()
        return [results[i] for i in range(len(sources))]


class _Kind:
    """The files of one kind: which are unchanged or duplicates, and the batches of the rest."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        kind: FileKind,
        force: str | None,
        plan: Plan,
        limits: Limits,
        on_file: Callable[[str], None] | None,
    ) -> None:
        self.con, self.kind, self.force, self.plan = con, kind, force, plan
        self.limits, self.on_file = limits, on_file
        self.scans: dict[Source, Scan] = {}

    def run(self, sources: list[tuple[int, Source]]) -> dict[int, FileResult]:
        self._scan([s for _, s in sources if s.member is not None])  # a member's sha is its text's
        shas = {s: self.scans[s].sha256 if s.member else file_sha256(s.path) for _, s in sources}
        stored = self._stored_by_sha(list(shas.values()))
        results: dict[int, FileResult] = {}
        first: dict[Source, int] = {}  # where each file is first named
        new: list[Source] = []
        for i, source in sources:
            if source in first:
                continue  # the same file named twice: a duplicate of the first
            first[source] = i
            if (result := self._unchanged(source, stored.get(shas[source], []))) is not None:
                results[i] = result
            else:
                new.append(source)
        self._scan(new)
        files = [File(s, shas[s], self.scans[s]) for s in new]
        for batch in batches(files):
            for f, result in _Batch(self.con, self.kind, self.force, self.plan).run(batch).items():
                results[first[f.source]] = result
        for i, source in sources:
            if i != first[source]:
                earlier = results[first[source]]
                results[i] = duplicate(
                    source.name, self.kind.name, earlier.force, earlier.months, earlier.file
                )
        return results

    def _scan(self, sources: list[Source]) -> None:
        self.scans.update(
            scan_all([s for s in sources if s not in self.scans], self.limits, self.on_file)
        )

    def _stored_by_sha(self, shas: list[str]) -> dict[str, list[tuple[str, str, int]]]:
        """The (force, month, rows) partitions already stored from each of these files' bytes."""
        stored: dict[str, list[tuple[str, str, int]]] = {}
        for sha, force, month, rows in self.con.execute(
            "SELECT source_sha256, force, strftime(month, '%Y-%m'), rows_stored FROM partitions "
            "WHERE kind = ? AND list_contains(?, source_sha256) ORDER BY month",
            [self.kind.name, shas],
        ).fetchall():
            stored.setdefault(sha, []).append((force, month, int(rows)))
        return stored

    def _unchanged(self, source: Source, same: list[tuple[str, str, int]]) -> FileResult | None:
        """A result when these exact bytes are already stored (as ``same``) for the same force."""
        # The same bytes are a no-op only for the same force: a copy filed under another
        # force (by --force or its file name) is new data. Without either, trust the store.
        expected = self.force or named(source.name)[1]
        if not same or (expected is not None and any(f != expected for f, _, _ in same)):
            return None
        # The file's month is its largest partition (a store from before the publication
        # rule may hold a few stray rows of it under other months).
        force, month, _ = max(same, key=lambda p: p[2])
        result = FileResult(source.name, self.kind.name, force, [month], 0, 0, status="unchanged")
        earlier = self.plan.claim(self.kind.name, force, month, self._claim(source))
        if earlier is not None:
            result.status, result.duplicate_of = "duplicate", earlier.name
        return result

    def _claim(self, source: Source) -> Claim:
        """A claim whose text sha is found when needed (a plain file's is its bytes' sha)."""

        @functools.cache
        def content() -> str:
            if source in self.scans:
                return self.scans[source].sha256
            if not source.is_gzip() and source.member is None:
                return file_sha256(source.path)
            return scan(source, self.limits).sha256

        return Claim(source.name, content)


class _Batch:
    """Files of one kind imported together: read once into a staging table, then stored.

    DuckDB reads every file of the batch in one parallel scan into an Arrow table
    (``_staged``). Records keep their order there, so a record's place in its file,
    and so its line, follows from its row number ``_rid``. Tallies, checks and the
    final INSERT read the staging table, never the files again.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, kind: FileKind, force: str | None, plan: Plan
    ) -> None:
        self.con, self.kind, self.force, self.plan = con, kind, force, plan
        self.repeated: dict[tuple[str, str], int] = {}  # (force, month) -> repeated rows

    def run(self, files: list[File]) -> dict[File, FileResult]:
        self._stage(files)
        try:
            self._read_rejects(files)
            self._tally(files)
            for f in files:
                f.force = self._force_for(f)
                if f.month is not None:
                    claim = Claim(f.name, functools.partial(str, f.scan.sha256))
                    earlier = self.plan.claim(self.kind.name, f.force, f.month, claim)
                    f.duplicate_of = earlier.name if earlier else None
            stored = [f for f in files if f.duplicate_of is None]
            before = self._replace(stored)
        finally:
            del self.staged  # frees the batch's rows
            self.con.execute("; ".join(f"DROP TABLE IF EXISTS {t}" for t in _SCRATCH))
        return {
            f: f.result(
                self.kind.name,
                before.get((f.force, f.month)) if f.month else None,
                self.repeated.get((f.force, f.month), 0) if f.month else 0,
            )
            for f in files
        }

    def _read_options(self) -> str:
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in self.kind.header) + "}"
        return (
            f"header = true, columns = {columns}, auto_detect = false, delim = ',', "
            "quote = '\"', escape = '\"', store_rejects = true, "
            "rejects_table = 'rejects_errors', rejects_scan = 'rejects_scans'"
        )

    def _stage(self, files: list[File]) -> None:
        """Read every file once into ``_staged``: path, columns trimmed, ``_rid`` in read order.

        The rows are held as an Arrow table in Python, not a DuckDB temporary table:
        DuckDB keeps a transaction's temporary tables until it commits, so an import of
        many batches would hold all of them; an Arrow table is freed after its batch.
        """
        with Pipes() as pipes:
            for f in files:
                s = f.source
                f.path = pipes.path(s, f.scan.text_bytes) if s.member else str(s.path)
            try:
                table = self.con.sql(
                    f"SELECT filename AS _file, {clean_sql(self.kind.header)} "
                    f"FROM read_csv($files, filename = true, {self._read_options()})",
                    params={"files": [f.path for f in files]},
                ).to_arrow_table()
            except (duckdb.IOException, duckdb.InvalidInputException) as exc:
                unreadable = exc
            else:
                rid = arrow_arrays.numbers(np.arange(table.num_rows, dtype=np.int64))
                self.staged = table.append_column("_rid", rid)
                return
        raise self._unreadable(files, unreadable) from unreadable

    def _on_staged(self, sql: str, params: Params = None) -> duckdb.DuckDBPyConnection:
        """Run SQL reading ``_staged``, which DuckDB finds as a local variable of this frame.

        Not ``con.register``: a view registered in a transaction keeps its Arrow table
        alive until the commit, so a many-batch import would hold every batch.
        """
        _staged = self.staged  # noqa: F841 - read by DuckDB's replacement scan
        return self.con.execute(sql, params or [])

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Every row of a query in this batch's transaction."""
        return self.con.execute(sql, params or []).fetchall()

    def _unreadable(self, files: list[File], exc: Exception) -> CSVFormatError:
        """Which file DuckDB could not read: each is tried alone on a scratch connection."""
        probe = duckdb.connect()
        for f in files:
            with Pipes() as pipes:
                s = f.source
                path = pipes.path(s, f.scan.text_bytes) if s.member else str(s.path)
                try:
                    probe.execute(
                        f"SELECT count(*) FROM read_csv(?, {self._read_options()})", [path]
                    )
                except (duckdb.IOException, duckdb.InvalidInputException) as err:
                    exc = err
                    break
        detail = str(exc).splitlines()[0]
        return CSVFormatError(f.name, f"cannot be read as CSV (truncated or corrupt?): {detail}")

    def _read_rejects(self, files: list[File]) -> None:
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
            lines = rejected.get(f.path, [])
            for line, error_type, _, text in lines:
                if error_type in ("INVALID ENCODING", "INVALID UNICODE"):  # DuckDB >= 1.2 / older
                    raise CSVFormatError(
                        f.name, "is not UTF-8 encoded (police.uk publishes UTF-8)", line=line
                    )
                if error_type == "LINE SIZE OVER MAXIMUM":  # its text is cut: no row to keep
                    raise CSVFormatError(
                        f.name, f"the line is too long to read as a row ({message})", line=line
                    )
                if "\n" in text or "\r" in text:  # a stray quote swallowed the lines after it
                    raise CSVFormatError(
                        f.name,
                        "a quoted value that opens on this line is not closed on it "
                        "(stray '\"'?), so the lines after it cannot be split into fields",
                        line=line,
                    )
            f.unparsed = [(line, message, text) for line, _, message, text in lines]

    def _tally(self, files: list[File]) -> None:
        """Records per file and month; every line accounted for; stop at the first unreadable
        month; each file's month; the rows to quarantine (invalid, or of another month)."""
        kind = self.kind
        groups: dict[str, list[tuple[bool, str, int, int, int]]] = {}
        for path, ok, month, count, first, n_bad in self._on_staged(
            f"SELECT _file, {kind.month_valid_sql}, {kind.month_sql}, count(*), min(_rid), "
            f"count({kind.reason_sql}) FROM _staged GROUP BY ALL ORDER BY ALL"
        ).fetchall():
            groups.setdefault(path, []).append((ok, month, count, first, n_bad))
        for f in files:
            mine = groups.get(f.path, [])
            f.first_rid = min((first for *_, first, _ in mine), default=0)
            f.months = {}
            for _, month, count, _, _ in mine:  # a month's valid and invalid dates: one month
                f.months[month] = f.months.get(month, 0) + count
            self._account_for_lines(f)
            for ok, month, _, first, _ in sorted(mine, key=lambda g: g[3]):
                if not ok:
                    shown = month if kind.month_column == "Month" else self._value(first)
                    raise CSVFormatError(
                        f.name,
                        f"'{shown or ''}' is not a valid {kind.month_expected}",
                        line=f.line(first - f.first_rid + 1),
                        column=kind.month_column,
                    )
            f.month = publication_month(f.name, f.months)
        strays = [(f.path, m) for f in files for m in f.months if m != f.month]
        if not strays and not any(n_bad for mine in groups.values() for *_, n_bad in mine):
            return
        # The row as a CSV line again: quote values holding ',' or '"' as police.uk does.
        raw = " || ',' || ".join(
            f'CASE WHEN regexp_matches("{c}", \'[,"]\') '
            f"THEN '\"' || replace(\"{c}\", '\"', '\"\"') || '\"' "
            f"ELSE coalesce(\"{c}\", '') END"
            for c in kind.header
        )
        stray = "(_file, _month) IN (SELECT unnest($files), unnest($months))" if strays else "false"
        self._on_staged(
            "CREATE TEMP TABLE _bad AS SELECT * FROM ("
            f"SELECT _rid, _file, {kind.month_sql} AS _month, {kind.reason_sql} AS _reason, "
            f"{raw} AS _raw FROM _staged) WHERE _reason IS NOT NULL OR {stray}",
            {"files": [p for p, _ in strays], "months": [m for _, m in strays]} if strays else None,
        )
        by_path = {f.path: f for f in files}
        for rid, path, month, reason, text in self.rows(
            "SELECT _rid, _file, _month, _reason, _raw FROM _bad ORDER BY _rid"
        ):
            f = by_path[path]
            if month != f.month:
                reason = stray_reason(month, str(f.month))
            f.invalid.append((month, rid - f.first_rid + 1, reason, text))

    def _account_for_lines(self, f: File) -> None:
        """Every line of the file is its header, a record or a skipped line, or it is refused.

        Skipped lines are DuckDB's rejected lines, the scan's empty lines and the further
        lines of a record whose quoted value holds a newline (looked for only when the
        lines do not add up without them).
        """
        rejected = np.array([line for line, _, _ in f.unparsed], dtype=np.int64)
        f.skipped = merged(rejected, f.scan.empty)
        if unaccounted(f.scan.lines, f.records, f.skipped) > 0:
            newlines = " + ".join(
                f'coalesce(strlen("{c}") - strlen(replace("{c}", chr(10), \'\')), 0)'
                for c in self.kind.header
            )
            spanning = self._on_staged(
                f"SELECT _rid - ?, {newlines} AS n FROM _staged WHERE _file = ? AND ("
                + " OR ".join(f'contains("{c}", chr(10))' for c in self.kind.header)
                + ") ORDER BY _rid",
                [f.first_rid - 1, f.path],
            ).fetchall()
            f.skipped = with_continuations(f.skipped, spanning)
        missing = unaccounted(f.scan.lines, f.records, f.skipped)
        if missing:
            raise CSVFormatError(
                f.name,
                unaccounted_message(
                    f.scan.lines, missing, f.records, len(f.unparsed), len(f.scan.empty)
                ),
            )

    def _value(self, rid: int) -> str:
        (value,) = self._on_staged(
            f'SELECT "{self.kind.month_column}" FROM _staged WHERE _rid = ?', [rid]
        ).fetchone() or (None,)
        return "" if value is None else str(value)

    def _force_for(self, f: File) -> str:
        """The police.uk force id: --force, else the file name, else the 'Falls within' column."""
        given = self.force or named(f.name)[1]
        if given:
            return given
        if "Falls within" in self.kind.header:
            names = self._on_staged(
                'SELECT DISTINCT "Falls within" FROM _staged '
                'WHERE _file = ? AND "Falls within" IS NOT NULL',
                [f.path],
            ).fetchall()
            if len(names) == 1:
                return force_slug(names[0][0])
        raise InputError(
            f"{f.name}: cannot tell which force this file is for; "
            "name it YYYY-MM-<force>-<kind>.csv as police.uk does, or pass --force"
        )

    def _stored_rows(self, forces: set[str]) -> dict[tuple[str, str], int]:
        """Rows stored per (force, month) of this kind, for these forces."""
        return {
            (force, month): int(rows)
            for force, month, rows in self.rows(
                "SELECT force, strftime(month, '%Y-%m'), rows_stored FROM partitions "
                "WHERE kind = ? AND list_contains(?, force)",
                [self.kind.name, sorted(forces)],
            )
        }

    def _replace(self, stored: list[File]) -> dict[tuple[str, str], int]:
        """Delete the partitions the batch re-imports; insert the new rows, quarantine and
        tallies; return the rows each replaced partition held. (Every stored row and
        quarantined line belongs to a partition recorded in ``partitions``, so a new
        partition has nothing to delete.)"""
        kind, con = self.kind, self.con
        owner = {(f.force, f.month): f for f in stored if f.month}
        before = self._stored_rows({f.force for f in stored})
        before = {key: rows for key, rows in before.items() if key in owner}
        for (force, month), rows in before.items():
            f = owner[(force, month)]
            self.plan.replaced(Replacement(kind.name, force, month, f.name, rows, f.rows_stored))
        keys = {"forces": [f for f, _ in before], "days": [f"{m}-01" for _, m in before]}
        if before:
            tables = [(kind.table, ""), ("quarantine", "AND kind = $kind")]
            tables += [("partitions", "AND kind = $kind")]
            if kind.name == "street":
                tables.append(("crime_repeats", ""))
            for table, by_kind in tables:
                con.execute(
                    f"DELETE FROM {table} WHERE (force, month) IN "
                    f"(SELECT unnest($forces), unnest($days)::DATE) {by_kind}",
                    {**keys, "kind": kind.name} if by_kind else keys,
                )
        if owner:  # else every line was unparsable: only quarantine to write
            keep = self._add_row_columns(stored)
            # One scan of the staged table and no join: DuckDB inserts it in parallel and in
            # order, writing full row groups as it goes rather than at the commit.
            self._on_staged(
                f"INSERT INTO {kind.table} SELECT _force, CAST({kind.month_sql} || '-01' AS DATE), "
                f"{kind.select_sql}, _name, _line FROM _staged{' WHERE _keep' if keep else ''}"
            )
            if kind.name == "street":
                self._repeats(list(owner))
        quarantined: list[tuple[object, ...]] = []
        for f in stored:
            day = f"{f.month}-01" if f.month else None
            quarantined += [
                (f.force, day, kind.name, f.name, f.line(row), reason, text)
                for _, row, reason, text in f.invalid
            ]
            quarantined += [
                (
                    f.force,
                    day,
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
        partitions = [
            (
                f.force,
                f"{f.month}-01",
                kind.name,
                f.name,
                f.sha,
                f.rows_stored,
                len(f.invalid) + len(f.unparsed),
            )
            for f in owner.values()
        ]
        if partitions:
            con.executemany(
                "INSERT INTO partitions (force, month, kind, source_file, source_sha256, "
                "rows_stored, rows_quarantined, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                partitions,
            )
        return before

    def _repeats(self, keys: list[tuple[str, str | None]]) -> None:
        """List the rows repeating a Crime ID of the new street partitions; count them."""
        params: dict[str, object] = {
            "forces": [f for f, _ in keys],
            "days": [f"{m}-01" for _, m in keys],
        }
        self.con.execute(
            REPEATS_SQL.format(partitions="SELECT unnest($forces), unnest($days)::DATE"), params
        )
        self.repeated = {
            (force, month): int(n)
            for force, month, n in self.rows(
                "SELECT force, strftime(month, '%Y-%m'), count(*) FROM crime_repeats "
                "WHERE (force, month) IN (SELECT unnest($forces), unnest($days)::DATE) "
                "GROUP BY ALL",
                params,
            )
        }

    def _add_row_columns(self, stored: list[File]) -> bool:
        """Give each staged record its ``_force``, file ``_name`` and file ``_line`` and, when
        some records are not to be stored (a duplicate file's, invalid, of another month),
        ``_keep``; return whether it added ``_keep``.

        A file's records are consecutive in ``_staged``, so each column is a run of values
        per file, built here in numpy.
        """
        n = self.staged.num_rows
        index = np.zeros(n, dtype=np.int32)
        line = np.zeros(n, dtype=np.int64)
        keep = np.zeros(n, dtype=bool)
        for i, f in enumerate(stored):
            rows = slice(f.first_rid, f.first_rid + f.records)
            index[rows] = i
            line[rows] = record_lines(np.arange(1, f.records + 1, dtype=np.int64), f.skipped)
            keep[rows] = f.month is not None  # a duplicate file's records (not stored) stay False
            keep[[f.first_rid + row - 1 for _, row, _, _ in f.invalid]] = False
        indices = arrow_arrays.numbers(index)
        columns = {
            "_force": pa.DictionaryArray.from_arrays(
                indices, arrow_arrays.strings([f.force for f in stored])
            ),
            "_name": pa.DictionaryArray.from_arrays(
                indices, arrow_arrays.strings([f.name for f in stored])
            ),
            "_line": arrow_arrays.numbers(line),
        }
        if not keep.all():
            columns["_keep"] = arrow_arrays.numbers(keep)
        for name, column in columns.items():
            self.staged = self.staged.append_column(name, column)
        return "_keep" in columns


def force_slug(name: str) -> str:
    """police.uk force id from a force name: 'Leicestershire Police' -> 'leicestershire'."""
    name = re.sub(r"\b(Police Service|Police|Constabulary)\b", "", name, flags=re.I)
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


__all__ = ["FileResult", "KINDS", "Limits", "force_slug", "ingest"]
