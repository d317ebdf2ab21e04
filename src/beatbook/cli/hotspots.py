"""The hotspot, place and forecast commands of the ``beatbook`` CLI (registered on its app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beatbook.cli._common import (
    AreaOpt,
    FromOpt,
    JsonOpt,
    StoreOpt,
    ToOpt,
    app,
    err,
    open_store,
    out,
    print_json,
)
from beatbook.settings import (
    CELL_FORECAST_METHOD,
    CELL_SIZE,
    CELL_SIZE_RANGE,
    FDR_ALPHA,
    PERMUTATIONS,
)

ProblemOpt = Annotated[
    str | None,
    typer.Option(
        help="Problem group (asb, drugs, violence-weapons, acquisitive, criminal-damage, public-order, other) or one crime type's slug, e.g. burglary."
    ),
]
CellSizeOpt = Annotated[
    int,
    typer.Option(help=f"Grid cell size in metres ({CELL_SIZE_RANGE.low}-{CELL_SIZE_RANGE.high})."),
]


@app.command()
def hotspots(
    area: AreaOpt,
    month: Annotated[str, typer.Option(help="Month to map, YYYY-MM.")],
    store: StoreOpt = None,
    problem: ProblemOpt = None,
    cell_size: CellSizeOpt = CELL_SIZE,
    seed: Annotated[int, typer.Option(help="Seed of the permutation test.")] = 0,
    permutations: Annotated[
        int, typer.Option(help="Permutations for the p-values (smallest p: 2/(N+1)).")
    ] = PERMUTATIONS,
    alpha: Annotated[float, typer.Option(help="False-discovery rate across cells.")] = FDR_ALPHA,
    limit: Annotated[int, typer.Option(help="How many top places to list.")] = 10,
    emerging: Annotated[
        int, typer.Option(help="Also class each cell's trend over this many months (e.g. 12).")
    ] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Significant hot and cold grid cells (Getis-Ord Gi*, FDR-controlled) and the top places.

    Example: [bold]beatbook hotspots --area Leicester --month 2021-06 --problem drugs[/bold]
    """
    from beatbook.figures import hotspots as hotspot_figures

    with open_store(store) as st:
        result = hotspot_figures.hotspots(
            st,
            area,
            month,
            problem=problem,
            cell_size=cell_size,
            seed=seed,
            permutations=permutations,
            alpha=alpha,
            limit=limit,
            emerging=emerging,
        )
    if json_out:
        print_json(result)
        return
    _print_hotspots(result)


