"""The statistics brief's charts: pure functions from the brief's facts to PNG bytes and alt text.

Four charts, each drawn only from numbers already in the facts (so ``beatbook brief --json``
carries everything behind every picture):

* ``rate``: the monthly crime rate per 1,000 residents with its exact Poisson (Garwood) 95%
  band, for each of the brief's months of the year and of the compare year
  (``facts["monthly"]``); months with no stored data, or left out because the other year
  has none for the same month, are gaps, not zeros;
* ``share``: each crime type's share of crime, labelled "n of N" (``facts["types"]``);
* ``rank``: the area among its peer local authorities, each rank with its 95% plausible range
  (``facts["rank"]["table"]``), only when the area is ranked;
* ``versus``: the area's and the comparison area's rate per crime type with 95% intervals
  (``facts["versus"]["categories"]``), only when there is a comparison.

:func:`chart_list` says which charts a brief has, with file name, title and alt text, and draws
nothing; :func:`draw` renders one to PNG bytes in memory. Alt text states what the chart shows
with its key numbers, for readers who cannot see it.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, PercentFormatter

from beatbook.charts.common import ci_band, interval_dots
from beatbook.stats import ordinal

__all__ = [
    "ChartSpec",
    "chart_list",
    "draw",
    "month_ranges",
    "rank_alt",
    "rate_alt",
    "rate_decimals",
    "render_all",
    "share_alt",
    "versus_alt",
]

WIDTH_IN = 7.0  # readable printed on A4 and scaled down on a phone
DPI = 130
AREA_COLOUR = "#1f4e79"
OTHER_COLOUR = "#c55a11"
PEER_COLOUR = "#7f7f7f"
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FILES = {
    "rate": "brief-rate.png",
    "share": "brief-share.png",
    "rank": "brief-rank.png",
    "versus": "brief-versus.png",
    "long_run": "brief-long-run.png",
}
CI_NOTE = "95% confidence interval"


@dataclass(frozen=True)
class ChartSpec:
    """One chart of the brief: what it is called, where it goes and what it says in words."""

    kind: str
    file: str
    title: str
    alt: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


# --- words ------------------------------------------------------------------------------------


def _period(facts: dict[str, Any]) -> str:
    """The brief's months of its year, in runs ('2021-01 to 2021-09'; gaps named)."""
    return month_ranges(facts["months"])


def _years(facts: dict[str, Any]) -> list[int]:
    """The brief's year first, then the compare year (when given and different)."""
    compare = facts.get("compare")
    years = [facts["year"]]
    if compare and compare["year"] != facts["year"]:
        years.append(compare["year"])
    return years


def rate_decimals(values: list[float]) -> int:
    """Decimals for a set of rates: one when the largest is 10 or more, else two."""
    return 1 if values and max(values) >= 10 else 2


def _missing_months(facts: dict[str, Any]) -> list[str]:
    """Calendar months of the charted years with no stored data (drawn as gaps)."""
    stored = {m["month"] for m in facts["monthly"]}
    return [
        f"{y}-{m:02d}"
        for y in sorted(_years(facts))
        for m in range(1, 13)
        if f"{y}-{m:02d}" not in stored
    ]


def _left_out(facts: dict[str, Any]) -> set[str]:
    """Months stored but left out of the brief: the other year has no data for them."""
    left = set(facts.get("coverage", {}).get("months_left_out", []))
    compare = facts.get("compare") or {}
    return left | set(compare.get("coverage", {}).get("months_left_out", []))


def month_ranges(months: list[str]) -> str:
    """'2025-04 to 2025-12, 2026-02' from sorted 'YYYY-MM' months: runs of consecutive ones."""
    runs: list[list[str]] = []
    previous = None
    for month in months:
        y, m = int(month[:4]), int(month[5:7])
        if previous is not None and previous == (y if m > 1 else y - 1, m - 1 if m > 1 else 12):
            runs[-1].append(month)
        else:
            runs.append([month])
        previous = (y, m)
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs)


