"""Users on the desk (admins only): /desk/users lists them with their roles; a form adds one.
Passwords are hashed by :func:`beatbook.users.add_user` (argon2id) and never shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from beatbook.errors import BeatBookError
from beatbook.users import ROLES, User, add_user, list_users
from beatbook.web.deps import ReadStore, check_csrf, database, render, require
from beatbook.web.routes.desk_common import back, flash

router = APIRouter()
PAGE = "/desk/users"


@router.get(PAGE)
def users_page(
    request: Request,
    store: ReadStore,
    user: Annotated[User, require("manage_users")],
) -> Response:
    return render(
        request,
        "desk_users.html.j2",
        {
            "tab": "users",
            "users": list_users(store),
            "roles": ROLES,
            "flash": flash(request),
        },
    )


@router.post(PAGE + "/add", dependencies=[Depends(check_csrf)])
def add(
    request: Request,
    user: Annotated[User, require("manage_users")],
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        with database(request).write() as store:
            made = add_user(store, username, role, password)
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True)
    return back(request, PAGE, f"User {made.username} ({made.role}) added.")
