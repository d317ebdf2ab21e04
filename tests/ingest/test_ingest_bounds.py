"""Crafted files cannot exhaust memory or disk, and no row is dropped silently (issue 17,
item 3): decompressed size and ratio are bounded for gzip and zip, zip members are
streamed (never extracted), a zip inside a zip is refused, and every line of a file is
its header, a stored row, a quarantined row or an empty line, or the file is refused.

Limits are passed small where a default-size input would take gigabytes; memory is
measured with tracemalloc (numpy's and Python's allocations) around the import.
"""

from __future__ import annotations

import gzip
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from ingest_support import (
    FORCE,
    csv_records,
    fingerprint,
    head_lines,
    join_lines,
    raw_bytes,
    split_lines,
    street_file,
    write,
)

from beatbook.errors import BeatBookError, CSVFormatError, InputError
from beatbook.ingest.policeuk_csv import ingest
from beatbook.ingest.sources import Limits, find_sources
from beatbook.store import Store
from support.archives import write_zip

MiB = 1 << 20


def peak_mib(run: Callable[[], object]) -> float:
    """Peak traced memory while ``run`` runs, in MiB."""
    tracemalloc.start()
    try:
        run()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / MiB


def refused(store: Store, paths: list[Path], error: type[BeatBookError] = InputError, **kw):
    """Import ``paths``, expect ``error``; the store is unchanged. Returns (error, peak MiB)."""
    before = fingerprint(store)
    caught: list[BeatBookError] = []

    def run() -> None:
        with pytest.raises(error) as info:
            ingest(store, paths, **kw)
        caught.append(info.value)

    peak = peak_mib(run)
    assert fingerprint(store) == before
    assert "\n" not in str(caught[0])
    return caught[0], peak


def flood(blank: int, eol: bytes = b"\r\n") -> bytes:
    """A real header and row, ``blank`` empty lines, then two more real rows."""
    lines, _ = head_lines(street_file("2020-01"), 3)
    return join_lines(lines[:2], eol) + eol * blank + join_lines(lines[2:], eol)


# --- empty lines ---------------------------------------------------------------------------


def test_a_gzip_of_blank_lines_is_refused_in_bounded_memory(tmp_path: Path, store: Store) -> None:
    """The issue's 31 KB gzip of ~32 million blank lines reached 3.3 GB; now it is refused
    after reading one chunk, naming the file and the limit."""
    path = write(tmp_path / "2020-01-leicestershire-street.csv.gz", flood(32_000_000, b"\n"))
    assert path.stat().st_size < 40_000
    ingest(store, [street_file("2020-02")])
    err, peak = refused(store, [path])
    assert str(path) in str(err) and "more than 10,000 empty lines (the first at line 3)" in str(
        err
    )
    assert peak < 64, peak


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_rows_after_empty_lines_are_stored_on_their_lines(
    tmp_path: Path, store: Store, gz: bool
) -> None:
    """Up to the limit, empty lines are skipped and counted; the rows after them are stored
    with their true lines."""
    data = flood(5_000)
    name = "2020-01-leicestershire-street.csv" + (".gz" if gz else "")
    [result] = ingest(store, [write(tmp_path / name, data)])
    assert (result.rows_stored, result.empty_lines) == (3, 5_000)
    assert (
        store.rows("SELECT source_line FROM street_crimes ORDER BY 1")
        == [(line,) for line, _ in csv_records(data)]
        == [(2,), (5_003,), (5_004,)]
    )


def test_a_long_run_of_empty_lines_loses_no_row_even_past_the_limit(
    tmp_path: Path, store: Store
) -> None:
    """With the limit raised, 2.5 million empty lines (past DuckDB's 2 MB line limit): the
    row after them is stored or quarantined, or the file refused; never dropped."""
    data = flood(2_500_000, b"\n")
    path = write(tmp_path / "2020-01-leicestershire-street.csv", data)
    try:
        [result] = ingest(store, [path], limits=Limits(max_empty_lines=3_000_000))
    except CSVFormatError as exc:  # DuckDB 2.0 rejects the row after them: its text is cut
        assert "too long to read as a row" in str(exc) or "lines were not read" in str(exc)
        return
    assert result.rows_stored + result.rows_quarantined == 3
    assert result.empty_lines == 2_500_000


