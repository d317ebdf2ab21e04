"""The public "tell us about a problem" form: GET and POST /report.

A report becomes a residents' concern (:func:`beatbook.concerns.reports.record_report`,
source ``online``), stored under the app's write lock. Its place is a pin on a small map (the
pin's latitude and longitude, which must lie inside the chosen area) or a street name, matched
to police.uk snap points; the thanks page says where it was placed. In order, a POST is
refused without a valid CSRF token (403, nothing stored), answered 429 past the per-address
rate limit (``app.state.report_limiter``), answered as accepted but stored nowhere when the
hidden honeypot field ``website`` is filled in, and answered 400 with a message beside each
bad field. The form's hidden ``submission_id`` makes a double submit store one concern.

The reporter's contact and description are private: the contact goes to ``concern_contacts``
and the description to ``concern_descriptions`` only. No page, not even the form shown again
after a mistake or the thanks page, echoes either, and nothing here logs a field of the form.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from beatbook import areas as areas_mod
from beatbook.concerns.matching import PlaceMatch
from beatbook.concerns.reports import MAX_DESCRIPTION, record_report
from beatbook.errors import ConcernFieldError, InputError
from beatbook.figures.place_search import covered_areas
from beatbook.reference import concern_problems
from beatbook.reference.snap_points import PREFIX
from beatbook.store import Store
from beatbook.web.deps import ReadStore, check_csrf, database
from beatbook.web.routes.public import cached, page, pin_map

router = APIRouter()
SOURCE = "online"
# record_report's field names -> the form's labels
LABELS = {
    "date": "Date",
    "where": "Place",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "problem": "Problem",
    "contact": "Contact",
    "description": "Description",
    "area": "Area",
}


def area_choices(store: Store) -> list[dict[str, Any]]:
    """What the form offers: each team area and the wards inside it (or, before any team area
    is defined, the local authorities the stored forces police), as [{label, options:
    [(reference, name)]}]."""
    teams = areas_mod.team_areas(store)
    if not teams:
        options = [(areas_mod.reference(a), a.name) for a in covered_areas(store)]
        return [{"label": "Local authorities", "options": options}]
    groups: list[dict[str, Any]] = []
    for team in teams:
        wards = areas_mod.wards_within(store, team)
        options = [(areas_mod.reference(team), f"{team.name} (anywhere in the area)")]
        options += [(areas_mod.reference(w), w.name) for w in wards]
        groups.append({"label": team.name, "options": options})
    return groups


def _choices(request: Request, store: Store) -> list[dict[str, Any]]:
    """:func:`area_choices`, worked out at most once a minute per app (every form view and
    report needs them; a team area added meanwhile shows within a minute)."""
    choices: list[dict[str, Any]] = cached(request, "report_choices", lambda: area_choices(store))
    return choices


def _form(
    request: Request,
    store: Store,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    had_contact: bool = False,
    status_code: int = 200,
) -> Response:
    values = dict(values or {})
    values.pop("contact", None)  # never sent back: the resident types it again
    values.pop("description", None)  # nor this (report.js keeps a copy in the browser)
    values.setdefault("submission_id", str(uuid.uuid4()))
    limiter = request.app.state.report_limiter
    return page(
        request,
        store,
        "report_form.html.j2",
        {
            "choices": _choices(request, store),
            "problems": concern_problems(),
            "values": values,
            "errors": errors or {},
            "message": message,
            "today": dt.date.today().isoformat(),
            "had_contact": had_contact,
            "limit_minutes": max(1, math.ceil(limiter.window / 60)),
            "max_description": MAX_DESCRIPTION,
            "map": cached(request, "report_map", lambda: pin_map(store)),
            "tile_url": request.app.state.tile_url or "",
        },
        status_code=status_code,
    )


@router.get("/report")
def report_form(request: Request, store: ReadStore) -> Response:
    return _form(request, store)


@router.post("/report", dependencies=[Depends(check_csrf)])
def report(
    request: Request,
    area: Annotated[str, Form()] = "",
    where: Annotated[str, Form()] = "",
    latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "",
    problem: Annotated[str, Form()] = "",
    date: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
    submission_id: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "area": area,
        "where": where,
        "latitude": latitude,
        "longitude": longitude,
        "problem": problem,
        "date": date,
        "submission_id": submission_id,
    }

    def again(
        store: Store,
        status_code: int,
        *,
        errors: dict[str, str] | None = None,
        message: str | None = None,
    ) -> Response:
        """The form once more, with what was typed (never the contact) and what was wrong."""
        return _form(
            request,
            store,
            values=values,
            errors=errors,
            message=message,
            had_contact=bool(contact.strip()),
            status_code=status_code,
        )

    problem_name = next((p.label for p in concern_problems() if p.slug == problem), problem)
    db = database(request)
    client = request.client.host if request.client else "unknown"
    with db.write() as store:  # the count is shared by every worker
        allowed = request.app.state.report_limiter.allow(store.team_records, f"report:{client}")
    if not allowed:
        with db.read() as store:
            return again(
                store,
                429,
                message=(
                    "We have had several reports from your connection in the last few minutes. "
                    "Please wait a little and send it again, or call 101."
                ),
            )
    if website.strip():  # only a robot fills in the hidden field: looks accepted, stores nothing
        with db.read() as store:
            fake = secrets.randbelow(900_000) + 100_000
            return _thanks(request, store, fake, values, problem_name, PlaceMatch())
    with db.read() as store:
        allowed = {ref for group in _choices(request, store) for ref, _ in group["options"]}
        if area not in allowed:
            return again(
                store, 400, errors={"area": "Area: choose the area the problem is in from the list"}
            )
    try:
        with db.write() as store:
            concern_id, place = record_report(
                store,
                area=area,
                reported_on=date,
                problem=problem,
                source=SOURCE,
                where=where.strip() or None,
                latitude=latitude.strip() or None,
                longitude=longitude.strip() or None,
                description=description.strip() or None,
                contact=contact.strip() or None,
                submission_id=submission_id.strip() or None,
            )
    except ConcernFieldError as exc:
        errors: dict[str, str] = {}
        for column, problem_text in exc.errors:
            key = column if column in LABELS else "form"
            line = f"{LABELS.get(column, column.capitalize())}: {problem_text}"
            errors[key] = f"{errors[key]}; {line}" if key in errors else line
        with db.read() as store:
            return again(store, 400, errors=errors)
    except InputError as exc:
        with db.read() as store:
            return again(store, 400, errors={"form": str(exc)})
    with db.read() as store:
        return _thanks(request, store, concern_id, values, problem_name, place)


def _thanks(
    request: Request,
    store: Store,
    reference: int,
    values: dict[str, str],
    problem: str,
    place: PlaceMatch,
) -> Response:
    return page(
        request,
        store,
        "report_thanks.html.j2",
        {
            "reference": reference,
            "where": values["where"].strip(),
            "coordinates": (values["latitude"].strip(), values["longitude"].strip()),
            "placed": place.place.removeprefix(PREFIX) if place.place else None,
            "date": values["date"],
            "problem": problem,
        },
    )
