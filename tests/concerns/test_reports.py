"""One report from the public form (:mod:`beatbook.concerns.reports`) on a copy of the real
sample store: every bad field named at once before anything is stored, the map pin checked
against the area's own outline (or, without stored outlines, its snap points), and the
description kept in ``concern_descriptions`` only, read back by the team's list alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import math

import duckdb
import pytest

from beatbook.areas import add_area, resolve
from beatbook.concerns.records import concerns_in, team_list
from beatbook.concerns.reports import MAX_DESCRIPTION, check_pin, record_report
from beatbook.errors import ConcernFieldError
from beatbook.store import Store

TODAY = dt.date(2021, 12, 31)
WARDS = ["Westcotes", "Fosse", "Western"]
SECRET = "Qzvdescription: the man at number 12 sells from his van"


@pytest.fixture
def west(writable_store: Store) -> Store:
    add_area(writable_store, "West", lsoas=[], wards=WARDS, geojson=None)
    return writable_store


def counts(st: Store) -> tuple[int, int, int]:
    return st.row(
        "SELECT (SELECT count(*) FROM concerns), (SELECT count(*) FROM concern_contacts), "
        "(SELECT count(*) FROM concern_descriptions)"
    )


def report(st: Store, **fields: str) -> tuple[int, object]:
    base = {
        "area": "custom:West",
        "reported_on": "2021-07-02",
        "problem": "drugs",
        "source": "online",
        "where": "Narborough Road",
        "today": TODAY,
    }
    return record_report(st, **{**base, **fields})  # type: ignore[arg-type]


def nearest_point(st: Store, lon: float, lat: float) -> tuple[str, float]:
    """The West crime location nearest (lon, lat) and its distance in metres, by the tests'
    own SQL and an equirectangular distance (not BeatBook's British National Grid)."""
    codes = st.scalar("SELECT members FROM custom_areas WHERE name = 'West'")
    lsoas = [
        r[0]
        for r in st.rows(
            "SELECT lsoa_code FROM lsoa_lookup WHERE ward_code IN (SELECT unnest(?::VARCHAR[]))",
            [codes],
        )
    ] or codes
    rows = st.rows(
        "SELECT DISTINCT location, longitude, latitude FROM street_crimes "
        "WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[])) AND longitude IS NOT NULL",
        [lsoas],
    )
    k = math.cos(math.radians(lat))
    best = min(rows, key=lambda r: ((r[1] - lon) * k) ** 2 + (r[2] - lat) ** 2)
    metres = math.hypot((best[1] - lon) * k, best[2] - lat) * 111_195
    return best[0], metres


def test_every_bad_field_is_named_at_once_and_nothing_is_stored(west: Store) -> None:
    before = counts(west)
    with pytest.raises(ConcernFieldError) as caught:
        report(
            west,
            reported_on="2999-01-01",
            description="x" * (MAX_DESCRIPTION + 1),
            where="",
            latitude="53.4",  # Sheffield: in the UK, far outside West
            longitude="-1.47",
            contact="zqxcontact@example.org",
        )
    fields = dict(caught.value.errors)
    assert set(fields) == {"date", "description", "latitude"}
    assert fields["description"] == f"longer than {MAX_DESCRIPTION} characters"
    assert "is outside West" in fields["latitude"]
    assert "zqxcontact" not in str(caught.value) and "xxxx" not in str(caught.value)
    assert counts(west) == before


def test_a_pin_inside_the_area_is_placed_at_its_nearest_snap_point(west: Store) -> None:
    lon, lat = -1.150477, 52.627112  # a point on Narborough Road, Westcotes
    expected, metres = nearest_point(west, lon + 0.0004, lat + 0.0002)
    assert metres < 250
    concern_id, placed = report(
        west, where="", latitude=str(lat + 0.0002), longitude=str(lon + 0.0004)
    )
    assert placed.place == expected and placed.method == "coordinates"
    assert west.row(
        "SELECT place, match_method FROM concerns WHERE concern_id = ?", [concern_id]
    ) == (expected, "coordinates")


def test_the_pin_is_checked_against_the_areas_outline(west: Store) -> None:
    area = resolve(west, "custom:West")
    # inside: a Westcotes point; outside: the city centre (Castle ward), 1-2 km east
    assert check_pin(west, area, -1.150477, 52.627112) is None
    assert "outside West" in (check_pin(west, area, -1.1339, 52.6343) or "")


def test_without_stored_outlines_the_pin_must_be_near_a_snap_point(west: Store) -> None:
    with west.transaction() as con:  # the tests' own SQL: a store without LSOA outlines
        con.execute("DELETE FROM lsoa_boundaries")
    area = resolve(west, "custom:West")
    location, metres = nearest_point(west, -1.150477, 52.627112)
    assert metres < 50
    assert check_pin(west, area, -1.150477, 52.627112) is None
    assert "outside West" in (check_pin(west, area, -1.1339, 52.6343) or "")


def test_the_description_is_kept_apart_and_read_by_the_teams_list_only(
    west: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    concern_id, _ = report(west, description=f"  {SECRET}  ", submission_id="one")
    again, _ = report(west, description="a second try", submission_id="one")
    assert again == concern_id  # the same form twice: one report, the first description
    tables = west.rows(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
    )
    holding = {
        t
        for t, c in tables
        if west.scalar(f'SELECT count(*) FROM "{t}" WHERE "{c}" LIKE \'%Qzvdescription%\'')
    }
    assert holding == {"concern_descriptions"}
    assert (
        west.scalar(
            "SELECT description FROM concern_descriptions WHERE concern_id = ?", [concern_id]
        )
        == SECRET
    )
    assert "qzvdescription" not in caplog.text.lower()
    listed = {r["concern_id"]: r for r in team_list(west, free_text=True)}
    assert listed[concern_id]["description"] == SECRET
    assert "description" not in team_list(west)[0]  # only when the free text is asked for
    public = concerns_in(
        west, resolve(west, "custom:West"), dt.date(2021, 7, 1), dt.date(2021, 7, 1)
    )
    assert "qzvdescription" not in str(public.to_dicts()).lower()


def test_a_store_made_before_descriptions_lists_none(sample_store_path, tmp_path) -> None:
    path = tmp_path / "old.duckdb"
    path.write_bytes(sample_store_path.read_bytes())
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE IF EXISTS concern_descriptions")
    con.close()
    st = Store(path, read_only=True)
    try:
        assert all(r["description"] is None for r in team_list(st, free_text=True))
    finally:
        st.close()
