"""The community update built from what was read for it: pure, a record in, facts and PNGs out.

:func:`beatbook.publish.update.gather` reads everything an update needs from the store, once,
into an :class:`UpdateInputs`; :func:`build` turns that record into what the update says and
its pictures without a store. Two helpers, :func:`to_assess` and :func:`result_areas`, tell
the gathering which assessments and which area relations the wording will need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from beatbook.areas import Area
from beatbook.charts import update as charts
from beatbook.engagements import KINDS, Engagement
from beatbook.figures.public import running_months
from beatbook.months import add_months, months_back
from beatbook.operations.records import WHOLE, measure_nouns
from beatbook.priorities.wording import month_span, plain_assessment, problem_label
from beatbook.publish.team_content import Section, Settings
from beatbook.stats import compare_monthly_counts, describe_change


@dataclass
class Update:
    """What the update says (JSON-ready records) and its pictures (file name -> PNG)."""

    facts: dict[str, Any]
    images: dict[str, bytes]


@dataclass(frozen=True)
class TrendCounts:
    """Crimes by ward, priority problem and month, for the ward trend charts and notes."""

    months: tuple[dt.date, ...]  # the chart's months, to the latest stored
    recent: tuple[dt.date, ...]  # the last months, compared with earlier ones in the notes
    stored: frozenset[dt.date]  # months with published data, from the comparison's first
    recorded: frozenset[str]  # the problems police.uk data records (the others have no line)
    counts: Mapping[tuple[str, str, dt.date], int]  # (ward, problem, month) -> crimes


@dataclass(frozen=True)
class UpdateInputs:
    """Everything the update for ``area`` and ``month`` shows, as read from the store."""

    area: Area
    reference: str  # the area's reference, under which its priorities are recorded
    month: dt.date
    data_to: dt.date  # the latest month of stored police.uk data before ``month``
    priorities: tuple[dict[str, Any], ...]  # the area's priorities (lifecycle records)
    current: tuple[dict[str, Any], ...]  # the month's, numbered (figures.public.current)
    assessments: Mapping[int, dict[str, Any]]  # priority id -> assessment to data_to (to_assess)
    trends: TrendCounts | None  # None when the month has no priorities
    wards: tuple[tuple[str, BaseGeometry], ...]  # ward outlines of the area, by name
    operations: tuple[dict[str, Any], ...]  # roll-ups of the operations of the last months
    shares_ground: Mapping[str, bool]  # result area reference -> shares ground with the area
    engagements: tuple[Engagement, ...]  # in the area (or inside it) in the coming weeks
    weeks: int
    settings: Settings
    sections: tuple[Section, ...]
    team_images: Mapping[str, bytes] = field(default_factory=dict)  # team-NAME -> uploaded image


SAID = {
    "residents": "You told us about",
    "partners": "Partner agencies told us about",
    "mix": "You, partners and police data pointed to",
    "data": "Police data pointed to",
}


def _last_months(
    priorities: tuple[dict[str, Any], ...] | list[dict[str, Any]], month: dt.date
) -> list[tuple[dict[str, Any], list[dt.date]]]:
    """The priorities that ran in the month before ``month``, each with its running months."""
    last = add_months(month, -1)
    return [(p, running) for p in priorities if last in (running := running_months(p))]


def to_assess(
    priorities: tuple[dict[str, Any], ...] | list[dict[str, Any]], month: dt.date, data_to: dt.date
) -> list[int]:
    """Ids of last month's priorities still open and begun by ``data_to``: those whose
    assessment to ``data_to`` "you said, we did" reports (a closed one has its own)."""
    return [
        p["priority_id"]
        for p, running in _last_months(priorities, month)
        if p["status"] != "closed" and running[0] <= data_to
    ]


def said_and_done(inputs: UpdateInputs) -> list[dict[str, Any]]:
    """Last month's priorities: who raised them, what became of them, and whether the problem
    fell there against the rest of the ward (the assessment up to the latest data)."""
    month = inputs.month
    rows = []
    for p, running in _last_months(inputs.priorities, month):
        if p["status"] == "closed":
            assessment = p["events"][-1]["details"].get("assessment")
            status = f"Closed at the end of {p['events'][-1]['month']:%B %Y}."
        else:
            assessment = inputs.assessments.get(p["priority_id"])
            status = (
                f"It stays a priority in {month:%B}."
                if month in running
                else "The team will review it at its next meeting."
            )
        label = problem_label(p["problem"])
        rows.append(
            {
                "id": p["priority_id"],
                "ward": p["ward"],
                "place": p["label"],
                "problem": p["problem"],
                "you_said": f"{SAID.get(p['origin'], SAID['data'])} {label} at {p['label']}.",
                "status": status,
                "result": plain_assessment(
                    assessment, p["ward"], p["problem"], final=p["status"] == "closed"
                ),
                "verdict": assessment.get("verdict") if assessment else None,
                "assessed_to": assessment.get("during_months", [None])[-1] if assessment else None,
            }
        )
    rows.sort(key=lambda r: (r["ward"], r["place"], r["problem"]))
    return rows


def result_areas(reports: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[str]:
    """The area references of the operations' results by area (not the whole), in order."""
    refs = (r["reference"] for op in reports for m in op["measures"] for r in m["areas"])
    return list(dict.fromkeys(ref for ref in refs if ref != WHOLE))


