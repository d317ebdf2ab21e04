"""Fixtures for the web tests: a real scenario store, the app over it, a client and users.

* ``web_store`` (module): the path of a private copy of the scenario store described in
  :mod:`web_support` (built once per session, copied per module so a module may write);
  ``web_database`` (module): where its team records are (``--records-backend``: None, in the
  file, or the URL of the module's own PostgreSQL database, made from the file's records).
* ``web_app`` (module): ``create_app`` over ``web_store`` (and ``web_database``) with a fixed
  secret and a report limit high enough not to get in the way (a test of the limit builds
  its own).
* ``client``: a fresh ``TestClient`` (its own cookies) over ``web_app``.
* ``make_user(role)``: a new user of that role (``WebUser``: username, role, password);
  ``web_support.sign_in(client, user)`` signs a client in through the real /login form.
* ``store_sql``: a DuckDB connection to the same database file as the app, for the tests'
  own SQL on crime data and the ONS tables (the same in-process database instance: DuckDB
  allows one writer per file; read-only when the app reads the file only, on postgres).
* ``team_sql``: the tests' own SQL on the team's tables, on the backend that holds them
  (``support.records_backend.TeamSQL``: DuckDB's ``?`` placeholders on both).
* ``users`` (module): a signed-in browser per role; ``inspector`` and ``visitor`` (module):
  a signed-in inspector and a visitor whose server errors come back as 500s, not raised.
* ``base_url`` (module): ``web_app`` served by uvicorn on loopback; ``browser`` (module):
  Debian's chromium under Playwright; ``page``: a fresh tab whose console errors and failed
  requests fail the test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Page
from web_support import (
    AREA,
    CONCERNS_CSV,
    ENGAGEMENTS,
    MONTH,
    PASSWORD,
    PUBLISHER,
    SECRET,
    WARDS,
    WebUser,
    sign_in,
)

from beatbook import engagements
from beatbook.areas import add_area
from beatbook.concerns.csv_import import import_concerns
from beatbook.priorities import lifecycle, review
from beatbook.priorities.propose import propose
from beatbook.publish.published import publish_update
from beatbook.store import Store
from beatbook.users import add_user
from beatbook.web import create_app
from beatbook.web.testing import serving
from support.browser import launched
from support.records_backend import TeamSQL, attached, database_of

BY = "Insp. Test"
JUNE, JULY = dt.date(2021, 6, 1), dt.date(2021, 7, 1)


def _candidates(proposal: dict) -> list[list[dict]]:
    return [ward["priorities"] for ward in proposal["wards"]]


def build_web_store(path: Path) -> dict[str, int]:
    """Add the scenario to the (copied) store at ``path``; returns the priority ids by role."""
    ids: dict[str, int] = {}
    with Store(path) as st:
        add_area(st, "West", lsoas=[], wards=list(WARDS), geojson=None)
        import_concerns(st, CONCERNS_CSV, "Leicester")
        # June: the first candidate of each ward adopted; one rejected
        may = propose(st, AREA, "2021-05", per_ward=2, method="mean-3")
        saved = iter(lifecycle.save_proposals(st, may))
        wards = [[next(saved) for _ in ward] for ward in _candidates(may)]
        ids["continued"], ids["closed"], ids["review"] = (w[0] for w in wards)
        for pid in (ids["continued"], ids["closed"], ids["review"]):
            lifecycle.decide(st, pid, "adopted", BY, month=JUNE)
        lifecycle.decide(
            st,
            wards[0][1],
            "rejected",
            BY,
            month=JUNE,
            details={"reason": "a partnership plan exists"},
        )
        # July: two new places adopted (one with a new label), one continued, one closed
        june = propose(st, AREA, "2021-06", per_ward=2, method="mean-3")
        new_ids = lifecycle.save_proposals(st, june)
        taken = {c["place_key"] for w in _candidates(may) for c in w}
        fresh = [
            (pid, c)
            for pid, c in zip(new_ids, [c for w in _candidates(june) for c in w], strict=True)
            if c["place_key"] not in taken
        ]
        ids["labelled"], first = fresh[0]
        ids["new"] = next(pid for pid, c in fresh[1:] if c["ward"] != first["ward"])
        lifecycle.decide(st, ids["continued"], "continued", BY, month=JULY)
        review.close(st, ids["closed"], BY, JUNE)
        lifecycle.decide(
            st,
            ids["labelled"],
            "adopted",
            BY,
            month=JULY,
            details={"label": f"{first['place']} <shops> & co"},
        )
        lifecycle.decide(st, ids["new"], "adopted", BY, month=JULY)
        csv_path = path.with_name("engagements.csv")
        csv_path.write_text(ENGAGEMENTS, encoding="utf-8")
        engagements.import_csv(st, csv_path)
        publish_update(st, AREA, MONTH, PUBLISHER)
    return ids


@pytest.fixture(scope="session")
def web_store_base(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario store, built once per session (closed; copy it before writing)."""
    path = tmp_path_factory.mktemp("web") / "web.duckdb"
    shutil.copyfile(sample_store_path, path)
    build_web_store(path)
    return path


