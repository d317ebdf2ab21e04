"""The statistics brief: every number equals one computed from the raw files, and a golden file.

Expected numbers come from the raw police.uk and ONS files (a separate DuckDB connection)
and from scipy and statsmodels (Garwood interval, the quasi-Poisson change test on the
monthly counts of ``support.quasi``, Holm written out), never from BeatBook.
``pytest --update-golden`` rewrites ``tests/golden/brief-leicester-2021.md``.
"""

from __future__ import annotations

import csv
import gzip
import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest
from scipy import stats

from beatbook.publish import brief
from beatbook.store import Store
from support.fixtures_store import (
    DISTRICTS,
    POLICE,
    build_store,
    holm,
    raw_scalar,
)
from support.quasi import change_p, monthly_by_type

ASB = "Anti-social behaviour"
GOLDEN = Path(__file__).parents[1] / "golden" / "brief-leicester-2021.md"
EVERY_ROSE = "rose significantly in every one"


def raw_by_type(
    con: duckdb.DuckDBPyConnection, districts: tuple[str, ...], year: int
) -> dict[str, int]:
    rows = con.execute(
        'SELECT "Crime type", count(*) FROM street WHERE district IN '
        "(SELECT unnest(?::VARCHAR[])) AND month LIKE ? GROUP BY 1",
        [list(districts), f"{year}-%"],
    ).fetchall()
    return {t: int(n) for t, n in rows}


def independent_directions(before: dict[str, int], after: dict[str, int]) -> dict[str, str]:
    """Per type: exact binomial test, same months and residents (p0 = 1/2), Holm over all."""
    types = sorted(before.keys() | after.keys())
    p = [
        stats.binomtest(after.get(t, 0), before.get(t, 0) + after.get(t, 0), 0.5).pvalue
        for t in types
    ]
    return {
        t: "no clear change"
        if p_adj >= 0.05
        else ("rise" if after.get(t, 0) > before.get(t, 0) else "fall")
        for t, p_adj in zip(types, holm(p), strict=True)
    }


def independent_monthly_directions(
    con: duckdb.DuckDBPyConnection, districts: tuple[str, ...], before: int, after: int
) -> dict[str, str]:
    """Per type: the over-dispersed test on the monthly counts (same months and residents in
    both years, so only the months' counts matter), Holm over all types."""
    months0 = [f"{before}-{m:02d}" for m in range(1, 13)]
    months1 = [f"{after}-{m:02d}" for m in range(1, 13)]
    counts0 = monthly_by_type(con, districts, months0)
    counts1 = monthly_by_type(con, districts, months1)
    types = sorted(counts0.keys() | counts1.keys())
    zero0, zero1 = dict.fromkeys(months0, 0), dict.fromkeys(months1, 0)
    p = [change_p(counts0.get(t, zero0), counts1.get(t, zero1)) for t in types]
    return {
        t: "no clear change"
        if p_adj >= 0.05
        else (
            "rise"
            if sum(counts1.get(t, zero1).values()) > sum(counts0.get(t, zero0).values())
            else "fall"
        )
        for t, p_adj in zip(types, holm(p), strict=True)
    }


