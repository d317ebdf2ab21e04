"""The files of a police.uk import: scanned, cut into batches, and what each did.

``policeuk_csv`` reads and stores; this module holds what it knows about each file
(:class:`File`), the bounded scan of every file before any is read by DuckDB
(:func:`scan_all`), the batches the files are read in (:func:`batches`), and the result
reported for each (:class:`FileResult`, the rows of ``beatbook ingest``'s table and JSON).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from beatbook.ingest.line_numbers import record_lines
from beatbook.ingest.publication import Claim
from beatbook.ingest.sources import Limits, Scan, Source, scan

# Text staged at once: bounds memory, so a 10-million-row import needs no more than a
# one-month one. Files per batch: each zip member read holds a pipe (two file handles).
BATCH_BYTES = 128 << 20
BATCH_FILES = 128
# Text stored per transaction, in whole months: a month of the whole country is one
# transaction, a few small months (one force's) go together.
TRANSACTION_BYTES = 128 << 20
# DuckDB's memory during an import: it keeps the blocks it writes in its buffer pool up to
# this, then lets them go, so a national archive needs no more memory than a few months.
# With one batch staged in Arrow beside it, an import's peak stays under 2 GiB.
MEMORY_LIMIT = "1GB"


class Progress(Protocol):
    """What an import tells a progress bar as it goes."""

    def scanned(self, name: str) -> None:
        """A file's text was checked (before anything is stored)."""

    def month(self, month: str | None, files: int) -> None:
        """A transaction of ``files`` files starts: of ``month`` ('2025-09', or '2020-01 to
        2020-12' for small months stored together; None: files not named by month)."""

    def done(self, result: FileResult) -> None:
        """A file of the month was stored, or found unchanged, kept or a duplicate."""


@dataclass
class FileResult:
    """What one imported file did to the store (one line of the summary table)."""

    file: str
    kind: str
    force: str
    months: list[str]  # the month the file is the publication of (none for a file without rows)
    rows_stored: int
    rows_quarantined: int
    rows_repeated: int = 0  # rows repeating a Crime ID already in the month: kept, not counted
    # 'stored' | 'unchanged' (bytes already stored) | 'duplicate' | 'kept' (a newer
    # publication of the month is stored or in this import)
    status: str = "stored"
    replaced: list[str] = field(default_factory=list)  # months that were stored before
    replacements: list[dict[str, object]] = field(default_factory=list)  # rows before, after
    stray_rows: dict[str, int] = field(default_factory=dict)  # rows of other months: quarantined
    empty_lines: int = 0  # empty lines skipped (no rows)
    duplicate_of: str | None = None  # the file of this import with the same text
    replaced_from: dict[str, str | None] | None = None  # the replaced month's origin, publication
    origin: str = "file"  # 'file' | 'archive'
    publication: str | None = None  # an archive's latest month
    newer_publication: str | None = None  # 'kept': the publication kept instead ...
    newer_file: str | None = None  # ... and its file

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
            "replacements": self.replacements,
            "stray_rows": self.stray_rows,
            "empty_lines": self.empty_lines,
            "duplicate_of": self.duplicate_of,
            "replaced_from": self.replaced_from,
            "origin": self.origin,
            "publication": self.publication,
            "newer_publication": self.newer_publication,
            "newer_file": self.newer_file,
        }

    def status_text(self) -> str:
        """The status column of the results table (``beatbook ingest``, the desk's import):
        'stored, replaced 1,204 -> 1,190 rows', 'duplicate of FILE', 'kept the 2025-06
        publication (this is 2025-03's)'."""
        status = self.status
        for change in self.replacements:
            api = (self.replaced_from or {}).get("origin") == "api"
            what = "replaced the API fetch of" if api else "replaced"
            status += f", {what} {change['rows_before']:,} -> {change['rows_after']:,} rows"
        if self.duplicate_of:
            status += f" of {Path(self.duplicate_of).name}"
        if self.status == "kept":
            status += f" the {self.newer_publication} publication (this is {self.publication}'s)"
        return status


def result_notes(results: Iterable[FileResult]) -> list[str]:
    """What the results table does not show: rows of other months in a file, empty lines
    skipped, rows repeating a Crime ID (one line each, after the table)."""
    results = list(results)
    notes = []
    for r in results:
        if r.stray_rows:
            strays = ", ".join(f"{m}: {n:,}" for m, n in sorted(r.stray_rows.items()))
            notes.append(
                f"{Path(r.file).name}: {sum(r.stray_rows.values()):,} rows of other months "
                f"({strays}) quarantined, not stored: a file replaces only its own month"
            )
        if r.empty_lines:
            notes.append(f"{Path(r.file).name}: {r.empty_lines:,} empty lines skipped")
    repeated = sum(r.rows_repeated for r in results)
    if repeated:
        notes.append(
            f"{repeated:,} stored rows repeat a Crime ID already in their month: kept, and "
            "counted once (docs/statistics.md, counting rules)"
        )
    return notes


