"""``beatbook ingest`` as a real process: what replaces a month, ``--replace``, duplicates,
and their text and ``--json`` output (issue 17, items 1 and 2).

Inputs are the bundled real files, a re-publication with 10% of its rows removed and a
2023-03 file carrying 5 rows of 2021-07 (real 2020-03 rows re-dated); counts come from Python's ``csv`` module. The
runs are launched together by one module fixture, each on its own store.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import POLICE

FEB = POLICE / "2020-02-leicestershire-street.csv.gz"
JULY = POLICE / "2021-07-leicestershire-street.csv.gz"


def beatbook() -> list[str]:
    script = Path(sys.executable).with_name("beatbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != STORE_ENV}
    return {**env, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}


def _text(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def _rows(text: str) -> int:
    return sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row) - 1


def _store(path: Path, files: list[Path]) -> str:
    with Store(path) as st:
        if files:
            ingest(st, files)
    return str(path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("cli-ingest")
    lines = _text(FEB).split("\r\n")
    shrunk = tmp / "shrunk" / "2020-02-leicestershire-street.csv"
    shrunk.parent.mkdir()
    kept = [line for i, line in enumerate(lines[1:-1]) if i % 10]  # every tenth row gone
    shrunk.write_text("\r\n".join([lines[0], *kept, ""]), newline="")
    strays = _text(POLICE / "2020-03-leicestershire-street.csv.gz").split("\r\n")
    strays = [strays[0]] + [line.replace(",2020-03,", ",2023-03,", 1) for line in strays[1:]]
    strays[100:100] = _text(JULY).split("\r\n")[1:6]
    stray = tmp / "2023-03-leicestershire-street.csv"
    stray.write_text("\r\n".join(strays), newline="")
    copy = tmp / "copy" / "2020-02-leicestershire-street.csv"
    copy.parent.mkdir()
    copy.write_text(_text(FEB), newline="")

    plans = {
        "refused_json": (_store(tmp / "a.duckdb", [FEB]), [str(shrunk), "--json"]),
        "refused_text": (_store(tmp / "b.duckdb", [FEB]), [str(shrunk)]),
        "replace_json": (_store(tmp / "c.duckdb", [FEB]), [str(shrunk), "--replace", "--json"]),
        "stray_text": (_store(tmp / "d.duckdb", [JULY]), [str(stray)]),
        "duplicate_json": (_store(tmp / "e.duckdb", []), [str(FEB), str(copy), "--json"]),
        "duplicate_text": (_store(tmp / "f.duckdb", []), [str(FEB), str(copy)]),
    }

    def run(plan: tuple[str, list[str]]) -> subprocess.CompletedProcess[str]:
        store, args = plan
        return subprocess.run(
            [*beatbook(), "--store", store, "ingest", *args],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=300,
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        done = dict(zip(plans, pool.map(run, plans.values()), strict=True))
    return {
        **done,
        "stores": {name: plan[0] for name, plan in plans.items()},
        "before": _rows(_text(FEB)),
        "after": _rows(shrunk.read_text()),
        "shrunk": str(shrunk),
        "stray": str(stray),
        "copy": str(copy),
    }


def _month_rows(store: str, month: str) -> int:
    with Store(store, read_only=True) as st:
        return int(st.scalar("SELECT count(*) FROM street_crimes WHERE month = ?", [f"{month}-01"]))


def test_a_shrinking_month_is_refused_with_counts_in_json(runs: dict[str, Any]) -> None:
    done = runs["refused_json"]
    assert done.returncode == 2, done.stderr
    payload = json.loads(done.stdout)
    assert payload["refused"] == [
        {
            "force": "leicestershire",
            "kind": "street",
            "month": "2020-02",
            "file": runs["shrunk"],
            "rows_before": runs["before"],
            "rows_after": runs["after"],
        }
    ]
    assert "--replace" in payload["error"]
    assert _month_rows(runs["stores"]["refused_json"], "2020-02") == runs["before"]


def test_a_shrinking_month_is_refused_in_one_line(runs: dict[str, Any]) -> None:
    done = runs["refused_text"]
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: nothing was imported: 1 stored month would lose more than 2%")
    assert f"{runs['before']:,} -> {runs['after']:,} rows" in line and "--replace" in line
    assert _month_rows(runs["stores"]["refused_text"], "2020-02") == runs["before"]


def test_replace_replaces_and_reports_before_and_after(runs: dict[str, Any]) -> None:
    done = runs["replace_json"]
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert (result["status"], result["replaced"]) == ("stored", ["2020-02"])
    assert result["replacements"] == [
        {"month": "2020-02", "rows_before": runs["before"], "rows_after": runs["after"]}
    ]
    assert set(result) >= {"stray_rows", "empty_lines", "duplicate_of", "rows_quarantined"}
    assert _month_rows(runs["stores"]["replace_json"], "2020-02") == runs["after"]


def test_stray_rows_are_reported_and_leave_their_month_alone(runs: dict[str, Any]) -> None:
    done = runs["stray_text"]
    assert done.returncode == 0, done.stderr
    assert "5 rows of other months (2021-07: 5) quarantined, not stored" in done.stdout
    assert _month_rows(runs["stores"]["stray_text"], "2021-07") == _rows(_text(JULY))


def test_identical_files_for_a_month_are_one_and_a_duplicate(runs: dict[str, Any]) -> None:
    done = runs["duplicate_json"]
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [(r["status"], r["duplicate_of"]) for r in results] == [
        ("stored", None),
        ("duplicate", str(FEB)),
    ]
    text = runs["duplicate_text"]
    assert text.returncode == 0, text.stderr
    assert "duplicate of 2020-02-leicestershire-street.csv.gz" in text.stdout
    assert _month_rows(runs["stores"]["duplicate_text"], "2020-02") == runs["before"]
