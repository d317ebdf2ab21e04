"""Hotspots on real data, checked against computations made another way.

Gi* z-scores against the Getis & Ord (1995) formula in plain numpy; weights against
libpysal's own lattice; the FDR threshold against a hand-written Benjamini-Hochberg
step-up; grid counts and top places against DuckDB queries over the raw files.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import shapely
from libpysal.weights import lat2W

from beatbook import geo
from beatbook import queries as q
from beatbook.areas import resolve
from beatbook.figures import hotspots as hotspot_figures
from beatbook.hotspots.grid import cell_month_counts
from beatbook.hotspots.local_stats import gi_star
from beatbook.store import Store

JUNE = dt.date(2021, 6, 1)


@pytest.fixture(scope="module")
def leicester_june(sample_store: Store) -> tuple[geo.Grid, np.ndarray]:
    area = resolve(sample_store, "Leicester")
    shape = q.area_shape(sample_store, area)
    assert shape is not None
    grid = geo.grid_over(geo.shape_to_bng(shape), 150)
    counts = cell_month_counts(q.incidents(sample_store, area, JUNE, JUNE), grid, [JUNE])[:, 0]
    return grid, counts


def numpy_gi_star_z(x: np.ndarray, neighbours: dict[int, list[int]]) -> np.ndarray:
    """Getis & Ord (1995) Gi* z with binary weights, the cell itself included."""
    n = len(x)
    mean, s = x.mean(), np.sqrt((x**2).mean() - x.mean() ** 2)
    z = np.empty(n)
    for i in range(n):
        js = [i, *neighbours[i]]
        w_sum = len(js)  # binary weights: sum of w_ij = sum of w_ij**2
        num = x[js].sum() - mean * w_sum
        den = s * np.sqrt((n * w_sum - w_sum**2) / (n - 1))
        z[i] = num / den
    return z


def benjamini_hochberg_threshold(p: np.ndarray, alpha: float) -> float:
    ranked = np.sort(p)
    passing = [pk for k, pk in enumerate(ranked, start=1) if pk <= alpha * k / len(p)]
    return max(passing) if passing else 0.0


def test_grid_counts_match_the_raw_files(raw_db, leicester_june) -> None:
    """All of Leicester's located June 2021 crimes land in a cell (the boundary covers them)."""
    grid, counts = leicester_june
    (expected,) = raw_db.execute(
        "SELECT count(*) FROM street WHERE month = '2021-06' AND district = 'Leicester' "
        'AND "Longitude" IS NOT NULL'
    ).fetchone()
    assert counts.sum() == expected == 4336


def test_gi_star_z_matches_the_formula(leicester_june) -> None:
    grid, counts = leicester_june
    result = gi_star(counts, grid, permutations=99, seed=1)
    expected = numpy_gi_star_z(counts.astype(float), grid.neighbours())
    np.testing.assert_allclose(result.z, expected, rtol=1e-9, atol=1e-9)
    assert result.z.max() > 10  # the city centre


def test_fdr_labels_follow_benjamini_hochberg(leicester_june) -> None:
    grid, counts = leicester_june
    result = gi_star(counts, grid, permutations=999, seed=3, alpha=0.05)
    # esda reports the BH line at the cut (alpha * k / n) rather than the k-th p-value;
    # both select the same cells.
    threshold = benjamini_hochberg_threshold(result.p, 0.05)
    significant = result.p <= threshold
    assert np.array_equal(significant, result.p <= result.threshold)
    assert result.threshold == pytest.approx(0.05 * significant.sum() / len(result.p))
    assert set(result.label[significant & (result.z > 0)]) == {"hot"}
    assert set(result.label[significant & (result.z < 0)]) == {"cold"}
    assert set(result.label[~significant]) == {"not significant"}
    # Stricter control can only remove cells.
    stricter = gi_star(counts, grid, permutations=999, seed=3, alpha=0.01)
    assert (stricter.label == "hot").sum() <= (result.label == "hot").sum()


def test_same_seed_same_p_values(leicester_june) -> None:
    grid, counts = leicester_june
    a = gi_star(counts, grid, permutations=199, seed=7)
    b = gi_star(counts, grid, permutations=199, seed=7)
    c = gi_star(counts, grid, permutations=199, seed=8)
    np.testing.assert_array_equal(a.p, b.p)
    assert not np.array_equal(a.p, c.p)


def test_weights_on_a_full_rectangle_are_libpysals_queen_lattice() -> None:
    grid = geo.grid_over(shapely.box(0, 0, 5 * 150, 4 * 150), 150)
    ours = grid.neighbours()
    # lat2W numbers cells row by row from the top-left; ours are (col, row) from the bottom.
    theirs = lat2W(4, 5, rook=False).neighbors
    index = {(int(c), int(r)): i for i, (c, r) in enumerate(zip(grid.cols, grid.rows, strict=True))}
    to_lattice = {i: (3 - r) * 5 + c for (c, r), i in index.items()}
    for i, js in ours.items():
        assert sorted(to_lattice[j] for j in js) == sorted(theirs[to_lattice[i]])


def test_no_variation_means_no_hotspot() -> None:
    grid = geo.grid_over(shapely.box(0, 0, 600, 600), 150)
    result = gi_star(np.zeros(grid.n_cells), grid)
    assert set(result.label) == {"not significant"}


