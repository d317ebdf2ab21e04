"""Publishable hotspot and forecast figures: the store read, the spatial analysis run.

What ``beatbook hotspots``, ``places``, ``forecast`` and ``evaluate`` report, as
plain records with the field names documented in docs/cli.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from beatbook import areas as areas_mod
from beatbook import geo
from beatbook import queries as q
from beatbook.errors import DataMissingError, InputError
from beatbook.figures.stats import period
from beatbook.hotspots.emerging import CLASSES, classify
from beatbook.hotspots.evaluate import backtest, bootstrap_ratio, summarise
from beatbook.hotspots.forecast import BASELINES, METHODS, check_method, forecast
from beatbook.hotspots.grid import cell_month_counts
from beatbook.hotspots.local_stats import gi_star
from beatbook.hotspots.places import place_month_counts, spread_to_places, top_places
from beatbook.months import CALENDAR, add_months, month_range, months_back, parse_month
from beatbook.reference import problem_crime_types
from beatbook.settings import (
    CELL_FORECAST_METHOD,
    CELL_SIZE,
    EMERGING_RANGE,
    FDR_ALPHA,
    PERMUTATIONS,
    PERMUTATIONS_RANGE,
)
from beatbook.store import Store


def hotspots(
    store: Store,
    area_name: str,
    month: str,
    *,
    problem: str | None = None,
    cell_size: int = CELL_SIZE,
    seed: int = 0,
    permutations: int = PERMUTATIONS,
    alpha: float = FDR_ALPHA,
    limit: int = 10,
    emerging: int = 0,
) -> dict[str, Any]:
    """Gi* hot and cold cells for one month, the top places with their change, and with
    ``emerging`` > 0 the emerging-hotspot class of each cell over that many months.

    The grid is clipped to the area's LSOA boundaries when they are stored; without
    them it covers only the cells where the area had crime in the months up to
    ``month``, and says so (area shares are then not the area's true extent).
    """
    when = parse_month(month, "--month", q.months_with_data(store, *CALENDAR))
    q.period_coverage(store, when, when)
    PERMUTATIONS_RANGE.check(permutations, "--permutations", f"default {PERMUTATIONS}")
    if not 0 < alpha < 1:
        raise InputError(f"--alpha {alpha}: expected a false-discovery rate between 0 and 1")
    if emerging:
        EMERGING_RANGE.check(emerging, "--emerging", "or 0 for none")
    area = areas_mod.resolve(store, area_name)
    types = problem_crime_types(problem) if problem else None
    grid, extent = q.area_grid(store, area, cell_size, when)
    previous = (when - dt.timedelta(days=1)).replace(day=1)
    window = months_back(when, max(emerging, 2))
    stored = q.months_with_data(store, window[0], when)
    missing = [m for m in window[-emerging:] if m not in stored] if emerging else []
    if missing:
        raise DataMissingError(
            f"--emerging {emerging}: months {', '.join(f'{m:%Y-%m}' for m in missing)} are not "
            "stored; emerging hotspots need every month of the window (choose fewer months)"
        )
    incidents = q.incidents(store, area, window[0], when, crime_types=types)
    matrix = cell_month_counts(incidents, grid, window)
    counts = matrix[:, -1]
    result = gi_star(counts, grid, permutations=permutations, seed=seed, alpha=alpha)
    centres = grid.centroids()
    lon, lat = geo.to_wgs84(centres[:, 0], centres[:, 1])
    labels = grid.labels()
    order = np.argsort(-result.z, kind="stable")
    cells = [
        {
            "cell": labels[i],
            "longitude": round(float(lon[i]), 6),
            "latitude": round(float(lat[i]), 6),
            "count": int(counts[i]),
            "z": round(float(result.z[i]), 3),
            "p": float(result.p[i]),
            "class": str(result.label[i]),
        }
        for i in order
        if result.label[i] != "not significant"
    ]
    places = top_places(incidents, when, previous, limit=limit)
    this_month = incidents.filter(pl.col("month") == when).height
    history = None
    if emerging:
        months = window[-emerging:]
        earlier = [
            gi_star(
                matrix[:, len(window) - emerging + t],
                grid,
                permutations=permutations,
                seed=seed,
                alpha=alpha,
            )
            for t in range(emerging - 1)
        ]
        monthly = [*earlier, result]  # the last month's map is already computed
        hot = np.column_stack([g.label == "hot" for g in monthly])
        cold = np.column_stack([g.label == "cold" for g in monthly])
        zs = np.column_stack([g.z for g in monthly])
        rows: list[dict[str, Any]] = []
        for i in range(grid.n_cells):
            kind, trend, trend_p = classify(hot[i], cold[i], zs[i])
            if kind:
                rows.append(
                    {
                        "cell": labels[i],
                        "longitude": round(float(lon[i]), 6),
                        "latitude": round(float(lat[i]), 6),
                        "class": kind,
                        "hot_months": int(hot[i].sum()),
                        "z_trend": trend,
                        "z_trend_p": round(trend_p, 4),
                        "count_last": int(counts[i]),
                    }
                )
        history = {
            "months": emerging,
            "from": f"{months[0]:%Y-%m}",
            "to": f"{months[-1]:%Y-%m}",
            "classes": {k: sum(r["class"] == k for r in rows) for k in CLASSES},
            "cells": sorted(rows, key=lambda r: (CLASSES.index(r["class"]), -r["hot_months"])),
        }
    return {
        "area": area.to_dict(),
        "month": f"{when:%Y-%m}",
        "problem": problem,
        "crime_types": types or "all (crime and ASB)",
        "crimes": this_month,
        "grid": {
            "cell_size_m": grid.size,
            "origin_bng": [grid.x0, grid.y0],
            "cells": grid.n_cells,
            "extent": extent,
            "area_km2": round(float(grid.area.sum()) / 1e6, 2),
        },
        "method": {
            "statistic": "Getis-Ord Gi* (queen contiguity, binary weights, cell included)",
            "permutations": permutations,
            "seed": seed,
            "fdr_alpha": alpha,
            "p_threshold": result.threshold,
            "smallest_possible_p": 2 / (permutations + 1),
        },
        "hot_cells": sum(1 for c in cells if c["class"] == "hot"),
        "cold_cells": sum(1 for c in cells if c["class"] == "cold"),
        "cells": cells,
        "places": places.to_dicts(),
        "previous_month": f"{previous:%Y-%m}",
        "emerging": history,
    }


class History:
    """Every stored month of an area up to ``last`` (gaps skipped, not zero-filled) with the
    located crimes of the problem; :meth:`lay_grid` then counts them per cell and month."""

    grid: geo.Grid
    extent: str
    counts: np.ndarray
    totals: np.ndarray

    def __init__(self, store: Store, area_name: str, last: dt.date, problem: str | None) -> None:
        self.store = store
        self.area = areas_mod.resolve(store, area_name)
        self.types = problem_crime_types(problem) if problem else None
        forces = q.forces_of(store, self.area, dt.date(1900, 1, 1), last)
        self.months = q.months_with_data(store, dt.date(1900, 1, 1), last, forces or None)
        if not self.months:
            raise DataMissingError(f"no street-level crime data stored up to {last:%Y-%m}")
        self.incidents = q.incidents(store, self.area, self.months[0], last, crime_types=self.types)

    def lay_grid(self, cell_size: int, up_to: dt.date) -> None:
        """The area's grid, knowing nothing after ``up_to`` (a forecast's cutoff, a
        backtest's first cutoff), and the crimes counted on it."""
        self.grid, self.extent = q.area_grid(self.store, self.area, cell_size, up_to)
        self.counts = cell_month_counts(self.incidents, self.grid, self.months)
        # Each month's located crimes, on the grid or not: a backtest's hit-rate base.
        per_month = self.incidents.group_by("month").len()
        by_month = dict(zip(per_month["month"], per_month["len"], strict=True))
        self.totals = np.array([by_month.get(m, 0) for m in self.months], dtype=np.int64)


def forecast_cells(
    store: Store,
    area_name: str,
    cutoff: str,
    *,
    method: str = CELL_FORECAST_METHOD,
    problem: str | None = None,
    cell_size: int = CELL_SIZE,
    limit: int = 20,
) -> dict[str, Any]:
    """Scores for the month after ``cutoff`` per cell and per place, highest first.

    Only months up to the cutoff are read. A place's score is its cell's score times the
    place's share of the cell's crimes over the last 12 stored months.
    """
    last = parse_month(cutoff, "--cutoff", q.months_with_data(store, *CALENDAR))
    check_method(method)
    geo.check_cell_size(cell_size)
    h = History(store, area_name, last, problem)
    if h.months[-1] != last:
        raise DataMissingError(
            f"--cutoff {cutoff}: that month is not stored (latest before it: {h.months[-1]:%Y-%m})"
        )
    h.lay_grid(cell_size, last)
    area, grid, extent, months, counts = h.area, h.grid, h.extent, h.months, h.counts
    scores = forecast(method, counts, months, grid, last)
    centres = grid.centroids()
    lon, lat = geo.to_wgs84(centres[:, 0], centres[:, 1])
    labels = grid.labels()
    order = np.argsort(-scores, kind="stable")[:limit]
    per_place = spread_to_places(h.incidents, grid, scores, months[max(0, len(months) - 12)])
    target = add_months(last, 1)
    return {
        "area": area.to_dict(),
        "cutoff": f"{last:%Y-%m}",
        "target": f"{target:%Y-%m}",
        "method": method,
        "problem": problem,
        "months_used": len(months),
        "first_month": f"{months[0]:%Y-%m}",
        "grid": {"cell_size_m": grid.size, "cells": grid.n_cells, "extent": extent},
        "cells": [
            {
                "rank": r + 1,
                "cell": labels[i],
                "longitude": round(float(lon[i]), 6),
                "latitude": round(float(lat[i]), 6),
                "score": round(float(scores[i]), 4),
                "count_cutoff_month": int(counts[i, -1]),
            }
            for r, i in enumerate(order)
        ],
        "places": per_place.sort(["score", "location"], descending=[True, False])
        .head(limit)
        .select(
            pl.col("location").alias("place"),
            "longitude",
            "latitude",
            pl.col("score").round(4),
            pl.col("n").alias("crimes_last_12_months"),
        )
        .to_dicts(),
    }


def evaluate_forecasts(
    store: Store,
    area_name: str,
    from_: str,
    to: str,
    *,
    problem: str | None = None,
    methods: list[str] | None = None,
    cell_size: int = CELL_SIZE,
    seed: int = 0,
) -> dict[str, Any]:
    """Rolling-origin backtest: each stored month from..to is forecast from the months
    before it (its cutoff is the calendar month before, which must be stored). Every fold
    shares one grid, laid from what was known at the first cutoff."""
    start, end = period(from_, to, store)
    chosen = [check_method(m) for m in methods or list(METHODS)]
    geo.check_cell_size(cell_size)
    h = History(store, area_name, end, problem)
    area, types, months = h.area, h.types, h.months
    stored = set(months)
    wanted = month_range(start, end)
    targets = [m for m in wanted if m in stored and add_months(m, -1) in stored]
    cutoffs = [add_months(m, -1) for m in targets]
    skipped = [f"{m:%Y-%m}" for m in wanted if m not in targets]
    if not cutoffs:
        raise DataMissingError(
            f"no month from {start:%Y-%m} to {end:%Y-%m} is stored together with the month "
            "before it: nothing to backtest"
        )
    h.lay_grid(cell_size, cutoffs[0])
    grid, extent, counts = h.grid, h.extent, h.counts
    results = backtest(counts, months, grid, cutoffs, chosen, seed=seed, totals=h.totals)
    summary = summarise(results, seed=seed)
    at5 = summary.filter(pl.col("coverage") == 0.05)
    pai5 = {r["method"]: r["pai"] for r in at5.to_dicts()}
    best = (
        max(BASELINES, key=lambda b: pai5.get(b, -1.0))
        if any(b in pai5 for b in BASELINES)
        else None
    )
    ratios = []
    if best:
        base = results.filter((pl.col("method") == best) & (pl.col("coverage") == 0.05))
        for method in chosen:
            mine = results.filter((pl.col("method") == method) & (pl.col("coverage") == 0.05))
            ratio, low, high = bootstrap_ratio(mine["pai"].to_numpy(), base["pai"].to_numpy(), seed)
            ratios.append({"method": method, "ratio": ratio, "low": low, "high": high})
    return {
        "area": area.to_dict(),
        "problem": problem,
        "crime_types": types or "all (crime and ASB)",
        "targets": [f"{m:%Y-%m}" for m in targets],
        "skipped": skipped,
        "grid": {
            "cell_size_m": grid.size,
            "cells": grid.n_cells,
            "extent": extent,
            "origin_bng": [grid.x0, grid.y0],
        },
        "seed": seed,
        "summary": summary.to_dicts(),
        "best_baseline_pai5": best,
        "pai5_vs_best_baseline": ratios,
        "months": results.with_columns(
            pl.col("cutoff").dt.strftime("%Y-%m"), pl.col("target").dt.strftime("%Y-%m")
        ).to_dicts(),
    }


def place_counts(
    store: Store, area_name: str, from_: str, to: str, *, problem: str | None = None
) -> pl.DataFrame:
    """Crimes per police.uk place, month and problem group in an area (located crimes only)."""
    start, end = period(from_, to, store)
    q.period_coverage(store, start, end)
    area = areas_mod.resolve(store, area_name)
    types = problem_crime_types(problem) if problem else None
    return place_month_counts(q.incidents(store, area, start, end, crime_types=types))
