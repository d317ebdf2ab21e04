"""Issue 17, items 4 and 7, on the real app and scenario store (see ``web_support``): months
and dates past the calendar answer 400 with a clear message (never 500), a decision "into
9999-12" is refused as the command line refuses it, one already stored (written here by
hand with SQL, as before the fix) leaves every page up, and free text over the print's
limits is refused with what was typed kept.

The store holds police.uk data 2020-01 .. 2021-12 and 2025-01 .. 2025-03, so a month may be
2020-01 .. 2025-09 (settings.MONTHS_AFTER_DATA = 6).
"""

from __future__ import annotations

import datetime as dt
import html
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi.testclient import TestClient
from web_support import AREA, csrf_of, whose_latest_is

from support.records_backend import TeamSQL

WEST = quote(AREA, safe="")
WINDOW = (
    "expected a month from 2020-01 to 2025-09 (police.uk data are stored from 2020-01 to "
    "2025-03; a month may be up to 6 after them)"
)
# Every public page and API answer, and the desk pages a bad stored value reaches.
PUBLIC = (
    "/",
    "/priorities",
    f"/priorities?area={WEST}",
    "/updates",
    "/events",
    "/events?from=2021-07-01",
    "/events.ics?from=2021-07-01",
    f"/stats/{WEST}",
    f"/stats/{WEST}?to=2021-12",
    "/report",
    "/api/areas",
    "/api/priorities",
    f"/api/priorities?area={WEST}",
    "/api/updates",
    "/api/events?from=2021-07-01",
    f"/api/stats/{WEST}",
)
DESK = (
    f"/desk?area={WEST}&month=2021-07",
    f"/desk/priorities?area={WEST}&month=2021-07",
    f"/desk/priorities?area={WEST}&month=2021-08",
    f"/desk/api/map/priorities?area={WEST}&month=2021-07",
    f"/desk/updates?area={WEST}&month=2021-08",
)


def _latest(team: TeamSQL, action: str) -> int:
    return whose_latest_is(team, action)[0]


def _events(team: TeamSQL) -> int:
    return team.scalar("SELECT count(*) FROM priority_events")


def _post(client: TestClient, url: str, data: dict[str, str]):
    token = csrf_of(client.get("/desk/engagements").text)
    return client.post(url, data={**data, "csrf_token": token})


# --- public pages: a month or day past the calendar is a 400 --------------------------------


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2032-01", "2019-12"])
def test_stats_to_a_month_outside_the_data_is_a_400_saying_which_are_taken(
    visitor: TestClient, month: str
) -> None:
    page = visitor.get(f"/stats/{WEST}?to={month}")
    assert page.status_code == 400
    assert html.escape(f"to {month}: {WINDOW}") in page.text
    api = visitor.get(f"/api/stats/{WEST}?to={month}")
    assert api.status_code == 400 and api.json() == {"error": f"to {month}: {WINDOW}"}


@pytest.mark.parametrize(
    "url",
    [
        "/events?from=9999-12-31",
        "/events?from=9999-12-25&weeks=1",
        "/events.ics?from=9999-12-31",
        "/api/events?from=9999-12-31",
        "/api/events?from=0001-01-01",
    ],
)
def test_events_near_the_end_of_the_calendar_are_a_400(visitor: TestClient, url: str) -> None:
    got = visitor.get(url)
    assert got.status_code == 400
    day = parse_qs(urlsplit(url).query)["from"][0]
    message = f"from {day}: expected a day from 2000-01-01 to {dt.date.today().year + 5}-12-31"
    if url.startswith("/api/"):
        assert got.json() == {"error": message}
    else:
        assert message in got.text


# --- decisions: refused as on the command line ------------------------------------------------


@pytest.mark.parametrize(
    ("action", "field"),
    [("continue", "into"), ("close", "last")],
)
def test_continuing_or_closing_into_9999_12_is_refused_and_nothing_stored(
    inspector: TestClient, team_sql, action: str, field: str
) -> None:
    pid = _latest(team_sql, "continued")
    before = _events(team_sql)
    got = _post(
        inspector,
        f"/desk/priorities/{pid}/{action}",
        {"area": AREA, "month": "2021-07", field: "9999-12"},
    )
    assert got.status_code == 303
    query = parse_qs(urlsplit(got.headers["location"]).query)
    assert query["kind"] == ["error"]
    assert query["msg"][0].endswith(f"9999-12: {WINDOW}")
    assert _events(team_sql) == before
    assert html.escape(query["msg"][0]) in inspector.get(got.headers["location"]).text


def test_adopting_from_9999_12_is_refused(inspector: TestClient, team_sql) -> None:
    pid = _latest(team_sql, "proposed")
    before = _events(team_sql)
    got = _post(
        inspector,
        f"/desk/priorities/{pid}/adopt",
        {"area": AREA, "month": "2021-07", "from_month": "9999-12"},
    )
    query = parse_qs(urlsplit(got.headers["location"]).query)
    assert (query["kind"], query["msg"]) == (["error"], [f"--month 9999-12: {WINDOW}"])
    assert _events(team_sql) == before


