"""The Parquet export (issue 19): Hive-partitioned kind/force/month, read back as-is by
DuckDB, Polars and pandas, compared with the raw police.uk files (no BeatBook code).

The two-force store: Leicestershire 2025-01, -04, -05, -06 and Nottinghamshire 2025-01 ..
-06, whose files repeat Crime IDs (the counting rules' ``counted`` column must drop them).
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest

from beatbook.errors import InputError
from beatbook.export import export_parquet
from beatbook.store import Store
from support.two_forces import counted_rows

ASB = "Anti-social behaviour"


@pytest.fixture(scope="module")
def exported(two_force_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("export") / "parquet"
    with Store(two_force_store_path, read_only=True) as st:
        done = export_parquet(st, target)
    assert done["folder"] == str(target) and done["files"] == done["partitions"] == 10
    return target


def raw_counts(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[int, int]]:
    """(force, month) -> (rows, ASB rows) of the raw files."""
    rows = con.execute(
        'SELECT force, "Month", count(*), count(*) FILTER (WHERE "Crime type" = ?) '
        "FROM street GROUP BY ALL",
        [ASB],
    ).fetchall()
    return {(f, m): (int(n), int(a)) for f, m, n, a in rows}


def test_duckdb_reads_the_layout_as_is(
    exported: Path, two_force_raw: duckdb.DuckDBPyConnection
) -> None:
    folders = sorted(p.relative_to(exported).as_posix() for p in exported.glob("*/*/*"))
    assert folders[0] == "kind=street/force=leicestershire/month=2025-01"
    assert "kind=street/force=leicestershire/month=2025-02" not in folders  # not stored
    got = duckdb.sql(
        f"SELECT force, month, count(*), count(*) FILTER (WHERE is_asb) "
        f"FROM read_parquet('{exported}/**/*.parquet', hive_partitioning = true) "
        "WHERE kind = 'street' GROUP BY ALL"
    ).fetchall()
    assert {(f, m): (int(n), int(a)) for f, m, n, a in got} == raw_counts(two_force_raw)


def test_counted_rows_follow_the_counting_unit(exported: Path) -> None:
    frame = pl.scan_parquet(exported / "kind=street", hive_partitioning=True)
    for force in ("leicestershire", "nottinghamshire"):
        expected = Counter(r["Month"] for r in counted_rows(force))
        got = (
            frame.filter(pl.col("force") == force, pl.col("counted"))
            .group_by("month")
            .len()
            .collect()
        )
        assert dict(got.iter_rows()) == dict(expected)
    repeats = frame.filter(~pl.col("counted")).collect()
    assert repeats.height > 0 and repeats["repeat_of_line"].null_count() == 0
    # Each repeat points at a counted row of the same Crime ID, month and force.
    firsts = frame.filter(pl.col("counted")).select(
        "force", "month", pl.col("source_line").alias("repeat_of_line"), "crime_id"
    )
    joined = repeats.lazy().join(firsts, on=["force", "month", "repeat_of_line"]).collect()
    assert joined.height == repeats.height
    assert (joined["crime_id"] == joined["crime_id_right"]).all()


def test_pandas_reads_it_and_the_vintage_is_2021(exported: Path) -> None:
    frame = pd.read_parquet(exported / "kind=street")
    located = frame[frame["lsoa_code"].notna()]
    assert set(located["lsoa_vintage"].unique()) == {2021}  # the 2025 files use 2021 codes
    assert frame[frame["lsoa_code"].isna()]["lsoa_vintage"].isna().all()
    assert set(frame["force"].astype(str)) == {"leicestershire", "nottinghamshire"}


def test_options_select_and_a_rerun_replaces(two_force_store: Store, tmp_path: Path) -> None:
    target = tmp_path / "out"
    first = export_parquet(two_force_store, target, forces=["nottinghamshire"], from_="2025-05")
    assert sorted(p.name for p in (target / "kind=street/force=nottinghamshire").iterdir()) == [
        "month=2025-05",
        "month=2025-06",
    ]
    assert (
        first["rows"]["street"]
        == duckdb.sql(f"SELECT count(*) FROM read_parquet('{target}/**/*.parquet')").fetchall()[0][
            0
        ]
    )
    export_parquet(
        two_force_store, target, kinds=["street"], forces=["leicestershire"], to="2025-01"
    )
    assert [p.relative_to(target).as_posix() for p in sorted(target.glob("*/*/*"))] == [
        "kind=street/force=leicestershire/month=2025-01"
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kinds": ["crimes"]}, "--kind 'crimes': expected one of street"),
        ({"forces": ["kent"]}, "--force 'kent': no such force in the store"),
        ({"from_": "2025-7"}, "--from '2025-7': expected a month as YYYY-MM"),
        ({"from_": "2025-06", "to": "2025-01"}, "--from 2025-06 is after --to 2025-01"),
    ],
)
def test_bad_options_write_nothing_and_keep_the_last_export(
    two_force_store: Store, exported: Path, tmp_path: Path, options: dict, message: str
) -> None:
    target = tmp_path / "kept"
    shutil.copytree(exported, target)
    before = sorted(p.relative_to(target) for p in target.rglob("*"))
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        export_parquet(two_force_store, target, **options)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]


def test_a_file_in_the_way_is_refused(two_force_store: Store, tmp_path: Path) -> None:
    (tmp_path / "x").write_text("not a folder")
    with pytest.raises(InputError, match="exists and is not a folder"):
        export_parquet(two_force_store, tmp_path / "x")
