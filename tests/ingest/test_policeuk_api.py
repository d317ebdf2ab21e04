"""The police.uk API client against a real HTTP server on 127.0.0.1 (tests/policeuk_server.py).

The server answers with real captured police.uk responses (tests/data/policeuk_api) and,
for ``crimes-street``, with real rows of the bundled 2021-06 street file in the API's
shape. It can also answer 429 (rate limit) and enforces a crime cap with 503 like the
real API (10,000 there; smaller here so splitting happens on a real month).
"""

from __future__ import annotations

import json

import pytest
import shapely

from beatbook.errors import PoliceUkApiError
from beatbook.ingest.policeuk_api import Neighbourhood, PoliceUkApi
from support.policeuk_server import DATA, Server


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def api(server: Server):
    server.cap, server.throttle = 10_000, 0
    server.requests.clear()
    waits: list[float] = []
    with PoliceUkApi(server.url, sleep=waits.append, backoff_s=0.01) as client:
        client.waits = waits  # type: ignore[attr-defined]
        yield client


def test_neighbourhoods_and_detail(api: PoliceUkApi) -> None:
    teams = api.neighbourhoods("leicestershire")
    assert len(teams) == 66  # MANIFEST: 66 {id, name}
    assert Neighbourhood("NC04", "City Centre") in teams
    detail = api.neighbourhood("leicestershire", "NC04")
    assert detail["centre"] == {"latitude": 52.6389, "longitude": -1.13619}  # strings in the API


def test_boundary_is_a_valid_polygon_from_string_vertices(api: PoliceUkApi) -> None:
    raw = json.loads((DATA / "NC04-boundary.json").read_text(encoding="utf-8"))
    polygon = api.boundary("leicestershire", "NC04")
    assert polygon.is_valid and polygon.geom_type == "Polygon"
    assert len(raw) == 85 and raw[0] == raw[-1]  # MANIFEST: closed ring of 85 vertices
    centre = shapely.Point(-1.13619, 52.6389)
    assert polygon.contains(centre)
    assert polygon.area == pytest.approx(
        shapely.Polygon([(float(p["longitude"]), float(p["latitude"])) for p in raw]).area, rel=1e-6
    )


def test_priorities_and_events_in_snake_case(api: PoliceUkApi) -> None:
    [priority] = api.priorities("leicestershire", "NC04")
    assert priority["issue_date"] == "2016-04-14T00:00:00" and priority["action"] is None
    assert "Humberstone Gate" in priority["issue"]
    assert isinstance(api.events("leicestershire", "NC04"), list)


def test_rate_limit_is_waited_out(api: PoliceUkApi, server: Server) -> None:
    server.throttle = 2
    assert len(api.neighbourhoods("leicestershire")) == 66
    assert api.waits == [0.0, 0.0]  # Retry-After: 0, twice
    assert len(server.requests) == 3


def test_unknown_neighbourhood_is_a_clear_error(api: PoliceUkApi) -> None:
    with pytest.raises(PoliceUkApiError, match=r"leicestershire/XX99: HTTP 404"):
        api.neighbourhood("leicestershire", "XX99")


def test_crimes_in_the_city_centre_match_the_street_file(api: PoliceUkApi, server: Server) -> None:
    area = api.boundary("leicestershire", "NC04")
    crimes = api.crimes_street(area, "2021-06")
    expected = [
        c
        for c in server.crimes
        if area.covers(
            shapely.Point(float(c["location"]["longitude"]), float(c["location"]["latitude"]))
        )
    ]
    assert len(crimes) == len(expected) > 300
    assert sorted(c["id"] for c in crimes) == sorted(c["id"] for c in expected)
    assert server.requests == [
        ("GET", "/api/leicestershire/NC04/boundary"),
        ("POST", "/api/crimes-street/all-crime"),
    ]


def test_an_area_over_the_cap_is_split_and_nothing_counted_twice(
    api: PoliceUkApi, server: Server
) -> None:
    area = api.boundary("leicestershire", "NC04")
    whole = api.crimes_street(area, "2021-06")
    server.cap = len(whole) // 5  # the real cap is 10,000; this makes the centre too big
    server.requests.clear()
    split = api.crimes_street(area, "2021-06")
    posts = [r for r in server.requests if r[0] == "POST"]
    assert len(posts) > 5  # split several times
    assert sorted(c["id"] for c in split) == sorted(c["id"] for c in whole)