def test_the_team_text_for_a_month_past_the_window_is_refused(
    inspector: TestClient, team_sql
) -> None:
    got = _post(
        inspector,
        "/desk/updates/text",
        {"area": AREA, "month": "9999-12", "text": "## News\n\nHello."},
    )
    query = parse_qs(urlsplit(got.headers["location"]).query)
    assert (query["kind"], query["msg"]) == (["error"], [f"month 9999-12: {WINDOW}"])
    count = "SELECT count(*) FROM update_texts WHERE month > DATE '2100-01-01'"
    assert team_sql.execute(count).fetchone()[0] == 0


# --- free text: limits that fit the print -----------------------------------------------------


def test_an_operation_name_of_100000_characters_is_refused_and_the_form_kept(
    inspector: TestClient, team_sql
) -> None:
    page = inspector.get("/desk/operations").text
    assert 'name="name" required placeholder="Operation Nightjar" maxlength="80"' in page
    assert 'name="description" maxlength="500"' in page
    got = _post(
        inspector,
        "/desk/operations/add",
        {
            "name": "N" * 100_000,
            "starts": "2021-07-01",
            "ends": "2021-07-31",
            "areas": AREA,
            "description": "kept <b>as typed</b>",
        },
    )
    assert got.status_code == 400
    assert "operation name: 100,000 characters; at most 80" in got.text
    assert 'value="kept &lt;b&gt;as typed&lt;/b&gt;"' in got.text
    assert 'value="2021-07-01"' in got.text and f'<option value="{AREA}" selected>' in got.text
    assert team_sql.execute("SELECT count(*) FROM operations WHERE name LIKE 'NNN%'").fetchone()[
        0
    ] == (0)


def test_an_operation_dated_9999_12_31_is_refused(inspector: TestClient, team_sql) -> None:
    got = _post(
        inspector,
        "/desk/operations/add",
        {"name": "Operation Far", "starts": "2021-07-01", "ends": "9999-12-31", "areas": AREA},
    )
    assert got.status_code == 400 and "to 9999-12-31: expected a day from 2000-01-01" in got.text
    assert 'value="Operation Far"' in got.text
    count = "SELECT count(*) FROM operations WHERE name = 'Operation Far'"
    assert team_sql.execute(count).fetchone()[0] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "T" * 100_000, "--title: 100,000 characters; at most 100"),
        ("place", "P" * 121, "--place: 121 characters; at most 120"),
        ("notes", "n " * 300, "--notes: 599 characters; at most 500"),
        ("when", "9999-12-31T23:00", "--when 9999-12-31: expected a day from 2000-01-01"),
    ],
)
def test_an_engagement_over_the_limits_is_refused_and_the_form_kept(
    inspector: TestClient, team_sql, field: str, value: str, message: str
) -> None:
    typed = {
        "when": "2021-07-23T18:00",
        "until": "19:00",
        "kind": "surgery",
        "place": "Limits Library",
        "area": "Fosse (Leicester)",
        "title": "Limits surgery",
        "notes": "",
    }
    got = _post(inspector, "/desk/engagements/add", {**typed, field: value})
    assert got.status_code == 400 and message in got.text
    kept = "Limits Library" if field != "place" else "Limits surgery"
    assert f'value="{kept}"' in got.text and '<option value="surgery" selected>' in got.text
    count = "SELECT count(*) FROM engagements WHERE place LIKE 'Limits%' OR place LIKE 'PPP%'"
    assert team_sql.execute(count).fetchone()[0] == 0


# --- a bad value already stored (written by hand, as before the fix) --------------------------


def test_a_decision_into_9999_12_stored_before_the_fix_takes_no_page_down(
    inspector: TestClient, visitor: TestClient, team_sql, caplog: pytest.LogCaptureFixture
) -> None:
    pid = _latest(team_sql, "continued")
    team_sql.execute(
        "INSERT INTO priority_events SELECT ?, max(seq) + 1, 'continued', 'before the fix', "
        "now(), DATE '9999-12-01', '{}' FROM priority_events WHERE priority_id = ?",
        [pid, pid],
    )
    for url in PUBLIC:
        got = visitor.get(url)
        assert got.status_code == 200, (url, got.text[:300])
    for url in DESK:
        got = inspector.get(url)
        assert got.status_code == 200, (url, got.text[:300])
    assert f"priority {pid}, decision" in caplog.text and "9999-12" in caplog.text
    # the public list is still the team's July 2021, with the priority in it
    api = visitor.get(f"/api/priorities?area={WEST}").json()
    assert api[0]["month"] == "2021-07"
    assert pid in {p["id"] for w in api[0]["wards"] for p in w["priorities"]}
    # and the team can carry on with it
    got = _post(
        inspector,
        f"/desk/priorities/{pid}/continue",
        {"area": AREA, "month": "2021-08", "into": "2021-08"},
    )
    assert parse_qs(urlsplit(got.headers["location"]).query)["kind"] == ["ok"]
