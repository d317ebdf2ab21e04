"""Sign in and out (/login, /logout) and a user's own password (/desk/password).

A sign-in starts a session in the store (:func:`beatbook.users.start_session`) and sets a
cookie with its random id; signing out deletes the session, so a copy of the cookie stops
working at once. Wrong passwords slow down further tries from the same address for the same
username (:class:`beatbook.web.limits.LoginThrottle`); the page and ``Retry-After`` say
when to try again.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from beatbook.errors import BeatBookError
from beatbook.users import (
    User,
    authenticate,
    change_own_password,
    end_session,
    purge_sessions,
    start_session,
)
from beatbook.web.deps import (
    Viewer,
    check_csrf,
    client_address,
    database,
    render,
    secure,
    session,
)
from beatbook.web.limits import LoginThrottle
from beatbook.web.routes.desk_common import back, flash
from beatbook.web.security import SESSION_COOKIE, retry_text

router = APIRouter()
PASSWORD_PAGE = "/desk/password"


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host or scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/desk"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html.j2", {"next": _safe_next(next), "error": None})


def _login_again(request: Request, next_: str, error: str, status: int, wait: float) -> Response:
    page = render(request, "login.html.j2", {"next": _safe_next(next_), "error": error}, status)
    if wait > 0:
        page.headers["Retry-After"] = str(math.ceil(wait))
    return page


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/desk")
) -> Response:
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_address(request)
    db = database(request)
    wait = throttle.wait(db.records, username, address)
    if wait > 0:
        return _login_again(
            request,
            next,
            f"Too many wrong passwords from here: try again in {retry_text(wait)}.",
            429,
            wait,
        )
    with db.read() as store:
        user = authenticate(store, username, password)
    with db.write() as store:  # the counters are shared by every worker
        if user is None:
            wait = throttle.failed(store.team_records, username, address)
        else:
            throttle.succeeded(store.team_records, username, address)
    if user is None:
        later = f" Too many tries: the next in {retry_text(wait)}." if wait > 0 else ""
        return _login_again(request, next, f"Wrong username or password.{later}", 401, wait)
    return _signed_in(request, user, _safe_next(next))


def _signed_in(request: Request, user: User, target: str) -> Response:
    """A new session (never the one the browser came with) and its cookie."""
    state = request.app.state
    old = session(request)
    with database(request).write() as store:
        if old is not None:
            end_session(store, old.id)
        purge_sessions(store, idle=state.session_idle, lifetime=state.session_lifetime)
        session_id = start_session(store, user)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(state.session_lifetime),
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    found = session(request)
    if found is not None:
        with database(request).write() as store:
            end_session(store, found.id)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=secure(request))
    return response


@router.get(PASSWORD_PAGE)
def password_page(request: Request, user: Viewer) -> Response:
    return render(request, "desk_password.html.j2", {"tab": "password", "flash": flash(request)})


@router.post(PASSWORD_PAGE, dependencies=[Depends(check_csrf)])
def change_password(
    request: Request,
    user: Viewer,
    current: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    again: Annotated[str, Form()] = "",
) -> Response:
    """The signed-in user's own password; their other sessions end, this one stays."""
    if password != again:
        return back(
            request, PASSWORD_PAGE, "The new passwords differ: nothing changed.", error=True
        )
    found = session(request)
    try:
        with database(request).write() as store:
            ended = change_own_password(
                store, user, current, password, keep=found.id if found else None
            )
    except BeatBookError as exc:
        return back(request, PASSWORD_PAGE, str(exc), error=True)
    return back(
        request, PASSWORD_PAGE, f"Password changed; {_sessions(ended)} elsewhere signed out."
    )


def _sessions(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"
