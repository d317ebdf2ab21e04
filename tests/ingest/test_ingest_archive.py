"""police.uk's archive as published (issue 19): every member of every force and kind stored,
the newest publication of a month wins, a re-import skips what is stored, an API month is
superseded, and archives laid out otherwise are refused naming the member.

The archives are built by ``tests/support/archives.py`` from the bundled real months;
expected counts come from DuckDB reading the members' bytes as plain CSV files, without
BeatBook.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from ingest_support import fingerprint, partition_consistency

from beatbook.errors import InputError
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support import archives
from support.archives import FORCES, KINDS, SHARED_MONTHS, Published

TABLES = {"street": "street_crimes", "outcomes": "outcomes", "stop-and-search": "stop_searches"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Published, Published]:
    return archives.overlapping(tmp_path_factory.mktemp("archives"))


def raw_counts(archive: Published, folder: Path) -> dict[tuple[str, str, str], int]:
    """Rows per (force, month, kind) of the archive's members, counted by DuckDB alone."""
    root = archive.write_csvs(folder)
    counts = {}
    con = duckdb.connect()
    for name in archive.members:
        month, rest = name.split("/")
        kind = next(k for k in KINDS if rest.endswith(f"-{k}.csv"))
        force = rest[len(month) + 1 : -len(f"-{kind}.csv")]
        (n,) = con.execute(
            "SELECT count(*) FROM read_csv(?, header = true, all_varchar = true)",
            [str(root / name)],
        ).fetchone() or (0,)
        counts[(force, month, kind)] = n
    return counts


def stored_counts(st: Store) -> dict[tuple[str, str, str], int]:
    counts = {}
    for kind, table in TABLES.items():
        for force, month, n in st.rows(
            f"SELECT force, strftime(month, '%Y-%m'), count(*) FROM {table} GROUP BY ALL"
        ):
            counts[(force, month, kind)] = n
    return counts


def provenance(st: Store) -> dict[tuple[str, str, str], tuple]:
    return {
        (force, month, kind): (origin, publication, coverage, source)
        for force, month, kind, origin, publication, coverage, source in st.rows(
            "SELECT force, strftime(month, '%Y-%m'), kind, origin, publication, coverage, "
            "source_file FROM partitions"
        )
    }


def test_every_member_is_stored_with_its_rows(
    built: tuple[Published, Published], tmp_path: Path, store: Store
) -> None:
    """Two forces x four months x three kinds: 24 members, each its own partition with
    DuckDB's count of its CSV, recorded as from the archive published 2025-04."""
    older, _ = built
    results = ingest(store, [older.path])
    assert len(results) == len(older.members) == len(FORCES) * 4 * len(KINDS)
    assert {r.status for r in results} == {"stored"}
    expected = raw_counts(older, tmp_path / "raw")
    assert stored_counts(store) == expected
    assert {(r.force, r.months[0], r.kind): r.rows_stored for r in results} == expected
    assert store.scalar("SELECT count(*) FROM quarantine") == 0
    assert set(provenance(store).values()) >= {
        ("archive", "2025-04", "force", f"{older.path}!2025-01/2025-01-leicestershire-street.csv")
    }
    assert {v[:3] for v in provenance(store).values()} == {("archive", "2025-04", "force")}
    assert partition_consistency(store) == []


def state(st: Store) -> tuple:
    """The stored rows and partitions, but for which file of the same bytes they were read
    from (an unchanged month keeps the file it was first read from) and when."""
    tables = {
        t: st.first(
            f"SELECT count(*), sum(hash(t)) FROM (SELECT * EXCLUDE (source_file) FROM {t}) t"
        )
        for t in [*TABLES.values(), "quarantine"]
    }
    for t in ("crime_repeats", "monthly_counts"):
        tables[t] = st.first(f"SELECT count(*), sum(hash(t)) FROM {t} t")
    partitions = "SELECT * EXCLUDE (ingested_at, source_file) FROM partitions ORDER BY ALL"
    return tables, st.rows(partitions)


