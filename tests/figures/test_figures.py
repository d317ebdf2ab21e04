"""Figures behind ``stats``, ``compare`` and ``rank``, checked against numbers computed another way.

Counts come from the raw police.uk files (a separate DuckDB connection, and the ``csv``
module for the headline count), populations from the raw ONS files, intervals and tests
from scipy's distributions and statsmodels' GLM (the over-dispersed change test of
``support.quasi``), Holm from its definition. Nothing expected is read from BeatBook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from scipy import stats

from beatbook import areas, queries
from beatbook.errors import InputError
from beatbook.figures import stats as figures
from beatbook.store import Store
from support.fixtures_store import (
    DISTRICTS,
    FORCE_AREA,
    LEICESTER_BOUNDARIES,
    holm,
    months_between,
    raw_scalar,
    raw_street_rows,
)
from support.quasi import change_p, monthly_by_type

LEICESTER_LSOA = re.compile(r"^Leicester [0-9]{3}[A-Z]$")
OTHERS = (*DISTRICTS, "Rutland")  # the force area without Leicester
ASB = "Anti-social behaviour"  # police.uk's one category that is not a crime


# --- independent computations --------------------------------------------------------------


def raw_by_type(
    con: duckdb.DuckDBPyConnection, districts: tuple[str, ...], first: str, last: str
) -> dict[str, int]:
    rows = con.execute(
        'SELECT "Crime type", count(*) FROM street WHERE district IN '
        "(SELECT unnest(?::VARCHAR[])) AND month BETWEEN ? AND ? GROUP BY 1",
        [list(districts), first, last],
    ).fetchall()
    return {t: int(n) for t, n in rows}


def crimes_only(by_type: dict[str, int]) -> dict[str, int]:
    """The crime types of a count by type: anti-social behaviour is counted apart."""
    return {t: n for t, n in by_type.items() if t != ASB}


def raw_lad_population(con: duckdb.DuckDBPyConnection, lads: tuple[str, ...], year: int) -> float:
    """Residents of local authorities: raw lookup joined to the raw estimate of that year."""
    if year == 2019:
        sql = (
            "SELECT sum(population) FROM pop2019 WHERE code IN (SELECT LSOA11CD FROM "
            "ward_lookup WHERE LAD19NM IN (SELECT unnest(?::VARCHAR[])))"
        )
    else:
        sql = (
            "SELECT sum(population) FROM pop2022 WHERE code IN (SELECT LSOA21CD FROM "
            "bridge WHERE LAD22NM IN (SELECT unnest(?::VARCHAR[])))"
        )
    return float(raw_scalar(con, sql, [list(lads)]))


def nearest_estimate(first: str, last: str, years: tuple[int, ...] = (2019, 2022)) -> int:
    """Mid-year estimate nearest the middle of the calendar period (ties: the earlier)."""
    months = months_between(first, last)
    middle = sum(int(m[:4]) + (int(m[5:]) - 0.5) / 12 for m in months) / len(months)
    return min(years, key=lambda y: (abs(y + 0.5 - middle), y))


def garwood(count: int, population: float) -> tuple[float, float]:
    """Exact Poisson 95% interval for a rate per 1,000 (Garwood 1936, chi-square form)."""
    low = stats.chi2.ppf(0.025, 2 * count) / 2 if count else 0.0
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return low / population * 1000, high / population * 1000


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    low = stats.beta.ppf(0.025, k, n - k + 1) if k else 0.0
    high = stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    return low, high


def rank_min(values: dict[str, float]) -> dict[str, int]:
    """1 = highest; ties share the smallest rank."""
    return {k: 1 + sum(other > v for other in values.values()) for k, v in values.items()}


# --- stats -------------------------------------------------------------------------------------

STATS_FIELDS = {
    "area",
    "from",
    "to",
    "count",
    "population",
    "population_year",
    "rate_per_1000",
    "ci_low",
    "ci_high",
    "months",
    "months_missing",
}


def test_leicester_2020_count_rate_and_interval(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    result = figures.area_stats(sample_store, "Leicester", "2020-01", "2020-12")
    assert isinstance(result, dict)
    assert result.keys() >= STATS_FIELDS
    assert json.loads(json.dumps(result))["area"] == "Leicester"

    rows = [
        row
        for row in raw_street_rows(months_between("2020-01", "2020-12"))
        if LEICESTER_LSOA.match(row["LSOA name"])
    ]
    by_csv = sum(row["Crime type"] != ASB for row in rows)
    by_sql = raw_scalar(
        raw_db,
        "SELECT count(*) FROM street WHERE regexp_full_match("
        "\"LSOA name\", '^Leicester [0-9]{3}[A-Z]$') AND month LIKE '2020-%' "
        "AND \"Crime type\" <> 'Anti-social behaviour'",
    )
    assert by_csv == by_sql == 39_238
    # Crimes only; anti-social behaviour is counted apart, never added in.
    assert (result["measure"], result["unit"], result["count"]) == ("crime", "crimes", by_csv)
    assert result["asb_incidents"] == sum(row["Crime type"] == ASB for row in rows) > 0
    asb = figures.area_stats(sample_store, "Leicester", "2020-01", "2020-12", measure="asb")
    assert isinstance(asb, dict)
    assert (asb["unit"], asb["count"]) == ("ASB incidents", result["asb_incidents"])
    assert "asb_incidents" not in asb

    assert nearest_estimate("2020-01", "2020-12") == 2019
    assert (result["population"], result["population_year"]) == (354_224, 2019)
    assert result["population"] == raw_lad_population(raw_db, ("Leicester",), 2019)
    assert result["rate_per_1000"] == pytest.approx(by_csv / 354_224 * 1000, rel=1e-12)
    low, high = garwood(by_csv, 354_224)
    assert result["ci_low"] == pytest.approx(low, rel=1e-9)
    assert result["ci_high"] == pytest.approx(high, rel=1e-9)
    assert (result["from"], result["to"], result["months"], result["months_missing"]) == (
        "2020-01",
        "2020-12",
        12,
        [],
    )


def test_a_trend_needs_two_years_and_is_fitted_with_month_effects(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    """Over two whole years, the month-effects slope is the same-months change put per year:
    2021's crimes over 2020's, counted from the raw rows."""
    two_years = figures.area_stats(sample_store, "Leicester", "2020-01", "2021-12")
    assert isinstance(two_years, dict) and two_years["trend_unavailable"] is None
    counts = [
        sum(crimes_only(raw_by_type(raw_db, ("Leicester",), f"{y}-01", f"{y}-12")).values())
        for y in (2020, 2021)
    ]
    assert two_years["trend"]["n_months"] == 24
    assert two_years["trend"]["pct_per_year"] == pytest.approx(
        (counts[1] / counts[0] - 1) * 100, rel=1e-6
    )
    one_year = figures.area_stats(sample_store, "Leicester", "2021-01", "2021-12")
    assert isinstance(one_year, dict) and one_year["trend"] is None
    assert "12 months with data" in one_year["trend_unavailable"]


def test_by_crime_type_has_shares_with_their_base(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    records = figures.area_stats(sample_store, "Leicester", "2020-01", "2020-12", by="crime-type")
    assert isinstance(records, list)
    expected = crimes_only(raw_by_type(raw_db, ("Leicester",), "2020-01", "2020-12"))
    total = sum(expected.values())
    assert len(expected) == 13  # the crime types: shares are of crime, ASB is apart
    assert {r["crime_type"]: r["count"] for r in records} == expected
    assert len(records) == len(expected)
    assert [r["count"] for r in records] == sorted(expected.values(), reverse=True)
    for r in records:
        assert STATS_FIELDS | {"crime_type", "share", "share_base"} <= r.keys()
        assert r["share_base"] == total
        assert r["share"] == pytest.approx(r["count"] / total, rel=1e-12)
        low, high = clopper_pearson(r["count"], total)
        assert (r["share_ci_low"], r["share_ci_high"]) == (
            pytest.approx(low, rel=1e-7),
            pytest.approx(high, rel=1e-7),
        )
        assert r["rate_per_1000"] == pytest.approx(r["count"] / 354_224 * 1000, rel=1e-12)
    assert sum(r["share"] for r in records) == pytest.approx(1.0, abs=1e-12)


def test_force_area_and_partial_period_with_chosen_population_year(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    result = figures.area_stats(
        sample_store, "Leicestershire", "2021-01", "2021-06", population_year=2019
    )
    assert isinstance(result, dict)
    # A force area counts every row of its files (issue 16): located in its districts, with
    # no location, or in other forces' districts; its residents are its districts'.
    located = sum(crimes_only(raw_by_type(raw_db, FORCE_AREA, "2021-01", "2021-06")).values())
    period = ["2021-01", "2021-06"]
    crime = "\"Crime type\" <> 'Anti-social behaviour'"
    count = raw_scalar(
        raw_db, f"SELECT count(*) FROM street WHERE month BETWEEN ? AND ? AND {crime}", period
    )
    unlocated = raw_scalar(
        raw_db,
        'SELECT count(*) FROM street WHERE month BETWEEN ? AND ? AND "LSOA code" IS NULL '
        f"AND {crime}",
        period,
    )
    population = raw_lad_population(raw_db, FORCE_AREA, 2019)
    assert (result["count"], result["population"], result["population_year"]) == (
        count,
        population,
        2019,
    )
    assert result["unlocated"] == unlocated > 0
    assert result["outside_force_districts"] == count - located - unlocated > 0
    assert result["months"] == 6
    assert result["rate_per_1000_per_year"] == pytest.approx(count / population * 1000 * 2)


def test_months_without_data_are_listed_not_zeroed(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    result = figures.area_stats(sample_store, "Leicester", "2021-06", "2025-02")
    assert isinstance(result, dict)
    assert result["months_missing"] == months_between("2022-01", "2024-12")
    assert result["months"] == 9
    assert result["count"] == sum(
        crimes_only(raw_by_type(raw_db, ("Leicester",), "2021-06", "2025-02")).values()
    )
    assert nearest_estimate("2021-06", "2025-02") == result["population_year"] == 2022


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"from_": "2020-13", "to": "2020-12"}, "--from '2020-13'"),
        ({"from_": "2020-01", "to": "2020-1"}, "--to '2020-1'"),
        ({"from_": "2021-01", "to": "2020-12"}, "ends (2020-12) before it starts (2021-01)"),
    ],
)
def test_bad_periods_are_clear_errors(
    sample_store: Store, kwargs: dict[str, str], names: str
) -> None:
    with pytest.raises(InputError) as info:
        figures.area_stats(sample_store, "Leicester", **kwargs)
    assert names in str(info.value)


def test_polygon_area_gets_a_count_but_no_rate(writable_store: Store, tmp_path: Path) -> None:
    import gzip

    collection = json.loads(gzip.decompress(LEICESTER_BOUNDARIES.read_bytes()))
    collection["features"] = collection["features"][:5]
    path = tmp_path / "five.geojson"
    path.write_text(json.dumps(collection))
    area = areas.add_area(writable_store, "Five", lsoas=[], wards=[], geojson=path)
    result = figures.area_stats(writable_store, "Five", "2020-01", "2020-12")
    assert isinstance(result, dict)
    assert result["count"] == queries.crime_total(
        writable_store, area, *(figures.period("2020-01", "2020-12")), measure="crime"
    )
    assert result["count"] > 0
    assert result["population"] is None and result["rate_per_1000"] is None


# --- compare -----------------------------------------------------------------------------------


def test_compare_leicester_with_the_rest_of_the_force_area(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    result = figures.compare_areas(sample_store, "Leicester", None, "2021-01", "2021-12")
    assert result["against"] == "Leicestershire excluding Leicester"
    year = nearest_estimate("2021-01", "2021-12")
    pop_a = raw_lad_population(raw_db, ("Leicester",), year)
    pop_b = raw_lad_population(raw_db, OTHERS, year)
    assert (result["population_year"], result["population_area"], result["population_against"]) == (
        year,
        pop_a,
        pop_b,
    )

    every_a = raw_by_type(raw_db, ("Leicester",), "2021-01", "2021-12")
    every_b = raw_by_type(raw_db, OTHERS, "2021-01", "2021-12")
    count_a, count_b = crimes_only(every_a), crimes_only(every_b)
    rows = {c["crime_type"]: c for c in result["categories"]}
    assert rows.keys() == count_a.keys() | count_b.keys()
    assert len(rows) == 13  # one family: the crime types; ASB has its own test
    types = sorted(rows)
    # The over-dispersed test on the two areas' monthly counts (support.quasi).
    months = months_between("2021-01", "2021-12")
    monthly_a = monthly_by_type(raw_db, ("Leicester",), months)
    monthly_b = monthly_by_type(raw_db, OTHERS, months)
    p_values = [change_p(monthly_b[t], monthly_a[t], pop_b, pop_a) for t in types]
    for t, p, p_adj in zip(types, p_values, holm(p_values), strict=True):
        row = rows[t]
        assert (row["count_a"], row["count_b"]) == (count_a[t], count_b[t])
        assert row["rate_a"] == pytest.approx(count_a[t] / pop_a * 1000, rel=1e-12)
        assert row["rate_b"] == pytest.approx(count_b[t] / pop_b * 1000, rel=1e-12)
        assert row["rate_ratio"] == pytest.approx(
            (count_a[t] / pop_a) / (count_b[t] / pop_b), rel=1e-12
        )
        assert row["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-300)
        assert row["p_adjusted"] == pytest.approx(p_adj, rel=1e-9, abs=1e-300)
        ratio = row["rate_ratio"]
        want = "no clear difference" if p_adj >= 0.05 else ("higher" if ratio > 1 else "lower")
        assert row["verdict"] == want
    asb = result["asb"]
    assert (asb["count_a"], asb["count_b"]) == (every_a[ASB], every_b[ASB])
    p_asb = change_p(monthly_b[ASB], monthly_a[ASB], pop_b, pop_a)
    assert asb["p_value"] == asb["p_adjusted"] == pytest.approx(p_asb, rel=1e-9, abs=1e-300)


def _independent_changes(
    raw_db: duckdb.DuckDBPyConnection, districts: tuple[str, ...], *, crime: bool = True
) -> dict[str, str]:
    """Direction per type, 2021 against 2020: same residents and 12 months in both years, so
    only the monthly counts matter (the over-dispersed test of support.quasi), Holm over the
    crime types (``crime``) or ASB alone."""
    months0, months1 = months_between("2020-01", "2020-12"), months_between("2021-01", "2021-12")
    monthly0 = monthly_by_type(raw_db, districts, months0)
    monthly1 = monthly_by_type(raw_db, districts, months1)
    before = {t: sum(n.values()) for t, n in monthly0.items()}
    after = {t: sum(n.values()) for t, n in monthly1.items()}
    types = sorted((before.keys() | after.keys()) - {ASB}) if crime else [ASB]
    p = [
        change_p(
            monthly0.get(t, dict.fromkeys(months0, 0)), monthly1.get(t, dict.fromkeys(months1, 0))
        )
        for t in types
    ]
    out = {}
    for t, p_adj in zip(types, holm(p), strict=True):
        up = after.get(t, 0) > before.get(t, 0)
        out[t] = "no clear change" if p_adj >= 0.05 else ("rise" if up else "fall")
    return out


def test_compare_changes_and_every_category_claims(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    result = figures.compare_areas(
        sample_store, "Leicester", None, "2021-01", "2021-12", "2020-01", "2020-12"
    )
    assert result["before"]["months_missing"] == []
    for key, districts in (("area", ("Leicester",)), ("against", OTHERS)):
        before = raw_by_type(raw_db, districts, "2020-01", "2020-12")
        after = raw_by_type(raw_db, districts, "2021-01", "2021-12")
        directions = _independent_changes(raw_db, districts)
        assert ASB not in directions and len(directions) == 13
        got = {c["crime_type"]: c for c in result["changes"][key]}
        assert {t: (c["count_before"], c["count_after"]) for t, c in got.items()} == {
            t: (before.get(t, 0), after.get(t, 0)) for t in directions
        }
        assert {t: c["direction"] for t, c in got.items()} == directions
        every_rise = all(d == "rise" for d in directions.values())
        every_fall = all(d == "fall" for d in directions.values())
        assert result["claims"][f"{key}_rising_in_every_category"] is every_rise
        assert result["claims"][f"{key}_falling_in_every_category"] is every_fall
        asb = result["asb_changes"][key]
        assert (asb["count_before"], asb["count_after"]) == (before[ASB], after[ASB])
        assert asb["direction"] == _independent_changes(raw_db, districts, crime=False)[ASB]


def test_compare_over_the_gap_reports_missing_months(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    result = figures.compare_areas(sample_store, "Leicester", None, "2021-06", "2025-02")
    assert result["months_missing"] == months_between("2022-01", "2024-12")
    assert result["months"] == 9
    count_a = crimes_only(raw_by_type(raw_db, ("Leicester",), "2021-06", "2025-02"))
    assert {c["crime_type"]: c["count_a"] for c in result["categories"]} == count_a


def test_compare_a_local_authority_whose_name_is_also_a_ward(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    # 'Melton' alone is ambiguous (a ward in East Suffolk); by its code it is not, and the
    # default comparison built from it must not be either.
    result = figures.compare_areas(sample_store, "E07000133", None, "2021-01", "2021-12")
    assert (result["area"], result["against"]) == ("Melton", "Leicestershire excluding Melton")
    rest = tuple(d for d in FORCE_AREA if d != "Melton")
    count_b = crimes_only(raw_by_type(raw_db, rest, "2021-01", "2021-12"))
    assert {c["crime_type"]: c["count_b"] for c in result["categories"]} == count_b


# --- rank --------------------------------------------------------------------------------------


@pytest.mark.parametrize("crime_types", [None, ["Drugs"], [ASB]])
def test_rank_among_the_force_local_authorities(
    sample_store: Store, raw_db: duckdb.DuckDBPyConnection, crime_types: list[str] | None
) -> None:
    result = figures.rank_area(
        sample_store, "Leicester", "2021-01", "2021-12", crime_types=crime_types, seed=7
    )
    year = nearest_estimate("2021-01", "2021-12")
    assert (result["n_peers"], result["population_year"]) == (9, year)
    counts = {
        lad: sum(
            n
            for t, n in raw_by_type(raw_db, (lad,), "2021-01", "2021-12").items()
            if (t != ASB if crime_types is None else t in crime_types)
        )
        for lad in FORCE_AREA
    }
    pops = {lad: raw_lad_population(raw_db, (lad,), year) for lad in FORCE_AREA}
    rates = {lad: counts[lad] / pops[lad] * 1000 for lad in FORCE_AREA}
    ranks = rank_min(rates)
    table = {row["name"]: row for row in result["table"]}
    assert table.keys() == set(FORCE_AREA)
    for lad, row in table.items():
        assert (row["count"], row["population"], row["rank"]) == (
            counts[lad],
            pops[lad],
            ranks[lad],
        )
        assert row["rate"] == pytest.approx(rates[lad], rel=1e-12)
        assert row["rank_low"] <= row["rank"] <= row["rank_high"]
    assert result["rank"] == table["Leicester"]
    assert result["rank"]["rank"] == ranks["Leicester"] == 1
    assert result["unit"] == ("ASB incidents" if crime_types == [ASB] else "crimes")

    again = figures.rank_area(
        sample_store, "Leicester", "2021-01", "2021-12", crime_types=crime_types, seed=7
    )
    assert again["table"] == result["table"]


def test_rank_lsoas_of_leicester(sample_store: Store, raw_db: duckdb.DuckDBPyConnection) -> None:
    result = figures.rank_area(sample_store, "Leicester", "2021-01", "2021-12", peers="lsoas")
    # The 2021 files carry 2011 LSOA codes, so the mid-2019 (2011-coded) estimate is used.
    assert (result["n_peers"], result["population_year"]) == (192, 2019)
    counts = dict(
        raw_db.execute(
            "SELECT \"LSOA code\", count(*) FROM street WHERE district = 'Leicester' "
            "AND month LIKE '2021-%' AND \"Crime type\" <> 'Anti-social behaviour' GROUP BY 1"
        ).fetchall()
    )
    pops = dict(
        raw_db.execute(
            "SELECT code, population FROM pop2019 WHERE code IN "
            "(SELECT LSOA11CD FROM ward_lookup WHERE LAD19NM = 'Leicester')"
        ).fetchall()
    )
    assert len(pops) == 192
    rates = {c: counts.get(c, 0) / p * 1000 for c, p in pops.items()}
    ranks = rank_min(rates)
    table = {row["name"]: row for row in result["table"]}
    assert table.keys() == pops.keys()
    assert {c: (r["count"], r["population"], r["rank"]) for c, r in table.items()} == {
        c: (counts.get(c, 0), pops[c], ranks[c]) for c in pops
    }
    assert all(r["rank_low"] <= r["rank_high"] for r in table.values())


def test_rank_rejects_unknown_crime_type_and_peers(sample_store: Store) -> None:
    with pytest.raises(InputError, match="Drugz"):
        figures.rank_area(sample_store, "Leicester", "2021-01", "2021-12", crime_types=["Drugz"])
    with pytest.raises(InputError, match="--peers"):
        figures.rank_area(sample_store, "Leicester", "2021-01", "2021-12", peers="parishes")
    with pytest.raises(InputError, match="not a crime"):
        figures.rank_area(
            sample_store, "Leicester", "2021-01", "2021-12", crime_types=["Drugs", ASB]
        )
    period = {"from_": "2021-01", "to": "2021-12", "measure": "all"}
    for call in (figures.rank_area, figures.area_stats):
        with pytest.raises(InputError, match="--measure 'all'.*'crime'.*'asb'"):
            call(sample_store, "Leicester", **period)
    with pytest.raises(InputError, match="--measure 'all'"):
        figures.compare_areas(sample_store, "Leicester", None, **period)


def test_a_difference_is_compared_with_what_it_leaves_out(sample_store: Store) -> None:
    """'Leicestershire excluding Leicester' is compared with Leicester by default, and the
    figures mirror Leicester against the county (same counts, swapped)."""
    county = figures.compare_areas(
        sample_store, "Leicestershire excluding Leicester", None, "2021-01", "2021-12"
    )
    city = figures.compare_areas(sample_store, "Leicester", None, "2021-01", "2021-12")
    assert county["against"] == "Leicester"
    swapped = {c["crime_type"]: (c["count_b"], c["count_a"]) for c in city["categories"]}
    assert {c["crime_type"]: (c["count_a"], c["count_b"]) for c in county["categories"]} == swapped
    with pytest.raises(InputError, match="whole force area"):
        figures.compare_areas(sample_store, "Leicestershire", None, "2021-01", "2021-12")
