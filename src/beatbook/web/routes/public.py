"""The public pages (no login): /, /priorities (with a map), /search, /updates,
/updates/{area}/{month}[/{file}], /events, /events.ics and /stats/{area}.

An area in a URL is its reference (:func:`beatbook.areas.reference`: ``custom:West``, a ward
code, ``local authority:Leicester``) URL-encoded: ``/updates/custom%3AWest/2021-07``. The
pages show only what is published or public: priorities with their plain-words reason
(never scores), published updates as stored, engagements, and the area's figures. Every page
carries the team's name from its stored settings (:func:`team_name`), not the tool's.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from collections.abc import Hashable
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import shapely
from fastapi import APIRouter, Query, Request
from shapely.geometry import mapping
from starlette.responses import Response

from beatbook import areas as areas_mod
from beatbook.engagements import KINDS, Engagement, list_engagements, to_ical, window
from beatbook.errors import DataMissingError, InputError, UnknownAreaError
from beatbook.figures import place_search
from beatbook.figures.area_page import area_page
from beatbook.figures.map_layers import ward_outlines
from beatbook.figures.public import current_by_area
from beatbook.figures.summary import latest_period
from beatbook.months import parse_month
from beatbook.publish.published import list_published, published_file
from beatbook.publish.team_content import stored_settings
from beatbook.settings import UPCOMING_WEEKS, WEEKS_RANGE
from beatbook.store import Store
from beatbook.web.cache import PageCache
from beatbook.web.deps import ReadStore, database, render

router = APIRouter()
StoreDep = ReadStore
FromDay = Annotated[
    str | None, Query(alias="from", description="First day, YYYY-MM-DD (default: today).")
]
Weeks = Annotated[int, Query(description=f"How many weeks from the first day ({WEEKS_RANGE}).")]
OUTLINE_TOLERANCE = 0.00005  # degrees (about 5 m): ward outlines for a web map, not a survey


def cached(request: Request, name: str, build: Any, *key: Hashable) -> Any:
    """``build()``, worked out at most once a minute per app, version of the store file and
    ``key`` (``web/cache.py``)."""
    cache: PageCache = request.app.state.page_cache
    return cache.get((name, database(request).version, *key), build)


def team_name(request: Request, store: Store) -> str:
    """What the public pages are headed with: the team's name from its stored settings (the
    one team area's; "Your neighbourhood policing teams" when several share the site)."""

    def build() -> str:
        teams = areas_mod.team_areas(store)
        names = [stored_settings(store, areas_mod.reference(t)).team_name(t.name) for t in teams]
        if len(set(names)) == 1:
            return names[0]
        return "Your neighbourhood policing teams" if names else "Your neighbourhood policing team"

    name: str = cached(request, "public_team_name", build)
    return name


