"""Re-importing: the same bytes are a no-op, a re-published month replaces its partition,
and archives that overlap never count a month twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_support import (
    FORCE,
    STOP_AND_SEARCH,
    dump,
    dump_store,
    join_lines,
    partition_consistency,
    raw_bytes,
    republish,
    split_lines,
    street_file,
    write,
)

from beatbook.errors import InputError
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support.archives import write_zip

MONTH_COUNTS = {"2020-01": 8852, "2020-02": 7857, "2020-03": 8146, "2025-01": 8448}


def month_rows(con, month: str) -> int:
    return con.first("SELECT count(*) FROM street_crimes WHERE month = ?", [f"{month}-01"])[0]


def test_same_files_twice_is_a_no_op(store: Store) -> None:
    files = [street_file("2020-01"), street_file("2025-01"), STOP_AND_SEARCH]
    first = ingest(store, files)
    assert [r.status for r in first] == ["stored"] * 3
    snapshot = dump(store)
    second = ingest(store, files)
    assert [r.status for r in second] == ["unchanged"] * 3
    assert [(r.kind, r.force, r.months) for r in second] == [
        (r.kind, r.force, r.months) for r in first
    ]
    assert dump(store) == snapshot  # partitions.ingested_at included: nothing rewritten


def test_same_bytes_under_another_name_or_compression_is_the_same_partition(
    tmp_path: Path, store: Store
) -> None:
    """Plain copy of a stored .csv.gz: stored again (other bytes) but replaces, never adds."""
    ingest(store, [street_file("2020-01")])
    plain = write(tmp_path / "2020-01-leicestershire-street.csv", raw_bytes(street_file("2020-01")))
    [r] = ingest(store, [plain])
    assert (r.status, r.replaced, r.rows_stored) == ("stored", ["2020-01"], 8852)
    assert store.table_counts()["street_crimes"] == 8852
    [r] = ingest(store, [plain])
    assert r.status == "unchanged"


def test_ingest_twice_in_fresh_stores_gives_identical_tables(tmp_path: Path) -> None:
    """Reproducible: the same inputs give the same rows (ingested_at aside)."""
    files = [street_file("2020-03"), street_file("2025-01"), STOP_AND_SEARCH]
    dumps = []
    for name in ("a", "b"):
        with Store(tmp_path / f"{name}.duckdb") as st:
            ingest(st, files)
            st.execute("UPDATE partitions SET ingested_at = TIMESTAMPTZ '2000-01-01'")
            dumps.append(dump(st))
    assert dumps[0] == dumps[1]


def test_republished_month_replaces_partition(tmp_path: Path, store: Store) -> None:
    ingest(store, [street_file(m) for m in ("2020-01", "2020-02", "2025-01")])
    others = store.rows("SELECT * FROM street_crimes WHERE month <> '2020-02-01' ORDER BY ALL")
    new_bytes, updates = republish("2020-02")
    new = write(tmp_path / "again" / "2020-02-leicestershire-street.csv.gz", new_bytes)

    [r] = ingest(store, [new])
    assert (r.status, r.months, r.replaced, r.rows_stored) == (
        "stored",
        ["2020-02"],
        ["2020-02"],
        7857 - 10,
    )
    assert month_rows(store, "2020-02") == 7857 - 10
    assert store.table_counts()["street_crimes"] == 8852 + 7857 - 10 + 8448
    assert (
        store.rows("SELECT * FROM street_crimes WHERE month <> '2020-02-01' ORDER BY ALL") == others
    )
    got = dict(
        store.rows(
            "SELECT crime_id, last_outcome FROM street_crimes WHERE crime_id IN (SELECT unnest(?))",
            [list(updates)],
        )
    )
    assert got == updates
    assert store.rows(
        "SELECT source_file, rows_stored FROM partitions WHERE month = '2020-02-01'"
    ) == [(str(new), 7857 - 10)]
    assert store.first(
        "SELECT count(DISTINCT source_file) FROM street_crimes WHERE month = '2020-02-01'"
    ) == (1,)
    assert partition_consistency(store) == []

    # Going back to the original publication replaces again.
    [r] = ingest(store, [street_file("2020-02")])
    assert (r.status, r.replaced, r.rows_stored) == ("stored", ["2020-02"], 7857)
    assert month_rows(store, "2020-02") == 7857


def test_two_versions_of_a_month_in_one_call_are_refused(tmp_path: Path, store: Store) -> None:
    """Which is the publication cannot be told: both are named, nothing is stored (issue 17)."""
    new_bytes, _ = republish("2020-01", seed=3, drop=25)
    new = write(tmp_path / "new" / "2020-01-leicestershire-street.csv", new_bytes)
    with pytest.raises(InputError) as info:
        ingest(store, [street_file("2020-01"), new])
    assert str(street_file("2020-01")) in str(info.value) and str(new) in str(info.value)
    assert store.table_counts()["street_crimes"] == 0


def _archive(path: Path, months: dict[str, bytes]) -> Path:
    """police.uk archive layout: one folder per month."""
    return write_zip(path, {f"{m}/{m}-{FORCE}-street.csv": data for m, data in months.items()})


def test_zip_archive_with_month_folders(tmp_path: Path, store: Store) -> None:
    months = ("2020-01", "2025-01")
    archive = _archive(tmp_path / "archive.zip", {m: raw_bytes(street_file(m)) for m in months})
    results = ingest(store, [archive])
    assert [(r.file, r.months, r.rows_stored) for r in results] == [
        (f"{archive}!{m}/{m}-{FORCE}-street.csv", [m], MONTH_COUNTS[m]) for m in months
    ]
    with Store(tmp_path / "direct.duckdb") as direct:
        ingest(direct, [street_file(m) for m in months])
        want = direct.rows("SELECT * EXCLUDE (source_file) FROM street_crimes ORDER BY ALL")
    assert store.rows("SELECT * EXCLUDE (source_file) FROM street_crimes ORDER BY ALL") == want
    assert [r.status for r in ingest(store, [archive])] == ["unchanged", "unchanged"]


@pytest.mark.parametrize("one_call", [True, False])
def test_overlapping_archives_do_not_double_count(
    tmp_path: Path, store: Store, one_call: bool
) -> None:
    """Two downloads with the same file name (in different folders) sharing 2020-02."""
    a = _archive(
        tmp_path / "jan" / "police.zip",
        {m: raw_bytes(street_file(m)) for m in ("2020-01", "2020-02")},
    )
    b = _archive(
        tmp_path / "mar" / "police.zip",
        {m: raw_bytes(street_file(m)) for m in ("2020-02", "2020-03")},
    )
    results = ingest(store, [a, b]) if one_call else ingest(store, [a]) + ingest(store, [b])
    # In one call the older archive's copy (published 2020-02) is a duplicate of the newer's
    # (2020-03), which is stored; later, the same bytes are already stored.
    assert [(r.months, r.status) for r in results] == [
        (["2020-01"], "stored"),
        (["2020-02"], "duplicate" if one_call else "stored"),
        (["2020-02"], "stored" if one_call else "unchanged"),
        (["2020-03"], "stored"),
    ]
    if one_call:
        assert results[1].duplicate_of == results[2].file
    for m in ("2020-01", "2020-02", "2020-03"):
        assert month_rows(store, m) == MONTH_COUNTS[m]
    assert store.table_counts()["partitions"] == 3
    assert partition_consistency(store) == []


def test_overlapping_archives_with_a_republished_month(tmp_path: Path, store: Store) -> None:
    """Same archive name, same member name, different content: refused, both named; each
    archive alone is imported, the later publication replacing the earlier."""
    new_bytes, updates = republish("2020-02", seed=11, drop=30)
    a = _archive(tmp_path / "old" / "police.zip", {"2020-02": raw_bytes(street_file("2020-02"))})
    b = _archive(tmp_path / "new" / "police.zip", {"2020-02": new_bytes})
    with pytest.raises(InputError) as info:
        ingest(store, [a, b])
    assert f"{a}!2020-02/" in str(info.value) and f"{b}!2020-02/" in str(info.value)
    assert store.table_counts()["street_crimes"] == 0
    [first] = ingest(store, [a])
    [second] = ingest(store, [b])
    assert (first.rows_stored, second.rows_stored, second.replaced) == (
        7857,
        7857 - 30,
        ["2020-02"],
    )
    assert month_rows(store, "2020-02") == 7857 - 30
    [(source,)] = store.rows("SELECT DISTINCT source_file FROM street_crimes")
    assert source.startswith(str(b))


def test_folder_with_files_and_archives(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "downloads"
    write(folder / "2020-01-leicestershire-street.csv.gz", raw_bytes(street_file("2020-01")))
    _archive(folder / "more" / "archive.zip", {"2020-03": raw_bytes(street_file("2020-03"))})
    write(folder / "README.txt", b"not a CSV")
    results = ingest(store, [folder])
    assert sorted(m for r in results for m in r.months) == ["2020-01", "2020-03"]
    assert store.table_counts()["street_crimes"] == 8852 + 8146


def test_force_from_falls_within_or_argument(tmp_path: Path) -> None:
    """No force in the file name: taken from 'Falls within', or from force=."""
    lines, eol = split_lines(raw_bytes(street_file("2020-01")))
    path = write(tmp_path / "january.csv", join_lines(lines[:101], eol))
    with Store(tmp_path / "a.duckdb") as st:
        [r] = ingest(st, [path])
        assert (r.force, r.rows_stored) == ("leicestershire", 100)
    with Store(tmp_path / "b.duckdb") as st:
        [r] = ingest(st, [path], force="leics")
        assert st.rows("SELECT DISTINCT force FROM street_crimes") == [("leics",)]


def test_reopened_store_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        ingest(st, [street_file("2020-01"), STOP_AND_SEARCH])
        before = dump(st)
    after = dump_store(path)
    assert {t: after[t] for t in before} == before


def test_same_bytes_under_another_force_are_new_data(store: Store, tmp_path: Path) -> None:
    """The sha256 no-op applies per force: a copy named for another force is stored."""
    original = street_file("2020-01")
    ingest(store, [original])
    copy = tmp_path / "2020-01-otherforce-street.csv.gz"
    copy.write_bytes(original.read_bytes())
    (result,) = ingest(store, [copy])
    assert result.status == "stored" and result.force == "otherforce"
    per_force = dict(store.rows("SELECT force, count(*) FROM street_crimes GROUP BY force"))
    assert per_force == {FORCE: MONTH_COUNTS["2020-01"], "otherforce": MONTH_COUNTS["2020-01"]}
