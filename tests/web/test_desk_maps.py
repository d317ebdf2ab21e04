"""The desk's dashboard and map layers on the real app and scenario store (see
``web_support``): the dashboard's figures agree with the tests' own SQL, and the map layers
are valid GeoJSON that agrees with that SQL, shapely on the stored boundary WKT and pyproj,
never with the BeatBook function under test.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import quote

import duckdb
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely import wkt as shapely_wkt
from shapely.geometry import shape
from web_support import AREA, west_lsoas

from beatbook.figures.hotspots import hotspots
from support.records_backend import TeamSQL

A = quote(AREA, safe="")
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def test_the_dashboard_figures_agree_with_the_store(users, store_sql, team_sql) -> None:
    page = html.unescape(users["partner"].get(f"/desk?area={A}&month=2021-06").text)
    lsoas = west_lsoas(team_sql)

    def count(first: dt.date, last: dt.date, which: str = "<>") -> int:
        """Crimes (or, which '=', ASB incidents: apart) of the team area, straight from SQL."""
        return store_sql.execute(
            "SELECT count(*) FROM street_crimes WHERE month BETWEEN ? AND ? AND lsoa_code IN "
            f"(SELECT unnest(?::VARCHAR[])) AND crime_type {which} 'Anti-social behaviour'",
            [first, last, lsoas],
        ).fetchone()[0]

    june, june_before = dt.date(2021, 6, 1), dt.date(2020, 6, 1)
    crimes, asb = count(june, june), count(june, june, "=")
    assert f"June 2021: {crimes:,} crimes recorded" in page
    assert f"from {count(june_before, june_before):,} to {crimes:,} crimes" in page
    assert f"June 2021: {asb:,} ASB incidents recorded" in page
    assert f"from {count(june_before, june_before, '='):,} to {asb:,} ASB incidents" in page
    twelve = count(dt.date(2020, 7, 1), june)
    assert f"Over the 12 months to June 2021: {twelve:,} crimes recorded" in page
    chart = users["partner"].get(f"/desk/chart/trend.png?area={A}&month=2021-06")
    assert chart.content.startswith(b"\x89PNG") and chart.headers["content-type"] == "image/png"
    alt = re.search(r'<img class="chart"[^>]*alt="([^"]*)"', page)[1]
    assert f"{count(june_before, june_before)} in Jun 20, {crimes} in Jun 21" in alt
    assert f"{count(june_before, june_before, '=')} in Jun 20, {asb} in Jun 21" in alt


def test_a_message_in_a_link_made_elsewhere_is_not_shown(users) -> None:
    page = (
        users["inspector"]
        .get("/desk?msg=Your+account+is+locked%3A+call+0800&kind=error&sig=00")
        .text
    )
    assert "Your account is locked" not in page


def layer(client: TestClient, name: str, month: str = "2021-07") -> dict:
    got = client.get(f"/desk/api/map/{name}?area={A}&month={month}")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/geo+json")
    data = got.json()
    assert data["type"] == "FeatureCollection"
    for f in data["features"]:
        assert f["type"] == "Feature" and shape(f["geometry"]).is_valid
        for x, y in shapely.get_coordinates(shape(f["geometry"])):
            assert -1.3 < x < -1.0 and 52.5 < y < 52.7  # Leicester, lon/lat order
    return data


def west_outline(db: duckdb.DuckDBPyConnection, team: TeamSQL):
    wkts = [
        w
        for (w,) in db.execute(
            "SELECT geometry_wkt FROM lsoa_boundaries WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[]))",
            [west_lsoas(team)],
        ).fetchall()
    ]
    return shapely.union_all([shapely_wkt.loads(w) for w in wkts])


def test_the_priority_places_layer_holds_the_snap_points_of_the_month(users, team_sql) -> None:
    data = layer(users["admin"], "priorities")
    # A priority runs from its first adoption or continuation to the last of those or its
    # closing month; July 2021's are those whose run covers July.
    runs: dict[int, tuple[list[dt.date], list[dt.date]]] = {}
    for pid, action, month in team_sql.execute(
        "SELECT priority_id, action, month FROM priority_events"
    ).fetchall():
        running, closed = runs.setdefault(pid, ([], []))
        if action in ("adopted", "continued"):
            running.append(month)
        elif action == "closed":
            closed.append(month)
    july = dt.date(2021, 7, 1)
    covering = {p for p, (r, c) in runs.items() if r and min(r) <= july <= max(r + c)}
    expected = [
        (pid, s["location"], float(s["longitude"]), float(s["latitude"]))
        for pid, points in team_sql.execute(
            "SELECT priority_id, snap_points FROM priorities WHERE area = ?", [AREA]
        ).fetchall()
        if pid in covering
        for s in points
    ]
    got = [
        (f["properties"]["priority_id"], f["properties"]["location"], *f["geometry"]["coordinates"])
        for f in data["features"]
    ]
    assert len(got) == len(expected) > 0
    assert sorted((p, loc) for p, loc, _, _ in got) == sorted((p, loc) for p, loc, _, _ in expected)
    where = {(p, loc): (x, y) for p, loc, x, y in expected}
    for p, loc, x, y in got:
        assert where[(p, loc)] == pytest.approx((x, y), abs=1e-6)


def test_hot_cells_lie_inside_the_area_and_in_their_grid_square(
    users, store_sql, team_sql, web_app
) -> None:
    data = layer(users["analyst"], "hotspots", "2021-06")
    with web_app.state.db.read() as st:
        expected = hotspots(st, AREA, "2021-06")
    assert len(data["features"]) == expected["hot_cells"] + expected["cold_cells"] > 0
    outline = west_outline(store_sql, team_sql)
    size = data["properties"]["cell_size_m"]
    for f in data["features"]:
        cell = shape(f["geometry"])
        assert outline.buffer(1e-5).contains(cell), f["properties"]["cell"]
        x0, y0 = (float(v) for v in f["properties"]["cell"].split(","))
        xs, ys = TO_BNG.transform(*shapely.get_coordinates(cell).T)
        assert x0 - 0.5 <= xs.min() and xs.max() <= x0 + size + 0.5
        assert y0 - 0.5 <= ys.min() and ys.max() <= y0 + size + 0.5
        assert f["properties"]["class"] in ("hot", "cold")


def test_the_wards_and_outline_layers_follow_the_stored_boundaries(
    users, store_sql, team_sql
) -> None:
    outline = layer(users["inspector"], "outline")
    assert len(outline["features"]) == 1
    drawn = shape(outline["features"][0]["geometry"])
    truth = west_outline(store_sql, team_sql)
    assert drawn.symmetric_difference(truth).area < 1e-3 * truth.area
    wards = layer(users["inspector"], "wards")
    names = {f["properties"]["name"]: shape(f["geometry"]) for f in wards["features"]}
    assert set(names) == {"Westcotes", "Fosse", "Western"}
    for name, drawn in names.items():
        wkts = [
            w
            for (w,) in store_sql.execute(
                "SELECT b.geometry_wkt FROM lsoa_boundaries b JOIN lsoa_lookup l USING (lsoa_code) "
                "WHERE l.ward_name = ? AND l.lad_name = 'Leicester'",
                [name],
            ).fetchall()
        ]
        ward = shapely.union_all([shapely_wkt.loads(w) for w in wkts])
        assert drawn.symmetric_difference(ward).area < 0.02 * ward.area, name


def test_an_unknown_layer_or_area_is_a_clear_400(users) -> None:
    got = users["admin"].get(f"/desk/api/map/crimes?area={A}&month=2021-07")
    assert got.status_code == 400 and "expected one of outline, hotspots" in got.json()["error"]
    got = users["admin"].get("/desk/api/map/wards?area=Atlantis&month=2021-07")
    assert got.status_code == 400 and "no such area" in got.json()["error"]


def test_the_map_page_loads_leaflet_from_the_site(users, web_app) -> None:
    page = users["partner"].get(f"/desk?area={A}&month=2021-07")
    assert '<script src="/static/vendor/leaflet/leaflet.js"></script>' in page.text
    assert '<script src="/static/js/map.js"></script>' in page.text
    assert (
        "<script>" not in page.text
        and "script-src 'self'" in page.headers["content-security-policy"]
    )
    assert f'data-area="{AREA}"' in page.text and 'data-tile-url=""' in page.text
    js = users["partner"].get("/static/vendor/leaflet/leaflet.js")
    assert js.status_code == 200 and b"Leaflet 1.9.4" in js.content[:200]
