"""The long-run chart (``beatbook trend --out``): a year's rate per 1,000 for full years,
its count over the months stored for the others (hollow, marked), and police.uk's category
breaks as dashed lines. Drawn like the brief's charts (charts/brief.py)."""

from __future__ import annotations

from typing import Any

from beatbook.charts.brief import AREA_COLOUR, OTHER_COLOUR, _figure, _frame, _png


def long_run_chart(series: dict[str, Any]) -> bytes:
    """PNG of the series' yearly rates (full years) with the part years' counts annotated."""
    fig, ax = _figure(3.9)
    full = [r for r in series["years"] if r["rate_per_1000"] is not None]
    every = [r["year"] for r in series["years"]]
    rates = {r["year"]: r["rate_per_1000"] for r in full}
    ax.plot(  # a year without a rate is a gap, never a line across it
        every,
        [rates.get(y, float("nan")) for y in every],
        color=AREA_COLOUR,
        marker="o",
        linewidth=1.6,
        label="full year: rate per 1,000 residents",
    )
    for r in series["years"]:
        if r["rate_per_1000"] is None:
            ax.annotate(  # a year with no month stored says so: no line is not zero crimes
                "no data"
                if r["count"] is None
                else f"{r['count']:,} in {r['months_stored']} months",
                (r["year"], 0),
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color=OTHER_COLOUR,
            )
    for b in series["breaks"]:
        year = int(b["month"][:4]) + (int(b["month"][5:]) - 1) / 12
        ax.axvline(year - 0.5, color=OTHER_COLOUR, linestyle="--", linewidth=1)
    ax.set_xticks(every)
    ax.set_xlim(every[0] - 0.5, every[-1] + 0.5)
    ax.set_ylim(0, 1.2 * max([*rates.values(), 0.0]) or 1.0)
    ax.set_ylabel(f"{series['unit']} per 1,000 residents\nper year")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    what = series["crime_type"] if series["crime_type"] != "all" else series["unit"]
    pop_years = sorted({r["population_year"] for r in full})
    notes = [
        "Rates for years with all 12 months stored, each on the ONS estimate nearest mid-year "
        f"({', '.join(f'mid-{y}' for y in pop_years) or 'none'}); other years: the count over "
        "the months stored, no rate.",
    ]
    if series["breaks"]:
        notes.append(
            "Dashed: police.uk changed its crime categories ("
            + "; ".join(f"{b['month']}: {b['note']}" for b in series["breaks"])
            + ")."
        )
    _frame(fig, f"{series['area']}, {what} by year, {series['from']} to {series['to']}", notes)
    return _png(fig)


def long_run_alt(series: dict[str, Any]) -> str:
    """The chart in words: each full year's rate, each part year's count and months, the
    breaks."""
    what = series["crime_type"] if series["crime_type"] != "all" else series["unit"]
    years = []
    for r in series["years"]:
        if r["rate_per_1000"] is not None:
            years.append(f"{r['year']} {r['rate_per_1000']:.1f} per 1,000")
        elif r["count"] is not None:
            years.append(f"{r['year']} {r['count']:,} in {r['months_stored']} months (no rate)")
        else:
            years.append(f"{r['year']} no data")
    text = f"{series['area']}, {what} by year, {series['from']} to {series['to']}: " + "; ".join(
        years
    )
    if series["breaks"]:
        text += ". police.uk changed its categories in " + ", ".join(
            b["month"] for b in series["breaks"]
        )
    return text + "."
