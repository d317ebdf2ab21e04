"""Signing in and out: argon2 passwords, cookie flags, forged sessions, no open redirect,
Cache-Control, and users from the command line. (Throttling, sessions ending, proxies:
test_login_throttle.py, test_sessions.py, test_proxies.py, against a real server.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from web_support import SECRET, csrf_of

from beatbook.web import create_app
from beatbook.web.limits import LoginThrottle
from beatbook.web.security import SESSION_COOKIE
from support.records_backend import attached, cli_env, team_sql_of


@pytest.fixture(scope="module")
def web_app(web_store: Path, web_database: str | None) -> Iterator[FastAPI]:
    """This module types wrong passwords from one address: a throttle the tests do not reach
    (the throttle itself is tested in test_login_throttle.py)."""
    app = create_app(
        web_store,
        database=web_database,
        secret=SECRET,
        login_throttle=LoginThrottle(free=10_000),
    )
    yield app
    app.state.db.close()


def login(client: TestClient, username: str, password: str, next_: str = "/desk") -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_},
    )


def test_the_session_cookie_is_httponly_samesite_and_secure_over_tls(
    web_app: Any, make_user: Any
) -> None:
    user = make_user("analyst")
    plain = TestClient(web_app, follow_redirects=False)
    answer = login(plain, user.username, user.password)
    assert answer.status_code == 303 and answer.headers["location"] == "/desk"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    tls = TestClient(web_app, base_url="https://testserver", follow_redirects=False)
    cookie = login(tls, user.username, user.password).headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert tls.get("/desk").headers["strict-transport-security"].startswith("max-age=")


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    client: TestClient, make_user: Any
) -> None:
    user = make_user("partner")
    wrong = login(client, user.username, "not the password at all")
    unknown = login(client, "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        "Wrong username or password" in wrong.text and "Wrong username or password" in unknown.text
    )
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_a_username_with_a_nul_character_is_bad_input_not_a_server_error(
    client: TestClient,
) -> None:
    """PostgreSQL cannot compare text holding NUL: the library refuses it on both backends."""
    sent = login(client, "ana\x00", "not the password at all")
    assert sent.status_code == 400
    assert "contains a NUL character" in sent.text
    assert SESSION_COOKIE not in sent.headers.get("set-cookie", "")


def test_a_right_password_is_never_refused_for_wrong_ones_from_elsewhere(
    web_store: Path, web_database: str | None, make_user: Any
) -> None:
    """Changed (issue 17, item 9): three wrong passwords used to refuse the right one for
    five minutes from anywhere; now they slow down only their (username, address) pair."""
    app = create_app(
        web_store, database=web_database, secret=SECRET, login_throttle=LoginThrottle(free=3)
    )
    try:
        attacker = TestClient(app, follow_redirects=False)  # address "testclient"
        user = make_user("inspector")
        for _ in range(3):
            assert login(attacker, user.username, "wrong password here").status_code == 401
        slowed = login(attacker, user.username, user.password)
        assert slowed.status_code == 429 and "try again in" in slowed.text
        assert int(slowed.headers["retry-after"]) > 0
        elsewhere = TestClient(app, client=("192.0.2.7", 50000), follow_redirects=False)
        assert login(elsewhere, user.username, user.password).status_code == 303
    finally:
        app.state.db.close()


def test_a_forged_or_foreign_session_is_not_signed_in(client: TestClient, make_user: Any) -> None:
    """Changed (issue 17, item 8): the cookie is a random session id looked up in the store;
    a made-up id, or a cookie signed with the app's own secret in the old format, is not."""
    user = make_user("admin")
    old_format = URLSafeTimedSerializer(SECRET, salt="beatbook-session").dumps(
        {"u": user.username, "n": "x"}
    )
    for forged in ("made-up-session-id", old_format, "", "x" * 5000):
        client.cookies.set(SESSION_COOKIE, forged)
        answer = client.get("/desk/users")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    client.cookies.clear()
    login(client, user.username, user.password)
    assert client.get("/desk/users").status_code == 200


def test_signed_in_pages_are_never_cached_and_public_ones_may_be(
    client: TestClient, make_user: Any
) -> None:
    """Issue 17, item 12 (every desk route: test_desk_roles.py)."""
    assert "cache-control" not in client.get("/priorities").headers
    assert client.get("/login").headers["cache-control"] == "no-store"
    user = make_user("analyst")
    login(client, user.username, user.password)
    assert client.get("/desk").headers["cache-control"] == "no-store"
    assert client.get("/priorities").headers["cache-control"] == "no-store"  # shows who


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_no_open_redirect_after_login(client: TestClient, make_user: Any, target: str) -> None:
    user = make_user("analyst")
    answer = login(client, user.username, user.password, next_=target)
    assert answer.status_code == 303 and answer.headers["location"] == "/desk"


def test_logout_needs_its_token_and_ends_the_session(client: TestClient, make_user: Any) -> None:
    user = make_user("analyst")
    login(client, user.username, user.password)
    page = client.get("/desk")
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    cookie = client.cookies.get(SESSION_COOKIE)
    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303
    assert client.get("/desk").status_code == 303  # back to /login
    client.cookies.set(SESSION_COOKIE, cookie)  # the old cookie, kept: ended too (item 8)
    assert client.get("/desk").status_code == 303


def test_users_add_from_the_command_line_stores_an_argon2_hash(
    tmp_path: Path, web_store: Path
) -> None:
    import shutil

    store = tmp_path / "cli.duckdb"
    shutil.copyfile(web_store, store)
    with attached(store):
        cli = [str(Path(sys.executable).parent / "beatbook"), "--store", str(store), "users", "add"]
        env = {**os.environ, **cli_env(store)}
        ok = subprocess.run(
            [*cli, "first.admin", "--role", "admin", "--password-stdin"],
            input="a long admin password\n",
            capture_output=True,
            text=True,
            env=env,
        )
        assert ok.returncode == 0, ok.stderr
        short = subprocess.run(
            [*cli, "second", "--role", "admin", "--password-stdin"],
            input="short\n",
            capture_output=True,
            text=True,
            env=env,
        )
        assert short.returncode == 2 and "at least 12 characters" in short.stderr
        role = subprocess.run(
            [*cli, "third", "--role", "boss", "--password-stdin"],
            input="a long admin password\n",
            capture_output=True,
            text=True,
            env=env,
        )
        assert role.returncode == 2 and "--role" in role.stderr
        with team_sql_of(store) as db:
            rows = db.execute("SELECT username, role, password_hash FROM users").fetchall()
    assert [(u, r) for u, r, _ in rows if u == "first.admin"] == [("first.admin", "admin")]
    assert all(h.startswith("$argon2id$") and "a long admin password" not in h for _, _, h in rows)
    assert not any(u in ("second", "third") for u, _, _ in rows)
