"""What residents may read about priorities: this month's, by ward, with why in plain words.

The community update (:mod:`beatbook.publish.update`), the public web pages and the JSON
API all list a month's priorities the same way: those adopted or continued for the month
(a priority runs from the month it was adopted to its last continued or closing month),
numbered by ward then place, with the place's label (the latest edit), the problem in
words and :func:`~beatbook.priorities.wording.public_reason`. Never a score or its parts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from beatbook import queries as q
from beatbook.areas import reference, resolve
from beatbook.errors import InputError
from beatbook.months import CALENDAR, month_range, ym
from beatbook.priorities import lifecycle, team
from beatbook.priorities.evidence import windows
from beatbook.priorities.wording import problem_label, public_reason
from beatbook.store import Store

__all__ = [
    "current",
    "current_by_area",
    "latest_facts",
    "latest_running_month",
    "running_months",
]


def running_months(p: dict[str, Any]) -> list[dt.date]:
    """The months a priority ran: from its adoption to its last continued (or closing) month."""
    months = [
        e["month"] for e in p["events"] if e["action"] in ("adopted", "continued") and e["month"]
    ]
    if not months:
        return []
    end = max(months)
    if p["status"] == "closed" and p["events"][-1]["month"]:
        end = max(end, p["events"][-1]["month"])
    return month_range(min(months), end)


def latest_facts(
    p: dict[str, Any], month: dt.date, stored: Sequence[dt.date] | None = None
) -> tuple[dict[str, Any] | None, list[str] | None, list[str] | None]:
    """The figures, recent months and baseline months of priority ``p``'s latest event up to
    ``month`` that has figures: a continuation's (recomputed from the data then) or else
    the proposal's. A record saved before baseline months were kept gets them from
    ``stored`` (the months with data) when given, else None."""
    for e in reversed(p["events"]):
        details = e["details"]
        if details.get("figures") and (e["month"] is None or e["month"] <= month):
            recent, baseline = details.get("recent_months"), details.get("baseline_months")
            if recent and baseline is None and stored is not None:
                last = dt.date.fromisoformat(recent[-1] + "-01")
                baseline = [ym(m) for m in windows([m for m in stored if m <= last], last)[1]]
            return details["figures"], recent, baseline
    return None, None, None


def _centre(points: list[dict[str, Any]]) -> dict[str, float | None]:
    """Where a place goes on the map: the mean of its snap points (none for a place without)."""
    if not points:
        return {"longitude": None, "latitude": None}
    return {
        "longitude": sum(s["longitude"] for s in points) / len(points),
        "latitude": sum(s["latitude"] for s in points) / len(points),
    }


def current(
    priorities: list[dict[str, Any]], month: dt.date, stored: Sequence[dt.date] | None = None
) -> list[dict[str, Any]]:
    """The month's priorities (records of :func:`lifecycle.list_priorities`), numbered by ward
    then place, with why in plain words (:func:`latest_facts`: a continuing one's figures
    are those recomputed when it was last continued; ``stored``, the months with data,
    names the months a record saved before they were kept compared).

    One place and problem is listed once: when two priorities of the same area, place_key
    and problem both run in the month (recorded before a second adoption was refused), the
    one running longer (the earlier first month, then the lower id) is listed and the other
    left out.

    Fields: id, ward, place (label), problem (slug), problem_label (the team's own words for
    a priority it added), origin, since (YYYY-MM),
    continuing (ran before this month), why, longitude, latitude (centre of its snap
    points, None without), number.
    """
    rows = []
    seen: set[tuple[str, str, str]] = set()
    ordered = sorted(
        ((running_months(p), p) for p in priorities),
        key=lambda item: (item[0][:1], item[1]["priority_id"]),
    )
    for running, p in ordered:
        key = (p["area"], p["place_key"], p["problem"])
        if month not in running or key in seen:
            continue
        seen.add(key)
        figures, recent, baseline = latest_facts(p, month, stored)
        rows.append(
            {
                "id": p["priority_id"],
                "ward": p["ward"],
                "place": p["label"],
                "problem": p["problem"],
                "problem_label": team.problem_words(p) or problem_label(p["problem"]),
                "origin": p["origin"],
                "since": f"{running[0]:%Y-%m}",
                "continuing": running[0] < month,
                "why": public_reason(p["problem"], p["origin"], figures, recent, baseline),
                **_centre(p["snap_points"]),
            }
        )
    rows.sort(key=lambda r: (r["ward"], r["place"], r["problem"]))
    for number, row in enumerate(rows, start=1):
        row["number"] = number
    return rows


def latest_running_month(priorities: list[dict[str, Any]]) -> dt.date | None:
    """The latest month any of the priorities was adopted or continued for (None if none)."""
    months = [
        e["month"]
        for p in priorities
        for e in p["events"]
        if e["action"] in ("adopted", "continued") and e["month"]
    ]
    return max(months) if months else None


def current_by_area(store: Store, area: str | None = None) -> list[dict[str, Any]]:
    """Each area's priorities for the latest month it has any adopted or continued, by ward.

    ``area`` (a name :func:`~beatbook.areas.resolve` knows) keeps one area. Records, by area
    name: area (reference), area_name, month (YYYY-MM), month_label ('July 2021'),
    count, wards ([{ward, priorities: [see :func:`current`]}]).
    """
    wanted = reference(resolve(store, area)) if area is not None else None
    by_area: dict[str, list[dict[str, Any]]] = {}
    for p in lifecycle.list_priorities(store, area=wanted):
        by_area.setdefault(p["area"], []).append(p)
    out: list[dict[str, Any]] = []
    stored = q.months_with_data(store, *CALENDAR)
    for ref, priorities in by_area.items():
        month = latest_running_month(priorities)
        if month is None:
            continue
        rows = current(priorities, month, stored)
        wards: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            wards.setdefault(row["ward"], []).append(row)
        out.append(
            {
                "area": ref,
                "area_name": _name(store, ref),
                "month": f"{month:%Y-%m}",
                "month_label": f"{month:%B %Y}",
                "count": len(rows),
                "wards": [{"ward": w, "priorities": items} for w, items in wards.items()],
            }
        )
    out.sort(key=lambda r: (r["area_name"].lower(), r["area"]))
    return out


def _name(store: Store, ref: str) -> str:
    """An area's display name; its reference when it is no longer defined."""
    try:
        return resolve(store, ref).name
    except InputError:
        return ref.split(":", 1)[-1]
