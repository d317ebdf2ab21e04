"""What an import may replace (issue 17, items 1 and 2): a file replaces only its own month,
never shrinks a stored month without ``replace``, and one import holds one file per month.

Inputs are real police.uk lines (the bundled Leicestershire files); expected counts come
from Python's ``csv`` module over the same bytes, never from BeatBook.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_support import (
    csv_records,
    fingerprint,
    join_lines,
    partition_consistency,
    raw_bytes,
    republish,
    set_field,
    split_lines,
    street_file,
    write,
)

from beatbook import settings
from beatbook.errors import CSVFormatError, InputError, ReplaceRefusedError
from beatbook.ingest import files
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store

MONTH = 1  # the Month column


def rows_of(data: bytes) -> int:
    return len(csv_records(data))


def month_rows(store: Store, month: str) -> int:
    return store.scalar("SELECT count(*) FROM street_crimes WHERE month = ?", [f"{month}-01"])


def stray_file(folder: Path, strays: int = 5) -> tuple[Path, bytes]:
    """A file for 2023-03 (real 2025-03 lines, their Month set to 2023-03) carrying ``strays``
    real rows of 2021-07 in its middle: the issue's file."""
    lines, eol = split_lines(raw_bytes(street_file("2025-03")))
    for i in range(1, len(lines)):
        set_field(lines, i, MONTH, "2023-03")
    july, _ = split_lines(raw_bytes(street_file("2021-07")))
    lines[4000:4000] = july[1 : 1 + strays]
    data = join_lines(lines, eol)
    return write(folder / "2023-03-leicestershire-street.csv", data), data


def test_stray_rows_never_replace_their_month(tmp_path: Path, store: Store) -> None:
    """The 2023-03 file with 5 rows of 2021-07 leaves the stored 2021-07 whole: the 5 rows are
    quarantined with the 2023-03 file, and the output says so."""
    july = raw_bytes(street_file("2021-07"))
    ingest(store, [street_file("2021-07")])
    assert month_rows(store, "2021-07") == rows_of(july) == 8694
    path, data = stray_file(tmp_path)

    [result] = ingest(store, [path])

    assert month_rows(store, "2021-07") == 8694
    assert (
        store.scalar(
            "SELECT count(DISTINCT source_file) FROM street_crimes WHERE month = '2021-07-01'"
        )
        == 1
    )
    assert (result.months, result.replaced, result.stray_rows) == (["2023-03"], [], {"2021-07": 5})
    assert (result.rows_stored, result.rows_quarantined) == (rows_of(data) - 5, 5)
    assert month_rows(store, "2023-03") == rows_of(data) - 5
    stray_lines = [line for line, row in csv_records(data) if row[MONTH] == "2021-07"]
    assert store.rows(
        "SELECT strftime(month, '%Y-%m'), source_line, reason FROM quarantine ORDER BY 2"
    ) == [
        (
            "2023-03",
            line,
            "Month 2021-07 is not this file's month (2023-03): a file replaces only its own "
            "month, so its rows of other months are not stored",
        )
        for line in stray_lines
    ]
    assert partition_consistency(store) == []
    # Re-running is safe: the same bytes are a no-op.
    assert [r.status for r in ingest(store, [path])] == ["unchanged"]
    assert month_rows(store, "2021-07") == 8694


def test_stray_rows_in_a_new_store_create_no_month(tmp_path: Path, store: Store) -> None:
    path, _ = stray_file(tmp_path, strays=3)
    ingest(store, [path])
    assert store.rows("SELECT DISTINCT strftime(month, '%Y-%m') FROM street_crimes") == [
        ("2023-03",)
    ]
    assert store.rows("SELECT strftime(month, '%Y-%m') FROM partitions") == [("2023-03",)]


def test_a_name_the_rows_disagree_with_is_refused(tmp_path: Path, store: Store) -> None:
    """A file named 2021-07 whose rows are mostly 2023-03 is not 2021-07's publication."""
    ingest(store, [street_file("2021-07")])
    before = fingerprint(store)
    _, data = stray_file(tmp_path)
    wrong = write(tmp_path / "wrong" / "2021-07-leicestershire-street.csv", data)
    with pytest.raises(CSVFormatError) as info:
        ingest(store, [wrong])
    assert str(wrong) in str(info.value) and "its name says 2021-07, but 5 of" in str(info.value)
    assert fingerprint(store) == before


def test_a_file_without_a_month_of_most_rows_is_refused(tmp_path: Path, store: Store) -> None:
    """No name to go by and no month holding most rows: police.uk files hold one month."""
    lines, eol = split_lines(raw_bytes(street_file("2020-01")))
    july, _ = split_lines(raw_bytes(street_file("2021-07")))
    data = join_lines(lines[:101] + july[1:101], eol)
    path = write(tmp_path / "crimes.csv", data)
    with pytest.raises(CSVFormatError) as info:
        ingest(store, [path])
    assert "no month holds most of its 200 rows" in str(info.value)
    # Most rows decide when the name does not say.
    mostly = write(tmp_path / "mostly.csv", join_lines(lines[:101] + july[1:40], eol))
    [result] = ingest(store, [mostly])
    assert (result.months, result.rows_stored, result.stray_rows) == (
        ["2020-01"],
        100,
        {"2021-07": 39},
    )


def _shrunk(tmp_path: Path, month: str, drop: int) -> tuple[Path, int]:
    """A re-publication of a real month with ``drop`` rows gone; its row count by csv."""
    data, _ = republish(month, seed=5, drop=drop)
    path = write(tmp_path / f"drop{drop}" / f"{month}-leicestershire-street.csv", data)
    return path, rows_of(data)


