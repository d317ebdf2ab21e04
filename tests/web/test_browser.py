"""The web app in a real browser: Debian's chromium driven by Playwright against the app
served by uvicorn on loopback. Sign in, adopt a priority, publish an update, send the public
form, see the map draw and open a priority's popup with the wards shown, use every desk page
on a 390 px phone, see the team's text previewed as it is typed, sign in six times from one
address and be slowed only by wrong passwords. Screenshots go to tests/artifacts/ for a
person to look at; the store is checked by SQL of its own after each action.

The project's `make test` installs chromium (scripts/system-packages) when it is missing.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest
from live_support import ANALYST, INSPECTOR, PASSWORD, live, make_store
from playwright.sync_api import Browser, Page
from web_support import AREA, MONTH, WebUser

from beatbook.web.limits import LoginThrottle
from support.browser import needs_chromium, shot
from support.records_backend import TeamSQL

pytestmark = needs_chromium


def sign_in(page: Page, base_url: str, user: WebUser) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/desk"))


def rows(
    db: duckdb.DuckDBPyConnection | TeamSQL, sql: str, params: list[Any] | None = None
) -> list[tuple]:
    return db.execute(sql, params or []).fetchall()


def test_sign_in_and_adopt_a_priority(
    page: Page, base_url: str, make_user: Any, team_sql: TeamSQL
) -> None:
    inspector = make_user("inspector")
    sign_in(page, base_url, inspector)
    page.goto(f"{base_url}/desk/priorities?area={quote(AREA)}&month={MONTH}")
    proposed = rows(
        team_sql,
        """
        SELECT p.priority_id FROM priorities p WHERE p.area = ? AND p.proposed_for = DATE '2021-07-01'
          AND (SELECT action FROM priority_events e WHERE e.priority_id = p.priority_id
               ORDER BY seq DESC LIMIT 1) = 'proposed' ORDER BY p.priority_id""",
        [AREA],
    )
    assert proposed, "the scenario leaves July proposals undecided"
    pid = proposed[0][0]
    form = page.locator(f"form[action='/desk/priorities/{pid}/adopt']")
    form.get_by_role("button", name="Adopt").click()
    page.wait_for_load_state()
    shot(page, "desk-priorities-adopted")
    trail = rows(
        team_sql,
        "SELECT action, actor FROM priority_events WHERE priority_id = ? ORDER BY seq",
        [pid],
    )
    assert trail[-1] == ("adopted", inspector.username)


def test_publish_an_update(page: Page, base_url: str, make_user: Any, team_sql: TeamSQL) -> None:
    inspector = make_user("inspector")
    sign_in(page, base_url, inspector)
    page.goto(f"{base_url}/desk/updates?area={quote(AREA)}&month=2021-08")
    page.locator("form[action='/desk/updates/publish']").get_by_role(
        "button", name="Publish"
    ).click()
    page.wait_for_load_state()
    published = rows(
        team_sql,
        "SELECT published_by FROM published_updates WHERE area = ? AND month = DATE '2021-08-01'",
        [AREA],
    )
    assert published == [(inspector.username,)]
    page.goto(f"{base_url}/updates/{quote(AREA, safe='')}/2021-08")
    assert "Community update: August 2021" in page.inner_text("h1")
    images = page.locator("img")
    assert images.count() >= 1
    for i in range(images.count()):  # every picture of the update loaded, with its alt text
        img = images.nth(i)
        assert img.get_attribute("alt")
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    shot(page, "public-update-2021-08")


def test_report_a_problem(page: Page, base_url: str, team_sql: TeamSQL) -> None:
    before = rows(team_sql, "SELECT count(*) FROM concerns")[0][0]
    page.goto(f"{base_url}/report")
    page.get_by_label("Area").select_option(AREA)
    page.get_by_label("Where is it?").fill("Narborough Road <b>near the shops</b>")
    page.get_by_label("What is the problem?").select_option("drugs")
    page.get_by_label("When did you see it?").fill("2021-07-02")
    page.get_by_label("Your email or phone number").fill("browser-test@example.org")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    shot(page, "report-thanks")
    text = page.inner_text("main")
    assert "browser-test@example.org" not in page.content()
    reference = re.search(r"\b(\d+)\b", text)
    assert reference, text
    after = rows(team_sql, "SELECT count(*) FROM concerns")[0][0]
    assert after == before + 1
    stored = rows(
        team_sql, "SELECT concern_id, where_text FROM concerns ORDER BY concern_id DESC LIMIT 1"
    )
    assert str(stored[0][0]) in text


def test_the_map_draws_its_layers(page: Page, base_url: str, make_user: Any) -> None:
    sign_in(page, base_url, make_user("partner"))
    page.goto(f"{base_url}/desk?area={quote(AREA)}&month=2021-06")
    page.wait_for_selector("#map.leaflet-container")
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)  # map.js: every layer loaded
    drawn = page.locator("#map path.leaflet-interactive").count()
    assert drawn > 3  # ward outlines, hot cells and priority places are SVG paths
    assert page.locator("#map .leaflet-control-layers").count() == 1
    layers = page.locator("#map .leaflet-control-layers-overlays label").all_inner_texts()
    assert len(layers) == 4, layers  # outline, hot spots, priority places, wards
    shot(page, "desk-dashboard-map")


def test_the_api_docs_render_offline(page: Page, base_url: str) -> None:
    """/docs draws Swagger UI from the vendored files under the site's CSP (no CDN, no
    inline script): every /api path of the OpenAPI description is listed."""
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    wanted = {"/api/areas", "/api/priorities", "/api/updates", "/api/events", "/api/stats/{area}"}
    assert wanted <= {p.replace("\u200b", "") for p in paths}, paths
    shot(page, "api-docs")


@pytest.mark.embedded_only(
    "it renames a ward in the store file's lsoa_lookup, which the app only reads when the "
    "team's records are in PostgreSQL"
)
def test_map_text_is_shown_as_text(
    page: Page, base_url: str, make_user: Any, store_sql: duckdb.DuckDBPyConnection
) -> None:
    """A ward named like markup shows in its map tooltip as those characters: no element is
    made from it (an <img> would request /desk/x and fail the page; its onerror would be a
    CSP error), and the tooltip's text is the name exactly."""
    name = "<img src=x onerror=alert(1)>"
    code = rows(
        store_sql, "SELECT DISTINCT ward_code FROM lsoa_lookup WHERE ward_name = 'Westcotes'"
    )[0][0]
    store_sql.execute("UPDATE lsoa_lookup SET ward_name = ? WHERE ward_code = ?", [name, code])
    try:
        sign_in(page, base_url, make_user("partner"))
        page.goto(f"{base_url}/desk?area={quote(AREA)}&month=2021-06")
        page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
        outlines = page.locator('#map path[stroke-dasharray="4 3"]')  # the ward layer's style
        shown = []
        for i in range(outlines.count()):
            outlines.nth(i).dispatch_event("mouseover")
            tip = page.locator("#map .leaflet-tooltip").last
            tip.wait_for(timeout=5_000)
            shown.append(tip.text_content())
            assert tip.locator("*").count() == 1  # the one span map.js makes, nothing inside
            outlines.nth(i).dispatch_event("mouseout")
        assert name in shown, shown
        assert page.locator("#map img[src='x']").count() == 0
        shot(page, "desk-map-markup-ward")
    finally:
        store_sql.execute(
            "UPDATE lsoa_lookup SET ward_name = 'Westcotes' WHERE ward_code = ?", [code]
        )


