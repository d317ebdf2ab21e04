"""The FastAPI app: public pages, the team's desk, the JSON API and static files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

from beatbook import settings
from beatbook.errors import BeatBookError
from beatbook.records.engine import DATABASE_ENV
from beatbook.store import default_store_path
from beatbook.web.cache import PageCache
from beatbook.web.db import Database, PinStoreVersion
from beatbook.web.deps import LoginRequired, render
from beatbook.web.limits import LoginThrottle, RateLimiter, signing_secret
from beatbook.web.routes import (
    api,
    auth,
    desk,
    desk_concerns,
    desk_engagements,
    desk_import,
    desk_operations,
    desk_priorities,
    desk_settings,
    desk_updates,
    desk_users,
    docs,
    public,
    report,
)
from beatbook.web.security import (
    SecurityHeaders,
    Signer,
    TrustedProxies,
    csp,
    trusted_networks,
)

STATIC = Path(__file__).parent / "static"
SECRET_ENV = "BEATBOOK_SECRET"  # signs forms and cookies (default: one kept with the records)
SERVE_OPTIONS_ENV = "BEATBOOK_SERVE_OPTIONS"  # create_app's other options, JSON, for workers
UNREACHABLE = (
    "BeatBook cannot reach the team's records just now. Please try again in a minute: "
    "what you sent was not stored (sending a report again is safe)."
)
UNREACHABLE_PAGE = (
    '<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Try again soon · '
    'BeatBook</title><meta name="viewport" content="width=device-width, initial-scale=1">'
    f"</head><body><h1>Try again in a minute</h1><p>{UNREACHABLE}</p>"
    '<p><a href="/">Home</a></p></body></html>'
)


def create_app(
    store_path: Path,
    *,
    database: str | None = None,
    secret: str | None = None,
    secure_cookies: bool = False,
    tile_url: str | None = None,
    report_limit: tuple[int, float] = (5, 600.0),
    login_throttle: LoginThrottle | None = None,
    trusted_proxies: Iterable[str] = (),
    session_idle: float = settings.SESSION_IDLE_SECONDS,
    session_lifetime: float = settings.SESSION_LIFETIME_SECONDS,
) -> FastAPI:
    """The app over one store (the team's records in it, or in the PostgreSQL database at
    ``database``, the store file then only read). ``secret`` signs CSRF tokens, desk messages
    and the anonymous cookie (by default one kept with the records, shared by every worker
    and kept over restarts: ``web/limits.py``); ``tile_url`` an optional map tile server
    (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png), maps work without it;
    ``trusted_proxies`` the addresses (or networks) of reverse proxies whose
    X-Forwarded-For and X-Forwarded-Proto are believed; ``session_idle`` and
    ``session_lifetime`` in seconds."""
    proxies = [str(net) for net in trusted_networks(trusted_proxies)]  # refused before opening
    app = FastAPI(
        title="BeatBook",
        summary="Public data of a neighbourhood policing team.",
        docs_url=None,
        redoc_url=None,
    )  # /docs: routes/docs.py
    app.state.db = Database(Path(store_path), database)
    app.state.page_cache = PageCache(settings.PAGE_CACHE_SECONDS, settings.PAGE_CACHE_ENTRIES)
    with app.state.db.write() as store:
        app.state.signer = Signer(secret or signing_secret(store.team_records))
    app.state.secure_cookies = secure_cookies
    app.state.tile_url = tile_url
    app.state.report_limiter = RateLimiter(*report_limit)
    app.state.login_throttle = login_throttle or LoginThrottle()
    app.state.session_idle, app.state.session_lifetime = session_idle, session_lifetime
    app.add_middleware(PinStoreVersion, db=app.state.db)  # innermost: around the routes
    app.add_middleware(SecurityHeaders, policy=csp(tile_url))
    app.add_middleware(TrustedProxies, proxies=proxies)  # outermost: the others see the client
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    app.include_router(public.router)
    app.include_router(report.router)
    app.include_router(api.router)
    app.include_router(docs.router)
    for module in (
        desk,
        desk_priorities,
        desk_operations,
        desk_engagements,
        desk_concerns,
        desk_updates,
        desk_users,
        desk_settings,
        desk_import,
    ):
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(BeatBookError)
    async def bad_input(request: Request, exc: BeatBookError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return render(request, "error.html.j2", {"message": str(exc)}, status_code=400)

    @app.exception_handler(sa.exc.OperationalError)
    @app.exception_handler(sa.exc.InterfaceError)
    async def records_unreachable(request: Request, exc: Exception) -> Response:
        """The database of the team's records is down or restarting: 503 and when to try
        again, never a 500 (the page is plain: the desk's layout would ask the database)."""
        headers = {"Retry-After": str(settings.RECORDS_RETRY_AFTER_SECONDS)}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": UNREACHABLE}, status_code=503, headers=headers)
        return HTMLResponse(UNREACHABLE_PAGE, status_code=503, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        """A person gets a page saying what went wrong (a refused role, an expired form);
        the API and FastAPI's own answers stay JSON."""
        if request.url.path.startswith(("/api/", "/openapi")) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        return render(
            request, "error.html.j2", {"message": str(exc.detail)}, status_code=exc.status_code
        )

    return app


def app_from_environment() -> FastAPI:
    """One worker's app under ``beatbook serve --workers N``. Workers are started afresh (not
    forked), so they cannot be handed the app: ``serve`` leaves the store, the database and
    its other options in the environment, and each worker builds its own app from them."""
    from beatbook.web.server import limit_logs

    limit_logs()  # a new process: its loggers have no filter yet
    options = json.loads(os.environ.get(SERVE_OPTIONS_ENV) or "{}")
    return create_app(
        default_store_path(),
        database=os.environ.get(DATABASE_ENV) or None,
        secret=os.environ.get(SECRET_ENV) or None,
        **options,
    )
