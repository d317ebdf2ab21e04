"""The community update's map of the team area: ward outlines from the stored boundaries,
each priority place as a numbered dot with its name, the police.uk street names near it for
context, and a scale bar. No map tiles, so it prints and works offline.

Labels are placed so nothing covers anything else: a ward's name goes at the point of the
ward farthest from every priority dot (near its middle when none is close), a place's name
beside its dot on the first side where it covers no other label or dot, and a street name
only where it covers nothing. Text is at least :data:`MIN_FONT` points on a figure
:data:`MAP_SIZE` inches wide, printed at its own size and shown full width on a phone
(:data:`PHONE_WIDTH_PX` pixels), where that is at least 9 pixels (a test checks).
Pure: records in, a figure or PNG bytes out.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from beatbook import geo
from beatbook.charts.common import plt, png_bytes

MAP_SIZE = (4.2, 3.7)  # inches: printed at this size, 107 mm wide
MAP_DPI = 170
PHONE_WIDTH_PX = 358  # a 390 px phone less the page's padding
MIN_FONT = 8.5  # points: street names; places 9, wards 9.5
MARKER = "#c00000"
MARKER_AREA = 120  # points squared, as matplotlib's scatter takes it
WARD_INK = "#44546a"
STREET_INK = "#595959"
# where a label goes, in points from its dot, when no side of the dot is free
LEADER_OFFSETS = (
    (14, 14),
    (-14, 14),
    (14, -14),
    (-14, -14),
    (28, 24),
    (-28, 24),
    (28, -24),
    (-28, -24),
)


@dataclass(frozen=True)
class Place:
    """A numbered priority place on the map."""

    number: int
    label: str
    longitude: float
    latitude: float


@dataclass(frozen=True)
class Street:
    """A police.uk snap point's street near a priority, drawn as context."""

    name: str
    longitude: float
    latitude: float


def _overlaps(box: Any, taken: list[Any]) -> bool:
    return any(box.overlaps(t) for t in taken)


def _ward_anchor(shape: BaseGeometry, markers: np.ndarray, clearance: float) -> Point:
    """The point of ``shape`` for its name: its representative point when no marker is
    within ``clearance`` metres, else the point of a grid inside it farthest from every
    marker (ties to the one nearest the middle)."""
    anchor = shape.representative_point()
    if not len(markers):
        return anchor

    def distance(p: Point) -> float:
        return float(np.min(np.hypot(markers[:, 0] - p.x, markers[:, 1] - p.y)))

    if distance(anchor) >= clearance:
        return anchor
    inner = shape.buffer(-clearance / 4) if shape.area > 0 else shape
    inner = inner if not inner.is_empty else shape
    x0, y0, x1, y1 = inner.bounds
    grid = [
        Point(x, y)
        for x in np.linspace(x0, x1, 24)
        for y in np.linspace(y0, y1, 24)
        if inner.contains(Point(x, y))
    ]
    if not grid:
        return anchor
    return max(grid, key=lambda p: (min(distance(p), clearance), -p.distance(anchor)))


def _scale_length(width_m: float) -> int:
    """A round length near a fifth of the map's width: 100, 200, 250, 500 m, 1, 2, 5 km..."""
    target = width_m / 5
    steps = [m * 10**e for e in range(1, 6) for m in (1, 2, 2.5, 5)]
    return int(min(steps, key=lambda s: abs(math.log(s / target))))


def _scale_bar(ax: Any, bounds: tuple[float, float, float, float]) -> None:
    x0, y0, x1, y1 = bounds
    length = _scale_length(x1 - x0)
    left, base = x0, y0 - (y1 - y0) * 0.04
    ax.plot([left, left + length], [base, base], color="black", linewidth=2.5)
    for end in (left, left + length):
        ax.plot([end, end], [base, base + (y1 - y0) * 0.012], color="black", linewidth=1)
    words = f"{length // 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(left + length + (x1 - x0) * 0.02, base, words, fontsize=MIN_FONT, va="center")


