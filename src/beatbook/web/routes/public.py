"""The public pages (no login): /, /priorities, /updates, /updates/{area}/{month}[/{file}],
/events, /events.ics and /stats/{area}.

An area in a URL is its reference (:func:`beatbook.areas.reference`: ``custom:West``, a ward
code, ``local authority:Leicester``) URL-encoded: ``/updates/custom%3AWest/2021-07``. The
pages show only what is published or public: priorities with their plain-words reason
(never scores), published updates as stored, engagements, and the area's figures.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from beatbook import areas as areas_mod
from beatbook.engagements import KINDS, Engagement, list_engagements, to_ical, window
from beatbook.errors import InputError, UnknownAreaError
from beatbook.figures import summary
from beatbook.figures.public import current_by_area
from beatbook.months import parse_month
from beatbook.publish.published import list_published, published_file
from beatbook.settings import UPCOMING_WEEKS, WEEKS_RANGE
from beatbook.store import Store
from beatbook.web.deps import ReadStore, render

router = APIRouter()
StoreDep = ReadStore
FromDay = Annotated[
    str | None, Query(alias="from", description="First day, YYYY-MM-DD (default: today).")
]
Weeks = Annotated[int, Query(description=f"How many weeks from the first day ({WEEKS_RANGE}).")]


# --- URLs and the areas the public pages cover ------------------------------------------------


def area_path(reference: str) -> str:
    """An area reference as one URL path segment: 'custom:West' -> 'custom%3AWest'."""
    return quote(reference, safe="")


def update_url(area: str, month: str, file: str | None = None) -> str:
    base = f"/updates/{area_path(area)}/{month}"
    return f"{base}/{quote(file, safe='')}" if file else base


def stats_url(area: str) -> str:
    return f"/stats/{area_path(area)}"


def _area_of(store: Store, reference: str) -> areas_mod.Area | None:
    try:
        return areas_mod.resolve(store, reference)
    except InputError:
        return None  # no longer defined: its published pages still stand


def public_areas(store: Store) -> list[dict[str, Any]]:
    """The team's areas and every area with a published update or current priorities, by
    name: reference, name, kind, wards ([{reference, name}] for a team area), the months
    of its published updates (newest first), its priorities' month and count, and URLs."""
    found: dict[str, dict[str, Any]] = {}

    def entry(reference: str, name: str) -> dict[str, Any]:
        if reference not in found:
            area = _area_of(store, reference)
            found[reference] = {
                "reference": reference,
                "name": area.name if area else name,
                "kind": area.kind if area else "unknown",
                "wards": [],
                "updates": [],
                "priorities_month": None,
                "priorities_count": 0,
                "stats_url": stats_url(reference) if area else None,
            }
        return found[reference]

    for team in areas_mod.team_areas(store):
        ref = areas_mod.reference(team)
        entry(ref, team.name)["wards"] = [
            {
                "reference": areas_mod.reference(w),
                "name": w.name,
                "stats_url": stats_url(areas_mod.reference(w)),
            }
            for w in areas_mod.wards_within(store, team)
        ]
    for update in list_published(store):
        entry(update["area"], update["area_name"])["updates"].append(
            {
                "month": update["month"],
                "title": update["title"],
                "url": update_url(update["area"], update["month"]),
                "pdf_url": update_url(update["area"], update["month"], "update.pdf"),
            }
        )
    for block in current_by_area(store):
        row = entry(block["area"], block["area_name"])
        row["priorities_month"], row["priorities_count"] = block["month"], block["count"]
        row["priorities_month_label"] = block["month_label"]
        row["priorities_url"] = f"/priorities?area={quote(block['area'], safe='')}"
    for row in found.values():
        row.setdefault("priorities_url", None)
    return sorted(found.values(), key=lambda r: (r["name"].lower(), r["reference"]))


def not_found(request: Request, message: str) -> Response:
    return render(request, "public_not_found.html.j2", {"message": message}, status_code=404)


# --- pages ------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, store: StoreDep) -> Response:
    return render(request, "public_home.html.j2", {"areas": public_areas(store)})


@router.get("/priorities")
def priorities(request: Request, store: StoreDep, area: str | None = None) -> Response:
    if area is not None and _area_of(store, area) is None:
        return not_found(request, f"No area called {area!r} has priorities here.")
    blocks = current_by_area(store, area)
    for block in blocks:
        block["stats_url"] = stats_url(block["area"])
    return render(request, "public_priorities.html.j2", {"blocks": blocks, "area": area})


@router.get("/updates")
def updates(request: Request, store: StoreDep) -> Response:
    rows = [
        {
            **u,
            "url": update_url(u["area"], u["month"]),
            "pdf_url": update_url(u["area"], u["month"], "update.pdf"),
        }
        for u in list_published(store)
    ]
    return render(request, "public_updates.html.j2", {"updates": rows})


