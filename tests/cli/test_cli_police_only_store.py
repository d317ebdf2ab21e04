"""A store holding only police.uk files (issue 16, item 12): no ONS lookup, no population.

``areas list`` and ``stats`` work, from the police.uk files alone; commands that need rates
(``rank``, ``compare``) stop with one line saying what to import. Run as real processes;
expected counts come from the raw files through the csv module.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from beatbook.store import STORE_ENV
from support.fixtures_store import FORCE_AREA, POLICE

MONTHS = ["2025-01", "2025-02"]
FILES = [POLICE / f"{m}-leicestershire-street.csv.gz" for m in MONTHS]
PERIOD = ["--from", MONTHS[0], "--to", MONTHS[-1]]


def beatbook() -> list[str]:
    script = Path(sys.executable).with_name("beatbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != STORE_ENV}
    return {**env, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}


def _raw_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in FILES:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            rows += csv.DictReader(fh)
    return rows


def _district(row: dict[str, str]) -> str:
    return row["LSOA name"].rsplit(" ", 1)[0] if row["LSOA name"] else ""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    store = str(tmp_path_factory.mktemp("police-only") / "beatbook.duckdb")
    ingested = subprocess.run(
        [*beatbook(), "--store", store, "ingest", *map(str, FILES)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert ingested.returncode == 0, ingested.stderr
    plans = {
        "list_json": ["areas", "list", "--json"],
        "list": ["areas", "list"],
        "force_json": ["stats", "--area", "Leicestershire", *PERIOD, "--json"],
        "force": ["stats", "--area", "Leicestershire", *PERIOD],
        "district_types": ["stats", "--area", "Leicester", *PERIOD, "--by", "crime-type", "--json"],
        "rank": ["rank", "--area", "Leicester", *PERIOD],
        "compare": ["compare", "--area", "Leicester", *PERIOD],
    }

    def run(item: tuple[str, list[str]]) -> tuple[str, subprocess.CompletedProcess[str]]:
        name, args = item
        done = subprocess.run(
            [*beatbook(), "--store", store, *args],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=300,
        )
        return name, done

    with ThreadPoolExecutor(max_workers=max(2, min(6, os.cpu_count() or 2))) as pool:
        return dict(pool.map(run, plans.items()))


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


def test_areas_list_works_without_a_lookup(runs: dict[str, Any]) -> None:
    listed = json.loads(_ok(runs["list_json"]))
    force = [a for a in listed if a["kind"] == "force area"]
    assert [a["code"] for a in force] == ["leicestershire"]
    # Its districts: the ones it polices, by the names in its files (no lookup needed).
    assert (
        f"{len(FORCE_AREA)} local authorities ({', '.join(sorted(FORCE_AREA))})"
        in (force[0]["description"])
    )
    districts = {a["name"] for a in listed if a["kind"] == "local authority"}
    assert districts == {_district(r) for r in _raw_rows() if _district(r)}
    assert not [a for a in listed if a["kind"] == "ward"]
    assert "Leicestershire" in _ok(runs["list"])


def test_stats_counts_from_police_uk_files_alone(runs: dict[str, Any]) -> None:
    every = _raw_rows()
    rows = [r for r in every if r["Crime type"] != "Anti-social behaviour"]
    record = json.loads(_ok(runs["force_json"]))
    # Every crime row (Leicestershire repeats no Crime ID); ASB apart.
    assert (record["unit"], record["count"]) == ("crimes", len(rows))
    assert record["asb_incidents"] == len(every) - len(rows) > 0
    assert record["unlocated"] == sum(1 for r in rows if not r["LSOA code"])
    assert record["outside_force_districts"] == sum(
        1 for r in rows if _district(r) and _district(r) not in FORCE_AREA
    )
    assert record["population"] is None and record["rate_per_1000"] is None
    assert "population" in record["rate_unavailable"]
    assert "import-lookup" in record["rate_unavailable"]
    text = _ok(runs["force"])
    assert f"{len(rows):,}" in text and "no rate" in text


def test_stats_by_crime_type_for_a_district(runs: dict[str, Any]) -> None:
    records = json.loads(_ok(runs["district_types"]))
    expected: dict[str, int] = {}
    for r in _raw_rows():
        if _district(r) == "Leicester" and r["Crime type"] != "Anti-social behaviour":
            expected[r["Crime type"]] = expected.get(r["Crime type"], 0) + 1
    assert {r["crime_type"]: r["count"] for r in records} == expected
    assert all(r["rate_per_1000"] is None for r in records)


@pytest.mark.parametrize("command", ["rank", "compare"])
def test_rates_say_what_they_need(runs: dict[str, Any], command: str) -> None:
    done = runs[command]
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "population" in lines[0] and "lookup" in lines[0]
