"""Dependencies shared by the routes: the store, the signed-in user, role checks, CSRF,
and the page renderer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.responses import Response

from beatbook.store import Store
from beatbook.users import User, get_user
from beatbook.web.db import Database
from beatbook.web.security import ANON_COOKIE, SESSION_COOKIE, Signer

# autoescape=True for every template: starlette's default escapes only names ending in .html,
# and ours end in .html.j2.
templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")), autoescape=True
    )
)


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


def session(request: Request) -> dict[str, str] | None:
    return signer(request).read_session(request.cookies.get(SESSION_COOKIE))


def optional_user(request: Request) -> User | None:
    data = session(request)
    if data is None:
        return None
    with database(request).read() as store:
        return get_user(store, data["u"])


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
    """What the CSRF token is bound to: the session's nonce, else the anonymous cookie."""
    data = session(request)
    if data is not None:
        return data["n"]
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
    without a session gets a signed anonymous cookie that public forms' tokens bind to."""
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
