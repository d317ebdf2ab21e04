"""Constants and helpers shared by the web tests (fixtures are in ``conftest.py``).

The scenario store (``web_store``): the session's real store with the team area "West"
(the Westcotes, Fosse and Western wards of Leicester), the demo residents' concerns (with
contacts), priorities proposed from the real police.uk data and adopted for June and July
2021 (one continued into July, one closed in June), a published community update for
custom:West, July 2021, and engagements around July 2021 inside and outside West.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import re
from dataclasses import dataclass

import duckdb
from fastapi.testclient import TestClient

from support.fixtures_store import ROOT
from support.records_backend import TeamSQL

SECRET = "web-tests-fixed-secret-0123456789abcdef"
AREA = "custom:West"
AREA_NAME = "West"
WARDS = ("Westcotes", "Fosse", "Western")
MONTH = "2021-07"
PUBLISHER = "Insp. Web Test"
PASSWORD = "correct horse battery staple"
CONCERNS_CSV = ROOT / "data" / "sample" / "concerns" / "leicester-concerns.csv"

# Engagements: W-04 is outside West (Castle), W-05 in the August after, W-06 before July.
ENGAGEMENTS = """start,end,kind,place,area,title,notes,id
2021-07-03 10:00,12:00,street-survey,Narborough Road,Westcotes (Leicester),Street survey on Narborough Road,Tell us what you think,W-01
2021-07-14 18:30,20:00,community-meeting,New Parks Community Centre,Western (Leicester),Residents' meeting,,W-02
2021-07-14 10:00,11:00,school-visit,Fosse Primary School,Fosse (Leicester),Safer routes to school,,W-03
2021-07-10 10:00,12:00,surgery,Town Hall Square,Castle (Leicester),City centre surgery,,W-04
2021-08-25 10:00,12:00,surgery,Westcotes Library,Westcotes (Leicester),Beat surgery,,W-05
2021-06-30 10:00,12:00,surgery,Westcotes Library,custom:West,Beat surgery,Before the month,W-06
"""


def demo_contacts() -> list[str]:
    """The contact cells of the demo concerns file, read with the csv module."""
    with open(CONCERNS_CSV, encoding="utf-8-sig", newline="") as fh:
        return [r["contact"] for r in csv.DictReader(fh) if r.get("contact")]


def text_of(fragment: str) -> str:
    """Visible text: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- the store, read by the tests' own SQL (never through BeatBook) ------------------------
# ``db``: DuckDB on the store file (crime data, the ONS tables); ``team``: the team's tables
# wherever ``--records-backend`` keeps them (``support.records_backend.TeamSQL``).


def ward_codes(db: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = db.execute(
        "SELECT DISTINCT ward_name, ward_code FROM lsoa_lookup WHERE lad_name = 'Leicester' "
        "AND ward_name IN (SELECT unnest(?::VARCHAR[]))",
        [list(WARDS)],
    ).fetchall()
    assert len(rows) == 3
    return dict(rows)


def current_priorities(team: TeamSQL, area: str = AREA) -> tuple[str, set[tuple[str, str, str]]]:
    """The latest month with priorities adopted or continued for ``area``, and those
    priorities as (ward, problem, label) with the label of their latest edit."""
    month = team.scalar(
        "SELECT max(e.month) FROM priority_events e JOIN priorities p USING (priority_id) "
        "WHERE p.area = ? AND e.action IN ('adopted', 'continued')",
        [area],
    )
    rows = team.execute(
        """
        SELECT p.ward, p.problem, coalesce(
            (SELECT l.details->>'label' FROM priority_events l
             WHERE l.priority_id = p.priority_id AND l.details->>'label' IS NOT NULL
             ORDER BY l.seq DESC LIMIT 1), p.place)
        FROM priorities p WHERE p.area = ? AND p.priority_id IN (
            SELECT priority_id FROM priority_events
            WHERE action IN ('adopted', 'continued') AND month = ?)
        """,
        [area, month],
    ).fetchall()
    return f"{month:%Y-%m}", set(rows)


def whose_latest_is(team: TeamSQL, action: str, area: str = AREA) -> list[int]:
    """The priorities of ``area`` whose latest decision is ``action``, by id."""
    return [
        pid
        for (pid,) in team.execute(
            "SELECT p.priority_id FROM priorities p JOIN priority_events e "
            "ON e.priority_id = p.priority_id WHERE p.area = ? AND e.action = ? AND e.seq = "
            "(SELECT max(f.seq) FROM priority_events f WHERE f.priority_id = p.priority_id) "
            "ORDER BY p.priority_id",
            [area, action],
        ).fetchall()
    ]


def west_lsoas(team: TeamSQL) -> list[str]:
    return team.scalar("SELECT members FROM custom_areas WHERE name = 'West'")


def window(
    team: TeamSQL, first: str, days: int, area_refs: list[str] | None = None
) -> list[tuple[str, dt.datetime, str]]:
    """Engagements starting in the ``days`` days from ``first``: (uid, starts, title), by start."""
    start = dt.date.fromisoformat(first)
    rows = team.execute(
        "SELECT uid, starts, title, area FROM engagements WHERE starts >= ? AND starts < ? "
        "ORDER BY starts, uid",
        [start, start + dt.timedelta(days=days)],
    ).fetchall()
    return [(u, s, t) for u, s, t, a in rows if area_refs is None or a in area_refs]


def west_figures(
    db: duckdb.DuckDBPyConnection, team: TeamSQL, first: str, last: str, *, asb: bool = False
) -> dict[str, object]:
    """The team area's crimes (or, ``asb``, its anti-social behaviour incidents: counted
    apart) in each stored month, their total and its residents, straight from the tables."""
    codes = west_lsoas(team)
    which = "=" if asb else "<>"
    months = db.execute(
        "SELECT month, count(*) FILTER (WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[])) "
        f"AND crime_type {which} 'Anti-social behaviour') "
        "FROM street_crimes WHERE month BETWEEN ?::DATE AND ?::DATE GROUP BY month ORDER BY month",
        [codes, first, last],
    ).fetchall()
    population = db.execute(
        "SELECT sum(population) FROM population WHERE year = 2022 AND lsoa_code IN "
        "(SELECT lsoa21_code FROM lsoa_bridge WHERE lsoa11_code IN (SELECT unnest(?::VARCHAR[])))",
        [codes],
    ).fetchone()[0]
    return {"months": months, "count": sum(n for _, n in months), "population": population}


_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(page)
    assert found, "no CSRF token on the page"
    return found[1]


def field_value(page: str, name: str) -> str:
    """The value of the input called ``name`` on a page (e.g. the hidden submission_id)."""
    found = re.search(rf'name="{re.escape(name)}"[^>]*\bvalue="([^"]*)"', page)
    assert found, f"no input {name!r} on the page"
    return found[1]


@dataclass(frozen=True)
class WebUser:
    username: str
    role: str
    password: str


def sign_in(client: TestClient, user: WebUser) -> None:
    """Sign ``client`` in through the real form (GET /login for the token, then POST)."""
    token = csrf_of(client.get("/login").text)
    done = client.post(
        "/login",
        data={
            "username": user.username,
            "password": user.password,
            "csrf_token": token,
            "next": "/desk",
        },
    )
    assert done.status_code == 303, done.text
