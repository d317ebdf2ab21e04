"""The public pages on the real scenario store (see ``web_support``): each URL answers with
what the store holds, checked by the tests' own SQL, icalendar and scipy; unknown things
answer 404 with a page; every response carries the security headers.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import quote, urljoin

import icalendar
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from web_support import (
    AREA,
    AREA_NAME,
    MONTH,
    current_priorities,
    text_of,
    ward_codes,
    west_figures,
    window,
)

from support.problem_words import PROBLEM_WORDS
from support.quasi import change_p

CONTENT_TYPES = {
    "html": "text/html",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "png": "image/png",
}
WEST = quote(AREA, safe="")  # custom%3AWest


def main(page: str) -> str:
    """The page's <main> element (without the site's header and footer)."""
    return page[page.index("<main>") : page.index("</main>")]


# --- home, priorities -----------------------------------------------------------------------


def test_home_lists_the_areas_with_updates_and_priorities(
    client: TestClient, store_sql, team_sql
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    body = main(page.text)
    assert AREA_NAME in text_of(body)
    for area, month, title in team_sql.execute(
        "SELECT area, month, title FROM published_updates"
    ).fetchall():
        url = f"/updates/{quote(area, safe='')}/{month:%Y-%m}"
        assert f'href="{url}"' in body and f'href="{url}/update.pdf"' in body
        assert html.escape(title) in body
    month, rows = current_priorities(team_sql)
    label = dt.date.fromisoformat(month + "-01").strftime("%B %Y")
    assert f'href="/priorities?area={WEST}"' in body
    assert f"Priorities for {label}" in text_of(body) and f"({len(rows)})" in body
    for name, code in ward_codes(store_sql).items():
        assert f'<a href="/stats/{code}">{name}</a>' in body
    assert f'href="/stats/{WEST}"' in body


def priorities_on(page: str) -> set[tuple[str, str, str]]:
    """(ward, problem words, place) of every priority listed on /priorities."""
    found = set()
    for section in re.split(r"<h3>", main(page))[1:]:
        ward = text_of(section[: section.index("</h3>")])
        for problem, place in re.findall(r"<li><strong>(.*?)</strong> at (.*?)\n", section):
            found.add((ward, text_of(problem).lower(), html.unescape(place.strip())))
    return found


def test_priorities_are_those_adopted_or_continued_for_the_latest_month(
    client: TestClient, team_sql
) -> None:
    page = client.get("/priorities")
    assert page.status_code == 200
    month, rows = current_priorities(team_sql)
    assert len(rows) >= 3
    expected = {(ward, PROBLEM_WORDS[problem], label) for ward, problem, label in rows}
    assert priorities_on(page.text) == expected
    heading = dt.date.fromisoformat(month + "-01").strftime("%B %Y")
    assert f"<h2>{AREA_NAME}: {heading}</h2>" in page.text
    # the same list for the one area, and for it alone
    one = client.get(f"/priorities?area={WEST}")
    assert one.status_code == 200 and priorities_on(one.text) == expected


def test_priorities_give_the_published_reasons_and_never_scores(
    client: TestClient, team_sql
) -> None:
    page = client.get("/priorities").text
    reasons = [text_of(r) for r in re.findall(r'<span class="why">(.*?)</span>', page, flags=re.S)]
    _, rows = current_priorities(team_sql)
    assert len(reasons) == len(rows)
    published = team_sql.scalar(
        "SELECT data FROM published_update_files WHERE area = ? AND month = ? "
        "AND name = 'update.txt'",
        [AREA, dt.date.fromisoformat(f"{MONTH}-01")],
    )
    update_text = " ".join(bytes(published).decode().split())
    for reason in reasons:  # the same words as the community update residents received
        assert reason and reason in update_text
    scores = team_sql.execute("SELECT score FROM priorities WHERE score IS NOT NULL").fetchall()
    body = text_of(main(page)).lower()
    assert "score" not in body
    for (score,) in scores:
        assert f"{score:.3f}" not in body and f"{score:.2f}" not in body


def test_a_label_with_markup_shows_as_text(client: TestClient, team_sql) -> None:
    (label,) = team_sql.execute(
        "SELECT details->>'label' FROM priority_events WHERE details->>'label' IS NOT NULL"
    ).fetchone()
    assert "<shops>" in label
    page = client.get("/priorities").text
    assert "<shops>" not in page and html.escape(label, quote=False) in page


# --- published updates ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def earlier_update(team_sql) -> str:
    """A June update stored beside the published July one (a plain page: the list's order)."""
    team_sql.execute(
        "INSERT INTO published_updates VALUES (?, ?, DATE '2021-06-01', ?, ?, now())",
        [AREA, AREA_NAME, "West community update, June 2021", "Insp. Test"],
    )
    team_sql.execute(
        "INSERT INTO published_update_files VALUES (?, DATE '2021-06-01', 'update.html', ?)",
        [
            AREA,
            b"<!doctype html><html><head><title>June</title></head><body><p>June</p></body></html>",
        ],
    )
    return "2021-06"


def test_updates_lists_every_published_update_newest_first(
    client: TestClient, team_sql, earlier_update: str
) -> None:
    page = client.get("/updates")
    assert page.status_code == 200
    rows = team_sql.execute(
        "SELECT area, month, title FROM published_updates ORDER BY month DESC"
    ).fetchall()
    assert len(rows) == 2
    positions = []
    for area, month, title in rows:
        url = f"/updates/{quote(area, safe='')}/{month:%Y-%m}"
        assert f'<a href="{url}">{html.escape(title)}</a>' in page.text
        assert f'<a href="{url}/update.pdf">PDF</a>' in page.text
        positions.append(page.text.index(f'href="{url}"'))
    assert positions == sorted(positions)


def test_an_update_page_is_the_published_html_with_a_link_to_its_pdf(
    client: TestClient, team_sql
) -> None:
    page = client.get(f"/updates/{WEST}/{MONTH}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    stored = bytes(
        team_sql.scalar(
            "SELECT data FROM published_update_files WHERE area = ? AND month = ? "
            "AND name = 'update.html'",
            [AREA, dt.date.fromisoformat(f"{MONTH}-01")],
        )
    ).decode()
    base = f'<base href="/updates/{WEST}/{MONTH}/">'
    bar = re.search(r'<p class="bb-published".*?</p>', page.text, flags=re.S)
    assert bar and f'href="/updates/{WEST}/{MONTH}/update.pdf"' in bar[0]
    # apart from the <base> and the links line, the page is byte for byte what was published
    assert page.text.replace(base, "", 1).replace(bar[0], "", 1) == stored
    # its pictures load from the update's folder
    images = re.findall(r'<img src="([^"]+)"', page.text)
    assert "map.png" in images
    for src in images:
        picture = client.get(urljoin(f"/updates/{WEST}/{MONTH}/", src))
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"


def test_every_file_of_an_update_is_served_as_stored(client: TestClient, team_sql) -> None:
    files = team_sql.execute(
        "SELECT name, data FROM published_update_files WHERE area = ? AND month = ?",
        [AREA, dt.date.fromisoformat(f"{MONTH}-01")],
    ).fetchall()
    assert {"update.html", "update.pdf", "update.txt", "map.png"} <= {n for n, _ in files}
    for name, data in files:
        got = client.get(f"/updates/{WEST}/{MONTH}/{name}")
        assert got.status_code == 200, name
        assert got.content == bytes(data), name
        assert got.headers["content-type"].startswith(CONTENT_TYPES[name.rsplit(".", 1)[1]]), name
    assert client.get(f"/updates/{WEST}/{MONTH}/update.pdf").content.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"/updates/{WEST}/2021-05", "no published community update"),
        ("/updates/custom%3ANowhere/2021-07", "no published community update"),
        (f"/updates/{WEST}/2021-13", "no published community update"),
        (f"/updates/{WEST}/July", "no published community update"),
        (f"/updates/{WEST}/{MONTH}/secret.pdf", "no file called 'secret.pdf'"),
        (f"/updates/{WEST}/2021-05/update.pdf", "no file called"),
        ("/stats/Nowhere%20At%20All", "no area called 'Nowhere At All'"),
        ("/priorities?area=Nowhere", "No area called 'Nowhere'"),
    ],
)
def test_unknown_things_answer_404_with_a_page(client: TestClient, url: str, words: str) -> None:
    page = client.get(url)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in page.text and words in html.unescape(page.text)
    assert 'href="/updates"' in main(page.text)


