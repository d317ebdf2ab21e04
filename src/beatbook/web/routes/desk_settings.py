"""A team's settings for its community update (admins only): /desk/settings shows the
area's TOML (team name, contact, reporting channels) and a form saves it, checked as
``beatbook update --settings`` checks a file. Publishing from the desk uses it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from beatbook import areas as areas_mod
from beatbook.errors import BeatBookError
from beatbook.publish import team_content
from beatbook.users import User
from beatbook.web.deps import ReadStore, check_csrf, database, render, require
from beatbook.web.routes.desk_common import back, flash, select

router = APIRouter()
PAGE = "/desk/settings"
EXAMPLE = """team = "West Leicester Neighbourhood Policing Team"
contact = "westleicester.npt@example.police.uk"

[[reporting]]
label = "Not an emergency"
how = "Call 101, or report online at your force's website."
"""


@router.get(PAGE)
def settings_page(
    request: Request,
    store: ReadStore,
    user: Annotated[User, require("manage_settings")],
    area: str | None = None,
) -> Response:
    sel = select(store, area, None)
    text, error = None, sel.error
    if sel.area:
        try:
            text = team_content.stored_settings_text(
                store, areas_mod.reference(areas_mod.resolve(store, sel.area))
            )
        except BeatBookError as exc:
            error = str(exc)
    return render(
        request,
        "desk_settings.html.j2",
        {
            "tab": "settings",
            "sel": sel,
            "text": text,
            "example": EXAMPLE,
            "defaults": team_content.DEFAULT_CHANNELS,
            "flash": flash(request),
            "error": error,
        },
    )


@router.post(PAGE, dependencies=[Depends(check_csrf)])
def save(
    request: Request,
    user: Annotated[User, require("manage_settings")],
    area: Annotated[str, Form()] = "",
    toml: Annotated[str, Form()] = "",
) -> Response:
    try:
        with database(request).write() as store:
            ref = areas_mod.reference(areas_mod.resolve(store, area))
            team_content.save_settings(store, ref, toml, f"desk: {user.username}")
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True, area=area)
    return back(request, PAGE, "Settings saved: the next update published uses them.", area=area)