def rate_alt(facts: dict[str, Any]) -> str:
    """'Monthly crime rate per 1,000 residents in Leicester, 2020-01 to 2021-12, between ...'."""
    rows = facts["monthly"]
    rates = [r["rate"] for r in rows]
    d = rate_decimals(rates)
    years = _years(facts)
    parts = [
        f"Monthly crime rate per 1,000 residents in {facts['area']}, "
        f"{month_ranges([r['month'] for r in rows])} (anti-social behaviour excluded; "
        f"mid-{facts['population']['population_year']} population), "
        f"between {min(rates):.{d}f} and {max(rates):.{d}f}"
    ]
    if len(years) > 1:
        for year in years:
            mine = [r for r in rows if r["month"].startswith(f"{year}-")]
            if mine:
                low = min(mine, key=lambda r: r["rate"])
                high = max(mine, key=lambda r: r["rate"])
                parts.append(
                    f"{year}: {len(mine)} months, lowest {low['rate']:.{d}f} ({low['month']}), "
                    f"highest {high['rate']:.{d}f} ({high['month']})"
                )
    gaps = _missing_months(facts)
    left_out = _left_out(facts)
    missing = [m for m in gaps if m not in left_out]
    if missing:
        parts.append(f"no data stored for {month_ranges(missing)} (gaps)")
    dropped = [m for m in gaps if m in left_out]
    if dropped:
        parts.append(
            f"left out, as the other year has no data for the same months: "
            f"{month_ranges(dropped)} (gaps)"
        )
    parts.append(f"shaded: {CI_NOTE}")
    return "; ".join(parts) + "."


def _share_words(t: dict[str, Any]) -> str:
    s = t["share"]
    return f"{t['crime_type']} {s['share'] * 100:.1f}% ({s['part']:,} of {s['base']:,})"


def share_alt(facts: dict[str, Any], top: int = 3) -> str:
    """Share of crime by type: the largest few and the smallest, each with 'n of N'."""
    types = facts["types"]
    text = (
        f"Share of crime by type in {facts['area']}, {_period(facts)}, of {facts['crimes']:,} "
        f"crimes (anti-social behaviour excluded), {len(types)} crime types: largest "
        + ", ".join(_share_words(t) for t in types[:top])
    )
    if len(types) > top:
        text += f"; smallest {_share_words(types[-1])}"
    return text + f"; lines: {CI_NOTE}s."


def rank_alt(facts: dict[str, Any]) -> str | None:
    """The area's rank with its plausible range, and the highest and lowest peers' rates."""
    rank = facts.get("rank")
    if not rank:
        return None
    table = rank["table"]
    d = rate_decimals([r["rate"] for r in table])
    top, bottom = table[0], table[-1]
    return (
        f"Rank of {facts['area']} among the {rank['n_peers']} {rank['peers']} on crimes per "
        f"1,000 residents, {_period(facts)}: {ordinal(rank['rank'])} (95% plausible range "
        f"{ordinal(rank['rank_low'])} to {ordinal(rank['rank_high'])}), rate {rank['rate']:.{d}f}; "
        f"highest rate {top['name']} {top['rate']:.{d}f}, lowest {bottom['name']} "
        f"{bottom['rate']:.{d}f}; lines: 95% plausible range of each rank."
    )


def versus_alt(facts: dict[str, Any]) -> str | None:
    """How many types are higher or lower than in the comparison area, and the largest gaps."""
    v = facts.get("versus")
    if not v:
        return None
    cats = v["categories"]
    d = rate_decimals([c[k] for c in cats for k in ("rate_a", "rate_b")])
    area, other = facts["area"], v["against"]

    def named(verdict: str) -> str:
        chosen = [c["crime_type"] for c in cats if c["verdict"] == verdict]
        if chosen and len(chosen) == len(cats):
            return " (every type)"
        return f" ({', '.join(chosen)})" if 0 < len(chosen) <= 6 else ""

    biggest = max(cats, key=lambda c: (c["rate_a"], c["crime_type"]))
    text = (
        f"Crime rate per 1,000 residents by crime type, {area} against {other}, "
        f"{_period(facts)} (mid-{v['population_year']} populations): {area} significantly higher "
        f"in {v['n_higher'] or 'none'} of {len(cats)} types{named('higher')} and lower in "
        f"{v['n_lower'] or 'none'}{named('lower')}; highest rate {biggest['crime_type']}, "
        f"{biggest['rate_a']:.{d}f} in {area} and {biggest['rate_b']:.{d}f} in {other}"
    )
    return text + f"; lines: {CI_NOTE}s."