@pytest.mark.parametrize(
    "order", ["older-then-newer", "newer-then-older", "one-call", "one-call-reversed"]
)
def test_the_newest_publication_of_a_month_wins(
    built: tuple[Published, Published], tmp_path: Path, order: str
) -> None:
    """Whatever the order, the shared months hold the 2025-06 archive's re-publication
    (5% more rows, updated outcomes); the older copy is reported kept, both named."""
    older, newer = built
    with Store(tmp_path / "store.duckdb") as st:
        if order == "older-then-newer":
            ingest(st, [older.path])
            results = ingest(st, [newer.path])
        elif order == "newer-then-older":
            ingest(st, [newer.path])
            results = ingest(st, [older.path])
        else:
            pair = [older.path, newer.path]
            results = ingest(st, pair if order == "one-call" else pair[::-1])
        got = state(st)
        origin = provenance(st)
        counts = stored_counts(st)
        outcome = st.scalar(
            "SELECT count(*) FROM street_crimes WHERE last_outcome = ?",
            [archives.REPUBLISHED_OUTCOME],
        )
    newer_counts = raw_counts(newer, tmp_path / "newer")
    for force in FORCES:
        for month in SHARED_MONTHS:
            key = (force, month, "street")
            assert counts[key] == newer_counts[key] == 315  # 300 rows re-published with 15 more
            assert origin[key][1] == "2025-06" and origin[key][3].startswith(str(newer.path))
    assert outcome > 0
    kept = [r for r in results if r.status == "kept"]
    if order == "older-then-newer":
        assert kept == []  # the newer archive replaces the older's months
        replaced = [r for r in results if r.replaced]
        assert sorted({r.months[0] for r in replaced}) == list(SHARED_MONTHS)
        assert all(
            r.replaced_from == {"origin": "archive", "publication": "2025-04"} for r in replaced
        )
    else:
        # Street and outcomes differ between the publications; stop and search does not, so
        # the older copy is a duplicate of the newer (in one call) or unchanged (after it).
        assert len(kept) == len(FORCES) * len(SHARED_MONTHS) * 2
        assert {r.kind for r in kept} == {"street", "outcomes"}
        same = {"newer-then-older": "unchanged"}.get(order, "duplicate")
        searches = [
            r for r in results if r.kind == "stop-and-search" and r.months[0] in SHARED_MONTHS
        ]
        want = [same] * 4 + ["stored"] * 4 * (same == "duplicate")
        assert sorted(r.status for r in searches) == sorted(want)
        for r in kept:
            assert r.months[0] in SHARED_MONTHS and r.file.startswith(str(older.path))
            assert (r.publication, r.newer_publication) == ("2025-04", "2025-06")
            assert r.newer_file is not None and r.newer_file.startswith(str(newer.path))
    # Every order ends in the same store (the import times aside).
    with Store(tmp_path / "reference.duckdb") as st:
        ingest(st, [older.path])
        ingest(st, [newer.path])
        assert state(st) == got


def test_a_reimport_skips_every_member(built: tuple[Published, Published], store: Store) -> None:
    older, newer = built
    ingest(store, [older.path, newer.path])
    before = state(store)
    again = ingest(store, [newer.path, older.path])
    assert {r.status for r in again[: len(newer.members)]} == {"unchanged"}
    statuses = {r.file.split("!")[1][:7]: r.status for r in again[len(newer.members) :]}
    assert statuses == {
        "2025-01": "unchanged",
        "2025-02": "unchanged",
        "2025-03": "kept",
        "2025-04": "kept",
    }
    assert state(store) == before


def test_the_same_bytes_from_a_newer_archive_record_its_publication(
    tmp_path: Path, store: Store
) -> None:
    """A month unchanged between two publications is not re-read, but the store records the
    newer one, so an older archive's different copy cannot replace it later."""
    first = archives.archive(tmp_path / "a", ["2025-01", "2025-02"])
    later = archives.archive(tmp_path / "b", ["2025-01", "2025-02", "2025-03"])
    other = archives.archive(tmp_path / "c", ["2025-01", "2025-02"], republished=("2025-01",))
    ingest(store, [first.path])
    results = ingest(store, [later.path])
    assert {r.status for r in results if r.months[0] < "2025-03"} == {"unchanged"}
    assert {v[1] for v in provenance(store).values()} == {"2025-03"}
    read_from = {v[3].split("!")[0] for k, v in provenance(store).items() if k[1] < "2025-03"}
    assert read_from == {str(first.path)}  # the rows still name the file they were read from
    # A different copy published 2025-02 would have replaced the month stored from the
    # first 2025-02 archive; it is older than the 2025-03 publication now recorded.
    statuses = {(r.months[0], r.kind, r.status) for r in ingest(store, [other.path])}
    assert ("2025-01", "street", "kept") in statuses
    assert ("2025-01", "outcomes", "kept") in statuses


