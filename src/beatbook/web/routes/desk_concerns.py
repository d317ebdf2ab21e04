"""Residents' concerns on the desk: /desk/concerns is the inbox of open concerns whose place
matched no street, with the closest suggestions; a form matches one to a street of its area
(analysts and inspectors). Below it, for analysts and inspectors only, the latest concerns
with what the resident wrote on the report form (private, like the contact). It never shows
the reporter's contact (no library function reads it back)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from beatbook.concerns import records as concerns
from beatbook.errors import BeatBookError
from beatbook.reference import concern_problems
from beatbook.users import User
from beatbook.web.deps import ReadStore, Viewer, check_csrf, database, render, require
from beatbook.web.routes.desk_common import back, flash

router = APIRouter()
PAGE = "/desk/concerns"
LATEST = 20  # the most recent concerns shown with what residents wrote
CSRF = [Depends(check_csrf)]


@router.get(PAGE)
def concerns_page(
    request: Request,
    store: ReadStore,
    user: Viewer,
    area: str | None = None,
) -> Response:
    labels = {p.slug: p.label for p in concern_problems()}
    rows: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] = []
    error = None
    try:
        rows = [
            {**r, "problem_label": labels.get(r["problem"], r["problem"])}
            for r in concerns.unmatched(store, area=area or None)
        ]
        if user.can("match_concerns"):
            found = concerns.team_list(store, area=area or None, free_text=True)
            latest = found[::-1][:LATEST]
    except BeatBookError as exc:
        error = str(exc)
    return render(
        request,
        "desk_concerns.html.j2",
        {
            "tab": "concerns",
            "rows": rows,
            "latest": latest,
            "area": area or "",
            "recorded": sorted(
                {str(r["area"]) for r in concerns.unmatched(store)} | {area or ""} - {""}
            ),
            "flash": flash(request),
            "error": error,
        },
    )


@router.post(PAGE + "/{concern_id}/match", dependencies=CSRF)
def match(
    request: Request,
    concern_id: int,
    user: Annotated[User, require("match_concerns")],
    place: Annotated[str, Form()] = "",
    area: Annotated[str, Form()] = "",
) -> Response:
    try:
        with database(request).write() as store:
            found = concerns.match(store, concern_id, place=place.strip() or None)
    except BeatBookError as exc:
        return back(request, PAGE, f"Concern {concern_id}: {exc}", error=True, area=area)
    return back(request, PAGE, f"Concern {concern_id} matched to {found['place']}.", area=area)
