"""Publishable figures: store queries combined with the statistics, as plain records.

Each function here is what one CLI command (and later the web app) reports.
The records use stable field names (documented in the README) so that
``--json`` output can be relied on by scripts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from beatbook import areas as areas_mod
from beatbook import geo
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.errors import DataMissingError, InputError
from beatbook.geo import DEFAULT_CELL
from beatbook.hotspots.emerging import CLASSES, classify
from beatbook.hotspots.evaluate import backtest, bootstrap_ratio, summarise
from beatbook.hotspots.forecast import BASELINES, METHODS, forecast
from beatbook.hotspots.grid import cell_month_counts
from beatbook.hotspots.local_stats import ALPHA, PERMUTATIONS, gi_star
from beatbook.hotspots.places import place_month_counts, top_places
from beatbook.reference import problem_crime_types
from beatbook.stats import (
    changes_by_category,
    claim_every_category,
    compare_areas_by_category,
    monthly_trend,
    rank_rates,
    rate,
    share,
)
from beatbook.store import Store

MIN_TREND_MONTHS = 6


def period(from_: str, to: str) -> tuple[dt.date, dt.date]:
    start, end = q.parse_month(from_, "--from"), q.parse_month(to, "--to")
    q.month_range(start, end)
    return start, end


def _coverage(store: Store, start: dt.date, end: dt.date) -> dict[str, Any]:
    wanted = q.month_range(start, end)
    present = q.months_with_data(store, start, end)
    if not present:
        raise DataMissingError(
            f"no street-level crime data stored for {start:%Y-%m} to {end:%Y-%m}: "
            "run 'beatbook ingest' with those months"
        )
    missing = [m for m in wanted if m not in present]
    return {
        "months": len(present),
        "months_missing": [f"{m:%Y-%m}" for m in missing],
    }


def _population(
    store: Store, area: Area, start: dt.date, end: dt.date, year: int | None
) -> q.Population:
    return q.population(store, area, year or q.nearest_population_year(store, start, end))


def _rate_fields(count: int, pop: q.Population | None, months: int) -> dict[str, Any]:
    """Rate per 1,000 residents over the period, and the same per year when months < 12.

    A polygon area has no resident count (``pop`` is None): its count comes without a rate.
    """
    if pop is None:
        no_rate = ("population", "population_year", "population_lsoas", "rate_per_1000")
        return {"count": count, **dict.fromkeys(no_rate), "ci_low": None, "ci_high": None}
    r = rate(count, pop.population)
    fields = {
        "count": count,
        **pop.to_dict(),
        "rate_per_1000": r.rate,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "conf": r.conf,
    }
    if months != 12:
        fields["rate_per_1000_per_year"] = r.rate * 12 / months
    return fields


def area_stats(
    store: Store,
    area_name: str,
    from_: str,
    to: str,
    *,
    by: str | None = None,
    population_year: int | None = None,
) -> dict[str, Any] | list[dict[str, Any]]:
    """Count, rate (exact Poisson CI), trend and, ``by='crime-type'``, shares of an area."""
    start, end = period(from_, to)
    area = areas_mod.resolve(store, area_name)
    coverage = _coverage(store, start, end)
    pop = None if area.polygon_wkt else _population(store, area, start, end, population_year)
    base = {
        "area": area.name,
        "area_kind": area.kind,
        "from": f"{start:%Y-%m}",
        "to": f"{end:%Y-%m}",
        **coverage,
    }
    if by is None:
        total = q.crime_total(store, area, start, end)
        record = {**base, **_rate_fields(total, pop, coverage["months"])}
        record.update(_trend_fields(store, area, start, end))
        return record
    if by != "crime-type":
        raise InputError(f"--by {by!r}: expected 'crime-type'")
    counts = q.crime_counts(store, area, start, end, by=["crime_type"])
    total = int(counts["count"].sum())
    records = []
    for crime_type, count in counts.sort("count", descending=True).iter_rows():
        s = share(int(count), total)
        records.append(
            {
                **base,
                "crime_type": crime_type,
                **_rate_fields(int(count), pop, coverage["months"]),
                "share": s.share,
                "share_base": total,
                "share_ci_low": s.ci_low,
                "share_ci_high": s.ci_high,
            }
        )
    return records


def _trend_fields(
    store: Store, area: Area, start: dt.date, end: dt.date, crime_types: list[str] | None = None
) -> dict[str, Any]:
    monthly = q.crime_counts(store, area, start, end, by=["month"], crime_types=crime_types)
    present = q.months_with_data(store, start, end)
    if len(present) < MIN_TREND_MONTHS:
        return {"trend": None}
    by_month = dict(monthly.iter_rows())
    index = [(m.year - start.year) * 12 + m.month - start.month for m in present]
    t = monthly_trend([int(by_month.get(m, 0)) for m in present], index)
    return {"trend": t.to_dict()}


def default_comparison(store: Store, area: Area) -> str:
    """What an area is compared with by default: the rest of the force area that contains it.

    For 'A excluding B' that is B (the county against the city it leaves out).
    """
    if area.excluded:
        return area.excluded
    if area.kind == "force area":
        raise InputError(f"{area.name!r} is a whole force area: give --against")
    for force_area in areas_mod.list_areas(store):
        if force_area.kind != "force area":
            continue
        inside = area.local_authorities and area.local_authorities < force_area.local_authorities
        if inside or (area.lsoa_codes and area.lsoa_codes <= areas_mod.lsoas_of(store, force_area)):
            return f"{force_area.name} excluding {areas_mod.reference(area)}"
    raise InputError(f"no force area contains {area.name!r}: give --against")


def compare_areas(
    store: Store,
    area_name: str,
    against: str | None,
    from_: str,
    to: str,
    before_from: str | None = None,
    before_to: str | None = None,
) -> dict[str, Any]:
    """Area vs another area, crime type by crime type, on rates over the same months."""
    start, end = period(from_, to)
    area = areas_mod.resolve(store, area_name)
    other = areas_mod.resolve(store, against or default_comparison(store, area))
    coverage = _coverage(store, start, end)
    year = q.nearest_population_year(store, start, end)
    pop_a, pop_b = q.population(store, area, year), q.population(store, other, year)
    frame = (
        _by_type(store, area, start, end, "count_a")
        .join(
            _by_type(store, other, start, end, "count_b"), on="category", how="full", coalesce=True
        )
        .fill_null(0)
    )
    compared = compare_areas_by_category(frame, pop_a.population, pop_b.population)
    result: dict[str, Any] = {
        "area": area.name,
        "against": other.name,
        "from": f"{start:%Y-%m}",
        "to": f"{end:%Y-%m}",
        **coverage,
        "population_year": year,
        "population_area": pop_a.population,
        "population_against": pop_b.population,
        "categories": compared.rename({"category": "crime_type"}).to_dicts(),
    }
    if (before_from is None) != (before_to is None):
        raise InputError("give both --before-from and --before-to, or neither")
    if before_from and before_to:
        b_start, b_end = period(before_from, before_to)
        result["before"] = {
            "from": f"{b_start:%Y-%m}",
            "to": f"{b_end:%Y-%m}",
            **_coverage(store, b_start, b_end),
        }
        result["changes"] = {}
        result["claims"] = {}
        for key, which in (("area", area), ("against", other)):
            changes = category_changes(store, which, (b_start, b_end), (start, end))
            result["changes"][key] = changes.rename({"category": "crime_type"}).to_dicts()
            result["claims"][f"{key}_rising_in_every_category"] = claim_every_category(
                changes, "rise"
            )
            result["claims"][f"{key}_falling_in_every_category"] = claim_every_category(
                changes, "fall"
            )
    return result


def _by_type(store: Store, area: Area, start: dt.date, end: dt.date, name: str) -> pl.DataFrame:
    counts = q.crime_counts(store, area, start, end, by=["crime_type"])
    return counts.rename({"crime_type": "category", "count": name})


def category_changes(
    store: Store, area: Area, before: tuple[dt.date, dt.date], after: tuple[dt.date, dt.date]
) -> pl.DataFrame:
    """Per crime type: count before vs after, exposure = months with data x residents.

    Both periods use the same residents (the estimate nearest the later period, as the
    brief does): estimates years apart would turn population drift into a spurious change.
    """
    pop = q.population(store, area, q.nearest_population_year(store, *after)).population
    rows = []
    for (start, end), suffix in ((before, "before"), (after, "after")):
        months = len(q.months_with_data(store, start, end))
        rows.append(
            _by_type(store, area, start, end, f"count_{suffix}").with_columns(
                pl.lit(months * pop).alias(f"exposure_{suffix}")
            )
        )
    frame = rows[0].join(rows[1], on="category", how="full", coalesce=True)
    frame = frame.with_columns(
        pl.col("count_before").fill_null(0),
        pl.col("count_after").fill_null(0),
        pl.col("exposure_before").fill_null(strategy="max"),
        pl.col("exposure_after").fill_null(strategy="max"),
    )
    return changes_by_category(frame)


def rank_area(
    store: Store,
    area_name: str,
    from_: str,
    to: str,
    *,
    peers: str = "local-authorities",
    crime_types: list[str] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Rank an area among its peers on rate, with a simulated rank interval.

    ``crime_types`` limits the count to those types (default: every row, ASB included).
    """
    start, end = period(from_, to)
    area = areas_mod.resolve(store, area_name)
    coverage = _coverage(store, start, end)
    year = q.nearest_population_year(store, start, end)
    known = q.crime_types(store)
    for crime_type in crime_types or []:
        if crime_type not in known:
            raise InputError(f"--crime-type {crime_type!r}: expected one of " + ", ".join(known))
    if peers == "local-authorities":
        group, peer_areas, label = _local_authority_peers(store, area, year)
    elif peers == "lsoas":
        year = q.year_matching_codes(store, area, start, end)
        group, peer_areas, label = _lsoa_peers(store, area, year)
    else:
        raise InputError(f"--peers {peers!r}: expected 'local-authorities' or 'lsoas'")
    counts = dict(
        q.crime_counts(
            store,
            group,
            start,
            end,
            by=["local_authority" if peers == "local-authorities" else "lsoa_code"],
            crime_types=crime_types,
        ).iter_rows()
    )
    names, cnts, pops = [], [], []
    for name, pop in peer_areas:
        names.append(name)
        cnts.append(int(counts.get(name, 0)))
        pops.append(pop)
    table = rank_rates(names, cnts, pops, seed=seed)
    focus = table.filter(pl.col("name") == area.name).to_dicts()
    return {
        "area": area.name,
        "from": f"{start:%Y-%m}",
        "to": f"{end:%Y-%m}",
        **coverage,
        "crime_types": crime_types or "all",
        "peers": label,
        "n_peers": len(names),
        "population_year": year,
        "seed": seed,
        "rank": focus[0] if focus else None,
        "table": table.to_dicts(),
    }


