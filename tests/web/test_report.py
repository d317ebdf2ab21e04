"""The public "tell us about a problem" form (/report) on the real scenario store.

What lands in the store is read back by the tests' own SQL. The contact a resident gives
must reach ``concern_contacts`` and nothing else: no other table, no response. The last test
posts 50 reports at once to a real uvicorn server on loopback and counts 50 rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import duckdb
import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_support import AREA, SECRET, csrf_of, field_value, text_of

from beatbook.records import schema
from beatbook.web import create_app
from support.fixtures_store import ROOT
from support.records_backend import TeamSQL

CONTACT = "Zqxreporter.Wqv@example.org"  # distinctive: found anywhere it leaks


def open_form(client: TestClient) -> dict[str, str]:
    """GET /report as a browser would: its CSRF token (bound to the cookie the client now
    holds) and the form's own submission_id."""
    page = client.get("/report")
    assert page.status_code == 200
    return {
        "csrf_token": csrf_of(page.text),
        "submission_id": field_value(page.text, "submission_id"),
    }


def report(marker: str, **fields: str) -> dict[str, str]:
    """A valid report about drug dealing on Narborough Road in West, with a marker in the
    place text so the test finds its row; ``fields`` change or add fields."""
    return {
        "area": AREA,
        "where": f"Narborough Road {marker}",
        "problem": "drugs",
        "date": "2021-07-02",
        "contact": CONTACT,
        **fields,
    }


def rows_with(team: TeamSQL, marker: str) -> list[tuple]:
    return team.execute(
        "SELECT concern_id, area, where_text, problem, source, reported_on FROM concerns "
        "WHERE where_text LIKE '%' || ? || '%' ORDER BY concern_id",
        [marker],
    ).fetchall()


def concern_count(team: TeamSQL) -> tuple[int, int]:
    return team.execute(
        "SELECT (SELECT count(*) FROM concerns), (SELECT count(*) FROM concern_contacts)"
    ).fetchone()


def tables_holding(db: duckdb.DuckDBPyConnection, team: TeamSQL, text: str) -> set[str]:
    """Every table with a text or JSON column that holds ``text`` (case-insensitive): those of
    the store file, and the team's wherever they are."""
    columns = [
        (db, table, column)
        for table, column in db.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'JSON') OR data_type LIKE 'VARCHAR[]'"
        ).fetchall()
        if table not in team.tables()
    ]
    columns += [
        (team, table.name, column.name)
        for table in schema.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sa.String | sa.JSON | sa.ARRAY)
    ]
    found = set()
    for where, table, column in columns:
        hit = where.execute(
            f'SELECT count(*) FROM "{table}" WHERE lower(CAST("{column}" AS VARCHAR)) '
            "LIKE '%' || lower(?) || '%'",
            [text],
        ).fetchone()[0]
        if hit:
            found.add(table)
    return found


# --- a good report --------------------------------------------------------------------------


