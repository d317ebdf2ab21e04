"""Engagements on the desk: /desk/engagements is the calendar as a list (by day, from a
month); a form adds one (analysts and inspectors). Engagements are published, so the
library refuses an email address or phone number in their text."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from beatbook import engagements
from beatbook.errors import BeatBookError
from beatbook.months import parse_month
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
            "kinds": engagements.KINDS,
            "flash": flash(request),
            "error": error,
        },
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
        return back(request, PAGE, str(exc), error=True)
    day: dt.date = item.starts.date()
    return back(
        request,
        PAGE,
        f"{item.summary}, {item.starts:%Y-%m-%d %H:%M}: {status}.",
        month=f"{day:%Y-%m}",
    )