def _titles(facts: dict[str, Any]) -> dict[str, str]:
    years = " and ".join(str(y) for y in sorted(_years(facts)))
    titles = {
        "rate": f"{facts['area']}: monthly crime rate, {years}",
        "share": f"{facts['area']}: share of crime by type, {_period(facts)}",
    }
    if facts.get("rank"):
        titles["rank"] = f"{facts['area']} among {facts['rank']['peers']}: rank on crime rate"
    if facts.get("versus"):
        titles["versus"] = f"{facts['area']} and {facts['versus']['against']}: crime rate by type"
    if facts.get("long_run"):
        series = facts["long_run"]
        titles["long_run"] = f"{facts['area']}: crime by year, {series['from']} to {series['to']}"
    return titles


def chart_list(facts: dict[str, Any]) -> list[ChartSpec]:
    """The charts this brief has, in the order they appear; draws nothing."""
    alts: dict[str, Callable[[dict[str, Any]], str | None]] = {
        "rate": lambda f: rate_alt(f) if f.get("monthly") else None,
        "share": lambda f: share_alt(f) if f.get("types") and f["crimes"] > 0 else None,
        "rank": rank_alt,
        "versus": versus_alt,
        "long_run": _long_run_alt,
    }
    titles = _titles(facts)
    specs = []
    for kind, alt_of in alts.items():
        alt = alt_of(facts)
        if alt is not None:
            specs.append(ChartSpec(kind, FILES[kind], titles[kind], alt))
    return specs


# --- pictures ---------------------------------------------------------------------------------


def _figure(height_in: float) -> tuple[Figure, Any]:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _frame(fig: Figure, title: str, notes: list[str]) -> None:
    """Title at the top left of the figure and notes (method, units, sources of lines and
    shading) in small type at the bottom left, both wrapped to the figure's width."""
    fig.suptitle(textwrap.fill(title, 72), x=0.01, ha="left", fontsize=11.5)
    text = "\n".join(textwrap.fill(n, 105) for n in notes)
    fig.supxlabel(text, x=0.01, ha="left", fontsize=8, color="#333333")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def rate_chart(facts: dict[str, Any], title: str) -> bytes:
    """Monthly rate per 1,000 by calendar month, one line and band per year; gaps stay gaps."""
    fig, ax = _figure(3.9)
    x = np.arange(1, 13)
    styles = [(AREA_COLOUR, "o"), (OTHER_COLOUR, "s")]
    for year, (colour, marker) in zip(_years(facts), styles, strict=False):
        point, low, high = (np.full(12, np.nan) for _ in range(3))
        for r in facts["monthly"]:
            if r["month"].startswith(f"{year}-"):
                i = int(r["month"][5:7]) - 1
                point[i], low[i], high[i] = r["rate"], r["ci_low"], r["ci_high"]
        ci_band(ax, x, low, high, colour)
        ax.plot(x, point, color=colour, marker=marker, markersize=4, linewidth=1.6, label=str(year))
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(color=PEER_COLOUR, alpha=0.3, linewidth=0))
    labels.append(f"shaded: {CI_NOTE}")
    ax.set_xticks(x, MONTH_NAMES)
    ax.set_xlim(0.5, 12.5)
    ax.set_ylim(bottom=0)
    gaps = _missing_months(facts)
    gap_note = ""
    if gaps:
        gap_note = (
            " (gaps: not in this brief)"
            if set(gaps) & _left_out(facts)
            else " (gaps: no data stored)"
        )
    ax.set_xlabel("month" + gap_note)
    ax.set_ylabel(
        "crimes per 1,000 residents\n"
        f"per month, mid-{facts['population']['population_year']} population"
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles, labels, fontsize="small", loc="lower right")
    _frame(
        fig,
        title,
        [
            "Anti-social behaviour excluded. Rates use the ONS mid-"
            f"{facts['population']['population_year']} population estimate "
            f"({facts['population']['population']:,.0f} residents) for every month shown.",
            f"Shaded: exact Poisson (Garwood) {CI_NOTE} of each month's rate.",
        ],
    )
    return _png(fig)