def test_a_report_lands_in_concerns_and_its_contact_in_concern_contacts_only(
    client: TestClient, store_sql, team_sql, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = uuid.uuid4().hex[:10]
    sent = client.post("/report", data={**open_form(client), **report(marker)})
    assert sent.status_code == 200
    rows = rows_with(team_sql, marker)
    assert len(rows) == 1
    concern_id, area, where, problem, source, reported_on = rows[0]
    assert (area, where, problem, source, reported_on) == (
        AREA,
        f"Narborough Road {marker}",
        "drugs",
        "online",
        dt.date(2021, 7, 2),
    )
    assert re.search(rf'<strong id="reference">{concern_id}</strong>', sent.text)
    (contact,) = team_sql.execute(
        "SELECT contact FROM concern_contacts WHERE concern_id = ?", [concern_id]
    ).fetchone()
    assert contact == CONTACT
    assert tables_holding(store_sql, team_sql, "Zqxreporter") == {"concern_contacts"}
    assert "zqxreporter" not in sent.text.lower()
    assert "zqxreporter" not in caplog.text.lower()  # nor in any log line
    # nor anywhere public afterwards
    for url in [
        "/",
        "/priorities",
        "/report",
        "/api/areas",
        "/api/priorities",
        "/api/updates",
        "/api/events?from=2021-07-01",
        f"/api/stats/{AREA}?to=2021-12",
    ]:
        assert "zqxreporter" not in client.get(url).text.lower(), url


def test_a_report_by_coordinates_without_a_place_name(client: TestClient, team_sql) -> None:
    before = concern_count(team_sql)
    fields = {
        **report("unused"),
        "where": "",
        "latitude": "52.6296",
        "longitude": "-1.1515",
        "contact": "",
    }
    sent = client.post("/report", data={**open_form(client), **fields})
    assert sent.status_code == 200
    found = team_sql.execute(
        "SELECT given_latitude, given_longitude, where_text FROM concerns ORDER BY concern_id DESC LIMIT 1"
    ).fetchone()
    assert found == (52.6296, -1.1515, None)
    assert concern_count(team_sql) == (before[0] + 1, before[1])  # no contact row without one


def test_the_same_submission_twice_stores_one_concern(client: TestClient, team_sql) -> None:
    marker = uuid.uuid4().hex[:10]
    form = {**open_form(client), **report(marker)}
    first, second = client.post("/report", data=form), client.post("/report", data=form)
    assert first.status_code == second.status_code == 200
    rows = rows_with(team_sql, marker)
    assert len(rows) == 1
    for page in (first, second):
        assert f'<strong id="reference">{rows[0][0]}</strong>' in page.text
    # a new form (a new submission_id) is a new report
    client.post("/report", data={**open_form(client), **report(marker)})
    assert len(rows_with(team_sql, marker)) == 2


DESCRIPTION = "Qzvwritten: the man at number 12 sells from a blue van every night"


def test_the_description_is_stored_privately_and_shown_nowhere(
    client: TestClient, store_sql, team_sql, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = uuid.uuid4().hex[:10]
    sent = client.post(
        "/report", data={**open_form(client), **report(marker), "description": DESCRIPTION}
    )
    assert sent.status_code == 200
    ((concern_id, *_),) = rows_with(team_sql, marker)
    (kept,) = team_sql.execute(
        "SELECT description FROM concern_descriptions WHERE concern_id = ?", [concern_id]
    ).fetchone()
    assert kept == DESCRIPTION
    assert tables_holding(store_sql, team_sql, "Qzvwritten") == {"concern_descriptions"}
    # not on the thanks page, nor the form shown again after a mistake, nor any public page
    again = client.post(
        "/report",
        data={**open_form(client), **report("bad"), "date": "", "description": DESCRIPTION},
    )
    assert again.status_code == 400 and "please type it again" in again.text
    pages = [sent.text, again.text] + [
        client.get(url).text
        for url in [
            "/",
            "/priorities",
            "/search?q=Narborough",
            f"/stats/{AREA}",
            "/api/priorities",
            f"/api/stats/{AREA}?to=2021-12",
        ]
    ]
    assert not [p for p in pages if "qzvwritten" in p.lower()]
    assert "qzvwritten" not in caplog.text.lower()


def test_the_team_reads_the_description_on_the_desk_and_partners_do_not(
    client: TestClient, users, team_sql
) -> None:
    marker = uuid.uuid4().hex[:10]
    words = f"Qzvdesk {marker}: dealing from the bus shelter after school"
    sent = client.post(
        "/report", data={**open_form(client), **report(marker), "description": words}
    )
    assert sent.status_code == 200
    ((concern_id, *_),) = rows_with(team_sql, marker)
    for role in ("inspector", "analyst"):
        page = users[role].get("/desk/concerns")
        assert page.status_code == 200
        card = page.text.split(f'id="latest-{concern_id}"', 1)[1].split("</article>", 1)[0]
        assert html.escape(words) in card
    partner = users["partner"].get("/desk/concerns")
    assert partner.status_code == 200 and "Qzvdesk" not in partner.text


def test_a_pin_inside_the_area_is_placed_and_the_thanks_page_says_where(
    client: TestClient, store_sql, team_sql
) -> None:
    marker = uuid.uuid4().hex[:10]
    fields = {**report(marker), "latitude": "52.627112", "longitude": "-1.150477"}
    sent = client.post("/report", data={**open_form(client), **fields})
    assert sent.status_code == 200
    ((concern_id, *_),) = rows_with(team_sql, marker)
    place, method = team_sql.execute(
        "SELECT place, match_method FROM concerns WHERE concern_id = ?", [concern_id]
    ).fetchone()
    # the pin is on one of police.uk's Narborough Road points (the tests' own SQL)
    assert store_sql.execute(
        "SELECT count(*) FROM street_crimes WHERE location = 'On or near Narborough Road' "
        "AND longitude = -1.150477 AND latitude = 52.627112"
    ).fetchone()[0]
    assert (place, method) == ("On or near Narborough Road", "coordinates")
    placed = re.search(r'<p id="placed">(.*?)</p>', sent.text, flags=re.S)
    assert placed and "We have placed it at <strong>Narborough Road</strong>," in placed[1]


def test_a_street_nobody_can_match_is_left_for_the_team(client: TestClient, team_sql) -> None:
    marker = uuid.uuid4().hex[:10]
    sent = client.post(
        "/report", data={**open_form(client), **report(marker, where=f"the alley {marker}")}
    )
    assert sent.status_code == 200
    ((concern_id, *_),) = rows_with(team_sql, marker)
    assert team_sql.execute(
        "SELECT place FROM concerns WHERE concern_id = ?", [concern_id]
    ).fetchone() == (None,)
    assert "the team will place it by hand" in text_of(sent.text)


# --- bad reports ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"date": ""}, "date", "Date: empty"),
        ({"date": "2999-01-01"}, "date", "in the future"),
        ({"date": "yesterday"}, "date", "is not a date"),
        ({"problem": ""}, "problem", "Problem: empty"),
        ({"problem": "aliens"}, "problem", "matches no problem"),
        ({"where": "", "latitude": "", "longitude": ""}, "where", "Place: empty"),
        ({"latitude": "48.1", "longitude": "-1.15"}, "latitude", "outside the UK"),
        ({"latitude": "52.63"}, "longitude", "Longitude: empty, but latitude is given"),
        ({"where": "x" * 501}, "where", "longer than 500 characters"),
        ({"contact": "y" * 501}, "contact", "Contact: longer than 500"),
        ({"area": ""}, "area", "Area: choose"),
        ({"area": "Leicestershire"}, "area", "Area: choose"),  # a real area, but not one offered
        ({"latitude": "52.6343", "longitude": "-1.1339"}, "latitude", "is outside West"),
        ({"latitude": "53.38", "longitude": "-1.47"}, "latitude", "put the pin inside the area"),
        ({"description": "z" * 2001}, "description", "Description: longer than 2000 characters"),
        # PostgreSQL cannot store NUL: refused as a field, not a 500 (issue 20)
        ({"description": "bins\x00"}, "description", "contains a NUL character"),
        ({"where": "Narborough\x00 Road"}, "where", "contains a NUL character"),
    ],
)
def test_a_bad_field_gets_400_with_a_message_beside_it_and_stores_nothing(
    client: TestClient, team_sql, change: dict[str, str], field: str, words: str
) -> None:
    before = concern_count(team_sql)
    sent = client.post("/report", data={**open_form(client), **report("bad"), **change})
    assert sent.status_code == 400
    message = re.search(
        rf'<span class="error" id="{field}-error" role="alert">(.*?)</span>', sent.text, flags=re.S
    )
    assert message, f"no message beside {field}"
    assert words in html.unescape(message[1])
    assert 'aria-invalid="true"' in sent.text
    assert concern_count(team_sql) == before
    # the contact typed is not sent back, even in the form shown again
    assert "zqxreporter" not in sent.text.lower()
    assert "please type them again" in sent.text


