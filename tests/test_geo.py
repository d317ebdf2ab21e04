"""Grids in British National Grid: aligned, clipped honestly to an area, points placed right."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import shape

from beatbook import geo
from beatbook.errors import InputError
from support.fixtures_store import LEICESTER_BOUNDARIES


@pytest.fixture(scope="module")
def leicester_bng() -> shapely.Geometry:
    """Leicester's outline from the raw ONS GeoJSON, projected with pyproj directly."""
    features = json.loads(gzip.decompress(LEICESTER_BOUNDARIES.read_bytes()))["features"]
    outline = shapely.union_all([shapely.make_valid(shape(f["geometry"])) for f in features])
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    return shapely.transform(outline, lambda xy: np.column_stack(to_bng.transform(*xy.T)))


def test_leicester_grid_covers_the_city_exactly(leicester_bng: shapely.Geometry) -> None:
    """The cells' clipped areas add up to the city's area (ONS: 73.3 km²), none missing."""
    grid = geo.grid_over(leicester_bng, 150)
    assert grid.area.sum() == pytest.approx(leicester_bng.area, rel=1e-9)
    assert leicester_bng.area / 1e6 == pytest.approx(73.3, abs=0.1)
    assert (grid.area > 0).all() and (grid.area <= 150**2 + 1e-6).all()
    # Aligned to multiples of the cell size, so the same cell has the same name every run.
    assert grid.x0 % 150 == 0 and grid.y0 % 150 == 0
    # Every cell box overlaps the city; every box of the bounding grid that does is kept.
    assert grid.n_cells == pytest.approx(leicester_bng.area / 150**2, rel=0.1)


def test_cell_of_puts_points_in_their_square() -> None:
    outline = shapely.box(1050, 1950, 1650, 2400)  # 4 x 3 cells of 150 m, on the 150 m lattice
    grid = geo.grid_over(outline, 150)
    assert grid.n_cells == 12 and (grid.x0, grid.y0) == (1050, 1950)
    x = np.array([1050.0, 1199.9, 1200.0, 1649.9, 1049.9, 1300.0])
    y = np.array([1950.0, 1950.0, 2399.9, 2399.9, 2100.0, 2400.0])
    cells = grid.cell_of(x, y)
    labels = grid.labels()
    assert [labels[c] if c >= 0 else None for c in cells] == [
        "1050,1950",
        "1050,1950",
        "1200,2250",
        "1500,2250",
        None,
        None,
    ]


def test_an_off_lattice_outline_gets_part_cells() -> None:
    """A box not on the 150 m lattice: edge cells are kept with the area they cover."""
    grid = geo.grid_over(shapely.box(1000, 2000, 1600, 2450), 150)
    assert (grid.x0, grid.y0) == (900, 1950)
    assert grid.area.sum() == pytest.approx(600 * 450)
    # widths 50, 150, 150, 150, 100 m times heights 100, 150, 150, 50 m
    assert sorted(set(np.round(grid.area))) == [2500, 5000, 7500, 10000, 15000, 22500]


def test_neighbours_are_queen_contiguity() -> None:
    grid = geo.grid_over(shapely.box(0, 0, 450, 450), 150)  # 3 x 3
    labels = grid.labels()
    centre = labels.index("150,150")
    corner = labels.index("0,0")
    assert len(grid.neighbours()[centre]) == 8
    assert sorted(labels[i] for i in grid.neighbours()[corner]) == ["0,150", "150,0", "150,150"]


@pytest.mark.parametrize("size", [49, 501, 0, -150])
def test_cell_size_outside_50_to_500_is_refused(size: int) -> None:
    with pytest.raises(InputError, match=f"--cell-size {size}: expected 50 to 500 metres"):
        geo.grid_over(shapely.box(0, 0, 1000, 1000), size)


@settings(max_examples=60, deadline=None)
@given(lon=st.floats(-3.0, 1.0), lat=st.floats(50.5, 55.0), size=st.integers(50, 500))
def test_a_point_is_in_the_cell_containing_it(lon: float, lat: float, size: int) -> None:
    """Property: projecting a point and asking for its cell gives the box that contains it."""
    x, y = geo.to_bng(np.array([lon]), np.array([lat]))
    grid = geo.grid_over_points(x, y, size)
    (cell,) = grid.cell_of(x, y)
    sw_x, sw_y = (float(v) for v in grid.labels()[cell].split(","))
    assert sw_x <= x[0] < sw_x + size and sw_y <= y[0] < sw_y + size
    back_lon, back_lat = geo.to_wgs84(x, y)
    assert back_lon[0] == pytest.approx(lon, abs=1e-7) and back_lat[0] == pytest.approx(
        lat, abs=1e-7
    )
