"""Charts as PNG files (matplotlib, no display needed)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.ticker import MaxNLocator
from shapely.geometry.base import BaseGeometry

from beatbook import geo
from beatbook.months import month_range, ym

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def backtest_chart(result: dict[str, Any], path: str | Path) -> Path:
    """PAI by area coverage for each method, with the ceiling a perfect forecast reaches."""
    summary = result["summary"]
    methods = list(dict.fromkeys(r["method"] for r in summary))
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for method in methods:
        rows = sorted((r for r in summary if r["method"] == method), key=lambda r: r["coverage"])
        x = [100 * r["coverage"] for r in rows]
        ax.plot(x, [r["pai"] for r in rows], marker="o", label=method)
        ax.fill_between(x, [r["pai_low"] for r in rows], [r["pai_high"] for r in rows], alpha=0.15)
    ceiling = sorted((r for r in summary if r["method"] == methods[0]), key=lambda r: r["coverage"])
    ax.plot(
        [100 * r["coverage"] for r in ceiling],
        [r["pai_ceiling"] for r in ceiling],
        color="black",
        linestyle="--",
        label="ceiling (perfect forecast)",
    )
    ax.set_xscale("log")
    ax.set_xticks([1, 2, 5, 10, 20], labels=["1%", "2%", "5%", "10%", "20%"])
    ax.set_xlabel("share of the area searched (cells ranked by each method)")
    ax.set_ylabel("PAI = hit rate / area share")
    what = result["problem"] or "all crime and ASB"
    months = result["targets"]
    ax.set_title(
        f"{result['area']['name']}, {what}: {len(months)} months forecast "
        f"({months[0]} to {months[-1]})"
    )
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def png_bytes(fig: Any) -> bytes:
    """Render a figure to PNG bytes and close it (for embedding in HTML and PDF)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def month_label(month: str) -> str:
    """'2021-06' -> 'Jun 2021': how a month is written on a chart and in the JAG pack."""
    return f"{dt.date.fromisoformat(month[:7] + '-01'):%b %Y}"


def month_axis(months: list[str]) -> list[str]:
    """Every calendar month from the first of ``months`` ('YYYY-MM', oldest first) to the
    last, so that a month without data keeps its place instead of closing the gap."""
    if not months:
        return []
    first, last = (dt.date.fromisoformat(m + "-01") for m in (months[0], months[-1]))
    return [ym(m) for m in month_range(first, last)]


def trend_chart(months: list[dict[str, Any]]) -> bytes:
    """Monthly counts as bars, the recent months darker: the evidence table as a picture.
    A month missing from ``months`` is marked "no data" in its place, never drawn as zero.
    The page around the chart gives its title (as text, which wraps and is never clipped)."""
    given = {m["month"]: m for m in months}
    axis = month_axis([m["month"] for m in months])
    fig, ax = plt.subplots(figsize=(4.2, 2.3), dpi=110)
    for i, month in enumerate(axis):
        m = given.get(month)
        if m is None:
            ax.text(
                i, 0, "no data", rotation=90, fontsize=5, color="#777", ha="center", va="bottom"
            )
        else:
            colour = "#1f4e79" if m["window"] == "recent" else "#9db7d5"
            ax.bar(i, m["count"], color=colour)
    ax.set_xticks(range(len(axis)), [month_label(m) for m in axis], rotation=90, fontsize=6)
    ax.tick_params(axis="y", labelsize=6)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no half crimes
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return png_bytes(fig)


def place_map(
    outline: BaseGeometry | None,
    crimes: list[tuple[float, float]],
    place: list[tuple[float, float]],
) -> bytes:
    """The ward outline (when boundaries are stored), the problem's recent crimes (grey) and
    the priority's snap points (red), in British National Grid metres. The page around the
    map gives its title (as text, which wraps and is never clipped)."""
    fig, ax = plt.subplots(figsize=(2.6, 2.6), dpi=110)
    if outline is not None:
        shape = geo.shape_to_bng(outline)
        for poly in getattr(shape, "geoms", [shape]):
            x, y = poly.exterior.xy
            ax.plot(x, y, color="#555", linewidth=0.6)
    for points, size, colour in ((crimes, 4, "#999"), (place, 22, "#c00000")):
        if points:
            x, y = geo.to_bng(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
            ax.scatter(x, y, s=size, c=colour)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.tight_layout()
    return png_bytes(fig)


def ci_band(
    ax: Any,
    x: Any,
    low: Any,
    high: Any,
    color: str,
    *,
    alpha: float = 0.2,
    label: str | None = None,
) -> None:
    """Shade a confidence band from ``low`` to ``high`` over ``x``, with gaps where the bounds
    are NaN (missing data is a gap, never a zero); a lone point between gaps gets a short
    vertical bar so that its interval still shows. ``label`` goes on the first piece only."""
    xs, lo, hi = (np.asarray(v, dtype=float) for v in (x, low, high))
    present = np.flatnonzero(np.isfinite(lo) & np.isfinite(hi))
    if present.size == 0:
        return
    runs = np.split(present, np.flatnonzero(np.diff(present) != 1) + 1)
    for i, run in enumerate(runs):
        piece_label = label if i == 0 else None
        if run.size == 1:
            ax.vlines(
                xs[run],
                lo[run],
                hi[run],
                colors=color,
                alpha=min(1.0, 2 * alpha),
                linewidth=7,
                label=piece_label,
            )
        else:
            ax.fill_between(
                xs[run], lo[run], hi[run], color=color, alpha=alpha, linewidth=0, label=piece_label
            )


def interval_dots(
    ax: Any,
    y: Any,
    point: Any,
    low: Any,
    high: Any,
    color: str,
    *,
    size: float = 36,
    label: str | None = None,
) -> None:
    """A horizontal dot-plot: one dot per row at ``point`` with a line from ``low`` to ``high``
    (a confidence or plausible interval); NaN points are left out."""
    ys, pts, lo, hi = (np.asarray(v, dtype=float) for v in (y, point, low, high))
    keep = np.isfinite(pts)
    ax.hlines(ys[keep], lo[keep], hi[keep], colors=color, linewidth=2.2, alpha=0.75)
    ax.scatter(pts[keep], ys[keep], s=size, color=color, zorder=3, label=label)
