"""Dependencies shared by the routes: the store, the signed-in user, role checks, CSRF,
and the page renderer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, Form, HTTPException, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.responses import Response

from beatbook.store import Store
from beatbook.users import Session, User, find_session, touch_session
from beatbook.web.db import Database
from beatbook.web.plain import web_message, when
from beatbook.web.security import ANON_COOKIE, SESSION_COOKIE, Signer

# autoescape=True for every template: starlette's default escapes only names ending in .html,
# and ours end in .html.j2.
templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")), autoescape=True
    )
)
templates.env.filters["when"] = when
# A file the team imported, by its name: the server's folders are not the desk's business.
templates.env.filters["file_name"] = lambda path: Path(str(path)).name


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def reader(request: Request) -> Iterator[Store]:
    """A cursor on the store for this request (reads only)."""
    with database(request).read() as store:
        yield store


def signer(request: Request) -> Signer:
    s: Signer = request.app.state.signer
    return s


_UNKNOWN = object()


def client_address(request: Request) -> str:
    """The client's address: the connection's, or a trusted proxy's X-Forwarded-For
    (:class:`beatbook.web.security.TrustedProxies`)."""
    return request.client.host if request.client else "unknown"


def session(request: Request) -> Session | None:
    """The request's live session (looked up once per request), its idle time restarted
    when the last restart is more than a minute (or a tenth of the idle time) old."""
    cached = getattr(request.state, "bb_session", _UNKNOWN)
    if cached is not _UNKNOWN:
        return cast(Session | None, cached)
    state = request.app.state
    found = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with database(request).read() as store:
            found = find_session(
                store, cookie, idle=state.session_idle, lifetime=state.session_lifetime
            )
        if found is not None and time.time() - found.seen_at > min(60.0, state.session_idle / 10):
            with database(request).write() as store:
                touch_session(store, found.id)
    request.state.bb_session = found
    return found


def optional_user(request: Request) -> User | None:
    found = session(request)
    return found.user if found else None


class LoginRequired(Exception):
    """Raised for a desk page without a session: answered with a redirect to /login."""


def require(action: str) -> Any:
    """A dependency that lets through only a signed-in user whose role may do ``action``
    (:data:`beatbook.users.PERMISSIONS`); others get /login or 403."""

    def check(user: Annotated[User | None, Depends(optional_user)]) -> User:
        if user is None:
            raise LoginRequired()
        if not user.can(action):
            raise HTTPException(403, f"your role ({user.role}) may not do this")
        return user

    return Depends(check)


def csrf_nonce(request: Request) -> str | None:
    """What the CSRF token is bound to: the session id, else the anonymous cookie."""
    found = session(request)
    if found is not None:
        return found.id
    return signer(request).read_anon(request.cookies.get(ANON_COOKIE))


def check_csrf(request: Request, csrf_token: str = Form("")) -> None:
    """Refuse a state-changing form whose token does not match this session."""
    if not signer(request).check_csrf(csrf_nonce(request), csrf_token):
        raise HTTPException(
            403,
            "the form has expired or did not come from this site: reload the page and try again",
        )


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or bool(request.app.state.secure_cookies)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A page from ``web/templates`` with the user and a CSRF token for its forms. A visitor
    without a session gets a signed anonymous cookie that public forms' tokens bind to. The
    page's message (``error``, ``message``, ``flash``) is put in plain words (:mod:`plain`)."""
    context = dict(context)
    for key in ("error", "message"):
        if isinstance(context.get(key), str):
            context[key] = web_message(context[key])
    if isinstance(context.get("flash"), dict) and "text" in context["flash"]:
        context["flash"] = {**context["flash"], "text": web_message(context["flash"]["text"])}
    nonce = csrf_nonce(request)
    new_anon = None
    if nonce is None:
        new_anon = signer(request).anon_value()
        nonce = signer(request).read_anon(new_anon)
    page = templates.TemplateResponse(
        request,
        name,
        {
            **context,
            "user": optional_user(request),
            "csrf_token": signer(request).csrf_token(nonce or ""),
        },
        status_code=status_code,
    )
    if new_anon:
        page.set_cookie(
            ANON_COOKIE, new_anon, httponly=True, samesite="lax", secure=secure(request)
        )
    return page


#: A read-only cursor on the store for this request, as a route parameter type.
ReadStore = Annotated[Store, Depends(reader)]
#: The signed-in user, who must be allowed to view the desk.
Viewer = Annotated[User, require("view")]
