"""Custom areas in the team's records, embedded and in PostgreSQL: defined from wards of the
store's ONS lookup, read back by every ``--area custom:…`` and offered as 'did you mean'
names beside the lookup's. Expected LSOAs come from the raw lookup file (``raw_db``) and the
stored rows from plain SQL, apart from BeatBook's code."""

from __future__ import annotations

import duckdb
import pytest
import sqlalchemy as sa

from beatbook import areas
from beatbook.errors import UnknownAreaError
from beatbook.store import Store

WARDS = ["Westcotes (Leicester)", "Fosse (Leicester)"]


def stored(store: Store) -> list[tuple]:
    with store.team_records.connect() as c:
        rows = c.execute(sa.text("SELECT name, kind, members, description FROM custom_areas"))
        return [tuple(r) for r in rows.all()]


def raw_lsoas(raw_db: duckdb.DuckDBPyConnection, wards: list[str]) -> set[str]:
    rows = raw_db.execute(
        "SELECT LSOA11CD FROM ward_lookup WHERE LAD19NM = 'Leicester' AND WD19NM IN (?, ?)",
        [w.removesuffix(" (Leicester)") for w in wards],
    ).fetchall()
    return {r[0] for r in rows}


def test_a_custom_area_is_stored_resolved_and_replaced(
    team_store: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    store = team_store
    made = areas.add_area(store, "West Patch", lsoas=[], wards=WARDS, geojson=None)
    [(name, kind, members, description)] = stored(store)
    assert (name, kind) == ("West Patch", "wards")
    assert description == "wards " + ", ".join(
        f"{w.removesuffix(' (Leicester)')} (ward {c} in Leicester)"
        for w, c in zip(WARDS, ("E05010476", "E05010466"), strict=True)
    )
    two_wards = raw_lsoas(raw_db, WARDS)
    assert two_wards and two_wards <= set(members)
    assert made == areas.resolve(store, "custom:west patch") == areas.resolve(store, "West Patch")
    assert two_wards <= made.lsoa_codes and set(members) <= made.lsoa_codes
    assert made.name in areas._all_names(store)
    with pytest.raises(UnknownAreaError, match="did you mean 'West Patch'"):
        areas.resolve(store, "West Pach")

    lsoas = sorted(two_wards)[:3]
    again = areas.add_area(store, "West Patch", lsoas=lsoas, wards=[], geojson=None)
    assert [r[:3] for r in stored(store)] == [("West Patch", "lsoas", lsoas)]
    assert set(lsoas) <= again.lsoa_codes < made.lsoa_codes
    assert [a.name for a in areas.team_areas(store)] == ["West Patch"]
