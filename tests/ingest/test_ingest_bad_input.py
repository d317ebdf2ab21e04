"""Bad files: a clear error naming the file (and line/column), and the store untouched.

Every test starts from a store that already holds real data (a street month, a
partly quarantined month and a stop-and-search month), snapshots every table,
feeds the importer a damaged copy of a real file, and checks that the error is
the documented one and that every table is exactly as it was, both on the open
connection and after reopening the store file. An import stores whole months per
transaction (small months together, up to ``files.TRANSACTION_BYTES`` of text): a file
found bad only when its rows are read stops the import at its transaction, and the months
before it stay stored (``expect_stop``, with one month per transaction).
"""

from __future__ import annotations

import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from ingest_support import (
    STOP_AND_SEARCH,
    fingerprint,
    fingerprint_store,
    head_lines,
    join_lines,
    partition_consistency,
    raw_bytes,
    set_field,
    split_lines,
    street_file,
    write,
)

from beatbook.errors import BeatBookError, CSVFormatError, InputError
from beatbook.ingest import files
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support.archives import write_zip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A store with real 2020-02, a head of 2020-03 with one quarantined row, and 2023-06 S&S."""
    folder = tmp_path_factory.mktemp("template")
    lines, eol = head_lines(street_file("2020-03"), 50)
    set_field(lines, 5, 5, "95.0")  # latitude out of range -> quarantined
    partly_bad = write(folder / "2020-03-leicestershire-street.csv", join_lines(lines, eol))
    path = folder / "store.duckdb"
    with Store(path) as st:
        ingest(st, [street_file("2020-02"), partly_bad, STOP_AND_SEARCH])
        counts = st.table_counts()
    assert counts["street_crimes"] == 7857 + 49
    assert counts["quarantine"] == 1
    assert counts["stop_searches"] == 456
    assert not path.with_name(path.name + ".wal").exists()
    return path, fingerprint_store(path)


@pytest.fixture
def loaded(tmp_path: Path, template: tuple[Path, dict]) -> Path:
    """A private copy of the template store."""
    path = tmp_path / "store.duckdb"
    shutil.copyfile(template[0], path)
    return path


def expect_failure(
    store_path: Path, inputs: list[Path], error: type[BeatBookError], file: Path | str
) -> BeatBookError:
    """Ingest ``inputs``, expect ``error`` naming ``file``; the store must be unchanged."""
    before = fingerprint_store(store_path)
    assert before["street_crimes"][0] > 0
    with Store(store_path) as st:
        threads = st.first("SELECT current_setting('threads'), current_setting('memory_limit')")
        with pytest.raises(error) as info:
            ingest(st, inputs)
        after_on_connection = fingerprint(st)
        # Settings the import changes for a while (one-thread INSERT) are back as they were.
        assert (
            st.first("SELECT current_setting('threads'), current_setting('memory_limit')")
            == threads
        )
        # The connection is still usable: no transaction left open or aborted.
        ingest(st, [street_file("2020-02")])  # a no-op re-import of what is stored
        assert fingerprint(st) == before
    assert after_on_connection == before
    assert fingerprint_store(store_path) == before
    message = str(info.value)
    assert str(file) in message
    assert "\n" not in message, "one clear line"
    return info.value


def state(st: Store) -> tuple:
    """Every table, and the partitions without their import times."""
    tables = fingerprint(st)
    tables.pop("partitions")
    return tables, st.rows("SELECT * EXCLUDE (ingested_at) FROM partitions ORDER BY ALL")


def expect_stop(
    store_path: Path,
    inputs: list[Path],
    error: type[BeatBookError],
    file: Path | str,
    before_it: list[Path],
) -> BeatBookError:
    """The import stops at ``file``'s month, naming it: the store is then exactly as after
    importing ``before_it`` (the months before it) alone, and the message says so."""
    want = store_path.with_name("want.duckdb")
    shutil.copyfile(store_path, want)
    with Store(want) as st:
        ingest(st, before_it)
        expected = state(st)
    with Store(store_path) as st:
        with pytest.raises(error) as info:
            ingest(st, inputs)
        assert state(st) == expected
    assert state_of_file(store_path) == expected
    message = str(info.value)
    assert str(file) in message and "\n" not in message
    assert "before it; run the import again once this is put right: what was" in message
    return info.value


def state_of_file(path: Path) -> tuple:
    with Store(path, read_only=True) as st:
        return state(st)


def street_sample(month: str = "2020-01", n: int = 200) -> tuple[list[bytes], bytes]:
    """Header and first ``n`` lines of a real street file, and its line ending."""
    return head_lines(street_file(month), n)


# --- header and file type ----------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        (b"Crime type", b"Crime Type"),  # case matters
        (b",Context", b""),  # a column missing
        (b"Longitude,Latitude", b"Latitude,Longitude"),  # columns swapped
        (b"Crime ID,", b"Crime ID;"),  # wrong delimiter
    ],
    ids=["case", "missing-column", "swapped", "semicolon"],
)
def test_wrong_header(tmp_path: Path, loaded: Path, change: tuple[bytes, bytes]) -> None:
    lines, eol = street_sample()
    lines[0] = lines[0].replace(*change)
    bad = write(tmp_path / "2020-01-leicestershire-street.csv", join_lines(lines, eol))
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert isinstance(err, CSVFormatError)
    assert (err.file, err.line, err.column) == (str(bad), 1, None)
    assert "header" in err.problem


def test_another_real_csv_is_not_a_police_uk_file(tmp_path: Path, loaded: Path) -> None:
    """The ONS population CSV (real, BOM + header) is refused by its header, not its name."""
    from ingest_support import ROOT

    ons = raw_bytes(ROOT / "data/sample/ons/lsoa21-population-mid2022-ew.csv.gz")
    bad = write(tmp_path / "2020-01-leicestershire-street.csv", ons[:2000])
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert "lsoacd,population" in str(err)


def _png() -> bytes:
    """A genuine (1x1 pixel) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_png_named_csv(tmp_path: Path, loaded: Path) -> None:
    bad = write(tmp_path / "2020-01-leicestershire-street.csv", _png())
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert "UTF-8" in str(err)


