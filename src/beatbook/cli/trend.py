"""``beatbook trend``: an area's long-run series by year."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beatbook.cli._common import (
    AreaOpt,
    FromOpt,
    JsonOpt,
    MeasureOpt,
    StoreOpt,
    ToOpt,
    app,
    open_store,
    out,
    print_json,
)
from beatbook.settings import DEFAULT_MEASURE


@app.command()
def trend(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    crime_type: Annotated[
        str | None, typer.Option(help="One crime type: its count, rate and share of crime.")
    ] = None,
    measure: MeasureOpt = DEFAULT_MEASURE,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for trend.png (the chart).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Yearly counts, rates per 1,000 and shares of crime, with the change in share from the
    first full year to the last and police.uk's category breaks marked.

    Example: [bold]beatbook trend --area Leicester --from 2020-01 --to 2025-03 --crime-type Drugs[/bold]
    """
    from beatbook.charts.long_run import long_run_chart
    from beatbook.figures.trend import long_run

    with open_store(store) as st:
        result = long_run(st, area, from_, to, crime_type=crime_type, measure=measure)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "trend.png"
        path.write_bytes(long_run_chart(result))
        result["chart"] = str(path)
    if json_out:
        print_json(result)
        return
    _print(result)


def _print(r: dict[str, Any]) -> None:
    from beatbook.figures.trend import share_changes_text

    what = r["crime_type"] if r["crime_type"] != "all" else r["unit"]
    out.print(f"[bold]{r['area']}[/bold], {what} by year, {r['from']} to {r['to']}")
    table = Table()
    for col in ("year", "months", r["unit"], "per 1,000", "population", "share of crime"):
        table.add_column(col, justify="right")
    for y in r["years"]:
        table.add_row(
            str(y["year"]),
            f"{y['months_stored']}/12" + ("" if y["complete"] else " *"),
            "–" if y["count"] is None else f"{y['count']:,}",
            "–" if y["rate_per_1000"] is None else f"{y['rate_per_1000']:.2f}",
            "–" if y["population_year"] is None else f"mid-{y['population_year']}",
            "–" if y["share"] is None else f"{y['share'] * 100:.1f}%",
        )
    out.print(table)
    out.print("* months missing: counts over the months stored, no rate.", markup=False)
    for b in r["breaks"]:
        out.print(f"Break {b['month']}: {b['note']}", markup=False)
    out.print(share_changes_text(r), markup=False)
    if r.get("chart"):
        out.print(f"wrote {r['chart']}", markup=False)
