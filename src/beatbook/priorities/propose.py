"""Proposed priorities for an area: read the store, score candidates, explain each one.

What ``beatbook priorities propose`` reports: per ward, the best (place, problem)
candidates with the parts of their score, a plain-English reason and the evidence
behind it (monthly counts, concerns, outcomes), as records with the field names
documented in docs/cli.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.concerns.records import PUBLIC_COLUMNS, concerns_in
from beatbook.errors import DataMissingError, InputError
from beatbook.hotspots.forecast import forecast
from beatbook.hotspots.grid import cell_month_counts
from beatbook.hotspots.places import spread_to_places
from beatbook.months import CALENDAR, add_months, month_end, months_back, parse_month
from beatbook.priorities.naming import name_places
from beatbook.priorities.score import Weights, score_candidates, top_per_ward
from beatbook.priorities.wording import problem_label, reason
from beatbook.reference import harm_table
from beatbook.settings import ASB_HARM_DAYS, CELL_SIZE, FORECAST_METHOD, PER_WARD, PER_WARD_RANGE
from beatbook.store import Store

RECENT_MONTHS = 3
BASELINE_MONTHS = 12
# Methods whose scores are expected crimes (the GLM, KDE and prospective scores rank cells
# well but are not counts, so they cannot be read as "about N expected next month").
FORECAST_METHODS = ("sepp", "mean-3", "mean-6", "mean-12", "last-month")


@dataclass
class Evidence:
    """Everything read from the store for one area and cutoff month."""

    area: Area
    cutoff: dt.date
    recent: list[dt.date]
    baseline: list[dt.date]
    history: list[dt.date]
    crimes: pl.DataFrame  # month, crime_type, location, longitude, latitude, last_outcome, ward, place_key, place, problem
    concerns: (
        pl.DataFrame
    )  # concern_id, reported_on, ward, place_key, place, problem, problem_label, source
    unmatched_concerns: int
    points: pl.DataFrame  # location, longitude, latitude, ward, place_key, place


def gather(store: Store, area: Area, cutoff: dt.date, *, with_concerns: bool = True) -> Evidence:
    """Crimes up to ``cutoff`` with their ward and place, and the open concerns of the
    recent months. Missing months are left out of both windows, not counted as zero."""
    history = q.months_with_data(store, dt.date(1900, 1, 1), cutoff)
    if not history or history[-1] != cutoff:
        raise DataMissingError(f"--month {cutoff:%Y-%m}: no street-level crime stored for it")
    recent = [m for m in months_back(cutoff, RECENT_MONTHS) if m in history]
    window = months_back(recent[0] - dt.timedelta(days=1), BASELINE_MONTHS)
    baseline = [m for m in window if m in history]
    crimes = q.incidents(store, area, history[0], cutoff, with_outcome=True)
    concerns = _concerns(store, area, recent, cutoff) if with_concerns else _no_concerns()
    unmatched = concerns.filter(pl.col("place").is_null()).height
    concerns = concerns.filter(pl.col("place").is_not_null())
    wards = q.ward_labels(
        store, [*crimes["lsoa_code"].drop_nulls(), *concerns["lsoa_code"].drop_nulls()]
    )
    wards = wards.select("lsoa_code", "ward")
    crimes = crimes.join(wards, on="lsoa_code", how="left")
    concerns = concerns.join(wards, on="lsoa_code", how="left")
    points = name_places(
        pl.concat(
            [
                crimes.select("location", "longitude", "latitude", "ward"),
                concerns.select(pl.col("place").alias("location"), "longitude", "latitude", "ward"),
            ]
        ).with_columns(pl.col("ward").fill_null("unknown ward"))
    )
    on = ["location", "longitude", "latitude"]
    crimes = (
        crimes.with_columns(pl.col("ward").fill_null("unknown ward"))
        .join(points.drop("ward"), on=on, how="left")
        .join(
            harm_table(asb_harm_days=ASB_HARM_DAYS).select("crime_type", "problem"),
            on="crime_type",
            how="left",
        )
        .with_columns(pl.col("problem").fill_null("other"))
    )
    concerns = concerns.rename({"place": "location"}).join(points.drop("ward"), on=on, how="left")
    return Evidence(area, cutoff, recent, baseline, history, crimes, concerns, unmatched, points)


# The concerns a proposal weighs: their place, problem and how they were reported.
CONCERN_COLUMNS = (
    "concern_id",
    "reported_on",
    "place",
    "longitude",
    "latitude",
    "lsoa_code",
    "problem",
    "problem_label",
    "source",
)


def _concerns(store: Store, area: Area, recent: list[dt.date], cutoff: dt.date) -> pl.DataFrame:
    """Open concerns reported in the recent months; problem is the crime group they weigh
    with, or their own category when none (speeding, parking)."""
    end = month_end(cutoff)
    frame = concerns_in(store, area, recent[0], end, status="open")
    problem = pl.coalesce("problem_group", "problem").alias("problem")
    return frame.with_columns(problem).select(CONCERN_COLUMNS)


def _no_concerns() -> pl.DataFrame:
    return pl.DataFrame(schema={c: PUBLIC_COLUMNS[c] for c in CONCERN_COLUMNS})


def check_forecast_method(method: str) -> str:
    if method not in FORECAST_METHODS:
        raise InputError(
            f"--forecast-method {method!r}: expected one of {', '.join(FORECAST_METHODS)} "
            "(methods whose forecasts are expected crimes)"
        )
    return method


def place_forecasts(
    store: Store,
    ev: Evidence,
    problems: list[str],
    method: str,
    cell_size: int,
    *,
    grid_up_to: dt.date | None = None,
) -> pl.DataFrame:
    """Expected crimes next month per place and problem: a grid forecast per problem
    group over every stored month, shared among each cell's places by recent crimes.

    Without boundaries the grid is the cells with crime up to ``grid_up_to`` (default the
    cutoff; a backtest passes its first cutoff so every fold shares one grid)."""
    check_forecast_method(method)
    grid, _ = q.area_grid(store, ev.area, cell_size, grid_up_to or ev.cutoff)
    since = ev.history[max(0, len(ev.history) - 12)]
    frames = []
    for problem in problems:
        rows = ev.crimes.filter(pl.col("problem") == problem)
        if rows.is_empty():
            continue
        counts = cell_month_counts(rows, grid, ev.history)
        scores = forecast(method, counts, ev.history, grid, ev.cutoff)
        frames.append(
            spread_to_places(rows, grid, scores, since)
            .join(
                ev.points.select("location", "longitude", "latitude", "place_key"),
                on=["location", "longitude", "latitude"],
            )
            .group_by("place_key")
            .agg(pl.col("score").sum().alias("forecast"))
            .with_columns(pl.lit(problem).alias("problem"))
        )
    if not frames:
        return pl.DataFrame(
            schema={"place_key": pl.Utf8, "forecast": pl.Float64, "problem": pl.Utf8}
        )
    return pl.concat(frames)


def propose(
    store: Store,
    area_name: str,
    month: str,
    *,
    per_ward: int = PER_WARD,
    weights: Weights | None = None,
    method: str = FORECAST_METHOD,
    cell_size: int = CELL_SIZE,
) -> dict[str, Any]:
    """The best ``per_ward`` candidates of each ward of the area, from data up to ``month``,
    for the month after it, each with its parts, reason and evidence."""
    return propose_with_evidence(
        store,
        area_name,
        month,
        per_ward=per_ward,
        weights=weights,
        method=method,
        cell_size=cell_size,
    )[0]


def propose_with_evidence(
    store: Store,
    area_name: str,
    month: str,
    *,
    per_ward: int = PER_WARD,
    weights: Weights | None = None,
    method: str = FORECAST_METHOD,
    cell_size: int = CELL_SIZE,
) -> tuple[dict[str, Any], Evidence]:
    """:func:`propose` and the evidence it was built from (for maps in the JAG pack)."""
    PER_WARD_RANGE.check(per_ward, "--per-ward")
    weights = weights or Weights()
    check_forecast_method(method)
    cutoff = parse_month(month, "--month", q.months_with_data(store, *CALENDAR))
    q.period_coverage(store, cutoff, cutoff)
    area = areas_mod.resolve(store, area_name)
    ev = gather(store, area, cutoff)
    problems = sorted(set(ev.crimes["problem"].unique().to_list()))
    forecasts = place_forecasts(store, ev, problems, method, cell_size)
    scored = score_candidates(ev.crimes, ev.concerns, forecasts, ev.recent, ev.baseline, weights)
    top = top_per_ward(scored, per_ward)
    wards: dict[str, list[dict[str, Any]]] = {}
    for row in top.to_dicts():
        wards.setdefault(row["ward"], []).append(_candidate(ev, row))
    target = add_months(cutoff, 1)
    result = {
        "area": {**area.to_dict(), "reference": areas_mod.reference(area)},
        "month": f"{cutoff:%Y-%m}",
        "for_month": f"{target:%Y-%m}",
        "recent_months": [f"{m:%Y-%m}" for m in ev.recent],
        "baseline_months": [f"{m:%Y-%m}" for m in ev.baseline],
        "forecast_method": method,
        "weights": weights.to_dict(),
        "candidates_scored": scored.height,
        "concerns_used": ev.concerns.height,
        "concerns_unmatched": ev.unmatched_concerns,
        "wards": [{"ward": w, "priorities": c} for w, c in wards.items()],
    }
    return result, ev


def _candidate(ev: Evidence, row: dict[str, Any]) -> dict[str, Any]:
    """One proposed priority as a record: figures, parts, reason, evidence, snap points."""
    at = (pl.col("place_key") == row["place_key"]) & (pl.col("problem") == row["problem"])
    crimes = ev.crimes.filter(at)
    concerns = ev.concerns.filter(at)
    shown = ev.history[-(len(ev.baseline) + len(ev.recent)) :]
    monthly = crimes.group_by("month").agg(pl.len().alias("count"))
    counts = dict(zip(monthly["month"].to_list(), monthly["count"].to_list(), strict=True))
    outcomes = (
        crimes.filter(pl.col("month").is_in(ev.recent))
        .group_by(pl.col("last_outcome").fill_null("(none recorded)").alias("outcome"))
        .agg(pl.len().alias("count"))
        .sort(["count", "outcome"], descending=[True, False])
    )
    points = ev.points.filter(pl.col("place_key") == row["place_key"])
    return {
        "rank": row["rank"],
        "ward": row["ward"],
        "place": row["place"],
        "place_key": row["place_key"],
        "problem": row["problem"],
        "problem_label": problem_label(row["problem"]),
        "score": round(row["score"], 3),
        "parts": {
            p: round(row[f"part_{p}"], 3) for p in ("volume", "change", "forecast", "concerns")
        },
        "origin": row["origin"],
        "figures": {
            "crimes_recent": row["crimes_recent"],
            "per_month_recent": round(row["per_month_recent"], 2),
            "per_month_baseline": round(row["per_month_baseline"], 2),
            "harm_per_month": round(row["harm_per_month"], 1),
            "change_direction": row["change_direction"],
            "change_p": row["change_p"],
            "forecast": round(row["forecast"], 2),
            "concerns": row["concerns"],
            "concern_problems": row["concern_problems"],
        },
        "reason": reason(row),
        "evidence": {
            "months": [
                {
                    "month": f"{m:%Y-%m}",
                    "count": counts.get(m, 0),
                    "window": "recent" if m in ev.recent else "baseline",
                }
                for m in shown
            ],
            "concerns": [
                {
                    "id": c["concern_id"],
                    "reported_on": f"{c['reported_on']:%Y-%m-%d}",
                    "problem": c["problem_label"],
                    "source": c["source"],
                }
                for c in concerns.sort("reported_on").to_dicts()
            ],
            "outcomes": outcomes.to_dicts(),
        },
        "longitude": round(float(points["longitude"].mean()), 6),  # type: ignore[arg-type]
        "latitude": round(float(points["latitude"].mean()), 6),  # type: ignore[arg-type]
        "snap_points": points.select("location", "longitude", "latitude").to_dicts(),
    }
