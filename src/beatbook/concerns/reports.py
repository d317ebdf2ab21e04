"""A resident's report from the public form: a concern with a place given by a map pin or a
street name, and what the resident wrote about it.

Every field is checked here before anything is stored, so the form can name each bad field at
once: the concern's own fields by the same rules and messages as a CSV row
(:func:`beatbook.concerns.csv_import.parse_row`), then the description's length, then the pin,
which must lie inside the chosen area (its LSOA outlines when they are stored, else within
:data:`~beatbook.concerns.matching.MAX_DISTANCE_M` of one of the area's snap points: a pin in
the wrong place would be counted nowhere). The description is private like the contact: it is
kept in ``concern_descriptions``, read only by the team's own list
(:func:`beatbook.concerns.records.team_list` with ``free_text``), never published, echoed or
logged; an error never repeats it.
"""

from __future__ import annotations

import datetime as dt

import shapely

from beatbook import queries
from beatbook.areas import Area, resolve
from beatbook.concerns.csv_import import parse_coordinate, parse_row, record_concern
from beatbook.concerns.matching import PlaceMatch, PlaceMatcher
from beatbook.concerns.records import placed
from beatbook.errors import NUL_PROBLEM, ConcernFieldError
from beatbook.store import Store

__all__ = ["MAX_DESCRIPTION", "check_pin", "record_report"]

# A few paragraphs: enough to say what happens, when and who is affected; a cap keeps the
# private table from holding pasted documents.
MAX_DESCRIPTION = 2000


def check_pin(store: Store, area: Area, longitude: float, latitude: float) -> str | None:
    """Why a map pin cannot be used for ``area`` (None when it lies inside the area)."""
    shape = queries.area_shape(store, area)
    if shape is not None:
        if shape.covers(shapely.Point(longitude, latitude)):
            return None
    else:
        found = PlaceMatcher.for_area(store, area).by_coordinates(longitude, latitude)
        if found.place is not None:
            return None
    return (
        f"{latitude:.5f}, {longitude:.5f} is outside {area.name}; put the pin inside the area, "
        "or type the street instead"
    )


def record_report(
    store: Store,
    *,
    area: str | Area,
    reported_on: str,
    problem: str,
    source: str,
    where: str | None = None,
    latitude: str | None = None,
    longitude: str | None = None,
    description: str | None = None,
    contact: str | None = None,
    submission_id: str | None = None,
    today: dt.date | None = None,
) -> tuple[int, PlaceMatch]:
    """Check and store one report; returns its ``concern_id`` and where it was placed (a
    snap point, or ``place`` None when the team must place it by hand).

    Bad fields raise :class:`ConcernFieldError` naming each (the CSV import's columns and
    messages, plus 'description'), before anything is stored. Sending the same
    ``submission_id`` again stores nothing more and returns the first report's id."""
    resolved = resolve(store, area) if isinstance(area, str) else area
    cells = {
        "date": reported_on,
        "where": where or "",
        "problem": problem,
        "source": source,
        "contact": contact or "",
        "latitude": latitude or "",
        "longitude": longitude or "",
    }
    _, errors = parse_row(cells, None, today)
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION:
        errors.append(("description", f"longer than {MAX_DESCRIPTION} characters"))
    if "\x00" in text:
        errors.append(("description", NUL_PROBLEM))
    bad_coordinates = any(column in ("latitude", "longitude") for column, _ in errors)
    if cells["latitude"].strip() and cells["longitude"].strip() and not bad_coordinates:
        outside = check_pin(
            store,
            resolved,
            parse_coordinate(cells["longitude"], "longitude"),
            parse_coordinate(cells["latitude"], "latitude"),
        )
        if outside:
            errors.append(("latitude", outside))
    if errors:
        raise ConcernFieldError(errors)
    concern_id = record_concern(
        store,
        area=resolved,
        reported_on=reported_on,
        problem=problem,
        source=source,
        where=where,
        latitude=latitude,
        longitude=longitude,
        contact=contact,
        description=text or None,
        submission_id=submission_id,
        today=today,
    )
    return concern_id, placed(store, concern_id)
