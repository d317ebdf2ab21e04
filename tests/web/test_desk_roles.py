"""The desk's role matrix and CSRF, route by route, on the real app and scenario store.

Who may do what is written here by hand from issue 7's description of the roles, not read
from ``beatbook.users.PERMISSIONS``, so a wrong entry there fails these tests:

* admin: users and settings, uploads police.uk files to import; reads the desk;
* analyst: imports and runs: proposes priorities, enters operations results and
  engagements, matches concerns to streets; reads the desk and the JAG pack;
* inspector: adopts, rejects, continues and closes priorities, writes and publishes the
  community update; also does the analyst's entries (the team's lead); adds notes;
* partner: reads the desk and the JAG pack, adds notes to priorities.

Every desk route, GET and POST, is tried by every role and by an anonymous visitor:
anonymous -> 303 to /login; a role without the right -> 403; with it -> 200 (GET) or 303
(POST, back to the page with a message). Every POST refuses a missing or foreign CSRF
token with 403 and changes nothing (the tests' own SQL counts every table before and after).
Every answer, whatever its status, carries ``Cache-Control: no-store`` (issue 17, item 12).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_support import AREA, csrf_of, sign_in, whose_latest_is

from support.records_backend import TeamSQL

ROLES = ("admin", "analyst", "inspector", "partner")
EVERYONE = frozenset(ROLES)
ENTRY = frozenset({"analyst", "inspector"})  # data entry and analysis runs
INSPECTOR = frozenset({"inspector"})
NOTES = frozenset({"partner", "inspector"})
JAG = frozenset({"analyst", "inspector", "partner"})
ADMIN = frozenset({"admin"})
WARD = "Westcotes (Leicester)"
A = quote(AREA, safe="")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {proposed} {adopted} {concern} are filled from the store
    allowed: frozenset[str]
    data: tuple[tuple[str, str], ...] = ()
    ok: int | None = None  # the answer to a role that may: default 200 (GET) or 303 (POST)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path.split('?')[0]}"


ROUTES = (
    Route("GET", "/desk", EVERYONE),
    Route("GET", f"/desk?area={A}&month=2021-06", EVERYONE),
    Route("GET", f"/desk/chart/trend.png?area={A}&month=2021-06", EVERYONE),
    Route("GET", f"/desk/api/map/outline?area={A}&month=2021-06", EVERYONE),
    Route("GET", f"/desk/api/map/hotspots?area={A}&month=2021-06", EVERYONE),
    Route("GET", f"/desk/api/map/priorities?area={A}&month=2021-07", EVERYONE),
    Route("GET", f"/desk/api/map/wards?area={A}&month=2021-07", EVERYONE),
    Route("GET", f"/desk/priorities?area={A}&month=2021-07", EVERYONE),
    Route("GET", f"/desk/jag?area={quote(WARD)}&month=2021-06&per_ward=1&method=mean-3", JAG),
    Route("GET", "/desk/operations", EVERYONE),
    Route("GET", "/desk/engagements", EVERYONE),
    Route("GET", "/desk/concerns", EVERYONE),
    Route("GET", f"/desk/updates?area={A}&month=2021-08", EVERYONE),
    Route("GET", f"/desk/updates/preview?area={quote(WARD)}&month=2021-08", EVERYONE),
    Route("GET", "/desk/users", ADMIN),
    Route("GET", f"/desk/settings?area={A}", ADMIN),
    Route("GET", "/desk/import", ADMIN),
    Route(
        "POST",
        "/desk/priorities/propose",
        ENTRY,
        (("area", WARD), ("data_month", "2021-06"), ("per_ward", "1"), ("method", "mean-3")),
    ),
    Route(
        "POST",
        "/desk/priorities/{proposed}/adopt",
        INSPECTOR,
        (("area", AREA), ("month", "2021-07"), ("label", "Matrix label")),
    ),
    Route(
        "POST",
        "/desk/priorities/{proposed}/reject",
        INSPECTOR,
        (("area", AREA), ("month", "2021-07"), ("reason", "matrix test")),
    ),
    Route(
        "POST",
        "/desk/priorities/{adopted}/continue",
        INSPECTOR,
        (("area", AREA), ("month", "2021-07"), ("into", "2021-08")),
    ),
    Route(
        "POST",
        "/desk/priorities/{proposed}/close",
        INSPECTOR,
        (("area", AREA), ("month", "2021-07"), ("last", "2021-07")),
    ),
    Route(
        "POST",
        "/desk/priorities/{adopted}/note",
        NOTES,
        (("area", AREA), ("month", "2021-07"), ("text", "matrix note")),
    ),
    Route(
        "POST",
        "/desk/operations/add",
        ENTRY,
        (
            ("name", "Operation Matrix"),
            ("starts", "2021-07-01"),
            ("ends", "2021-07-31"),
            ("areas", AREA),
        ),
    ),
    Route(
        "POST",
        "/desk/operations/result",
        ENTRY,
        (("operation", "Operation Matrix"), ("area", ""), ("measure", "arrests"), ("count", "3")),
    ),
    Route(
        "POST",
        "/desk/engagements/add",
        ENTRY,
        (
            ("when", "2021-07-20T10:00"),
            ("until", "11:00"),
            ("kind", "surgery"),
            ("place", "Matrix Library"),
            ("area", WARD),
        ),
    ),
    Route("POST", "/desk/concerns/{concern}/match", ENTRY, (("place", "Charlock Road"),)),
    Route(
        "POST",
        "/desk/updates/text",
        INSPECTOR,
        (("area", AREA), ("month", "2021-08"), ("text", "## News\n\nMatrix text.")),
    ),
    # the live preview answers JSON itself (tested in test_desk_plain and test_desk_browser)
    Route(
        "POST",
        "/desk/updates/text/preview",
        INSPECTOR,
        (("area", AREA), ("text", "## News\n\nMatrix text.")),
        ok=200,
    ),
    # an image not uploaded: refused with a message (served for real in test_desk_plain)
    Route("GET", f"/desk/updates/image?area={A}&name=none.png", EVERYONE, ok=400),
    # without a file: refused with a message (uploads are tested in test_desk_team_text)
    Route("POST", "/desk/updates/image", INSPECTOR, (("area", AREA), ("month", "2021-08"))),
    # a month with no data before it: refused quickly with a message (publishing is tested
    # for real in test_desk_actions)
    Route("POST", "/desk/updates/publish", INSPECTOR, (("area", AREA), ("month", "1999-01"))),
    Route("POST", "/desk/settings", ADMIN, (("area", AREA), ("toml", 'team = "Matrix team"'))),
    # without a file: refused with a message (uploads are tested in test_desk_import)
    Route("POST", "/desk/import", ADMIN),
    Route(
        "POST",
        "/desk/users/add",
        ADMIN,
        (("username", "matrix-user"), ("role", "partner"), ("password", "a long enough password")),
    ),
    # issue 17, item 8: a user's own password; an admin ends sessions, sets a password,
    # disables and enables ({user} is a partner of the matrix's own)
    Route("GET", "/desk/password", EVERYONE),
    Route(
        "POST",
        "/desk/password",
        EVERYONE,
        (("current", "not the password"), ("password", "x" * 12), ("again", "x" * 12)),
    ),
    Route("POST", "/desk/users/{user}/end-sessions", ADMIN),
    Route("POST", "/desk/users/{user}/password", ADMIN, (("password", "matrix password 12"),)),
    Route("POST", "/desk/users/{user}/disable", ADMIN),
    Route("POST", "/desk/users/{user}/enable", ADMIN),
)
POSTS = [r for r in ROUTES if r.method == "POST"]


@pytest.fixture(scope="module")
def ids(team_sql: TeamSQL, make_user) -> dict[str, int | str]:
    """A proposed and an adopted priority of West, an unmatched concern (own SQL), and a
    user for the admins' forms."""
    concern = team_sql.scalar("SELECT min(concern_id) FROM concerns WHERE place IS NULL")
    assert concern is not None
    return {
        "proposed": whose_latest_is(team_sql, "proposed")[0],
        "adopted": whose_latest_is(team_sql, "adopted")[0],
        "concern": concern,
        "user": make_user("partner").username,
    }


