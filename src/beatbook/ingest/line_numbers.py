"""Which line of its file each staged record came from, and that every line is accounted for.

DuckDB's CSV reader does not report line numbers, and it skips empty lines without
counting them. A record's line follows from its place in the file once the lines that
hold no record of their own are known: lines DuckDB rejected (its rejects table), empty
lines (found by the streaming scan of the file's text, ``sources.scan``) and the further
lines of a record whose quoted value holds a newline. The header, the records and those
lines must then make up every line of the file; if they do not, DuckDB lost (or split)
rows, and the file is refused rather than stored short (:func:`unaccounted`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def record_lines(records: np.ndarray, skipped: Sequence[int] | np.ndarray) -> np.ndarray:
    """File lines of records numbered from 1, after the header and the ``skipped`` lines.

    The ``j``-th skipped line ``L`` (sorted, from 1) comes before record ``r`` when
    ``L - j <= r``: each skipped line pushes every later record down by one.
    """
    pushed = np.asarray(skipped, dtype=np.int64) - np.arange(1, len(skipped) + 1)
    return records + 1 + np.searchsorted(pushed, records, side="right")


def with_continuations(
    skipped: Sequence[int] | np.ndarray, spanning: Iterable[tuple[int, int]]
) -> np.ndarray:
    """``skipped`` plus the lines records spill onto: ``spanning`` holds (record, newlines in
    its values) in record order. An empty line inside a quoted value is counted once."""
    lines = np.asarray(skipped, dtype=np.int64)
    for record, newlines in spanning:
        first = int(record_lines(np.array([record]), lines)[0])
        lines = merged(lines, np.arange(first + 1, first + newlines + 1, dtype=np.int64))
    return lines


def merged(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray) -> np.ndarray:
    """The line numbers in ``a`` or ``b``, each once, ascending (a sort: no hashing)."""
    both = np.sort(np.concatenate([np.asarray(a, np.int64), np.asarray(b, np.int64)]))
    return both[np.concatenate(([True], both[1:] != both[:-1]))] if both.size else both


def unaccounted(lines: int, records: int, skipped: Sequence[int] | np.ndarray) -> int:
    """Lines of a file that are neither its header, a record nor a known skipped line."""
    return lines - 1 - records - len(skipped)


def unaccounted_message(lines: int, missing: int, records: int, rejected: int, empty: int) -> str:
    """Why a file with ``missing`` lines unaccounted for is refused (a CSVFormatError's problem)."""
    what = "were not read" if missing > 0 else "were read twice"
    return (
        f"{abs(missing):,} of its {lines:,} lines {what} (read: the header, {records:,} rows, "
        f"{rejected:,} lines that could not be split into fields, {empty:,} empty lines; a "
        "quote left open joins lines): refused rather than stored with rows lost"
    )
