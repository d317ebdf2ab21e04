"""Team areas: a police.uk neighbourhood boundary fetched from the API, and areas of wards.

The API answers come from a real local HTTP server serving captured police.uk responses
(tests/policeuk_server.py). Expected polygons are built from the captured JSON with
shapely; expected LSOAs come from SQL over the store's lsoa_lookup and lsoa_bridge tables.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from beatbook import areas, queries
from beatbook.cli.main import app
from beatbook.errors import InputError, PoliceUkApiError
from beatbook.ingest.policeuk_api import PoliceUkApi
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import raw_street_rows
from support.policeuk_server import DATA, Server

WEST_WARDS = ["Westcotes (Leicester)", "Fosse (Leicester)", "Western (Leicester)"]


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    s = Server()
    yield s
    s.stop()


def captured_points() -> list[tuple[float, float]]:
    """The NC04 (City Centre) boundary vertices from the captured JSON, as (lon, lat)."""
    points = json.loads((DATA / "NC04-boundary.json").read_text(encoding="utf-8"))
    return [(float(p["longitude"]), float(p["latitude"])) for p in points]


def captured_boundary() -> shapely.Polygon:
    return shapely.Polygon(captured_points())


def shoelace_area(ring: list[tuple[float, float]]) -> float:
    """Area enclosed by a closed ring, by the shoelace formula written out."""
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))) / 2


def custom_areas(store: Store) -> list[tuple]:
    return store.rows("SELECT * FROM custom_areas ORDER BY name")


def test_neighbourhood_boundary_is_stored_as_the_captured_polygon(
    writable_store: Store, server: Server
) -> None:
    with PoliceUkApi(server.url) as api:
        area = areas.add_area(
            writable_store,
            "City Centre team",
            lsoas=[],
            wards=[],
            geojson=None,
            neighbourhood="leicestershire/NC04",
            api=api,
        )
    ring = captured_points()
    stored = shapely.from_wkt(area.polygon_wkt)
    assert stored.geom_type == "Polygon" and stored.is_valid
    # The captured ring (85 points, closed) touches itself once, leaving a sliver of about
    # 3e-13 square degrees that a valid polygon drops: otherwise it is the same outline.
    assert len(ring) == 85 and ring[0] == ring[-1] and not captured_boundary().is_valid
    assert stored.area == pytest.approx(shoelace_area(ring), rel=1e-8)
    kept = set(stored.exterior.coords)
    assert len(set(ring) - kept) <= 2 and len(kept - set(ring)) <= 1  # the crossing point
    # The dropped sliver is a spike about 7 m long (7e-5 degrees): nothing else moved.
    assert stored.exterior.hausdorff_distance(shapely.LineString(ring)) < 1e-4
    assert area.description == "police.uk neighbourhood leicestershire/NC04 boundary"
    assert ("GET", "/api/leicestershire/NC04/boundary") in server.requests
    assert areas.resolve(writable_store, "custom:City Centre team") == area


def test_crimes_in_the_team_area_match_a_point_in_polygon_count(
    writable_store: Store, server: Server
) -> None:
    import datetime as dt

    with PoliceUkApi(server.url) as api:
        area = areas.add_area(
            writable_store,
            "City Centre team",
            lsoas=[],
            wards=[],
            geojson=None,
            neighbourhood="leicestershire/NC04",
            api=api,
        )
    polygon = shapely.make_valid(captured_boundary())
    expected = sum(
        1
        for r in raw_street_rows(["2021-06"])
        if r["Longitude"]
        and shapely.contains_xy(polygon, float(r["Longitude"]), float(r["Latitude"]))
    )
    june = dt.date(2021, 6, 1)
    assert queries.crime_total(writable_store, area, june, june) == expected > 300


def test_the_cli_defines_a_team_area_from_the_api(
    sample_store_path: Path, server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "team.duckdb"
    shutil.copyfile(sample_store_path, path)
    result = CliRunner().invoke(
        app,
        [
            "--store",
            str(path),
            "areas",
            "add",
            "City Centre team",
            "--neighbourhood",
            "leicestershire/NC04",
            "--api-url",
            f"{server.url}/",
        ],
        env={STORE_ENV: None},
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "police.uk neighbourhood leicestershire/NC04" in result.output
    with Store(path, read_only=True) as st:
        stored = shapely.from_wkt(areas.resolve(st, "custom:City Centre team").polygon_wkt)
    assert stored.area == pytest.approx(shoelace_area(captured_points()), rel=1e-8)


def test_an_unknown_neighbourhood_is_one_line_and_defines_nothing(
    sample_store_path: Path,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sys

    from beatbook.cli.main import main

    path = tmp_path / "team.duckdb"
    shutil.copyfile(sample_store_path, path)
    with Store(path, read_only=True) as st:
        before = custom_areas(st)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "beatbook",
            "--store",
            str(path),
            "areas",
            "add",
            "Nowhere team",
            "--neighbourhood",
            "leicestershire/XX99",
            "--api-url",
            server.url,
        ],
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {server.url}/leicestershire/XX99/boundary: HTTP 404 Not Found"
    ]
    with Store(path, read_only=True) as st:
        assert custom_areas(st) == before


def test_a_server_that_is_down_is_a_clear_error_and_defines_nothing(writable_store: Store) -> None:
    down = Server()
    down.stop()
    before = custom_areas(writable_store)
    waits: list[float] = []
    with (
        PoliceUkApi(down.url, sleep=waits.append, retries=3) as api,
        pytest.raises(PoliceUkApiError) as info,
    ):
        areas.add_area(
            writable_store,
            "City Centre team",
            lsoas=[],
            wards=[],
            geojson=None,
            neighbourhood="leicestershire/NC04",
            api=api,
        )
    assert str(info.value).startswith(
        f"{down.url}/leicestershire/NC04/boundary: no answer after 4 tries"
    )
    assert "\n" not in str(info.value) and len(waits) == 3
    assert custom_areas(writable_store) == before


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("NC04", "--neighbourhood 'NC04': expected FORCE/ID"),
        ("Leicestershire/NC04", "expected FORCE/ID as police.uk writes them"),
        ("leicestershire/", "expected FORCE/ID"),
        ("leicestershire/NC04/boundary", "expected FORCE/ID"),
    ],
)
def test_a_malformed_neighbourhood_is_refused_before_any_request(
    writable_store: Store, server: Server, given: str, problem: str
) -> None:
    server.requests.clear()
    with PoliceUkApi(server.url) as api, pytest.raises(InputError, match=problem):
        areas.add_area(
            writable_store, "Team", lsoas=[], wards=[], geojson=None, neighbourhood=given, api=api
        )
    assert server.requests == []


def test_one_source_only(writable_store: Store) -> None:
    with pytest.raises(
        InputError, match="exactly one of --lsoa, --ward, --geojson or --neighbourhood"
    ):
        areas.add_area(
            writable_store,
            "Team",
            lsoas=[],
            wards=WEST_WARDS[:1],
            geojson=None,
            neighbourhood="leicestershire/NC04",
        )


def test_a_three_ward_team_area_holds_the_union_of_the_wards_lsoas(writable_store: Store) -> None:
    west = areas.add_area(
        writable_store, "West Leicester", lsoas=[], wards=WEST_WARDS, geojson=None
    )
    names = [w.removesuffix(" (Leicester)") for w in WEST_WARDS]
    lsoa11 = {
        r[0]
        for r in writable_store.rows(
            "SELECT lsoa_code FROM lsoa_lookup WHERE vintage = 2011 AND lad_name = 'Leicester' "
            "AND ward_name IN (SELECT unnest(?::VARCHAR[]))",
            [names],
        )
    }
    # 2021 codes of the same places: a 2021 LSOA goes with its first (lowest) 2011 parent.
    lsoa21 = {
        r[0]
        for r in writable_store.rows(
            "SELECT lsoa21_code FROM lsoa_bridge GROUP BY lsoa21_code "
            "HAVING min(lsoa11_code) IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(lsoa11)],
        )
    }
    assert len(lsoa11) == 7 + 8 + 12  # Westcotes, Fosse, Western (ONS lookup, 2019 wards)
    assert west.lsoa_codes == frozenset(lsoa11 | lsoa21)
    assert areas.lsoas_of(writable_store, west) == west.lsoa_codes
    # Each ward lies inside the team area; the three share no LSOA.
    wards = {w: areas.resolve(writable_store, w) for w in WEST_WARDS}
    assert all(areas.within(writable_store, a, west) for a in wards.values())
    assert not areas.within(writable_store, west, wards["Fosse (Leicester)"])
    contains, apart = areas.relations(writable_store, wards)
    assert contains == frozenset() and len(apart) == 3