def _local_authority_peers(
    store: Store, area: Area, year: int
) -> tuple[Area, list[tuple[str, float]], str]:
    force_areas = [a for a in areas_mod.list_areas(store) if a.kind == "force area"]
    for force in force_areas:
        if area.local_authorities and area.local_authorities <= force.local_authorities:
            peers = []
            for lad in sorted(force.local_authorities):
                lad_area = areas_mod.resolve(store, f"local authority:{lad}")
                peers.append((lad, q.population(store, lad_area, year).population))
            return force, peers, f"local authorities in the {force.name} force area"
    raise InputError(f"{area.name!r} is not a local authority in a force area with data")


def _lsoa_peers(store: Store, area: Area, year: int) -> tuple[Area, list[tuple[str, float]], str]:
    rows = q.lsoa_populations(store, areas_mod.lsoas_of(store, area), year)
    if len(rows) < 2:
        raise DataMissingError(f"fewer than two LSOAs of {area.name!r} have mid-{year} population")
    return area, [(c, float(p)) for c, p in rows], f"LSOAs in {area.name} (mid-{year} codes)"


def hotspots(
    store: Store,
    area_name: str,
    month: str,
    *,
    problem: str | None = None,
    cell_size: int = DEFAULT_CELL,
    seed: int = 0,
    permutations: int = PERMUTATIONS,
    alpha: float = ALPHA,
    limit: int = 10,
    emerging: int = 0,
) -> dict[str, Any]:
    """Gi* hot and cold cells for one month, the top places with their change, and with
    ``emerging`` > 0 the emerging-hotspot class of each cell over that many months.

    The grid is clipped to the area's LSOA boundaries when they are stored; without
    them it covers only the cells where the area had crime in any stored month, and
    says so (area shares are then not the area's true extent).
    """
    when = q.parse_month(month, "--month")
    _coverage(store, when, when)
    if not 1 <= permutations <= 99_999:
        raise InputError(f"--permutations {permutations}: expected 1 to 99999 (default 9999)")
    if not 0 < alpha < 1:
        raise InputError(f"--alpha {alpha}: expected a false-discovery rate between 0 and 1")
    if emerging and not 3 <= emerging <= 60:
        raise InputError(f"--emerging {emerging}: expected 3 to 60 months (or 0 for none)")
    area = areas_mod.resolve(store, area_name)
    types = problem_crime_types(problem) if problem else None
    grid, extent = _area_grid(store, area, cell_size)
    previous = (when - dt.timedelta(days=1)).replace(day=1)
    window = _months_back(when, max(emerging, 2))
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
        monthly = [gi_star(matrix[:, len(window) - emerging + t], grid, permutations=permutations,
                           seed=seed, alpha=alpha) for t in range(emerging)]  # fmt: skip
        hot = np.column_stack([g.label == "hot" for g in monthly])
        cold = np.column_stack([g.label == "cold" for g in monthly])
        zs = np.column_stack([g.z for g in monthly])
        rows: list[dict[str, Any]] = []
        for i in range(grid.n_cells):
            kind, trend, trend_p = classify(hot[i], cold[i], zs[i])
            if kind:
                rows.append({
                    "cell": labels[i], "longitude": round(float(lon[i]), 6),
                    "latitude": round(float(lat[i]), 6), "class": kind,
                    "hot_months": int(hot[i].sum()), "z_trend": trend,
                    "z_trend_p": round(trend_p, 4), "count_last": int(counts[i]),
                })  # fmt: skip
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


