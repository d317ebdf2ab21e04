"""The team's own priorities (a street or a map point, a problem in its words, the inspector's
reason) on the real sample, and drug dealing backed by residents' concerns in the score.

Expected places come from the raw police.uk files and the raw ONS lookup (``raw_db``,
``priorities_support.ward_lsoas``); distances from a haversine of our own; concerns from the
raw demo CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import pytest
from priorities_support import AREA, CONCERNS_CSV, ward_lsoas

from beatbook.errors import InputError
from beatbook.figures.public import current
from beatbook.priorities import lifecycle, review, team
from beatbook.priorities.propose import propose
from beatbook.priorities.score import Weights
from support.records_backend import TeamSQL, open_store

JULY, AUGUST = dt.date(2021, 7, 1), dt.date(2021, 8, 1)
BY = "Insp. Test"


def raw_points(raw_db, location: str, ward: str) -> set[tuple[str, float, float]]:
    """The distinct snap points called ``location`` in ``ward``'s LSOAs, from the raw files."""
    rows = raw_db.execute(
        'SELECT DISTINCT "Location", CAST("Longitude" AS DOUBLE), CAST("Latitude" AS DOUBLE) '
        'FROM street WHERE "Location" = ? AND "LSOA code" IN (SELECT unnest(?::VARCHAR[]))',
        [location, sorted(ward_lsoas()[ward])],
    ).fetchall()
    return {(r[0], r[1], r[2]) for r in rows}


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def test_a_street_name_is_every_snap_point_of_that_street_in_its_ward(wards_store, raw_db):
    (found,) = team.places_by_street(wards_store, AREA, "tudor rd")  # abbreviation, any case
    assert (found.ward, found.place, found.place_key) == ("Fosse", "Tudor Road", "Fosse|Tudor Road")
    got = {(s["location"], s["longitude"], s["latitude"]) for s in found.snap_points}
    assert got == raw_points(raw_db, "On or near Tudor Road", "Fosse") and got
    lsoas = sorted(set().union(*ward_lsoas().values()))
    crimes = raw_db.execute(
        'SELECT count(*) FROM street WHERE "Location" = ? AND "Longitude" <> \'\' '
        'AND "LSOA code" IN (SELECT unnest(?::VARCHAR[]))',
        ["On or near Tudor Road", lsoas],
    ).fetchone()[0]
    assert found.crimes == crimes


def test_an_unknown_street_is_refused_with_the_closest_names(wards_store):
    with pytest.raises(InputError) as err:
        team.places_by_street(wards_store, AREA, "Tudr Road")
    assert str(err.value).startswith(
        f"street 'Tudr Road': no police.uk street of {AREA} by that name; the closest: Tudor Road"
    )


def test_a_map_point_takes_the_nearest_snap_point_within_the_radius(wards_store, raw_db):
    lsoas = sorted(set().union(*ward_lsoas().values()))
    points = raw_db.execute(
        'SELECT DISTINCT "Location", CAST("Longitude" AS DOUBLE), CAST("Latitude" AS DOUBLE) '
        'FROM street WHERE "Longitude" <> \'\' AND "LSOA code" IN (SELECT unnest(?::VARCHAR[]))',
        [lsoas],
    ).fetchall()
    tudor = sorted(raw_points(raw_db, "On or near Tudor Road", "Fosse"))[0]
    lon, lat = tudor[1], tudor[2] + 30 / 111_320  # about 30 m north of a Tudor Road point
    nearest = min(points, key=lambda p: metres(lon, lat, p[1], p[2]))
    options = team.places_near(wards_store, AREA, lon, lat, radius=150)
    assert options[0].snap_points and nearest[0].endswith(options[0].place)
    assert options[0].distance_m == pytest.approx(metres(lon, lat, nearest[1], nearest[2]), abs=2)
    within = {p[0] for p in points if metres(lon, lat, p[1], p[2]) <= 148}
    offered = {s["location"] for o in options for s in o.snap_points}
    assert within <= offered
    assert [o.distance_m for o in options] == sorted(o.distance_m for o in options)
    with pytest.raises(InputError, match=r"^map point 52\.70000, -1\.00000: no police.uk street"):
        team.find_place(wards_store, AREA, longitude=-1.0, latitude=52.7)
    with pytest.raises(InputError, match="^radius 10: expected 25 to 500 metres"):
        team.places_near(wards_store, AREA, lon, lat, radius=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"problem": ""}, "problem: expected one of street-drinking, begging,"),
        ({"problem": "graffiti"}, "problem 'graffiti': expected one of"),
        ({"origin": "data"}, "origin 'data': expected residents, partners or team"),
        ({"reason": "x" * 501}, "reason: 501 characters; at most 500"),
        ({"words": "y" * 81}, "problem in your words: 81 characters; at most 80"),
    ],
)
def test_bad_input_is_refused_naming_the_field(wards_store_copy: Path, kwargs, message):
    args = {"problem": "street-life", "reason": None, "origin": "team", "actor": BY, **kwargs}
    with open_store(wards_store_copy) as st, TeamSQL.of(st) as sql:
        place = team.find_place(st, AREA, street="Tudor Road")
        with pytest.raises(InputError) as err:
            team.add_team_priority(st, AREA, place, month=JULY, **args)
        assert str(err.value).startswith(message)
        assert sql.scalar("SELECT count(*) FROM priorities") == 0


