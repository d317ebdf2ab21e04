"""Which line of its file each staged record came from.

DuckDB's CSV reader does not report line numbers, and it skips empty lines
without counting them. A record's line follows from its place in the file
once the lines DuckDB skipped (rejected or empty) are known. Rejected lines
come from DuckDB's rejects table; empty lines would need the file
decompressed again, so first the text is summed up from the records: if the
header, the records and the rejected lines make up every byte of the file,
no line can be empty and the search is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

from beatbook.ingest.sources import Source, ends_with_newline, first_line, text_size

_COMMA, _QUOTE = ord(","), ord('"')


def record_lines(records: np.ndarray, skipped: Sequence[int]) -> np.ndarray:
    """File lines of records numbered from 1, after the header and the ``skipped`` lines.

    The ``j``-th skipped line ``L`` (sorted, from 1) comes before record ``r`` when
    ``L - j <= r``: each skipped line pushes every later record down by one.
    """
    pushed = np.asarray(skipped, dtype=np.int64) - np.arange(1, len(skipped) + 1)
    return records + 1 + np.searchsorted(pushed, records, side="right")


def unquoted_bytes_sql(header: tuple[str, ...]) -> str:
    """SQL for the bytes a record's values and commas take, newline and quotes excluded."""
    return " + ".join(f'coalesce(strlen("{c}"), 0)' for c in header) + f" + {len(header) - 1}"


def quoting_bytes(table: pa.Table, columns: Iterable[str]) -> np.ndarray:
    """Bytes each row of ``table`` spends on quotes in its file, if quoted only where needed.

    A value holding ',' or '"' is written between quotes with each '"' doubled: 2 bytes
    plus one per '"'. Quoting can only be needed where a value holds one of those two
    bytes, and they are rare, so the columns' bytes are scanned with numpy and only the
    values holding one are counted (cheaper than testing every value in SQL). Trimming
    a value's spaces does not change the count.
    """
    extra = np.zeros(table.num_rows, dtype=np.int64)
    for name in columns:
        start = 0
        for chunk in table[name].chunks:
            if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
                chunk = chunk.cast(pa.large_string())
            extra[start : start + len(chunk)] += _chunk_quoting(chunk)
            start += len(chunk)
    return extra


def _chunk_quoting(chunk: pa.Array) -> np.ndarray:
    """``quoting_bytes`` of one Arrow string array, read from its offsets and data buffers."""
    extra = np.zeros(len(chunk), dtype=np.int64)
    validity, offsets_buffer, data_buffer = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    if not len(chunk) or data_buffer is None or offsets[-1] == offsets[0]:
        return extra
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    hits = np.flatnonzero((data == _COMMA) | (data == _QUOTE))
    rows = np.searchsorted(offsets, hits + offsets[0], side="right") - 1
    if chunk.null_count:  # a null's slot may still span bytes
        bits = np.frombuffer(validity, dtype=np.uint8)
        at = rows + chunk.offset
        valid = ((bits[at >> 3] >> (at & 7)) & 1).astype(bool)
        hits, rows = hits[valid], rows[valid]
    np.add.at(extra, np.unique(rows), 2)
    np.add.at(extra, rows[data[hits] == _QUOTE], 1)
    return extra


def accounts_for_every_byte(
    source: Source, records: int, record_bytes: int, rejected: Iterable[str]
) -> bool:
    """Whether the header, records and rejected lines make up the whole text, so no line is empty.

    ``record_bytes`` is the records' bytes without newlines, from the values before
    trimming. Each part is counted at most at its true size (needless quotes only make
    it smaller), so if the sum equals the file's size, no byte is left over for an empty
    line; otherwise the caller searches the file line by line. One case fools the sum: a
    gzip file whose last line has no newline and which has exactly one empty line (or
    lines ending unlike its header offset by empty lines); the records after that empty
    line are then numbered one line early. A plain file's last byte is checked, so it is
    not fooled that way.
    """
    header = first_line(source)
    newline = 2 if header.endswith(b"\r\n") else 1
    total = len(header) + record_bytes + records * newline
    total += sum(len(text.encode()) + newline for text in rejected)
    if ends_with_newline(source) is False:
        total -= newline
    return total % 2**32 == text_size(source)
