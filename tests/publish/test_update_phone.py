"""The demo letter's web page on a 390 px phone, in Debian's chromium driven by Playwright: no
sideways scrolling, the map and charts shown the page's width, and their smallest text at 9
CSS pixels or more as drawn there (the picture's font size in points, scaled by the width the
browser gives the picture). A screenshot goes to tests/artifacts for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from beatbook.charts import update as charts
from beatbook.charts import update_map
from support.browser import ARTIFACTS, launched, needs_chromium
from support.demo_update import DemoUpdate

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as b:
        yield b


def test_the_letter_reads_on_a_390px_phone(browser: Browser, demo_update: DemoUpdate) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.goto((demo_update.out / "update.html").as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    widths = page.evaluate(
        "Object.fromEntries([...document.images].map(i => [i.getAttribute('src'), "
        "[i.getBoundingClientRect().width, i.naturalWidth]]))"
    )
    assert widths["map.png"][1] > 0  # loaded
    map_px = widths["map.png"][0]
    assert 300 <= map_px <= 390
    assert update_map.MIN_FONT / 72 * map_px / update_map.MAP_SIZE[0] >= 9
    trend_images = [src for src in widths if src.startswith("trend-")]
    assert len(trend_images) == len(demo_update.result.facts["trends"])
    for src in trend_images:
        shown, natural = widths[src]
        assert natural > 0 and 300 <= shown <= 390
        assert charts.TREND_FONT / 72 * shown / charts.TREND_SIZE[0] >= 9
    # the body text itself is a phone's normal size
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / "update-west-leicester-2025-10-phone.png"), full_page=False
    )
    context.close()