@app.command()
def places(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    problem: ProblemOpt = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write place x month x problem group counts here.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many places to list.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Crimes per police.uk place ("On or near ..."), month and problem group.

    Example: [bold]beatbook places --area Leicester --from 2021-01 --to 2021-12 --problem drugs[/bold]
    """
    from beatbook.figures import hotspots as hotspot_figures
    from beatbook.hotspots.places import place_totals

    with open_store(store) as st:
        table = hotspot_figures.place_counts(st, area, from_, to, problem=problem)
    if csv_out:
        table.write_csv(csv_out)
        err.print(f"wrote {table.height:,} rows to {csv_out}")
    totals = place_totals(table, limit)
    if json_out:
        print_json(totals.to_dicts())
        return
    out_table = Table(title=f"Top places, {from_} to {to}" + (f", {problem}" if problem else ""))
    for col in ("place", "lat, lon", "crimes", "months with crime"):
        out_table.add_column(col, justify="left" if col in ("place", "lat, lon") else "right")
    for r in totals.iter_rows(named=True):
        out_table.add_row(
            r["place"] or "(no name)",
            f"{r['latitude']:.5f}, {r['longitude']:.5f}",
            f"{r['crimes']:,}",
            str(r["months"]),
        )
    out.print(out_table)


@app.command()
def forecast(
    area: AreaOpt,
    cutoff: Annotated[str, typer.Option(help="Last month the forecast may see, YYYY-MM.")],
    store: StoreOpt = None,
    method: Annotated[
        str,
        typer.Option(help="last-month, mean-3, mean-6, mean-12, kde, prospective, sepp or glm."),
    ] = CELL_FORECAST_METHOD,
    problem: ProblemOpt = None,
    cell_size: CellSizeOpt = CELL_SIZE,
    limit: Annotated[int, typer.Option(help="How many cells and places to list.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Forecast the month after --cutoff: cells and places ranked by expected crime.

    Example: [bold]beatbook forecast --area Leicester --cutoff 2021-11 --method mean-12[/bold]
    """
    from beatbook.figures import hotspots as hotspot_figures

    with open_store(store) as st:
        result = hotspot_figures.forecast_cells(
            st, area, cutoff, method=method, problem=problem, cell_size=cell_size, limit=limit
        )
    if json_out:
        print_json(result)
        return
    out.print(
        f"[bold]{result['area']['name']}: forecast for {result['target']}[/bold] "
        f"({result['method']}, {result['problem'] or 'all crime and ASB'}, from "
        f"{result['months_used']} stored months {result['first_month']} to {result['cutoff']})"
    )
    table = Table(title="Top cells")
    for col in ("rank", "cell (BNG SW corner)", "lat, lon", "score", f"crimes {result['cutoff']}"):
        table.add_column(col, justify="left" if col.startswith("cell") else "right")
    for c in result["cells"]:
        table.add_row(
            str(c["rank"]),
            c["cell"],
            f"{c['latitude']:.5f}, {c['longitude']:.5f}",
            f"{c['score']:.2f}",
            str(c["count_cutoff_month"]),
        )
    out.print(table)
    places = Table(title="Top places")
    for col in ("place", "score", "crimes, last 12 months"):
        places.add_column(col, justify="left" if col == "place" else "right")
    for p in result["places"]:
        places.add_row(
            p["place"] or "(no name)", f"{p['score']:.2f}", str(p["crimes_last_12_months"])
        )
    out.print(places)


@app.command()
def evaluate(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    problem: ProblemOpt = None,
    method: Annotated[
        list[str] | None, typer.Option(help="Method to include (repeatable; default all).")
    ] = None,
    cell_size: CellSizeOpt = CELL_SIZE,
    seed: Annotated[int, typer.Option(help="Seed of tie-breaking and the bootstrap.")] = 0,
    chart: Annotated[
        Path | None, typer.Option(help="Also draw PAI by coverage per method to this PNG file.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Backtest the forecasts: each month from..to forecast from the months before it.

    Example: [bold]beatbook evaluate --area Leicester --from 2021-10 --to 2021-12 --method mean-3 --method glm[/bold]
    """
    from beatbook.figures import hotspots as hotspot_figures

    with open_store(store) as st:
        result = hotspot_figures.evaluate_forecasts(
            st, area, from_, to, problem=problem, methods=method, cell_size=cell_size, seed=seed
        )
    if chart:
        from beatbook.charts.common import backtest_chart

        backtest_chart(result, chart)
        err.print(f"wrote {chart}")
    if json_out:
        print_json(result)
        return
    out.print(
        f"[bold]{result['area']['name']}, {result['problem'] or 'all crime and ASB'}[/bold]: "
        f"{len(result['targets'])} months forecast ({result['targets'][0]} to "
        f"{result['targets'][-1]}), {result['grid']['cells']:,} cells of "
        f"{result['grid']['cell_size_m']} m"
        + (
            f"; skipped (month before not stored): {', '.join(result['skipped'])}"
            if result["skipped"]
            else ""
        )
    )
    table = Table(title="Mean over months (PAI with 95% bootstrap interval)")
    for col in ("method", "coverage", "hit rate", "PAI", "PAI 95% CI", "ceiling", "PEI"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for r in result["summary"]:
        table.add_row(
            r["method"],
            f"{r['coverage']:.0%}",
            f"{r['hit_rate']:.1%}",
            f"{r['pai']:.2f}",
            f"{r['pai_low']:.2f}–{r['pai_high']:.2f}",
            f"{r['pai_ceiling']:.2f}",
            f"{r['pei']:.2f}",
        )
    out.print(table)
    if result["best_baseline_pai5"]:
        out.print(f"PAI at 5% against the best baseline ({result['best_baseline_pai5']}):")
        for r in result["pai5_vs_best_baseline"]:
            out.print(f"  {r['method']}: {r['ratio']:.3f} (95% CI {r['low']:.3f}–{r['high']:.3f})")


def _print_hotspots(r: dict[str, Any]) -> None:
    grid, method = r["grid"], r["method"]
    what = r["problem"] or "all crime and ASB"
    out.print(
        f"[bold]{r['area']['name']}, {r['month']}, {what}[/bold]: {r['crimes']:,} located crimes; "
        f"{grid['cells']:,} cells of {grid['cell_size_m']} m over {grid['area_km2']} km² "
        f"({grid['extent']})"
    )
    out.print(
        f"Gi*: {r['hot_cells']} hot and {r['cold_cells']} cold cells at a false-discovery rate "
        f"of {method['fdr_alpha']:g} ({method['permutations']} permutations, seed {method['seed']})"
    )
    table = Table(title="Hottest cells")
    for col in ("cell (BNG SW corner)", "lat, lon", "crimes", "z", "p"):
        table.add_column(col, justify="left" if col.startswith("cell") else "right")
    for cell in [c for c in r["cells"] if c["class"] == "hot"][:10]:
        table.add_row(
            cell["cell"],
            f"{cell['latitude']:.5f}, {cell['longitude']:.5f}",
            str(cell["count"]),
            f"{cell['z']:.2f}",
            f"{cell['p']:.3f}",
        )
    out.print(table)
    places = Table(title=f"Top places by harm (change from {r['previous_month']})")
    for col in ("place", "crimes", "harm (days)", "change", "most common"):
        places.add_column(col, justify="left" if col in ("place", "most common") else "right")
    for p in r["places"]:
        places.add_row(
            p["place"] or "(no name)",
            str(p["count"]),
            f"{p['harm']:,.0f}",
            f"{p['change']:+d}",
            p["top_type"] or "",
        )
    out.print(places)
    history = r["emerging"]
    if history:
        classes = ", ".join(f"{n} {k}" for k, n in history["classes"].items() if n)
        out.print(f"Emerging hotspots, {history['from']} to {history['to']}: {classes or 'none'}")
