"""Line numbers of staged records and the scan that finds empty lines, checked against
files built line by line.

``record_lines`` is compared with counting a file's lines one by one; the streaming
scan's line count and empty lines with ``bytes.split`` over the whole text, on random
bytes fed in random chunks and on every real file.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ingest_support import street_file

from beatbook.ingest.line_numbers import record_lines, with_continuations
from beatbook.ingest.sources import Source, _LineCounter, scan


@given(st.lists(st.booleans(), max_size=60))
def test_record_lines_count_the_skipped_lines_before_each_record(is_record: list[bool]) -> None:
    """A file is a header and then lines, each a record (True) or a skipped line (False)."""
    lines = [line for line, record in enumerate(is_record, start=2) if record]
    skipped = [line for line, record in enumerate(is_record, start=2) if not record]
    got = record_lines(np.arange(1, len(lines) + 1, dtype=np.int64), skipped)
    assert got.tolist() == lines


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3)), max_size=30))
def test_continuation_lines_follow_the_record_they_belong_to(
    layout: list[tuple[bool, int]],
) -> None:
    """Records spanning 1 + n lines, and skipped lines between them: every record's line."""
    line, skipped, starts, spanning = 2, [], [], []
    for is_record, extra in layout:
        if is_record:
            starts.append(line)
            if extra:
                spanning.append((len(starts), extra))
            line += 1 + extra
        else:
            skipped.append(line)
            line += 1
    lines = with_continuations(skipped, spanning)
    got = record_lines(np.arange(1, len(starts) + 1, dtype=np.int64), lines)
    assert got.tolist() == starts
    assert len(lines) == line - 2 - len(starts)  # every other line is skipped exactly once


def _by_split(data: bytes) -> tuple[int, list[int]]:
    """(lines, empty lines) of a text, from splitting it whole."""
    parts = data.split(b"\n")
    last = parts.pop()
    empty = [n for n, text in enumerate(parts, start=1) if text in (b"", b"\r")]
    return len(parts) + (1 if last else 0), empty


@given(
    st.binary(max_size=80).map(lambda b: bytes(b"\n\ra,"[x % 4] for x in b)),
    st.lists(st.integers(1, 9), min_size=1, max_size=40),
)
def test_line_counter_matches_splitting_the_whole_text(data: bytes, cuts: list[int]) -> None:
    """However the text is cut into chunks, lines and empty lines are those of the whole."""
    counter = _LineCounter("f.csv", 10**9)
    at, i = 0, 0
    while at < len(data):
        size = cuts[i % len(cuts)]
        counter.feed(data[at : at + size])
        at, i = at + size, i + 1
    assert (counter.total(), counter.found().tolist()) == _by_split(data)


@pytest.mark.parametrize("month", ["2020-01", "2021-06", "2025-01", "2025-09"])
def test_real_files_scan(month: str) -> None:
    """A real file: its text's size and lines, no empty line, the sha256 of its text."""
    import hashlib

    path = street_file(month)
    text = gzip.decompress(path.read_bytes())
    found = scan(Source(str(path), path))
    assert (found.text_bytes, found.lines) == (len(text), text.count(b"\n"))
    assert found.empty.tolist() == []
    assert found.sha256 == hashlib.sha256(text).hexdigest()