def test_the_form_shown_again_keeps_the_other_answers_escaped(client: TestClient) -> None:
    place = '<script>alert("x")</script> Narborough Road'
    sent = client.post("/report", data={**open_form(client), **report("", where=place, date="")})
    assert sent.status_code == 400
    assert "<script>alert" not in sent.text
    assert f'value="{html.escape(place)}"' in sent.text.replace("&#34;", "&quot;")
    assert '<option value="drugs" selected>' in sent.text


def test_a_script_in_the_place_shows_as_text_on_the_thank_you_page(
    client: TestClient, team_sql
) -> None:
    marker = uuid.uuid4().hex[:10]
    place = f'<script>alert("{marker}")</script> <b>Fosse Road</b>'
    sent = client.post("/report", data={**open_form(client), **report(marker, where=place)})
    assert sent.status_code == 200
    assert "<script>alert" not in sent.text and "<b>Fosse Road</b>" not in sent.text
    assert "&lt;script&gt;alert(" in sent.text and "&lt;b&gt;Fosse Road&lt;/b&gt;" in sent.text
    assert rows_with(team_sql, marker)[0][2] == place  # stored as typed


@pytest.mark.parametrize("token", ["", "0" * 64, "not-a-token"])
def test_a_missing_or_wrong_csrf_token_is_refused_and_stores_nothing(
    client: TestClient, team_sql, token: str
) -> None:
    before = concern_count(team_sql)
    form = {**open_form(client), **report("csrf"), "csrf_token": token}
    sent = client.post("/report", data=form)
    assert sent.status_code == 403
    assert concern_count(team_sql) == before


def test_a_token_from_another_visitor_is_refused(
    web_app: FastAPI, client: TestClient, team_sql
) -> None:
    before = concern_count(team_sql)
    theirs = open_form(TestClient(web_app))
    sent = client.post(
        "/report", data={**open_form(client), **report("other"), "csrf_token": theirs["csrf_token"]}
    )
    assert sent.status_code == 403
    fresh = TestClient(web_app)  # no cookie at all: a forged cross-site post
    assert fresh.post("/report", data={**theirs, **report("other")}).status_code == 403
    assert concern_count(team_sql) == before