@pytest.fixture(scope="module")
def leicester(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> brief.Brief:
    out = tmp_path_factory.mktemp("brief")
    return brief.write_brief(sample_store, "Leicester", 2021, 2020, out, seed=0)


@pytest.fixture(scope="module")
def truth(raw_db: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The brief's numbers for Leicester 2021 vs 2020, from the raw files and scipy."""
    after = raw_by_type(raw_db, ("Leicester",), 2021)
    before = raw_by_type(raw_db, ("Leicester",), 2020)
    # 2021 is nearer mid-2022 than mid-2019: the 2022 estimate, by 2021 LSOAs.
    population = float(
        raw_scalar(
            raw_db,
            "SELECT sum(population) FROM pop2022 WHERE code IN "
            "(SELECT LSOA21CD FROM bridge WHERE LAD22NM = 'Leicester')",
        )
    )
    crimes = sum(n for t, n in after.items() if t != ASB)
    crimes0 = sum(n for t, n in before.items() if t != ASB)
    monthly = {
        year: {
            month: sum(n[month] for t, n in by_type.items() if t != ASB)
            for month in next(iter(by_type.values()))
        }
        for year, by_type in (
            (y, monthly_by_type(raw_db, ("Leicester",), [f"{y}-{m:02d}" for m in range(1, 13)]))
            for y in (2020, 2021)
        )
    }
    return {
        "after": after,
        "before": before,
        "population": population,
        "crimes": crimes,
        "crimes0": crimes0,
        "change_p": change_p(monthly[2020], monthly[2021]),
        "directions": independent_monthly_directions(raw_db, ("Leicester",), 2020, 2021),
    }


def test_headline_numbers(leicester: brief.Brief, truth: dict[str, Any]) -> None:
    f = leicester.facts
    assert f["months"] == [f"2021-{m:02d}" for m in range(1, 13)]
    assert (f["crimes"], f["asb"]) == (truth["crimes"], truth["after"][ASB])
    assert f["population"]["population"] == truth["population"] == 373_399
    assert f["population"]["population_year"] == 2022
    rate = truth["crimes"] / truth["population"] * 1000
    low = stats.chi2.ppf(0.025, 2 * truth["crimes"]) / 2 / truth["population"] * 1000
    high = stats.chi2.ppf(0.975, 2 * truth["crimes"] + 2) / 2 / truth["population"] * 1000
    assert f["rate"]["rate"] == pytest.approx(rate, rel=1e-12)
    assert (f["rate"]["ci_low"], f["rate"]["ci_high"]) == (
        pytest.approx(low, rel=1e-9),
        pytest.approx(high, rel=1e-9),
    )

    text = leicester.markdown
    assert f"**{truth['crimes']:,} crimes**" in text
    assert f"{truth['after'][ASB]:,} anti-social behaviour incidents" in text
    assert f"{rate:.1f} per 1,000 residents (95% CI {low:.1f}–{high:.1f})" in text
    assert "ONS mid-2022 population estimate, 373,399 residents" in text


def test_crime_types_counts_and_shares(leicester: brief.Brief, truth: dict[str, Any]) -> None:
    f, text = leicester.facts, leicester.markdown
    crimes, crimes0 = truth["crimes"], truth["crimes0"]
    types = {t: n for t, n in truth["after"].items() if t != ASB}
    assert len(types) == 13
    assert {t["crime_type"]: t["count"] for t in f["types"]} == types
    for t in f["types"]:
        n = types[t["crime_type"]]
        assert (t["share"]["part"], t["share"]["base"]) == (n, crimes)
        assert t["share"]["share"] == pytest.approx(n / crimes, rel=1e-12)
        n0 = truth["before"][t["crime_type"]]
        row = (
            f"| {t['crime_type']} | {n:,} | {n / crimes * 100:.1f}% | {n0:,} | "
            f"{n0 / crimes0 * 100:.1f}% |"
        )
        assert row in text
    asb, asb0 = truth["after"][ASB], truth["before"][ASB]
    assert f"| *Anti-social behaviour (not crime)* | {asb:,} | – | {asb0:,} | – |" in text
    assert f"({crimes:,} in 2021, {crimes0:,} in 2020)" in text


def test_year_on_year_change_and_the_every_category_claim(
    leicester: brief.Brief, truth: dict[str, Any]
) -> None:
    c = leicester.facts["compare"]
    assert (c["year"], c["crimes"], c["asb"]) == (2020, truth["crimes0"], truth["before"][ASB])
    assert c["change"]["p_value"] == pytest.approx(truth["change_p"], rel=1e-9, abs=1e-300)
    assert (c["change"]["count_before"], c["change"]["count_after"]) == (
        truth["crimes0"],
        truth["crimes"],
    )
    significant_rise = truth["change_p"] < 0.05 and truth["crimes"] > truth["crimes0"]
    assert ("a significant rise" in c["change_text"]) is significant_rise
    assert c["change_text"] in leicester.markdown

    rows = {r["crime_type"]: r for r in c["by_type"]}
    assert {t: (r["count_before"], r["count_after"]) for t, r in rows.items()} == {
        t: (truth["before"].get(t, 0), truth["after"].get(t, 0)) for t in truth["directions"]
    }
    assert {t: r["direction"] for t, r in rows.items()} == truth["directions"]
    crime_directions = [d for t, d in truth["directions"].items() if t != ASB]
    every_rose = all(d == "rise" for d in crime_directions)
    assert c["rising_in_every_category"] is every_rose
    assert c["n_rising"] == crime_directions.count("rise")
    assert c["n_falling"] == crime_directions.count("fall")
    assert (EVERY_ROSE in leicester.markdown) is every_rose
    if not every_rose:
        assert (
            f"{crime_directions.count('rise')} of 13 categories rose significantly"
            in leicester.markdown
        )


def test_rank_and_versus_the_rest_of_the_county(
    leicester: brief.Brief, raw_db: duckdb.DuckDBPyConnection, truth: dict[str, Any]
) -> None:
    f = leicester.facts
    assert (f["rank"]["rank"], f["rank"]["n_peers"]) == (1, 9)
    assert f["rank"]["rank_low"] <= 1 <= f["rank"]["rank_high"]
    assert f["rank"]["text"] in leicester.markdown
    # The rank is on crimes (ASB excluded): its count is the headline count.
    assert f["rank"]["count"] == truth["crimes"]

    v = f["versus"]
    others = (*DISTRICTS, "Rutland")
    count_b = raw_by_type(raw_db, others, 2021)
    assert v["against"] == "Leicestershire excluding Leicester"
    assert {c["crime_type"]: (c["count_a"], c["count_b"]) for c in v["categories"]} == {
        t: (truth["after"][t], count_b[t]) for t in count_b if t != ASB
    }
    # The rest of the county, 2021 vs 2020, on the same residents in both years.
    directions = independent_monthly_directions(raw_db, others, 2020, 2021)
    rises = [t for t, d in directions.items() if d == "rise" and t != ASB]
    assert v["against_n_rising"] == len(rises)
    assert v["against_rising_in_every_category"] is (len(rises) == 13)


class _Tags(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
        else:
            self.stack.pop()


def test_html_is_written_and_well_formed(leicester: brief.Brief, truth: dict[str, Any]) -> None:
    assert leicester.markdown_path.read_text(encoding="utf-8") == leicester.markdown
    html = leicester.html_path.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    assert parser.seen.count("table") >= 2 and "th" in parser.seen and "td" in parser.seen
    assert "<title>Leicester 2021" in html
    assert f"{truth['crimes']:,}" in html


def test_golden_markdown(leicester: brief.Brief, update_golden: bool) -> None:
    if update_golden:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(leicester.markdown, encoding="utf-8")
        pytest.skip(f"rewrote {GOLDEN.name}")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run pytest --update-golden"
    assert leicester.markdown == GOLDEN.read_text(encoding="utf-8"), (
        "the brief changed; if intended, run: pytest tests/test_brief.py --update-golden"
    )


def _tripled(month: str, as_month: str, folder: Path) -> Path:
    """The real street file for ``month``, every row written three times as ``as_month``
    (three distinct crimes: each copy gets its own Crime ID)."""
    source = POLICE / f"{month}-leicestershire-street.csv.gz"
    with gzip.open(source, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for copy in range(3):  # each copy a distinct crime: its own Crime ID (ASB rows have none)
        for row in rows:
            crime_id = f"{row[0]}-{copy}" if row[0] else ""
            writer.writerow([crime_id, as_month, *row[2:]])
    path = folder / f"{as_month}-leicestershire-street.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_every_category_sentence_when_every_category_rose(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # A deliberate construction: January 2020 as published, and a "January 2021" holding
    # each of its rows three times, so every crime type rises.
    folder = tmp_path_factory.mktemp("tripled")
    files = [
        POLICE / "2020-01-leicestershire-street.csv.gz",
        _tripled("2020-01", "2021-01", folder),
    ]
    with Store(build_store(folder / "store.duckdb", files), read_only=True) as st:
        facts = brief.build_facts(st, "Leicester", 2021, 2020)
    text, _ = brief.render(facts)
    with gzip.open(files[0], "rt", encoding="utf-8", newline="") as fh:
        before: dict[str, int] = {}
        for row in csv.DictReader(fh):
            if row["LSOA name"].rsplit(" ", 1)[0] == "Leicester":
                before[row["Crime type"]] = before.get(row["Crime type"], 0) + 1
    directions = independent_directions(before, {t: 3 * n for t, n in before.items()})
    assert all(d == "rise" for d in directions.values())
    assert facts["compare"]["rising_in_every_category"] is True
    assert facts["compare"]["crimes"] * 3 == facts["crimes"]
    assert EVERY_ROSE in text