def share_chart(facts: dict[str, Any], title: str) -> bytes:
    """Horizontal bars of each type's share of crime with its exact interval, 'n of N' beside."""
    types = facts["types"]
    fig, ax = _figure(1.4 + 0.34 * len(types))
    y = np.arange(len(types))
    shares = np.array([t["share"]["share"] for t in types]) * 100
    low = np.array([t["share"]["ci_low"] for t in types]) * 100
    high = np.array([t["share"]["ci_high"] for t in types]) * 100
    ax.barh(y, shares, color=AREA_COLOUR, height=0.65)
    ax.hlines(y, low, high, colors="#333333", linewidth=1)
    reach = float(high.max()) if len(types) else 1.0
    for yi, h, t in zip(y, high, types, strict=True):
        s = t["share"]
        ax.text(
            h + reach * 0.015,
            yi,
            f"{s['share'] * 100:.1f}%  ({s['part']:,} of {s['base']:,})",
            va="center",
            fontsize=8.5,
        )
    ax.set_yticks(y, [t["crime_type"] for t in types], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, reach * 1.6)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel(f"share of all {facts['crimes']:,} crimes")
    _frame(
        fig,
        title,
        [
            "Anti-social behaviour excluded (not a crime). Labels: share, and the type's crimes "
            "of all crimes.",
            f"Lines: exact (Clopper-Pearson) {CI_NOTE} of each share.",
        ],
    )
    return _png(fig)


def rank_chart(facts: dict[str, Any], title: str) -> bytes:
    """Each peer's rank (1 = highest rate) as a dot with its 95% plausible range; area in colour."""
    rank = facts["rank"]
    table = rank["table"]
    n = len(table)
    fig, ax = _figure(1.5 + 0.36 * n)
    y = np.arange(n)
    d = rate_decimals([r["rate"] for r in table])
    for yi, row in zip(y, table, strict=True):
        mine = row["name"] == facts["area"]
        interval_dots(
            ax,
            [yi],
            [row["rank"]],
            [row["rank_low"]],
            [row["rank_high"]],
            AREA_COLOUR if mine else PEER_COLOUR,
            size=60 if mine else 36,
        )
        ax.annotate(
            f"{row['rate']:.{d}f}",
            (1.01, yi),
            xycoords=("axes fraction", "data"),
            va="center",
            fontsize=9,
            color=AREA_COLOUR if mine else "black",
            fontweight="bold" if mine else "normal",
        )
    ax.set_yticks(y, [r["name"] for r in table], fontsize=9)
    for label, row in zip(ax.get_yticklabels(), table, strict=True):
        if row["name"] == facts["area"]:
            label.set_color(AREA_COLOUR)
            label.set_fontweight("bold")
    ax.invert_yaxis()
    ax.set_xlim(0.5, n + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"rank on crimes per 1,000 residents, {_period(facts)} (1 = highest)")
    ax.grid(axis="x", alpha=0.3)
    pop_year = rank.get("population_year", facts["population"]["population_year"])
    _frame(
        fig,
        title,
        [
            f"Numbers at right: crimes per 1,000 residents (anti-social behaviour excluded; ONS "
            f"mid-{pop_year} populations).",
            f"Lines: 95% plausible range of each rank ({rank['n_peers']} peers; simulated from each "
            f"area's Jeffreys posterior, seed {rank['seed']}).",
        ],
    )
    return _png(fig)


