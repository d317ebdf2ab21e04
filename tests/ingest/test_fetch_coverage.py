"""A month fetched from the API for one area counts only for areas inside it.

The store has 2021-03 .. 2021-05 from Leicestershire's files and 2021-06 fetched for West
Leicester (three wards). Figures for West Leicester and its wards use June; the force
area, the district of Leicester and a ward outside West Leicester treat June as missing,
not as a month of few crimes. Expected counts come from the raw files and the server's
answer (csv, shapely), not from BeatBook.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fetch_support import (
    AREA,
    FETCHED,
    FILE_MONTHS,
    answered,
    api,
    fetch_base,
    fetch_store,
    file_rows,
    server,
    street_file,
    ward_lsoas,
)

from beatbook import areas
from beatbook import queries as q
from beatbook.figures.stats import area_stats
from beatbook.ingest.api_months import fetch_month
from beatbook.ingest.policeuk_api import PoliceUkApi
from beatbook.ingest.policeuk_csv import ingest
from beatbook.reference import ASB
from beatbook.store import Store

__all__ = ["api", "fetch_base", "fetch_store", "server"]  # fixtures

FIRST, LAST = FILE_MONTHS[0], FETCHED


@pytest.fixture
def fetched(fetch_store: Store, api: PoliceUkApi) -> Store:
    area = areas.resolve(fetch_store, AREA)
    fetch_month(fetch_store, api, areas.outline(fetch_store, area), "custom:" + AREA, FETCHED)
    return fetch_store


def _file_crimes(months: list[str], keep=lambda row: True) -> int:
    """Crimes (ASB excluded) in the raw files of ``months`` whose rows ``keep`` selects."""
    return sum(1 for m in months for r in file_rows(m) if r["Crime type"] != ASB and keep(r))


def _fetched_crimes() -> int:
    return sum(1 for c in answered() if c["category"] != "anti-social-behaviour")


def test_the_fetched_area_and_its_wards_use_the_month(fetched: Store) -> None:
    west = ward_lsoas()
    record = area_stats(fetched, AREA, FIRST, LAST)
    assert record["months_used"] == [*FILE_MONTHS, FETCHED]
    assert record["months_missing"] == []
    in_west = _file_crimes(FILE_MONTHS, lambda r: r["LSOA code"] in west)
    assert record["count"] == in_west + _fetched_crimes()
    ward = area_stats(fetched, "Westcotes (Leicester)", FIRST, LAST)
    assert ward["months_used"][-1] == FETCHED


@pytest.mark.parametrize(
    "name", ["Leicestershire", "local authority:Leicester", "Castle (Leicester)"]
)
def test_the_force_its_district_and_a_ward_outside_treat_the_month_as_missing(
    fetched: Store, name: str
) -> None:
    record = area_stats(fetched, name, FIRST, LAST)
    assert record["months_used"] == FILE_MONTHS
    assert record["months_missing"] == [FETCHED]
    assert record["months_missing_by_force"] == {"leicestershire": [FETCHED]}
    if name == "Leicestershire":  # every row of the force's files, those months only
        assert record["count"] == _file_crimes(FILE_MONTHS)


def test_months_with_data_by_who_asks(fetched: Store) -> None:
    period = (dt.date(2021, 1, 1), dt.date(2021, 12, 1))
    june = dt.date(2021, 6, 1)
    west = areas.resolve(fetched, AREA)
    force = areas.resolve(fetched, "Leicestershire")
    # Asked without an area, June is not a month with data: it is not the force's.
    assert june not in q.months_with_data(fetched, *period)
    assert june not in q.months_with_data(fetched, *period, ["leicestershire"])
    assert june in q.months_with_data(fetched, *period, q.forces_of(fetched, west, *period))
    assert june not in q.months_with_data(fetched, *period, q.forces_of(fetched, force, *period))


def test_a_file_import_of_the_month_makes_it_every_areas_again(fetched: Store) -> None:
    ingest(fetched, [street_file(FETCHED)])
    record = area_stats(fetched, "Leicestershire", FIRST, LAST)
    assert record["months_used"] == [*FILE_MONTHS, FETCHED]
    assert record["count"] == _file_crimes([*FILE_MONTHS, FETCHED])
