"""``beatbook trend``: yearly series recomputed from the raw police.uk files and ONS estimates
(a separate DuckDB over the CSVs), on the sample store and on two forces with months missing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from scipy import stats
from typer.testing import CliRunner

from beatbook.cli.main import app
from beatbook.figures.trend import _breaks, long_run
from beatbook.months import parse_month
from beatbook.reference import ASB
from beatbook.store import STORE_ENV, Store
from support.two_forces import LEICS_MISSING, counted_rows

# MANIFEST.md section 4: Leicester's residents, mid-2019 and mid-2022.
LEICESTER = {2019: 354_224, 2022: 373_399}


def raw_year(raw: duckdb.DuckDBPyConnection, year: str, crime_type: str | None) -> tuple[int, int]:
    """(count of the type, or of crime; crimes, ASB excluded) in Leicester in the raw files."""
    where = "district = 'Leicester' AND month LIKE ? AND \"Crime type\" <> ?"
    total = raw.execute(f"SELECT count(*) FROM street WHERE {where}", [f"{year}-%", ASB]).fetchone()
    part = raw.execute(
        f'SELECT count(*) FROM street WHERE {where} AND "Crime type" = coalesce(?, "Crime type")',
        [f"{year}-%", ASB, crime_type],
    ).fetchone()
    assert total is not None and part is not None
    return int(part[0]), int(total[0])


def test_drugs_by_year_against_the_raw_files(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    result = long_run(sample_store, "Leicester", "2019-01", "2025-09", crime_type="Drugs")
    years = {y["year"]: y for y in result["years"]}
    assert sorted(years) == list(range(2019, 2026))
    for year, estimate in ((2020, 2019), (2021, 2022)):
        drugs, crime = raw_year(raw_db, str(year), "Drugs")
        row = years[year]
        assert (row["complete"], row["months_stored"], row["count"]) == (True, 12, drugs)
        assert row["share"] == pytest.approx(drugs / crime) and row["share_base"] == crime
        assert row["population_year"] == estimate and row["population"] == LEICESTER[estimate]
        assert row["rate_per_1000"] == pytest.approx(drugs / LEICESTER[estimate] * 1000)
    # 2025: three months stored, counted and marked, no rate; the empty years are no data.
    drugs_2025, _ = raw_year(raw_db, "2025", "Drugs")
    assert (years[2025]["months_stored"], years[2025]["count"]) == (3, drugs_2025)
    assert (
        years[2025]["rate_per_1000"] is None and len(years[2025]["months_missing"]) == 6
    )  # 04..09
    assert all(years[y]["count"] is None for y in (2019, 2022, 2023, 2024))
    change = result["change"]
    assert (change["first_year"], change["last_year"]) == (2020, 2021)
    before, after = raw_year(raw_db, "2020", "Drugs"), raw_year(raw_db, "2021", "Drugs")
    assert (change["part_before"], change["base_before"]) == before
    assert (change["part_after"], change["base_after"]) == after
    table = [[after[0], after[1] - after[0]], [before[0], before[1] - before[0]]]
    assert change["p_value"] >= stats.fisher_exact(table).pvalue - 1e-12
    assert ("no clear change" in change["text"]) == (not change["significant"])


def test_every_type_share_and_asb_apart(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    result = long_run(sample_store, "Leicester", "2020-01", "2021-12")
    y2020 = result["years"][0]
    _, crime = raw_year(raw_db, "2020", None)
    asb = raw_db.execute(
        "SELECT count(*) FROM street WHERE district = 'Leicester' AND month LIKE '2020-%' "
        'AND "Crime type" = ?',
        [ASB],
    ).fetchone()
    assert (y2020["count"], y2020["asb_incidents"]) == (crime, asb[0] if asb else None)
    assert sum(y2020["types"].values()) == crime and ASB not in y2020["types"]
    assert {c["crime_type"] for c in result["change"]} == set(y2020["types"])
    assert all(c["correction"].startswith("Holm") for c in result["change"])


def test_a_force_with_missing_months_is_marked(two_force_store: Store) -> None:
    result = long_run(two_force_store, "lad:Leicester", "2025-01", "2025-06")
    (year,) = result["years"]
    expected = sum(
        1
        for r in counted_rows("leicestershire")
        if r["LSOA name"].rsplit(" ", 1)[0] == "Leicester" and r["Crime type"] != ASB
    )
    assert (year["months_missing"], year["count"], year["rate_per_1000"]) == (
        LEICS_MISSING,
        expected,
        None,
    )
    assert result["change"] is None and "fewer than two full years" in result["change_unavailable"]


def test_category_breaks_are_marked_inside_the_period() -> None:
    def months(a: str, b: str) -> tuple[object, object]:
        return parse_month(a), parse_month(b)

    assert {b["before"] for b in _breaks(*months("2012-01", "2014-12"), None)} == {
        "Violent crime",
        "Public disorder and weapons",
        "Other theft",
    }
    assert [b["month"] for b in _breaks(*months("2010-12", "2014-12"), "Drugs")] == ["2011-09"]
    assert _breaks(*months("2013-05", "2025-12"), None) == []  # a break at the first month
    assert _breaks(*months("2016-01", "2025-12"), "Violence and sexual offences") == []


def test_trend_cli_writes_the_chart(sample_store_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "trend",
            "--store",
            str(sample_store_path),
            "--area",
            "Leicester",
            "--from",
            "2020-01",
            "--to",
            "2021-12",
            "--crime-type",
            "Burglary",
            "--out",
            str(tmp_path),
            "--json",
        ],
        env={STORE_ENV: None},
    )
    assert result.exit_code == 0, (result.output, result.exception)
    data = json.loads(result.output)
    assert data["chart"] == str(tmp_path / "trend.png")
    assert (tmp_path / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert data["change"]["text"].startswith("Burglary's share of crime went from")
