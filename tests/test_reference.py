"""The shipped crime-type table: complete for real data, and as documented."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from beatbook.errors import InputError
from beatbook.reference import crime_types, harm_weight, problem_crime_types, problem_groups

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "police-uk"


def test_every_crime_type_in_real_data_is_known() -> None:
    """Both vintages of the bundled police.uk files (2020-21 and 2025) use exactly these 14."""
    seen = {
        name
        for (name,) in duckdb.sql(
            f"SELECT DISTINCT \"Crime type\" FROM read_csv('{SAMPLE}/**/*-street.csv.gz', "
            "all_varchar = true)"
        ).fetchall()
    }
    assert seen == {t.name for t in crime_types()}


def test_each_category_in_exactly_one_group() -> None:
    names = [n for g in problem_groups() for n in problem_crime_types(g)]
    assert sorted(names) == sorted(t.name for t in crime_types())
    assert len(names) == len(set(names)) == 14


def test_groups_and_single_types() -> None:
    assert problem_crime_types("violence-weapons") == [
        "Possession of weapons",
        "Violence and sexual offences",
    ]
    assert problem_crime_types("burglary") == ["Burglary"]
    assert problem_crime_types("violent-crime") == ["Violence and sexual offences"]
    assert problem_crime_types("Vehicle crime") == ["Vehicle crime"]
    with pytest.raises(InputError, match="'burglry' is not a problem group"):
        problem_crime_types("burglry")


def test_harm_weights_are_the_documented_starting_values() -> None:
    """The days in REFERENCES.md's table (CCHI style); ASB has none."""
    assert harm_weight("Violence and sexual offences") == 182
    assert harm_weight("Robbery") == 365
    assert harm_weight("Burglary") == 91
    assert harm_weight("Criminal damage and arson") == 30
    assert harm_weight("Shoplifting") == 5
    assert harm_weight("Anti-social behaviour") is None
    assert harm_weight("Not a category") is None
    assert {t.name for t in crime_types() if t.proactive} == {"Drugs", "Possession of weapons"}