def test_the_team_priority_goes_through_the_same_lifecycle(wards_store_copy: Path):
    reason = "Raised at the residents' meeting after the hostel opened"
    with open_store(wards_store_copy) as st:
        place = team.find_place(st, AREA, street="Westcotes Drive")
        pid = team.add_team_priority(
            st,
            AREA,
            place,
            problem="street life (rough sleeping)",  # a label works as well as the slug
            words="ASB and street life around the hostel",
            reason=reason,
            origin="team",
            actor=BY,
            month=JULY,
        )
        p = lifecycle.priority(st, pid)
        # Weighed, counted and assessed as ASB; the team's words and reason kept for print.
        assert (p["problem"], p["origin"], p["status"], p["label"]) == (
            "asb",
            "team",
            "proposed",
            "Westcotes Drive",
        )
        assert p["reason"] == reason
        assert p["events"][0]["details"] == {
            "team_reason": reason,
            "problem_words": "ASB and street life around the hostel",
            "concern_problem": "street-life",
        }
        assert team.problem_words(p) == "ASB and street life around the hostel"
        assert p["snap_points"] == place.snap_points
        lifecycle.adopt(st, pid, BY)
        listed = current(lifecycle.list_priorities(st, area=p["area"]), JULY)
        shown = [(x["id"], x["problem_label"]) for x in listed if x["place"] == "Westcotes Drive"]
        # what residents read (the letter, /priorities) is the team's words, not "anti-social behaviour"
        assert shown == [(pid, "ASB and street life around the hostel")]
        # One priority per place and problem: the same again is refused, naming this one.
        with pytest.raises(InputError, match=rf"already a priority \(id {pid}, running since"):
            team.add_team_priority(
                st, AREA, place, problem="asb", reason=None, origin="residents", actor=BY
            )
        lifecycle.decide(st, pid, "continued", BY, month=AUGUST)
        closed = review.close(st, pid, BY, AUGUST)
        assert closed["priority_id"] == pid and closed["verdict"]
        assert lifecycle.priority(st, pid)["status"] == "closed"


def test_drug_dealing_with_two_residents_concerns_reaches_its_wards_top_three(wards_store):
    """Tudor Road: two residents' concerns about dealing in April 2021 (the raw CSV) and a
    few drug offences. With the default weights it is in Fosse's top three, and its
    proactive part is its concerns part again; without that part it is not."""
    with CONCERNS_CSV.open(newline="", encoding="utf-8") as fh:
        raised = [
            r
            for r in csv.DictReader(fh)
            if r["where"].startswith("Tudor R") and "deal" in r["problem"]
        ]
    assert len(raised) == 2
    result = propose(wards_store, AREA, "2021-06")
    fosse = next(w for w in result["wards"] if w["ward"] == "Fosse")["priorities"]
    tudor = [c for c in fosse if (c["place"], c["problem"]) == ("Tudor Road", "drugs")]
    assert len(tudor) == 1 and tudor[0]["rank"] <= 3
    parts = tudor[0]["parts"]
    assert tudor[0]["figures"]["concerns"] == 2
    assert parts["proactive"] == parts["concerns"] > 0
    assert tudor[0]["score"] == pytest.approx(sum(parts.values()), abs=0.01)
    assert all(c["parts"]["proactive"] == 0 for c in fosse if c["problem"] != "drugs")
    off = propose(wards_store, AREA, "2021-06", per_ward=3, weights=Weights(proactive=0))
    fosse_off = next(w for w in off["wards"] if w["ward"] == "Fosse")["priorities"]
    assert ("Tudor Road", "drugs") not in {(c["place"], c["problem"]) for c in fosse_off}