@pytest.fixture(scope="module")
def web_store(web_store_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private copy of the scenario store for one test module (closed: the app opens it),
    its team records where ``--records-backend`` keeps them."""
    path = tmp_path_factory.mktemp("web-module") / "web.duckdb"
    shutil.copyfile(web_store_base, path)
    with attached(path):
        yield path


@pytest.fixture(scope="module")
def web_database(web_store: Path) -> str | None:
    """The database of the module's team records (None: in the store file)."""
    return database_of(web_store)


@pytest.fixture(scope="module")
def web_app(web_store: Path, web_database: str | None) -> Iterator[FastAPI]:
    app = create_app(web_store, database=web_database, secret=SECRET, report_limit=(100_000, 60.0))
    yield app
    app.state.db.close()


@pytest.fixture
def client(web_app: FastAPI) -> Iterator[TestClient]:
    """A browser of its own (cookies) on the module's app; redirects are not followed. (Not
    entered as a context manager: its shutdown would close the module's database.)"""
    c = TestClient(web_app, follow_redirects=False)
    yield c
    c.close()


@pytest.fixture(scope="module")
def store_sql(
    web_app: FastAPI, web_store: Path, web_database: str | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Plain DuckDB on the app's store file, for SQL on crime data and the ONS tables that
    does not go through BeatBook (the team's tables: ``team_sql``)."""
    con = duckdb.connect(str(web_store), read_only=web_database is not None)
    yield con
    con.close()


@pytest.fixture(scope="module")
def team_sql(web_app: FastAPI) -> Iterator[TeamSQL]:
    """Plain SQL on the app's team records, wherever they are (no BeatBook code)."""
    with TeamSQL.of_app(web_app.state.db) as sql:
        yield sql


_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def make_user(web_app: FastAPI) -> Callable[[str], WebUser]:
    """``make_user("inspector")`` adds a new user of that role to the app's store."""

    def make(role: str) -> WebUser:
        name = f"{role}-{next(_numbers)}"
        with web_app.state.db.write() as st:
            add_user(st, name, role, PASSWORD)
        return WebUser(name, role, PASSWORD)

    return make


@pytest.fixture(scope="module")
def inspector(web_app: FastAPI, make_user: Callable[[str], WebUser]) -> Iterator[TestClient]:
    """Signed in as an inspector (who may do every desk entry); a server error comes back
    as a 500 instead of being raised, so input tests can count them."""
    c = TestClient(web_app, follow_redirects=False, raise_server_exceptions=False)
    sign_in(c, make_user("inspector"))
    yield c
    c.close()


@pytest.fixture(scope="module")
def visitor(web_app: FastAPI) -> Iterator[TestClient]:
    """Not signed in; a server error comes back as a 500 instead of being raised."""
    c = TestClient(web_app, follow_redirects=False, raise_server_exceptions=False)
    yield c
    c.close()


class Browser(TestClient):
    """A browser signed in as ``user``."""

    user: WebUser


@pytest.fixture(scope="module")
def users(web_app: FastAPI, make_user) -> Iterator[dict[str, Browser]]:
    """A signed-in browser per role (only failed sign-ins are throttled). Not entered
    as context managers: leaving one would shut the app down."""
    found: dict[str, Browser] = {}
    for role in ("inspector", "analyst", "partner", "admin"):
        found[role] = Browser(web_app, follow_redirects=False)
        found[role].user = make_user(role)
        sign_in(found[role], found[role].user)
    yield found
    for c in found.values():
        c.close()


@pytest.fixture(scope="module")
def base_url(web_app: FastAPI) -> Iterator[str]:
    with serving(web_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with launched() as b:
        yield b


@pytest.fixture
def page(browser: Chromium) -> Iterator[Page]:
    """A fresh browser context; console errors (a CSP violation included) and failed
    requests fail the test."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    tab.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    tab.on("pageerror", lambda e: problems.append(str(e)))
    yield tab
    context.close()
    assert not problems, problems