def test_a_filled_honeypot_looks_accepted_but_stores_nothing(client: TestClient, team_sql) -> None:
    before = concern_count(team_sql)
    marker = uuid.uuid4().hex[:10]
    page = client.get("/report").text
    assert re.search(
        r'<div class="hp" aria-hidden="true">\s*<label>[^<]*<input name="website" tabindex="-1"',
        page,
    )
    sent = client.post(
        "/report", data={**open_form(client), **report(marker), "website": "http://spam.example"}
    )
    assert sent.status_code == 200
    assert "Thank you: we have your report" in sent.text
    assert re.search(r'<strong id="reference">[0-9]+</strong>', sent.text)
    assert concern_count(team_sql) == before and not rows_with(team_sql, marker)


def test_the_form_offers_the_team_area_its_wards_and_the_problems(
    client: TestClient, store_sql
) -> None:
    page = client.get("/report").text
    wards = store_sql.execute(
        "SELECT DISTINCT ward_code FROM lsoa_lookup WHERE lad_name = 'Leicester' "
        "AND ward_name IN ('Westcotes', 'Fosse', 'Western')"
    ).fetchall()
    offered = set(
        re.findall(r'<select name="area"[^>]*>(.*?)</select>', page, flags=re.S)[0].split(
            'value="'
        )[1:]
    )
    assert {o.split('"')[0] for o in offered} == {"", AREA, *(w for (w,) in wards)}
    with open(
        ROOT / "src" / "beatbook" / "reference" / "concern_problems.csv", encoding="utf-8"
    ) as fh:
        slugs = {r["problem"] for r in csv.DictReader(fh)}
    problems = re.findall(r'<select name="problem"[^>]*>(.*?)</select>', page, flags=re.S)[0]
    assert set(re.findall(r'value="([a-z-]+)"', problems)) == slugs
    assert "Your privacy" in page and "never published" in page


# --- the rate limit -------------------------------------------------------------------------


@pytest.fixture
def limited_app(web_store, web_database, team_sql) -> Iterator[FastAPI]:
    """A second app over the module's store that takes 3 reports per address in 10 minutes.
    The count is kept with the team's records, shared with the module's other app as
    workers share it: it starts afresh here."""
    app = create_app(web_store, database=web_database, secret=SECRET, report_limit=(3, 600.0))
    team_sql.execute("DELETE FROM rate_limits")
    yield app
    app.state.db.close()


def test_past_the_rate_limit_a_report_gets_429_and_is_not_stored(
    limited_app: FastAPI, team_sql
) -> None:
    browser = TestClient(limited_app)
    marker = uuid.uuid4().hex[:10]
    for _ in range(3):
        assert (
            browser.post("/report", data={**open_form(browser), **report(marker)}).status_code
            == 200
        )
    assert len(rows_with(team_sql, marker)) == 3
    refused = browser.post("/report", data={**open_form(browser), **report(marker)})
    assert refused.status_code == 429
    assert "several reports from your connection" in html.unescape(refused.text)
    assert len(rows_with(team_sql, marker)) == 3
    assert "zqxreporter" not in refused.text.lower()


# --- 50 at once, over a real server -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(web_app: FastAPI) -> Iterator[str]:
    """The module's app served by uvicorn on loopback, in a thread (lifespan off: the app's
    database stays open for the module's other tests)."""
    port = free_port()
    config = uvicorn.Config(
        web_app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=20)


def test_fifty_reports_at_once_all_land(server: str, team_sql) -> None:
    marker = uuid.uuid4().hex[:10]
    n = 50
    ready = threading.Barrier(n)
    results: list[int | str] = [0] * n

    def one(i: int) -> None:
        try:
            with httpx.Client(base_url=server, timeout=60) as browser:  # its own cookie
                page = browser.get("/report")
                form = {
                    "csrf_token": csrf_of(page.text),
                    "submission_id": field_value(page.text, "submission_id"),
                }
                ready.wait(timeout=30)  # all post at the same moment
                sent = browser.post("/report", data={**form, **report(f"{marker}-{i:02d}")})
                results[i] = sent.status_code
        except Exception as exc:  # reported below, with the others
            results[i] = repr(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == [200] * n
    rows = rows_with(team_sql, marker)
    assert len(rows) == n and len({r[0] for r in rows}) == n
    assert {r[2] for r in rows} == {f"Narborough Road {marker}-{i:02d}" for i in range(n)}
    contacts = team_sql.execute(
        f"SELECT count(*) FROM concern_contacts WHERE concern_id IN ({', '.join('?' * len(rows))})",
        [r[0] for r in rows],
    ).fetchone()[0]
    assert contacts == n
