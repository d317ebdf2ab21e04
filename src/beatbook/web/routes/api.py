"""The read-only JSON API of the public data: /api/areas, /api/priorities, /api/updates,
/api/events and /api/stats/{area}. OpenAPI at /openapi.json, browsable at /docs.

Every response is one of the models below: a field not declared here never leaves the
server, so a library record that gains a private field cannot leak it. Concerns appear in
none of them (their free text and contacts are the team's only). Errors are
``{"error": "..."}``: 400 for a bad parameter, 404 for an area BeatBook does not know.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from beatbook.engagements import KINDS, list_engagements
from beatbook.errors import UnknownAreaError
from beatbook.figures import summary
from beatbook.figures.public import current_by_area
from beatbook.publish.published import list_published
from beatbook.settings import UPCOMING_WEEKS, WEEKS_RANGE
from beatbook.web.deps import ReadStore
from beatbook.web.routes.public import cached, event_window, public_areas, update_url

router = APIRouter(prefix="/api", tags=["public data"])


class ErrorBody(BaseModel):
    error: str = Field(description="What was wrong, in one line.")


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such area."},
    400: {"model": ErrorBody, "description": "A bad parameter."},
}


def _no_area(area: str | None) -> JSONResponse:
    return JSONResponse({"error": f"no area called {area!r} (see /api/areas)"}, status_code=404)


# --- areas --------------------------------------------------------------------------------------


class Ward(BaseModel):
    reference: str = Field(description="The ward's reference (its ONS code): use it in URLs.")
    name: str
    stats_url: str


class PublishedRef(BaseModel):
    month: str = Field(description="YYYY-MM")
    title: str
    url: str = Field(description="The update as a web page.")
    pdf_url: str


class Area(BaseModel):
    reference: str = Field(
        description="What names the area in URLs and ?area= (URL-encode it): "
        "'custom:West', a ward code, 'local authority:Leicester'."
    )
    name: str
    kind: str = Field(
        description="custom (a team area), ward, local authority, force area, "
        "or unknown (no longer defined; its published updates stand)."
    )
    wards: list[Ward] = Field(description="For a team area: the wards wholly inside it.")
    updates: list[PublishedRef] = Field(
        description="Its published community updates, newest first."
    )
    priorities_month: str | None = Field(
        description="The month (YYYY-MM) of its current priorities."
    )
    priorities_count: int
    priorities_url: str | None
    stats_url: str | None


@router.get("/areas", response_model=list[Area])
def areas(store: ReadStore) -> list[dict[str, object]]:
    """The team's areas and every area with a published update or current priorities."""
    return public_areas(store)


# --- priorities ---------------------------------------------------------------------------------


class Priority(BaseModel):
    number: int = Field(description="Its number in the area's list (by ward, then place).")
    id: int
    ward: str
    place: str = Field(description="The place's label, e.g. 'Elm Close'.")
    problem: str = Field(description="Problem slug, e.g. 'drugs', 'asb', 'street-drinking'.")
    problem_label: str
    why: str = Field(
        description="Why it was chosen, in plain words (a rise or fall only when a test said so)."
    )
    origin: str = Field(description="Who pointed to it: data, residents, partners or mix.")
    since: str = Field(description="The month (YYYY-MM) it became a priority.")
    continuing: bool = Field(description="Whether it was a priority before this month.")
    longitude: float | None
    latitude: float | None


class WardPriorities(BaseModel):
    ward: str
    priorities: list[Priority]


class AreaPriorities(BaseModel):
    area: str = Field(description="The area's reference.")
    area_name: str
    month: str = Field(
        description="The latest month (YYYY-MM) with priorities adopted or continued."
    )
    month_label: str
    count: int
    wards: list[WardPriorities]


@router.get("/priorities", response_model=list[AreaPriorities], responses=NOT_FOUND)
def priorities(store: ReadStore, area: str | None = None) -> object:
    """Each area's current priorities (adopted or continued for its latest month with any),
    ward by ward. Never scores."""
    try:
        return current_by_area(store, area)
    except UnknownAreaError:
        return _no_area(area)


# --- updates ------------------------------------------------------------------------------------


class Update(BaseModel):
    area: str = Field(description="The area's reference.")
    area_name: str
    month: str = Field(description="YYYY-MM")
    title: str
    published_at: str = Field(description="When it was published (UTC, ISO 8601).")
    url: str
    pdf_url: str