def versus_chart(facts: dict[str, Any], title: str) -> bytes:
    """Per crime type, both areas' rates with 95% intervals side by side; verdicts marked."""
    v = facts["versus"]
    cats = sorted(v["categories"], key=lambda c: (-c["rate_a"], c["crime_type"]))
    fig, ax = _figure(1.7 + 0.42 * len(cats))
    y = np.arange(len(cats))
    for offset, key, colour, name in (
        (-0.17, "a", AREA_COLOUR, facts["area"]),
        (0.17, "b", OTHER_COLOUR, v["against"]),
    ):
        interval_dots(
            ax,
            y + offset,
            [c[f"rate_{key}"] for c in cats],
            [c[f"rate_{key}_ci_low"] for c in cats],
            [c[f"rate_{key}_ci_high"] for c in cats],
            colour,
            size=28,
            label=name,
        )
    labels = [
        c["crime_type"] + {"higher": " (higher)", "lower": " (lower)"}.get(c["verdict"], "")
        for c in cats
    ]
    ax.set_yticks(y, labels, fontsize=9)
    for label, c in zip(ax.get_yticklabels(), cats, strict=True):
        if c["verdict"] in ("higher", "lower"):
            label.set_fontweight("bold")
    ax.invert_yaxis()
    rates = [c[f"rate_{k}"] for c in cats for k in ("a", "b")]
    lows = [c[f"rate_{k}_ci_low"] for c in cats for k in ("a", "b")]
    highs = [c[f"rate_{k}_ci_high"] for c in cats for k in ("a", "b")]
    scale = ""
    if min(rates) > 0 and max(rates) / min(rates) > 20:
        ax.set_xscale("log")
        ax.set_xlim(min(x for x in lows if x > 0) / 1.3, max(highs) * 1.3)
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_minor_locator(LogLocator(subs="auto"))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        scale = "; log scale"
    else:
        ax.set_xlim(0, max(highs) * 1.08)
    ax.set_xlabel(f"crimes per 1,000 residents, {_period(facts)}{scale}")
    ax.grid(axis="x", alpha=0.3, which="major")
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=2,
        fontsize="small",
        frameon=False,
        borderaxespad=0.2,
    )
    _frame(
        fig,
        title,
        [
            f"ONS mid-{v['population_year']} populations: {facts['area']} "
            f"{v['population_area']:,.0f}, {v['against']} {v['population_against']:,.0f} residents.",
            f"Lines: exact Poisson (Garwood) {CI_NOTE} of each rate. (higher)/(lower): the rate "
            "ratio is significant (exact test, Holm-adjusted across crime types).",
        ],
    )
    return _png(fig)


def _long_run_alt(facts: dict[str, Any]) -> str | None:
    from beatbook.charts.long_run import long_run_alt  # it draws with this module's helpers

    return long_run_alt(facts["long_run"]) if facts.get("long_run") else None


def _long_run_chart(facts: dict[str, Any], title: str) -> bytes:
    from beatbook.charts.long_run import long_run_chart

    return long_run_chart(facts["long_run"])


DRAW: dict[str, Callable[[dict[str, Any], str], bytes]] = {
    "rate": rate_chart,
    "share": share_chart,
    "rank": rank_chart,
    "versus": versus_chart,
    "long_run": _long_run_chart,
}


def draw(spec: ChartSpec | dict[str, Any], facts: dict[str, Any]) -> bytes:
    """PNG bytes of one chart of the brief (nothing is written)."""
    kind, title = (
        (spec.kind, spec.title) if isinstance(spec, ChartSpec) else (spec["kind"], spec["title"])
    )
    return DRAW[kind](facts, title)


def render_all(facts: dict[str, Any]) -> dict[str, bytes]:
    """File name -> PNG bytes for every chart in ``facts["charts"]``, all rendered in memory."""
    return {c["file"]: draw(c, facts) for c in facts["charts"]}
