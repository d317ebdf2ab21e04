"""The brief's long-run section (``--since YEAR``), checked against the raw files: each year's
crimes counted from the police.uk CSVs, the population of the estimate nearest that year, no
rate for a part year and nothing for a year with no month stored (missing is not zero)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from beatbook.cli.main import app
from beatbook.errors import InputError
from beatbook.publish import brief
from beatbook.reference import ASB
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import raw_scalar


def raw_crimes(con: duckdb.DuckDBPyConnection, year: int) -> int:
    return int(
        raw_scalar(
            con,
            "SELECT count(*) FROM street WHERE district = 'Leicester' AND month LIKE ? "
            'AND "Crime type" <> ?',
            [f"{year}-%", ASB],
        )
    )


def raw_population(con: duckdb.DuckDBPyConnection, year: int) -> float:
    """Leicester's residents in the raw ONS estimate of ``year`` (2019: 2011 LSOAs)."""
    if year == 2019:
        sql = (
            "SELECT sum(population) FROM pop2019 WHERE code IN "
            "(SELECT DISTINCT LSOA11CD FROM bridge WHERE LAD22NM = 'Leicester')"
        )
    else:
        sql = (
            "SELECT sum(population) FROM pop2022 WHERE code IN "
            "(SELECT LSOA21CD FROM bridge WHERE LAD22NM = 'Leicester')"
        )
    return float(raw_scalar(con, sql))


@pytest.fixture(scope="module")
def written(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> brief.Brief:
    out = tmp_path_factory.mktemp("since")
    return brief.write_brief(sample_store, "Leicester", 2025, None, out, since=2019)


def test_each_year_is_counted_from_the_raw_files(
    written: brief.Brief, raw_db: duckdb.DuckDBPyConnection
) -> None:
    section = written.facts["long_run"]
    years = {y["year"]: y for y in section["years"]}
    assert sorted(years) == list(range(2019, 2026))
    for year in (2020, 2021):  # full years: a rate on the estimate nearest mid-year
        assert years[year]["months_stored"] == 12 and years[year]["complete"]
        assert years[year]["count"] == raw_crimes(raw_db, year)
    assert years[2020]["population_year"] == 2019  # mid-2020 is a year from 2019, two from 2022
    assert years[2021]["population_year"] == 2022
    for year in (2020, 2021):
        residents = raw_population(raw_db, years[year]["population_year"])
        assert years[year]["rate_per_1000"] == pytest.approx(
            raw_crimes(raw_db, year) / residents * 1000
        )
    # 2025: three months stored, their count and no rate; 2019 and 2022-2024: nothing stored
    assert section["from"] == "2019-01" and section["to"] == "2025-03"  # the brief's last month
    assert years[2025]["months_stored"] == 3 and years[2025]["count"] == raw_crimes(raw_db, 2025)
    assert years[2025]["rate_per_1000"] is None
    for year in (2019, 2022, 2023, 2024):
        assert years[year]["count"] is None and years[year]["rate_per_1000"] is None


def test_the_section_reads_what_the_figures_say(written: brief.Brief) -> None:
    text = written.markdown
    section = text[text.index("## Since 2019") : text.index("## Methods")]
    rows = {
        int(m.group(1)): m.group(0)
        for m in re.finditer(r"^\| (\d{4}) \|.*$", section, flags=re.MULTILINE)
    }
    assert set(rows) == set(range(2019, 2026))
    years = {y["year"]: y for y in written.facts["long_run"]["years"]}
    assert f"| {years[2020]['count']:,} | {years[2020]['rate_per_1000']:,.1f} |" in rows[2020]
    assert rows[2023] == "| 2023 | 0 of 12 | – | – | – |"  # no data is not zero crimes
    assert "| 2025 | 3 of 12 |" in rows[2025] and rows[2025].endswith("| – | mid-2022 |")
    # the only two full years are compared; the partial brief year is not
    assert "Shares of crime, 2020 against 2021" in section
    assert "brief-long-run.png" in section
    assert (written.markdown_path.parent / "brief-long-run.png").read_bytes()[:4] == b"\x89PNG"


def test_since_must_come_before_the_year(sample_store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--since 2025: expected a year before .* 2025"):
        brief.build_facts(sample_store, "Leicester", 2025, None, since=2025)


def test_the_cli_adds_and_drops_the_section(sample_store_path: Path, tmp_path: Path) -> None:
    """``--since`` writes the section and its chart; the same folder without it loses both."""
    env = {"COLUMNS": "200", STORE_ENV: None}
    base = ["--store", str(sample_store_path), "brief", "--area", "Leicester", "--year", "2021"]
    out = tmp_path / "brief"
    result = CliRunner().invoke(app, [*base, "--since", "2020", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "## Since 2020" in (out / "brief.md").read_text(encoding="utf-8")
    assert (out / "brief-long-run.png").exists()
    result = CliRunner().invoke(app, [*base, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "## Since" not in (out / "brief.md").read_text(encoding="utf-8")
    assert not (out / "brief-long-run.png").exists()
    result = CliRunner().invoke(app, [*base, "--since", "2030", "--out", str(out)], env=env)
    assert isinstance(result.exception, InputError)  # main() prints it, exit code 2
    assert "--since 2030: expected a year before the brief's year, 2021" in str(result.exception)
