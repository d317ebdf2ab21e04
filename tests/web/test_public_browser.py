"""The public map and the report form's pin in a real browser (Debian's chromium, Playwright)
against the app served by uvicorn: a marker per current priority above the ward outlines,
whose popup opens on a click; a pin put on the report form's map is sent, checked and stored.
The store is read back by the tests' own SQL; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from playwright.sync_api import Page
from web_support import AREA, current_priorities

from support.browser import needs_chromium, shot
from support.records_backend import TeamSQL

pytestmark = needs_chromium


def test_the_map_shows_each_priority_and_opens_its_popup(
    page: Page, base_url: str, team_sql: TeamSQL
) -> None:
    page.goto(f"{base_url}/priorities")
    page.wait_for_selector("#priority-map[data-ready='1']", timeout=30_000)
    _, rows = current_priorities(team_sql)
    markers = page.locator("#priority-map path.priority-marker")
    assert markers.count() == len(rows) == page.locator("ol.priorities > li").count()
    assert page.locator("#priority-map path[stroke-dasharray='4 3']").count() == 3  # the wards
    labels = {label for _, _, label in rows}
    for i in range(markers.count()):  # each marker clickable with the ward layer drawn
        markers.nth(i).click()
        popup = page.locator("#priority-map .leaflet-popup-content")
        popup.wait_for(state="visible")
        text = popup.inner_text()
        assert any(label in text for label in labels), text
        assert popup.locator("script, img, b").count() == 0  # data shown as text
        # the close button's own click event: a pointer click at its position could land on
        # the map or another marker while the popup's pan settles on a busy machine
        page.locator("#priority-map .leaflet-popup-close-button").dispatch_event("click")
        popup.wait_for(state="detached")
    shot(page, "public-priorities-map")


def test_a_pin_on_the_report_map_is_sent_and_stored(
    page: Page, base_url: str, team_sql: TeamSQL
) -> None:
    page.goto(f"{base_url}/report")
    page.wait_for_selector("#report-map[data-ready='1']", timeout=30_000)
    page.get_by_label("Area").select_option(AREA)
    box = page.locator("#report-map").bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    latitude = page.locator("input[name=latitude]").input_value()
    longitude = page.locator("input[name=longitude]").input_value()
    assert latitude and longitude
    assert page.locator("#report-map .report-pin").count() == 1
    page.get_by_label("What is the problem?").select_option("street-drinking")
    page.get_by_label("When did you see it?").fill("2021-07-03")
    page.get_by_label("What happens?").fill("Qzvbrowser people drinking on the wall")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    shot(page, "report-pin-thanks")
    assert "Qzvbrowser" not in page.content()
    stored = team_sql.execute(
        "SELECT c.given_latitude, c.given_longitude, c.place, d.description FROM concerns c "
        "JOIN concern_descriptions d USING (concern_id) ORDER BY concern_id DESC LIMIT 1"
    ).fetchone()
    assert stored[:2] == (float(latitude), float(longitude))
    assert stored[3] == "Qzvbrowser people drinking on the wall"
    if stored[2]:  # the middle of West: placed at a street, which the page names
        assert stored[2].removeprefix("On or near ") in page.inner_text("#placed")
    else:
        assert "place it by hand" in page.inner_text("#placed")
