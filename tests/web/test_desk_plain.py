"""The desk speaks plainly (issue 18): no method names, raw ISO timestamps, area references
or command-line advice on any desk page; areas are chosen from a list; a month without data
says why and shows the latest; the team's text has a live preview rendered as the letter
renders it. Real app, real scenario store; expected values from the tests' own SQL."""

from __future__ import annotations

import io
import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

import duckdb
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from web_support import AREA, csrf_of, text_of

from beatbook.web.plain import web_message
from support.records_backend import TeamSQL

A = quote(AREA, safe="")
DESK_PAGES = (
    "/desk",
    f"/desk?area={A}&month=2021-06",
    "/desk?month=2099-01",
    f"/desk/priorities?area={A}&month=2021-07",
    "/desk/operations",
    "/desk/engagements",
    "/desk/concerns",
    f"/desk/updates?area={A}&month=2021-07",
    f"/desk/updates?area={A}&month=2021-08",
    "/desk/users",
    f"/desk/settings?area={A}",
    "/desk/password",
    "/desk/import",
)
JARGON = re.compile(
    r"sepp|idempotent|\d{4}-\d\d-\d\dT\d\d:\d\d|\b(?:custom|force|local authority):\S"
    r"|(?-i:\bbeatbook [a-z])",
    re.IGNORECASE,
)
SHOWN_ATTRIBUTES = re.compile(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"')


def shown(page: str) -> str:
    """What a person reads: the text (outside scripts and styles) and the attributes a
    browser shows (placeholders, titles, labels for assistive technology, alt text)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return text_of(body) + " " + " ".join(SHOWN_ATTRIBUTES.findall(body))


@pytest.fixture(scope="module")
def an_operation(users: dict[str, TestClient]) -> None:
    """An operation with dates on the operations page (its areas chosen from the list)."""
    inspector = users["inspector"]
    got = inspector.post(
        "/desk/operations/add",
        data={
            "name": "Operation Plain Words",
            "starts": "2021-07-01",
            "ends": "2021-07-31",
            "areas": [AREA, "Westcotes (Leicester)"],
            "csrf_token": csrf_of(inspector.get("/desk/operations").text),
        },
    )
    assert got.status_code == 303 and "kind=ok" in got.headers["location"], got.headers


@pytest.mark.parametrize("page", DESK_PAGES)
def test_no_desk_page_speaks_jargon(
    page: str, users: dict[str, TestClient], an_operation: None
) -> None:
    seen = 0
    for role in ("inspector", "admin"):
        got = users[role].get(page)
        if got.status_code == 403:  # the admin's pages (users, settings)
            continue
        assert got.status_code == 200, (role, got.text[:300])
        found = JARGON.findall(shown(got.text))
        assert not found, (role, page, found)
        seen += 1
    assert seen


def test_times_are_written_as_people_write_them(
    users: dict[str, TestClient], team_sql: TeamSQL
) -> None:
    """The users page shows each account's creation time in UK time, '4 Dec 2026, 05:12'
    (the stored instant put in London's time by zoneinfo, not by the app)."""
    london = ZoneInfo("Europe/London")
    rows = [
        (username, f"{at.astimezone(london):%-d %b %Y, %H:%M}")
        for username, at in team_sql.execute("SELECT username, created_at FROM users").fetchall()
    ]
    page = users["admin"].get("/desk/users").text
    for username, created in rows:
        row = re.search(rf"<tr><td>{re.escape(username)}</td>.*?</tr>", page, re.S)
        assert row and f"<td>{created}</td>" in row[0], (username, created)


def test_library_messages_lose_their_command_line_advice(users: dict[str, TestClient]) -> None:
    inspector = users["inspector"]
    got = inspector.post(
        "/desk/operations/result",
        data={
            "operation": "Operation Nobody Ran",
            "area": "",
            "measure": "arrests",
            "count": "1",
            "csrf_token": csrf_of(inspector.get("/desk/operations").text),
        },
    )
    assert "beatbook+ops+add" in got.headers["location"]  # the library's message, signed
    page = inspector.get(got.headers["location"]).text
    message = re.search(r'<p class="flash error"[^>]*>(.*?)</p>', page, re.S)
    assert message and "Operation Nobody Ran" in text_of(message[1])
    assert "beatbook" not in message[1] and "the Operations page" in message[1]


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("no street-level crime data stored: run 'beatbook ingest'", "the import of police.uk"),
        ("wards need 'beatbook areas import-lookup'", "the import of the ONS ward lookup"),
        ("or beatbook update --image FILE) and shown", "or the upload form) and shown"),
        ("settings stored for custom:West Leicester, line 3", "settings stored for West Leicester"),
    ],
)
def test_web_message_puts_commands_in_words(said: str, meant: str) -> None:
    plain = web_message(said)
    assert meant in plain and "beatbook" not in plain


