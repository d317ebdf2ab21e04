"""Months are per force (issue 16, item 1): a store holding two forces, one with months
missing, reports each area's months from the forces that police it, never the other's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from beatbook import areas, queries
from beatbook.errors import DataMissingError
from beatbook.figures import stats as figures
from beatbook.ingest import ons
from beatbook.ingest.policeuk_csv import ingest
from beatbook.months import parse_month
from beatbook.store import Store
from support.fixtures_store import BRIDGE_LOOKUP, POP_2022, WARD_LOOKUP
from support.two_forces import (
    LEICS_FILES,
    LEICS_MISSING,
    LEICS_MONTHS,
    NOTTS_MONTHS,
    counted_rows,
)


@pytest.fixture(scope="module")
def leics_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-force store's Leicestershire files and reference data, without the other force."""
    path = tmp_path_factory.mktemp("leics-only") / "beatbook.duckdb"
    with Store(path) as st:
        ingest(st, LEICS_FILES)
        ons.import_lookup(st, WARD_LOOKUP)
        ons.import_lookup(st, BRIDGE_LOOKUP)
        ons.import_population(st, POP_2022, 2022)
    return path


def test_a_district_of_the_force_with_gaps_reports_its_own_months(two_force_store: Store) -> None:
    result = figures.area_stats(two_force_store, "lad:Leicester", "2025-01", "2025-06")
    assert isinstance(result, dict)
    assert result["months"] == len(LEICS_MONTHS)
    assert result["months_missing"] == LEICS_MISSING
    assert result["months_used"] == LEICS_MONTHS
    assert result["forces"] == ["leicestershire"]
    assert result["months_missing_by_force"] == {"leicestershire": LEICS_MISSING}
    assert result["trend"] is None and "4 months with data" in result["trend_unavailable"]


def test_the_other_force_has_all_its_months(two_force_store: Store) -> None:
    result = figures.area_stats(two_force_store, "lad:Nottingham", "2025-01", "2025-06")
    assert isinstance(result, dict)
    assert (result["months"], result["months_missing"]) == (6, [])
    assert result["months_used"] == NOTTS_MONTHS
    assert result["forces"] == ["nottinghamshire"]
    # Six months: a slope would be the seasons; a trend needs two years with month effects.
    assert result["trend"] is None and "at least 24" in result["trend_unavailable"]


@pytest.mark.parametrize(
    ("district", "force"),
    [
        ("Leicester", "leicestershire"),
        ("Melton", "leicestershire"),
        ("Nottingham", "nottinghamshire"),
        ("Erewash", "derbyshire"),  # Nottinghamshire records crimes there; Derbyshire polices it
    ],
)
def test_an_area_depends_on_the_force_that_polices_it(
    two_force_store: Store, district: str, force: str
) -> None:
    area = areas.resolve(two_force_store, f"lad:{district}")
    first, last = parse_month("2025-01"), parse_month("2025-06")
    assert queries.forces_of(two_force_store, area, first, last) == [force]


def test_a_district_whose_force_is_not_stored_says_so(two_force_store: Store) -> None:
    with pytest.raises(DataMissingError, match="no street-level crime data stored by derbyshire"):
        figures.area_stats(two_force_store, "lad:Erewash", "2025-01", "2025-06")


def test_the_unlocated_count_is_per_force(two_force_store: Store) -> None:
    first, last = parse_month("2025-01"), parse_month("2025-06")
    for force in ("leicestershire", "nottinghamshire"):
        expected = sum(1 for row in counted_rows(force) if not row["LSOA code"])
        assert queries.unlocated_count(two_force_store, first, last, [force]) == expected


@pytest.mark.parametrize("district", ["Leicester", "Charnwood", "Rutland"])
def test_a_second_force_changes_no_figure_of_the_first(
    two_force_store: Store, leics_only: Path, district: str
) -> None:
    keys = (
        "count",
        "months",
        "months_missing",
        "months_used",
        "population",
        "rate_per_1000",
        "ci_low",
        "ci_high",
        "repeats_folded",
        "trend",
    )
    with Store(leics_only, read_only=True) as alone:
        before = figures.area_stats(alone, f"lad:{district}", "2025-01", "2025-06")
    after = figures.area_stats(two_force_store, f"lad:{district}", "2025-01", "2025-06")
    assert isinstance(before, dict) and isinstance(after, dict)
    assert {k: after[k] for k in keys} == {k: before[k] for k in keys}


