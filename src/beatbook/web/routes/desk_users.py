"""Users on the desk (admins only): /desk/users lists them with their roles and live sessions;
forms add one, disable or enable one, set a password and end a user's sessions (each ends
the user's sessions at once, but the admin's own current one). Passwords are hashed by
:mod:`beatbook.users` (argon2id) and never shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from beatbook import users
from beatbook.errors import BeatBookError
from beatbook.users import ROLES, User, add_user, list_users
from beatbook.web.deps import ReadStore, check_csrf, database, render, require, session
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
            "sessions": users.live_sessions(
                store,
                idle=request.app.state.session_idle,
                lifetime=request.app.state.session_lifetime,
            ),
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


Admin = Annotated[User, require("manage_users")]


def _mine(request: Request, admin: User, username: str) -> str | None:
    """The admin's own session id when the action is on themselves (it is kept)."""
    found = session(request)
    return found.id if found and username.strip().lower() == admin.username else None


def _ended(n: int) -> str:
    return "1 session ended" if n == 1 else f"{n} sessions ended"


@router.post(PAGE + "/{username}/disable", dependencies=[Depends(check_csrf)])
def disable(request: Request, user: Admin, username: str) -> Response:
    if username.strip().lower() == user.username:
        return back(request, PAGE, "You cannot disable yourself.", error=True)
    try:
        with database(request).write() as store:
            ended = users.set_disabled(store, username, True)
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True)
    return back(request, PAGE, f"User {username} disabled; {_ended(ended)}.")


@router.post(PAGE + "/{username}/enable", dependencies=[Depends(check_csrf)])
def enable(request: Request, user: Admin, username: str) -> Response:
    try:
        with database(request).write() as store:
            users.set_disabled(store, username, False)
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True)
    return back(request, PAGE, f"User {username} enabled.")


@router.post(PAGE + "/{username}/password", dependencies=[Depends(check_csrf)])
def set_password(
    request: Request, user: Admin, username: str, password: Annotated[str, Form()] = ""
) -> Response:
    try:
        with database(request).write() as store:
            ended = users.set_password(
                store, username, password, keep=_mine(request, user, username)
            )
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True)
    return back(request, PAGE, f"Password of {username} set; {_ended(ended)}.")


@router.post(PAGE + "/{username}/end-sessions", dependencies=[Depends(check_csrf)])
def end_sessions(request: Request, user: Admin, username: str) -> Response:
    try:
        with database(request).write() as store:
            ended = users.end_sessions(store, username, keep=_mine(request, user, username))
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True)
    return back(request, PAGE, f"{username}: {_ended(ended)}.")