@pytest.fixture(scope="module")
def browsers(web_app: FastAPI, make_user) -> Iterator[dict[str, TestClient]]:
    """A signed-in browser per role (four sign-ins: under the login rate limit) and an
    anonymous one. Not entered as context managers: leaving one would shut the app down."""
    found: dict[str, TestClient] = {}
    for role in ROLES:
        found[role] = TestClient(web_app, follow_redirects=False)
        sign_in(found[role], make_user(role))
    found["anonymous"] = TestClient(web_app, follow_redirects=False)
    yield found
    for c in found.values():
        c.close()


def token(client: TestClient) -> str:
    """A valid CSRF token for this browser (its session, or its anonymous cookie)."""
    return csrf_of(client.get("/login").text)


def fill(route: Route, ids: dict[str, int | str]) -> str:
    return route.path.format(**ids)


def request(client: TestClient, route: Route, ids: dict[str, int | str], csrf: str | None):
    if route.method == "GET":
        return client.get(fill(route, ids))
    data = dict(route.data)
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post(fill(route, ids), data=data)


@pytest.mark.parametrize("who", [*ROLES, "anonymous"])
@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_role_matrix(
    route: Route, who: str, browsers: dict[str, TestClient], ids: dict[str, int | str]
) -> None:
    client = browsers[who]
    got = request(client, route, ids, token(client))
    assert got.headers["cache-control"] == "no-store"  # issue 17, item 12: every answer
    if who == "anonymous":
        assert got.status_code == 303, got.text[:300]
        target = urlsplit(got.headers["location"])
        assert target.path == "/login" and "next=/desk" in target.query
    elif who not in route.allowed:
        assert got.status_code == 403, got.text[:300]
    elif route.ok is not None:
        assert got.status_code == route.ok, got.text[:500]
    elif route.method == "GET":
        assert got.status_code == 200, got.text[:500]
    else:
        assert got.status_code == 303, got.text[:500]
        target = urlsplit(got.headers["location"])
        assert target.path.startswith("/desk") and "msg=" in target.query