@pytest.mark.parametrize("measure", ["crime", "asb"])
def test_a_second_force_changes_no_comparison_or_rank_of_the_first(
    two_force_store: Store, leics_only: Path, measure: str
) -> None:
    def figures_of(store: Store) -> tuple[object, ...]:
        period = {"from_": "2025-01", "to": "2025-06", "measure": measure}
        return (
            figures.compare_areas(store, "lad:Leicester", None, **period),
            figures.rank_area(store, "lad:Leicester", **period),
            figures.rank_area(store, "lad:Leicester", peers="lsoas", **period),
            figures.area_stats(store, "Leicestershire", by="crime-type", **period),
        )

    with Store(leics_only, read_only=True) as alone:
        before = figures_of(alone)
    assert figures_of(two_force_store) == before


def test_sources_name_only_the_areas_forces(two_force_store: Store) -> None:
    months = [parse_month(m) for m in NOTTS_MONTHS]
    listed = queries.sources(two_force_store, months, ["leicestershire"])
    assert [s["month"] for s in listed] == LEICS_MONTHS
    assert {s["force"] for s in listed} == {"leicestershire"}


def test_the_brief_uses_the_areas_months_and_sources(two_force_store: Store) -> None:
    from beatbook.publish import brief

    facts = brief.build_facts(two_force_store, "lad:Leicester", 2025, None)
    assert facts["months"] == LEICS_MONTHS
    assert facts["forces"] == ["leicestershire"]
    assert {s["force"] for s in facts["sources"]} == {"leicestershire"}
    assert [s["month"] for s in facts["sources"]] == LEICS_MONTHS
    assert [m["month"] for m in facts["monthly"]] == LEICS_MONTHS  # gaps, not zeros
    expected = sum(
        1
        for row in counted_rows("leicestershire")
        if not row["LSOA code"] and row["Month"] in LEICS_MONTHS
    )
    assert facts["unlocated_force_wide"] == expected


def test_a_compare_year_without_data_says_so(two_force_store: Store) -> None:
    from beatbook.publish import brief

    with pytest.raises(DataMissingError, match="--compare-year 2024: no street-level data"):
        brief.build_facts(two_force_store, "lad:Leicester", 2025, 2024)


def test_an_area_across_two_forces_counts_only_the_months_both_published(
    two_force_store_path: Path, tmp_path: Path
) -> None:
    """A team area of three Leicester and three Nottingham LSOAs: Leicestershire has not
    published 2025-02/03, so those months count for neither half (not Nottingham alone)."""
    rows = {f: counted_rows(f) for f in ("leicestershire", "nottinghamshire")}
    codes = {
        force: sorted({r["LSOA code"] for r in rows[force] if r["LSOA name"].startswith(town)})[:3]
        for force, town in (("leicestershire", "Leicester "), ("nottinghamshire", "Nottingham "))
    }
    path = tmp_path / "beatbook.duckdb"
    shutil.copy(two_force_store_path, path)
    with Store(path) as st:
        areas.add_area(
            st,
            "Both",
            lsoas=[*codes["leicestershire"], *codes["nottinghamshire"]],
            wards=[],
            geojson=None,
        )
        result = figures.area_stats(st, "Both", "2025-01", "2025-06")
    assert isinstance(result, dict)
    assert result["forces"] == ["leicestershire", "nottinghamshire"]
    assert result["months_used"] == LEICS_MONTHS
    assert result["months_missing_by_force"] == {
        "leicestershire": LEICS_MISSING,
        "nottinghamshire": [],
    }
    counted = [
        r
        for force, kept in rows.items()
        for r in kept
        if r["LSOA code"] in codes[force] and r["Month"] in LEICS_MONTHS
    ]
    crimes = sum(r["Crime type"] != "Anti-social behaviour" for r in counted)
    assert result["count"] == crimes > 0
    assert result["asb_incidents"] == len(counted) - crimes
