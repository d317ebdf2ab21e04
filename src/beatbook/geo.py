"""Projections and grid cells.

police.uk gives WGS84 longitude/latitude; distances and areas need metres, so
everything spatial happens in British National Grid (EPSG:27700). Grid cells
are squares aligned to multiples of their size from the BNG origin, so a 150 m
cell in one run is the same cell in the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from beatbook.errors import InputError
from beatbook.settings import CELL_SIZE, CELL_SIZE_RANGE


@cache
def _transformer(source: int, target: int) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude -> BNG easting/northing in metres."""
    x, y = _transformer(4326, 27700).transform(np.asarray(lon), np.asarray(lat))
    return np.asarray(x), np.asarray(y)


def to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _transformer(27700, 4326).transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon), np.asarray(lat)


def shape_to_bng(geom: BaseGeometry) -> BaseGeometry:
    """A WGS84 geometry in BNG metres."""
    return shapely.transform(geom, lambda xy: np.column_stack(to_bng(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class Grid:
    """Square cells of ``size`` metres covering an area; only the cells that touch it are kept.

    Cell ``i`` of the grid is ``(cols[i], rows[i])`` counted from the south-west
    corner ``(x0, y0)``; ``area[i]`` is how many square metres of the area it covers
    (less than ``size**2`` at the edge), so area shares are honest at the boundary.
    """

    size: int
    x0: float
    y0: float
    cols: np.ndarray
    rows: np.ndarray
    area: np.ndarray

    @property
    def n_cells(self) -> int:
        return len(self.cols)

    @cached_property
    def _index(self) -> np.ndarray:
        """Dense (col, row) -> kept-cell index table over the grid's extent, -1 where dropped."""
        index = np.full((int(self.cols.max()) + 1, int(self.rows.max()) + 1), -1, dtype=np.int64)
        index[self.cols, self.rows] = np.arange(self.n_cells)
        return index

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the kept cell holding each point, or -1 outside the kept cells."""
        col = np.floor((np.asarray(x) - self.x0) / self.size).astype(np.int64)
        row = np.floor((np.asarray(y) - self.y0) / self.size).astype(np.int64)
        width, height = self._index.shape
        inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        cells = np.full(len(col), -1, dtype=np.int64)
        cells[inside] = self._index[col[inside], row[inside]]
        return cells

    def centroids(self) -> np.ndarray:
        """Cell centres in BNG metres, shape (n_cells, 2)."""
        return np.column_stack(
            [self.x0 + (self.cols + 0.5) * self.size, self.y0 + (self.rows + 0.5) * self.size]
        )

    def labels(self) -> list[str]:
        """A cell's name: the BNG easting and northing of its south-west corner."""
        return [
            f"{int(self.x0 + c * self.size)},{int(self.y0 + r * self.size)}"
            for c, r in zip(self.cols, self.rows, strict=True)
        ]

    def neighbours(self) -> dict[int, list[int]]:
        """Queen contiguity: the up to 8 kept cells around each kept cell."""
        width, height = self._index.shape
        return {
            i: [
                int(self._index[c + dc, r + dr])
                for dc in (-1, 0, 1)
                for dr in (-1, 0, 1)
                if (dc or dr)
                and 0 <= c + dc < width
                and 0 <= r + dr < height
                and self._index[c + dc, r + dr] >= 0
            ]
            for i, (c, r) in enumerate(zip(self.cols.tolist(), self.rows.tolist(), strict=True))
        }


def check_cell_size(size: int) -> int:
    return CELL_SIZE_RANGE.check(size, "--cell-size", f"default {CELL_SIZE}")


def grid_over(shape_bng: BaseGeometry, size: int = CELL_SIZE) -> Grid:
    """The cells of ``size`` metres that overlap an area given in BNG metres."""
    check_cell_size(size)
    minx, miny, maxx, maxy = shape_bng.bounds
    x0, y0 = np.floor(minx / size) * size, np.floor(miny / size) * size
    n_cols, n_rows = int(np.ceil((maxx - x0) / size)), int(np.ceil((maxy - y0) / size))
    cols, rows = (a.ravel() for a in np.meshgrid(np.arange(n_cols), np.arange(n_rows)))
    boxes = shapely.box(
        x0 + cols * size, y0 + rows * size, x0 + (cols + 1) * size, y0 + (rows + 1) * size
    )
    shapely.prepare(shape_bng)
    touching = shapely.intersects(shape_bng, boxes)
    area = np.zeros(len(boxes))
    area[touching] = shapely.area(shapely.intersection(boxes[touching], shape_bng))
    keep = area > 0
    return Grid(size, float(x0), float(y0), cols[keep], rows[keep], area[keep])


def grid_over_points(x: np.ndarray, y: np.ndarray, size: int = CELL_SIZE) -> Grid:
    """Without a boundary: the cells holding at least one of the points, each counted whole."""
    check_cell_size(size)
    if len(x) == 0:
        raise InputError("no located crimes in the area: cannot lay a grid over it")
    x0, y0 = np.floor(np.min(x) / size) * size, np.floor(np.min(y) / size) * size
    cells = np.unique(
        np.column_stack([np.floor((x - x0) / size), np.floor((y - y0) / size)]).astype(np.int64),
        axis=0,
    )
    return Grid(
        size,
        float(x0),
        float(y0),
        cells[:, 0],
        cells[:, 1],
        np.full(len(cells), float(size * size)),
    )