def _months_back(last: dt.date, n: int) -> list[dt.date]:
    """The ``n`` calendar months ending with ``last``, oldest first."""
    first = dt.date(last.year + (last.month - n) // 12, (last.month - n) % 12 + 1, 1)
    return q.month_range(first, last)


def _area_grid(store: Store, area: Area, cell_size: int) -> tuple[geo.Grid, str]:
    """The area's grid, and what bounds it: its boundary, or the cells it had crime in."""
    shape = q.area_shape(store, area)
    if shape is not None:
        return geo.grid_over(geo.shape_to_bng(shape), cell_size), "area boundary"
    everything = q.incidents(store, area, dt.date(1900, 1, 1), dt.date(2100, 1, 1))
    x, y = geo.to_bng(everything["longitude"].to_numpy(), everything["latitude"].to_numpy())
    return geo.grid_over_points(x, y, cell_size), "cells with any stored crime"


def _history(
    store: Store, area: Area, last: dt.date, types: list[str] | None, grid: geo.Grid
) -> tuple[list[dt.date], np.ndarray, pl.DataFrame]:
    """Every stored month up to ``last`` (gaps skipped, not zero-filled), counts per cell."""
    months = q.months_with_data(store, dt.date(1900, 1, 1), last)
    if not months:
        raise DataMissingError(f"no street-level crime data stored up to {last:%Y-%m}")
    incidents = q.incidents(store, area, months[0], last, crime_types=types)
    return months, cell_month_counts(incidents, grid, months), incidents


def forecast_cells(
    store: Store,
    area_name: str,
    cutoff: str,
    *,
    method: str = "glm",
    problem: str | None = None,
    cell_size: int = DEFAULT_CELL,
    limit: int = 20,
) -> dict[str, Any]:
    """Scores for the month after ``cutoff`` per cell and per place, highest first.

    Only months up to the cutoff are read. A place's score is its cell's score times the
    place's share of the cell's crimes over the last 12 stored months.
    """
    last = q.parse_month(cutoff, "--cutoff")
    if method not in METHODS:
        raise InputError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    area = areas_mod.resolve(store, area_name)
    types = problem_crime_types(problem) if problem else None
    grid, extent = _area_grid(store, area, cell_size)
    months, counts, incidents = _history(store, area, last, types, grid)
    if months[-1] != last:
        raise DataMissingError(f"--cutoff {cutoff}: that month is not stored (latest before it: "
                               f"{months[-1]:%Y-%m})")  # fmt: skip
    scores = forecast(method, counts, months, grid, last)
    centres = grid.centroids()
    lon, lat = geo.to_wgs84(centres[:, 0], centres[:, 1])
    labels = grid.labels()
    order = np.argsort(-scores, kind="stable")[:limit]
    recent = incidents.filter(pl.col("month") >= months[max(0, len(months) - 12)])
    x, y = geo.to_bng(recent["longitude"].to_numpy(), recent["latitude"].to_numpy())
    recent = recent.with_columns(pl.Series("cell", grid.cell_of(x, y))).filter(pl.col("cell") >= 0)
    per_place = recent.group_by(["location", "longitude", "latitude", "cell"]).agg(pl.len().alias("n"))
    cell_scores = pl.DataFrame({"cell": np.arange(grid.n_cells, dtype=np.int64), "cell_score": scores})
    per_place = (
        per_place.with_columns((pl.col("n") / pl.col("n").sum().over("cell")).alias("share"))
        .join(cell_scores, on="cell")
        .with_columns((pl.col("share") * pl.col("cell_score")).alias("score"))
    )
    target = q.month_range(last, last + dt.timedelta(days=31))[1]
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
            {"rank": r + 1, "cell": labels[i], "longitude": round(float(lon[i]), 6),
             "latitude": round(float(lat[i]), 6), "score": round(float(scores[i]), 4),
             "count_cutoff_month": int(counts[i, -1])}
            for r, i in enumerate(order)
        ],  # fmt: skip
        "places": per_place.sort(["score", "location"], descending=[True, False])
        .head(limit)
        .select(pl.col("location").alias("place"), "longitude", "latitude",
                pl.col("score").round(4), pl.col("n").alias("crimes_last_12_months"))
        .to_dicts(),  # fmt: skip
    }


