"""Operations on the desk: /desk/operations lists them with their roll-ups; forms add an
operation and record a result (refused whole, with the library's message, when it would
break the area hierarchy). A refused operation comes back (400) with what was typed."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from beatbook.errors import BeatBookError
from beatbook.figures.dashboard import area_choices
from beatbook.months import day_bounds
from beatbook.operations import records as operations
from beatbook.settings import DESCRIPTION, OPERATION_NAME
from beatbook.store import Store
from beatbook.users import User
from beatbook.web.deps import ReadStore, Viewer, check_csrf, database, render, require
from beatbook.web.routes.desk_common import back, flash

router = APIRouter()
PAGE = "/desk/operations"
CSRF = [Depends(check_csrf)]


@router.get(PAGE)
def operations_page(
    request: Request,
    store: ReadStore,
    user: Viewer,
) -> Response:
    return _page(request, store)


def _page(
    request: Request, store: Store, typed: dict[str, Any] | None = None, refused: str | None = None
) -> Response:
    """The page; after a refused operation, with its message and what was typed (400)."""
    rows: list[dict[str, Any]] = []
    first, last = day_bounds()
    error = None
    try:
        for op in operations.list_operations(store):
            rows.append({**op, "rollup": operations.rollup(store, str(op["operation"]))})
    except BeatBookError as exc:
        error = str(exc)
    return render(
        request,
        "desk_operations.html.j2",
        {
            "tab": "operations",
            "operations": rows,
            "measures": list(operations.MEASURES),
            "areas": area_choices(store),
            "flash": {"text": refused, "kind": "error"} if refused else flash(request),
            "error": error,
            "typed": typed or {},
            "limits": {"name": OPERATION_NAME.high, "description": DESCRIPTION.high},
            "day_min": first.isoformat(),
            "day_max": last.isoformat(),
        },
        status_code=400 if refused else 200,
    )


def _area_list(chosen: list[str]) -> list[str]:
    """The areas chosen from the list (or, sent by a script, typed one a line or with ';')."""
    return [a.strip() for text in chosen for a in re.split(r"[;\n]", text) if a.strip()]


@router.post(PAGE + "/add", dependencies=CSRF)
def add_operation(
    request: Request,
    user: Annotated[User, require("record_results")],
    name: Annotated[str, Form()] = "",
    starts: Annotated[str, Form()] = "",
    ends: Annotated[str, Form()] = "",
    areas: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form()] = "",
) -> Response:
    try:
        first = operations.parse_date(starts, "from")
        last = operations.parse_date(ends, "to")
        with database(request).write() as store:
            op = operations.add_operation(
                store, name, first, last, _area_list(areas or []), description
            )
    except BeatBookError as exc:
        typed = {"name": name, "starts": starts, "ends": ends, "areas": _area_list(areas or [])}
        with database(request).read() as store:
            return _page(request, store, typed | {"description": description}, str(exc))
    return back(request, PAGE, f"{op.name} saved ({op.starts} to {op.ends}).")


@router.post(PAGE + "/result", dependencies=CSRF)
def record_result(
    request: Request,
    user: Annotated[User, require("record_results")],
    operation: Annotated[str, Form()] = "",
    area: Annotated[str, Form()] = "",
    measure: Annotated[str, Form()] = "",
    count: Annotated[str, Form()] = "",
) -> Response:
    try:
        number = operations.parse_count(count)
        with database(request).write() as store:
            changed = operations.record_result(
                store, operation, area.strip() or None, measure, number, user.username
            )
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True)
    where = area.strip() or "the whole operation"
    what = "recorded" if changed else "unchanged (the same count was already recorded)"
    return back(request, PAGE, f"{operation}: {measure} {number} for {where} {what}.")
