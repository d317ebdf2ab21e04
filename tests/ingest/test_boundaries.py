"""LSOA boundaries: real ONS GeoJSON loads; bad files are refused clearly, the store untouched."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import shapely
from shapely import wkt

from beatbook.errors import InputError
from beatbook.ingest.boundaries import import_boundaries
from beatbook.store import Store
from support.fixtures_store import LEICESTER_BOUNDARIES


def _features() -> list[dict]:
    return json.loads(gzip.decompress(LEICESTER_BOUNDARIES.read_bytes()))["features"]


def test_real_leicester_boundaries_load(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as st:
        assert import_boundaries(st, LEICESTER_BOUNDARIES) == 192  # MANIFEST: 192 LSOAs
        rows = st.rows("SELECT lsoa_code, lsoa_name, geometry_wkt FROM lsoa_boundaries")
        # Re-importing replaces, never duplicates.
        assert import_boundaries(st, LEICESTER_BOUNDARIES) == 192
        assert st.table_counts()["lsoa_boundaries"] == 192
    first = _features()[0]
    stored = {code: (name, geom) for code, name, geom in rows}
    name, geom = stored[first["properties"]["LSOA11CD"]]
    assert name == first["properties"]["LSOA11NM"]
    original = shapely.make_valid(shapely.geometry.shape(first["geometry"]))
    assert wkt.loads(geom).symmetric_difference(original).area < 1e-12


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda f: "not json", "not a readable GeoJSON file"),
        (lambda f: {"type": "Feature"}, "expected a GeoJSON FeatureCollection"),
        (lambda f: {"type": "FeatureCollection", "features": []}, "has no features"),
        (
            lambda f: {
                "type": "FeatureCollection",
                "features": [f[0], {**f[1], "properties": {"name": "x"}}],
            },
            "feature 2: expected an LSOA code",
        ),
        (
            lambda f: {
                "type": "FeatureCollection",
                "features": [{**f[0], "geometry": {"type": "Point", "coordinates": [-1.1, 52.6]}}],
            },
            r"feature 1 \(E0\d{7}\): not a polygon",
        ),
        (
            lambda f: {
                "type": "FeatureCollection",
                "features": [
                    {
                        **f[0],
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [458000, 304000],
                                    [459000, 304000],
                                    [459000, 305000],
                                    [458000, 304000],
                                ]
                            ],
                        },
                    }
                ],
            },
            "not WGS84 longitude/latitude",
        ),
    ],
)
def test_bad_boundary_files_are_refused(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "bad.geojson"
    data = make(_features())
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    with Store(tmp_path / "s.duckdb") as st:
        import_boundaries(st, LEICESTER_BOUNDARIES)
        with pytest.raises(InputError, match=message) as info:
            import_boundaries(st, path)
        assert str(path) in str(info.value)
        assert st.table_counts()["lsoa_boundaries"] == 192