def test_a_shrinking_replacement_is_refused_without_replace(tmp_path: Path, store: Store) -> None:
    """10% fewer rows: refused with the counts before and after, nothing imported; allowed
    with replace=True, the counts reported."""
    before_rows = rows_of(raw_bytes(street_file("2020-02")))
    ingest(store, [street_file("2020-02")])
    shrunk, after_rows = _shrunk(tmp_path, "2020-02", drop=800)
    assert after_rows == before_rows - 800
    snapshot = fingerprint(store)

    with pytest.raises(ReplaceRefusedError) as info:
        ingest(store, [street_file("2020-03"), shrunk])  # a new month too: all or nothing
    message = str(info.value)
    assert f"{before_rows:,} -> {after_rows:,} rows (-10.18%)" in message
    assert str(shrunk) in message and "--replace" in message and "2%" in message
    assert info.value.refused == [
        {
            "force": "leicestershire",
            "kind": "street",
            "month": "2020-02",
            "file": str(shrunk),
            "rows_before": before_rows,
            "rows_after": after_rows,
        }
    ]
    assert fingerprint(store) == snapshot

    [result] = ingest(store, [shrunk], replace=True)
    assert result.replacements == [
        {"month": "2020-02", "rows_before": before_rows, "rows_after": after_rows}
    ]
    assert month_rows(store, "2020-02") == after_rows
    assert partition_consistency(store) == []


def test_small_changes_and_growth_need_no_replace(tmp_path: Path, store: Store) -> None:
    """Within the tolerance (a re-publication's usual few rows) or growing: replaced, counted."""
    ingest(store, [street_file("2020-02")])
    before_rows = rows_of(raw_bytes(street_file("2020-02")))
    drop = int(before_rows * settings.SHRINK_TOLERANCE) - 1
    shrunk, after_rows = _shrunk(tmp_path, "2020-02", drop=drop)
    [result] = ingest(store, [shrunk])
    assert result.replacements == [
        {"month": "2020-02", "rows_before": before_rows, "rows_after": after_rows}
    ]
    [result] = ingest(store, [street_file("2020-02")])  # back to the full publication
    assert result.replacements == [
        {"month": "2020-02", "rows_before": after_rows, "rows_after": before_rows}
    ]


def test_every_shrinking_month_is_listed(tmp_path: Path, store: Store) -> None:
    ingest(store, [street_file("2020-01"), street_file("2020-02")])
    a, _ = _shrunk(tmp_path, "2020-01", drop=1000)
    b, _ = _shrunk(tmp_path, "2020-02", drop=2000)
    with pytest.raises(ReplaceRefusedError) as info:
        ingest(store, [a, b])
    assert [r["month"] for r in info.value.refused] == ["2020-01", "2020-02"]
    assert "2 stored months would lose more than 2% of their rows" in str(info.value)


# --- two files for one month in one import (item 2) --------------------------------------


def test_two_different_files_for_a_month_are_refused_naming_both(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether or not they are read in the same batch, and whatever their order; the
    store is unchanged. (Before, one was kept and both reported stored.)"""
    ingest(store, [street_file("2020-05")])
    snapshot = fingerprint(store)
    data, _ = republish("2020-01", seed=2, drop=3)
    other = write(tmp_path / "other" / "2020-01-leicestershire-street.csv", data)
    for batch_files in (128, 1):
        monkeypatch.setattr(files, "BATCH_FILES", batch_files)
        for order in ([street_file("2020-01"), other], [other, street_file("2020-01")]):
            with pytest.raises(InputError) as info:
                ingest(store, order)
            message = str(info.value)
            assert "two different files for leicestershire street 2020-01" in message
            assert str(street_file("2020-01")) in message and str(other) in message
            assert fingerprint(store) == snapshot


def test_a_file_differing_from_a_stored_one_of_the_same_import_is_refused(
    tmp_path: Path, store: Store
) -> None:
    """One of the two is already stored (unchanged): still two publications in one import."""
    ingest(store, [street_file("2020-01")])
    data, _ = republish("2020-01", seed=2, drop=3)
    other = write(tmp_path / "other" / "2020-01-leicestershire-street.csv", data)
    with pytest.raises(InputError, match="two different files"):
        ingest(store, [street_file("2020-01"), other])


def test_identical_files_for_a_month_are_one_and_a_duplicate(tmp_path: Path, store: Store) -> None:
    """The same text, as .csv.gz, .csv and named twice: stored once, the others duplicates;
    running the same command again gives the same answer."""
    text = raw_bytes(street_file("2020-01"))
    plain = write(tmp_path / "plain" / "2020-01-leicestershire-street.csv", text)
    paths = [street_file("2020-01"), plain, street_file("2020-01")]
    results = ingest(store, paths)
    assert [(r.status, r.duplicate_of, r.rows_stored) for r in results] == [
        ("stored", None, rows_of(text)),
        ("duplicate", str(street_file("2020-01")), 0),
        ("duplicate", str(street_file("2020-01")), 0),
    ]
    assert month_rows(store, "2020-01") == rows_of(text)
    again = ingest(store, paths)
    assert [(r.status, r.duplicate_of) for r in again] == [
        ("unchanged", None),
        ("duplicate", str(street_file("2020-01"))),
        ("duplicate", str(street_file("2020-01"))),
    ]
    assert month_rows(store, "2020-01") == rows_of(text)
    assert partition_consistency(store) == []
