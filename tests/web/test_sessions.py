"""Server-side sessions (issue 17, item 8), against a real uvicorn server with real cookies:
sign-out, a password change, an admin and a disabled account end sessions at once, wherever
the cookie was copied; sessions expire when idle and after their lifetime."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_support import (
    ADMIN,
    ANALYST,
    INSPECTOR,
    PASSWORD,
    Live,
    cookie_of,
    live,
    make_store,
    post_form,
    sign_in,
    signed_in,
)

from beatbook.web.security import SESSION_COOKIE
from support.records_backend import TeamSQL

NEW_PASSWORD = "a brand new long password"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    with live(make_store(tmp_path / "sessions.duckdb")) as running:
        yield running


def test_a_copied_cookie_stops_working_at_sign_out(server: Live) -> None:
    with server.browser() as mine, server.browser() as thief:
        assert sign_in(mine, ANALYST).status_code == 303
        cookie = cookie_of(mine)
        assert server.sessions(ANALYST) == 1
        thief.cookies.set(SESSION_COOKIE, cookie)
        assert signed_in(thief)
        out = post_form(mine, "/desk/password", "/logout")
        assert out.status_code == 303
        assert not signed_in(thief)  # the copy: sent to /login
        assert server.sessions(ANALYST) == 0
        mine.cookies.set(SESSION_COOKIE, cookie)  # the cookie put back after sign-out
        assert not signed_in(mine)


def test_the_cookie_holds_only_a_random_id_and_the_store_only_its_hash(server: Live) -> None:
    with server.browser() as one, server.browser() as two:
        sign_in(one, ANALYST)
        answer = sign_in(two, ANALYST)
        assert f"Max-Age={12 * 3600}" in answer.headers["set-cookie"]
        first, second = cookie_of(one), cookie_of(two)
        assert first != second and ANALYST not in first and len(first) >= 40
        with TeamSQL.of_app(server.app.state.db) as sql:
            stored = {h for (h,) in sql.execute("SELECT id_sha256 FROM sessions").fetchall()}
        assert first not in stored and second not in stored and len(stored) == 2


def test_a_password_change_ends_the_users_other_sessions(server: Live) -> None:
    with server.browser() as here, server.browser() as elsewhere:
        sign_in(here, INSPECTOR)
        sign_in(elsewhere, INSPECTOR)
        wrong = post_form(
            here,
            "/desk/password",
            "/desk/password",
            current="not my password at all",
            password=NEW_PASSWORD,
            again=NEW_PASSWORD,
        )
        assert "not+right" in wrong.headers["location"] and signed_in(elsewhere)
        changed = post_form(
            here,
            "/desk/password",
            "/desk/password",
            current=PASSWORD,
            password=NEW_PASSWORD,
            again=NEW_PASSWORD,
        )
        assert changed.status_code == 303 and "1+session" in changed.headers["location"]
        assert signed_in(here) and not signed_in(elsewhere)
    with server.browser() as later:
        assert sign_in(later, INSPECTOR).status_code == 401
        assert sign_in(later, INSPECTOR, NEW_PASSWORD).status_code == 303


def test_an_admin_ends_sessions_sets_a_password_and_disables_a_user(server: Live) -> None:
    with server.browser() as admin, server.browser() as user:
        sign_in(admin, ADMIN)
        sign_in(user, ANALYST)
        ended = post_form(admin, "/desk/users", f"/desk/users/{ANALYST}/end-sessions")
        assert ended.status_code == 303 and "1+session+ended" in ended.headers["location"]
        assert not signed_in(user) and signed_in(admin)

        sign_in(user, ANALYST)
        post_form(admin, "/desk/users", f"/desk/users/{ANALYST}/password", password=NEW_PASSWORD)
        assert not signed_in(user)
        assert sign_in(user, ANALYST).status_code == 401
        assert sign_in(user, ANALYST, NEW_PASSWORD).status_code == 303

        disabled = post_form(admin, "/desk/users", f"/desk/users/{ANALYST}/disable")
        assert "disabled" in disabled.headers["location"]
        assert not signed_in(user)
        assert sign_in(user, ANALYST, NEW_PASSWORD).status_code == 401  # may not sign in
        assert server.sessions(ANALYST) == 0
        page = admin.get("/desk/users").text
        assert f"/desk/users/{ANALYST}/enable" in page

        post_form(admin, "/desk/users", f"/desk/users/{ANALYST}/enable")
        assert sign_in(user, ANALYST, NEW_PASSWORD).status_code == 303 and signed_in(user)


def test_an_admin_cannot_lock_everyone_out(server: Live) -> None:
    with server.browser() as admin:
        sign_in(admin, ADMIN)
        myself = post_form(admin, "/desk/users", f"/desk/users/{ADMIN}/disable")
        assert "cannot+disable+yourself" in myself.headers["location"]
        post_form(admin, "/desk/users", "/desk/users/admin.two/disable")
        with server.browser() as two:
            assert sign_in(two, "admin.two").status_code == 401
        # ending one's own sessions keeps the one in use
        post_form(admin, "/desk/users", f"/desk/users/{ADMIN}/end-sessions")
        assert signed_in(admin)


def test_only_admins_manage_users(server: Live) -> None:
    with server.browser() as inspector, server.browser() as user:
        sign_in(inspector, INSPECTOR)
        sign_in(user, ANALYST)
        for action in ("end-sessions", "disable", "password"):
            answer = post_form(inspector, "/desk/password", f"/desk/users/{ANALYST}/{action}")
            assert answer.status_code == 403
        assert signed_in(user)


def test_sessions_end_when_idle_and_after_their_lifetime(tmp_path: Path) -> None:
    store = make_store(tmp_path / "idle.duckdb")
    with live(store, session_idle=2.0, session_lifetime=4.5) as server, server.browser() as b:
        started = time.monotonic()
        sign_in(b, ANALYST)
        # requests every 0.3 s keep it alive past the idle time...
        while time.monotonic() - started < 3.0:
            assert signed_in(b), f"ended after {time.monotonic() - started:.1f} s"
            time.sleep(0.3)
        # ...but not past its lifetime
        while time.monotonic() - started < 4.6:
            time.sleep(0.3)
        assert not signed_in(b)
        # idle: nothing for longer than the idle time
        sign_in(b, ANALYST)
        assert signed_in(b)
        time.sleep(2.3)
        assert not signed_in(b)
        # the expired rows go at the next sign-in
        assert sign_in(b, ANALYST).status_code == 303 and server.sessions() == 1
