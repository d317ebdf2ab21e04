"""The brief's months and population year (issue 16, items 6, 9 and 11): one set of months
and one ONS estimate for every figure in a brief, named in the text; a partial year says so
in its title; no trend from one year's months.

A store holds Leicestershire 2020-01 … 2020-09 without May, and 2021 without February and
March, so a 2021 brief against 2020 may use only January, April and June to September of each
year (2021-05 is stored, inside that span, and must be left out of every figure). Every
expected number is recomputed from the raw police.uk rows in plain DuckDB (``raw_db``) and
scipy/statsmodels (``support.quasi``), never from BeatBook.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from beatbook.publish import brief
from beatbook.store import Store
from support.fixtures_store import DISTRICTS, FORCE_AREA, POLICE, build_store, holm, raw_scalar
from support.quasi import change_p, monthly_by_type
from support.two_forces import LEICS_MONTHS

ASB = "Anti-social behaviour"
STORED_2020 = [f"2020-{m:02d}" for m in (1, 2, 3, 4, 6, 7, 8, 9)]  # no May, Oct-Dec
STORED_2021 = [f"2021-{m:02d}" for m in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12)]  # no Feb, Mar
# The calendar months both years have: the only months any figure may use.
USED_2021 = ["2021-01", "2021-04", "2021-06", "2021-07", "2021-08", "2021-09"]
USED_2020 = [m.replace("2021", "2020") for m in USED_2021]
TITLE = "# Leicester: crime in 2021 (6 months: Jan, Apr, Jun–Sep)"


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> brief.Brief:
    folder = tmp_path_factory.mktemp("partial-years")
    files = [POLICE / f"{m}-leicestershire-street.csv.gz" for m in STORED_2020 + STORED_2021]
    with Store(build_store(folder / "store.duckdb", files), read_only=True) as st:
        return brief.write_brief(st, "Leicester", 2021, 2020, folder / "out", seed=0)


def crimes_in(con: duckdb.DuckDBPyConnection, districts: tuple[str, ...], months: list[str]) -> int:
    """Crimes (ASB excluded) in these districts and months, from the raw rows."""
    return int(
        raw_scalar(
            con,
            'SELECT count(*) FROM street WHERE "Crime type" <> ? AND district IN '
            "(SELECT unnest(?::VARCHAR[])) AND month IN (SELECT unnest(?::VARCHAR[]))",
            [ASB, list(districts), months],
        )
    )


def population_2022(con: duckdb.DuckDBPyConnection, lad: str) -> float:
    return float(
        raw_scalar(
            con,
            "SELECT sum(population) FROM pop2022 WHERE code IN "
            "(SELECT LSOA21CD FROM bridge WHERE LAD22NM = ?)",
            [lad],
        )
    )


def test_a_partial_year_is_named_in_the_title_and_the_months_are_matched(
    partial: brief.Brief,
) -> None:
    f, text = partial.facts, partial.markdown
    assert f["months"] == USED_2021 and f["compare"]["months"] == USED_2020
    assert f["partial"] is True and f["months_label"] == "Jan, Apr, Jun–Sep"
    assert text.splitlines()[0] == TITLE
    assert (
        "*6 months of police.uk data: Jan, Apr, Jun–Sep 2021, against the same months of 2020."
        in (text)
    )
    assert "<title>Leicester 2021 (6 months: Jan, Apr, Jun–Sep)" in partial.html_path.read_text(
        encoding="utf-8"
    )
    # Why months are missing, per year: not stored, or stored but without a partner month.
    assert f["coverage"]["months_missing"] == ["2021-02", "2021-03"]
    assert f["coverage"]["months_left_out"] == ["2021-05", "2021-10", "2021-11", "2021-12"]
    assert f["compare"]["coverage"]["months_missing"] == [
        "2020-05",
        "2020-10",
        "2020-11",
        "2020-12",
    ]
    assert f["compare"]["coverage"]["months_left_out"] == ["2020-02", "2020-03"]
    assert "2021-05, 2021-10 to 2021-12 are stored but left out: 2020 has no data" in text
    # The chart and the sources: exactly these months of both years.
    assert [m["month"] for m in f["monthly"]] == USED_2020 + USED_2021
    assert [s["month"] for s in f["sources"]] == USED_2020 + USED_2021
    rate_alt = next(c["alt"] for c in f["charts"] if c["kind"] == "rate")
    assert "left out, as the other year has no data for the same months: 2020-02 to 2020-03, " in (
        rate_alt
    )


def test_headline_compare_and_unlocated_use_the_same_months(
    partial: brief.Brief, raw_db: duckdb.DuckDBPyConnection
) -> None:
    f, text = partial.facts, partial.markdown
    crimes, crimes0 = (crimes_in(raw_db, ("Leicester",), m) for m in (USED_2021, USED_2020))
    assert (f["crimes"], f["compare"]["crimes"]) == (crimes, crimes0)
    assert f"**{crimes:,} crimes** in Leicester in these 6 months" in text
    assert "over the 6 months (not scaled up to a year)" in text
    population = population_2022(raw_db, "Leicester")
    assert f["rate"]["rate"] == pytest.approx(crimes / population * 1000, rel=1e-12)
    assert f["compare"]["rate"]["rate"] == pytest.approx(crimes0 / population * 1000, rel=1e-12)

    def monthly(months: list[str]) -> dict[str, int]:
        by_type = monthly_by_type(raw_db, ("Leicester",), months)
        return {m: sum(n[m] for t, n in by_type.items() if t != ASB) for m in months}

    change = f["compare"]["change"]
    assert (change["count_before"], change["count_after"]) == (crimes0, crimes)
    assert change["p_value"] == pytest.approx(
        change_p(monthly(USED_2020), monthly(USED_2021)), rel=1e-9
    )
    assert f["compare"]["change_text"] in text

    # police.uk 'No Location' rows (no LSOA) of the force, crimes only, in the same months.
    def unlocated(months: list[str]) -> int:
        return int(
            raw_scalar(
                raw_db,
                "SELECT count(*) FROM street WHERE coalesce(\"LSOA code\", '') = '' "
                'AND "Crime type" <> ? AND month IN (SELECT unnest(?::VARCHAR[]))',
                [ASB, months],
            )
        )

    assert f["unlocated_force_wide"] == unlocated(USED_2021)
    assert f["compare"]["unlocated_force_wide"] == unlocated(USED_2020)
    assert (
        f"{unlocated(USED_2021):,} crimes of leicestershire in these months of 2021 "
        f"({unlocated(USED_2020):,} in 2020's) had no location"
    ) in text


def test_rank_and_comparison_area_use_the_same_months_and_population(
    partial: brief.Brief, raw_db: duckdb.DuckDBPyConnection
) -> None:
    f = partial.facts
    rank = f["rank"]
    assert rank["months"] == USED_2021 and rank["population_year"] == 2022
    assert rank["count"] == f["crimes"]
    for row in rank["table"]:
        assert row["count"] == crimes_in(raw_db, (row["name"],), USED_2021), row["name"]
        assert row["population"] == population_2022(raw_db, row["name"])
    assert {r["name"] for r in rank["table"]} == set(FORCE_AREA)
    assert "on crimes per 1,000 residents in these 6 months, Leicester ranked" in partial.markdown

    v = f["versus"]
    others = (*DISTRICTS, "Rutland")
    assert v["months"] == USED_2021 and v["population_year"] == 2022
    after = monthly_by_type(raw_db, others, USED_2021)
    before = monthly_by_type(raw_db, others, USED_2020)
    assert {c["crime_type"]: c["count_b"] for c in v["categories"]} == {
        t: sum(n.values()) for t, n in after.items() if t != ASB
    }
    # The rest of the county's own change: the same 6 months of each year, not 8 against 7.
    types = sorted(after.keys() | before.keys())
    zero0, zero1 = dict.fromkeys(USED_2020, 0), dict.fromkeys(USED_2021, 0)
    p = holm([change_p(before.get(t, zero0), after.get(t, zero1)) for t in types])
    rising = [
        t
        for t, p_adj in zip(types, p, strict=True)
        if t != ASB
        and p_adj < 0.05
        and sum(after.get(t, zero1).values()) > sum(before.get(t, zero0).values())
    ]
    assert v["against_months_before"] == USED_2020
    assert v["against_n_rising"] == len(rising)


def test_one_population_year_for_both_years_stated(
    partial: brief.Brief, sample_store: Store
) -> None:
    f, text = partial.facts, partial.markdown
    assert f["population"]["population_year"] == 2022
    assert f["compare"]["population"] == f["population"]
    assert "(ONS mid-2022 population estimate, 373,399 residents, for both years)" in text
    assert "- **Population:** ONS mid-2022 estimates summed over 200 LSOAs" in text
    # A brief of 2020 alone uses the estimate nearest 2020: the brief says so, and that is
    # the year such a brief states.
    assert f["compare"]["population_year_alone"] == 2019
    assert "A brief of 2020 alone uses the mid-2019 estimate" in text
    alone = brief.build_facts(sample_store, "Leicester", 2020, None)
    assert alone["population"]["population_year"] == 2019
    assert "ONS mid-2019 population estimate" in brief.render(alone)[0]


def test_no_trend_from_fewer_than_24_months(partial: brief.Brief, sample_store: Store) -> None:
    f, text = partial.facts, partial.markdown
    assert f["trend"] is None
    assert "**No trend is given:** a trend needs at least 24 months" in text
    assert "this brief has 12" in text and "a year over" not in text
    # One year alone: 12 months are never a trend (the seasons would pass for one).
    ward = brief.build_facts(sample_store, "Castle (Leicester)", 2021, None)
    ward_text = brief.render(ward)[0]
    assert ward["trend"] is None and "No trend is given" in ward_text
    assert "a year over" not in ward_text and " was no clear trend" not in ward_text
    assert "give a year to compare with" in ward_text


def test_full_years_trend_has_month_effects(sample_store: Store) -> None:
    f = brief.build_facts(sample_store, "Leicester", 2021, 2020)
    assert f["trend"]["n_months"] == 24 and "month-of-year" in f["trend"]["method"]
    assert f["trend_months"] == [f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)]
    text = brief.render(f)[0]
    assert "**Trend** over the 24 months of both years, allowing for the month of the year: " in (
        text
    )
    assert " was no clear trend" not in text and " was rising" not in text


def test_one_force_missing_months_in_a_two_force_store(
    two_force_store: Store, two_force_raw: duckdb.DuckDBPyConnection
) -> None:
    # Leicestershire lacks 2025-02 and -03; Nottinghamshire has all six months. A Leicester
    # brief uses Leicestershire's four months, and only its files, whatever the other has.
    f = brief.build_facts(two_force_store, "Leicester", 2025, None)
    assert f["months"] == LEICS_MONTHS and f["forces"] == ["leicestershire"]
    assert f["title"] == "Leicester: crime in 2025 (4 months: Jan, Apr–Jun)"
    assert {s["force"] for s in f["sources"]} == {"leicestershire"}
    assert [s["month"] for s in f["sources"]] == LEICS_MONTHS
    counted = raw_scalar(
        two_force_raw,
        "SELECT count(DISTINCT \"Crime ID\" || Month) FROM street WHERE force = 'leicestershire' "
        "AND district = 'Leicester' AND \"Crime type\" <> ?",
        [ASB],
    )
    assert f["crimes"] == counted
    unlocated = raw_scalar(
        two_force_raw,
        "SELECT count(DISTINCT \"Crime ID\" || Month) FROM street WHERE force = 'leicestershire' "
        "AND coalesce(\"LSOA code\", '') = '' AND \"Crime type\" <> ?",
        [ASB],
    )
    assert f["unlocated_force_wide"] == unlocated
    assert f["rank"]["months"] == LEICS_MONTHS
    assert Path(f["sources"][0]["file"]).name.startswith("2025-01-leicestershire")
