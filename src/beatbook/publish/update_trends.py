"""The community update's pictures, built from what was read for it: a trend chart per
priority that counts its own place, and the map of the wards with the priority places and
the street names near them.

Each trend note says in plain words whether the place's last three months differ from the
same months a year before (or, where those are not published, the three months before):
"a clear rise", "a clear fall" or "no clear change". The counts, the test and its p-value
go to the methods note (``method``), never into the sentence a resident reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from beatbook import geo
from beatbook.charts import update as charts
from beatbook.charts import update_map
from beatbook.months import add_months, months_back
from beatbook.priorities.wording import month_span, problem_label
from beatbook.stats import compare_monthly_counts
from beatbook.stats.wording import format_p

Priorities = Sequence[dict[str, Any]]  # the month's priorities (figures.public.current)
StreetPoints = Sequence[tuple[str, float, float]]  # a street name and its snap point

PLAIN = {"rise": "a clear rise", "fall": "a clear fall"}
NO_CHANGE = "no clear change"
STREETS_NEAR = 400.0  # metres: street names drawn around a priority place
STREETS_EACH = 3  # street names at most around each place


@dataclass(frozen=True)
class TrendCounts:
    """Crimes of each current priority's problem at its own snap points, by month."""

    months: tuple[dt.date, ...]  # the chart's months, to the latest stored
    recent: tuple[dt.date, ...]  # the last months, compared with earlier ones in the notes
    stored: frozenset[dt.date]  # months with published data, from the comparison's first
    recorded: frozenset[str]  # the problems police.uk data records (the others have no chart)
    places: Mapping[int, Mapping[dt.date, int]]  # priority id -> month -> crimes at its place


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def priority_trends(
    current: Priorities, trend: TrendCounts | None
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """One 13-month chart per current priority of its problem at its own snap points, with
    its note in plain words and the test behind it for the methods note."""
    if not current or trend is None:
        return [], {}
    months = list(trend.months)
    labels = [f"{m:%Y-%m}" for m in months]
    rows, images = [], {}
    for c in current:
        label = problem_label(c["problem"])
        row: dict[str, Any] = {
            "id": c["id"],
            "number": c["number"],
            "ward": c["ward"],
            "place": c["place"],
            "problem": c["problem"],
            "title": f"{c['number']}. {c['place']}: {label}",
            "image": None,
            "alt": None,
            "months": labels,
            "counts": None,
            "method": None,
        }
        if c["problem"] not in trend.recorded:
            row["note"] = (
                f"{label.capitalize()} is not recorded in police.uk data, so it has no chart."
            )
            rows.append(row)
            continue
        counts = trend.places.get(c["id"], {})
        values = tuple(counts.get(m, 0) if m in trend.stored else None for m in months)
        series = charts.Series(label.capitalize(), values)
        name = f"trend-{c['number']}-{_slug(c['place'])}.png"
        images[name] = charts.priority_trend_chart(labels, series, row["title"])
        note, method = _note(c["place"], label, counts, list(trend.recent), trend.stored)
        row |= {
            "image": name,
            "alt": charts.priority_trend_alt(f"at {c['place']}", labels, series),
            "counts": list(values),
            "note": note,
            "method": method,
        }
        rows.append(row)
    return rows, images


def _note(
    place: str,
    label: str,
    counts: Mapping[dt.date, int],
    recent: list[dt.date],
    stored: frozenset[dt.date],
) -> tuple[str, str | None]:
    """The last three months at the place against the same months a year before, or the
    three months before, tested on the monthly counts
    (:func:`~beatbook.stats.compare_monthly_counts`): the resident's sentence and the
    methods note's line."""
    now = sum(counts.get(m, 0) for m in recent)
    span = month_span([f"{recent[0]:%Y-%m}", f"{recent[-1]:%Y-%m}"])
    year_ago = months_back(add_months(recent[-1], -12), len(recent))
    just_before = months_back(add_months(recent[0], -1), len(recent))
    for earlier, against in (
        (year_ago, "the same months a year before"),
        (just_before, "the three months before"),
    ):
        if not all(m in stored for m in recent + earlier):
            continue
        before = sum(counts.get(m, 0) for m in earlier)
        said = f"{label.capitalize()} at {place}: {now} recorded in {span}, {before} in {against}"
        if before == 0 and now == 0:
            return f"{said}.", None
        if before == 0:
            return f"{said}: too few before to compare.", None
        change = compare_monthly_counts(
            {m: counts.get(m, 0) for m in earlier}, {m: counts.get(m, 0) for m in recent}
        )
        plain = PLAIN.get(change.direction, NO_CHANGE)
        test = (
            "exact test for two Poisson counts"
            if change.dispersion == 1
            else f"quasi-Poisson test (dispersion {change.dispersion:.1f})"
        )
        method = (
            f"{place}, {label}, {span} against {against}: {before} to {now} "
            f"({change.pct_change:+.0f}%), {test}, {format_p(change.p_value, change.alpha)}."
        )
        return f"{said}: {plain}.", method
    unpublished = "earlier months to compare with are not published"
    return f"{label.capitalize()} at {place}: {now} recorded in {span}; {unpublished}.", None


def nearby_streets(current: Priorities, streets: StreetPoints) -> list[update_map.Street]:
    """Up to :data:`STREETS_EACH` police.uk street names within :data:`STREETS_NEAR` metres of
    each priority place, nearest first, each name once and never the place's own."""
    places = [c for c in current if c["longitude"] is not None]
    if not places or not streets:
        return []
    names = [s[0] for s in streets]
    sx, sy = geo.to_bng(np.array([s[1] for s in streets]), np.array([s[2] for s in streets]))
    px, py = geo.to_bng(
        np.array([c["longitude"] for c in places]), np.array([c["latitude"] for c in places])
    )
    chosen: dict[str, update_map.Street] = {}
    own = {c["place"].casefold() for c in places}
    for x, y in zip(px, py, strict=True):
        distance = np.hypot(sx - x, sy - y)
        taken = 0
        for i in np.argsort(distance, kind="stable"):
            if distance[i] > STREETS_NEAR or taken == STREETS_EACH:
                break
            name = names[i]
            if name in chosen or any(name.casefold() in o for o in own):
                continue
            chosen[name] = update_map.Street(name, streets[i][1], streets[i][2])
            taken += 1
    return list(chosen.values())


def team_map(
    area_name: str,
    wards: Sequence[tuple[str, BaseGeometry]],
    current: Priorities,
    streets: StreetPoints,
) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
    """The team area's wards (outlines from the stored LSOA boundaries) with the places and
    the street names near them."""
    if not wards:
        return None, {}
    places = [
        update_map.Place(c["number"], c["place"], c["longitude"], c["latitude"])
        for c in current
        if c["longitude"] is not None
    ]
    names = [w for w, _ in wards]
    near = nearby_streets(current, streets)
    image = update_map.team_map(area_name, wards, places, near)
    alt = update_map.map_alt(area_name, names, places)
    return {
        "image": "map.png",
        "alt": alt,
        "wards": names,
        "streets": [s.name for s in near],
    }, {"map.png": image}