# --- engagements ----------------------------------------------------------------------------


def test_events_are_the_engagements_of_the_weeks_grouped_by_date(
    client: TestClient, team_sql
) -> None:
    page = client.get("/events?from=2021-07-01&weeks=6")
    assert page.status_code == 200
    expected = window(team_sql, "2021-07-01", 42)
    assert len(expected) == 4  # not the one on 30 June, nor the one on 25 August
    body = main(page.text)
    dates = re.findall(r'<time datetime="([0-9-]+)">', body)
    assert dates == sorted({s.date().isoformat() for _, s, _ in expected})
    for _, starts, title in expected:
        day = body[body.index(f'datetime="{starts.date().isoformat()}"') :]
        day = day[: day.index("</section>")]
        assert title in text_of(day) and f"{starts:%H:%M} to " in day
    outside = team_sql.execute(  # their place is that of no engagement in the window
        "SELECT place FROM engagements WHERE starts < DATE '2021-07-01' OR starts >= DATE '2021-08-12'"
    ).fetchall()
    assert outside and all(place not in text_of(body) for (place,) in outside)
    assert 'href="/events.ics?from=2021-07-01&amp;weeks=6"' in body


def test_the_calendar_file_parses_and_holds_the_events_of_the_window(
    client: TestClient, store_sql, team_sql
) -> None:
    got = client.get("/events.ics?from=2021-07-01&weeks=6")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(got.content)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    expected = window(team_sql, "2021-07-01", 42)
    assert set(events) == {u for u, _, _ in expected}
    for uid, starts, title in expected:
        assert str(events[uid]["SUMMARY"]) == title
        start = events[uid].decoded("DTSTART")
        assert start.replace(tzinfo=None) == starts and str(start.tzinfo) == "Europe/London"
    # one area: its wards' and its own engagements only (not Castle's)
    codes = list(ward_codes(store_sql).values())
    only = client.get(f"/events.ics?from=2021-07-01&weeks=6&area={WEST}")
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(only.content).walk("VEVENT")}
    inside = window(team_sql, "2021-07-01", 42, [*codes, AREA])
    assert uids == {u for u, _, _ in inside} and len(uids) == len(expected) - 1


