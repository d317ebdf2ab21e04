"""What the ``beatbook fetch`` tests share: a store with three months from files, the local
police.uk server, and the expected answer worked out without BeatBook.

The store holds Leicestershire's real 2021-03 .. 2021-05 street files, the ONS lookups,
the mid-2019 population, Leicester's 2011 LSOA boundaries and the team area "West
Leicester" (wards Westcotes, Fosse and Western). The server answers ``crimes-street`` for
2021-06 with the real rows of the bundled 2021-06 file (tests/support/policeuk_server.py).
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape

from beatbook.areas import add_area
from beatbook.ingest import ons
from beatbook.ingest.boundaries import import_boundaries
from beatbook.ingest.policeuk_api import PoliceUkApi
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support.fixtures_store import (
    BRIDGE_LOOKUP,
    LEICESTER_BOUNDARIES,
    POLICE,
    POP_2019,
    WARD_LOOKUP,
)
from support.policeuk_server import CATEGORY_SLUGS, Server, month_crimes

FILE_MONTHS = ["2021-03", "2021-04", "2021-05"]
FETCHED = "2021-06"
AREA = "West Leicester"
COVERAGE = f"custom:{AREA}"
WARDS = ("Westcotes", "Fosse", "Western")
NAMES = {slug: name for name, slug in CATEGORY_SLUGS.items()}  # the API's slug -> file's type


def street_file(month: str) -> Path:
    return POLICE / f"{month}-leicestershire-street.csv.gz"


@pytest.fixture(scope="session")
def fetch_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store described above, closed (copy it to write)."""
    path = tmp_path_factory.mktemp("fetch") / "base.duckdb"
    with Store(path) as st:
        ingest(st, [street_file(m) for m in FILE_MONTHS])
        ons.import_lookup(st, WARD_LOOKUP)
        ons.import_lookup(st, BRIDGE_LOOKUP)
        ons.import_population(st, POP_2019, 2019)
        import_boundaries(st, LEICESTER_BOUNDARIES)
        add_area(st, AREA, lsoas=[], wards=[f"{w} (Leicester)" for w in WARDS], geojson=None)
    return path


@pytest.fixture
def fetch_store(fetch_base: Path, tmp_path: Path) -> Iterator[Store]:
    """A private, writable copy of :func:`fetch_base`."""
    copy = tmp_path / "store.duckdb"
    shutil.copyfile(fetch_base, copy)
    with Store(copy) as st:
        yield st


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def api(server: Server) -> Iterator[PoliceUkApi]:
    server.cap, server.throttle, server.extra = 10_000, 0, {}
    server.requests.clear()
    with PoliceUkApi(server.url, sleep=lambda s: None) as client:
        yield client


def ward_lsoas(wards: tuple[str, ...] = WARDS, district: str = "Leicester") -> set[str]:
    """2011 LSOA codes of the wards, from the raw ONS lookup."""
    with gzip.open(WARD_LOOKUP, "rt", encoding="utf-8-sig", newline="") as fh:
        return {
            r["LSOA11CD"]
            for r in csv.DictReader(fh)
            if r["WD19NM"] in wards and r["LAD19NM"] == district
        }


def west_shape() -> shapely.Geometry:
    """The union of the wards' LSOA boundaries, from the raw GeoJSON."""
    with gzip.open(LEICESTER_BOUNDARIES, "rt", encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    codes = ward_lsoas()
    return shapely.union_all(
        [shape(f["geometry"]) for f in features if f["properties"]["LSOA11CD"] in codes]
    )


def answered(month: str = FETCHED) -> list[dict]:
    """The crimes the server's answer holds inside West Leicester, worked out directly."""
    area = west_shape()
    return [
        c
        for c in month_crimes(month)
        if area.covers(
            shapely.Point(float(c["location"]["longitude"]), float(c["location"]["latitude"]))
        )
    ]


def file_rows(month: str) -> list[dict[str, str]]:
    """Rows of the real street file of ``month``, read with the csv module."""
    with gzip.open(street_file(month), "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