def test_areas_are_chosen_from_a_list(
    users: dict[str, TestClient], store_sql: duckdb.DuckDBPyConnection, team_sql: TeamSQL
) -> None:
    """Every desk form that asks for an area offers a list of the stored areas; an
    engagement added with a choice from it is stored for that area."""
    inspector = users["inspector"]
    for page in ("/desk/engagements", "/desk/operations", "/desk/concerns"):
        html = inspector.get(page).text
        assert not re.search(r'<input(?![^>]*type="hidden")[^>]*name="areas?"', html), page
        assert re.search(r'<select name="areas?"', html), page
    engagements = inspector.get("/desk/engagements").text
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', engagements))
    west_code = store_sql.execute(
        "SELECT DISTINCT ward_code FROM lsoa_lookup WHERE ward_name = 'Westcotes'"
    ).fetchone()[0]
    assert options[AREA] == "West" and options[west_code] == "Westcotes (Leicester)"
    got = inspector.post(
        "/desk/engagements/add",
        data={
            "when": "2021-07-21T18:00",
            "until": "19:00",
            "kind": "surgery",
            "place": "Plain Words Library",
            "area": west_code,
            "csrf_token": csrf_of(engagements),
        },
    )
    assert got.status_code == 303 and "kind=ok" in got.headers["location"]
    stored = team_sql.execute(
        "SELECT area, area_name FROM engagements WHERE place = 'Plain Words Library'"
    ).fetchall()
    assert stored == [(west_code, "Westcotes")]
    recorded = team_sql.execute(
        "SELECT DISTINCT area_name FROM concerns WHERE place IS NULL AND status = 'open'"
    ).fetchall()
    concerns = inspector.get("/desk/concerns").text
    listed = re.findall(r"<option(?: selected)?>([^<]+)</option>", concerns)
    assert sorted(listed) == sorted(a for (a,) in recorded)


def test_operation_areas_chosen_from_the_list_are_stored(
    an_operation: None, store_sql: duckdb.DuckDBPyConnection, team_sql: TeamSQL
) -> None:
    west_code = store_sql.execute(
        "SELECT DISTINCT ward_code FROM lsoa_lookup WHERE ward_name = 'Westcotes'"
    ).fetchone()[0]
    areas = team_sql.execute(
        "SELECT areas FROM operations WHERE name = 'Operation Plain Words'"
    ).fetchone()[0]
    assert sorted(areas) == sorted([AREA, west_code])


@pytest.mark.parametrize("asked", ["2099-01", "this month", "next month"])
def test_a_month_without_data_shows_the_latest_and_says_why(
    asked: str, users: dict[str, TestClient], store_sql: duckdb.DuckDBPyConnection
) -> None:
    import datetime as dt

    today = dt.date.today().replace(day=1)
    month = {
        "2099-01": "2099-01",
        "this month": f"{today:%Y-%m}",
        "next month": f"{(today + dt.timedelta(days=32)):%Y-%m}",
    }[asked]
    latest = store_sql.execute("SELECT max(month) FROM street_crimes").fetchone()[0]
    page = users["partner"].get(f"/desk?area={A}&month={month}").text
    note = re.search(r'<p class="notice"[^>]*>(.*?)</p>', page, re.S)
    assert note, page[:500]
    words = text_of(note[1])
    assert "police.uk publishes" in words and "3 to 8 weeks" in words
    assert f"Showing {latest:%B %Y}, the latest month stored" in words
    assert f"{latest:%B %Y}" in text_of(re.search(r'<h2 id="figures">(.*?)</h2>', page)[1])
    assert f'data-month="{latest:%Y-%m}"' in page and 'class="flash error"' not in page


def test_a_gap_month_says_it_is_not_stored(
    users: dict[str, TestClient], store_sql: duckdb.DuckDBPyConnection
) -> None:
    first = store_sql.execute("SELECT min(month) FROM street_crimes").fetchone()[0]
    before = f"{first.year - 1}-{first.month:02d}"
    page = users["partner"].get(f"/desk?area={A}&month={before}").text
    note = text_of(re.search(r'<p class="notice"[^>]*>(.*?)</p>', page, re.S)[1])
    assert f"No police.uk street-level crime is stored for {first:%B} {first.year - 1}" in note


