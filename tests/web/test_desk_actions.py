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
import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import duckdb
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely import wkt as shapely_wkt
from shapely.geometry import shape
from web_support import AREA, WebUser, csrf_of, demo_contacts, sign_in

from beatbook.concerns.csv_import import record_concern
from beatbook.figures.hotspots import hotspots

A = quote(AREA, safe="")
SCRIPT_WHERE = "<script>alert('where')</script> behind the chip shop"
SECRET_CONTACT = "never-shown-7731@example.org"
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


class Browser(TestClient):
    """A browser signed in as ``user``."""

    user: WebUser


@pytest.fixture(scope="module")
def users(web_app: FastAPI, make_user) -> Iterator[dict[str, Browser]]:
    """A signed-in browser per role (four sign-ins, under the login rate limit). Not entered
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


def latest_event(db: duckdb.DuckDBPyConnection, pid: int) -> tuple:
    return db.execute(
        "SELECT action, actor, month, details FROM priority_events WHERE priority_id = ? "
        "ORDER BY seq DESC LIMIT 1",
        [pid],
    ).fetchone()


def proposed_ids(db: duckdb.DuckDBPyConnection) -> list[int]:
    return [
        r[0]
        for r in db.execute(
            "SELECT p.priority_id FROM priorities p JOIN priority_events e USING (priority_id) "
            "WHERE p.area = ? GROUP BY ALL HAVING arg_max(e.action, e.seq) = 'proposed' "
            "ORDER BY p.priority_id",
            [AREA],
        ).fetchall()
    ]


# --- priorities -----------------------------------------------------------------------------


def test_adopting_appends_the_event_with_the_username(users, store_sql) -> None:
    inspector = users["inspector"]
    pid = proposed_ids(store_sql)[0]
    events = store_sql.execute(
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
    action, actor, month, details = latest_event(store_sql, pid)
    assert (action, actor, month) == ("adopted", inspector.user.username, dt.date(2021, 8, 1))
    assert json.loads(details) == {"label": "The <b>parade</b> of shops", "note": "agreed at JAG"}
    assert (
        store_sql.execute(
            "SELECT count(*) FROM priority_events WHERE priority_id = ?", [pid]
        ).fetchone()[0]
        == events + 1
    )
    assert html.escape(message) in page
    listed = inspector.get(f"/desk/priorities?area={A}&month=2021-08").text
    assert "The &lt;b&gt;parade&lt;/b&gt; of shops" in listed and "<b>parade" not in listed


def test_a_second_adoption_is_refused_with_the_library_message(users, store_sql) -> None:
    pid = store_sql.execute(
        "SELECT priority_id FROM priority_events WHERE action = 'adopted' "
        "ORDER BY priority_id LIMIT 1"
    ).fetchone()[0]
    before = store_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0]
    kind, message, page = flash_of(
        users["inspector"], f"/desk/priorities/{pid}/adopt", {"area": AREA, "month": "2021-07"}
    )
    assert kind == "error" and "cannot be adopted" in message
    assert 'class="flash error"' in page and html.escape(message) in page
    assert store_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0] == before


def test_adopting_without_a_month_is_for_the_month_proposed(users, store_sql) -> None:
    inspector = users["inspector"]
    pid = proposed_ids(store_sql)[-1]
    proposed_for = store_sql.execute(
        "SELECT proposed_for FROM priorities WHERE priority_id = ?", [pid]
    ).fetchone()[0]
    kind, message, _ = flash_of(
        inspector,
        f"/desk/priorities/{pid}/adopt",
        {"area": AREA, "month": "2021-07", "from_month": " "},
    )
    assert kind == "ok" and f"Priority {pid} adopted for {proposed_for:%Y-%m}" in message
    action, _, month, _ = latest_event(store_sql, pid)
    assert (action, month) == ("adopted", proposed_for)


def test_rejecting_needs_a_reason(users, store_sql) -> None:
    inspector = users["inspector"]
    pid = proposed_ids(store_sql)[0]
    before = store_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0]
    kind, message, _ = flash_of(
        inspector,
        f"/desk/priorities/{pid}/reject",
        {"area": AREA, "month": "2021-07", "reason": "   "},
    )
    assert kind == "error" and "say why" in message
    assert store_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0] == before
    kind, _, _ = flash_of(
        inspector,
        f"/desk/priorities/{pid}/reject",
        {"area": AREA, "month": "2021-07", "reason": "a partnership plan exists"},
    )
    assert kind == "ok"
    action, actor, _, details = latest_event(store_sql, pid)
    assert (action, actor) == ("rejected", inspector.user.username)
    assert json.loads(details) == {"reason": "a partnership plan exists"}


def test_continuing_then_closing_with_its_assessment(users, store_sql) -> None:
    inspector = users["inspector"]
    pid = store_sql.execute(
        "SELECT p.priority_id FROM priorities p JOIN priority_events e USING (priority_id) "
        "WHERE p.area = ? GROUP BY ALL HAVING arg_max(e.action, e.seq) = 'continued' "
        "ORDER BY 1 LIMIT 1",
        [AREA],
    ).fetchone()[0]
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
    assert latest_event(store_sql, pid)[:3] == (
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
    action, actor, month, details = latest_event(store_sql, pid)
    assert (action, actor, month) == ("closed", inspector.user.username, dt.date(2021, 8, 1))
    assert "assessment" in json.loads(details)
    assert f'id="priority-{pid}"' in page and "closed by " + inspector.user.username in page


def test_a_partner_note_is_kept_shown_on_the_desk_and_never_public(
    users, store_sql, client
) -> None:
    partner = users["partner"]
    pid = store_sql.execute(
        "SELECT min(priority_id) FROM priorities WHERE area = ?", [AREA]
    ).fetchone()[0]
    text = "Housing <i>association</i> fits new lighting in August"
    kind, _, _ = flash_of(
        partner, f"/desk/priorities/{pid}/note", {"area": AREA, "month": "2021-07", "text": text}
    )
    assert kind == "ok"
    row = store_sql.execute(
        "SELECT author, text FROM priority_notes WHERE priority_id = ?", [pid]
    ).fetchone()
    assert row == (partner.user.username, text)
    month = store_sql.execute(
        "SELECT strftime(proposed_for, '%Y-%m') FROM priorities WHERE priority_id = ?", [pid]
    ).fetchone()[0]
    desk = partner.get(f"/desk/priorities?area={A}&month={month}").text
    assert html.escape(text, quote=False) in desk
    for url in ("/", "/priorities", f"/priorities?area={A}", "/updates", f"/updates/{A}/2021-07"):
        assert "Housing" not in client.get(url).text, url


def test_proposing_from_the_desk_saves_the_candidates_as_the_user(users, store_sql) -> None:
    analyst = users["analyst"]
    ward = "Fosse (Leicester)"
    kind, message, _ = flash_of(
        analyst,
        "/desk/priorities/propose",
        {"area": ward, "data_month": "2021-06", "per_ward": "2", "method": "mean-3"},
    )
    assert kind == "ok" and "for 2021-07 saved" in message
    ids = [int(x) for x in re.search(r"ids ([0-9, ]+)\)", message)[1].split(", ")]
    rows = store_sql.execute(
        "SELECT p.priority_id, p.proposed_for, e.actor FROM priorities p JOIN priority_events e "
        "USING (priority_id) WHERE e.seq = 1 AND list_contains(?::INTEGER[], p.priority_id)",
        [ids],
    ).fetchall()
    assert len(rows) == len(ids) == 2
    assert {(r[1], r[2]) for r in rows} == {(dt.date(2021, 7, 1), analyst.user.username)}


@pytest.mark.parametrize("per_ward", ["0", "11"])
def test_proposing_outside_one_to_ten_a_ward_is_refused_as_on_the_command_line(
    users, store_sql, per_ward: str
) -> None:
    before = store_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0]
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
    assert store_sql.execute("SELECT count(*) FROM priority_events").fetchone()[0] == before


# --- publishing -----------------------------------------------------------------------------


def test_the_team_text_is_checked_then_saved(users, store_sql) -> None:
    inspector = users["inspector"]
    bad = "Hello before any heading\n\n## News\n\nText."
    kind, message, _ = flash_of(
        inspector, "/desk/updates/text", {"area": AREA, "month": "2021-08", "text": bad}
    )
    assert kind == "error" and "before the first '## Heading'" in message
    assert (
        store_sql.execute(
            "SELECT count(*) FROM update_texts WHERE month = '2021-08-01'"
        ).fetchone()[0]
        == 0
    )
    good = "## From your inspector\r\n\r\nWe <script>alert('team')</script> listened.\r\n"
    kind, message, page = flash_of(
        inspector, "/desk/updates/text", {"area": AREA, "month": "2021-08", "text": good}
    )
    assert kind == "ok" and "1 sections (From your inspector)" in message
    stored = store_sql.execute(
        "SELECT markdown, source FROM update_texts WHERE area = ? AND month = '2021-08-01'", [AREA]
    ).fetchone()
    assert stored[0] == good.replace("\r\n", "\n") and inspector.user.username in stored[1]
    assert "We &lt;script&gt;alert(&#39;team&#39;)&lt;/script&gt; listened." in page


def test_publishing_stores_the_update_and_the_public_page_serves_it(
    users, store_sql, client
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
        store_sql.execute(
            "SELECT count(*) FROM published_updates WHERE month = '2021-09-01'"
        ).fetchone()[0]
        == 0
    )
    kind, message, _ = flash_of(
        inspector, "/desk/updates/publish", {"area": AREA, "month": "2021-09"}
    )
    assert kind == "ok", message
    row = store_sql.execute(
        "SELECT area, title, published_by FROM published_updates WHERE month = '2021-09-01'"
    ).fetchone()
    assert row[0] == AREA and row[2] == inspector.user.username and "September 2021" in row[1]
    files = dict(
        store_sql.execute(
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
    users, script_concern, store_sql
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
        *[c for (c,) in store_sql.execute("SELECT contact FROM concern_contacts").fetchall()],
    ]
    assert SECRET_CONTACT in contacts and len(contacts) > 3
    unmatched = store_sql.execute(
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


def test_matching_a_concern_to_a_street(users, script_concern, store_sql) -> None:
    analyst = users["analyst"]
    kind, message, _ = flash_of(
        analyst, f"/desk/concerns/{script_concern}/match", {"place": "Nowhere Such Street Xyz"}
    )
    assert kind == "error" and f"Concern {script_concern}" in message
    assert (
        store_sql.execute(
            "SELECT place FROM concerns WHERE concern_id = ?", [script_concern]
        ).fetchone()[0]
        is None
    )
    street = store_sql.execute(
        "SELECT regexp_replace(location, '^On or near ', '') FROM street_crimes WHERE lsoa_code IN "
        "(SELECT unnest(members) FROM custom_areas WHERE name = 'West') AND location LIKE 'On or near %Road' "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()[0]
    kind, message, page = flash_of(
        analyst, f"/desk/concerns/{script_concern}/match", {"place": street}
    )
    assert kind == "ok", message
    place, method = store_sql.execute(
        "SELECT place, match_method FROM concerns WHERE concern_id = ?", [script_concern]
    ).fetchone()
    assert place == f"On or near {street}" and method == "by hand"
    assert f'id="concern-{script_concern}"' not in page


# --- operations and engagements ---------------------------------------------------------------


def test_operations_and_a_result_breaking_the_hierarchy(users, store_sql) -> None:
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
        store_sql.execute(
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
    before = store_sql.execute("SELECT count(*) FROM operation_results").fetchone()[0]
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
    assert store_sql.execute("SELECT count(*) FROM operation_results").fetchone()[0] == before
    kind, _, page = flash_of(
        analyst,
        "/desk/operations/result",
        {"operation": "Operation Desk Test", "area": AREA, "measure": "arrests", "count": "2"},
    )
    assert kind == "ok"
    row = store_sql.execute(
        "SELECT count, recorded_by FROM operation_results WHERE operation = "
        "'Operation Desk Test' AND area = ?",
        [AREA],
    ).fetchone()
    assert row == (2, analyst.user.username)
    assert "2 of 5 arrests were in the West area (40%)" in page
    assert "desk &lt;em&gt;test&lt;/em&gt;" in page


def test_adding_an_engagement_and_refusing_a_contact_in_it(users, store_sql) -> None:
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
        store_sql.execute(
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
    row = store_sql.execute(
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


def west_lsoas(db: duckdb.DuckDBPyConnection) -> list[str]:
    return db.execute("SELECT members FROM custom_areas WHERE name = 'West'").fetchone()[0]


def test_the_dashboard_figures_agree_with_the_store(users, store_sql) -> None:
    page = html.unescape(users["partner"].get(f"/desk?area={A}&month=2021-06").text)
    lsoas = west_lsoas(store_sql)

    def count(first: dt.date, last: dt.date, which: str = "<>") -> int:
        """Crimes (or, which '=', ASB incidents: apart) of the team area, straight from SQL."""
        return store_sql.execute(
            "SELECT count(*) FROM street_crimes WHERE month BETWEEN ? AND ? AND lsoa_code IN "
            f"(SELECT unnest(?::VARCHAR[])) AND crime_type {which} 'Anti-social behaviour'",
            [first, last, lsoas],
        ).fetchone()[0]

    june, june_before = dt.date(2021, 6, 1), dt.date(2020, 6, 1)
    crimes, asb = count(june, june), count(june, june, "=")
    assert f"June 2021: {crimes:,} crimes recorded" in page
    assert f"from {count(june_before, june_before):,} to {crimes:,} crimes" in page
    assert f"June 2021: {asb:,} ASB incidents recorded" in page
    assert f"from {count(june_before, june_before, '='):,} to {asb:,} ASB incidents" in page
    twelve = count(dt.date(2020, 7, 1), june)
    assert f"Over the 12 months to June 2021: {twelve:,} crimes recorded" in page
    chart = users["partner"].get(f"/desk/chart/trend.png?area={A}&month=2021-06")
    assert chart.content.startswith(b"\x89PNG") and chart.headers["content-type"] == "image/png"
    alt = re.search(r'<img class="chart"[^>]*alt="([^"]*)"', page)[1]
    assert f"{count(june_before, june_before)} in Jun 20, {crimes} in Jun 21" in alt
    assert f"{count(june_before, june_before, '=')} in Jun 20, {asb} in Jun 21" in alt


def test_a_message_in_a_link_made_elsewhere_is_not_shown(users) -> None:
    page = (
        users["inspector"]
        .get("/desk?msg=Your+account+is+locked%3A+call+0800&kind=error&sig=00")
        .text
    )
    assert "Your account is locked" not in page


def layer(client: TestClient, name: str, month: str = "2021-07") -> dict:
    got = client.get(f"/desk/api/map/{name}?area={A}&month={month}")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/geo+json")
    data = got.json()
    assert data["type"] == "FeatureCollection"
    for f in data["features"]:
        assert f["type"] == "Feature" and shape(f["geometry"]).is_valid
        for x, y in shapely.get_coordinates(shape(f["geometry"])):
            assert -1.3 < x < -1.0 and 52.5 < y < 52.7  # Leicester, lon/lat order
    return data


def west_outline(db: duckdb.DuckDBPyConnection):
    wkts = [
        w
        for (w,) in db.execute(
            "SELECT geometry_wkt FROM lsoa_boundaries WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[]))",
            [west_lsoas(db)],
        ).fetchall()
    ]
    return shapely.union_all([shapely_wkt.loads(w) for w in wkts])


def test_the_priority_places_layer_holds_the_snap_points_of_the_month(users, store_sql) -> None:
    data = layer(users["admin"], "priorities")
    expected = store_sql.execute(
        """
        WITH runs AS (
            SELECT priority_id,
                   min(month) FILTER (WHERE action IN ('adopted', 'continued')) AS first,
                   greatest(max(month) FILTER (WHERE action IN ('adopted', 'continued')),
                            max(month) FILTER (WHERE action = 'closed')) AS last
            FROM priority_events GROUP BY priority_id)
        SELECT p.priority_id, s->>'location', CAST(s->>'longitude' AS DOUBLE), CAST(s->>'latitude' AS DOUBLE)
        FROM priorities p JOIN runs USING (priority_id), unnest(CAST(p.snap_points AS JSON[])) AS t(s)
        WHERE p.area = ? AND DATE '2021-07-01' BETWEEN runs.first AND runs.last
        """,
        [AREA],
    ).fetchall()
    got = [
        (f["properties"]["priority_id"], f["properties"]["location"], *f["geometry"]["coordinates"])
        for f in data["features"]
    ]
    assert len(got) == len(expected) > 0
    assert sorted((p, loc) for p, loc, _, _ in got) == sorted((p, loc) for p, loc, _, _ in expected)
    where = {(p, loc): (x, y) for p, loc, x, y in expected}
    for p, loc, x, y in got:
        assert where[(p, loc)] == pytest.approx((x, y), abs=1e-6)


def test_hot_cells_lie_inside_the_area_and_in_their_grid_square(users, store_sql, web_app) -> None:
    data = layer(users["analyst"], "hotspots", "2021-06")
    with web_app.state.db.read() as st:
        expected = hotspots(st, AREA, "2021-06")
    assert len(data["features"]) == expected["hot_cells"] + expected["cold_cells"] > 0
    outline = west_outline(store_sql)
    size = data["properties"]["cell_size_m"]
    for f in data["features"]:
        cell = shape(f["geometry"])
        assert outline.buffer(1e-5).contains(cell), f["properties"]["cell"]
        x0, y0 = (float(v) for v in f["properties"]["cell"].split(","))
        xs, ys = TO_BNG.transform(*shapely.get_coordinates(cell).T)
        assert x0 - 0.5 <= xs.min() and xs.max() <= x0 + size + 0.5
        assert y0 - 0.5 <= ys.min() and ys.max() <= y0 + size + 0.5
        assert f["properties"]["class"] in ("hot", "cold")


def test_the_wards_and_outline_layers_follow_the_stored_boundaries(users, store_sql) -> None:
    outline = layer(users["inspector"], "outline")
    assert len(outline["features"]) == 1
    drawn = shape(outline["features"][0]["geometry"])
    truth = west_outline(store_sql)
    assert drawn.symmetric_difference(truth).area < 1e-3 * truth.area
    wards = layer(users["inspector"], "wards")
    names = {f["properties"]["name"]: shape(f["geometry"]) for f in wards["features"]}
    assert set(names) == {"Westcotes", "Fosse", "Western"}
    for name, drawn in names.items():
        wkts = [
            w
            for (w,) in store_sql.execute(
                "SELECT b.geometry_wkt FROM lsoa_boundaries b JOIN lsoa_lookup l USING (lsoa_code) "
                "WHERE l.ward_name = ? AND l.lad_name = 'Leicester'",
                [name],
            ).fetchall()
        ]
        ward = shapely.union_all([shapely_wkt.loads(w) for w in wkts])
        assert drawn.symmetric_difference(ward).area < 0.02 * ward.area, name


def test_an_unknown_layer_or_area_is_a_clear_400(users) -> None:
    got = users["admin"].get(f"/desk/api/map/crimes?area={A}&month=2021-07")
    assert got.status_code == 400 and "expected one of outline, hotspots" in got.json()["error"]
    got = users["admin"].get("/desk/api/map/wards?area=Atlantis&month=2021-07")
    assert got.status_code == 400 and "no such area" in got.json()["error"]


def test_the_map_page_loads_leaflet_from_the_site(users, web_app) -> None:
    page = users["partner"].get(f"/desk?area={A}&month=2021-07")
    assert '<script src="/static/vendor/leaflet/leaflet.js"></script>' in page.text
    assert '<script src="/static/js/map.js"></script>' in page.text
    assert (
        "<script>" not in page.text
        and "script-src 'self'" in page.headers["content-security-policy"]
    )
    assert f'data-area="{AREA}"' in page.text and 'data-tile-url=""' in page.text
    js = users["partner"].get("/static/vendor/leaflet/leaflet.js")
    assert js.status_code == 200 and b"Leaflet 1.9.4" in js.content[:200]
