"""A batch of police.uk files of one kind read once into an Arrow staging table, and checked.

DuckDB reads every file of the batch in one parallel scan (all columns as text) into an
Arrow table (:class:`Staged`). Records keep their order there, so a record's place in its
file, and so its line, follows from its row number ``_rid``. Here each file's records are
tallied per month, every line of it is accounted for, the lines DuckDB could not split are
found, and its force and publication month are settled; ``policeuk_csv`` then stores the
batch from the same table, never reading the files again. No stored table is touched here.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from beatbook.errors import CSVFormatError, InputError
from beatbook.ingest import arrow_arrays
from beatbook.ingest.files import File
from beatbook.ingest.kinds import FileKind, clean_sql
from beatbook.ingest.line_numbers import (
    merged,
    unaccounted,
    unaccounted_message,
    with_continuations,
)
from beatbook.ingest.pipes import Pipes
from beatbook.ingest.publication import named, publication_month, stray_reason
from beatbook.store import Params

SCRATCH = ("_bad", "rejects_errors", "rejects_scans")


class Staged:
    """The files of one batch, read and checked: ``table`` holds their records."""

    table: pa.Table

    def __init__(self, con: duckdb.DuckDBPyConnection, kind: FileKind, force: str | None) -> None:
        self.con, self.kind, self.force = con, kind, force

    def read(self, files: list[File]) -> None:
        """Stage the files; tally, check and settle each (its months, force and month).

        A file DuckDB cannot read aborts the transaction: nothing is left to drop then.
        """
        self._stage(files)
        try:
            self._read_rejects(files)
            self._tally(files)
            for f in files:
                f.force = self._force_for(f)
        except BaseException:
            self.drop()
            raise

    def drop(self) -> None:
        """Free the batch's rows and DuckDB's scratch tables."""
        self.__dict__.pop("table", None)
        self.con.execute("; ".join(f"DROP TABLE IF EXISTS {t}" for t in SCRATCH))

    def append(self, columns: dict[str, pa.Array]) -> None:
        for name, column in columns.items():
            self.table = self.table.append_column(name, column)

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
                self.table = table.append_column("_rid", rid)
                return
        raise self._unreadable(files, unreadable) from unreadable

    def on_staged(self, sql: str, params: Params = None) -> duckdb.DuckDBPyConnection:
        """Run SQL reading ``_staged``, which DuckDB finds as a local variable of this frame.

        Not ``con.register``: a view registered in a transaction keeps its Arrow table
        alive until the commit, so a many-batch import would hold every batch.
        """
        _staged = self.table  # noqa: F841 - read by DuckDB's replacement scan
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
        for path, ok, month, count, first, n_bad in self.on_staged(
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
        self.on_staged(
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
            spanning = self.on_staged(
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
        (value,) = self.on_staged(
            f'SELECT "{self.kind.month_column}" FROM _staged WHERE _rid = ?', [rid]
        ).fetchone() or (None,)
        return "" if value is None else str(value)

    def _force_for(self, f: File) -> str:
        """The police.uk force id: --force, else the file name, else the 'Falls within' column."""
        given = self.force or named(f.name)[1]
        if given:
            return given
        if "Falls within" in self.kind.header:
            names = self.on_staged(
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


def force_slug(name: str) -> str:
    """police.uk force id from a force name: 'Leicestershire Police' -> 'leicestershire'."""
    name = re.sub(r"\b(Police Service|Police|Constabulary)\b", "", name, flags=re.I)
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