def operations(inputs: UpdateInputs) -> list[dict[str, Any]]:
    """Operations of the last months with results, each measure worded with the total and
    the shares of the team area and the areas inside it ("46 of 141 warrants ...")."""
    rows = []
    for op in inputs.operations:
        lines = []
        for measure in op["measures"]:
            if measure["total"] is not None:
                one, many = measure_nouns(measure["measure"])
                lines.append(
                    f"{measure['total']:,} {many if measure['total'] != 1 else one} in all"
                )
            lines += [
                r["text"]
                for r in measure["areas"]
                if r["reference"] != WHOLE and inputs.shares_ground[r["reference"]]
            ]
        if lines:
            rows.append(
                {
                    "name": op["operation"],
                    "from": op["from"],
                    "to": op["to"],
                    "dates": _dates(op["from"], op["to"]),
                    "description": op.get("description"),
                    "results": lines,
                }
            )
    return rows


def _dates(start: Any, end: Any) -> str:
    a, b = (dt.date.fromisoformat(str(d)[:10]) for d in (start, end))
    return f"{a:%-d %B %Y} to {b:%-d %B %Y}" if a.year != b.year else f"{a:%-d %B} to {b:%-d %B %Y}"


def engagements(inputs: UpdateInputs) -> list[dict[str, Any]]:
    """The engagements read for the coming weeks, worded for the update."""
    rows = []
    for e in inputs.engagements:
        same_day = e.ends.date() == e.starts.date()
        time = (
            f"{e.starts:%H:%M}"
            if e.ends == e.starts
            else f"{e.starts:%H:%M} to {e.ends:%H:%M}"
            if same_day
            else f"{e.starts:%H:%M} to {e.ends:%a %-d %b %H:%M}"
        )
        rows.append(
            {
                "date": f"{e.starts:%A %-d %B}",
                "time": time,
                "start": e.starts.isoformat(timespec="minutes"),
                "kind": KINDS[e.kind],
                "title": e.summary,
                "place": e.place,
                "area": e.area_name,
                "notes": e.notes,
            }
        )
    return rows


def ward_trends(inputs: UpdateInputs) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """A 13-month chart per ward with priorities, one line per police-recorded priority
    problem, and the honest comparison of the last three months with a year before."""
    wanted = {(c["ward"], c["problem"]) for c in inputs.current}
    trend = inputs.trends
    if not wanted or trend is None:
        return [], {}
    months, counts = list(trend.months), trend.counts
    rows, images = [], {}
    for ward in sorted({w for w, _ in wanted}):
        series, notes = [], []
        for problem in sorted(p for w, p in wanted if w == ward):
            label = problem_label(problem)
            if problem not in trend.recorded:
                notes.append(
                    f"{label.capitalize()} is not recorded in police.uk data, so it has no line."
                )
                continue
            values = tuple(
                counts.get((ward, problem, m), 0) if m in trend.stored else None for m in months
            )
            series.append(charts.Series(label.capitalize(), values))
            notes.append(
                _trend_sentence(ward, label, counts, problem, list(trend.recent), trend.stored)
            )
        if not series:
            rows.append({"ward": ward, "image": None, "alt": None, "notes": notes})
            continue
        name = f"trend-{_slug(ward)}.png"
        labels = [f"{m:%Y-%m}" for m in months]
        images[name] = charts.ward_trend_chart(ward, labels, series)
        rows.append(
            {
                "ward": ward,
                "image": name,
                "alt": charts.trend_alt(ward, labels, series),
                "months": labels,
                "series": [{"label": s.label, "counts": list(s.counts)} for s in series],
                "notes": notes,
            }
        )
    return rows, images


