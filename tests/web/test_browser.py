"""The web app in a real browser: Debian's chromium driven by Playwright against the app
served by uvicorn on loopback. Sign in, adopt a priority, publish an update, send the public
form, see the map draw. Screenshots go to tests/artifacts/ for a person to look at; the
store is checked by SQL of its own after each action.

The project's `make test` installs chromium (scripts/system-packages) when it is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from web_support import AREA, MONTH, WebUser

from beatbook.web.testing import serving

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# As the machine's own probe runs it: no sandbox as root, no calls out of a closed network.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)"
)


@pytest.fixture(scope="module")
def base_url(web_app: FastAPI) -> Iterator[str]:
    with serving(web_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
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


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def sign_in(page: Page, base_url: str, user: WebUser) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/desk"))


def rows(db: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[tuple]:
    return db.execute(sql, params or []).fetchall()


def test_sign_in_and_adopt_a_priority(
    page: Page, base_url: str, make_user: Any, store_sql: duckdb.DuckDBPyConnection
) -> None:
    inspector = make_user("inspector")
    sign_in(page, base_url, inspector)
    page.goto(f"{base_url}/desk/priorities?area={quote(AREA)}&month={MONTH}")
    proposed = rows(
        store_sql,
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
        store_sql,
        "SELECT action, actor FROM priority_events WHERE priority_id = ? ORDER BY seq",
        [pid],
    )
    assert trail[-1] == ("adopted", inspector.username)


def test_publish_an_update(
    page: Page, base_url: str, make_user: Any, store_sql: duckdb.DuckDBPyConnection
) -> None:
    inspector = make_user("inspector")
    sign_in(page, base_url, inspector)
    page.goto(f"{base_url}/desk/updates?area={quote(AREA)}&month=2021-08")
    page.locator("form[action='/desk/updates/publish']").get_by_role(
        "button", name="Publish"
    ).click()
    page.wait_for_load_state()
    published = rows(
        store_sql,
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


def test_report_a_problem(page: Page, base_url: str, store_sql: duckdb.DuckDBPyConnection) -> None:
    before = rows(store_sql, "SELECT count(*) FROM concerns")[0][0]
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
    after = rows(store_sql, "SELECT count(*) FROM concerns")[0][0]
    assert after == before + 1
    stored = rows(
        store_sql, "SELECT concern_id, where_text FROM concerns ORDER BY concern_id DESC LIMIT 1"
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
