"""Places from snap points: the two naming rules on hand-built points, then real data.

Distances are checked with pyproj's geodesic (WGS84 ellipsoid), not BeatBook's BNG
projection, and the test points are placed well clear of the 200 m threshold so the two
measures cannot disagree about which side of it a pair lies.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from beatbook import queries as q
from beatbook.areas import resolve
from beatbook.priorities.naming import GROUP_WITHIN_M, name_places
from beatbook.reference.snap_points import GENERIC_KINDS, PREFIX, is_generic, point_name
from beatbook.store import Store
from support.fixtures_store import raw_scalar

GEOD = Geod(ellps="WGS84")
FROM_BNG = Transformer.from_crs(27700, 4326, always_xy=True)
ORIGIN = (458_000.0, 304_000.0)  # central Leicester, BNG metres


def lonlat(dx: float, dy: float) -> tuple[float, float]:
    """A point dx, dy metres east and north of ORIGIN, as WGS84 lon/lat."""
    lon, lat = FROM_BNG.transform(ORIGIN[0] + dx, ORIGIN[1] + dy)
    return round(lon, 6), round(lat, 6)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def frame(rows: list[tuple[str, tuple[float, float], str]]) -> pl.DataFrame:
    """Points from (location, (lon, lat), ward)."""
    return pl.DataFrame(
        {
            "location": [r[0] for r in rows],
            "longitude": [r[1][0] for r in rows],
            "latitude": [r[1][1] for r in rows],
            "ward": [r[2] for r in rows],
        }
    )


def place_of(places: pl.DataFrame, point: tuple[float, float], location: str) -> dict:
    row = places.filter(
        (pl.col("location") == location)
        & (pl.col("longitude") == point[0])
        & (pl.col("latitude") == point[1])
    )
    assert row.height == 1, row
    return row.row(0, named=True)


# --- the parsers --------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=40))
def test_point_name_strips_exactly_the_prefix(name: str) -> None:
    assert point_name(PREFIX + name) == name
    if not name.startswith(PREFIX):
        assert point_name(name) == name


def test_generic_kinds_are_recognised_only_with_their_exact_name() -> None:
    assert is_generic("On or near Supermarket")
    assert is_generic("On or near Park/Open Space")
    assert not is_generic("On or near Supermarket Street")
    assert not is_generic("On or near Elm Close")
    assert not is_generic("No Location")
    assert all(is_generic(PREFIX + kind) for kind in GENERIC_KINDS)


# --- rule 1: named points -------------------------------------------------------------------


def test_named_points_of_one_name_in_one_ward_are_one_place() -> None:
    # A long street: three snap points 0, 400 and 900 m apart, all "Elm Close" in ward A.
    points = [lonlat(0, 0), lonlat(400, 0), lonlat(900, 50)]
    places = name_places(frame([("On or near Elm Close", p, "A") for p in points]))
    assert places.height == 3
    assert places["place_key"].unique().to_list() == ["A|Elm Close"]
    assert places["place"].unique().to_list() == ["Elm Close"]


def test_the_same_name_in_two_wards_is_two_places() -> None:
    places = name_places(
        frame(
            [
                ("On or near High Street", lonlat(0, 0), "A"),
                ("On or near High Street", lonlat(3000, 0), "B"),
                ("On or near High Street", lonlat(3100, 0), "B"),
            ]
        )
    )
    keys = places.group_by("place_key").agg(pl.len().alias("n")).sort("place_key")
    assert keys.to_dicts() == [
        {"place_key": "A|High Street", "n": 1},
        {"place_key": "B|High Street", "n": 2},
    ]


def test_duplicate_points_give_one_row_each() -> None:
    """Every crime at a point repeats it; the result has one row per distinct point."""
    p = lonlat(0, 0)
    places = name_places(frame([("On or near Elm Close", p, "A")] * 5))
    assert places.height == 1
    assert set(places.columns) == {
        "location",
        "longitude",
        "latitude",
        "ward",
        "place_key",
        "place",
    }


# --- rule 2: generic points -----------------------------------------------------------------


def test_generic_points_chain_within_200_m_and_stay_apart_beyond() -> None:
    a, b, c = lonlat(0, 0), lonlat(150, 0), lonlat(300, 0)  # a-b, b-c 150 m; a-c 300 m
    far = lonlat(300, 260)  # 260 m from c, further from a and b
    assert metres(a, b) < GROUP_WITHIN_M - 40 and metres(b, c) < GROUP_WITHIN_M - 40
    assert metres(a, c) > GROUP_WITHIN_M + 40  # a and c join only through b (single linkage)
    assert min(metres(far, x) for x in (a, b, c)) > GROUP_WITHIN_M + 40
    street = lonlat(150, -30)
    places = name_places(
        frame(
            [
                *(("On or near Supermarket", p, "A") for p in (a, b, c, far)),
                ("On or near Elm Road", street, "A"),
            ]
        )
    )
    key = {p: place_of(places, p, "On or near Supermarket")["place_key"] for p in (a, b, c, far)}
    assert key[a] == key[b] == key[c]
    assert key[far] != key[a]
    assert (
        places.filter(pl.col("location") == "On or near Supermarket")["place_key"].n_unique() == 2
    )


def test_generic_points_of_different_kinds_or_wards_are_never_joined() -> None:
    p, q_ = lonlat(0, 0), lonlat(50, 0)
    places = name_places(
        frame(
            [
                ("On or near Supermarket", p, "A"),
                ("On or near Parking Area", q_, "A"),
                ("On or near Supermarket", q_, "B"),
                ("On or near Elm Road", lonlat(0, 30), "A"),
            ]
        )
    )
    generic = places.filter(pl.col("location") != "On or near Elm Road")
    assert generic["place_key"].n_unique() == 3
    assert set(generic["place"]) == {
        "the supermarket off Elm Road",
        "the parking area off Elm Road",
    }


def test_generic_label_uses_the_nearest_named_point_to_the_centre() -> None:
    park = [lonlat(0, 0), lonlat(120, 0), lonlat(60, 100)]
    streets = {
        "On or near Victoria Park Road": lonlat(60, 70),  # near the middle of the park
        "On or near Elm Road": lonlat(-40, 0),  # next to one corner only
        "On or near Far Street": lonlat(900, 900),
    }
    centre = (sum(p[0] for p in park) / 3, sum(p[1] for p in park) / 3)
    nearest = min(streets, key=lambda s: metres(centre, streets[s]))
    assert nearest == "On or near Victoria Park Road"
    assert metres(park[0], streets["On or near Elm Road"]) < metres(
        park[0], streets["On or near Victoria Park Road"]
    )  # the nearest to one point is not the nearest to the centre
    places = name_places(
        frame(
            [
                *(("On or near Park/Open Space", p, "W") for p in park),
                *((name, p, "W") for name, p in streets.items()),
            ]
        )
    )
    labels = places.filter(pl.col("location") == "On or near Park/Open Space")["place"].unique()
    assert labels.to_list() == ["the park/open space off Victoria Park Road"]
    key = places.filter(pl.col("location") == "On or near Park/Open Space")["place_key"][0]
    assert key.startswith("W|the park/open space off Victoria Park Road|")


def test_two_clusters_with_the_same_label_are_numbered() -> None:
    west, east = lonlat(-400, 0), lonlat(400, 0)
    assert metres(west, east) > 2 * GROUP_WITHIN_M
    places = name_places(
        frame(
            [
                ("On or near Supermarket", west, "A"),
                ("On or near Supermarket", east, "A"),
                ("On or near London Road", lonlat(0, 0), "A"),  # the only street: nearest to both
            ]
        )
    )
    shops = places.filter(pl.col("location") == "On or near Supermarket")
    assert sorted(shops["place"]) == [
        "the supermarket off London Road (1)",
        "the supermarket off London Road (2)",
    ]
    assert shops["place_key"].n_unique() == 2


def test_generic_points_with_no_named_point_are_labelled_by_grid_reference() -> None:
    places = name_places(frame([("On or near Hospital", lonlat(0, 0), "A")]))
    assert places["place"].to_list() == [f"the hospital at {ORIGIN[0]:.0f},{ORIGIN[1]:.0f}"]


# --- real data ------------------------------------------------------------------------------


def test_every_snap_point_of_leicester_june_2021_gets_exactly_one_place(
    sample_store: Store, raw_db
) -> None:
    june = dt.date(2021, 6, 1)
    crimes = q.incidents(sample_store, resolve(sample_store, "Leicester"), june, june)
    wards = q.lsoa_wards(sample_store, crimes["lsoa_code"].drop_nulls().unique().to_list())
    points = crimes.join(
        wards.select("lsoa_code", pl.col("ward_name").alias("ward")), on="lsoa_code", how="left"
    ).select("location", "longitude", "latitude", "ward")
    places = name_places(points)

    # The distinct located snap points of Leicester in June 2021, straight from the raw file.
    expected = raw_scalar(
        raw_db,
        'SELECT count(*) FROM (SELECT DISTINCT "Location", CAST("Longitude" AS DOUBLE), '
        "CAST(\"Latitude\" AS DOUBLE) FROM street WHERE month = '2021-06' "
        "AND district = 'Leicester' AND \"Longitude\" IS NOT NULL)",
    )
    assert places.select("location", "longitude", "latitude").n_unique() == expected
    # One place per point: no point is repeated, none is left without a place.
    assert places.height == places.select("location", "longitude", "latitude", "ward").n_unique()
    assert places["place_key"].null_count() == 0 and places["place"].null_count() == 0
    assert (places["place_key"].str.starts_with(places["ward"] + "|")).all()
    named = places.filter(~pl.col("location").map_elements(is_generic, return_dtype=pl.Boolean))
    assert (named["place"] == named["location"].str.replace(f"^{PREFIX}", "")).all()
    # Every crime joins back to exactly one place.
    joined = points.join(places, on=["location", "longitude", "latitude", "ward"], how="left")
    assert joined.height == points.height and joined["place_key"].null_count() == 0
    generic = places.filter(pl.col("location").map_elements(is_generic, return_dtype=pl.Boolean))
    assert generic.height > 0  # the month has supermarkets, parks, ... to group
    assert generic["place_key"].n_unique() <= generic.height


@pytest.mark.parametrize("kind", sorted(GENERIC_KINDS)[:3])
def test_generic_label_is_the_kind_in_lower_case(kind: str) -> None:
    places = name_places(
        frame([(PREFIX + kind, lonlat(0, 0), "A"), ("On or near Mill Lane", lonlat(10, 10), "A")])
    )
    label = places.filter(pl.col("location") == PREFIX + kind)["place"][0]
    assert label == f"the {kind.lower()} off Mill Lane"