def _trend_sentence(
    ward: str,
    label: str,
    counts: Mapping[tuple[Any, ...], int],
    problem: str,
    recent: list[dt.date],
    stored: frozenset[dt.date],
) -> str:
    """The last three months against the same months a year before (or, where those are not
    published, the three months before), tested on the monthly counts
    (:func:`~beatbook.stats.compare_monthly_counts`: three months a side are too few to
    estimate over-dispersion, so it is the exact test for two Poisson counts, and says so)."""
    now = sum(counts.get((ward, problem, m), 0) for m in recent)
    span = month_span([f"{recent[0]:%Y-%m}", f"{recent[-1]:%Y-%m}"])
    what = f"{label.capitalize()} in {ward}, {span}"
    year_ago = months_back(add_months(recent[-1], -12), len(recent))
    just_before = months_back(add_months(recent[0], -1), len(recent))
    for earlier, against in (
        (year_ago, "the same months a year before"),
        (just_before, "the three months before"),
    ):
        if all(m in stored for m in recent + earlier):
            change = compare_monthly_counts(
                {m: counts.get((ward, problem, m), 0) for m in earlier},
                {m: counts.get((ward, problem, m), 0) for m in recent},
            )
            return f"{what}, against {against}: {describe_change(change, 'recorded')}."
    return f"{what}: {now} recorded; earlier months to compare with are not published."


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def team_map(inputs: UpdateInputs) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
    """The team area's wards (outlines from the stored LSOA boundaries) with the places."""
    if not inputs.wards:
        return None, {}
    area = inputs.area
    places = [
        charts.Place(c["number"], c["place"], c["longitude"], c["latitude"])
        for c in inputs.current
        if c["longitude"] is not None
    ]
    names = [w for w, _ in inputs.wards]
    image = charts.team_map(area.name, list(inputs.wards), places)
    alt = charts.map_alt(area.name, names, places)
    return {"image": "map.png", "alt": alt, "wards": names}, {"map.png": image}


def build(inputs: UpdateInputs) -> Update:
    """Everything the update shows, as records and pictures, from what was read for it."""
    area, target, data_to, settings = inputs.area, inputs.month, inputs.data_to, inputs.settings
    trends, images = ward_trends(inputs)
    the_map, map_image = team_map(inputs)
    images.update(map_image)
    images.update(inputs.team_images)
    by_ward: dict[str, list[dict[str, Any]]] = {}
    for c in inputs.current:
        by_ward.setdefault(c["ward"], []).append(c)
    facts = {
        "title": f"{area.name} community update, {target:%B %Y}",
        "area": {**area.to_dict(), "reference": inputs.reference},
        "month": f"{target:%Y-%m}",
        "month_label": f"{target:%B %Y}",
        "data_to": f"{data_to:%Y-%m}",
        "data_to_label": f"{data_to:%B %Y}",
        "team": settings.team_name(area.name),
        "contact": settings.contact,
        "sections": [
            {"heading": s.heading, "markdown": s.markdown, "html": s.html} for s in inputs.sections
        ],
        "priorities": [{"ward": w, "items": items} for w, items in by_ward.items()],
        "you_said_we_did": said_and_done(inputs),
        "operations": operations(inputs),
        "engagements": engagements(inputs),
        "engagement_weeks": inputs.weeks,
        "reporting": [{"label": c.label, "how": c.how} for c in settings.channels],
        "trends": trends,
        "map": the_map,
        "sources": (
            f"Crime and anti-social behaviour: police.uk street-level data to "
            f"{data_to:%B %Y}, Open Government Licence v3.0. Ward boundaries: ONS, "
            "Open Government Licence v3.0; contains OS data © Crown copyright."
        ),
    }
    return Update(facts, images)
