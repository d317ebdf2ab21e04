"""The community update built from what was read for it: pure, a record in, facts and PNGs out.

:func:`beatbook.publish.update.gather` reads everything an update needs from the store, once,
into an :class:`UpdateInputs`; :func:`build` turns that record into what the update says and
its pictures without a store (the trend charts and the map: :mod:`beatbook.publish.update_trends`).
Two helpers, :func:`to_assess` and :func:`result_areas`, tell the gathering which assessments
and which area relations the wording will need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from beatbook.areas import Area
from beatbook.engagements import KINDS, Engagement
from beatbook.figures.public import running_months
from beatbook.months import add_months
from beatbook.operations.records import WHOLE, measure_nouns, percent
from beatbook.priorities.wording import plain_assessment, problem_label
from beatbook.publish import plain_text, update_trends
from beatbook.publish.team_content import Section, Settings
from beatbook.publish.update_trends import TrendCounts

__all__ = [
    "TrendCounts",
    "Update",
    "UpdateInputs",
    "build",
    "result_areas",
    "to_assess",
    "years_and_months",
]


@dataclass
class Update:
    """What the update says (JSON-ready records) and its pictures (file name -> PNG)."""

    facts: dict[str, Any]
    images: dict[str, bytes]


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
    streets: tuple[tuple[str, float, float], ...] = ()  # named snap points: street, lon, lat


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
            total = measure["total"]
            shown = [
                r
                for r in measure["areas"]
                if r["reference"] != WHOLE and inputs.shares_ground[r["reference"]]
            ]
            if measure["measure"] == CUSTODIAL:
                lines += _custodial(total, shown)
                continue
            if total is not None:
                one, many = measure_nouns(measure["measure"])
                lines.append(f"{total:,} {many if total != 1 else one} in all")
            lines += [r["text"] for r in shown]
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


CUSTODIAL = "custodial_months"


def years_and_months(months: int) -> str:
    """A length of custodial sentences as people say it: '26 years', '2 years 6 months',
    '1 year 1 month', '7 months'.

    >>> [years_and_months(n) for n in (312, 30, 13, 7, 12, 0)]
    ['26 years', '2 years 6 months', '1 year 1 month', '7 months', '1 year', '0 months']
    """
    years, rest = divmod(months, 12)
    parts = [f"{years:,} year{'s' if years != 1 else ''}"] if years else []
    if rest or not years:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _custodial(total: int | None, areas: list[dict[str, Any]]) -> list[str]:
    """Custodial sentences in years and months, in all and in each area."""
    lines = (
        [f"{years_and_months(total)} of custodial sentences in all"] if total is not None else []
    )
    for r in areas:
        length = years_and_months(r["count"])
        if total:
            lines.append(
                f"{length} of the {years_and_months(total)} were in the {r['area']} area "
                f"({percent(r['count'], total)})"
            )
        else:
            lines.append(f"{length} of custodial sentences were in the {r['area']} area")
    return lines


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


POLICE_UK = "https://www.police.uk"
METHODS = (
    "Each chart counts the priority's problem at the priority's own police.uk map points; "
    'a month police.uk has not published is "no data", never zero. A change is called '
    "clear when a test of the monthly counts finds it unlikely to be chance (p below 0.05):"
)


def team_reason(priority: dict[str, Any] | None) -> str | None:
    """The inspector's own reason for a priority (``beatbook priorities add --reason``), the
    latest an event records, printed above the sentence computed from the data."""
    events = priority["events"] if priority else []
    found = [e["details"].get("team_reason") for e in events if e.get("details")]
    return next((r for r in reversed(found) if r), None)


def links(settings: Settings) -> dict[str, str | None]:
    """Where the letter's links go: phone numbers as ``tel:``, the team's e-mail as
    ``mailto:``, the online report form, police.uk and the events calendar."""
    return {
        "emergency": "tel:999",
        "non_emergency": "tel:101",
        "police_uk": POLICE_UK,
        "report": settings.report_url,
        "calendar": settings.calendar_url,
        "email": f"mailto:{settings.email}" if settings.email else None,
    }


def officers(settings: Settings) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The team's officers as "Your local team" lists them, and their photos' files."""
    rows, images = [], {}
    for i, o in enumerate(settings.officers, start=1):
        photo = None
        if o.photo_data:
            photo = f"officer-{i}.jpg"
            images[photo] = o.photo_data
        rows.append(
            {
                "name": o.name,
                "role": o.role,
                "wards": ", ".join(o.wards),
                "email": o.email,
                "phone": o.phone,
                "tel": "tel:" + o.phone.replace(" ", "") if o.phone else None,
                "photo": photo,
            }
        )
    return rows, images


def build(inputs: UpdateInputs) -> Update:
    """Everything the update shows, as records and pictures, from what was read for it."""
    area, target, data_to, settings = inputs.area, inputs.month, inputs.data_to, inputs.settings
    trends, images = update_trends.priority_trends(inputs.current, inputs.trends)
    the_map, map_image = update_trends.team_map(
        area.name, inputs.wards, inputs.current, inputs.streets
    )
    images.update(map_image)
    images.update(inputs.team_images)
    team, photos = officers(settings)
    images.update(photos)
    recorded = {p["priority_id"]: p for p in inputs.priorities}
    by_ward: dict[str, list[dict[str, Any]]] = {}
    for c in inputs.current:
        own = c.get("team_reason") or team_reason(recorded.get(c["id"]))
        by_ward.setdefault(c["ward"], []).append({**c, "team_reason": own})
    facts = {
        "title": f"{area.name} community update, {target:%B %Y}",
        "area": {**area.to_dict(), "reference": inputs.reference},
        "month": f"{target:%Y-%m}",
        "month_label": f"{target:%B %Y}",
        "data_to": f"{data_to:%Y-%m}",
        "data_to_label": f"{data_to:%B %Y}",
        "team": settings.team_name(area.name),
        "contact": settings.contact,
        "email": settings.email,
        "links": links(settings),
        "officers": team,
        "sections": [
            {
                "heading": s.heading,
                "markdown": s.markdown,
                "html": s.html,
                "text": plain_text.to_text(s.markdown),
            }
            for s in inputs.sections
        ],
        "priorities": [{"ward": w, "items": items} for w, items in by_ward.items()],
        "you_said_we_did": said_and_done(inputs),
        "operations": operations(inputs),
        "engagements": engagements(inputs),
        "engagement_weeks": inputs.weeks,
        "reporting": [{"label": c.label, "how": c.how} for c in settings.channels],
        "trends": trends,
        "map": the_map,
        "methods": {
            "intro": METHODS,
            "tests": [t["method"] for t in trends if t["method"]],
        },
        "sources": (
            f"Crime and anti-social behaviour: police.uk street-level data to "
            f"{data_to:%B %Y}, Open Government Licence v3.0. Ward boundaries: ONS, "
            "Open Government Licence v3.0; contains OS data © Crown copyright."
        ),
    }
    return Update(facts, images)