def evaluate_forecasts(
    store: Store,
    area_name: str,
    from_: str,
    to: str,
    *,
    problem: str | None = None,
    methods: list[str] | None = None,
    cell_size: int = DEFAULT_CELL,
    seed: int = 0,
) -> dict[str, Any]:
    """Rolling-origin backtest: each stored month from..to is forecast from the months
    before it (its cutoff is the calendar month before, which must be stored)."""
    start, end = period(from_, to)
    chosen = methods or list(METHODS)
    for method in chosen:
        if method not in METHODS:
            raise InputError(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    area = areas_mod.resolve(store, area_name)
    types = problem_crime_types(problem) if problem else None
    grid, extent = _area_grid(store, area, cell_size)
    months, counts, _ = _history(store, area, end, types, grid)
    targets = [m for m in q.month_range(start, end) if m in months]
    cutoffs = [months[months.index(m) - 1] for m in targets if months.index(m) > 0
               and months[months.index(m) - 1] == (m - dt.timedelta(days=1)).replace(day=1)]  # fmt: skip
    skipped = [f"{m:%Y-%m}" for m in q.month_range(start, end)
               if m not in [months[months.index(c) + 1] for c in cutoffs]]  # fmt: skip
    if not cutoffs:
        raise DataMissingError(
            f"no month from {start:%Y-%m} to {end:%Y-%m} is stored together with the month "
            "before it: nothing to backtest"
        )
    results = backtest(counts, months, grid, cutoffs, chosen, seed=seed)
    summary = summarise(results, seed=seed)
    at5 = summary.filter(pl.col("coverage") == 0.05)
    pai5 = {r["method"]: r["pai"] for r in at5.to_dicts()}
    best = max(BASELINES, key=lambda b: pai5.get(b, -1.0)) if any(b in pai5 for b in BASELINES) else None
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
        "targets": [f"{months[months.index(c) + 1]:%Y-%m}" for c in cutoffs],
        "skipped": skipped,
        "grid": {"cell_size_m": grid.size, "cells": grid.n_cells, "extent": extent,
                 "origin_bng": [grid.x0, grid.y0]},  # fmt: skip
        "seed": seed,
        "summary": summary.to_dicts(),
        "best_baseline_pai5": best,
        "pai5_vs_best_baseline": ratios,
        "months": results.with_columns(pl.col("cutoff").dt.strftime("%Y-%m"),
                                       pl.col("target").dt.strftime("%Y-%m")).to_dicts(),
    }


def place_counts(
    store: Store, area_name: str, from_: str, to: str, *, problem: str | None = None
) -> pl.DataFrame:
    """Crimes per police.uk place, month and problem group in an area (located crimes only)."""
    start, end = period(from_, to)
    _coverage(store, start, end)
    area = areas_mod.resolve(store, area_name)
    types = problem_crime_types(problem) if problem else None
    return place_month_counts(q.incidents(store, area, start, end, crime_types=types))
