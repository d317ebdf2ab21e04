"""A real uvicorn server over a small store of its own, and browsers with real cookies, for
the sign-in, session, proxy and server-limit tests (issue 17, items 8-12).

The store holds users only (``ADMIN``, ``ANALYST``, ``INSPECTOR`` with ``PASSWORD``): these
tests need no crime data, so they start in a second. A browser can come from another
loopback address (``127.0.0.2``...): Linux routes all of 127.0.0.0/8 to the loopback
interface, so the server sees a different client address without any header.

``live`` serves the store with its team records where ``--records-backend`` keeps them (on
postgres: a database of its own, made from the file's records when the server starts).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from web_support import SECRET, csrf_of

from beatbook.store import Store
from beatbook.users import add_user
from beatbook.web import create_app
from beatbook.web.security import SESSION_COOKIE
from beatbook.web.testing import serving
from support.records_backend import TeamSQL, attached

PASSWORD = "correct horse battery staple"
ADMIN, ANALYST, INSPECTOR = "admin.one", "analyst.one", "inspector.one"


def make_store(path: Path) -> Path:
    with Store(path) as st:
        add_user(st, ADMIN, "admin", PASSWORD)
        add_user(st, "admin.two", "admin", PASSWORD)
        add_user(st, ANALYST, "analyst", PASSWORD)
        add_user(st, INSPECTOR, "inspector", PASSWORD)
    return path


@dataclass
class Live:
    app: FastAPI
    url: str

    def browser(self, address: str | None = None, **kw: Any) -> httpx.Client:
        """A browser of its own (cookies), from ``address`` on loopback if given."""
        transport = httpx.HTTPTransport(local_address=address) if address else None
        return httpx.Client(base_url=self.url, transport=transport, timeout=30, **kw)

    def sessions(self, username: str | None = None) -> int:
        """Rows in the sessions table (the tests' own SQL)."""
        with TeamSQL.of_app(self.app.state.db) as sql:
            if username is None:
                return int(sql.scalar("SELECT count(*) FROM sessions"))
            return int(sql.scalar("SELECT count(*) FROM sessions WHERE username = ?", [username]))


@contextmanager
def live(
    store: Path, *, limits: dict[str, Any] | None = None, **app_options: Any
) -> Iterator[Live]:
    """``create_app(store, **app_options)`` served by uvicorn on loopback."""
    with attached(store) as database:
        app = create_app(store, database=database, secret=SECRET, **app_options)
        try:
            with serving(app, **(limits or {})) as url:
                yield Live(app, url)
        finally:
            app.state.db.close()


def sign_in(
    browser: httpx.Client, username: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    """Through the real form: GET /login for its token, then POST (redirects not followed)."""
    token = csrf_of(browser.get("/login", headers=headers).text)
    return browser.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": token,
            "next": "/desk/password",
        },
        headers=headers,
    )


def signed_in(browser: httpx.Client) -> bool:
    """Whether the browser's cookie opens a desk page (else it is sent to /login)."""
    answer = browser.get("/desk/password")
    assert answer.status_code in (200, 303), answer.text[:300]
    return answer.status_code == 200


def cookie_of(browser: httpx.Client) -> str:
    value = browser.cookies.get(SESSION_COOKIE)
    assert value, "not signed in"
    return value


def post_form(browser: httpx.Client, page: str, action: str, **data: str) -> httpx.Response:
    """Submit a desk form: the CSRF token from ``page``, then POST to ``action``."""
    token = csrf_of(browser.get(page).text)
    return browser.post(action, data={**data, "csrf_token": token})
