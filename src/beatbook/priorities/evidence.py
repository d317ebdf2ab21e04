"""The evidence behind a (place, problem) up to a month, read from the store once.

:func:`gather` reads an area's crimes with their ward, place and problem and the open
concerns of the recent months; :func:`place_forecasts` adds next month's expected crimes;
:func:`candidate` turns one scored row into the record a proposal shows (figures, reason,
evidence table); :func:`refresh` recomputes a running priority's figures and reason from the
latest data, which a continuation records (:func:`beatbook.priorities.lifecycle.decide`).
The months compared are always stored months: a month without data is left out, never a zero.
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
from beatbook.months import add_months, month_end, months_back, ym
from beatbook.priorities.naming import name_places
from beatbook.priorities.score import PARTS, Weights, score_candidates
from beatbook.priorities.wording import problem_label, reason
from beatbook.reference import harm_table
from beatbook.settings import ASB_HARM_DAYS, CELL_SIZE, FORECAST_METHOD
from beatbook.stats.change import compare_counts
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


def windows(history: list[dt.date], cutoff: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """The recent months (the ``RECENT_MONTHS`` calendar months to ``cutoff``) and the
    baseline (the ``BASELINE_MONTHS`` calendar months before them), each only those stored.

    >>> d = dt.date
    >>> stored = [d(2021, m, 1) for m in (1, 2, 3, 5, 6)]
    >>> recent, baseline = windows(stored, d(2021, 6, 1))
    >>> [m.month for m in recent], [m.month for m in baseline]
    ([5, 6], [1, 2, 3])
    """
    have = set(history)
    recent = [m for m in months_back(cutoff, RECENT_MONTHS) if m in have]
    window = months_back(add_months(months_back(cutoff, RECENT_MONTHS)[0], -1), BASELINE_MONTHS)
    return recent, [m for m in window if m in have]


def gather(store: Store, area: Area, cutoff: dt.date, *, with_concerns: bool = True) -> Evidence:
    """Crimes up to ``cutoff`` with their ward and place, and the open concerns of the
    recent months. Missing months are left out of both windows, not counted as zero."""
    history = q.months_with_data(store, dt.date(1900, 1, 1), cutoff)
    if not history or history[-1] != cutoff:
        raise DataMissingError(f"--month {cutoff:%Y-%m}: no street-level crime stored for it")
    recent, baseline = windows(history, cutoff)
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


def unbroken(history: list[dt.date]) -> list[dt.date]:
    """The stored months since the last gap, oldest first.

    A forecaster reads its columns as consecutive months, so two months either side of a
    gap must not be given to it as neighbours: with 2020-2021 and 2025 stored, a forecast
    fitted on all of them averaged four-year-old months into next month's level.

    >>> d = dt.date
    >>> [m.month for m in unbroken([d(2021, 1, 1), d(2021, 2, 1), d(2021, 4, 1), d(2021, 5, 1)])]
    [4, 5]
    """
    start = len(history) - 1
    while start > 0 and add_months(history[start - 1], 1) == history[start]:
        start -= 1
    return history[max(start, 0) :]


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
    group over the stored months since the last gap (:func:`unbroken`), shared among each
    cell's places by their crimes in the last 12 of those months.

    Without boundaries the grid is the cells with crime up to ``grid_up_to`` (default the
    cutoff; a backtest passes its first cutoff so every fold shares one grid)."""
    check_forecast_method(method)
    grid, _ = q.area_grid(store, ev.area, cell_size, grid_up_to or ev.cutoff)
    months = unbroken(ev.history)
    since = months[max(0, len(months) - 12)]
    frames = []
    for problem in problems:
        rows = ev.crimes.filter(pl.col("problem") == problem)
        if rows.is_empty():
            continue
        counts = cell_month_counts(rows, grid, months)
        scores = forecast(method, counts, months, grid, ev.cutoff)
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


def _at(place_key: str, problem: str) -> pl.Expr:
    return (pl.col("place_key") == place_key) & (pl.col("problem") == problem)


