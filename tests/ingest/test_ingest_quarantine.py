"""Individually bad rows are kept apart in ``quarantine``, with their file line and reason.

Inputs are the first lines of real files with a handful of real lines damaged;
expected line numbers come from Python's ``csv`` module over the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_support import (
    FORCE,
    csv_records,
    fields,
    head_lines,
    join_lines,
    partition_consistency,
    set_field,
    street_file,
    write,
)

from beatbook.errors import CSVFormatError
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store

LON, LAT, LSOA_CODE, CRIME_TYPE = 4, 5, 7, 9


def _damage(lines: list[bytes]) -> dict[int, str]:
    """Damage real lines; return {file line: a word the quarantine reason must contain}."""
    expect: dict[int, str] = {}

    def field(index: int, column: int, value: str, word: str) -> None:
        set_field(lines, index, column, value)
        expect[index + 1] = word

    field(10, LAT, "95.0", "Latitude")
    field(15, LAT, "-52.6", "Latitude")
    field(20, LON, "abc", "Longitude")
    field(25, LON, "-12.5", "Longitude")
    field(30, LAT, "", "Longitude and Latitude")  # only longitude given
    field(35, LON, "", "Longitude and Latitude")  # only latitude given
    field(40, LSOA_CODE, "XYZ", "LSOA code")
    field(45, LSOA_CODE, "E0101234", "LSOA code")  # one digit short
    field(50, CRIME_TYPE, "", "Crime type")
    field(55, CRIME_TYPE, "   ", "Crime type")  # blank is empty
    set_field(lines, 65, 6, "On or near Asda, Thurmaston")  # a real quoted location...
    field(65, LAT, "9999", "Latitude")  # ...on a quarantined row
    lines[60] = b",".join(lines[60].split(b",")[:5])  # too few fields
    expect[61] = "12 fields"
    lines[61] = b",".join(lines[61].split(b",")[:11])  # one field short, right after
    expect[62] = "12 fields"
    lines[70] = lines[70] + b",extra"  # too many fields
    expect[71] = "12 fields"
    return expect


@pytest.mark.parametrize("month", ["2020-01", "2025-01"], ids=["CRLF", "LF"])
@pytest.mark.parametrize("gz", [False, True])
def test_bad_rows_are_quarantined_with_line_and_reason(
    tmp_path: Path, store: Store, month: str, gz: bool
) -> None:
    lines, eol = head_lines(street_file(month), 300)
    original = list(lines)
    expect = _damage(lines)
    lines.append(b",".join(original[5].split(b",")[:3]))  # the last line is short too
    expect[len(lines)] = "12 fields"
    data = join_lines(lines, eol)
    name = f"{month}-{FORCE}-street.csv" + (".gz" if gz else "")
    path = write(tmp_path / name, data)

    [result] = ingest(store, [path])

    data_lines = len(lines) - 1
    assert (result.rows_stored, result.rows_quarantined) == (data_lines - len(expect), len(expect))
    assert result.months == [month]
    quarantined = store.rows(
        "SELECT source_line, reason, raw, force, month, kind, source_file FROM quarantine "
        "ORDER BY source_line"
    )
    assert [q[0] for q in quarantined] == sorted(expect)
    for line, reason, raw, force, q_month, kind, source_file in quarantined:
        assert expect[line] in reason, (line, reason)
        if "fields" in expect[line]:  # could not be split: the line exactly as in the file
            assert raw == lines[line - 1].decode(), line
        else:  # the row's (trimmed) values, as a CSV line that reads back the same
            assert fields(raw.encode()) == [v.strip() for v in fields(lines[line - 1])], line
        assert (force, str(q_month)[:7], kind, source_file) == (FORCE, month, "street", str(path))
    assert store.rows("SELECT rows_stored, rows_quarantined FROM partitions") == [
        (result.rows_stored, result.rows_quarantined)
    ]
    assert partition_consistency(store) == []

    # Stored rows: exactly the undamaged lines, each at the line Python's csv reads it on,
    # including the lines after the malformed ones.
    stored = store.rows(
        "SELECT source_line, crime_id, location, crime_type FROM street_crimes ORDER BY 1"
    )
    good = [
        (line, row[0] or None, row[6], row[9])
        for line, row in csv_records(data)
        if line not in expect
    ]
    assert stored == good
    assert [s[0] for s in stored if s[0] > 71][:3] == [72, 73, 74]


def test_many_malformed_lines_keep_line_numbers(tmp_path: Path, store: Store) -> None:
    """Malformed first data line, runs of malformed lines, one every few lines."""
    lines, eol = head_lines(street_file("2021-06"), 400)
    bad = {1, 2, 3, 50, 52, 54, 56, 200, 201, 399, 400}
    for i in bad:
        lines[i] = lines[i].split(b",", 1)[0]  # a lone Crime ID (or nothing, for ASB rows)
    data = join_lines(lines, eol)
    path = write(tmp_path / "2021-06-leicestershire-street.csv", data)
    [result] = ingest(store, [path])
    blank = {i for i in bad if not lines[i]}  # an ASB row cut to nothing is a blank line
    assert result.rows_quarantined == len(bad - blank)
    assert result.rows_stored == 400 - len(bad)
    got = store.rows("SELECT source_line, crime_id FROM street_crimes ORDER BY 1")
    assert got == [(line, row[0] or None) for line, row in csv_records(data) if len(row) == 12]
    assert sorted(line for (line,) in store.rows("SELECT source_line FROM quarantine")) == sorted(
        i + 1 for i in bad - blank
    )


def test_whitespace_around_values_is_trimmed_not_quarantined(tmp_path: Path, store: Store) -> None:
    lines, eol = head_lines(street_file("2025-01"), 20)
    before = fields(lines[3])
    set_field(lines, 3, LAT, f"  {before[LAT]} ")
    set_field(lines, 3, CRIME_TYPE, f" {before[CRIME_TYPE]}")
    path = write(tmp_path / "2025-01-leicestershire-street.csv", join_lines(lines, eol))
    [result] = ingest(store, [path])
    assert (result.rows_stored, result.rows_quarantined) == (20, 0)
    assert store.first("SELECT latitude, crime_type FROM street_crimes WHERE source_line = 4") == (
        float(before[LAT]),
        before[CRIME_TYPE],
    )


def test_republished_month_replaces_its_quarantine_only(tmp_path: Path, store: Store) -> None:
    """A fixed re-publication clears that month's quarantine and leaves other months' alone."""
    jan, eol = head_lines(street_file("2020-01"), 100)
    set_field(jan, 10, LAT, "95.0")
    feb, eol_feb = head_lines(street_file("2020-02"), 100)
    set_field(feb, 20, LON, "x")
    bad_jan = write(tmp_path / "v1" / "2020-01-leicestershire-street.csv", join_lines(jan, eol))
    bad_feb = write(tmp_path / "v1" / "2020-02-leicestershire-street.csv", join_lines(feb, eol_feb))
    ingest(store, [bad_jan, bad_feb])
    assert store.table_counts()["quarantine"] == 2

    fixed, eol = head_lines(street_file("2020-01"), 100)
    fixed_jan = write(tmp_path / "v2" / "2020-01-leicestershire-street.csv", join_lines(fixed, eol))
    [result] = ingest(store, [fixed_jan])
    assert (result.rows_stored, result.rows_quarantined, result.replaced) == (100, 0, ["2020-01"])
    assert store.rows(
        "SELECT strftime(month, '%Y-%m'), source_line, source_file FROM quarantine"
    ) == [("2020-02", 21, str(bad_feb))]
    assert partition_consistency(store) == []


def test_stop_and_search_bad_coordinates(tmp_path: Path, store: Store) -> None:
    from ingest_support import STOP_AND_SEARCH, raw_bytes, split_lines

    lines, eol = split_lines(raw_bytes(STOP_AND_SEARCH))
    set_field(lines, 10, 4, "152.6")  # Latitude is column 4 in stop-and-search files
    set_field(lines, 20, 5, "")  # Longitude missing, Latitude given
    path = write(tmp_path / "2023-06-leicestershire-stop-and-search.csv", join_lines(lines, eol))
    [result] = ingest(store, [path])
    assert (result.rows_stored, result.rows_quarantined) == (454, 2)
    assert store.rows("SELECT source_line, reason FROM quarantine ORDER BY 1") == [
        (11, "Latitude 152.6 is outside the UK (expected 49.0 to 61.0)"),
        (21, "only one of Longitude and Latitude is given"),
    ]


def test_stray_quote_is_an_error_not_silent_loss(tmp_path: Path) -> None:
    """An unclosed quote swallows every later line: refuse the file, naming the line."""
    lines, eol = head_lines(street_file("2020-01"), 60)
    lines[30] = lines[30].replace(b",On or near ", b',"On or near ')
    path = write(tmp_path / "2020-01-leicestershire-street.csv", join_lines(lines, eol))
    with Store(tmp_path / "s.duckdb") as st, pytest.raises(CSVFormatError) as info:
        ingest(st, [path])
    assert (info.value.file, info.value.line) == (str(path), 31)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("month", ["2020-01", "2025-01"], ids=["CRLF", "LF"])
def test_empty_lines_are_skipped_and_counted(
    tmp_path: Path, store: Store, month: str, gz: bool
) -> None:
    """Empty lines (say, two files pasted together) are no rows, but later lines keep numbers."""
    lines, eol = head_lines(street_file(month), 120)
    for i in (100, 50, 50, 2):
        lines.insert(i, b"")
    set_field(lines, 80, LAT, "99")
    lines.append(b"")
    data = join_lines(lines, eol)
    path = write(tmp_path / f"{month}-leicestershire-street.csv", data, gz=gz)
    [result] = ingest(store, [path])
    assert (result.rows_stored, result.rows_quarantined) == (119, 1)
    assert store.rows("SELECT source_line FROM quarantine") == [(81,)]
    got = store.rows("SELECT source_line, crime_id FROM street_crimes ORDER BY 1")
    assert got == [(line, row[0] or None) for line, row in csv_records(data) if line != 81]


@pytest.mark.parametrize(
    "change",
    ["no final newline", "padded values", "needless quotes", "one empty line, no final newline"],
)
def test_line_numbers_when_the_text_is_not_plain(tmp_path: Path, store: Store, change: str) -> None:
    """Files whose bytes do not add up the usual way still get every record's true line.

    (Empty lines are found without decompressing a file again when its text adds up
    exactly; these files do not, one way or another.)
    """
    lines, eol = head_lines(street_file("2025-01"), 60)
    if change == "padded values":
        lines[10] = lines[10].replace(b",", b" , ", 3)
    elif change == "needless quotes":
        lines[20] = lines[20].replace(b",2025-01,", b',"2025-01",')
    if "empty" in change:
        lines.insert(30, b"")
    data = join_lines(lines, eol)
    if "no final newline" in change:
        data = data.rstrip(eol)
    # A gzip file without its final newline and with one empty line is the one case the
    # byte count cannot tell apart (documented in line_numbers.accounts_for_every_byte).
    gz = change != "one empty line, no final newline"
    path = write(tmp_path / "2025-01-leicestershire-street.csv", data, gz=gz)
    ingest(store, [path])
    got = store.rows("SELECT source_line, crime_id FROM street_crimes ORDER BY 1")
    assert got == [(line, row[0].strip() or None) for line, row in csv_records(data)]


def test_real_files_are_scanned_once_on_the_fast_path(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file's text is scanned once; real police.uk files hold no empty (or one-byte)
    line, so no chunk of theirs is looked at closer for one."""
    from beatbook.ingest import files, sources

    scanned: list[str] = []
    real_scan = sources.scan

    def counted(source: sources.Source, limits: sources.Limits) -> sources.Scan:
        scanned.append(source.name)
        return real_scan(source, limits)

    def searched(self: object, *args: object) -> None:
        raise AssertionError("a real file was searched line by line for empty lines")

    monkeypatch.setattr(files, "scan", counted)
    monkeypatch.setattr(sources._LineCounter, "_found", searched)
    paths = [street_file("2020-01"), street_file("2025-01")]
    results = ingest(store, paths)
    assert [r.rows_stored for r in results] == [8852, 8448]
    assert sorted(scanned) == sorted(str(p) for p in paths)