def test_a_priority_marker_opens_its_popup_with_the_wards_shown(
    page: Page, base_url: str, make_user: Any, team_sql: TeamSQL
) -> None:
    """With every layer ticked (the ward polygons cover the whole area), a real click on a
    priority's marker reaches it and opens its popup: Playwright clicks only when the
    marker itself is the element under the pointer. The layers stack wards, outline, cells,
    places whatever order they load in, and the list and legend name each."""
    sign_in(page, base_url, make_user("partner"))
    page.goto(f"{base_url}/desk?area={quote(AREA)}&month={MONTH}")
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    overlays = page.locator("#map .leaflet-control-layers-overlays label")
    names = [t.strip() for t in overlays.all_inner_texts()]
    assert names == ["Wards", "Area outline", "Hot and cold cells", "Priority places"]
    assert all(box.is_checked() for box in overlays.locator("input").all())
    assert page.locator('#map path[stroke-dasharray="4 3"]').count() == 3  # the wards, drawn
    running = {
        pid
        for (pid,) in rows(
            team_sql,
            "SELECT DISTINCT priority_id FROM priority_events WHERE month = DATE '2021-07-01' "
            "AND action IN ('adopted', 'continued')",
        )
    }
    markers = page.locator('#map path[fill="#c00000"]')  # the priority places' style
    assert markers.count() >= len(running) > 0
    markers.last.click(timeout=5_000)
    popup = page.locator("#map .leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    found = re.search(r"Priority: (\d+)", popup.inner_text())
    assert found and int(found[1]) in running, popup.inner_text()
    legend = page.locator("#map .bb-legend").inner_text()
    for words in ("Priority place", "Hot cell", "Cold cell", "Area outline", "Ward boundary"):
        assert words in legend
    stack = page.evaluate(
        """() => ["wards", "outline", "hotspots", "priorities"].map(
             n => Number(getComputedStyle(document.querySelector(".leaflet-bb-" + n + "-pane")).zIndex))"""
    )
    assert stack == sorted(stack) and len(set(stack)) == 4, stack
    shot(page, "desk-map-priority-popup")


DESK_PAGES = (
    "/desk",
    f"/desk?area={quote(AREA)}&month=2021-06",
    f"/desk/priorities?area={quote(AREA)}&month={MONTH}",
    "/desk/operations",
    "/desk/engagements",
    "/desk/concerns",
    f"/desk/updates?area={quote(AREA)}&month=2021-08",
    "/desk/users",
    f"/desk/settings?area={quote(AREA)}",
    "/desk/password",
    "/desk/import",
)


@pytest.mark.parametrize("role", ["inspector", "admin"])
def test_every_desk_page_fits_a_phone(
    browser: Browser,
    base_url: str,
    make_user: Any,
    role: str,
    team_sql: TeamSQL,
) -> None:
    """At 390 px wide (a phone) no desk page scrolls sideways: the page is no wider than
    the screen (a wide table scrolls inside its own box), even with a resident's long
    unbroken word and a concern imported from a deep folder (shown by its file name)."""
    folder = "/srv/" + "/".join(["a-deeply-nested-import-folder"] * 6)
    team_sql.execute(
        "UPDATE concerns SET source_file = ? || '/' || source_file "
        "WHERE source_file IS NOT NULL AND source_file NOT LIKE '/srv/%'",
        [folder],
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        phone.goto(f"{base_url}/report")
        phone.get_by_label("Area").select_option(AREA)
        phone.get_by_label("Where is it?").fill("Narborough Road")
        phone.get_by_label("What is the problem?").select_option("drugs")
        phone.get_by_label("What happens? (optional)").fill("x" * 300)
        phone.get_by_label("When did you see it?").fill("2021-07-02")
        phone.get_by_role("button", name="Send").click()
        phone.wait_for_load_state()
        sign_in(phone, base_url, make_user(role))
        widths = {}
        for path in DESK_PAGES:
            answer = phone.goto(f"{base_url}{path}")
            if answer is not None and answer.status == 403:  # the admin's own pages
                continue
            phone.wait_for_load_state("networkidle")
            phone.evaluate("document.fonts.ready")  # laid out in its own fonts
            widths[path] = phone.evaluate("document.documentElement.scrollWidth")
        assert len(widths) >= 8
        assert all(w <= 390 for w in widths.values()), {p: w for p, w in widths.items() if w > 390}
        shot(phone, f"desk-phone-{role}")
        phone.goto(f"{base_url}/desk/concerns")
        assert folder not in phone.content()
    finally:
        context.close()


def test_the_team_text_preview_follows_typing(page: Page, base_url: str, make_user: Any) -> None:
    sign_in(page, base_url, make_user("inspector"))
    page.goto(f"{base_url}/desk/updates?area={quote(AREA)}&month=2021-08")
    text = page.locator("textarea[name=text]")
    preview = page.locator("#team-preview")
    text.fill("")
    text.press_sequentially("## Typed here\n\nSome **bold** words <b>raw</b>", delay=10)
    preview.locator("strong", has_text="bold").wait_for(timeout=10_000)
    assert preview.locator("h2").inner_text() == "Typed here"
    assert "<b>raw</b>" in preview.inner_text() and preview.locator("b").count() == 0
    text.press_sequentially("\n\n- a list item", delay=10)
    preview.locator("li", has_text="a list item").wait_for(timeout=10_000)
    assert page.locator("#team-preview-problem").is_hidden()
    text.press_sequentially(" [x](http://example.org)", delay=5)
    problem = page.locator("#team-preview-problem")
    problem.wait_for(state="visible", timeout=10_000)
    assert "https:, mailto: or tel:" in problem.inner_text()
    assert preview.locator("a[href]").count() == 0
    shot(page, "desk-team-text-preview")


# --- signing in from one address (a station) ------------------------------------------------

STATION = "198.51.100.7"  # as the station's reverse proxy reports it (X-Forwarded-For)


def sign_in_as(browser: Browser, url: str, username: str, password: str, address: str) -> str:
    """Sign in through the form in a browser of its own behind ``address``; the page's
    heading after it (the password page when signed in, the sign-in page's message if not)."""
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": address})
    tab = context.new_page()
    try:
        tab.goto(f"{url}/login?next=/desk/password")
        tab.get_by_label("Username").fill(username)
        tab.get_by_label("Password").fill(password)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_load_state()
        alert = tab.locator("[role=alert]")
        return alert.inner_text() if alert.count() else tab.inner_text("h1")
    finally:
        context.close()


def test_six_sign_ins_from_one_address_all_succeed(browser: Browser, tmp_path: Path) -> None:
    store = make_store(tmp_path / "station.duckdb")
    with live(store, trusted_proxies=["127.0.0.1"]) as server:
        people = (ANALYST, INSPECTOR, "admin.one", "admin.two", ANALYST, INSPECTOR)
        seen = [sign_in_as(browser, server.url, name, PASSWORD, STATION) for name in people]
        assert seen == ["Your password"] * 6, seen


def _clock_after(minutes: int) -> set[str]:
    """The UK times a wait of ``minutes`` (rounded up) may end at, read now."""
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(ZoneInfo("Europe/London"))
    return {f"{now + dt.timedelta(minutes=minutes, seconds=s):%H:%M}" for s in (-60, 0, 60)}


def test_wrong_passwords_slow_that_user_and_that_address_only(
    browser: Browser, tmp_path: Path
) -> None:
    """Per username: three wrong passwords hold that user at that address for two minutes,
    said with the time they end; a colleague at the station, and the same user from home,
    sign in at once. Per address: wrong passwords for five names hold the address."""
    throttle = LoginThrottle(free=3, first_delay=120, address_free=5)
    store = make_store(tmp_path / "throttled.duckdb")
    with live(store, trusted_proxies=["127.0.0.1"], login_throttle=throttle) as server:
        url = server.url
        for _ in range(2):
            assert (
                sign_in_as(browser, url, ANALYST, "typo!", STATION) == "Wrong username or password."
            )
        third = sign_in_as(browser, url, ANALYST, "typo!", STATION)
        assert "the next in 2 minutes (after " in third
        held = sign_in_as(browser, url, ANALYST, PASSWORD, STATION)
        after = re.search(r"try again in 2 minutes \(after (\d\d:\d\d)\)", held)
        assert after and after[1] in _clock_after(2), held
        assert sign_in_as(browser, url, INSPECTOR, PASSWORD, STATION) == "Your password"
        assert sign_in_as(browser, url, ANALYST, PASSWORD, "203.0.113.9") == "Your password"
        spray = "192.0.2.44"
        for name in ("alice", "bob", "carol", "dave", "erin"):
            assert "Wrong" in sign_in_as(browser, url, name, "Summer2024!", spray)
        assert "try again in" in sign_in_as(browser, url, INSPECTOR, PASSWORD, spray)
        assert sign_in_as(browser, url, INSPECTOR, PASSWORD, STATION) == "Your password"
