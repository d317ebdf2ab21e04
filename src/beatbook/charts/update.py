"""The community update's trend pictures, each with its alt text: a 13-month chart per
priority, counting its own place. A month police.uk has not published is a gap in the line
with a grey band marked "no data", never a zero.

Sized to be read both printed (about 85 mm wide, two to a row) and on a 390 px phone (the
full width): :data:`TREND_SIZE` and :data:`TREND_FONT` keep text at 7 points or more in
print and 9 pixels or more on the phone (a test checks). Pure: records in, PNG bytes and
words out; :mod:`beatbook.charts.update_map` draws the map. The desk dashboard's area trend
(several lines on one chart, :func:`ward_trend_chart`) marks unpublished months the same way.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from beatbook.charts.common import plt, png_bytes

LINE = "#1f4e79"
COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")
GAP = "#d9d9d9"
TREND_SIZE = (3.6, 1.35)  # inches: printed about 85 mm wide, two charts to a row
TREND_DPI = 160
TREND_FONT = 7.5  # points, the smallest text on the chart
NO_DATA = "no data"


@dataclass(frozen=True)
class Series:
    """Monthly counts at one place; None for a month with no published data."""

    label: str
    counts: tuple[int | None, ...]


def _short(month: str) -> str:
    return f"{dt.date.fromisoformat(month + '-01'):%b %y}"


def missing_runs(counts: tuple[int | None, ...]) -> list[tuple[int, int]]:
    """(first, last) index of each run of months without published data."""
    runs: list[tuple[int, int]] = []
    for i, c in enumerate(counts):
        if c is not None:
            continue
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def mark_missing(ax: Any, counts: tuple[int | None, ...], y: float) -> None:
    """A grey band over each run of unpublished months, labelled "no data" at height ``y``."""
    for first, last in missing_runs(counts):
        ax.axvspan(first - 0.45, last + 0.45, color=GAP, alpha=0.6, linewidth=0)
        ax.text(
            (first + last) / 2,
            y,
            NO_DATA,
            fontsize=TREND_FONT,
            color="#555555",
            ha="center",
            va="center",
            rotation=0 if last > first else 90,
        )


def draw_priority_trend(months: list[str], series: Series, title: str) -> Any:
    """The chart as a matplotlib figure (:func:`priority_trend_chart` renders it): one line of
    monthly counts with dots, a grey band marked "no data" over each unpublished month."""
    fig, ax = plt.subplots(figsize=TREND_SIZE, dpi=TREND_DPI)
    x = np.arange(len(months))
    y = np.array([np.nan if c is None else c for c in series.counts], dtype=float)
    top = max(4.0, float(np.nanmax(y)) * 1.25) if np.isfinite(y).any() else 4.0
    mark_missing(ax, series.counts, top * 0.5)
    ax.plot(x, y, marker="o", markersize=3, linewidth=1.6, color=LINE)
    ticks = [i for i in x if i % 2 == (len(months) - 1) % 2]  # every other month, the last shown
    ax.set_xticks(ticks, [_short(months[i]) for i in ticks], fontsize=TREND_FONT)
    ax.set_xlim(-0.6, len(months) - 0.4)
    ax.tick_params(axis="y", labelsize=TREND_FONT)
    ax.set_ylim(0, top)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    heading = ax.set_title(title, fontsize=TREND_FONT + 0.5, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout(pad=0.3)
    _fit_title(fig, heading, title)
    return fig


def _fit_title(fig: Any, heading: Any, title: str) -> None:
    """Wrap a title too long for the picture (a team's long label) onto two lines, so it is
    never cut off at the right edge."""
    box = heading.get_window_extent(fig.canvas.get_renderer())
    if box.x1 <= fig.bbox.x1 - 2:
        return
    room = fig.bbox.x1 - 2 - box.x0
    heading.set_text(textwrap.fill(title, max(10, int(len(title) * room / box.width) - 2)))
    fig.tight_layout(pad=0.3)


def priority_trend_chart(months: list[str], series: Series, title: str) -> bytes:
    """:func:`draw_priority_trend` as PNG bytes."""
    return png_bytes(draw_priority_trend(months, series, title))


def priority_trend_alt(where: str, months: list[str], series: Series) -> str:
    """Alt text that gives the chart's numbers: the first, last, lowest and highest month,
    and the months without data."""
    shown = [(m, c) for m, c in zip(months, series.counts, strict=True) if c is not None]
    span = f"{_short(months[0])} to {_short(months[-1])}"
    if not shown:
        return f"Line chart of {series.label.lower()} recorded each month {where}, {span}: no published months."
    low = min(shown, key=lambda mc: mc[1])
    high = max(shown, key=lambda mc: mc[1])
    missing = [m for m, c in zip(months, series.counts, strict=True) if c is None]
    gap = f" No data for {', '.join(_short(m) for m in missing)}." if missing else ""
    return (
        f"Line chart of {series.label.lower()} recorded each month {where}, {span}: "
        f"{shown[0][1]} in {_short(shown[0][0])}, {shown[-1][1]} in {_short(shown[-1][0])}, "
        f"lowest {low[1]} ({_short(low[0])}), highest {high[1]} ({_short(high[0])})." + gap
    )


# --- the desk dashboard's area trend: several lines on one chart ---------------------------


def ward_trend_chart(
    ward: str, months: list[str], series: list[Series], title: str | None = None
) -> bytes:
    """Lines of monthly counts, one per problem; a marked gap where a month is not published.
    ``title`` replaces the default ("WARD: the priority problems, FIRST to LAST")."""
    fig, ax = plt.subplots(figsize=(6.4, 2.3), dpi=130)
    x = np.arange(len(months))
    for colour, s in zip(COLOURS * 3, series, strict=False):
        y = np.array([np.nan if c is None else c for c in s.counts], dtype=float)
        ax.plot(x, y, marker="o", markersize=3, linewidth=1.6, color=colour, label=s.label)
    ax.set_xticks(x, [_short(m) for m in months], rotation=45, ha="right", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(bottom=0)
    unpublished = tuple(
        None if all(s.counts[i] is None for s in series) else 0 for i in range(len(months))
    )
    mark_missing(ax, unpublished, ax.get_ylim()[1] * 0.5)
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