def test_the_matrix_covers_every_desk_route(web_app: FastAPI, ids: dict[str, int | str]) -> None:
    """Every desk route the app serves is tried above (a new route must join the table)."""
    served = {
        (m, r.path)
        for r in web_app.routes
        if getattr(r, "path", "").startswith("/desk")
        for m in getattr(r, "methods", ())
        if m != "HEAD"
    }
    tried = {(r.method, fill(r, ids).split("?")[0]) for r in ROUTES}
    for method, pattern in served:
        shape = re.compile(re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(pattern)) + "$")
        assert any(m == method and shape.match(path) for m, path in tried), (method, pattern)


# --- CSRF ---------------------------------------------------------------------------------


def everything(db: duckdb.DuckDBPyConnection, team: TeamSQL) -> dict[str, object]:
    """Row counts of every table (the store file's, and the team's wherever they are) and
    the rows of the tables a desk form can change in place."""
    names = [t for (t,) in db.execute("SHOW TABLES").fetchall() if t not in team.tables()]
    state: dict[str, object] = {
        t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in names
    }
    for t in team.tables():
        state[t] = team.scalar(f'SELECT count(*) FROM "{t}"')
    for t in ("concerns", "update_texts", "operations"):
        state[f"{t}#rows"] = sorted(map(repr, team.execute(f'SELECT * FROM "{t}"').fetchall()))
    return state


@pytest.mark.parametrize("route", POSTS, ids=[r.id for r in POSTS])
@pytest.mark.parametrize("how", ["missing", "foreign", "forged"])
def test_posts_refuse_a_missing_or_foreign_token(
    route: Route,
    how: str,
    browsers: dict[str, TestClient],
    ids: dict[str, int | str],
    store_sql: duckdb.DuckDBPyConnection,
    team_sql: TeamSQL,
) -> None:
    """The role that may do it, with the other role's token, none, or a made-up one: 403."""
    who = sorted(route.allowed)[0]
    other = next(r for r in ROLES if r != who)
    csrf = {"missing": None, "foreign": token(browsers[other]), "forged": "0" * 64}[how]
    assert csrf != token(browsers[who])
    before = everything(store_sql, team_sql)
    got = request(browsers[who], route, ids, csrf)
    assert got.status_code == 403, got.text[:300]
    assert "form has expired" in got.text and got.headers["cache-control"] == "no-store"
    assert everything(store_sql, team_sql) == before


def test_a_page_without_the_right_hides_its_forms(browsers: dict[str, TestClient]) -> None:
    """The forms a role may not use are not offered (the server refuses them anyway)."""
    partner = browsers["partner"].get(f"/desk/priorities?area={A}&month=2021-07").text
    assert "/adopt" not in partner and "/reject" not in partner and "/propose" not in partner
    assert "/note" in partner and "JAG pack" in partner
    inspector = browsers["inspector"].get(f"/desk/priorities?area={A}&month=2021-07").text
    assert "/note" in inspector
    admin = browsers["admin"].get(f"/desk/priorities?area={A}&month=2021-07").text
    assert "/note" not in admin and "JAG pack" not in admin
    assert 'href="/desk/users"' in admin and 'href="/desk/users"' not in inspector


def test_users_are_added_by_an_admin_only(
    browsers: dict[str, TestClient], team_sql: TeamSQL
) -> None:
    admin = browsers["admin"]
    got = admin.post(
        "/desk/users/add",
        data={
            "username": "new-analyst",
            "role": "analyst",
            "password": "long enough password",
            "csrf_token": token(admin),
        },
    )
    assert got.status_code == 303
    row = team_sql.execute(
        "SELECT role, password_hash FROM users WHERE username = 'new-analyst'"
    ).fetchone()
    assert row[0] == "analyst" and row[1].startswith("$argon2id$")
    page = admin.get("/desk/users").text
    assert "new-analyst" in page and "$argon2" not in page
    short = admin.post(
        "/desk/users/add",
        data={
            "username": "shorty",
            "role": "analyst",
            "password": "short",
            "csrf_token": token(admin),
        },
    )
    assert "at+least+12+characters" in short.headers["location"]
    assert team_sql.scalar("SELECT count(*) FROM users WHERE username = 'shorty'") == 0
