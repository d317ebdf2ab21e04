"""National ranks (``rank --scope national``, ``--peers force-areas``, ``--peers wards``) on
two forces in one store with months missing, recomputed from the raw files: the police.uk
CSVs read with the csv module, the ONS lookups and estimates read by a separate DuckDB."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from beatbook import national
from beatbook.cli.main import app
from beatbook.errors import InputError
from beatbook.figures import stats as figures
from beatbook.reference import ASB
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import BRIDGE_LOOKUP, FORCE_AREA, POP_2019, POP_2022, WARD_LOOKUP
from support.two_forces import LEICS_MISSING, NOTTS_DISTRICTS, counted_rows

FORCES = {"leicestershire": set(FORCE_AREA), "nottinghamshire": set(NOTTS_DISTRICTS)}


def rank_min(values: dict[str, float]) -> dict[str, int]:
    """1 = highest; ties share the smallest rank."""
    return {k: 1 + sum(other > v for other in values.values()) for k, v in values.items()}


@pytest.fixture(scope="module")
def ons() -> Iterator[duckdb.DuckDBPyConnection]:
    """The raw ONS files: ``bridge`` (LSOA11 -> LSOA21 -> LAD22), ``wards`` (LSOA11 -> ward
    -> LAD19), ``pop2019``, ``pop2022``."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW bridge AS SELECT * FROM read_csv('{BRIDGE_LOOKUP}', header=true)")
    con.execute(f"CREATE VIEW wards AS SELECT * FROM read_csv('{WARD_LOOKUP}', header=true)")
    con.execute(
        f"CREATE VIEW pop2019 AS SELECT ltrim(column0, chr(65279)) AS code, column1::DOUBLE AS "
        f"population FROM read_csv('{POP_2019}', header=false, all_varchar=true)"
    )
    con.execute(
        f"CREATE VIEW pop2022 AS SELECT ltrim(c0, chr(65279)) AS code, c1::DOUBLE AS population "
        f"FROM read_csv('{POP_2022}', header=false, skip=1, all_varchar=true, names=['c0','c1'])"
    )
    yield con
    con.close()


