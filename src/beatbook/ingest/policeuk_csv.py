"""Import police.uk street, outcomes and stop-and-search CSVs into the store.

Accepts single CSVs, ``.csv.gz``, folders of them and police.uk's archive zips (one
folder per month, read as a stream: ``ingest/archives.py``, ``ingest/pipes.py``). The
kind of file is recognised by its header, never by its name.

An import goes in two steps. First every file is checked without storing anything: its
header, its name in an archive, its text scanned once (``sources.scan``: size, lines,
empty lines, sha256); a file whose bytes are already stored is ``unchanged``, an older
archive's copy of a month stored (or imported now) from a newer one is ``kept``, and a
month that would shrink is refused. Then the files are stored **whole months per
transaction** (every force and kind of a month; a national month alone, small months
together up to ``TRANSACTION_BYTES`` of text): read together by DuckDB's CSV reader
into a staging table (``ingest/staging.py``), checked there, and stored as ``(force,
month, kind)`` partitions under the rules of ``ingest/publication.py``: a file replaces
only its own month, one file per month and import, no month shrinks without ``replace``.

A bad file aborts the import with an :class:`~beatbook.errors.InputError`; the months of
its transaction are left exactly as they were, and the months stored before stay stored (an
import run again skips them as ``unchanged``), as after a ``kill -9``. Rows that are
individually invalid are kept apart in ``quarantine`` with their file, line and reason;
every line of a file is a header, a stored row, a quarantined row or an empty line, or
the file is refused.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from beatbook import aggregates
from beatbook.errors import BeatBookError
from beatbook.ingest import arrow_arrays, files
from beatbook.ingest.files import (
    MEMORY_LIMIT,
    File,
    FileResult,
    Progress,
    batches,
    duplicate,
    scan_all,
    skipped,
)
from beatbook.ingest.kinds import KINDS, FileKind, kind_for_header
from beatbook.ingest.line_numbers import record_lines
from beatbook.ingest.publication import Claim, Plan, Replacement, named, newer
from beatbook.ingest.sources import (
    Limits,
    Scan,
    Source,
    file_sha256,
    find_sources,
    read_header,
    scan,
)
from beatbook.ingest.staging import Staged, force_slug
from beatbook.store import REPEATS_SQL, Store


def ingest(
    store: Store,
    paths: Iterable[str | Path],
    *,
    force: str | None = None,
    replace: bool = False,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> list[FileResult]:
    """Import police.uk CSVs into ``store``, whole months per transaction; one result per file.

    Parameters
    ----------
    store : the open store to write to.
    paths : CSV / ``.csv.gz`` files, folders, or police.uk archive zips.
    force : police.uk force id to use when neither the file name
        (``YYYY-MM-<force>-<kind>.csv``) nor a ``Falls within`` column names it.
    replace : replace stored months even with more than ``SHRINK_TOLERANCE`` fewer rows;
        without it such an import raises :class:`~beatbook.errors.ReplaceRefusedError`
        (before anything is stored when the files' line counts show it).
    limits : bounds on each file's text (default: settings.py's).
    progress : told of each file checked, each month begun and each file's result.
    """
    with tempfile.TemporaryDirectory(prefix="beatbook-") as tmpdir:
        sources = find_sources(paths, Path(tmpdir), limits or Limits())
        archives = {id(s.archive): s.archive for s in sources if s.archive is not None}
        # DuckDB keeps the blocks it writes in its buffer pool, up to its memory limit (80%
        # of RAM by default): bounded here for the import, as it was afterwards.
        setting = "SELECT current_setting('memory_limit')"
        (previous,) = store.row(setting)
        store.execute("RESET memory_limit")
        default = store.row(setting) == (previous,)
        store.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        try:
            run = _Import(store, sources, force, Plan(replace), limits or Limits(), progress)
            return run.run()
        finally:  # RESET where it was the default: setting the value it shows drifts
            store.execute("RESET memory_limit" if default else f"SET memory_limit = '{previous}'")
            for archive in archives.values():
                archive.close()


class _Quiet:
    def scanned(self, name: str) -> None:
        pass

    def month(self, month: str | None, files: int) -> None:
        pass

    def done(self, result: FileResult) -> None:
        pass


@dataclass(frozen=True)
class _Stored:
    """A stored partition, as an import compares files with it."""

    force: str
    month: str
    kind: str
    sha: str
    rows: int
    origin: str
    publication: str | None
    file: str


class _Import:
    """One call of :func:`ingest`: which files to read, then each month's transaction."""

    def __init__(
        self,
        store: Store,
        sources: list[Source],
        force: str | None,
        plan: Plan,
        limits: Limits,
        progress: Progress | None,
    ) -> None:
        self.store, self.sources, self.force, self.plan = store, sources, force, plan
        self.limits, self.progress = limits, progress or _Quiet()
        self.unique = list(dict.fromkeys(sources))  # a file named twice is read once
        self.kinds = {s: kind_for_header(s.name, read_header(s)) for s in self.unique}
        self.scans: dict[Source, Scan] = {}
        self.claims: dict[Source, Claim] = {}
        self.results: dict[Source, FileResult] = {}
        self.renewed: list[tuple[Source, _Stored]] = []  # unchanged, from a newer publication
        self.done: list[str] = []  # months stored

    def run(self) -> list[FileResult]:
        self._scan([s for s in self.unique if s.member])  # a member's sha is its text's
        self.shas = {
            s: self.scans[s].sha256 if s.member else file_sha256(s.path) for s in self.unique
        }
        stored = self._stored()
        self.by_sha: dict[str, list[_Stored]] = {}
        for p in stored.values():
            self.by_sha.setdefault(p.sha, []).append(p)
        newest = self._newest()
        todo = [s for s in self.unique if not self._skip(s, stored, newest)]
        self._scan([s for s in todo if s.member is None])
        self.plan.check(self._foreseen(todo, stored))
        months: dict[str | None, list[Source]] = {}
        for s in sorted(self.unique, key=lambda s: named(s.name)[0] or "9999-99"):
            months.setdefault(named(s.name)[0], []).append(s)
        for together in self._transactions(months):
            self._store(together)
        results, first = [], {s: i for i, s in reversed(list(enumerate(self.sources)))}
        for i, source in enumerate(self.sources):
            result = self.results[source]
            if first[source] != i:  # named again: a duplicate of the first
                result = duplicate(source, result.kind, result.force, result.months, result.file)
            results.append(result)
        return results

    def _scan(self, sources: list[Source]) -> None:
        todo = [s for s in sources if s not in self.scans]
        self.scans.update(scan_all(todo, self.limits, self.progress.scanned))

    def _key(self, source: Source) -> tuple[str, str | None, str | None]:
        """(kind, force, month) a file is for, as far as its name and --force tell."""
        month, force = named(source.name)
        return self.kinds[source].name, self.force or force, month

    def _stored(self) -> dict[tuple[str, str, str], _Stored]:
        """Every stored partition of the kinds imported."""
        kinds = sorted({k.name for k in self.kinds.values()})
        return {
            (p.kind, p.force, p.month): p
            for p in (
                _Stored(*row)
                for row in self.store.rows(
                    "SELECT force, strftime(month, '%Y-%m'), kind, source_sha256, rows_stored, "
                    "origin, publication, source_file FROM partitions "
                    "WHERE list_contains(?, kind)",
                    [kinds],
                )
            )
        }

    def _newest(self) -> dict[tuple[str, str | None, str | None], Source]:
        """The archive member of the newest publication for each (kind, force, month)."""
        newest: dict[tuple[str, str | None, str | None], Source] = {}
        for s in self.unique:
            key = self._key(s)
            if not s.publication or None in key:
                continue
            if key not in newest or newer(s.publication, newest[key].publication):
                newest[key] = s
        return newest

    def _skip(
        self,
        source: Source,
        stored: dict[tuple[str, str, str], _Stored],
        newest: dict[tuple[str, str | None, str | None], Source],
    ) -> bool:
        """Whether a file is not to be read (its result set): unchanged, kept or duplicate."""
        kind, force, month = key = self._key(source)
        winner = newest.get(key)
        if winner is not None and newer(winner.publication, source.publication):
            assert force is not None and month is not None
            if self.shas[winner] == self.shas[source]:
                self.results[source] = duplicate(source, kind, force, [month], winner.name)
            else:
                self.results[source] = skipped(source, kind, force, [month], "kept", newer=winner)
            return True
        # The same bytes are a no-op only for the same force: a copy filed under another
        # force (by --force or its file name) is new data. Without either, trust the store.
        same = [
            p
            for p in self.by_sha.get(self.shas[source], [])
            if p.kind == kind and force in (None, p.force)
        ]
        if same:
            # The file's month is its largest partition (a store from before the publication
            # rule may hold a few stray rows of it under other months).
            p = max(same, key=lambda p: p.rows)
            result = skipped(source, kind, p.force, [p.month], "unchanged")
            earlier = self.plan.claim(kind, p.force, p.month, self._claim(source))
            if earlier is not None:
                result.status, result.duplicate_of = "duplicate", earlier.name
            elif p.origin == "archive" and newer(source.publication, p.publication):
                self.renewed.append((source, p))
            self.results[source] = result
            return True
        if force is None or month is None:
            return False
        found = stored.get((kind, force, month))
        if found and found.origin == "archive" and newer(found.publication, source.publication):
            self.results[source] = skipped(
                source,
                kind,
                force,
                [month],
                "kept",
                newer_publication=found.publication,
                newer_file=found.file,
            )
            return True
        # Named by month and force: two files for it are refused before anything is stored.
        earlier = self.plan.claim(kind, force, month, self._claim(source))
        if earlier is not None:
            self.results[source] = duplicate(source, kind, force, [month], earlier.name)
            return True
        return False

    def _claim(self, source: Source) -> Claim:
        """The file's claim on its month, whose text sha is found when needed (a plain
        file's is its bytes' sha)."""

        @functools.cache
        def content() -> str:
            if source in self.scans:
                return self.scans[source].sha256
            if not source.is_gzip() and source.member is None:
                return self.shas[source]
            return scan(source, self.limits).sha256

        return self.claims.setdefault(source, Claim(source.name, content))

    def _foreseen(
        self, todo: list[Source], stored: dict[tuple[str, str, str], _Stored]
    ) -> list[Replacement]:
        """The replacements the files will make, with the most rows each can store (its
        lines but the header and empty ones): a month that shrinks by those is refused
        before anything is stored."""
        foreseen = []
        for s in todo:
            kind, force, month = self._key(s)
            p = stored.get((kind, force, month)) if force and month else None
            if p is not None and month is not None:
                most = max(self.scans[s].lines - 1 - len(self.scans[s].empty), 0)
                foreseen.append(Replacement(kind, p.force, month, s.name, p.rows, most, p.origin))
        return foreseen

    def _transactions(
        self, months: dict[str | None, list[Source]]
    ) -> list[dict[str | None, list[Source]]]:
        """Whole months, in order, cut into transactions of at least TRANSACTION_BYTES of text
        to read (a national month is one; small months go together, as one commit costs a
        fixed 0.05 to 0.2 s)."""
        found: list[dict[str | None, list[Source]]] = [{}]
        size = 0
        for month, group in months.items():
            if size >= files.TRANSACTION_BYTES:
                found.append({})
                size = 0
            found[-1][month] = group
            size += sum(self.scans[s].text_bytes for s in group if s not in self.results)
        return found

    def _store(self, months: dict[str | None, list[Source]]) -> None:
        """Store whole months' files (every force and kind) in one transaction."""
        named_months = [m for m in months if m is not None]
        ends = dict.fromkeys([named_months[0], named_months[-1]]) if named_months else {}
        label = " to ".join(ends) or None
        group = [s for g in months.values() for s in g]
        self.progress.month(label, len(group))
        for s in group:
            if s in self.results:
                self.progress.done(self.results[s])
        reading = [s for s in group if s not in self.results]
        members = set(group)
        renew = [(s, p) for s, p in self.renewed if s in members]
        if not reading and not renew:
            self.done += named_months
            return
        try:
            with self.store.transaction() as con:
                for kind in KINDS:
                    mine = [
                        File(s, self.shas[s], self.scans[s], claim=self.claims.get(s))
                        for s in reading
                        if self.kinds[s] is kind
                    ]
                    for batch in batches(mine):
                        done = _Batch(con, kind, self.force, self.plan).run(batch)
                        for f, result in done.items():
                            self.results[f.source] = result
                            self.progress.done(result)
                for s, p in renew:  # the same bytes, now known from a newer publication
                    con.execute(
                        "UPDATE partitions SET publication = ? "
                        "WHERE force = ? AND month = ? AND kind = ?",
                        [s.publication, p.force, f"{p.month}-01", p.kind],
                    )
                head = f"{label or 'the rest'} was not imported" if self.done else None
                self.plan.check(head=head)
                aggregates.refresh(con)  # the monthly counts of the partitions just stored
        except BeatBookError as exc:
            if self.done:  # say what was stored: running the import again skips it
                stored = (
                    f"{self.done[0]} was imported before it"
                    if len(self.done) == 1
                    else f"the {len(self.done)} months {self.done[0]} to {self.done[-1]} were "
                    "imported before it"
                )
                exc.args = (
                    f"{exc} ({stored}; run the import again once this is put right: "
                    "what was imported is skipped as unchanged)",
                )
            raise
        self.done += named_months


