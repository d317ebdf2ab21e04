"""Property: whatever damage a real file suffers, the importer either imports it with
every row accounted for, or refuses it with a BeatBookError and leaves the store as it was.

Inputs are the first 150 lines of real files (CRLF street, LF street, stop and
search) with random damage: cut at a byte, bytes overwritten, garbage or real lines
inserted, lines deleted or repeated, commas doubled or dropped, quotes added,
random Month/Date values, and optionally gzip (whole or cut short).
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ingest_support import (
    STOP_AND_SEARCH,
    fingerprint,
    fingerprint_store,
    head_lines,
    join_lines,
    partition_consistency,
    street_file,
    write,
)

from beatbook.errors import BeatBookError
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store

BASES = {
    # name: (file name the damaged copy gets, header + 150 real lines, line ending)
    "street-crlf": ("2020-01-leicestershire-street.csv", *head_lines(street_file("2020-01"), 150)),
    "street-lf": ("2025-01-leicestershire-street.csv", *head_lines(street_file("2025-01"), 150)),
    "stop-and-search": (
        "2023-06-leicestershire-stop-and-search.csv",
        *head_lines(STOP_AND_SEARCH, 150),
    ),
}
MONTHS = [
    "2020-01",
    "2020-02",
    "2019-12",
    "2020-13",
    "2020-1",
    "Jan 2020",
    "",
    " 2020-01 ",
    "2020-01-15",
    "0000-00",
    "9999-12",
    "2020-01T00:00:00+00:00",
]
GARBAGE = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda s: s.encode("utf-8")),
    st.sampled_from(
        [
            b"",
            b" ",
            b",,,,,,,,,,,",
            b",,,,,,,,,,,,,,",
            b'"',
            b'""',
            b"\x00",
            b"\xef\xbb\xbf",
            b"\r",
            b"\t,\t",
        ]
    ),
)

operation = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("overwrite"), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("insert-line"), st.integers(0, 160), GARBAGE),
    st.tuples(st.just("delete-line"), st.integers(0, 160)),
    st.tuples(st.just("repeat-line"), st.integers(0, 160), st.integers(0, 160)),
    st.tuples(st.just("double-comma"), st.integers(0, 160), st.integers(0, 20)),
    st.tuples(st.just("drop-comma"), st.integers(0, 160), st.integers(0, 20)),
    st.tuples(st.just("quote"), st.integers(0, 160), st.integers(0, 20)),
    st.tuples(
        st.just("month"),
        st.integers(1, 160),
        st.one_of(st.sampled_from(MONTHS), st.text(max_size=12)),
    ),
)


def damage(lines: list[bytes], eol: bytes, ops: list[tuple], kind: str) -> bytes:
    lines = list(lines)
    data: bytes | None = None
    for op in ops:
        if data is not None:  # byte-level damage already applied: keep working on bytes
            lines, eol = data.split(eol), eol
            data = None
        name, *args = op
        n = len(lines)
        if name in ("cut", "overwrite"):
            blob = join_lines(lines, eol)
            at = int(args[0] * len(blob))
            data = blob[:at] if name == "cut" else blob[:at] + args[1] + blob[at + len(args[1]) :]
        elif n == 0:
            continue
        elif name == "insert-line":
            lines.insert(args[0] % (n + 1), args[1])
        elif name == "delete-line":
            del lines[args[0] % n]
        elif name == "repeat-line":
            lines.insert(args[1] % (n + 1), lines[args[0] % n])
        elif name in ("double-comma", "drop-comma", "quote"):
            i = args[0] % n
            parts = lines[i].split(b",")
            j = args[1] % len(parts)
            if name == "double-comma":
                parts.insert(j, b"")
            elif name == "drop-comma" and len(parts) > 1:
                parts[j : j + 2] = [parts[j] + parts[j + 1] if j + 1 < len(parts) else parts[j]]
            elif name == "quote":
                parts[j] = b'"' + parts[j]
            lines[i] = b",".join(parts)
        elif name == "month":
            i = args[0] % n
            parts = lines[i].split(b",")
            if len(parts) > 1:
                value = args[1]
                if kind == "stop-and-search":  # the Date column: same month damage, kept ISO
                    value = f"{value}-01T10:00:00+00:00" if value else ""
                parts[1] = value.encode("utf-8")
                lines[i] = b",".join(parts)
    return data if data is not None else join_lines(lines, eol)


def plain_lines(data: bytes) -> list[bytes] | None:
    """The file's lines when the row count is determinable by eye (UTF-8, no quotes, no lone
    CR, no NUL, no BOM): then every non-empty line after the header is exactly one record."""
    if b'"' in data or b"\x00" in data or b"\r" in data.replace(b"\r\n", b""):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\ufeff" in text or any(c in text for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        return None
    return [line.rstrip("\r").encode() for line in text.split("\n")]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A store already holding real data (part of 2020-02), to check it survives."""
    folder = tmp_path_factory.mktemp("prop")
    lines, eol = head_lines(street_file("2020-02"), 60)
    path = folder / "store.duckdb"
    with Store(path) as s:
        ingest(s, [write(folder / "2020-02-leicestershire-street.csv", join_lines(lines, eol))])
    return path, fingerprint_store(path)