@dataclass(eq=False)  # compared and hashed by identity
class File:
    """One file to import and what reading it found."""

    source: Source
    sha: str  # recorded in ``partitions``: of the file's bytes (of a zip member's text)
    scan: Scan
    path: str = ""  # what DuckDB reads: the file, or a pipe for a zip member
    skipped: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # not records
    months: dict[str, int] = field(default_factory=dict)  # records per 'YYYY-MM'
    month: str | None = None  # the month the file is the publication of
    first_rid: int = 0  # staging ``_rid`` of the file's first record
    force: str = ""
    invalid: list[tuple[str, int, str, str]] = field(default_factory=list)  # month, row, why, raw
    unparsed: list[tuple[int, str, str]] = field(default_factory=list)  # line, message, raw
    duplicate_of: str | None = None  # an earlier file of the import with the same text
    claim: Claim | None = None  # taken before the import began (a file named by its month)
    replaced_from: dict[str, str | None] | None = None  # origin, publication it replaces

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def records(self) -> int:
        return sum(self.months.values())

    @property
    def rows_stored(self) -> int:
        return self.records - len(self.invalid)

    def line(self, row: int) -> int:
        """File line of record ``row`` (1-based), counting the header and skipped lines."""
        return int(record_lines(np.array([row]), self.skipped)[0])

    def result(self, kind: str, before: int | None, repeated: int) -> FileResult:
        """What the file did: ``before`` is the rows its month held (None: a new month)."""
        months = [self.month] if self.month else []
        if self.duplicate_of:
            return duplicate(self.source, kind, self.force, months, self.duplicate_of)
        return FileResult(
            file=self.name,
            kind=kind,
            force=self.force,
            months=months,
            rows_stored=self.rows_stored,
            rows_quarantined=len(self.invalid) + len(self.unparsed),
            rows_repeated=repeated,
            replaced=months if before is not None else [],
            replacements=(
                [{"month": self.month, "rows_before": before, "rows_after": self.rows_stored}]
                if before is not None
                else []
            ),
            stray_rows={m: n for m, n in self.months.items() if m != self.month},
            empty_lines=len(self.scan.empty),
            replaced_from=self.replaced_from if before is not None else None,
            origin=self.source.origin,
            publication=self.source.publication,
        )


def skipped(
    source: Source,
    kind: str,
    force: str,
    months: list[str],
    status: str,
    *,
    duplicate_of: str | None = None,
    newer: Source | None = None,
    newer_publication: str | None = None,
    newer_file: str | None = None,
) -> FileResult:
    """The result of a file not read: 'unchanged', 'duplicate' or 'kept' (for a copy
    older than the ``newer`` file of this import, or than the stored partition)."""
    if newer is not None:
        newer_publication, newer_file = newer.publication, newer.name
    return FileResult(
        source.name,
        kind,
        force,
        months,
        0,
        0,
        status=status,
        duplicate_of=duplicate_of,
        origin=source.origin,
        publication=source.publication,
        newer_publication=newer_publication,
        newer_file=newer_file,
    )


def duplicate(source: Source, kind: str, force: str, months: list[str], of: str) -> FileResult:
    """The result of a file skipped because an earlier one of the import has the same text."""
    return skipped(source, kind, force, months, "duplicate", duplicate_of=of)


def scan_all(
    sources: list[Source], limits: Limits, on_file: Callable[[str], None]
) -> dict[Source, Scan]:
    """Scan each file's text once, in order, a few at a time (zlib and sha256 let go of the
    GIL); the first file refused stops the rest."""
    todo = list(dict.fromkeys(sources))
    if not todo:
        return {}
    scans: dict[Source, Scan] = {}
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        futures: list[Future[Scan]] = [pool.submit(scan, s, limits) for s in todo]
        try:
            for source, future in zip(todo, futures, strict=True):
                scans[source] = future.result()
                on_file(source.name)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return scans


def batches(files: list[File]) -> Iterator[list[File]]:
    """Files cut into batches of at most BATCH_BYTES of text and BATCH_FILES files."""
    batch: list[File] = []
    size = 0
    for f in files:
        if batch and (size + f.scan.text_bytes > BATCH_BYTES or len(batch) >= BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f.scan.text_bytes
    if batch:
        yield batch