@router.get("/updates", response_model=list[Update])
def updates(store: ReadStore) -> list[dict[str, object]]:
    """Published community updates, newest month first."""
    return [
        {
            **u,
            "url": update_url(u["area"], u["month"]),
            "pdf_url": update_url(u["area"], u["month"], "update.pdf"),
        }
        for u in list_published(store)
    ]


# --- events -------------------------------------------------------------------------------------


class Event(BaseModel):
    uid: str = Field(description="Stable iCalendar UID.")
    start: str = Field(description="Local time (Europe/London), YYYY-MM-DDTHH:MM.")
    end: str
    kind: str = Field(description=f"One of {', '.join(KINDS)}.")
    kind_label: str
    title: str
    place: str
    area: str | None = Field(description="The area's name.")
    area_reference: str | None
    notes: str | None


class Events(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="First day of the window, YYYY-MM-DD.")
    to: str = Field(description="Last day of the window, YYYY-MM-DD.")
    area: str | None
    events: list[Event]


@router.get("/events", response_model=Events, responses=NOT_FOUND)
def events(
    store: ReadStore,
    area: Annotated[
        str | None, Query(description="Only this area and the areas inside it.")
    ] = None,
    from_: Annotated[
        str | None, Query(alias="from", description="First day, YYYY-MM-DD (default: today).")
    ] = None,
    weeks: Annotated[int, Query(description=f"How many weeks ({WEEKS_RANGE}).")] = UPCOMING_WEEKS,
) -> object:
    """Engagements (street surveys, surgeries, meetings...) in a window of weeks. The same as
    an iCalendar file: /events.ics."""
    first, last = event_window(from_, weeks)
    try:
        items = list_engagements(store, area, first, last)
    except UnknownAreaError:
        return _no_area(area)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "area": area,
        "events": [{**e.to_dict(), "kind_label": KINDS[e.kind]} for e in items],
    }


# --- figures ------------------------------------------------------------------------------------


class Change(BaseModel):
    count_before: int
    count_after: int
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    pct_change: float | None
    p_value: float | None
    test: str = Field(description="The test used, and why (over-dispersion allowed for or not).")
    dispersion: float
    significant: bool
    direction: str = Field(
        description="rise or fall only when significant, else 'no clear change'."
    )


class AsbFigures(BaseModel):
    measure: str
    unit: str = Field(description="'ASB incidents': anti-social behaviour is not a crime.")
    count: int
    rate_per_1000: float | None
    ci_low: float | None
    ci_high: float | None
    rate_text: str
    change: Change | None
    change_text: str


class Stats(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    area: str = Field(description="The area's name.")
    area_kind: str
    from_: str = Field(alias="from", description="First month, YYYY-MM.")
    to: str = Field(description="Last month, YYYY-MM: the latest stored unless ?to= is given.")
    months: int = Field(description="Months of the twelve with data stored.")
    months_missing: list[str]
    months_used: list[str] = Field(description="The months every figure here counts.")
    forces: list[str] = Field(
        default_factory=list, description="The forces whose files cover the area."
    )
    months_missing_by_force: dict[str, list[str]] = Field(default_factory=dict)
    measure: str = Field(description="'crime': what ``count`` counts (ASB excluded).")
    unit: str = Field(description="'crimes'.")
    count: int = Field(description="Crimes, one per Crime ID and month; ASB is in ``asb``.")
    repeats_folded: int = Field(description="Stored rows repeating a Crime ID, not counted.")
    population: float | None
    population_year: int | None = Field(description="The ONS mid-year estimate used.")
    rate_per_1000: float | None = Field(description="Over the months with data.")
    ci_low: float | None = Field(description="Exact Poisson 95% interval of the rate.")
    ci_high: float | None
    rate_per_1000_per_year: float | None = None
    rate_text: str
    change: Change | None = Field(
        description="Against the same months a year before (None when not stored)."
    )
    change_text: str
    asb: AsbFigures = Field(description="Anti-social behaviour incidents, counted apart.")


@router.get("/stats/{area}", response_model=Stats, responses=NOT_FOUND)
def stats(
    request: Request,
    store: ReadStore,
    area: str,
    to: Annotated[str | None, Query(description="Last month, YYYY-MM.")] = None,
) -> object:
    """An area's figures for its latest twelve months: crimes and, apart, anti-social
    behaviour incidents, each with its rate per 1,000 residents (interval, population year)
    and its change against the same months a year before, worded by its test."""
    try:
        return cached(
            request, "api_stats", lambda: summary.area_summary(store, area, to=to), area, to
        )
    except UnknownAreaError:
        return _no_area(area)
