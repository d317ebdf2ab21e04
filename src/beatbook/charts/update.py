"""The community update's pictures, each with its alt text: a 13-month trend per ward for
its priority problems, and a map of the team area (ward outlines from the stored boundary
data, priority places numbered and labelled; no map tiles, so it prints and works offline).

Pure: records in, PNG bytes and words out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from beatbook import geo
from beatbook.charts.common import plt, png_bytes

COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")


@dataclass(frozen=True)
class Series:
    """Monthly counts of one problem in one ward; None for a month with no published data."""

    label: str
    counts: tuple[int | None, ...]


@dataclass(frozen=True)
class Place:
    """A numbered priority place on the map."""

    number: int
    label: str
    longitude: float
    latitude: float


def _short(month: str) -> str:
    return f"{dt.date.fromisoformat(month + '-01'):%b %y}"


def ward_trend_chart(
    ward: str, months: list[str], series: list[Series], title: str | None = None
) -> bytes:
    """Lines of monthly counts, one per problem; gaps where a month is not published.
    ``title`` replaces the default ("WARD: the priority problems, FIRST to LAST")."""
    fig, ax = plt.subplots(figsize=(6.4, 2.3), dpi=130)
    x = np.arange(len(months))
    for colour, s in zip(COLOURS * 3, series, strict=False):
        y = np.array([np.nan if c is None else c for c in s.counts], dtype=float)
        ax.plot(x, y, marker="o", markersize=3, linewidth=1.6, color=colour, label=s.label)
    ax.set_xticks(x, [_short(m) for m in months], rotation=45, ha="right", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("recorded a month", fontsize=7)
    heading = title or f"{ward}: the priority problems"
    ax.set_title(f"{heading}, {_short(months[0])} to {_short(months[-1])}", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    return png_bytes(fig)


def trend_alt(ward: str, months: list[str], series: list[Series]) -> str:
    """Alt text that gives the chart's numbers: each line's first, last, lowest and highest month."""
    parts = []
    for s in series:
        shown = [(m, c) for m, c in zip(months, s.counts, strict=True) if c is not None]
        if not shown:
            parts.append(f"{s.label}: no published months")
            continue
        low = min(shown, key=lambda mc: mc[1])
        high = max(shown, key=lambda mc: mc[1])
        parts.append(
            f"{s.label}: {shown[0][1]} in {_short(shown[0][0])}, {shown[-1][1]} in {_short(shown[-1][0])}, "
            f"lowest {low[1]} ({_short(low[0])}), highest {high[1]} ({_short(high[0])})"
        )
    missing = [m for i, m in enumerate(months) if all(s.counts[i] is None for s in series)]
    gap = f" No data for {', '.join(_short(m) for m in missing)}." if missing else ""
    return (
        f"Line chart of crimes and incidents recorded each month in {ward}, "
        f"{_short(months[0])} to {_short(months[-1])}. " + "; ".join(parts) + "." + gap
    )


def team_map(area_name: str, wards: list[tuple[str, BaseGeometry]], places: list[Place]) -> bytes:
    """Ward outlines with their names, and each priority place as a numbered red dot with its
    name, in British National Grid metres (equal scale both ways)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=130)
    for name, outline in wards:
        # Generalised boundaries leave slivers between neighbouring LSOAs: close them (10 m).
        shape = geo.shape_to_bng(outline).buffer(10).buffer(-10)
        for poly in getattr(shape, "geoms", [shape]):
            x, y = poly.exterior.xy
            ax.fill(x, y, facecolor="#eef3f8", edgecolor="#44546a", linewidth=1.0)
        anchor = shape.representative_point()
        ax.text(
            anchor.x,
            anchor.y,
            name,
            fontsize=8,
            color="#44546a",
            style="italic",
            ha="center",
            va="center",
            alpha=0.8,
        )
    if places:
        xs, ys = geo.to_bng(
            np.array([p.longitude for p in places]), np.array([p.latitude for p in places])
        )
        ax.scatter(xs, ys, s=130, c="#c00000", edgecolors="white", linewidths=1.2, zorder=3)
        for p, x, y in zip(places, xs, ys, strict=True):
            ax.text(
                x,
                y,
                str(p.number),
                fontsize=7,
                color="white",
                weight="bold",
                ha="center",
                va="center",
                zorder=4,
            )
            ax.annotate(
                p.label,
                (x, y),
                xytext=(7, 5),
                textcoords="offset points",
                fontsize=7,
                zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(f"{area_name}: wards and this month's priority places", fontsize=9)
    fig.tight_layout()
    return png_bytes(fig)


def map_alt(area_name: str, ward_names: list[str], places: list[Place]) -> str:
    """Alt text naming every ward outlined and every numbered place."""
    where = "; ".join(f"{p.number}, {p.label}" for p in places) or "none this month"
    return (
        f"Map of {area_name} showing the outlines of {len(ward_names)} "
        f"ward{'s' if len(ward_names) != 1 else ''} ({', '.join(ward_names)}) "
        f"and the priority places, numbered as in the list: {where}."
    )
