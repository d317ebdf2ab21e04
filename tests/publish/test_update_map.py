"""The letter's map, drawn from the demo's real wards and priorities: text readable printed and
on a 390 px phone, no label on a priority dot and no ward name near one, the police.uk street
names near each priority as context, and a scale bar of the right length.

Distances are computed with pyproj and shapely directly (British National Grid), not with
BeatBook's geometry helpers; text positions are read from the drawn matplotlib figure."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from matplotlib.text import Text
from pyproj import Transformer

from beatbook.charts import update_map
from beatbook.publish import update_trends
from beatbook.publish.team_content import Settings
from beatbook.publish.update import gather
from beatbook.store import Store
from support.demo_update import DemoUpdate

TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@pytest.fixture(scope="module")
def drawn(
    demo_update: DemoUpdate,
) -> tuple[Any, Any, list[update_map.Place], list[update_map.Street]]:
    """The demo's map as a figure, with what it was drawn from."""
    with Store(demo_update.store_path, read_only=True) as st:
        inputs = gather(st, "West Leicester", "2025-10", settings=Settings(), sections=[])
    places = [
        update_map.Place(c["number"], c["place"], c["longitude"], c["latitude"])
        for c in inputs.current
    ]
    streets = update_trends.nearby_streets(inputs.current, inputs.streets)
    fig = update_map.draw_map(inputs.area.name, list(inputs.wards), places, streets)
    return fig, inputs, places, streets


def words_box(text: Any) -> Any:
    """A text's own box in display pixels: for a label with a line to its dot, the words
    without the line (matplotlib's box of an annotation includes it)."""
    if hasattr(text, "update_positions"):
        text.update_positions(text.figure.canvas.get_renderer())
    return Text.get_window_extent(text)


def _dots(fig: Any, places: list[update_map.Place]) -> np.ndarray:
    """The dots' centres in display pixels."""
    ax = fig.axes[0]
    xy = np.array([TO_BNG.transform(p.longitude, p.latitude) for p in places])
    return ax.transData.transform(xy)


def test_text_is_readable_printed_and_on_a_phone(drawn: Any) -> None:
    fig, *_ = drawn
    width_in = fig.get_size_inches()[0]
    sizes = [t.get_fontsize() for t in fig.axes[0].texts]
    assert len(sizes) > 10 and min(sizes) >= update_map.MIN_FONT
    # printed at its own width (107 mm): 8.5 points; on a phone 358 px wide: over 9 px
    assert width_in * 25.4 <= 110
    assert min(sizes) / 72 * 358 / width_in >= 9


def test_no_label_covers_a_dot_and_no_ward_name_is_near_one(drawn: Any) -> None:
    fig, inputs, places, _ = drawn
    ax = fig.axes[0]
    dots = _dots(fig, places)
    radius = math.sqrt(update_map.MARKER_AREA) / 2 * fig.dpi / 72
    numbers = {str(p.number) for p in places}
    wards = {w for w, _ in inputs.wards}
    ward_texts = [t for t in ax.texts if t.get_text() in wards]
    assert sorted(t.get_text() for t in ward_texts) == sorted(wards)
    for text in ax.texts:
        if text.get_text() in numbers:
            continue  # the number inside its own dot
        box = words_box(text)  # the words, not a line drawn to their dot
        for x, y in dots:
            # nearest point of the box to the dot's centre, farther than the dot's radius
            nx, ny = min(max(x, box.x0), box.x1), min(max(y, box.y0), box.y1)
            assert math.hypot(nx - x, ny - y) > radius, (text.get_text(), (x, y))
    # a ward's name is at least 10 mm (printed) from every dot
    for text in ward_texts:
        cx, cy = text.get_window_extent().get_points().mean(axis=0)
        nearest = min(math.hypot(cx - x, cy - y) for x, y in dots) / fig.dpi * 25.4
        assert nearest >= 10, (text.get_text(), nearest)
    # no two labels overlap
    boxes = [words_box(t) for t in ax.texts if t.get_text() not in numbers]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :])


def test_street_names_near_each_priority(drawn: Any, demo_update: DemoUpdate) -> None:
    fig, inputs, places, streets = drawn
    drawn_names = {t.get_text() for t in fig.axes[0].texts}
    shown = [s for s in streets if s.name in drawn_names]
    assert len(shown) >= len(places)  # some context for the places
    named = {p.label.casefold() for p in places}
    for s in shown:
        assert s.name.casefold() not in named and not s.name.startswith("On or near")
        sx, sy = TO_BNG.transform(s.longitude, s.latitude)
        nearest = min(
            math.dist((sx, sy), TO_BNG.transform(p.longitude, p.latitude)) for p in places
        )
        assert nearest <= update_trends.STREETS_NEAR, (s.name, nearest)
    assert demo_update.result.facts["map"]["streets"] == [s.name for s in streets]


def test_the_scale_bar_is_the_length_it_says(drawn: Any) -> None:
    fig, *_ = drawn
    ax = fig.axes[0]
    (label,) = [t for t in ax.texts if t.get_text().endswith((" km", " m"))]
    words = label.get_text()
    metres = float(words.split()[0]) * (1000 if words.endswith("km") else 1)
    bars = [line for line in ax.lines if len(line.get_xdata()) == 2 and line.get_linewidth() > 2]
    (bar,) = bars
    x = bar.get_xdata()
    assert math.isclose(abs(x[1] - x[0]), metres)  # data units are metres (British National Grid)
    x0, x1 = ax.get_xlim()
    assert 0.1 <= metres / (x1 - x0) <= 0.4  # a readable share of the map's width


def test_every_label_stays_inside_the_map_even_a_long_one_at_its_edge(drawn: Any) -> None:
    """The demo's easternmost place renamed as the team might label it: the name is moved
    or wrapped so no text is cut off at the map's edge."""
    fig, inputs, places, streets = drawn
    east = max(places, key=lambda p: p.longitude)
    long_name = "the petrol station on Upperton Road"
    renamed = [
        update_map.Place(p.number, long_name, p.longitude, p.latitude) if p == east else p
        for p in places
    ]
    for figure, shown in (
        (fig, places),
        (update_map.draw_map(inputs.area.name, list(inputs.wards), renamed, streets), renamed),
    ):
        ax = figure.axes[0]
        frame = ax.get_window_extent()
        for text in ax.texts:
            box = words_box(text)
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()
        words = {" ".join(t.get_text().split()) for t in ax.texts}
        assert {p.label for p in shown} <= words