def lad22(ons: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every 2022 district of England and Wales: name -> code, from the raw lookup."""
    return dict(ons.execute("SELECT DISTINCT LAD22NM, LAD22CD FROM bridge").fetchall())


def residents_2022(ons: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return dict(
        ons.execute(
            "SELECT l.LAD22NM, sum(p.population) FROM (SELECT DISTINCT LSOA21CD, LAD22NM "
            "FROM bridge) l JOIN pop2022 p ON p.code = l.LSOA21CD GROUP BY 1"
        ).fetchall()
    )


def raw_counts(months: list[str], *, located: bool) -> dict[str, Counter[str]]:
    """Force -> crimes (ASB excluded) under the counting unit, by district (``located``: in
    the force's own districts only) or all together under the key ''."""
    found: dict[str, Counter[str]] = {}
    for force, districts in FORCES.items():
        tally: Counter[str] = Counter()
        for row in counted_rows(force):
            if row["Month"] not in months or row["Crime type"] == ASB:
                continue
            district = row["LSOA name"].rsplit(" ", 1)[0] if row["LSOA name"] else ""
            if not located:
                tally[""] += 1
            elif district in districts:
                tally[district] += 1
        found[force] = tally
    return found


@pytest.mark.parametrize(
    ("first", "ranked_forces"),
    [("2025-04", ("leicestershire", "nottinghamshire")), ("2025-01", ("nottinghamshire",))],
)
def test_national_rank_of_districts_with_every_month(
    two_force_store: Store,
    ons: duckdb.DuckDBPyConnection,
    first: str,
    ranked_forces: tuple[str, ...],
) -> None:
    months = [
        m for m in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06") if m >= first
    ]
    result = figures.rank_area(
        two_force_store, "lad:Nottingham", first, "2025-06", scope="national", seed=3
    )
    expected = {d for f in ranked_forces for d in FORCES[f]}
    everyone = lad22(ons)
    table = {row["name"]: row for row in result["table"]}
    assert table.keys() == expected
    assert (result["n_peers"], result["scope"], result["population_year"]) == (
        len(expected),
        "national",
        2022,
    )
    # Every other district of England and Wales is left out and named, once.
    left = {p["name"]: p for p in result["left_out"]}
    assert len(left) == len(result["left_out"]) == len(everyone) - len(expected)
    assert left.keys() | table.keys() == everyone.keys()
    assert {p["code"] for p in left.values()} == {everyone[n] for n in left}
    for name in FORCES["leicestershire"] - expected:
        assert left[name]["months_missing"] == LEICS_MISSING
    assert left["Derby"]["months_missing"] == months  # Derbyshire published nothing
    counts = raw_counts(months, located=True)
    residents = residents_2022(ons)
    rates = {}
    for force in ranked_forces:
        for name in FORCES[force]:
            assert table[name]["count"] == counts[force][name], name
            assert table[name]["population"] == pytest.approx(residents[name], abs=1e-6)
            rates[name] = counts[force][name] / residents[name] * 1000
    assert {n: r["rank"] for n, r in table.items()} == rank_min(rates)
    assert all(r["rank_low"] <= r["rank_high"] for r in table.values())
    assert result["rank"] == table["Nottingham"]


def test_a_district_with_missing_months_is_named_not_ranked(two_force_store: Store) -> None:
    result = figures.rank_area(
        two_force_store, "lad:Leicester", "2025-01", "2025-06", scope="national"
    )
    assert result["rank"] is None and result["focus"] == "Leicester"
    assert "Leicester" not in {r["name"] for r in result["table"]}
    (entry,) = [p for p in result["left_out"] if p["name"] == "Leicester"]
    assert entry["months_missing"] == LEICS_MISSING and entry["force"] == "leicestershire"


def test_force_scope_is_still_the_default(two_force_store: Store) -> None:
    result = figures.rank_area(two_force_store, "lad:Nottingham", "2025-01", "2025-06")
    assert {r["name"] for r in result["table"]} == set(NOTTS_DISTRICTS)
    assert result["scope"] == "force" and result["left_out"] == []


def test_national_rank_of_force_areas(
    two_force_store: Store, ons: duckdb.DuckDBPyConnection
) -> None:
    months = ["2025-04", "2025-05", "2025-06"]
    result = figures.rank_area(
        two_force_store, "Leicestershire", "2025-04", "2025-06", peers="force-areas"
    )
    counts = raw_counts(months, located=False)
    residents = residents_2022(ons)
    table = {row["name"]: row for row in result["table"]}
    assert table.keys() == {"Leicestershire", "Nottinghamshire"}
    for force, name in (
        ("leicestershire", "Leicestershire"),
        ("nottinghamshire", "Nottinghamshire"),
    ):
        assert table[name]["count"] == counts[force][""]
        assert table[name]["population"] == pytest.approx(sum(residents[d] for d in FORCES[force]))
    assert result["rank"] == table["Leicestershire"]
    # The other 41 territorial forces are named with the months they lack.
    assert len(result["left_out"]) == 41
    assert all(p["months_missing"] == months for p in result["left_out"])
    with pytest.raises(InputError, match="force areas"):
        figures.rank_area(
            two_force_store, "lad:Leicester", "2025-04", "2025-06", peers="force-areas"
        )


def test_wards_of_a_district(sample_store: Store, raw_db: duckdb.DuckDBPyConnection) -> None:
    """Leicester's 21 wards (2019 lookup), 2021 files with 2011 LSOA codes, mid-2019."""
    result = figures.rank_area(
        sample_store,
        "Castle (Leicester)",
        "2021-01",
        "2021-12",
        peers="wards",
        population_year=2019,
    )
    counts = dict(
        raw_db.execute(
            "SELECT w.WD19NM, count(*) FROM street s JOIN ward_lookup w ON w.LSOA11CD = "
            "s.\"LSOA code\" WHERE w.LAD19NM = 'Leicester' AND s.district = 'Leicester' "
            "AND s.month LIKE '2021-%' AND s.\"Crime type\" <> 'Anti-social behaviour' GROUP BY 1"
        ).fetchall()
    )
    residents = dict(
        raw_db.execute(
            "SELECT w.WD19NM, sum(p.population) FROM ward_lookup w JOIN pop2019 p "
            "ON p.code = w.LSOA11CD WHERE w.LAD19NM = 'Leicester' GROUP BY 1"
        ).fetchall()
    )
    table = {row["name"]: row for row in result["table"]}
    assert len(table) == 21 and table.keys() == residents.keys()
    assert {n: r["count"] for n, r in table.items()} == {n: counts.get(n, 0) for n in residents}
    assert {n: r["population"] for n, r in table.items()} == pytest.approx(residents)
    assert result["rank"] == table["Castle"] and result["peers"] == "wards of Leicester"


def test_every_2019_district_lies_in_its_2022_successor(ons: duckdb.DuckDBPyConnection) -> None:
    """The shipped successor table against the raw lookups: the 2022 district of each 2019
    district's 2011 LSOAs, by majority; a code not in the table is its own successor."""
    majority = dict(
        ons.execute(
            "SELECT LAD19CD, mode(LAD22CD) FROM wards JOIN bridge USING (LSOA11CD) GROUP BY 1"
        ).fetchall()
    )
    text = resources.files("beatbook.reference").joinpath("lad_successors.csv").read_text()
    shipped = {r["lad19_code"]: r["lad22_code"] for r in csv.DictReader(text.splitlines())}
    assert {c: s for c, s in majority.items() if c != s} == shipped
    assert len({d.code for d in national.districts()}) == len(lad22(ons)) == 331


def test_residents_of_2019_districts_add_up_to_their_successor(
    sample_store: Store, ons: duckdb.DuckDBPyConnection
) -> None:
    residents, unknown = national.district_residents(sample_store, 2019)
    raw = dict(
        ons.execute(
            "SELECT LAD19CD, sum(population) FROM wards JOIN pop2019 ON code = LSOA11CD GROUP BY 1"
        ).fetchall()
    )
    bucks = ("E07000004", "E07000005", "E07000006", "E07000007")
    assert residents["E06000060"] == pytest.approx(sum(raw[c] for c in bucks))
    assert residents["E06000016"] == pytest.approx(raw["E06000016"]) == 354_224
    assert not unknown and len(residents) == 331


def test_rank_cli_names_what_it_leaves_out(two_force_store_path: Path) -> None:
    def run(*args: str) -> str:
        result = CliRunner().invoke(
            app,
            ["rank", "--store", str(two_force_store_path), "--area", "Leicester", *args],
            env={"COLUMNS": "200", STORE_ENV: None},
        )
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    printed = run("--from", "2025-01", "--to", "2025-06", "--scope", "national")
    assert "Leicester is not ranked" in printed
    assert "Leicestershire Police published 4 of the 6 months: Blaby; Charnwood" in printed
    data = json.loads(run("--from", "2025-04", "--to", "2025-06", "--scope", "national", "--json"))
    assert data["n_peers"] == 17 and data["rank"]["name"] == "Leicester"
    bad = CliRunner().invoke(
        app,
        [
            "rank",
            "--store",
            str(two_force_store_path),
            "--area",
            "Leicester",
            "--from",
            "2025-04",
            "--to",
            "2025-06",
            "--scope",
            "county",
        ],
        env={STORE_ENV: None},
    )
    assert bad.exit_code != 0 and "--scope 'county'" in str(bad.exception)
