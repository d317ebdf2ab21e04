"""Line numbers of staged records, checked against files built line by line.

``record_lines`` is compared with counting a file's lines one by one, and
``quoting_bytes`` with the bytes Python's csv writer (minimal quoting, as
police.uk writes) actually spends, on random values and on every real file.
"""

from __future__ import annotations

import csv
import gzip
import io

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ingest_support import street_file

from beatbook.ingest.kinds import STREET
from beatbook.ingest.line_numbers import quoting_bytes, record_lines, unquoted_bytes_sql
from beatbook.ingest.sources import Source, text_size


@given(st.lists(st.booleans(), max_size=60))
def test_record_lines_count_the_skipped_lines_before_each_record(is_record: list[bool]) -> None:
    """A file is a header and then lines, each a record (True) or a skipped line (False)."""
    lines = [line for line, record in enumerate(is_record, start=2) if record]
    skipped = [line for line, record in enumerate(is_record, start=2) if not record]
    got = record_lines(np.arange(1, len(lines) + 1, dtype=np.int64), skipped)
    assert got.tolist() == lines


VALUES = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from("ab ,\"é;'"), max_size=8),
    st.text(max_size=6).filter(lambda s: "\r" not in s and "\n" not in s),
)


def _written_quoting(row: list[str | None]) -> int:
    """Bytes Python's csv writer spends on quotes for one row."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(["" if v is None else v for v in row])
    plain = sum(len((v or "").encode()) for v in row) + len(row) - 1
    return len(out.getvalue().encode()) - plain


@given(
    st.lists(st.tuples(VALUES, VALUES), max_size=40),
    st.integers(min_value=1, max_value=7),
    st.integers(min_value=0, max_value=5),
)
def test_quoting_bytes_match_what_a_csv_writer_spends(
    rows: list[tuple[str | None, str | None]], chunk: int, skip: int
) -> None:
    """Whatever the values, in however many Arrow chunks, sliced or not."""
    batches = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    columns = {
        name: pa.chunked_array(
            [pa.array([r[k] for r in b], pa.string()) for b in batches], pa.string()
        )
        for k, name in enumerate(("a", "b"))
    }
    table = pa.table(columns).slice(min(skip, len(rows)))
    expected = [_written_quoting(list(r)) for r in rows[min(skip, len(rows)) :]]
    assert quoting_bytes(table, ["a", "b"]).tolist() == expected


def test_a_null_slot_spanning_bytes_is_not_counted() -> None:
    """Arrow lets a null's slot keep bytes; they are not a value and need no quotes."""
    offsets = pa.py_buffer(np.array([0, 3, 6], dtype=np.int32).tobytes())
    data = pa.py_buffer(b'a,b"x"')
    validity = pa.py_buffer(bytes([0b01]))  # row 0 valid, row 1 null
    array = pa.Array.from_buffers(pa.string(), 2, [validity, offsets, data], null_count=1)
    assert quoting_bytes(pa.table({"v": array}), ["v"]).tolist() == [2, 0]


@pytest.mark.parametrize("month", ["2020-01", "2021-06", "2025-01", "2025-09"])
def test_real_files_add_up_to_their_size(month: str) -> None:
    """Header + values + quotes + separators + newlines is exactly the real file's size."""
    path = street_file(month)
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in STREET.header) + "}"
    table = duckdb.sql(
        f"SELECT *, {unquoted_bytes_sql(STREET.header)} AS _bytes FROM read_csv(?, "
        f"header = true, columns = {columns}, auto_detect = false)",
        params=[str(path)],
    ).to_arrow_table()
    with gzip.open(path) as fh:
        first = fh.readline()
    newline = 2 if first.endswith(b"\r\n") else 1
    total = len(first) + pc.sum(table["_bytes"]).as_py()
    total += int(quoting_bytes(table, STREET.header).sum()) + table.num_rows * newline
    assert total == text_size(Source(str(path), path))
