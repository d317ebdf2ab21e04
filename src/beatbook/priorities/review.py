"""Assess a priority from the store: its place and problem before vs during, against the
rest of its ward (:mod:`beatbook.priorities.assess`), and close it with that assessment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.errors import DataMissingError, InputError
from beatbook.months import months_back
from beatbook.priorities import lifecycle
from beatbook.priorities.assess import difference_in_differences
from beatbook.priorities.propose import gather
from beatbook.reference import problem_groups
from beatbook.settings import BEFORE_MONTHS, BEFORE_MONTHS_RANGE
from beatbook.store import Store


def assess(
    store: Store, pid: int, until: dt.date, before_months: int = BEFORE_MONTHS
) -> dict[str, Any]:
    """Difference-in-differences for priority ``pid`` from its first adopted month to ``until``.

    Before: the ``before_months`` stored months before adoption. Comparison places:
    every other place in the same ward with crimes of the same problem that was not
    itself an adopted priority in those months. Only stored months count.
    """
    BEFORE_MONTHS_RANGE.check(before_months, "--before-months")
    p = lifecycle.priority(store, pid)
    start = lifecycle.adopted_month(store, pid)
    if start is None:
        raise InputError(f"priority {pid} was never adopted: there is nothing to assess")
    if until < start:
        raise InputError(
            f"--month {until:%Y-%m} is before priority {pid} was adopted ({start:%Y-%m})"
        )
    if p["problem"] not in problem_groups():
        return _unassessable(p, f"{p['problem']} is not recorded in police.uk data")
    stored = q.months_with_data(store, dt.date(1900, 1, 1), until)
    if not stored or stored[-1] < until:
        raise DataMissingError(f"--month {until:%Y-%m}: no street-level crime stored for it yet")
    during = [m for m in stored if start <= m <= until]
    before = [m for m in months_back(start - dt.timedelta(days=1), before_months) if m in stored]
    if not during or not before:
        return _unassessable(p, "no stored months before or during the priority")
    area = areas_mod.resolve(store, p["area"])
    ev = gather(store, area, until, with_concerns=False)
    rows = ev.crimes.filter((pl.col("problem") == p["problem"]) & (pl.col("ward") == p["ward"]))
    own = {(s["location"], s["longitude"], s["latitude"]) for s in p["snap_points"]}
    others = _other_priority_points(store, p, before[0], until) - own
    point = pl.struct("location", "longitude", "latitude")
    is_own = point.map_elements(
        lambda s: (s["location"], s["longitude"], s["latitude"]) in own, return_dtype=pl.Boolean
    )
    is_other = point.map_elements(
        lambda s: (s["location"], s["longitude"], s["latitude"]) in others, return_dtype=pl.Boolean
    )
    rows = rows.with_columns(is_own.alias("own"), is_other.alias("other_priority"))
    treated = rows.filter(pl.col("own"))
    comparison = rows.filter(~pl.col("own") & ~pl.col("other_priority"))

    def n(frame: pl.DataFrame, months: list[dt.date]) -> int:
        return frame.filter(pl.col("month").is_in(months)).height

    result = difference_in_differences(
        n(treated, before),
        n(treated, during),
        n(comparison, before),
        n(comparison, during),
        len(before),
        len(during),
    )
    return {
        "priority_id": pid,
        "place": p["label"],
        "ward": p["ward"],
        "problem": p["problem"],
        "before_months": [f"{m:%Y-%m}" for m in before],
        "during_months": [f"{m:%Y-%m}" for m in during],
        "comparison": f"other places in {p['ward']} with {p['problem']} crimes, "
        f"not priorities ({comparison.select('location', 'longitude', 'latitude').n_unique()} places)",
        **result.to_dict(),
    }


def _other_priority_points(
    store: Store, p: dict[str, Any], start: dt.date, end: dt.date
) -> set[tuple[str, float, float]]:
    """Snap points of other priorities adopted in the same area and problem in the period."""
    points = set()
    for other in lifecycle.list_priorities(store, area=p["area"]):
        months = [e["month"] for e in other["events"] if e["action"] in ("adopted", "continued")]
        if (
            other["problem"] == p["problem"]
            and months
            and min(months) <= end
            and max(months) >= start
        ):
            points |= {(s["location"], s["longitude"], s["latitude"]) for s in other["snap_points"]}
    return points


def _unassessable(p: dict[str, Any], why: str) -> dict[str, Any]:
    return {
        "priority_id": p["priority_id"],
        "place": p["label"],
        "ward": p["ward"],
        "problem": p["problem"],
        "verdict": "not assessable",
        "wording": f"not assessable: {why}",
    }


def close(
    store: Store,
    pid: int,
    actor: str,
    until: dt.date,
    before_months: int = BEFORE_MONTHS,
    note: str | None = None,
) -> dict[str, Any]:
    """Assess the priority up to ``until`` and record its closing with the assessment."""
    lifecycle.check_transition(store, pid, "closed")
    result = assess(store, pid, until, before_months)
    lifecycle.decide(
        store, pid, "closed", actor, month=until, details={"note": note, "assessment": result}
    )
    return result
