"""The forecast grid knows nothing after the cutoff (issue 16, item 13).

Without LSOA boundaries the grid is the cells where the area had crime; those cells must
come from the months up to the cutoff (a backtest: its first cutoff), never from the
target months or later. Expected cells are counted from the raw police.uk files in a
plain DuckDB connection and projected with pyproj, not with BeatBook's grid code.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape as geojson_shape

from beatbook import geo
from beatbook import queries as q
from beatbook.areas import resolve
from beatbook.figures import hotspots as hotspot_figures
from beatbook.ingest.policeuk_csv import ingest
from beatbook.priorities.backtest import backtest as priorities_backtest
from beatbook.store import Store
from support.fixtures_store import LEICESTER_BOUNDARIES, POLICE, RAW_DISTRICT, months_between

SIZE = 150
DISTRICT = "Oadby and Wigston"  # no boundaries stored for it in the sample store
EARLY = months_between("2021-01", "2021-06")
LATER = ["2025-01", "2025-02", "2025-03"]
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _files(months: list[str]) -> list[Path]:
    return [POLICE / f"{m}-leicestershire-street.csv.gz" for m in months]


def raw_cells(files: list[Path], district: str, last: str) -> set[tuple[int, int]]:
    """South-west corners of the 150 m cells holding a located crime of ``district`` in a
    month up to ``last``, from the raw CSVs."""
    listed = ", ".join(f"'{p}'" for p in files)
    con = duckdb.connect()
    rows = con.execute(
        f"""
        SELECT CAST("Longitude" AS DOUBLE), CAST("Latitude" AS DOUBLE)
        FROM read_csv([{listed}], header = true, all_varchar = true, delim = ',', quote = '"')
        WHERE {RAW_DISTRICT} = ? AND "Month" <= ? AND coalesce("Longitude", '') <> ''
        """,
        [district, last],
    ).fetchall()
    con.close()
    lon, lat = np.array(rows).T
    x, y = TO_BNG.transform(lon, lat)
    return set(
        zip(
            (np.floor(x / SIZE) * SIZE).astype(int).tolist(),
            (np.floor(y / SIZE) * SIZE).astype(int).tolist(),
            strict=True,
        )
    )


def cells_of(grid: geo.Grid) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in (label.split(",") for label in grid.labels())}


def origin(cells: set[tuple[int, int]]) -> list[float]:
    return [float(min(x for x, _ in cells)), float(min(y for _, y in cells))]


def _store(path: Path, months: list[str]) -> Iterator[Store]:
    """A store of police.uk street files only: no lookup, no boundaries."""
    with Store(path) as st:
        ingest(st, _files(months))
    with Store(path, read_only=True) as st:
        yield st


@pytest.fixture(scope="module")
def early_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Leicestershire 2021-01 … 2021-06."""
    yield from _store(tmp_path_factory.mktemp("early") / "beatbook.duckdb", EARLY)


@pytest.fixture(scope="module")
def later_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The same months and 2025-01 … 2025-03 after them."""
    yield from _store(tmp_path_factory.mktemp("later") / "beatbook.duckdb", EARLY + LATER)


def test_grid_without_boundaries_holds_only_cells_with_crime_up_to_the_cutoff(
    sample_store: Store,
) -> None:
    district = resolve(sample_store, DISTRICT)
    assert q.area_shape(sample_store, district) is None  # only Leicester's boundaries stored
    files = _files([f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)] + LATER)
    up_to = raw_cells(files, DISTRICT, "2020-06")
    later_only = raw_cells(files, DISTRICT, "2025-03") - up_to
    assert len(later_only) > 100  # the old grid held these: cells known only from later months
    grid, extent = q.area_grid(sample_store, district, SIZE, dt.date(2020, 6, 1))
    assert extent == "cells with crime up to 2020-06"
    assert cells_of(grid) == up_to and not cells_of(grid) & later_only
    assert [grid.x0, grid.y0] == origin(up_to)
    r = hotspot_figures.forecast_cells(sample_store, DISTRICT, "2020-06", method="mean-3", limit=3)
    assert r["grid"] == {"cell_size_m": SIZE, "cells": len(up_to), "extent": extent}


def test_backtest_grid_is_the_first_cutoffs(sample_store: Store) -> None:
    r = hotspot_figures.evaluate_forecasts(
        sample_store, DISTRICT, "2021-10", "2021-12", methods=["mean-3"]
    )
    assert [m["cutoff"] for m in r["months"][:1]] == ["2021-09"]
    files = _files(months_between("2020-01", "2021-12"))
    first = raw_cells(files, DISTRICT, "2021-09")
    assert raw_cells(files, DISTRICT, "2021-12") - first  # the targets add cells: left out
    assert r["grid"] == {
        "cell_size_m": SIZE,
        "cells": len(first),
        "extent": "cells with crime up to 2021-09",
        "origin_bng": origin(first),
    }


def raw_target_cells(files: list[Path], district: str, month: str) -> list[tuple[int, int]]:
    """The 150 m cell of each located crime of ``district`` in ``month``, from the raw CSVs."""
    listed = ", ".join(f"'{p}'" for p in files)
    con = duckdb.connect()
    rows = con.execute(
        f"""
        SELECT CAST("Longitude" AS DOUBLE), CAST("Latitude" AS DOUBLE)
        FROM read_csv([{listed}], header = true, all_varchar = true, delim = ',', quote = '"')
        WHERE {RAW_DISTRICT} = ? AND "Month" = ? AND coalesce("Longitude", '') <> ''
        """,
        [district, month],
    ).fetchall()
    con.close()
    x, y = TO_BNG.transform(*np.array(rows).T)
    return [(int(a // SIZE * SIZE), int(b // SIZE * SIZE)) for a, b in zip(x, y, strict=True)]


def test_a_backtest_counts_crimes_off_the_grid_as_misses(sample_store: Store) -> None:
    """The targets' crimes in cells the first cutoff's grid lacks are in each month's base."""
    r = hotspot_figures.evaluate_forecasts(
        sample_store, DISTRICT, "2021-10", "2021-12", methods=["mean-3"]
    )
    files = _files(months_between("2020-01", "2021-12"))
    grid = raw_cells(files, DISTRICT, "2021-09")
    for row in r["months"]:
        crimes = raw_target_cells(files, DISTRICT, row["target"])
        off = sum(cell not in grid for cell in crimes)
        assert (row["crimes"], row["crimes_off_grid"]) == (len(crimes), off)
        assert row["hit_rate"] * row["crimes"] <= row["crimes"] - off + 1e-9
    assert sum(row["crimes_off_grid"] for row in r["months"]) > 0