def row_for(
    ev: Evidence, scored: pl.DataFrame, forecasts: pl.DataFrame, p: dict[str, Any]
) -> dict[str, Any]:
    """The scored row of priority ``p``'s (place_key, problem), or, when it scored nothing
    this month (no recent crimes or concerns), its figures with no recent crimes: the
    baseline, the same exact test of the change and the forecast, every part zero."""
    found = scored.filter(_at(p["place_key"], p["problem"]))
    if found.height:
        return found.row(0, named=True)
    before = ev.crimes.filter(
        _at(p["place_key"], p["problem"]) & pl.col("month").is_in(ev.baseline)
    )
    expected = forecasts.filter(_at(p["place_key"], p["problem"]))["forecast"]
    change = (
        compare_counts(before.height, 0, len(ev.baseline), len(ev.recent)) if ev.baseline else None
    )
    return {
        "ward": p["ward"],
        "place_key": p["place_key"],
        "place": p["place"],
        "problem": p["problem"],
        "score": 0.0,
        **{f"part_{part}": 0.0 for part in PARTS},
        "origin": p["origin"],
        "crimes_recent": 0,
        "per_month_recent": 0.0,
        "per_month_baseline": before.height / max(len(ev.baseline), 1),
        "harm_per_month": 0.0,
        "change_direction": change.direction if change else "no baseline",
        "change_p": change.p_value if change else None,
        "forecast": float(expected[0]) if len(expected) else 0.0,
        "concerns": 0,
        "concern_problems": [],
        "concern_sources": [],
    }


def candidate(
    ev: Evidence, row: dict[str, Any], snap_points: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One (place, problem) as a proposal's record: figures, parts, reason, evidence, snap
    points (``snap_points`` where the store has none under its place_key)."""
    at = _at(row["place_key"], row["problem"])
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
    points = ev.points.filter(pl.col("place_key") == row["place_key"]).select(
        "location", "longitude", "latitude"
    )
    if points.is_empty() and snap_points:
        points = pl.DataFrame(snap_points).select("location", "longitude", "latitude")
    recent, baseline = [ym(m) for m in ev.recent], [ym(m) for m in ev.baseline]
    return {
        "rank": row.get("rank"),
        "ward": row["ward"],
        "place": row["place"],
        "place_key": row["place_key"],
        "problem": row["problem"],
        "problem_label": problem_label(row["problem"]),
        "score": round(row["score"], 3),
        "parts": {p: round(row[f"part_{p}"], 3) for p in PARTS},
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
        "reason": reason(row, recent, baseline, ym(unbroken(ev.history)[0])),
        "evidence": {
            "months": [
                {
                    "month": ym(m),
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
        "longitude": _mean(points["longitude"]),
        "latitude": _mean(points["latitude"]),
        "snap_points": points.to_dicts(),
    }


def _mean(values: pl.Series) -> float | None:
    return round(float(values.mean()), 6) if len(values) else None  # type: ignore[arg-type]


def refresh(
    store: Store,
    p: dict[str, Any],
    month: dt.date,
    *,
    method: str = FORECAST_METHOD,
    cell_size: int = CELL_SIZE,
) -> dict[str, Any] | None:
    """Priority ``p``'s figures and reason from the data to the month before ``month`` (the
    latest stored by then), as :func:`candidate` words them: what a continuation into
    ``month`` records, so its reason stays current. None when no data is stored by then or
    its area is no longer defined (the continuation is recorded without figures)."""
    stored = q.months_with_data(store, dt.date(1900, 1, 1), add_months(month, -1))
    if not stored:
        return None
    try:
        area = areas_mod.resolve(store, p["area"])
    except InputError:
        return None
    ev = gather(store, area, stored[-1])
    at = _at(p["place_key"], p["problem"])
    forecasts = place_forecasts(store, ev, [p["problem"]], method, cell_size)
    scored = score_candidates(
        ev.crimes.filter(at), ev.concerns.filter(at), forecasts, ev.recent, ev.baseline, Weights()
    )
    entry = candidate(ev, row_for(ev, scored, forecasts, p), p["snap_points"])
    return {
        "data_to": ym(ev.cutoff),
        "recent_months": [ym(m) for m in ev.recent],
        "baseline_months": [ym(m) for m in ev.baseline],
        "figures": entry["figures"],
        "reason": entry["reason"],
    }
