"""The monthly counts (aggregates.py) against the police.uk files themselves.

Two forces in one store, Leicestershire with two months missing and Nottinghamshire with
repeated Crime IDs: every (force, month, LSOA, district, crime type) count equals a count
of the files read with the csv module alone, under the counting rules of
docs/statistics.md (a repeated Crime ID once in its month, every ASB row). Then the counts
follow a replaced month, ignore a refused import, and are rebuilt for an older store.
"""

from __future__ import annotations

import csv
import gzip
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from beatbook.errors import InputError
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support.fixtures_store import POLICE
from support.two_forces import LEICS_FILES, NOTTS_FILES, counted_rows

Key = tuple[str, str, str | None, str | None, str]


def _key(force: str, row: dict[str, str]) -> Key:
    name = row["LSOA name"]
    found = re.fullmatch(r"(.*) [0-9]{3}[A-Z]", name)
    return (
        force,
        f"{row['Month']}-01",
        row["LSOA code"] or None,
        found[1] if found and found[1] else None,
        row["Crime type"],
    )


def _all_rows(files: list[Path]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def _counted_rows(files: list[Path]) -> list[dict[str, str]]:
    """The counting unit, by hand: every ASB row (no Crime ID), and the first row of each
    Crime ID in its month's file."""
    kept = []
    for path in files:
        seen: set[str] = set()
        for row in _all_rows([path]):
            if not row["Crime ID"] or row["Crime ID"] not in seen:
                kept.append(row)
            seen.add(row["Crime ID"])
    return kept


def _stored(st: Store) -> dict[Key, tuple[int, int]]:
    rows = st.rows(
        "SELECT force, strftime(month, '%Y-%m-%d'), lsoa_code, local_authority, crime_type, "
        "counted, stored FROM monthly_counts"
    )
    keys = [tuple(r[:5]) for r in rows]
    assert len(keys) == len(set(keys)), "one row per (force, month, LSOA, district, type)"
    return {tuple(r[:5]): (r[5], r[6]) for r in rows}  # type: ignore[misc]


def _districts(st: Store) -> set[tuple[str, str]]:
    rows = st.rows("SELECT force, local_authority FROM force_districts")
    assert len(rows) == len(set(rows))
    return set(rows)


def _districts_in(counts: dict[Key, tuple[int, int]]) -> set[tuple[str, str]]:
    return {(k[0], k[3]) for k in counts if k[3] is not None}


def _from_files(files: dict[str, list[Path]]) -> dict[Key, tuple[int, int]]:
    counted: Counter[Key] = Counter()
    stored: Counter[Key] = Counter()
    for force, paths in files.items():
        stored.update(_key(force, row) for row in _all_rows(paths))
        counted.update(_key(force, row) for row in _counted_rows(paths))
    return {k: (counted[k], stored[k]) for k in stored}


def test_monthly_counts_equal_the_files(two_force_store: Store) -> None:
    assert two_force_store.scalar("SELECT count(*) FROM quarantine WHERE kind = 'street'") == 0
    expected = _from_files({"leicestershire": LEICS_FILES, "nottinghamshire": NOTTS_FILES})
    found = _stored(two_force_store)
    assert found == expected
    assert _districts(two_force_store) == _districts_in(expected)
    assert ("nottinghamshire", "Erewash") in _districts(two_force_store)  # Derbyshire's, recorded
    by_hand = Counter(
        _key(f, r) for f in ("leicestershire", "nottinghamshire") for r in counted_rows(f)
    )
    assert {k: c for k, (c, _) in found.items() if c} == dict(by_hand)  # the shared helper agrees
    # The case the rule is for is in the data: repeats folded, and ASB rows all counted.
    assert sum(s - c for c, s in found.values()) > 0
    assert sum(c for k, (c, _) in found.items() if k[4] == "Anti-social behaviour") > 0
    months = {(k[0], k[1]) for k in found}
    assert ("leicestershire", "2025-02-01") not in months  # a missing month has no counts


def _copy(two_force_store_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    shutil.copyfile(two_force_store_path, path)
    return path


def test_counts_follow_a_replaced_month_and_ignore_a_refused_import(
    two_force_store_path: Path, tmp_path: Path
) -> None:
    path = _copy(two_force_store_path, tmp_path)
    month = LEICS_FILES[0]
    with gzip.open(month, "rt", encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines(keepends=True)
    shorter = tmp_path / month.name  # the same month, re-published with its first 2,000 rows
    with gzip.open(shorter, "wt", encoding="utf-8", newline="") as fh:
        fh.writelines(lines[:2001])
    bad = tmp_path / "bad" / "2025-03-leicestershire-street.csv"
    bad.parent.mkdir()
    bad.write_text("not,a,police.uk,header\n1,2,3,4\n", encoding="utf-8")
    with Store(path) as st:
        ingest(st, [shorter], replace=True)
        after_replace = _stored(st)
        districts = _districts(st)
        with pytest.raises(InputError):
            ingest(st, [POLICE / "2025-02-leicestershire-street.csv.gz", bad])
        assert _stored(st) == after_replace
        assert _districts(st) == districts
    expected = _from_files(
        {"leicestershire": [shorter, *LEICS_FILES[1:]], "nottinghamshire": NOTTS_FILES}
    )
    assert after_replace == expected
    assert districts == _districts_in(expected)
    assert (
        sum(s for k, (_, s) in after_replace.items() if k[:2] == ("leicestershire", "2025-01-01"))
        == 2000
    )


def test_an_older_store_gets_its_counts(two_force_store_path: Path, tmp_path: Path) -> None:
    path = _copy(two_force_store_path, tmp_path)
    with Store(path) as st:
        expected, districts = _stored(st), _districts(st)
        with st.transaction() as con:
            con.execute("DROP TABLE monthly_counts; DROP TABLE force_districts")
            con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with Store(path) as st:
        assert _stored(st) == expected
        assert _districts(st) == districts


def test_a_national_store_prints_no_progress_bar(
    two_force_store_path: Path, tmp_path: Path
) -> None:
    """DuckDB prints a progress bar on stdout for any query over 2 s, as national stores
    have, and it would land in the JSON a command prints: the store's connections have none."""
    path = _copy(two_force_store_path, tmp_path)
    for read_only in (True, False):
        with Store(path, read_only=read_only) as st:
            assert st.scalar("SELECT current_setting('enable_progress_bar')") is False