def page(
    request: Request,
    store: Store,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> Response:
    """A public page: ``render`` with the team's name for the header and title."""
    return render(
        request, template, {**context, "team_name": team_name(request, store)}, status_code
    )


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


def not_found(request: Request, store: Store, message: str, status_code: int = 404) -> Response:
    """The public "not found" page (or, with ``status_code`` 400, "not understood")."""
    return page(
        request,
        store,
        "public_not_found.html.j2",
        {"message": message, "status_code": status_code},
        status_code=status_code,
    )


# --- pages ------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, store: StoreDep) -> Response:
    return page(request, store, "public_home.html.j2", {"areas": public_areas(store)})


def _outlines(store: Store, areas: list[tuple[areas_mod.Area, dt.date]]) -> list[dict[str, Any]]:
    """The wards of these areas (each with the month its outline is for), as GeoJSON
    features, to find one's way on a map without background tiles (none for an area whose
    LSOA boundaries are not stored)."""
    features = []
    for area, month in areas:
        for ward, shape in ward_outlines(store, area, month):
            simple = shapely.set_precision(shape.simplify(OUTLINE_TOLERANCE), 1e-6)
            features.append(
                {"type": "Feature", "geometry": mapping(simple), "properties": {"name": ward}}
            )
    return features


def pin_map(store: Store) -> dict[str, Any]:
    """What the report form's map draws: the wards of the team areas (no markers)."""
    try:
        month = latest_period(store)[1]
    except DataMissingError:
        return {"markers": [], "wards": []}
    return {
        "markers": [],
        "wards": _outlines(store, [(a, month) for a in areas_mod.team_areas(store)]),
    }


def priority_map(store: Store, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """What the priorities map draws: a marker per current priority with a place (place,
    problem, why, ward, area, number) and the wards' outlines."""
    markers = [
        {
            "latitude": p["latitude"],
            "longitude": p["longitude"],
            "place": p["place"],
            "problem": p["problem_label"][:1].upper() + p["problem_label"][1:],
            "why": p["why"],
            "ward": w["ward"],
            "area": b["area_name"],
            "number": p["number"],
        }
        for b in blocks
        for w in b["wards"]
        for p in w["priorities"]
        if p["latitude"] is not None and p["longitude"] is not None
    ]
    areas = [
        (area, parse_month(b["month"], "month"))
        for b in blocks
        if (area := _area_of(store, b["area"])) is not None
    ]
    return {"markers": markers, "wards": _outlines(store, areas)}


@router.get("/priorities")
def priorities(request: Request, store: StoreDep, area: str | None = None) -> Response:
    if area is not None and _area_of(store, area) is None:
        return not_found(request, store, f"No area called {area!r} has priorities here.")
    blocks = current_by_area(store, area)
    for block in blocks:
        block["stats_url"] = stats_url(block["area"])
    return page(
        request,
        store,
        "public_priorities.html.j2",
        {
            "blocks": blocks,
            "area": area,
            "map": priority_map(store, blocks),
            "tile_url": request.app.state.tile_url or "",
        },
    )


@router.get("/search")
def search(request: Request, store: StoreDep, q: str | None = None) -> Response:
    """Find a street or postcode of the areas covered: its ward, with links to the ward's
    figures and its area's priorities. A bad query is a 400 page saying why."""
    context: dict[str, Any] = {"q": q or "", "found": None, "max_query": place_search.MAX_QUERY}
    if q is None:
        return page(request, store, "public_search.html.j2", context)
    index = cached(request, "public_street_index", lambda: place_search.StreetIndex.build(store))
    try:
        found = place_search.search(store, q, index)
    except InputError as exc:
        context["error"] = str(exc).removeprefix("search: ").capitalize()
        return page(request, store, "public_search.html.j2", context, status_code=400)
    with_priorities = {b["area"] for b in current_by_area(store)}
    for row in found["results"]:
        row["ward_url"] = stats_url(row["ward_code"]) if row["ward_code"] else None
        row["area_url"] = stats_url(row["area"])
        row["priorities_url"] = (
            f"/priorities?area={quote(row['area'], safe='')}"
            if row["area"] in with_priorities
            else None
        )
    context["found"] = found
    context["areas"] = [a.name for a in place_search.covered_areas(store)]
    return page(request, store, "public_search.html.j2", context)


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
    return page(request, store, "public_updates.html.j2", {"updates": rows})


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
        ' · <a href="/">Home</a></p>'
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
        return not_found(
            request, store, f"There is no published community update for {area} in {month}."
        )
    base = update_url(area, month) + "/"
    page = _with_links(found[0].decode("utf-8"), base, update_url(area, month, "update.pdf"))
    return Response(page, media_type="text/html; charset=utf-8")


@router.get("/updates/{area}/{month}/{file}")
def update_file(request: Request, store: StoreDep, area: str, month: str, file: str) -> Response:
    found = _published(store, area, month, file)
    if found is None:
        return not_found(
            request, store, f"The update for {area} in {month} has no file called {file!r}."
        )
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
    return page(
        request,
        store,
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
    try:
        if to is not None:
            parse_month(to, "to")  # a clear 400 before any work
        figures = cached(request, "stats", lambda: area_page(store, area, to=to), area, to)
    except UnknownAreaError:
        return not_found(request, store, f"We know no area called {area!r}.")
    except InputError as exc:
        return not_found(request, store, str(exc), status_code=400)
    return page(
        request, store, "public_stats.html.j2", {"s": figures, "area": area, "latest": to is None}
    )
