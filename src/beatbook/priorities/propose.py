"""Proposed priorities for an area: score candidates, explain each one, and set apart the
priorities already running.

What ``beatbook priorities propose`` reports: per ward, the best new (place, problem)
candidates with the parts of their score, a plain-English reason and the evidence behind
it (monthly counts, concerns, outcomes), and the ward's priorities already running (adopted
or continued, not closed) with this month's figures. A place and problem runs once at a
time: a running one is never proposed again as new, and the ward's new proposals fill from
the next best. A new candidate whose place and problem was closed last month says so.
Field names are documented in docs/cli.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.months import CALENDAR, add_months, parse_month, ym
from beatbook.priorities import lifecycle
from beatbook.priorities.evidence import (
    FORECAST_METHODS,
    Evidence,
    candidate,
    check_forecast_method,
    gather,
    place_forecasts,
    row_for,
)
from beatbook.priorities.score import Weights, score_candidates, top_per_ward
from beatbook.settings import CELL_SIZE, FORECAST_METHOD, PER_WARD, PER_WARD_RANGE
from beatbook.store import Store

# Evidence, gather and the forecasts live in evidence.py; backtests, the JAG pack and the
# desk import them from here too.
__all__ = [
    "FORECAST_METHODS",
    "Evidence",
    "gather",
    "place_forecasts",
    "propose",
    "propose_with_evidence",
]


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
    """The best ``per_ward`` new candidates of each ward of the area, from data up to
    ``month``, for the month after it, each with its parts, reason and evidence; and the
    priorities running there, refreshed from the same data."""
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
    """:func:`propose` and the evidence it was built from (for maps in the JAG pack).

    Each ward record is ``{"ward", "priorities": [new candidates, ranked 1..n],
    "running": [...]}``; a running entry has a candidate's fields plus ``priority_id``,
    ``status`` and ``since`` (the month it was adopted for), and is listed even when it
    scored nothing this month."""
    PER_WARD_RANGE.check(per_ward, "--per-ward")
    weights = weights or Weights()
    check_forecast_method(method)
    cutoff = parse_month(month, "--month", q.months_with_data(store, *CALENDAR))
    q.period_coverage(store, cutoff, cutoff)
    area = areas_mod.resolve(store, area_name)
    target = add_months(cutoff, 1)
    recorded = lifecycle.list_priorities(store, area=areas_mod.reference(area))
    running = _running(recorded, target)
    ev = gather(store, area, cutoff)
    problems = sorted(
        set(ev.crimes["problem"].unique().to_list()) | {p["problem"] for p in running}
    )
    forecasts = place_forecasts(store, ev, problems, method, cell_size)
    scored = score_candidates(ev.crimes, ev.concerns, forecasts, ev.recent, ev.baseline, weights)
    taken = pl.DataFrame(
        {
            "place_key": [p["place_key"] for p in running],
            "problem": [p["problem"] for p in running],
        },
        schema={"place_key": pl.Utf8, "problem": pl.Utf8},
    )
    top = top_per_ward(scored.join(taken, on=["place_key", "problem"], how="anti"), per_ward)
    closed = _closed(recorded, add_months(cutoff, -1), target)
    wards: dict[str, dict[str, Any]] = {}
    for row in top.to_dicts():
        c = candidate(ev, row)
        when = closed.get((c["place_key"], c["problem"]))
        if when is not None:
            c["closed_in"] = ym(when)
            c["reason"] = f"closed in {when:%B %Y}; proposed again because {c['reason']}"
        _ward(wards, row["ward"])["priorities"].append(c)
    for p in running:
        entry = candidate(ev, row_for(ev, scored, forecasts, p), p["snap_points"])
        since = lifecycle.running_since(p)
        entry.update(
            place=p["label"],
            rank=None,
            priority_id=p["priority_id"],
            status=p["status"],
            since=ym(since) if since else None,
        )
        _ward(wards, p["ward"])["running"].append(entry)
    result = {
        "area": {**area.to_dict(), "reference": areas_mod.reference(area)},
        "month": ym(cutoff),
        "for_month": ym(target),
        "recent_months": [ym(m) for m in ev.recent],
        "baseline_months": [ym(m) for m in ev.baseline],
        "forecast_method": method,
        "weights": weights.to_dict(),
        "candidates_scored": scored.height,
        "concerns_used": ev.concerns.height,
        "concerns_unmatched": ev.unmatched_concerns,
        "wards": list(wards.values()),
    }
    return result, ev


def _ward(wards: dict[str, dict[str, Any]], ward: str) -> dict[str, Any]:
    return wards.setdefault(ward, {"ward": ward, "priorities": [], "running": []})


def _running(recorded: list[dict[str, Any]], target: dt.date) -> list[dict[str, Any]]:
    """The priorities running by ``target`` (adopted for it or earlier, not closed), oldest
    first; of two for one place and problem (recorded before adoption refused it), the
    oldest."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for p in sorted(
        recorded, key=lambda p: (lifecycle.running_since(p) or target, p["priority_id"])
    ):
        since = lifecycle.running_since(p)
        if since is not None and since <= target:
            out.setdefault((p["place_key"], p["problem"]), p)
    return list(out.values())


def _closed(
    recorded: list[dict[str, Any]], first: dt.date, last: dt.date
) -> dict[tuple[str, str], dt.date]:
    """(place_key, problem) -> the month it was closed, for priorities closed from ``first``
    to ``last`` (the month before the data's last and the month proposed for)."""
    out: dict[tuple[str, str], dt.date] = {}
    for p in recorded:
        month = p["events"][-1]["month"]
        if p["status"] == "closed" and month is not None and first <= month <= last:
            key = (p["place_key"], p["problem"])
            out[key] = max(month, out.get(key, month))
    return out
