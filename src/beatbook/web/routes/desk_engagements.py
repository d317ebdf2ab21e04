"""Engagements on the desk: /desk/engagements is the calendar as a list (by day, from a
month); a form adds one (analysts and inspectors). Engagements are published, so the
library refuses an email address or phone number in their text, and text over the print's
limits; a refused form comes back (400) with the message and what was typed."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from beatbook import engagements
from beatbook.errors import BeatBookError
from beatbook.figures.dashboard import area_choices
from beatbook.months import parse_month
from beatbook.settings import DESCRIPTION, ENGAGEMENT_TITLE, PLACE
from beatbook.store import Store
from beatbook.users import User
from beatbook.web.deps import ReadStore, Viewer, check_csrf, database, render, require
from beatbook.web.routes.desk_common import back, flash

router = APIRouter()
PAGE = "/desk/engagements"
CSRF = [Depends(check_csrf)]


@router.get(PAGE)
def engagements_page(
    request: Request,
    store: ReadStore,
    user: Viewer,
    month: str | None = None,
    area: str | None = None,
) -> Response:
    """Every engagement from the first of ``month`` (default: all), in ``area`` or inside it."""
    return _page(request, store, month, area)


def _page(
    request: Request,
    store: Store,
    month: str | None,
    area: str | None,
    typed: dict[str, str] | None = None,
    refused: str | None = None,
) -> Response:
    """The page; after a refused form, with its message and what was typed (400)."""
    error, days = None, []
    try:
        start = parse_month(month, "month") if month else None
        found = engagements.list_engagements(store, area=area or None, start=start)
        days = [(day, list(items)) for day, items in groupby(found, key=lambda e: e.starts.date())]
    except BeatBookError as exc:
        error = str(exc)
    return render(
        request,
        "desk_engagements.html.j2",
        {
            "tab": "engagements",
            "days": days,
            "month": month or "",
            "area": area or "",
            "areas": area_choices(store),
            "kinds": engagements.KINDS,
            "flash": {"text": refused, "kind": "error"} if refused else flash(request),
            "error": error,
            "typed": typed or {},
            "limits": {
                "place": PLACE.high,
                "title": ENGAGEMENT_TITLE.high,
                "notes": DESCRIPTION.high,
            },
        },
        status_code=400 if refused else 200,
    )


@router.post(PAGE + "/add", dependencies=CSRF)
def add_engagement(
    request: Request,
    user: Annotated[User, require("engagements")],
    when: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    place: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    area: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    try:
        with database(request).write() as store:
            item, status = engagements.add_engagement(
                store,
                when=when,
                until=until.strip() or None,
                place=place,
                kind=kind,
                area=area,
                title=title.strip() or None,
                notes=notes.strip() or None,
            )
    except BeatBookError as exc:
        typed = {"when": when, "until": until, "place": place, "kind": kind, "area": area}
        typed |= {"title": title, "notes": notes}
        with database(request).read() as store:
            return _page(request, store, None, None, typed, str(exc))
    day: dt.date = item.starts.date()
    return back(
        request,
        PAGE,
        f"{item.summary}, {item.starts:%Y-%m-%d %H:%M}: {status}.",
        month=f"{day:%Y-%m}",
    )
