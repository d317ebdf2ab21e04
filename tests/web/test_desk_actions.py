"""The desk's pages doing their work on the real app and scenario store (see ``web_support``):
decisions land in the append-only trail with the user's name, publishing stores the update
that the public page then serves, the concerns inbox never shows a contact and shows a
``<script>`` as text, the map layers are valid GeoJSON that agrees with the tests' own SQL
and geometry, and the library's refusals come back as messages with nothing written.

Expected values come from the tests' own SQL on the store, shapely on the stored boundary
WKT and pyproj, never from the BeatBook function under test.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyproj import Transformer
from web_support import AREA, csrf_of, demo_contacts, west_lsoas, whose_latest_is

from beatbook.concerns.csv_import import record_concern
from support.records_backend import TeamSQL

A = quote(AREA, safe="")
SCRIPT_WHERE = "<script>alert('where')</script> behind the chip shop"
SECRET_CONTACT = "never-shown-7731@example.org"
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


@pytest.fixture(scope="module")
def script_concern(web_app: FastAPI) -> int:
    """An unmatched concern whose place text holds a script, with a contact."""
    with web_app.state.db.write() as st:
        return record_concern(
            st,
            area=AREA,
            reported_on="2021-07-05",
            problem="drug dealing",
            source="online",
            where=SCRIPT_WHERE,
            contact=SECRET_CONTACT,
        )


def flash_of(client: TestClient, url: str, data: dict[str, str]) -> tuple[str, str, str]:
    """POST a form and follow its redirect: (kind, message, page)."""
    data = {**data, "csrf_token": csrf_of(client.get("/desk/engagements").text)}
    got = client.post(url, data=data)
    assert got.status_code == 303, got.text[:300]
    location = got.headers["location"]
    query = parse_qs(urlsplit(location).query)
    page = client.get(location).text
    return query["kind"][0], query["msg"][0], page


def latest_event(team: TeamSQL, pid: int) -> tuple:
    return team.execute(
        "SELECT action, actor, month, details FROM priority_events WHERE priority_id = ? "
        "ORDER BY seq DESC LIMIT 1",
        [pid],
    ).fetchone()


def proposed_ids(team: TeamSQL) -> list[int]:
    return whose_latest_is(team, "proposed")


# --- priorities -----------------------------------------------------------------------------


def test_adopting_appends_the_event_with_the_username(users, team_sql) -> None:
    inspector = users["inspector"]
    pid = proposed_ids(team_sql)[0]
    events = team_sql.execute(
        "SELECT count(*) FROM priority_events WHERE priority_id = ?", [pid]
    ).fetchone()[0]
    kind, message, page = flash_of(
        inspector,
        f"/desk/priorities/{pid}/adopt",
        {
            "area": AREA,
            "month": "2021-07",
            "label": "The <b>parade</b> of shops",
            "note": "agreed at JAG",
            "from_month": "2021-08",
        },
    )
    assert kind == "ok" and f"Priority {pid} adopted" in message
    action, actor, month, details = latest_event(team_sql, pid)
    assert (action, actor, month) == ("adopted", inspector.user.username, dt.date(2021, 8, 1))
    assert details == {"label": "The <b>parade</b> of shops", "note": "agreed at JAG"}
    assert (
        team_sql.execute(
            "SELECT count(*) FROM priority_events WHERE priority_id = ?", [pid]
        ).fetchone()[0]
        == events + 1
    )
    assert html.escape(message) in page
    listed = inspector.get(f"/desk/priorities?area={A}&month=2021-08").text
    assert "The &lt;b&gt;parade&lt;/b&gt; of shops" in listed and "<b>parade" not in listed


def test_a_second_adoption_is_refused_with_the_library_message(users, team_sql) -> None:
    pid = team_sql.execute(
        "SELECT priority_id FROM priority_events WHERE action = 'adopted' "
        "ORDER BY priority_id LIMIT 1"
    ).fetchone()[0]
    before = team_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0]
    kind, message, page = flash_of(
        users["inspector"], f"/desk/priorities/{pid}/adopt", {"area": AREA, "month": "2021-07"}
    )
    assert kind == "error" and "cannot be adopted" in message
    assert 'class="flash error"' in page and html.escape(message) in page
    assert team_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0] == before


def test_adopting_without_a_month_is_for_the_month_proposed(users, team_sql) -> None:
    inspector = users["inspector"]
    pid = proposed_ids(team_sql)[-1]
    proposed_for = team_sql.execute(
        "SELECT proposed_for FROM priorities WHERE priority_id = ?", [pid]
    ).fetchone()[0]
    kind, message, _ = flash_of(
        inspector,
        f"/desk/priorities/{pid}/adopt",
        {"area": AREA, "month": "2021-07", "from_month": " "},
    )
    assert kind == "ok" and f"Priority {pid} adopted for {proposed_for:%Y-%m}" in message
    action, _, month, _ = latest_event(team_sql, pid)
    assert (action, month) == ("adopted", proposed_for)


def test_rejecting_needs_a_reason(users, team_sql) -> None:
    inspector = users["inspector"]
    pid = proposed_ids(team_sql)[0]
    before = team_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0]
    kind, message, _ = flash_of(
        inspector,
        f"/desk/priorities/{pid}/reject",
        {"area": AREA, "month": "2021-07", "reason": "   "},
    )
    assert kind == "error" and "say why" in message
    assert team_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0] == before
    kind, _, _ = flash_of(
        inspector,
        f"/desk/priorities/{pid}/reject",
        {"area": AREA, "month": "2021-07", "reason": "a partnership plan exists"},
    )
    assert kind == "ok"
    action, actor, _, details = latest_event(team_sql, pid)
    assert (action, actor) == ("rejected", inspector.user.username)
    assert details == {"reason": "a partnership plan exists"}


def test_continuing_then_closing_with_its_assessment(users, team_sql) -> None:
    inspector = users["inspector"]
    pid = whose_latest_is(team_sql, "continued")[0]
    kind, message, _ = flash_of(
        inspector,
        f"/desk/priorities/{pid}/continue",
        {"area": AREA, "month": "2021-07", "into": "2021-07"},
    )
    assert kind == "error" and "already runs to 2021-07" in message
    kind, _, _ = flash_of(
        inspector,
        f"/desk/priorities/{pid}/continue",
        {"area": AREA, "month": "2021-07", "into": "2021-08", "note": "one more month"},
    )
    assert kind == "ok"
    assert latest_event(team_sql, pid)[:3] == (
        "continued",
        inspector.user.username,
        dt.date(2021, 8, 1),
    )
    kind, message, page = flash_of(
        inspector,
        f"/desk/priorities/{pid}/close",
        {"area": AREA, "month": "2021-08", "last": "2021-08"},
    )
    assert kind == "ok" and message.startswith(f"Priority {pid} closed: ")
    action, actor, month, details = latest_event(team_sql, pid)
    assert (action, actor, month) == ("closed", inspector.user.username, dt.date(2021, 8, 1))
    assert "assessment" in details
    assert f'id="priority-{pid}"' in page and "closed by " + inspector.user.username in page


def test_a_partner_note_is_kept_shown_on_the_desk_and_never_public(users, team_sql, client) -> None:
    partner = users["partner"]
    pid = team_sql.execute(
        "SELECT min(priority_id) FROM priorities WHERE area = ?", [AREA]
    ).fetchone()[0]
    text = "Housing <i>association</i> fits new lighting in August"
    kind, _, _ = flash_of(
        partner, f"/desk/priorities/{pid}/note", {"area": AREA, "month": "2021-07", "text": text}
    )
    assert kind == "ok"
    row = team_sql.execute(
        "SELECT author, text FROM priority_notes WHERE priority_id = ?", [pid]
    ).fetchone()
    assert row == (partner.user.username, text)
    month = team_sql.scalar("SELECT proposed_for FROM priorities WHERE priority_id = ?", [pid])
    desk = partner.get(f"/desk/priorities?area={A}&month={month:%Y-%m}").text
    assert html.escape(text, quote=False) in desk
    for url in ("/", "/priorities", f"/priorities?area={A}", "/updates", f"/updates/{A}/2021-07"):
        assert "Housing" not in client.get(url).text, url


def test_proposing_from_the_desk_saves_the_candidates_as_the_user(users, team_sql) -> None:
    analyst = users["analyst"]
    ward = "Fosse (Leicester)"
    kind, message, _ = flash_of(
        analyst,
        "/desk/priorities/propose",
        {"area": ward, "data_month": "2021-06", "per_ward": "2", "method": "mean-3"},
    )
    assert kind == "ok" and "for 2021-07 saved" in message
    ids = [int(x) for x in re.search(r"ids ([0-9, ]+)\)", message)[1].split(", ")]
    rows = team_sql.execute(
        "SELECT p.priority_id, p.proposed_for, e.actor FROM priorities p JOIN priority_events e "
        f"USING (priority_id) WHERE e.seq = 1 AND p.priority_id IN ({', '.join('?' * len(ids))})",
        ids,
    ).fetchall()
    assert len(rows) == len(ids) == 2
    assert {(r[1], r[2]) for r in rows} == {(dt.date(2021, 7, 1), analyst.user.username)}


@pytest.mark.parametrize("per_ward", ["0", "11"])
def test_proposing_outside_one_to_ten_a_ward_is_refused_as_on_the_command_line(
    users, team_sql, per_ward: str
) -> None:
    before = team_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0]
    kind, message, _ = flash_of(
        users["analyst"],
        "/desk/priorities/propose",
        {
            "area": "Fosse (Leicester)",
            "data_month": "2021-06",
            "per_ward": per_ward,
            "method": "mean-3",
        },
    )
    assert (kind, message) == ("error", f"--per-ward {per_ward}: expected 1 to 10")
    assert team_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0] == before


# --- publishing -----------------------------------------------------------------------------


def test_the_team_text_is_checked_then_saved(users, team_sql) -> None:
    inspector = users["inspector"]
    bad = "Hello before any heading\n\n## News\n\nText."
    kind, message, _ = flash_of(
        inspector, "/desk/updates/text", {"area": AREA, "month": "2021-08", "text": bad}
    )
    assert kind == "error" and "before the first '## Heading'" in message
    assert (
        team_sql.execute("SELECT count(*) FROM update_texts WHERE month = '2021-08-01'").fetchone()[
            0
        ]
        == 0
    )
    good = "## From your inspector\r\n\r\nWe <script>alert('team')</script> listened.\r\n"
    kind, message, page = flash_of(
        inspector, "/desk/updates/text", {"area": AREA, "month": "2021-08", "text": good}
    )
    assert kind == "ok" and "1 sections (From your inspector)" in message
    stored = team_sql.execute(
        "SELECT markdown, source FROM update_texts WHERE area = ? AND month = '2021-08-01'", [AREA]
    ).fetchone()
    assert stored[0] == good.replace("\r\n", "\n") and inspector.user.username in stored[1]
    assert "We &lt;script&gt;alert(&#39;team&#39;)&lt;/script&gt; listened." in page


def test_publishing_stores_the_update_and_the_public_page_serves_it(
    users, team_sql, client
) -> None:
    inspector = users["inspector"]
    text = "## News\n\nThe <script>alert('x')</script> beat surgery moves to Tuesdays.\n"
    assert (
        flash_of(inspector, "/desk/updates/text", {"area": AREA, "month": "2021-09", "text": text})[
            0
        ]
        == "ok"
    )
    preview = inspector.get(f"/desk/updates/preview?area={A}&month=2021-09")
    assert preview.status_code == 200 and "beat surgery moves to Tuesdays" in preview.text
    assert "<script>alert" not in preview.text and 'src="data:image/png;base64,' in preview.text
    assert (
        team_sql.execute(
            "SELECT count(*) FROM published_updates WHERE month = '2021-09-01'"
        ).fetchone()[0]
        == 0
    )
    kind, message, _ = flash_of(
        inspector, "/desk/updates/publish", {"area": AREA, "month": "2021-09"}
    )
    assert kind == "ok", message
    row = team_sql.execute(
        "SELECT area, title, published_by FROM published_updates WHERE month = '2021-09-01'"
    ).fetchone()
    assert row[0] == AREA and row[2] == inspector.user.username and "September 2021" in row[1]
    files = dict(
        team_sql.execute(
            "SELECT name, data FROM published_update_files WHERE area = ? AND month = '2021-09-01'",
            [AREA],
        ).fetchall()
    )
    assert {"update.html", "update.pdf", "update.txt"} <= set(files)
    public = client.get(f"/updates/{A}/2021-09")
    assert public.status_code == 200
    assert "beat surgery moves to Tuesdays" in public.text and "<script>alert" not in public.text
    assert f"/updates/{A}/2021-09" in message
    page = inspector.get(f"/desk/updates?area={A}&month=2021-09").text
    assert f'href="/updates/{A}/2021-09"' in page


# --- concerns -------------------------------------------------------------------------------


def test_the_inbox_shows_a_script_as_text_and_never_a_contact(
    users, script_concern, team_sql
) -> None:
    page = users["analyst"].get("/desk/concerns").text
    assert f'id="concern-{script_concern}"' in page
    assert "&lt;script&gt;alert(" in page and "<script>alert" not in page
    shown = re.search(
        rf'id="concern-{script_concern}".*?<span class="where">(.*?)</span>', page, re.S
    )[1]
    assert html.unescape(shown) == SCRIPT_WHERE
    contacts = [
        SECRET_CONTACT,
        *demo_contacts(),
        *[c for (c,) in team_sql.execute("SELECT contact FROM concern_contacts").fetchall()],
    ]
    assert SECRET_CONTACT in contacts and len(contacts) > 3
    unmatched = team_sql.execute(
        "SELECT concern_id FROM concerns WHERE place IS NULL AND status = 'open'"
    ).fetchall()
    for (cid,) in unmatched:
        assert f'id="concern-{cid}"' in page
    for role, browser in users.items():
        for url in (
            "/desk",
            f"/desk?area={A}&month=2021-07",
            "/desk/concerns",
            f"/desk/priorities?area={A}&month=2021-07",
            "/desk/operations",
            "/desk/engagements",
            f"/desk/updates?area={A}&month=2021-07",
            f"/desk/api/map/priorities?area={A}&month=2021-07",
        ):
            body = browser.get(url).text
            leaked = [c for c in contacts if c and c in body]
            assert not leaked, (role, url, leaked)


def test_matching_a_concern_to_a_street(users, script_concern, team_sql, store_sql) -> None:
    analyst = users["analyst"]
    kind, message, _ = flash_of(
        analyst, f"/desk/concerns/{script_concern}/match", {"place": "Nowhere Such Street Xyz"}
    )
    assert kind == "error" and f"Concern {script_concern}" in message
    assert (
        team_sql.execute(
            "SELECT place FROM concerns WHERE concern_id = ?", [script_concern]
        ).fetchone()[0]
        is None
    )
    street = store_sql.execute(
        "SELECT regexp_replace(location, '^On or near ', '') FROM street_crimes WHERE lsoa_code IN "
        "(SELECT unnest(?::VARCHAR[])) AND location LIKE 'On or near %Road' "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [west_lsoas(team_sql)],
    ).fetchone()[0]
    kind, message, page = flash_of(
        analyst, f"/desk/concerns/{script_concern}/match", {"place": street}
    )
    assert kind == "ok", message
    place, method = team_sql.execute(
        "SELECT place, match_method FROM concerns WHERE concern_id = ?", [script_concern]
    ).fetchone()
    assert place == f"On or near {street}" and method == "by hand"
    assert f'id="concern-{script_concern}"' not in page


# --- operations and engagements ---------------------------------------------------------------


def test_operations_and_a_result_breaking_the_hierarchy(users, team_sql) -> None:
    analyst = users["analyst"]
    kind, _, _ = flash_of(
        analyst,
        "/desk/operations/add",
        {
            "name": "Operation Desk Test",
            "starts": "2021-07-01",
            "ends": "2021-07-31",
            "areas": f"{AREA}\nWestcotes (Leicester)",
            "description": "desk <em>test</em>",
        },
    )
    assert kind == "ok"
    assert (
        team_sql.execute(
            "SELECT areas FROM operations WHERE name = 'Operation Desk Test'"
        ).fetchone()[0][0]
        == AREA
    )
    assert (
        flash_of(
            analyst,
            "/desk/operations/result",
            {"operation": "Operation Desk Test", "area": "", "measure": "arrests", "count": "5"},
        )[0]
        == "ok"
    )
    before = team_sql.execute("SELECT count(*) FROM operation_results").fetchone()[0]
    kind, message, page = flash_of(
        analyst,
        "/desk/operations/result",
        {"operation": "Operation Desk Test", "area": AREA, "measure": "arrests", "count": "9"},
    )
    assert (
        kind == "error"
        and "West arrests 9 > operation total 5" in message
        and "nothing was recorded" in message
    )
    assert html.escape(message) in page
    assert team_sql.execute("SELECT count(*) FROM operation_results").fetchone()[0] == before
    kind, _, page = flash_of(
        analyst,
        "/desk/operations/result",
        {"operation": "Operation Desk Test", "area": AREA, "measure": "arrests", "count": "2"},
    )
    assert kind == "ok"
    row = team_sql.execute(
        "SELECT count, recorded_by FROM operation_results WHERE operation = "
        "'Operation Desk Test' AND area = ?",
        [AREA],
    ).fetchone()
    assert row == (2, analyst.user.username)
    assert "2 of 5 arrests were in the West area (40%)" in page
    assert "desk &lt;em&gt;test&lt;/em&gt;" in page


def test_adding_an_engagement_and_refusing_a_contact_in_it(users, team_sql) -> None:
    analyst = users["analyst"]
    refused = analyst.post(  # the form comes back (400) with the message and what was typed
        "/desk/engagements/add",
        data={
            "when": "2021-07-22T18:00",
            "until": "19:30",
            "kind": "surgery",
            "place": "Fosse Library",
            "area": "Fosse (Leicester)",
            "title": "Desk surgery",
            "notes": "call 07700 900123",
            "csrf_token": csrf_of(analyst.get("/desk/engagements").text),
        },
    )
    assert refused.status_code == 400 and "phone number" in refused.text
    assert 'name="place" required maxlength="120" value="Fosse Library"' in refused.text
    assert (
        team_sql.execute(
            "SELECT count(*) FROM engagements WHERE place = 'Fosse Library'"
        ).fetchone()[0]
        == 0
    )
    kind, _, page = flash_of(
        analyst,
        "/desk/engagements/add",
        {
            "when": "2021-07-22T18:00",
            "until": "19:30",
            "kind": "surgery",
            "place": "Fosse Library",
            "area": "Fosse (Leicester)",
            "title": "Desk surgery",
            "notes": "",
        },
    )
    assert kind == "ok"
    row = team_sql.execute(
        "SELECT starts, ends, kind, area_name FROM engagements WHERE place = 'Fosse Library'"
    ).fetchone()
    assert row == (
        dt.datetime(2021, 7, 22, 18, 0),
        dt.datetime(2021, 7, 22, 19, 30),
        "surgery",
        "Fosse",
    )
    assert "Thursday 22 July 2021" in page and "Desk surgery" in page


# --- the dashboard and its map ------------------------------------------------------------------
