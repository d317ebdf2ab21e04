"""Assess a priority from the store: its place and problem before vs during, against the
rest of its ward (:mod:`beatbook.priorities.assess`), and close it with that assessment.

Which months are compared (:func:`assessment_windows`): the **selection** months are the
``RECENT_MONTHS`` calendar months before the month the priority was proposed for (the
months a proposal for that month is selected on); **before** is the ``before_months``
calendar months before them; **during** runs from adoption to the assessed month. Only
stored months count (a gap is left out, never a zero). The selection months are never
"before": a place is proposed because it just spiked, and the spike falls back by itself
(regression to the mean). The placebo benchmark (``benchmarks/placebo.py``) measures it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.errors import DataMissingError, InputError
from beatbook.months import add_months, months_back
from beatbook.priorities import lifecycle
from beatbook.priorities.assess import Assessment, difference_in_differences
from beatbook.priorities.evidence import RECENT_MONTHS, gather
from beatbook.reference import problem_groups
from beatbook.settings import BEFORE_MONTHS, BEFORE_MONTHS_RANGE
from beatbook.store import Store

Point = tuple[str, float, float]  # a police.uk snap point: location, longitude, latitude
POINT = ["location", "longitude", "latitude"]


@dataclass(frozen=True)
class Windows:
    """The stored months of each period, oldest first."""

    selection: list[dt.date]  # the months the proposal was selected on: compared apart
    before: list[dt.date]
    during: list[dt.date]

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "selection_months": [f"{m:%Y-%m}" for m in self.selection],
            "before_months": [f"{m:%Y-%m}" for m in self.before],
            "during_months": [f"{m:%Y-%m}" for m in self.during],
        }


def assessment_windows(
    stored: list[dt.date],
    proposed_for: dt.date,
    start: dt.date,
    until: dt.date,
    before_months: int = BEFORE_MONTHS,
) -> Windows:
    """The months a priority proposed for ``proposed_for``, adopted from ``start`` and assessed
    to ``until`` is compared over, among the ``stored`` months.

    Selection: the ``RECENT_MONTHS`` calendar months before ``proposed_for`` (before
    ``start`` too). Before: the ``before_months`` calendar months before those. During:
    ``start`` to ``until``. Months between ``proposed_for`` and a later adoption are in none.

    >>> d = dt.date
    >>> stored = [d(2021, m, 1) for m in range(1, 13)]
    >>> w = assessment_windows(stored, d(2021, 10, 1), d(2021, 10, 1), d(2021, 12, 1), 4)
    >>> [m.month for m in w.before], [m.month for m in w.selection], [m.month for m in w.during]
    ([3, 4, 5, 6], [7, 8, 9], [10, 11, 12])
    """
    have = set(stored)
    first_selected = min(add_months(proposed_for, -RECENT_MONTHS), start)
    selection = [
        m
        for m in months_back(add_months(proposed_for, -1), RECENT_MONTHS)
        if m in have and m < start
    ]
    before = [m for m in months_back(add_months(first_selected, -1), before_months) if m in have]
    during = [m for m in stored if start <= m <= until]
    return Windows(selection, before, during)


def monthly_counts(
    crimes: pl.DataFrame,
    ward: str,
    problem: str,
    own: set[Point],
    exclude: set[Point],
    months: list[dt.date],
) -> tuple[dict[dt.date, int], dict[dt.date, int], int]:
    """Crimes of ``problem`` a month at the priority's snap points (``own``) and at the
    comparison places (every other snap point of the ward, less ``exclude``: other
    priorities), over ``months`` (0 where none); and how many comparison points had any.

    ``crimes`` is :func:`~beatbook.priorities.evidence.gather`'s (month, ward, problem and
    the snap point's location, longitude and latitude)."""
    rows = crimes.filter(
        (pl.col("ward") == ward) & (pl.col("problem") == problem) & pl.col("month").is_in(months)
    ).select("month", *POINT)

    def flagged(points: set[Point], name: str) -> pl.DataFrame:
        return pl.DataFrame(
            [list(p) for p in points] if points else None,
            schema={"location": pl.Utf8, "longitude": pl.Float64, "latitude": pl.Float64},
            orient="row",
        ).with_columns(pl.lit(True).alias(name))

    rows = rows.join(flagged(own, "own"), on=POINT, how="left").join(
        flagged(exclude - own, "other"), on=POINT, how="left"
    )
    treated = rows.filter(pl.col("own").is_not_null())
    comparison = rows.filter(pl.col("own").is_null() & pl.col("other").is_null())

    def per_month(frame: pl.DataFrame) -> dict[dt.date, int]:
        n = dict(frame.group_by("month").len().iter_rows())
        return {m: int(n.get(m, 0)) for m in months}

    places = comparison.select(POINT).n_unique() if comparison.height else 0
    return per_month(treated), per_month(comparison), places


def assess_counts(
    treated: dict[dt.date, int],
    comparison: dict[dt.date, int],
    windows: Windows,
    alpha: float = 0.05,
    *,
    test: str = "quasi-poisson",
) -> Assessment:
    """The difference-in-differences of :func:`monthly_counts` over ``windows``."""

    def take(counts: dict[dt.date, int], months: list[dt.date]) -> list[int]:
        return [counts[m] for m in months]

    return difference_in_differences(
        take(treated, windows.before),
        take(treated, windows.during),
        take(comparison, windows.before),
        take(comparison, windows.during),
        alpha,
        treated_selection=take(treated, windows.selection),
        comparison_selection=take(comparison, windows.selection),
        test=test,
    )


def assess(
    store: Store, pid: int, until: dt.date, before_months: int = BEFORE_MONTHS
) -> dict[str, Any]:
    """Difference-in-differences for priority ``pid`` from its first adopted month to ``until``.

    Months: :func:`assessment_windows` (the months it was proposed on are compared apart,
    never as "before"). Comparison places: every other place in the same ward with crimes
    of the same problem that was not itself an adopted priority in those months.
    """
    BEFORE_MONTHS_RANGE.check(before_months, "--before-months")
    lifecycle.check_decision_month(store, until)
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
    windows = assessment_windows(stored, p["proposed_for"], start, until, before_months)
    if not windows.during or not windows.before:
        return _unassessable(
            p, "no stored months before it was proposed or while it was a priority"
        )
    area = areas_mod.resolve(store, p["area"])
    ev = gather(store, area, until, with_concerns=False)
    own = {(s["location"], s["longitude"], s["latitude"]) for s in p["snap_points"]}
    others = _other_priority_points(store, p, windows.before[0], until)
    months = sorted({*windows.before, *windows.selection, *windows.during})
    treated, comparison, places = monthly_counts(
        ev.crimes, p["ward"], p["problem"], own, others, months
    )
    result = assess_counts(treated, comparison, windows)
    return {
        "priority_id": pid,
        "place": p["label"],
        "ward": p["ward"],
        "problem": p["problem"],
        **windows.to_dict(),
        "comparison": f"other places in {p['ward']} with {p['problem']} crimes, "
        f"not priorities ({places} places)",
        **result.to_dict(),
    }


def _other_priority_points(
    store: Store, p: dict[str, Any], start: dt.date, end: dt.date
) -> set[Point]:
    """Snap points of other priorities adopted in the same area and problem in the period."""
    points = set()
    for other in lifecycle.list_priorities(store, area=p["area"]):
        if other["priority_id"] == p["priority_id"]:
            continue
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