def test_binary_after_a_real_header(tmp_path: Path, loaded: Path) -> None:
    """A real header followed by binary (gzip bytes of real data): not a text CSV."""
    lines, eol = street_sample()
    data = lines[0] + eol + street_file("2020-01").read_bytes()[:5000]
    bad = write(tmp_path / "2020-01-leicestershire-street.csv", data)
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert "UTF-8" in str(err) or "CSV" in str(err)


@pytest.mark.parametrize("size", [0, 1, 2])
def test_empty_file(tmp_path: Path, loaded: Path, size: int) -> None:
    bad = write(tmp_path / "2020-01-leicestershire-street.csv", b"\r\n"[:size])
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert "empty" in str(err)


# --- compression and archives ------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.5, 0.9, 60], ids=["half", "most", "inside-header"])
def test_truncated_gzip(tmp_path: Path, loaded: Path, keep: float) -> None:
    data = street_file("2020-01").read_bytes()
    cut = int(len(data) * keep) if keep < 1 else int(keep)
    bad = write(tmp_path / "2020-01-leicestershire-street.csv.gz", data[:cut], gz=False)
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert "truncated" in str(err) or "corrupt" in str(err)


def test_truncated_zip(tmp_path: Path, loaded: Path) -> None:
    archive = write_zip(
        tmp_path / "police-archive.zip",
        {
            f"{m}/{m}-leicestershire-street.csv": raw_bytes(street_file(m))
            for m in ("2020-01", "2020-04")
        },
    )
    data = archive.read_bytes()
    bad = write(tmp_path / "cut" / "police-archive.zip", data[: len(data) // 2], gz=False)
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert "zip" in str(err)


def test_zip_with_corrupt_member(tmp_path: Path, loaded: Path) -> None:
    """Directory intact, compressed data of the second month damaged (CRC / inflate error)."""
    archive = write_zip(
        tmp_path / "police-archive.zip",
        {
            f"{m}/{m}-leicestershire-street.csv": raw_bytes(street_file(m))
            for m in ("2020-01", "2020-04")
        },
    )
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        second = zf.infolist()[1]
    start = second.header_offset + 30 + len(second.filename) + 1000
    for i in range(start, start + 64):
        data[i] ^= 0xA5
    bad = write(tmp_path / "bad" / "police-archive.zip", bytes(data), gz=False)
    expect_failure(loaded, [bad], CSVFormatError, bad)


# --- encoding ----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("column", [6, 8], ids=["Location", "LSOA name"])
def test_latin1_in_the_middle(tmp_path: Path, loaded: Path, gz: bool, column: int) -> None:
    """One real line re-encoded as Latin-1 with an accented name: the error gives its line."""
    lines, eol = street_sample(n=300)
    row = lines[150].decode()
    lines[150] = row.replace("On or near ", "On or near Café ").encode("latin-1")
    if column == 8:
        lines[150] = row.replace("Blaby", "Blabý").encode("latin-1")
    assert lines[150] != row.encode()
    name = "2020-01-leicestershire-street.csv" + (".gz" if gz else "")
    bad = write(tmp_path / name, join_lines(lines, eol))
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert isinstance(err, CSVFormatError)
    assert err.line == 151
    assert "UTF-8" in err.problem


def test_whole_file_latin1_header_ok_body_not(tmp_path: Path, loaded: Path) -> None:
    """Many Latin-1 lines: refused at the first one."""
    lines, eol = street_sample(n=300)
    for i in (40, 41, 200):
        lines[i] = lines[i].replace(b"On or near ", "On or near Fête ".encode("latin-1"))
    bad = write(tmp_path / "2020-01-leicestershire-street.csv", join_lines(lines, eol))
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert isinstance(err, CSVFormatError) and err.line == 41


# --- Month / Date values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "gz"),
    [
        ("2020-13", False),
        ("2020-13", True),
        ("Jan 2020", False),
        ("Jan 2020", True),
        ("2020-1", False),
        ("20-01", False),
        ("2020-00", False),
        ("", False),
    ],
)
def test_unparseable_month(tmp_path: Path, loaded: Path, value: str, gz: bool) -> None:
    lines, eol = street_sample()
    set_field(lines, 57, 1, value)  # line 58 of the file
    name = "2020-01-leicestershire-street.csv" + (".gz" if gz else "")
    bad = write(tmp_path / name, join_lines(lines, eol))
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert isinstance(err, CSVFormatError)
    assert (err.line, err.column) == (58, "Month")
    assert f"{bad}, line 58, column 'Month': '{value}' is not a valid month" in str(err)
    assert "None" not in str(err)


def test_unparseable_month_after_a_malformed_line(tmp_path: Path, loaded: Path) -> None:
    """The line given for a bad Month counts lines that could not be split into fields."""
    lines, eol = street_sample()
    lines[20] = b",".join(lines[20].split(b",")[:4])  # too few fields, line 21
    set_field(lines, 99, 1, "2020/01")  # line 100
    bad = write(tmp_path / "2020-01-leicestershire-street.csv", join_lines(lines, eol))
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert isinstance(err, CSVFormatError) and (err.line, err.column) == (100, "Month")


@pytest.mark.parametrize("value", ["2023-06-31T10:00:00+00:00", "01/06/2023 10:55", ""])
def test_unparseable_stop_and_search_date(tmp_path: Path, loaded: Path, value: str) -> None:
    lines, eol = split_lines(raw_bytes(STOP_AND_SEARCH))
    set_field(lines, 300, 1, value)
    bad = write(tmp_path / "2023-06-leicestershire-stop-and-search.csv", join_lines(lines, eol))
    err = expect_failure(loaded, [bad], CSVFormatError, bad)
    assert isinstance(err, CSVFormatError) and (err.line, err.column) == (301, "Date")


# --- several files in one call: checked before, stored month by month ----------------------


@pytest.fixture
def month_by_month(monkeypatch: pytest.MonkeyPatch) -> None:
    """One month per transaction, however small (a national month is one anyway)."""
    monkeypatch.setattr(files, "TRANSACTION_BYTES", 1)


@pytest.mark.parametrize("bad_kind", ["month", "header", "gzip", "encoding"])
@pytest.mark.parametrize("per_month", [True, False], ids=["per-month", "together"])
def test_good_files_then_a_bad_one(
    tmp_path: Path, loaded: Path, bad_kind: str, per_month: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new month, a re-published month already stored and a later month, then one bad file
    of 2020-06. A bad header or gzip is found before anything is stored: nothing is. A bad
    month value or encoding is found when 2020-06 is read: with the four small months in
    one transaction nothing is stored; one month per transaction, 2020-02 and 2020-05 are,
    2020-06 and 2025-01 not, and run again with the file put right the import skips them."""
    lines, eol = split_lines(raw_bytes(street_file("2020-02")))
    del lines[100:110]
    set_field(lines, 5, 10, "Offender sent to prison")
    republished = write(
        tmp_path / "new" / "2020-02-leicestershire-street.csv", join_lines(lines, eol)
    )
    good = [street_file("2020-05"), republished, street_file("2025-01")]

    lines, eol = street_sample("2020-06", 300)
    if bad_kind == "month":
        set_field(lines, 250, 1, "2020-13")
    elif bad_kind == "header":
        lines[0] = lines[0].replace(b"LSOA code", b"LSOA")
    elif bad_kind == "encoding":
        lines[250] = lines[250].replace(b"On or near ", "Près de ".encode("latin-1"))
    data = join_lines(lines, eol)
    bad = tmp_path / "bad" / "2020-06-leicestershire-street.csv.gz"
    if bad_kind == "gzip":
        compressed = write(bad, data)
        write(bad, compressed.read_bytes()[:-200], gz=False)
    else:
        write(bad, data)
    if bad_kind in ("header", "gzip") or not per_month:  # found first, or one transaction
        expect_failure(loaded, [*good, bad], CSVFormatError, bad)
        return
    monkeypatch.setattr(files, "TRANSACTION_BYTES", 1)
    expect_stop(loaded, [*good, bad], CSVFormatError, bad, good[:2])
    write(bad, join_lines(street_sample("2020-06", 300)[0], eol))
    with Store(loaded) as st:
        results = ingest(st, [*good, bad])
    assert [r.status for r in results] == ["unchanged", "unchanged", "stored", "stored"]


def test_bad_file_in_the_middle_of_a_folder(
    tmp_path: Path, loaded: Path, month_by_month: None
) -> None:
    folder = tmp_path / "download"
    for m in ("2020-01", "2020-05"):
        write(folder / f"{m}-leicestershire-street.csv.gz", raw_bytes(street_file(m)))
    lines, eol = street_sample("2020-03", 100)
    set_field(lines, 80, 1, "Mar 2020")
    bad = write(folder / "2020-03-leicestershire-street.csv", join_lines(lines, eol))
    january = folder / "2020-01-leicestershire-street.csv.gz"
    err = expect_stop(loaded, [folder], CSVFormatError, bad, [january])
    assert isinstance(err, CSVFormatError) and (err.line, err.column) == (81, "Month")


def test_bad_month_inside_a_zip_names_archive_and_member(
    tmp_path: Path, loaded: Path, month_by_month: None
) -> None:
    lines, eol = street_sample("2020-04", 100)
    set_field(lines, 60, 1, "2020-4")
    archive = write_zip(
        tmp_path / "archive.zip",
        {
            "2020-01/2020-01-leicestershire-street.csv": raw_bytes(street_file("2020-01")),
            "2020-04/2020-04-leicestershire-street.csv": join_lines(lines, eol),
        },
    )
    member = f"{archive}!2020-04/2020-04-leicestershire-street.csv"
    with Store(loaded) as st:
        with pytest.raises(CSVFormatError) as info:
            ingest(st, [archive])
        assert partition_consistency(st) == []
        # 2020-01 is stored from the archive (published 2020-04, its latest month folder).
        assert st.rows(
            "SELECT strftime(month, '%Y-%m'), origin, publication, rows_stored "
            "FROM partitions WHERE kind = 'street' ORDER BY month"
        ) == [
            ("2020-01", "archive", "2020-04", 8852),
            ("2020-02", "file", None, 7857),
            ("2020-03", "file", None, 49),
        ]
    err = info.value
    assert member in str(err) and "(2020-01 was imported before it; run" in str(err)
    assert isinstance(err, CSVFormatError) and (err.line, err.column) == (61, "Month")


# --- paths and force -----------------------------------------------------------------------


def test_missing_path(tmp_path: Path, loaded: Path) -> None:
    missing = tmp_path / "nowhere" / "2020-01-leicestershire-street.csv"
    expect_failure(loaded, [street_file("2020-05"), missing], InputError, missing)


def test_folder_without_csv_files(tmp_path: Path, loaded: Path) -> None:
    folder = tmp_path / "empty"
    write(folder / "notes.txt", b"nothing to see")
    expect_failure(loaded, [folder], InputError, folder)


def test_force_cannot_be_told(
    tmp_path: Path, loaded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No force in the name and two different 'Falls within' values: say so, nothing stored.
    (One month per transaction, a file not named by its month comes after the months named,
    so 2020-05 is stored.)"""
    lines, eol = street_sample()
    set_field(lines, 10, 3, "Nottinghamshire Police")
    bad = write(tmp_path / "crimes.csv", join_lines(lines, eol))
    err = expect_failure(loaded, [street_file("2020-05"), bad], InputError, bad)
    assert "force" in str(err)
    monkeypatch.setattr(files, "TRANSACTION_BYTES", 1)
    err = expect_stop(
        loaded, [street_file("2020-05"), bad], InputError, bad, [street_file("2020-05")]
    )
    assert "force" in str(err)