# --- the live preview of the team's text ---------------------------------------------------

TEXT = (
    "## News\n\nOur **new PCSO** starts on Monday: [meet us](https://example.org/meet).\n"
    "<script>alert(1)</script> <img src=x onerror=alert(2)>\n\n- one\n- two\n"
)


def preview(client: TestClient, text: str, page: str) -> dict:
    got = client.post(
        "/desk/updates/text/preview",
        data={"area": AREA, "text": text, "csrf_token": csrf_of(page)},
    )
    assert got.status_code == 200, got.text[:300]
    return got.json()


def test_the_preview_is_the_letter_s_html(users: dict[str, TestClient]) -> None:
    """What the preview shows of a section is, character for character, what the letter
    prints for it after the text is saved; markup typed is shown as text."""
    inspector = users["inspector"]
    page = inspector.get(f"/desk/updates?area={A}&month=2021-08").text
    shown_now = preview(inspector, TEXT, page)
    assert shown_now["problem"] == ""
    body = re.search(r"<h2>News</h2>\s*(.*?)\s*</section>", shown_now["html"], re.S)[1]
    assert "<strong>new PCSO</strong>" in body and 'href="https://example.org/meet"' in body
    assert "<script" not in body and "<img" not in body and "&lt;script&gt;" in body
    saved = inspector.post(
        "/desk/updates/text",
        data={"area": AREA, "month": "2021-08", "text": TEXT, "csrf_token": csrf_of(page)},
    )
    assert "kind=ok" in saved.headers["location"]
    letter = inspector.get(f"/desk/updates/preview?area={A}&month=2021-08").text
    assert body in letter


def test_the_preview_says_what_saving_would_refuse(users: dict[str, TestClient]) -> None:
    inspector = users["inspector"]
    page = inspector.get(f"/desk/updates?area={A}&month=2021-08").text
    bad = preview(inspector, "## News\n\nSee [this](javascript:alert(1)) now.\n", page)
    assert "line 3" in bad["problem"] and "https:, mailto: or tel:" in bad["problem"]
    assert "javascript" not in bad["html"] and "<a " in bad["html"]  # the words, no address
    loose = preview(inspector, "Text before any heading", page)
    assert "## " in loose["problem"] and "Text before any heading" in loose["html"]


def test_the_preview_shows_an_uploaded_image_from_the_desk(
    users: dict[str, TestClient], team_sql: TeamSQL
) -> None:
    inspector = users["inspector"]
    page = inspector.get(f"/desk/updates?area={A}&month=2021-08").text
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(picture, format="PNG")
    up = inspector.post(
        "/desk/updates/image",
        data={"area": AREA, "month": "2021-08", "csrf_token": csrf_of(page)},
        files={"image": ("Preview Pic.png", picture.getvalue(), "image/png")},
    )
    assert "kind=ok" in up.headers["location"]
    shown_now = preview(inspector, "## News\n\n![The surgery](preview-pic.png)\n", page)
    src = re.search(r'<img[^>]* src="([^"]+)"', shown_now["html"])[1].replace("&amp;", "&")
    assert src.startswith("/desk/updates/image?")
    stored = team_sql.execute(
        "SELECT data FROM update_images WHERE area = ? AND name = 'preview-pic.png'", [AREA]
    ).fetchone()[0]
    got = inspector.get(src)
    assert got.headers["content-type"] == "image/png" and got.content == bytes(stored)
    other = preview(inspector, "## News\n\n![x](https://example.org/x.png)\n", page)
    assert "src=" not in other["html"] and "not an uploaded image" in other["problem"]


def test_a_refused_operation_keeps_the_areas_chosen(
    users: dict[str, TestClient], store_sql: duckdb.DuckDBPyConnection
) -> None:
    inspector = users["inspector"]
    west_code = store_sql.execute(
        "SELECT DISTINCT ward_code FROM lsoa_lookup WHERE ward_name = 'Westcotes'"
    ).fetchone()[0]
    got = inspector.post(
        "/desk/operations/add",
        data={
            "name": "Operation Backwards",
            "starts": "2021-07-31",
            "ends": "2021-07-01",
            "areas": [AREA, west_code],
            "csrf_token": csrf_of(inspector.get("/desk/operations").text),
        },
    )
    assert got.status_code == 400
    chosen = re.findall(r'<option value="([^"]+)" selected>', got.text)
    assert sorted(chosen) == sorted([AREA, west_code])
