"""``beatbook check``: which definitions reproduce a published figure, and BeatBook's own."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from beatbook.cli._common import AreaOpt, JsonOpt, StoreOpt, app, open_store, out, print_json


@app.command()
def check(
    area: AreaOpt,
    period: Annotated[
        str, typer.Option("--period", help="The year the figures are about, e.g. 2020.")
    ],
    claim: Annotated[
        list[str],
        typer.Option(
            "--claim",
            help="A published figure, as printed: 'rate=97' (crimes per 1,000 residents), "
            "'share:drugs=3.8%', 'count:drugs=1577' (a crime type or problem group after "
            "':'). Repeat for several.",
        ),
    ],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check published figures: BeatBook's own, and which definitions reproduce each.

    Tries crime with and without anti-social behaviour, rows or Crime IDs, the calendar
    year, both financial years and every 12 months in between, the area, the LSOAs named
    after it and its force area, and each population estimate stored.

    Example: [bold]beatbook check --area Leicester --period 2020 --claim "rate=97" --claim "share:drugs=3.8%" --claim "count:drugs=1577"[/bold]
    """
    from beatbook.figures.check import check_claims

    with open_store(store) as st:
        result = check_claims(st, area, period, claim)
    if json_out:
        print_json(result)
        return
    _print_check(result)


def _print_check(result: dict[str, Any]) -> None:
    years = ", ".join(f"mid-{y}" for y in result["population_years"]) or "none stored"
    out.print(
        f"[bold]{escape(result['area'])}[/bold] ({result['area_kind']}), figures about "
        f"{result['period']}. Population estimates tried: {years}; BeatBook's own rates use "
        + (
            f"mid-{result['nearest_population_year']}."
            if result["nearest_population_year"]
            else "none (no estimate stored)."
        )
    )
    for c in result["claims"]:
        out.print()
        out.print(f"[bold]{escape(c['claim'])}[/bold]: stands for {c['precision']}.")
        own = c["beatbook"]
        if own is None:
            out.print(f"  BeatBook: no such figure ({escape(c['beatbook_why_none'] or '')}).")
        else:
            gaps = c["beatbook_months_missing"]
            note = f" (months not stored: {', '.join(gaps)})" if gaps else ""
            out.print(f"  BeatBook: {escape(own['words'])}{note}.")
        out.print(f"  Verdict: {c['verdict']}" + (":" if c["matches"] else "; the nearest:"))
        out.print(_table(c["matches"] or c["nearest"]))
    untried: dict[str, set[str]] = {}
    for gap in result["definitions"]["not_tried"]:
        untried.setdefault(gap["months"], set()).update(gap["months_missing"])
    if untried:
        out.print(
            "Not tried, some months not stored (never counted as zero): "
            + "; ".join(f"{escape(name)} ({len(m)} missing)" for name, m in untried.items())
        )
    for reason in result["definitions"]["residents_unavailable"]:
        out.print(f"Residents not available: {escape(reason)}")


def _table(figures: list[dict[str, Any]]) -> Table:
    """One row per figure, definitions giving the same numbers over the same months merged."""
    merged: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for f in figures:
        d = f["definition"]
        units, areas = merged.setdefault((f["shown"], f["counted"], d["months"]), ([], []))
        units.extend(u for u in [d["unit_words"]] if u not in units)
        areas.extend(a for a in [d["area"]] if a not in areas)
    table = Table()
    for column in ("figure", "counted", "months", "area", "counted as"):
        table.add_column(column, justify="right" if column == "figure" else "left")
    for (shown, counted, months), (units, areas) in merged.items():
        table.add_row(shown, escape(counted), months, escape("; ".join(areas)), "; ".join(units))
    return table