class _Batch:
    """Files of one kind and month imported together: read once into a staging table
    (``staging.Staged``), then stored from it."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, kind: FileKind, force: str | None, plan: Plan
    ) -> None:
        self.con, self.kind, self.plan = con, kind, plan
        self.staged = Staged(con, kind, force)
        self.repeated: dict[tuple[str, str], int] = {}  # (force, month) -> repeated rows

    def run(self, files: list[File]) -> dict[File, FileResult]:
        self.staged.read(files)
        try:
            for f in files:
                if f.month is not None:
                    claim = f.claim or Claim(f.name, functools.partial(str, f.scan.sha256))
                    earlier = self.plan.claim(self.kind.name, f.force, f.month, claim)
                    f.duplicate_of = earlier.name if earlier else None
            before = self._replace([f for f in files if f.duplicate_of is None])
        finally:
            self.staged.drop()  # frees the batch's rows
        return {
            f: f.result(
                self.kind.name,
                before.get((f.force, f.month)) if f.month else None,
                self.repeated.get((f.force, f.month), 0) if f.month else 0,
            )
            for f in files
        }

    def rows(self, sql: str, params: dict[str, object] | list[object]) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def _stored(self, forces: set[str]) -> dict[tuple[str, str], tuple[int, str, str | None]]:
        """Rows, origin and publication stored per (force, month) of this kind."""
        return {
            (force, month): (int(rows), origin, publication)
            for force, month, rows, origin, publication in self.rows(
                "SELECT force, strftime(month, '%Y-%m'), rows_stored, origin, publication "
                "FROM partitions WHERE kind = ? AND list_contains(?, force)",
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
        found = self._stored({f.force for f in stored})
        before = {key: rows for key, (rows, _, _) in found.items() if key in owner}
        for (force, month), rows in before.items():
            f, (_, origin, publication) = owner[(force, month)], found[(force, month)]
            f.replaced_from = {"origin": origin, "publication": publication}
            self.plan.replaced(
                Replacement(kind.name, force, month, f.name, rows, f.rows_stored, origin)
            )
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
            self.staged.on_staged(
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
                f.source.origin,
                f.source.publication,
            )
            for f in owner.values()
        ]
        if partitions:
            con.executemany(
                "INSERT INTO partitions (force, month, kind, source_file, source_sha256, "
                "rows_stored, rows_quarantined, ingested_at, origin, publication, coverage) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, now(), ?, ?, 'force')",
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
        n = self.staged.table.num_rows
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
        self.staged.append(columns)
        return "_keep" in columns


__all__ = ["FileResult", "KINDS", "Limits", "force_slug", "ingest"]
