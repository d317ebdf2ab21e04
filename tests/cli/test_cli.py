"""The ``beatbook`` command line, run as a real process against a real store.

Starting the CLI costs a few seconds (scipy, statsmodels, polars), so the process runs are
launched together by one module fixture and each test checks one of them. ``--help``
texts and their examples are checked in-process with Typer's test runner.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pytest

from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import POLICE, STREET_FILES

GOLDEN_BRIEF = Path(__file__).parents[1] / "golden" / "brief-leicester-2021.md"
STATS_2020 = ["stats", "--area", "Leicester", "--from", "2020-01", "--to", "2020-12", "--json"]
STATS_FIELDS = {
    "area",
    "area_kind",
    "from",
    "to",
    "months",
    "months_missing",
    "count",
    "population",
    "population_year",
    "population_lsoas",
    "rate_per_1000",
    "ci_low",
    "ci_high",
    "conf",
    "trend",
}
COMPARE_FIELDS = {
    "area",
    "against",
    "from",
    "to",
    "months",
    "months_missing",
    "population_year",
    "population_area",
    "population_against",
    "categories",
}
RANK_FIELDS = {
    "area",
    "from",
    "to",
    "crime_types",
    "peers",
    "n_peers",
    "population_year",
    "seed",
    "rank",
    "table",
}


def beatbook() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m beatbook.cli.main``."""
    script = Path(sys.executable).with_name("beatbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != STORE_ENV}
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}, **extra)
    return env


def snapshot(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the full contents of every table in a store."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SHOW TABLES").fetchall()]
        return {
            t: con.execute(
                f"SELECT count(*), coalesce(md5(string_agg(r::VARCHAR, chr(10) "
                f"ORDER BY r::VARCHAR)), '') FROM \"{t}\" AS r"
            ).fetchone()
            for t in tables
        }
    finally:
        con.close()


def _bad_month_file(folder: Path) -> Path:
    """The real 2020-03 file with one Month changed to '2020-13' on file line 501."""
    lines = gzip.decompress((POLICE / "2020-03-leicestershire-street.csv.gz").read_bytes())
    rows = lines.decode("utf-8").split("\r\n")
    rows[500] = rows[500].replace(",2020-03,", ",2020-13,", 1)
    assert ",2020-13," in rows[500]
    path = folder / "2020-03-leicestershire-street.csv"
    path.write_text("\r\n".join(rows), encoding="utf-8", newline="")
    return path