# --- gzip ----------------------------------------------------------------------------------


def test_a_gzip_bomb_is_refused_naming_the_file_and_the_limit(tmp_path: Path, store: Store) -> None:
    """One real row repeated 100,000 times (~25 MB from ~90 KB): over 100 times its size."""
    lines, eol = head_lines(street_file("2020-01"), 1)
    data = join_lines([lines[0]] + [lines[1]] * 100_000, eol)
    path = write(tmp_path / "2020-01-leicestershire-street.csv.gz", data)
    assert len(data) > 100 * path.stat().st_size
    err, peak = refused(store, [path])
    assert str(path) in str(err) and "over the limit of 100 times its compressed size" in str(err)
    assert peak < 64, peak


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, store: Store) -> None:
    data = raw_bytes(street_file("2020-01"))
    path = write(tmp_path / "2020-01-leicestershire-street.csv", data)
    err, _ = refused(store, [path], limits=Limits(max_file_bytes=MiB))
    assert str(path) in str(err) and "over the 1.0 MiB limit on one file" in str(err)


# --- zip -----------------------------------------------------------------------------------


def _bomb(path: Path, size: int) -> Path:
    """A zip whose one member is ``size`` bytes of one real row repeated."""
    lines, eol = head_lines(street_file("2020-01"), 1)
    row = lines[1] + eol
    data = lines[0] + eol + row * (size // len(row))
    return write_zip(path, {f"2020-01/2020-01-{FORCE}-street.csv": data})


def test_a_zip_bomb_is_refused_before_anything_is_read(tmp_path: Path, store: Store) -> None:
    archive = _bomb(tmp_path / "bomb.zip", 40 * MiB)
    assert archive.stat().st_size < 400_000
    err, peak = refused(store, [archive])
    member = f"{archive}!2020-01/2020-01-{FORCE}-street.csv"
    assert member in str(err) and "over the limit of 100 times its compressed size" in str(err)
    assert peak < 16, peak


def test_a_zip_declaring_gigabytes_is_refused_at_once(tmp_path: Path, store: Store) -> None:
    """The issue's 9.4 MB zip bomb extracted 2 GB to temp; its declared size refuses it now.
    (Declared here by editing a small zip's directory: zipfile never reads past it.)"""
    archive = _bomb(tmp_path / "bomb.zip", MiB)
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.infolist()[0]
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 2_000_000_000)  # uncompressed size
    struct.pack_into("<I", data, info.header_offset + 22, 2_000_000_000)
    lying = write(tmp_path / "lying.zip", bytes(data), gz=False)
    err, peak = refused(store, [lying])
    assert "decompresses to 1,907.3 MiB" in str(err) and "512.0 MiB limit" in str(err)
    assert peak < 16, peak


def test_a_member_longer_than_declared_is_refused(tmp_path: Path, store: Store) -> None:
    """Declared smaller than it is: zipfile stops at the declared size and fails its CRC."""
    archive = write_zip(
        tmp_path / "a.zip",
        {f"2020-01/2020-01-{FORCE}-street.csv": raw_bytes(street_file("2020-01"))},
    )
    data = bytearray(archive.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)
    short = write(tmp_path / "short.zip", bytes(data), gz=False)
    err, _ = refused(store, [short], CSVFormatError)
    assert str(short) in str(err)


def test_a_zip_inside_a_zip_is_refused(tmp_path: Path, store: Store) -> None:
    inner = write_zip(
        tmp_path / "inner.zip",
        {f"2020-01/2020-01-{FORCE}-street.csv": raw_bytes(street_file("2020-01"))},
    )
    outer = write_zip(
        tmp_path / "outer.zip",
        {
            f"2020-02/2020-02-{FORCE}-street.csv": raw_bytes(street_file("2020-02")),
            "more/inner.zip": inner.read_bytes(),
        },
    )
    err, _ = refused(store, [outer])
    assert f"{outer}!more/inner.zip: a zip inside a zip is not read" in str(err)