def test_results_do_not_depend_on_months_stored_after_them(
    early_store: Store, later_store: Store
) -> None:
    """Storing 2025 changes no forecast, backtest or hotspot map of 2021 (no boundaries)."""
    assert q.area_shape(later_store, resolve(later_store, DISTRICT)) is None
    first = raw_cells(_files(EARLY), DISTRICT, "2021-03")
    assert raw_cells(_files(EARLY + LATER), DISTRICT, "2025-03") - first
    for st in (early_store, later_store):
        grid, extent = q.area_grid(st, resolve(st, DISTRICT), SIZE, dt.date(2021, 3, 1))
        assert extent == "cells with crime up to 2021-03" and cells_of(grid) == first
    runs = {
        "forecast": lambda st: hotspot_figures.forecast_cells(
            st, DISTRICT, "2021-05", method="mean-3"
        ),
        "evaluate": lambda st: hotspot_figures.evaluate_forecasts(
            st, DISTRICT, "2021-04", "2021-06", methods=["last-month", "mean-3", "kde"]
        ),
        "hotspots": lambda st: hotspot_figures.hotspots(st, DISTRICT, "2021-06", permutations=99),
        "priorities": lambda st: priorities_backtest(
            st, DISTRICT, ["2021-04", "2021-05"], method="mean-3"
        ),
    }
    results = {name: (run(early_store), run(later_store)) for name, run in runs.items()}
    for name, (early, later) in results.items():
        assert early == later, name
    assert results["forecast"][1]["grid"]["extent"] == "cells with crime up to 2021-05"
    assert results["evaluate"][1]["grid"]["extent"] == "cells with crime up to 2021-03"
    assert results["hotspots"][1]["grid"]["extent"] == "cells with crime up to 2021-06"


def test_grid_with_boundaries_is_the_boundary_whatever_the_months(sample_store: Store) -> None:
    with gzip.open(LEICESTER_BOUNDARIES, "rt", encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    outline = shapely.union_all([geojson_shape(f["geometry"]) for f in features])
    bng = shapely.transform(outline, lambda c: np.column_stack(TO_BNG.transform(c[:, 0], c[:, 1])))
    leicester = resolve(sample_store, "Leicester")
    grids = [
        q.area_grid(sample_store, leicester, SIZE, dt.date(y, m, 1))
        for y, m in ((2020, 1), (2021, 9), (2025, 3))
    ]
    assert {extent for _, extent in grids} == {"area boundary"}
    assert all(cells_of(g) == cells_of(grids[0][0]) for g, _ in grids)
    assert grids[0][0].area.sum() == pytest.approx(bng.area, rel=1e-9)
    r = hotspot_figures.evaluate_forecasts(
        sample_store, "Leicester", "2021-10", "2021-12", methods=["mean-3"]
    )
    assert r["grid"]["extent"] == "area boundary" and r["grid"]["cells"] == grids[0][0].n_cells
    f = hotspot_figures.forecast_cells(sample_store, "Leicester", "2021-11", method="mean-3")
    assert f["grid"]["extent"] == "area boundary" and f["grid"]["cells"] == grids[0][0].n_cells