@pytest.fixture(scope="module")
def runs(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every process run of this module, launched together; name -> CompletedProcess."""
    tmp = tmp_path_factory.mktemp("cli")
    store = str(sample_store_path)

    small = tmp / "small.duckdb"  # for the failed ingest: one real month, then a bad file
    with Store(small) as st:
        ingest(st, [STREET_FILES[0]])
    bad = _bad_month_file(tmp)
    brief_dir = tmp / "brief"

    plans: dict[str, tuple[list[str], dict[str, str]]] = {
        "store_before": (["--store", store, *STATS_2020], _env()),
        "store_after": ([*STATS_2020, "--store", store], _env()),
        "store_env": (STATS_2020, _env(**{STORE_ENV: store})),
        "compare": (
            [
                "compare",
                "--area",
                "Leicester",
                "--from",
                "2021-01",
                "--to",
                "2021-12",
                "--json",
                "--store",
                store,
            ],
            _env(),
        ),
        "rank": (
            ["rank", "--area", "Leicester", "--from", "2021-01", "--to", "2021-12", "--json"],
            _env(**{STORE_ENV: store}),
        ),
        "unknown_area": (
            [
                "--store",
                store,
                "stats",
                "--area",
                "Nowhereshire",
                "--from",
                "2020-01",
                "--to",
                "2020-12",
            ],
            _env(),
        ),
        "bad_from": (
            [
                "--store",
                store,
                "stats",
                "--area",
                "Leicester",
                "--from",
                "2020-13",
                "--to",
                "2020-12",
            ],
            _env(),
        ),
        "no_store": (["--store", str(tmp / "absent.duckdb"), *STATS_2020], _env()),
        "bad_ingest": (
            [
                "--store",
                str(small),
                "ingest",
                str(POLICE / "2020-02-leicestershire-street.csv.gz"),
                str(bad),
            ],
            _env(),
        ),
        "hotspots": (
            [
                "--store",
                store,
                "hotspots",
                "--area",
                "Leicester",
                "--month",
                "2021-06",
                "--permutations",
                "999",
                "--seed",
                "4",
                "--json",
            ],
            _env(),
        ),
        "hotspots_text": (
            [
                "--store",
                store,
                "hotspots",
                "--area",
                "Leicester",
                "--month",
                "2021-06",
                "--problem",
                "acquisitive",
                "--cell-size",
                "300",
                "--permutations",
                "999",
                "--limit",
                "3",
            ],
            _env(),
        ),
        "hotspots_bad": (
            [
                "--store",
                store,
                "hotspots",
                "--area",
                "Leicester",
                "--month",
                "2021-06",
                "--cell-size",
                "20",
            ],
            _env(),
        ),
        "forecast": (
            [
                "--store",
                store,
                "forecast",
                "--area",
                "Leicester",
                "--cutoff",
                "2021-11",
                "--method",
                "mean-3",
                "--problem",
                "burglary",
                "--limit",
                "5",
                "--json",
            ],
            _env(),
        ),
        "evaluate": (
            [
                "--store",
                store,
                "evaluate",
                "--area",
                "Leicester",
                "--from",
                "2021-11",
                "--to",
                "2021-12",
                "--method",
                "mean-3",
                "--method",
                "prospective",
                "--cell-size",
                "250",
                "--seed",
                "3",
                "--chart",
                str(tmp / "bt.png"),
                "--json",
            ],
            _env(),
        ),
        "places": (
            [
                "--store",
                store,
                "places",
                "--area",
                "Leicester",
                "--from",
                "2021-06",
                "--to",
                "2021-06",
                "--csv",
                str(tmp / "places.csv"),
                "--limit",
                "3",
                "--json",
            ],
            _env(),
        ),
        "forecast_leak": (
            ["--store", store, "forecast", "--area", "Leicester", "--cutoff", "2023-05"],
            _env(),
        ),
        "brief": (
            [
                "--store",
                store,
                "brief",
                "--area",
                "Leicester",
                "--year",
                "2021",
                "--compare-year",
                "2020",
                "--out",
                str(brief_dir),
            ],
            _env(),
        ),
    }
    before = snapshot(small)

    def run(item: tuple[str, tuple[list[str], dict[str, str]]]) -> tuple[str, Any]:
        name, (args, env) = item
        done = subprocess.run(
            [*beatbook(), *args], capture_output=True, text=True, env=env, cwd=tmp, timeout=300
        )
        return name, done

    with ThreadPoolExecutor(max_workers=max(2, min(6, os.cpu_count() or 2))) as pool:
        results: dict[str, Any] = dict(pool.map(run, plans.items()))
    results["small_store"] = small
    results["small_before"] = before
    results["brief_dir"] = brief_dir
    results["chart"] = tmp / "bt.png"
    results["places_csv"] = tmp / "places.csv"
    return results


def _ok_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_stats_json_has_the_documented_fields(runs: dict[str, Any]) -> None:
    result = _ok_json(runs["store_before"])
    assert result.keys() >= STATS_FIELDS
    assert (result["area"], result["from"], result["to"]) == ("Leicester", "2020-01", "2020-12")
    assert (result["population"], result["population_year"]) == (354_224, 2019)


def test_store_option_before_or_after_the_command_or_from_the_environment(
    runs: dict[str, Any],
) -> None:
    first = _ok_json(runs["store_before"])
    assert _ok_json(runs["store_after"]) == first
    assert _ok_json(runs["store_env"]) == first


def test_compare_and_rank_json(runs: dict[str, Any]) -> None:
    compare = _ok_json(runs["compare"])
    assert compare.keys() >= COMPARE_FIELDS
    assert compare["against"] == "Leicestershire excluding Leicester"
    assert len(compare["categories"]) == 13  # the crime types; ASB apart
    assert compare["asb"]["crime_type"] == "Anti-social behaviour"
    rank = _ok_json(runs["rank"])
    assert rank.keys() >= RANK_FIELDS
    assert (rank["n_peers"], rank["rank"]["name"], rank["rank"]["rank"]) == (9, "Leicester", 1)


def test_unknown_area_is_one_line_and_exit_code_2(runs: dict[str, Any]) -> None:
    line = _one_line_error(runs["unknown_area"])
    assert "'Nowhereshire'" in line and "no such area" in line


def test_bad_month_names_the_option(runs: dict[str, Any]) -> None:
    line = _one_line_error(runs["bad_from"])
    assert "--from '2020-13'" in line and "YYYY-MM" in line


def test_missing_store_is_a_clear_error(runs: dict[str, Any]) -> None:
    line = _one_line_error(runs["no_store"])
    assert "absent.duckdb" in line and "does not exist" in line


def test_failed_ingest_leaves_the_store_unchanged(runs: dict[str, Any]) -> None:
    line = _one_line_error(runs["bad_ingest"])
    assert "2020-03-leicestershire-street.csv" in line and "2020-13" in line
    assert "line 501" in line and "column 'Month'" in line
    assert snapshot(runs["small_store"]) == runs["small_before"]


def test_brief_command_writes_the_golden_brief(runs: dict[str, Any]) -> None:
    done = runs["brief"]
    assert done.returncode == 0, done.stderr
    text = (runs["brief_dir"] / "brief.md").read_text(encoding="utf-8")
    assert (runs["brief_dir"] / "brief.html").exists()
    if GOLDEN_BRIEF.exists():
        assert text == GOLDEN_BRIEF.read_text(encoding="utf-8")
    assert text.startswith("# Leicester: crime in 2021")


def test_hotspots_json(runs: dict[str, Any], raw_db) -> None:
    r = _ok_json(runs["hotspots"])
    assert {"area", "month", "grid", "method", "hot_cells", "cold_cells", "cells", "places"} <= set(
        r
    )
    assert r["method"]["seed"] == 4 and r["method"]["permutations"] == 999
    (n,) = raw_db.execute(
        "SELECT count(*) FROM street WHERE month = '2021-06' AND district = 'Leicester' "
        'AND "Longitude" IS NOT NULL'
    ).fetchone()
    assert r["crimes"] == n
    assert r["hot_cells"] == sum(c["class"] == "hot" for c in r["cells"]) > 0


def test_hotspots_text(runs: dict[str, Any]) -> None:
    done = runs["hotspots_text"]
    assert done.returncode == 0, done.stderr
    assert "cells of 300 m" in done.stdout and "Top places by harm" in done.stdout
    assert "acquisitive" in done.stdout


def test_hotspots_bad_cell_size(runs: dict[str, Any]) -> None:
    assert "--cell-size 20: expected 50 to 500 metres" in _one_line_error(runs["hotspots_bad"])


def test_forecast_json(runs: dict[str, Any], raw_db) -> None:
    r = _ok_json(runs["forecast"])
    assert (r["cutoff"], r["target"], r["method"], r["problem"]) == (
        "2021-11",
        "2021-12",
        "mean-3",
        "burglary",
    )
    assert len(r["cells"]) == 5 and [c["rank"] for c in r["cells"]] == [1, 2, 3, 4, 5]
    scores = [c["score"] for c in r["cells"]]
    assert scores == sorted(scores, reverse=True)


def test_evaluate_json(runs: dict[str, Any]) -> None:
    r = _ok_json(runs["evaluate"])
    assert r["targets"] == ["2021-11", "2021-12"] and r["seed"] == 3
    assert r["grid"]["cell_size_m"] == 250
    assert {(x["method"], x["coverage"]) for x in r["summary"]} == {
        (m, c) for m in ("mean-3", "prospective") for c in (0.01, 0.02, 0.05, 0.1, 0.2)
    }
    assert len(r["months"]) == 2 * 2 * 5


def test_forecast_of_an_unstored_cutoff_is_refused(runs: dict[str, Any]) -> None:
    assert "--cutoff 2023-05: that month is not stored" in _one_line_error(runs["forecast_leak"])


def test_evaluate_chart_is_a_png(runs: dict[str, Any]) -> None:
    import struct

    data = runs["chart"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (960, 600)
    assert "wrote" in runs["evaluate"].stderr


def test_places_json_and_csv(runs: dict[str, Any], raw_db) -> None:
    top = _ok_json(runs["places"])
    assert len(top) == 3 and top[0]["crimes"] >= top[1]["crimes"] >= top[2]["crimes"]
    table = duckdb.read_csv(str(runs["places_csv"])).fetchall()
    (n,) = raw_db.execute(
        "SELECT count(*) FROM street WHERE month = '2021-06' AND district = 'Leicester' "
        'AND "Longitude" IS NOT NULL'
    ).fetchone()
    assert sum(row[-1] for row in table) == n