def test_zip_members_are_streamed_not_extracted(tmp_path: Path, store: Store) -> None:
    """Members are named in the archive and read from it: nothing is written to disk."""
    months = ("2020-01", "2025-01")
    archive = write_zip(
        tmp_path / "archive.zip",
        {f"{m}/{m}-{FORCE}-street.csv": raw_bytes(street_file(m)) for m in months},
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    sources = find_sources([archive], scratch)
    assert [(s.path, s.member) for s in sources] == [
        (archive, f"{m}/{m}-{FORCE}-street.csv") for m in months
    ]
    assert list(scratch.iterdir()) == []
    results = ingest(store, [archive])
    assert [r.rows_stored for r in results] == [
        len(csv_records(raw_bytes(street_file(m)))) for m in months
    ]


def test_a_gzip_member_of_a_zip_is_bounded_too(tmp_path: Path, store: Store) -> None:
    """A .csv.gz inside a zip: the text is bounded against the bytes in the archive."""
    lines, eol = head_lines(street_file("2020-01"), 1)
    data = join_lines([lines[0]] + [lines[1]] * 100_000, eol)
    archive = write_zip(
        tmp_path / "a.zip",
        {f"2020-01/2020-01-{FORCE}-street.csv.gz": gzip.compress(data, mtime=0)},
    )
    err, _ = refused(store, [archive])
    assert "over the limit of 100 times" in str(err)
    fine = write_zip(
        tmp_path / "b.zip",
        {f"2020-01/2020-01-{FORCE}-street.csv.gz": street_file("2020-01").read_bytes()},
    )
    [result] = ingest(store, [fine])
    assert result.rows_stored == len(csv_records(raw_bytes(street_file("2020-01"))))


# --- every line accounted for --------------------------------------------------------------


def test_every_line_is_stored_quarantined_or_skipped(tmp_path: Path, store: Store) -> None:
    """Empty lines, an unsplittable line, an invalid row and a stray row among real rows:
    the stored, quarantined and empty lines are every line after the header."""
    lines, eol = split_lines(raw_bytes(street_file("2025-01")))
    lines = lines[:301]
    lines.insert(50, b"")
    lines.insert(120, b"")
    lines[200] = b",".join(lines[200].split(b",")[:5])  # too few fields
    lines[250] = lines[250].replace(b",2025-01,", b",2024-12,")  # another month
    data = join_lines(lines, eol)
    [result] = ingest(store, [write(tmp_path / "2025-01-leicestershire-street.csv", data)])
    stored = store.rows("SELECT source_line FROM street_crimes")
    quarantined = store.rows("SELECT source_line FROM quarantine")
    lines_seen = sorted(line for (line,) in stored + quarantined)
    assert lines_seen == [n for n in range(2, len(lines) + 1) if n not in (51, 121)]
    assert (result.rows_stored, result.rows_quarantined, result.empty_lines) == (298, 2, 2)
    assert result.stray_rows == {"2024-12": 1}


def test_a_quoted_value_spanning_lines_keeps_later_lines(tmp_path: Path, store: Store) -> None:
    """A quoted value holding a newline (and an empty line) is one row; the rows after it
    keep their true lines, in each of two such files read together."""
    paths, expected = [], {}
    for month, at, breaks in (("2025-01", 10, 2), ("2020-01", 25, 1)):
        lines, eol = head_lines(street_file(month), 40)
        lines[at] = lines[at].replace(b",On or near ", b',"On or near' + eol * breaks + b" ")
        lines[at] = lines[at].replace(b",E0", b'",E0', 1)
        data = join_lines(lines, eol)
        ends = [line for line, _ in csv_records(data)]  # csv's line_num: a record's last line
        assert len(ends) == 40
        paths.append(write(tmp_path / f"{month}-leicestershire-street.csv", data))
        expected[str(paths[-1])] = [2] + [end + 1 for end in ends[:-1]]
    assert expected[str(paths[0])][9:12] == [11, 14, 15]
    results = ingest(store, paths)
    assert [r.rows_stored for r in results] == [40, 40]
    for path in paths:
        got = store.rows(
            "SELECT source_line FROM street_crimes WHERE source_file = ? ORDER BY 1", [str(path)]
        )
        assert [line for (line,) in got] == expected[str(path)]