def _published(store: Store, area: str, month: str, name: str) -> tuple[bytes, str] | None:
    try:
        return published_file(store, area, month, name)
    except InputError:  # a month that is not YYYY-MM: no such update either
        return None


def _with_links(document: str, base: str, pdf: str) -> str:
    """The stored update page with a <base> so its pictures load from the update's folder,
    and a line linking to its PDF and the list of updates; otherwise as published."""
    base_tag = f'<base href="{html.escape(base)}">'
    bar = (
        f'<p class="bb-published" style="font-size:.9rem"><a href="{html.escape(pdf)}">'
        'Download this update as a PDF</a> · <a href="/updates">All community updates</a>'
        ' · <a href="/">BeatBook home</a></p>'
    )
    head = re.search(r"<head[^>]*>", document, flags=re.I)
    document = (
        document[: head.end()] + base_tag + document[head.end() :] if head else base_tag + document
    )
    body = re.search(r"<body[^>]*>", document, flags=re.I)
    return document[: body.end()] + bar + document[body.end() :] if body else bar + document


@router.get("/updates/{area}/{month}")
def update_page(request: Request, store: StoreDep, area: str, month: str) -> Response:
    found = _published(store, area, month, "update.html")
    if found is None:
        return not_found(request, f"There is no published community update for {area} in {month}.")
    base = update_url(area, month) + "/"
    page = _with_links(found[0].decode("utf-8"), base, update_url(area, month, "update.pdf"))
    return Response(page, media_type="text/html; charset=utf-8")


@router.get("/updates/{area}/{month}/{file}")
def update_file(request: Request, store: StoreDep, area: str, month: str, file: str) -> Response:
    found = _published(store, area, month, file)
    if found is None:
        return not_found(request, f"The update for {area} in {month} has no file called {file!r}.")
    data, content_type = found
    headers = {"Content-Disposition": f'inline; filename="{quote(file)}"'}
    return Response(data, media_type=content_type, headers=headers)


# --- engagements ------------------------------------------------------------------------------


def event_window(start: str | None, weeks: int) -> tuple[dt.date, dt.date]:
    """From ``start`` (YYYY-MM-DD, default today) for ``weeks`` weeks: checked by the
    library (:func:`beatbook.engagements.window`), so a day past the calendar is a 400."""
    return window(start, weeks)


def _time(e: Engagement) -> str:
    if e.ends.date() == e.starts.date():
        return f"{e.starts:%H:%M} to {e.ends:%H:%M}"
    return f"{e.starts:%H:%M} to {e.ends:%a %-d %b %H:%M}"


@router.get("/events")
def events(
    request: Request,
    store: StoreDep,
    area: str | None = None,
    from_: FromDay = None,
    weeks: Weeks = UPCOMING_WEEKS,
) -> Response:
    first, last = event_window(from_, weeks)
    items = list_engagements(store, area, first, last)
    days = [
        {
            "date": day,
            "label": f"{day:%A %-d %B %Y}",
            "events": [
                {
                    "time": _time(e),
                    "kind": KINDS[e.kind],
                    "title": e.summary,
                    "place": e.place,
                    "area": e.area_name,
                    "notes": e.notes,
                }
                for e in group
            ],
        }
        for day, group in itertools.groupby(items, key=lambda e: e.starts.date())
    ]
    query = {
        k: v for k, v in (("from", first.isoformat()), ("weeks", str(weeks)), ("area", area)) if v
    }
    return render(
        request,
        "public_events.html.j2",
        {
            "days": days,
            "first": first,
            "last": last,
            "area": area,
            "ics_url": "/events.ics?" + urlencode(query),
        },
    )


@router.get("/events.ics")
def events_ics(
    store: StoreDep, area: str | None = None, from_: FromDay = None, weeks: Weeks = UPCOMING_WEEKS
) -> Response:
    first, last = event_window(from_, weeks)
    items = list_engagements(store, area, first, last)
    name = "BeatBook engagements" + (f": {areas_mod.resolve(store, area).name}" if area else "")
    return Response(
        to_ical(items, name),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="beatbook-events.ics"'},
    )


# --- figures ----------------------------------------------------------------------------------


@router.get("/stats/{area}")
def stats(request: Request, store: StoreDep, area: str, to: str | None = None) -> Response:
    if to is not None:
        parse_month(to, "to")  # a clear 400 before any work
    try:
        figures = summary.area_summary(store, area, to=to)
    except UnknownAreaError:
        return not_found(request, f"BeatBook knows no area called {area!r}.")
    return render(
        request, "public_stats.html.j2", {"s": figures, "area": area, "latest": to is None}
    )