def test_hotspot_figures_on_real_data(sample_store: Store, raw_db) -> None:
    r = hotspot_figures.hotspots(sample_store, "Leicester", "2021-06", permutations=999, seed=1)
    assert r["crimes"] == 4336
    assert r["grid"]["extent"] == "area boundary" and r["grid"]["area_km2"] == pytest.approx(
        73.3, abs=0.1
    )
    assert r["hot_cells"] > 0 and all(c["class"] in ("hot", "cold") for c in r["cells"])
    zs = [c["z"] for c in r["cells"]]
    assert zs == sorted(zs, reverse=True)
    # Top place: its June and May counts, from the raw files.
    top = r["places"][0]
    for month, key in (("2021-06", "count"), ("2021-05", "count_before")):
        (n,) = raw_db.execute(
            "SELECT count(*) FROM street WHERE month = ? AND district = 'Leicester' "
            'AND "Location" = ? AND CAST("Longitude" AS DOUBLE) = ? '
            'AND CAST("Latitude" AS DOUBLE) = ?',
            [month, top["place"], top["longitude"], top["latitude"]],
        ).fetchone()
        assert top[key] == n
    assert top["change"] == top["count"] - top["count_before"]
    harms = [p["harm"] for p in r["places"]]
    assert harms == sorted(harms, reverse=True)


def test_problem_filter_counts_only_its_crimes(sample_store: Store, raw_db) -> None:
    r = hotspot_figures.hotspots(
        sample_store, "Leicester", "2021-06", problem="drugs", permutations=99
    )
    (n,) = raw_db.execute(
        "SELECT count(*) FROM street WHERE month = '2021-06' AND district = 'Leicester' "
        'AND "Crime type" = \'Drugs\' AND "Longitude" IS NOT NULL'
    ).fetchone()
    assert r["crimes"] == n and r["crime_types"] == ["Drugs"]
    assert all(p["harm"] == 0 for p in r["places"])  # proactive: outside the harm index


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"month": "2023-01"}, "no street-level crime data stored for 2023-01"),
        ({"month": "June"}, "--month 'June': expected a month as YYYY-MM"),
        ({"cell_size": 20}, "--cell-size 20: expected 50 to 500 metres"),
        ({"problem": "dogs"}, "--problem 'dogs' is not a problem group"),
        ({"alpha": 1.5}, "--alpha 1.5: expected a false-discovery rate"),
    ],
)
def test_bad_arguments_are_refused_clearly(sample_store: Store, kwargs, message) -> None:
    from beatbook.errors import BeatBookError

    args = {"month": "2021-06", **kwargs}
    month = args.pop("month")
    with pytest.raises(BeatBookError, match=message):
        hotspot_figures.hotspots(sample_store, "Leicester", month, **args)


def test_emerging_hotspots_agree_with_the_monthly_maps(sample_store: Store) -> None:
    """Every class that needs the last month hot is hot on that month's own map, and
    'historical' cells are not; hot_months matches the maps month by month."""
    r = hotspot_figures.hotspots(
        sample_store, "Leicester", "2021-12", permutations=499, seed=2, emerging=4
    )
    history = r["emerging"]
    assert (history["from"], history["to"], history["months"]) == ("2021-09", "2021-12", 4)
    assert sum(history["classes"].values()) == len(history["cells"]) > 0
    hot_last = {c["cell"] for c in r["cells"] if c["class"] == "hot"}
    monthly_hot = [
        {
            c["cell"]
            for c in hotspot_figures.hotspots(
                sample_store, "Leicester", m, permutations=499, seed=2
            )["cells"]
            if c["class"] == "hot"
        }
        for m in ("2021-09", "2021-10", "2021-11", "2021-12")
    ]
    assert monthly_hot[-1] == hot_last
    for cell in history["cells"]:
        assert (cell["cell"] in hot_last) == (cell["class"] != "historical")
        assert cell["hot_months"] == sum(cell["cell"] in hot for hot in monthly_hot)


def test_emerging_needs_every_month_of_its_window(sample_store: Store) -> None:
    from beatbook.errors import DataMissingError

    with pytest.raises(DataMissingError, match="months 2024-10, 2024-11, 2024-12 are not stored"):
        hotspot_figures.hotspots(sample_store, "Leicester", "2025-02", emerging=5, permutations=99)


def test_place_month_counts_match_the_raw_files(sample_store: Store, raw_db) -> None:
    """Counts per place x month x problem group, against the raw CSVs and the shipped table."""
    from beatbook.hotspots.places import place_month_counts

    area = resolve(sample_store, "Leicester")
    table = place_month_counts(q.incidents(sample_store, area, dt.date(2021, 5, 1), JUNE))
    assert (
        table["count"].sum()
        == raw_db.execute(
            "SELECT count(*) FROM street WHERE month IN ('2021-05', '2021-06') "
            "AND district = 'Leicester' AND \"Longitude\" IS NOT NULL"
        ).fetchone()[0]
    )
    drugs = table.filter((pl.col("problem_group") == "drugs") & (pl.col("month") == JUNE))
    (raw_drugs,) = raw_db.execute(
        "SELECT count(*) FROM street WHERE month = '2021-06' AND district = 'Leicester' "
        'AND "Crime type" = \'Drugs\' AND "Longitude" IS NOT NULL'
    ).fetchone()
    assert drugs["count"].sum() == raw_drugs
    busiest = drugs.sort("count", descending=True).row(0, named=True)
    (n,) = raw_db.execute(
        "SELECT count(*) FROM street WHERE month = '2021-06' AND \"Crime type\" = 'Drugs' "
        'AND "Location" = ? AND CAST("Longitude" AS DOUBLE) = ? AND district = \'Leicester\'',
        [busiest["place"], busiest["longitude"]],
    ).fetchone()
    assert busiest["count"] == n