def test_an_api_month_is_superseded_by_the_archive(
    built: tuple[Published, Published], tmp_path: Path, store: Store
) -> None:
    """A month fetched from the API for one area (origin 'api') is replaced by the force's
    archive file without --replace, even though the API partition holds more rows here
    than the archive's 300-row slice (a shrink the guard would refuse between files)."""
    from support.archives import STREET

    full = STREET["leicestershire"] / "2025-02-leicestershire-street.csv.gz"
    ingest(store, [full])
    with store.transaction() as con:  # what `beatbook fetch` records for an area's month
        con.execute(
            "UPDATE partitions SET origin = 'api', publication = '2025-03-20', "
            "coverage = 'custom:City Centre' WHERE month = '2025-02-01'"
        )
    api_rows = store.scalar("SELECT rows_stored FROM partitions")
    older, _ = built
    results = ingest(store, [older.path])
    [street] = [r for r in results if r.file.endswith("2025-02-leicestershire-street.csv")]
    assert (street.status, street.replaced) == ("stored", ["2025-02"])
    assert street.replaced_from == {"origin": "api", "publication": "2025-03-20"}
    assert street.replacements == [{"month": "2025-02", "rows_before": api_rows, "rows_after": 300}]
    assert provenance(store)[("leicestershire", "2025-02", "street")][:3] == (
        "archive",
        "2025-04",
        "force",
    )
    assert (
        store.scalar(
            "SELECT count(*) FROM street_crimes WHERE force = 'leicestershire' AND month = '2025-02-01'"
        )
        == 300
    )
    assert partition_consistency(store) == []


def _refused(store: Store, contents: dict[str, bytes], path: Path) -> str:
    archive = archives.write_zip(path, contents)
    before = fingerprint(store)
    with pytest.raises(InputError) as info:
        ingest(store, [archive])
    assert fingerprint(store) == before
    return str(info.value)


GOOD = "2025-01/2025-01-leicestershire-street.csv"


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (
            "2025-01-leicestershire-street.csv",
            "a CSV at the top of the archive, not in a month folder",
        ),
        (
            "data/2025-01-leicestershire-street.csv",
            "a CSV in the folder 'data/', not in a month folder",
        ),
        ("2025-13/2025-13-leicestershire-street.csv", "a CSV in the folder '2025-13/'"),
        ("2025-01/2025-02-leicestershire-street.csv", "a file of 2025-02 in the folder of 2025-01"),
        (
            "2025-01/leicestershire-street.csv",
            "'leicestershire-street.csv' is not a police.uk file name",
        ),
        ("2025-01/2025-01/2025-01-leicestershire-street.csv", "not in a month folder"),
    ],
)
def test_a_member_out_of_the_layout_is_refused_by_name(
    tmp_path: Path, store: Store, member: str, why: str
) -> None:
    data = archives.street("leicestershire", "2025-01", 20)
    path = tmp_path / "2025-01.zip"
    message = _refused(store, {GOOD: data, member: data}, path)
    assert f"{path}!{member}: " in message and why in message


def test_a_zip_in_the_archive_is_refused_by_name(tmp_path: Path, store: Store) -> None:
    data = archives.street("leicestershire", "2025-01", 20)
    inner = archives.write_zip(tmp_path / "inner.zip", {GOOD: data})
    path = tmp_path / "2025-01.zip"
    message = _refused(store, {GOOD: data, "2025-01/more.zip": inner.read_bytes()}, path)
    assert f"{path}!2025-01/more.zip: a zip inside a zip is not read" in message


def test_other_files_in_the_archive_are_ignored(tmp_path: Path, store: Store) -> None:
    data = archives.street("leicestershire", "2025-01", 20)
    archive = archives.write_zip(tmp_path / "a.zip", {GOOD: data, "README.txt": b"notes"})
    [result] = ingest(store, [archive])
    assert (result.rows_stored, result.publication) == (20, "2025-01")