def draw_map(
    area_name: str,
    wards: Sequence[tuple[str, BaseGeometry]],
    places: Sequence[Place],
    streets: Sequence[Street] = (),
) -> Any:
    """The map as a matplotlib figure (:func:`team_map` renders it)."""
    fig, ax = plt.subplots(figsize=MAP_SIZE, dpi=MAP_DPI)
    ax.set_aspect("equal")
    ax.set_axis_off()
    # Generalised boundaries leave slivers between neighbouring LSOAs: close them (10 m).
    shapes = [(name, geo.shape_to_bng(w).buffer(10).buffer(-10)) for name, w in wards]
    for _, shape in shapes:
        for poly in getattr(shape, "geoms", [shape]):
            x, y = poly.exterior.xy
            ax.fill(x, y, facecolor="#eef3f8", edgecolor=WARD_INK, linewidth=1.0)
    xy = np.empty((0, 2))
    if places:
        xs, ys = geo.to_bng(
            np.array([p.longitude for p in places]), np.array([p.latitude for p in places])
        )
        xy = np.column_stack([xs, ys])
    if shapes:
        bounds = tuple(np.array([s.bounds for _, s in shapes]).T.tolist())
        x0, y0, x1, y1 = min(bounds[0]), min(bounds[1]), max(bounds[2]), max(bounds[3])
    else:
        x0, y0 = xy.min(axis=0) - 500 if len(xy) else (0.0, 0.0)
        x1, y1 = xy.max(axis=0) + 500 if len(xy) else (1000.0, 1000.0)
    pad = (x1 - x0) * 0.02
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - (y1 - y0) * 0.08, y1 + pad)
    _scale_bar(ax, (x0, y0, x1, y1))
    ax.set_title(f"{area_name}: this month's priority places", fontsize=MIN_FONT + 1)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)  # fixed, so boxes hold
    fig.canvas.draw()  # so each text's box is known (get_window_extent)
    taken: list[Any] = []
    if len(xy):
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=MARKER_AREA,
            c=MARKER,
            edgecolors="white",
            linewidths=1.2,
            zorder=4,
        )
        # each dot's box in display units, so no label lands on a dot
        radius = (math.sqrt(MARKER_AREA) / 2 + 1.2) * MAP_DPI / 72  # points to pixels, edge in
        for x, y in ax.transData.transform(xy):
            taken.append(Bbox.from_extents(x - radius, y - radius, x + radius, y + radius))
    clearance = max(x1 - x0, y1 - y0) * 0.12
    for name, shape in shapes:
        anchor = _ward_anchor(shape, xy, clearance)
        text = ax.text(
            anchor.x,
            anchor.y,
            name,
            fontsize=MIN_FONT + 1,
            color=WARD_INK,
            style="italic",
            weight="bold",
            ha="center",
            va="center",
            zorder=2,
        )
        taken.append(text.get_window_extent().expanded(1.05, 1.2))
    sides = [
        (8, 4, "left", "bottom"),
        (8, -4, "left", "top"),
        (-8, 4, "right", "bottom"),
        (-8, -4, "right", "top"),
        (0, 10, "center", "bottom"),
        (0, -10, "center", "top"),
    ]
    for p, (x, y) in zip(places, xy, strict=True):
        ax.text(
            x,
            y,
            str(p.number),
            fontsize=MIN_FONT,
            color="white",
            weight="bold",
            ha="center",
            va="center",
            zorder=5,
        )
        label = None
        for dx, dy, ha, va in sides:
            label = _place_label(ax, p.label, (x, y), (dx, dy), ha, va)
            box = _text_box(label)
            if not _overlaps(box, taken) and _inside(box, ax.bbox):
                break
            label.remove()
            label = None
        if label is None:  # every side is covered: further off, with a line to its dot
            label = _leader_label(ax, p.label, (x, y), taken)
        taken.append(_text_box(label))
    for s in streets:
        sx, sy = geo.to_bng(np.array([s.longitude]), np.array([s.latitude]))
        point = (float(sx[0]), float(sy[0]))
        for dx, dy, ha, va in ((0, 0, "center", "center"), *sides):
            text = ax.annotate(
                s.name,
                point,
                xytext=(dx / 2, dy / 2),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=MIN_FONT,
                color=STREET_INK,
                zorder=3,
            )
            box = text.get_window_extent()
            if not _overlaps(box, taken) and _inside(box, ax.bbox):
                ax.plot(*point, marker="o", markersize=2, color=STREET_INK, zorder=3)
                taken.append(box)
                break
            text.remove()
    return fig


def _place_label(
    ax: Any,
    words: str,
    point: tuple[float, float],
    offset: tuple[float, float],
    ha: str,
    va: str,
    leader: bool = False,
) -> Any:
    """A place's name ``offset`` points from its dot on a white box (with a line to the dot
    when it is set further off)."""
    return ax.annotate(
        words,
        point,
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va=va,
        fontsize=MIN_FONT + 0.5,
        zorder=5,
        arrowprops={"arrowstyle": "-", "color": MARKER, "lw": 0.8} if leader else None,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
    )


def _leader_label(ax: Any, words: str, point: tuple[float, float], taken: list[Any]) -> Any:
    """A label set further from its dot, with a line to it: at the first offset where it is
    inside the map and covers nothing, else the first inside the map (a long name is wrapped
    onto two lines so it fits)."""
    words = textwrap.fill(words, 20)
    fallback = None
    for dx, dy in LEADER_OFFSETS:
        ha, va = ("left" if dx > 0 else "right"), ("bottom" if dy > 0 else "top")
        label = _place_label(ax, words, point, (dx, dy), ha, va, leader=True)
        box = _text_box(label)
        if _inside(box, ax.bbox) and not _overlaps(box, taken):
            if fallback is not None:
                fallback.remove()
            return label
        if fallback is None and (_inside(box, ax.bbox) or (dx, dy) == LEADER_OFFSETS[-1]):
            fallback = label
        else:
            label.remove()
    return fallback


def _text_box(label: Any) -> Any:
    """A label's own box in display pixels, without the line to its dot (an annotation's
    box would include it, and so always touch the dot it points at)."""
    label.update_positions(label.figure.canvas.get_renderer())
    return Text.get_window_extent(label)


def _inside(box: Any, frame: Any) -> bool:
    return bool(
        box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
    )


def team_map(
    area_name: str,
    wards: Sequence[tuple[str, BaseGeometry]],
    places: Sequence[Place],
    streets: Sequence[Street] = (),
) -> bytes:
    """:func:`draw_map` as PNG bytes."""
    return png_bytes(draw_map(area_name, wards, places, streets))


def map_alt(area_name: str, ward_names: list[str], places: Sequence[Place]) -> str:
    """Alt text naming every ward outlined and every numbered place."""
    where = "; ".join(f"{p.number}, {p.label}" for p in places) or "none this month"
    return (
        f"Map of {area_name} showing the outlines of {len(ward_names)} "
        f"ward{'s' if len(ward_names) != 1 else ''} ({', '.join(ward_names)}) "
        f"and the priority places, numbered as in the list: {where}."
    )
