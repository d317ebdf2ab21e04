"""``beatbook check`` on real data: the news story's three figures for Leicester in 2020, every
definition recomputed by a separate DuckDB query over the raw police.uk and ONS files (no
BeatBook code), and the counting units on two forces with repeated Crime IDs and gaps."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from beatbook import areas
from beatbook import queries as q
from beatbook.cli.main import app
from beatbook.errors import InputError
from beatbook.figures import stats as stats_figures
from beatbook.figures.check import check_claims, tallies
from beatbook.stats.claims import evaluate, parse_claim
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import FORCE_AREA, STORE_MONTHS, months_between
from support.two_forces import counted_rows

STORY = ["rate=97", "share:drugs=3.8%", "count:drugs=1577"]  # the news story's figures, 2020


def _windows() -> list[tuple[str, str]]:
    """Twelve-month windows ending March 2020 .. March 2021 with every month in the sample."""
    ends = months_between("2020-03", "2021-03")
    spans = [(months_between("2019-01", end)[-12], end) for end in ends]
    return [(a, b) for a, b in spans if set(months_between(a, b)) <= set(STORE_MONTHS)]


def _raw_counts(raw: duckdb.DuckDBPyConnection, first: str, last: str, city: bool) -> dict:
    """unit -> crime type -> count, and the LSOAs, of Leicester's rows (city) or of every row
    of the Leicestershire files, from the raw CSVs alone."""
    where = "month BETWEEN ? AND ?" + (" AND district = 'Leicester'" if city else "")
    # No Crime ID repeats within a month in these files: one per Crime ID a month is every row.
    assert raw.execute(
        f'SELECT count(*) = count(DISTINCT (month, "Crime ID")) FROM street WHERE {where} '
        'AND "Crime ID" IS NOT NULL',
        [first, last],
    ).fetchone() == (True,)
    rows = dict(
        raw.execute(
            f'SELECT "Crime type", count(*) FROM street WHERE {where} GROUP BY 1', [first, last]
        ).fetchall()
    )
    ids = dict(  # each Crime ID once in the period, under its first month's type; ASB rows each
        raw.execute(
            f"""SELECT "Crime type", count(*) FROM (SELECT *, row_number() OVER (
                PARTITION BY "Crime ID" ORDER BY month) AS n FROM street WHERE {where})
            WHERE "Crime ID" IS NULL OR n = 1 GROUP BY 1""",
            [first, last],
        ).fetchall()
    )
    lsoas = [
        r[0]
        for r in raw.execute(
            f'SELECT DISTINCT "LSOA code" FROM street WHERE {where} AND "LSOA code" IS NOT NULL',
            [first, last],
        ).fetchall()
    ]
    return {"rows": rows, "crimes": rows, "crime_ids": ids, "lsoas": lsoas}


def _raw_residents(raw: duckdb.DuckDBPyConnection, lsoas11: list[str]) -> dict[int, float]:
    """Residents of these 2011 LSOAs: mid-2019 directly, mid-2022 by their 2021 LSOAs."""
    return {
        2019: raw.execute(
            "SELECT sum(population) FROM pop2019 WHERE code IN (SELECT unnest(?))", [lsoas11]
        ).fetchone()[0],
        2022: raw.execute(
            "SELECT sum(population) FROM pop2022 WHERE code IN (SELECT DISTINCT LSOA21CD "
            "FROM bridge WHERE LSOA11CD IN (SELECT unnest(?)))",
            [lsoas11],
        ).fetchone()[0],
    }


def _district_lsoas(raw: duckdb.DuckDBPyConnection, districts: tuple[str, ...]) -> list[str]:
    return [
        r[0]
        for r in raw.execute(
            "SELECT LSOA11CD FROM ward_lookup WHERE LAD19NM IN (SELECT unnest(?))",
            [list(districts)],
        ).fetchall()
    ]


def _raw_figures(raw: duckdb.DuckDBPyConnection) -> dict[str, dict[tuple, Fraction]]:
    """Every definition's value of each story claim, keyed (from, to, area, unit, ASB in,
    population base, year), worked out from the raw files alone."""
    found: dict[str, dict[tuple, Fraction]] = {"rate": {}, "share": {}, "count": {}}
    district = {
        "city": _raw_residents(raw, _district_lsoas(raw, ("Leicester",))),
        "force": _raw_residents(raw, _district_lsoas(raw, FORCE_AREA)),
    }
    for first, last in _windows():
        for area, is_city in (("city", True), ("named", True), ("force", False)):
            counts = _raw_counts(raw, first, last, is_city)
            bases = {"area": district["city" if is_city else "force"]}
            bases["lsoas"] = _raw_residents(raw, counts["lsoas"])
            for unit in ("rows", "crimes", "crime_ids"):
                by_type = counts[unit]
                asb = by_type.get("Anti-social behaviour", 0)
                crime = sum(by_type.values()) - asb
                drugs = by_type.get("Drugs", 0)
                key = (first, last, area, unit)
                found["count"][(*key, False, None, None)] = Fraction(drugs)
                found["share"][(*key, False, None, None)] = Fraction(100 * drugs, crime)
                found["share"][(*key, True, None, None)] = Fraction(100 * drugs, crime + asb)
                for base, years in bases.items():
                    for year, residents in years.items():
                        for with_asb, n in ((False, crime), (True, crime + asb)):
                            value = Fraction(n * 1000) / Fraction(residents)
                            found["rate"][(*key, with_asb, base, year)] = value
    return found


def _key(figure_definition: dict, kind: str) -> tuple:
    d = figure_definition
    area = (
        "city"
        if d["area"].startswith("Leicester (local authority")
        else "named"
        if d["area"].startswith("LSOAs named 'Leicester nnnX'")
        else "force"
        if d["area"].startswith("Leicestershire force area")
        else d["area"]
    )
    base = (d["population_base"], d["population_year"]) if kind == "rate" else (None, None)
    return (d["from"], d["to"], area, d["unit"], d["with_asb"], *base)


@pytest.fixture(scope="module")
def story(sample_store: Store) -> dict:
    return check_claims(sample_store, "Leicester", "2020", STORY)


@pytest.fixture(scope="module")
def expected(raw_db) -> dict[str, dict[tuple, Fraction]]:
    return _raw_figures(raw_db)


def test_every_definition_tried_equals_the_raw_files(sample_store: Store, expected) -> None:
    found, _ = tallies(sample_store, areas.resolve(sample_store, "Leicester"), 2020)
    for text in STORY:
        claim = parse_claim(text)
        figures = evaluate(claim, found, nearest_year=2019).figures
        got = {_key(f.to_dict(claim)["definition"], claim.kind): f.value for f in figures}
        assert set(got) == set(expected[claim.kind])
        for key, value in got.items():  # counts and shares exact; rates to float precision
            assert float(value) == pytest.approx(float(expected[claim.kind][key]), rel=1e-12)


def test_the_story_figures_and_the_definitions_that_reproduce_them(story, expected) -> None:
    """The honest answer for the story (docs/journalists.md): the count is BeatBook's own, the
    share only with ASB in the base over the financial year (or for the force area), and no
    definition gives the rate."""
    rate, share, count = story["claims"]
    for check in story["claims"]:
        claim = parse_claim(check["claim"])
        raw_matches = {k for k, v in expected[claim.kind].items() if claim.matches(v)}
        assert {_key(m["definition"], claim.kind) for m in check["matches"]} == raw_matches
        assert check["definitions_tried"] == len(expected[claim.kind])

    assert not rate["reproduced"] and rate["matches"] == []
    assert rate["verdict"] == "none of the 288 definitions tried reproduces it"
    nearest = {round(f["value"], 1) for f in rate["nearest"]}
    assert min(abs(v - 97) for v in nearest) > 5  # nothing comes close: 103.3 at the nearest

    units = {"rows", "crimes", "crime_ids"}
    fy, feb = ("2020-04", "2021-03"), ("2020-03", "2021-02")
    assert {_key(m["definition"], "share") for m in share["matches"]} == {
        *((*fy, area, unit, True, None, None) for area in ("city", "named") for unit in units),
        *((*feb, "force", unit, False, None, None) for unit in units),
    }
    shown = {(m["shown"], m["count"], m["base"]) for m in share["matches"]}
    assert shown == {
        ("3.84%", 1724, 44890),
        ("3.84%", 1724, 44888),  # two Crime IDs listed in two months of the year
        ("3.82%", 3103, 81214),
        ("3.82%", 3103, 81213),
    }
    assert {_key(m["definition"], "count") for m in count["matches"]} == {
        ("2020-01", "2020-12", area, unit, False, None, None)
        for area in ("city", "named")
        for unit in units
    }


def test_beatbooks_own_figures_are_those_of_beatbook_stats(story: dict, sample_store, raw_db):
    rate, share, count = (c["beatbook"] for c in story["claims"])
    year = ("2020-01", "2020-12")
    whole = stats_figures.area_stats(sample_store, "Leicester", *year)
    by_type = stats_figures.area_stats(sample_store, "Leicester", *year, by="crime-type")
    drugs = next(r for r in by_type if r["crime_type"] == "Drugs")
    assert (count["count"], share["count"], share["base"]) == (
        drugs["count"],
        drugs["count"],
        drugs["share_base"],
    )
    assert share["value"] == pytest.approx(100 * drugs["share"], rel=1e-12)
    assert (rate["count"], rate["base"]) == (whole["count"], whole["population"])
    assert rate["value"] == pytest.approx(whole["rate_per_1000"], rel=1e-12)
    residents = _raw_residents(raw_db, _district_lsoas(raw_db, ("Leicester",)))[2019]
    raw_drugs, raw_crime = raw_db.execute(
        "SELECT count(*) FILTER (WHERE \"Crime type\" = 'Drugs'), count(*) FILTER (WHERE "
        "\"Crime type\" <> 'Anti-social behaviour') FROM street WHERE district = 'Leicester' "
        "AND month BETWEEN '2020-01' AND '2020-12'"
    ).fetchone()
    assert (count["count"], share["base"], rate["count"]) == (raw_drugs, raw_crime, raw_crime)
    assert (raw_drugs, raw_crime, residents) == (1577, 39238, 354224)
    assert (share["shown"], rate["shown"]) == ("4.02%", "110.8 per 1,000")
    assert rate["definition"]["population_year"] == 2019 == story["nearest_population_year"]


def test_months_not_stored_are_named_not_tried(story: dict) -> None:
    not_tried = story["definitions"]["not_tried"]
    # The sample starts in 2020-01: the nine windows ending March .. November 2020 lack months.
    assert {g["months"].split(" (")[0] for g in not_tried} == {
        "financial year 2019/20",
        *(f"the 12 months to {m} 2020" for m in ("April", "May", "June", "July")),
        *(f"the 12 months to {m} 2020" for m in ("August", "September", "October", "November")),
    }
    november = next(g for g in not_tried if "to November 2020" in g["months"])
    assert november["months_missing"] == ["2019-12"]
    assert story["definitions"]["months"] == [
        "calendar year 2020",
        "the 12 months to January 2021 (February 2020 to January 2021)",
        "the 12 months to February 2021 (March 2020 to February 2021)",
        "financial year 2020/21 (April 2020 to March 2021)",
    ]


# --- two forces, repeated Crime IDs, months missing ------------------------------------------------


def test_counting_units_on_a_force_with_repeated_crime_ids(two_force_store, two_force_raw):
    notts = areas.resolve(two_force_store, "Nottinghamshire")
    units = q.counting_units(two_force_store, notts, dt.date(2025, 1, 1), dt.date(2025, 6, 1))
    rows, ids = two_force_raw.execute(
        'SELECT count(*), count(DISTINCT "Crime ID") + count(*) FILTER (WHERE "Crime ID" IS '
        "NULL) FROM street WHERE force = 'nottinghamshire'"
    ).fetchone()
    per_month = len(counted_rows("nottinghamshire"))  # csv module: first row of an ID a month
    assert (units["rows"].sum(), units["crimes"].sum(), units["crime_ids"].sum()) == (
        rows,
        per_month,
        ids,
    )
    assert rows > per_month  # the repeats are there, and only rows counts them


def test_named_lsoas_take_every_forces_rows(two_force_store, two_force_raw) -> None:
    leicester = areas.resolve(two_force_store, "Leicester")
    months = (dt.date(2025, 1, 1), dt.date(2025, 6, 1))
    own = q.counting_units(two_force_store, leicester, *months)
    every = q.counting_units(two_force_store, leicester, *months, every_force=True)
    by_force = dict(
        two_force_raw.execute(
            "SELECT force, count(*) FROM street WHERE district = 'Leicester' GROUP BY 1"
        ).fetchall()
    )
    assert own["rows"].sum() == by_force["leicestershire"]
    assert every["rows"].sum() == by_force["leicestershire"] + by_force["nottinghamshire"]
    assert by_force["nottinghamshire"] > 0


def test_a_year_with_gaps_gives_beatbooks_figure_on_the_months_stored(
    two_force_store, two_force_raw
) -> None:
    result = check_claims(two_force_store, "Leicester", 2025, ["count:drugs=100"])
    (claim,) = result["claims"]
    missing = ["2025-02", "2025-03", *(f"2025-{m:02d}" for m in range(7, 13))]
    assert claim["beatbook_months_missing"] == missing  # Nottinghamshire's months fill no gap
    assert claim["definitions_tried"] == 0 and not claim["reproduced"]
    raw = two_force_raw.execute(
        "SELECT count(*) FROM street WHERE force = 'leicestershire' AND district = 'Leicester' "
        "AND \"Crime type\" = 'Drugs'"
    ).fetchone()[0]
    assert claim["beatbook"]["count"] == raw


@pytest.mark.parametrize(
    ("period", "claims", "expected"),
    [
        ("2020/21", STORY, "--period '2020/21': expected a year"),
        ("1999", STORY, "--period '1999': expected a year from 2000"),
        ("2020", ["share:drugs=3.8"], "--claim 'share:drugs=3.8': a share is a percentage"),
        ("2020", [], "give at least one --claim"),
    ],
)
def test_bad_input_is_refused(sample_store, period: str, claims: list, expected: str) -> None:
    with pytest.raises(InputError, match=expected.replace("(", r"\(")):
        check_claims(sample_store, "Leicester", period, claims)


def test_the_command_prints_json_and_text(sample_store_path: Path, story: dict) -> None:
    args = ["--store", str(sample_store_path), "check", "--area", "Leicester", "--period", "2020"]
    args += [a for c in STORY for a in ("--claim", c)]
    env = {"COLUMNS": "200", STORE_ENV: None}
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(story, default=str))
    text = CliRunner().invoke(app, args, env=env)
    assert text.exit_code == 0, text.output
    assert "none of the 288 definitions tried reproduces it" in text.output
    assert "reproduced by 9 of the 72 definitions tried" in text.output
    assert "BeatBook: 4.02%: Drugs 1,577 of 39,238 crimes (ASB left out)" in text.output
    bad = CliRunner().invoke(app, [*args, "--claim", "count:drugs=1.5"], env=env)
    assert isinstance(bad.exception, InputError)  # main() prints it as one line, exit code 2
    assert str(bad.exception).startswith("--claim 'count:drugs=1.5': a count is a whole number")