def test_a_bad_event_window_is_a_clear_400(client: TestClient) -> None:
    page = client.get("/events?from=1%20July")
    assert page.status_code == 400 and "expected a date as YYYY-MM-DD" in html.unescape(page.text)
    assert client.get("/events?weeks=0").status_code == 400


# --- statistics -----------------------------------------------------------------------------


def garwood(count: int, population: float) -> tuple[float, float]:
    low = stats.chi2.ppf(0.025, 2 * count) / 2
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return low / population * 1000, high / population * 1000


def test_stats_for_a_full_year_match_the_store_and_word_the_change_by_its_test(
    client: TestClient, store_sql, team_sql
) -> None:
    page = client.get(f"/stats/{WEST}?to=2021-12")
    assert page.status_code == 200
    fig = west_figures(store_sql, team_sql, "2021-01-01", "2021-12-01")
    count, population = fig["count"], fig["population"]
    assert len(fig["months"]) == 12 and count > 1000
    body = text_of(main(page.text))
    assert f"{count:,} crimes in 12 months" in body
    rate = count / population * 1000  # over 12 months: the rate a year
    low, high = garwood(count, population)
    assert (
        f"About {rate:.1f} a year for every 1,000 residents (likely between {low:.1f} and {high:.1f})"
        in body
    )
    assert f"{population:,.0f}" in body and "mid-2022" in body
    # Crime and ASB apart, each against the same months of 2020, worded by the test
    # (support.quasi: quasi-Poisson with month effects, statsmodels).
    asb = west_figures(store_sql, team_sql, "2021-01-01", "2021-12-01", asb=True)
    assert f"{asb['count']:,} incidents in the same months" in body
    for after, section in ((fig, "Crime"), (asb, "Anti-social behaviour")):
        before = west_figures(store_sql, team_sql, "2020-01-01", "2020-12-01", asb=after is asb)
        p = change_p(
            {f"{m:%Y-%m}": n for m, n in before["months"]},
            {f"{m:%Y-%m}": n for m, n in after["months"]},
        )
        unit = "crimes" if after is fig else "incidents of anti-social behaviour"
        words = f"from {before['count']:,} to {after['count']:,} {unit}"
        part = body[body.index(section) :]
        if p < 0.05:
            up = after["count"] > before["count"]
            words = ("A clear rise: " if up else "A clear fall: ") + words
        else:
            words = "No clear change: " + words
        assert words in part, words
        assert "Jan–Dec 2021 against the same months a year before" in part
    assert "trend" not in body.lower()  # a within-year trend would be meaningless (seasons)


