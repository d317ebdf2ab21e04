"""Issue 17: random months and dates fed to every web route that takes one, on the real app and
scenario store (see ``web_support``). Whatever comes in (0001-01, 9999-12, 9999-12-31, dates
past the calendar, malformed strings), no answer is a 500 or shows a traceback, and afterwards
every public page still answers 200: nothing was stored that breaks a page.

Each route's answer is one of 200, 303 (a desk form back to its page), 400 (a bad value, said
in words), 404 (no such update) or 422 (FastAPI's own check of a form field's type); the
figure of inputs tried is printed at the end (``-s``) and, from ``benchmarks/web_inputs.py``,
recorded in benchmarks/README.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from web_support import AREA, csrf_of, field_value, whose_latest_is

from support.records_backend import TeamSQL

WEST = quote(AREA, safe="")
WARD = "Westcotes (Leicester)"
# 307: a month ending in a slash ('0/', sent as '0%2F') ends the path in one; the server
# redirects to the path without it, where the month is refused.
OK = {200, 303, 307, 400, 404, 422}
TRIED: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()

# The edges: the calendar's ends, the data window's ends (2020-01 .. 2025-09), off-by-ones and
# the shapes people and robots type.
EDGE_MONTHS = (
    "0001-01",
    "9999-12",
    "0000-01",
    "1999-12",
    "2019-12",
    "2020-01",
    "2025-03",
    "2025-09",
    "2025-10",
    "2021-13",
    "2021-00",
    "2021-7",
    "10000-01",
    "-2021-01",
    "2021-07-01",
    " 2021-07 ",
    "",
    "9999-12-31",
    "２０２１-０７",
    "2021-07\x00",
    "NaN",
)
EDGE_DAYS = (
    "0001-01-01",
    "9999-12-31",
    "9999-12-25",
    "9999-12-01",
    "1999-12-31",
    "2000-01-01",
    "2021-02-29",
    "2024-02-29",
    "2021-07-14",
    "2021-13-01",
    "2021-7-14",
    "14/07/2021",
    "2021-07-14T10:00",
    "",
    "9999-12",
    "2021-07-14\x00",
)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=14)
MONTHS = st.one_of(
    st.sampled_from(EDGE_MONTHS),
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1, 9999), st.integers(1, 12)),
    st.from_regex(r"-?[0-9]{1,5}-[0-9]{1,3}", fullmatch=True),
    text,
)
DAYS = st.one_of(
    st.sampled_from(EDGE_DAYS),
    st.dates().map(dt.date.isoformat),  # 0001-01-01 .. 9999-12-31
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    text,
)
CHECK = settings(
    max_examples=50,  # the public routes; the desk's examples cost a second or more each, so
    # they take fewer here: benchmarks/web_inputs.py sends thousands to a real server
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Route = Callable[[TestClient, str], httpx.Response]


@pytest.fixture(scope="module")
def pids(team_sql: TeamSQL) -> dict[str, int]:
    """A proposed and an adopted priority of West (the tests' own SQL)."""
    return {
        "proposed": whose_latest_is(team_sql, "proposed")[0],
        "adopted": whose_latest_is(team_sql, "adopted")[0],
    }


def _post(client: TestClient, url: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_of(client.get("/desk/engagements").text)
    return client.post(url, data={**data, "csrf_token": token})


def _report(client: TestClient, day: str) -> httpx.Response:
    page = client.get("/report").text
    form = {
        "csrf_token": csrf_of(page),
        "submission_id": field_value(page, "submission_id"),
        "area": AREA,
        "where": "Narborough Road",
        "problem": "drugs",
        "date": day,
    }
    return client.post("/report", data=form)


PUBLIC_MONTH: dict[str, Route] = {
    "/stats/{area}?to=": lambda c, v: c.get(f"/stats/{WEST}", params={"to": v}),
    "/api/stats/{area}?to=": lambda c, v: c.get(f"/api/stats/{WEST}", params={"to": v}),
    "/updates/{area}/{month}": lambda c, v: c.get(f"/updates/{WEST}/{quote(v, safe='')}"),
    "/updates/{area}/{month}/update.pdf": lambda c, v: c.get(
        f"/updates/{WEST}/{quote(v, safe='')}/update.pdf"
    ),
}
PUBLIC_DAY: dict[str, Route] = {
    "/events?from=": lambda c, v: c.get("/events", params={"from": v}),
    "/events.ics?from=": lambda c, v: c.get("/events.ics", params={"from": v, "weeks": "26"}),
    "/api/events?from=": lambda c, v: c.get("/api/events", params={"from": v, "weeks": "1"}),
    "POST /report date": _report,
}
DESK_MONTH: dict[str, Route] = {
    "/desk?month=": lambda c, v: c.get("/desk", params={"area": AREA, "month": v}),
    "/desk/chart/trend.png?month=": lambda c, v: c.get(
        "/desk/chart/trend.png", params={"area": AREA, "month": v}
    ),
    "/desk/api/map/priorities?month=": lambda c, v: c.get(
        "/desk/api/map/priorities", params={"area": AREA, "month": v}
    ),
    "/desk/api/map/wards?month=": lambda c, v: c.get(
        "/desk/api/map/wards", params={"area": AREA, "month": v}
    ),
    "/desk/api/map/hotspots?month=": lambda c, v: c.get(
        "/desk/api/map/hotspots", params={"area": WARD, "month": v}
    ),
    "/desk/priorities?month=": lambda c, v: c.get(
        "/desk/priorities", params={"area": AREA, "month": v}
    ),
    "/desk/engagements?month=": lambda c, v: c.get("/desk/engagements", params={"month": v}),
    "/desk/updates?month=": lambda c, v: c.get("/desk/updates", params={"area": AREA, "month": v}),
    "/desk/updates/preview?month=": lambda c, v: c.get(
        "/desk/updates/preview", params={"area": WARD, "month": v}
    ),
    "/desk/jag?month=": lambda c, v: c.get(
        "/desk/jag", params={"area": WARD, "month": v, "per_ward": "1", "method": "mean-3"}
    ),
    "POST /desk/priorities/propose data_month": lambda c, v: _post(
        c,
        "/desk/priorities/propose",
        {"area": WARD, "data_month": v, "per_ward": "1", "method": "mean-3"},
    ),
    "POST /desk/updates/text month": lambda c, v: _post(
        c, "/desk/updates/text", {"area": AREA, "month": v, "text": "## News\n\nProperty test."}
    ),
    "POST /desk/updates/publish month": lambda c, v: _post(
        c, "/desk/updates/publish", {"area": WARD, "month": v}
    ),
}
DESK_DAY: dict[str, Route] = {
    "POST /desk/engagements/add when": lambda c, v: _post(
        c,
        "/desk/engagements/add",
        {"when": f"{v}T10:00", "kind": "surgery", "place": "Property Hall", "area": WARD},
    ),
    "POST /desk/engagements/add until": lambda c, v: _post(
        c,
        "/desk/engagements/add",
        {
            "when": "2021-07-20T10:00",
            "until": f"{v} 11:00",
            "kind": "surgery",
            "place": "Property Hall",
            "area": WARD,
        },
    ),
    "POST /desk/operations/add from": lambda c, v: _post(
        c,
        "/desk/operations/add",
        {"name": "Operation Property", "starts": v, "ends": "2021-07-31", "areas": AREA},
    ),
    "POST /desk/operations/add to": lambda c, v: _post(
        c,
        "/desk/operations/add",
        {"name": "Operation Property", "starts": "2021-07-01", "ends": v, "areas": AREA},
    ),
}


def _decisions(pids: dict[str, int]) -> dict[str, Route]:
    """The decisions, on a priority proposed and one adopted when the module began (a month
    that is taken changes them: later inputs then meet a different status, as people would)."""
    proposed, adopted = pids["proposed"], pids["adopted"]
    return {
        "POST adopt from_month": lambda c, v: _post(
            c, f"/desk/priorities/{proposed}/adopt", {"area": AREA, "from_month": v}
        ),
        "POST continue into": lambda c, v: _post(
            c, f"/desk/priorities/{adopted}/continue", {"area": AREA, "into": v}
        ),
        "POST close last": lambda c, v: _post(
            c, f"/desk/priorities/{adopted}/close", {"area": AREA, "last": v}
        ),
    }


def _try(name: str, route: Route, client: TestClient, value: str) -> None:
    got = route(client, value)
    TRIED[name] += 1
    STATUSES[got.status_code] += 1
    assert got.status_code in OK, (name, value, got.status_code, got.text[:300])
    assert "Traceback" not in got.text, (name, value)


def _every(routes: dict[str, Route], client: TestClient, value: str) -> None:
    for name in sorted(routes):
        _try(name, routes[name], client, value)


@CHECK
@example("9999-12")
@example("0001-01")
@given(MONTHS)
def test_public_routes_taking_a_month_never_fail(visitor: TestClient, value: str) -> None:
    _every(PUBLIC_MONTH, visitor, value)


@CHECK
@example("9999-12-31")
@example("9999-12-25")
@example("0001-01-01")
@given(DAYS)
def test_public_routes_taking_a_day_never_fail(visitor: TestClient, value: str) -> None:
    _every(PUBLIC_DAY, visitor, value)


@settings(CHECK, max_examples=12)
@example("9999-12")
@example("0001-01")
@given(MONTHS)
def test_desk_routes_taking_a_month_never_fail(inspector: TestClient, value: str) -> None:
    _every(DESK_MONTH, inspector, value)


@settings(CHECK, max_examples=20)
@example("9999-12-31")
@example("0001-01-01")
@given(DAYS)
def test_desk_forms_taking_a_day_never_fail(inspector: TestClient, value: str) -> None:
    _every(DESK_DAY, inspector, value)


@settings(CHECK, max_examples=15)
@example("9999-12")
@example("0001-01")
@given(MONTHS)
def test_decisions_never_fail_and_the_pages_stay_up(
    inspector: TestClient, visitor: TestClient, pids: dict[str, int], value: str
) -> None:
    _every(_decisions(pids), inspector, value)
    for url in ("/", "/priorities", "/api/priorities", "/api/areas"):
        assert visitor.get(url).status_code == 200, (value, url)


PUBLIC_PAGES = (
    "/",
    "/priorities",
    f"/priorities?area={WEST}",
    "/updates",
    "/events",
    "/events?from=2021-07-01",
    "/events.ics?from=2021-07-01",
    f"/stats/{WEST}",
    "/report",
    "/api/areas",
    "/api/priorities",
    "/api/updates",
    "/api/events?from=2021-07-01",
    f"/api/stats/{WEST}",
)


def test_afterwards_every_public_page_still_answers(
    visitor: TestClient, inspector: TestClient
) -> None:
    """Runs after the properties above (file order): whatever they stored breaks no page."""
    for url in PUBLIC_PAGES:
        got = visitor.get(url)
        assert got.status_code == 200, (url, got.text[:300])
    for url in (f"/desk/priorities?area={WEST}", "/desk/engagements", "/desk/operations"):
        assert inspector.get(url).status_code == 200, url
    assert sum(TRIED.values()) >= 300 and STATUSES[500] == 0
    print(
        f"\nweb inputs tried: {sum(TRIED.values())} over {len(TRIED)} routes; "
        f"answers: {dict(sorted(STATUSES.items()))}"
    )
