"""Sign in and out: /login, /logout."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from beatbook.users import authenticate
from beatbook.web.deps import check_csrf, database, render, secure, signer
from beatbook.web.security import SESSION_COOKIE, SESSION_SECONDS

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host or scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/desk"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html.j2", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/desk")
) -> Response:
    client = request.client.host if request.client else "unknown"
    limiter = request.app.state.login_limiter
    if not (limiter.allow(f"ip:{client}") and limiter.allow(f"user:{username.strip().lower()}")):
        return render(
            request,
            "login.html.j2",
            {
                "next": _safe_next(next),
                "error": "Too many attempts: wait a few minutes and try again.",
            },
            429,
        )
    with database(request).read() as store:
        user = authenticate(store, username, password)
    if user is None:
        return render(
            request,
            "login.html.j2",
            {"next": _safe_next(next), "error": "Wrong username or password."},
            401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signer(request).session_value(user.username),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