def test_stats_for_the_latest_months_say_which_months_are_missing(
    client: TestClient, store_sql, team_sql
) -> None:
    latest = store_sql.execute(
        "SELECT max(month) FROM partitions WHERE kind = 'street'"
    ).fetchone()[0]
    first = dt.date(latest.year - 1, latest.month, 1) + dt.timedelta(days=31)
    first = first.replace(day=1)
    page = client.get(f"/stats/{WEST}")
    assert page.status_code == 200
    fig = west_figures(store_sql, team_sql, first.isoformat(), latest.isoformat())
    stored = [m for m, _ in fig["months"]]
    body = text_of(main(page.text))
    assert f"{first:%Y-%m} to {latest:%Y-%m}" in body
    assert f"{fig['count']:,} crimes in {len(stored)} months" in body
    if len(stored) < 12:
        assert f"Only {len(stored)} of these 12 months" in body


def test_stats_of_a_ward_count_its_crimes(client: TestClient, store_sql) -> None:
    code = ward_codes(store_sql)["Westcotes"]
    lsoas = [
        r[0]
        for r in store_sql.execute(
            "SELECT lsoa_code FROM lsoa_lookup WHERE ward_code = ?", [code]
        ).fetchall()
    ]
    count = store_sql.execute(
        "SELECT count(*) FROM street_crimes WHERE month BETWEEN DATE '2021-01-01' AND DATE '2021-12-01' "
        "AND lsoa_code IN (SELECT unnest(?::VARCHAR[])) AND crime_type <> 'Anti-social behaviour'",
        [lsoas],
    ).fetchone()[0]
    page = client.get(f"/stats/{code}?to=2021-12")
    assert page.status_code == 200
    assert "Crime figures: Westcotes" in page.text and f"{count:,} crimes in 12 months" in page.text


# --- headers --------------------------------------------------------------------------------

PUBLIC_URLS = [
    "/",
    "/priorities",
    "/updates",
    f"/updates/{WEST}/{MONTH}",
    f"/updates/{WEST}/{MONTH}/update.pdf",
    f"/updates/{WEST}/{MONTH}/map.png",
    "/events",
    "/events.ics",
    f"/stats/{WEST}",
    "/report",
    "/stats/Nowhere",
    f"/updates/{WEST}/1999-01",
    "/api/areas",
    "/static/css/public.css",
]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_every_public_response_carries_the_security_headers(client: TestClient, url: str) -> None:
    got = client.get(url)
    assert got.status_code in (200, 404)
    policy = got.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no other origin
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["x-frame-options"] == "DENY"


def test_public_pages_have_no_inline_script(client: TestClient) -> None:
    for url in [
        "/",
        "/priorities",
        "/updates",
        f"/updates/{WEST}/{MONTH}",
        "/events",
        f"/stats/{WEST}",
        "/report",
    ]:
        page = client.get(url).text
        for tag in re.findall(r"<script\b[^>]*>", page):
            assert re.search(r'\bsrc="/static/(js/[a-z_-]+|vendor/leaflet/leaflet)\.js"', tag), (
                url,
                tag,
            )