# BEATBOOK_PROPERTY_EXAMPLES=2000 for a long hunt; 40 keeps the suite fast.
EXAMPLES = int(os.environ.get("BEATBOOK_PROPERTY_EXAMPLES", "40"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=st.sampled_from(sorted(BASES)),
    ops=st.lists(operation, min_size=1, max_size=4),
    compress=st.sampled_from(["none", "gzip", "gzip-cut"]),
    cut=st.floats(0.05, 0.95),
)
def test_damaged_file_is_imported_consistently_or_refused(
    template: tuple[Path, dict], base: str, ops: list[tuple], compress: str, cut: float
) -> None:
    name, lines, eol = BASES[base]
    data = damage(lines, eol, ops, base)
    with tempfile.TemporaryDirectory(prefix="beatbook-prop-") as tmp:
        folder = Path(tmp)
        store_path = folder / "store.duckdb"
        shutil.copyfile(template[0], store_path)
        if compress == "none":
            source = write(folder / name, data, gz=False)
        else:
            blob = gzip.compress(data, mtime=0)
            if compress == "gzip-cut":
                blob = blob[: int(len(blob) * cut)]
            source = write(folder / (name + ".gz"), blob, gz=False)

        with Store(store_path) as store:
            before = fingerprint(store)
            assert before == template[1]
            try:
                results = ingest(store, [source])
            except BeatBookError as exc:
                problem = getattr(exc, "problem", str(exc))
                event(f"refused: {type(exc).__name__}: {problem.split(':')[0][-40:]}")
                assert str(source) in str(exc)
                assert fingerprint(store) == before
                store.first("SELECT count(*) FROM partitions")  # usable
                store.close()
                assert fingerprint_store(store_path) == before
                return
            # Imported: every stored and quarantined row is accounted for.
            [result] = results
            assert result.status == "stored"
            assert partition_consistency(store) == []
            table = {"street": "street_crimes", "stop-and-search": "stop_searches"}[result.kind]
            stored, lines_stored = store.first(
                f"SELECT count(*), list(source_line ORDER BY source_line) FROM {table} "
                "WHERE source_file = ?",
                [str(source)],
            )
            assert stored == result.rows_stored
            quarantined = (
                store.first(
                    "SELECT list(source_line ORDER BY source_line) FROM quarantine "
                    "WHERE source_file = ?",
                    [str(source)],
                )[0]
                or []
            )
            assert len(quarantined) == result.rows_quarantined
            assert not set(lines_stored or []) & set(quarantined)
            if compress == "gzip-cut":
                event("imported: prefix of a cut gzip")
                return  # only a prefix was readable, if any
            file_lines = plain_lines(data)
            if file_lines is None:
                event("imported: row count not determinable")
                return
            event("imported: every line checked")
            records = [i for i, line in enumerate(file_lines[1:], start=2) if line]
            assert stored + len(quarantined) == len(records), (stored, quarantined, records)
            # Each stored row sits on the line it was read from.
            assert sorted([*(lines_stored or []), *quarantined]) == records
