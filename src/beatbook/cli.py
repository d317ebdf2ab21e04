"""The ``beatbook`` command line: parses arguments, calls the library, prints.

No analysis lives here. Every command takes ``--store`` (default
``./beatbook.duckdb`` or ``$BEATBOOK_STORE``); commands that report figures
take ``--json`` and then print one JSON document with the field names
documented in the README. Any :class:`~beatbook.errors.BeatBookError` is
printed as one line on stderr with exit code 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from beatbook.errors import BeatBookError
from beatbook.store import STORE_ENV, Store

app = typer.Typer(
    help="BeatBook: honest crime statistics from police.uk data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
areas_app = typer.Typer(
    help="Define and list areas: local authorities, wards, LSOA sets, polygons.",
    no_args_is_help=True,
)
app.add_typer(areas_app, name="areas")


@app.callback()
def _global(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="DuckDB store file for any command (same as BEATBOOK_STORE)."),
    ] = None,
) -> None:
    """BeatBook: honest crime statistics from police.uk data."""
    if store is not None:
        os.environ[STORE_ENV] = str(store)


out = Console()
err = Console(stderr=True)

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store", envvar=STORE_ENV, help="DuckDB store file \\[default: ./beatbook.duckdb]."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
AreaOpt = Annotated[
    str, typer.Option("--area", help="Area name or code (see 'beatbook areas list').")
]
FromOpt = Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")]
ToOpt = Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")]
PopYearOpt = Annotated[
    int | None,
    typer.Option(
        "--population-year", help="Mid-year population estimate to use \\[default: nearest]."
    ),
]


def _print_json(payload: Any) -> None:
    out.print_json(json.dumps(payload, default=str), sort_keys=False)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="CSV, .csv.gz, folders or police.uk zips.")],
    store: StoreOpt = None,
    force: Annotated[
        str | None, typer.Option(help="police.uk force id when the file name doesn't say.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Import police.uk street, outcomes and stop-and-search CSVs.

    Re-importing a month replaces it; importing the same files twice changes nothing.
    A bad file aborts the whole import and leaves the store as it was.

    Example: [bold]beatbook ingest data/sample/police-uk[/bold]
    """
    from beatbook.ingest.policeuk_csv import ingest as ingest_files

    with Store(store) as st:
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            disable=json_out or not err.is_terminal,
        )
        with progress:
            task = progress.add_task("importing", total=None)

            def on_file(name: str) -> None:
                progress.update(task, description=Path(name).name)
                progress.advance(task)

            results = ingest_files(st, paths, force=force, on_file=on_file)
    if json_out:
        _print_json([r.to_dict() for r in results])
        return
    table = Table(title="Imported")
    for col in ("file", "kind", "force", "month", "rows stored", "rows quarantined", "status"):
        table.add_column(col, justify="right" if col.startswith("rows") else "left")
    for r in results:
        status = r.status + (" (replaced)" if r.replaced else "")
        table.add_row(
            Path(r.file).name,
            r.kind,
            r.force,
            ", ".join(r.months),
            f"{r.rows_stored:,}",
            f"{r.rows_quarantined:,}",
            status,
        )
    out.print(table)
    total_q = sum(r.rows_quarantined for r in results)
    out.print(
        f"{sum(r.rows_stored for r in results):,} rows stored, {total_q:,} quarantined"
        + (" (see the quarantine table for file, line and reason)" if total_q else "")
    )


@areas_app.command("import-lookup")
def import_lookup(
    file: Annotated[Path, typer.Argument(help="ONS lookup CSV (.csv or .csv.gz).")],
    store: StoreOpt = None,
) -> None:
    """Load an ONS LSOA -> ward -> local authority lookup (or the LSOA 2011 -> 2021 lookup).

    Columns are recognised by their ONS names (LSOA11CD, WD19NM, LAD22CD, ...).

    Example: [bold]beatbook areas import-lookup data/sample/ons/lsoa11-ward19-lad19-ew.csv.gz[/bold]
    """
    from beatbook.ingest import ons

    with Store(store) as st:
        summary = ons.import_lookup(st, file)
    out.print(summary)


@areas_app.command("import-population")
def import_population(
    file: Annotated[Path, typer.Argument(help="ONS LSOA population CSV: code,population.")],
    year: Annotated[int, typer.Option(help="Year of the mid-year estimate, e.g. 2019.")],
    store: StoreOpt = None,
) -> None:
    """Load ONS mid-year population estimates by LSOA.

    Example: [bold]beatbook areas import-population data/sample/ons/lsoa11-population-mid2019-ew.csv.gz --year 2019[/bold]
    """
    from beatbook.ingest import ons

    with Store(store) as st:
        summary = ons.import_population(st, file, year)
    out.print(summary)


@areas_app.command("import-boundaries")
def import_boundaries(
    file: Annotated[Path, typer.Argument(help="GeoJSON (.geojson or .geojson.gz) of LSOA polygons.")],
    store: StoreOpt = None,
) -> None:
    """Load LSOA boundaries (WGS84 GeoJSON, LSOA11CD/LSOA21CD properties): grids are clipped to them.

    Example: [bold]beatbook areas import-boundaries data/sample/ons/boundaries/lsoa11-E06000016-leicester.geojson.gz[/bold]
    """
    from beatbook.ingest.boundaries import import_boundaries as load

    with Store(store) as st:
        n = load(st, file)
    out.print(f"{n:,} LSOA boundaries loaded from {file}")


@areas_app.command("add")
def areas_add(
    name: Annotated[str, typer.Argument(help="Name for the new area.")],
    lsoa: Annotated[list[str] | None, typer.Option(help="LSOA code (repeatable).")] = None,
    ward: Annotated[list[str] | None, typer.Option(help="Ward name or code (repeatable).")] = None,
    geojson: Annotated[
        Path | None, typer.Option(help="GeoJSON file with the area's polygon.")
    ] = None,
    neighbourhood: Annotated[
        str | None,
        typer.Option(help="police.uk team area FORCE/ID, e.g. leicestershire/NC04: its boundary."),
    ] = None,
    api_url: Annotated[
        str, typer.Option(help="police.uk API address (a mirror or test server).")
    ] = "https://data.police.uk/api/",
    store: StoreOpt = None,
) -> None:
    """Define a named area from LSOAs, wards, a GeoJSON polygon or a police.uk team boundary.

    Example: [bold]beatbook areas add West --ward "Westcotes (Leicester)" --ward "Fosse (Leicester)"[/bold]
    """
    from beatbook import areas as areas_mod
    from beatbook.ingest.policeuk_api import PoliceUkApi

    with Store(store) as st, PoliceUkApi(api_url) as api:
        area = areas_mod.add_area(
            st, name, lsoas=lsoa or [], wards=ward or [], geojson=geojson,
            neighbourhood=neighbourhood, api=api,
        )  # fmt: skip
    out.print(f"defined area {area.name!r}: {area.description}")


@areas_app.command("list")
def areas_list(
    store: StoreOpt = None,
    json_out: JsonOpt = False,
    kind: Annotated[
        str | None, typer.Option(help="Only this kind (local authority, ward, ...).")
    ] = None,
) -> None:
    """List every area usable as --area.

    Example: [bold]beatbook areas list --kind "local authority"[/bold]
    """
    from beatbook import areas as areas_mod

    with Store(store, read_only=True) as st:
        rows = [a.to_dict() for a in areas_mod.list_areas(st) if kind in (None, a.kind)]
    if json_out:
        _print_json(rows)
        return
    table = Table(title=f"{len(rows)} areas")
    for col in ("name", "kind", "code", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["name"]), str(r["kind"]), str(r["code"] or ""), str(r["description"]))
    out.print(table)


@app.command()
def stats(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    by: Annotated[str | None, typer.Option(help="Break down: 'crime-type'.")] = None,
    population_year: PopYearOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Count, rate per 1,000 residents (exact Poisson 95% CI) and shares for an area.

    Example: [bold]beatbook stats --area Leicester --from 2020-01 --to 2020-12 --by crime-type[/bold]
    """
    from beatbook import figures

    with Store(store, read_only=True) as st:
        result = figures.area_stats(st, area, from_, to, by=by, population_year=population_year)
    if json_out:
        _print_json(result)
        return
    _print_stats(result)


@app.command()
def compare(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    against: Annotated[
        str | None, typer.Option(help="Comparison area \\[default: the rest of the force area].")
    ] = None,
    before_from: Annotated[
        str | None, typer.Option(help="Earlier period start (for change).")
    ] = None,
    before_to: Annotated[str | None, typer.Option(help="Earlier period end (for change).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Compare an area with another, crime type by crime type, on rates over the same months.

    With --before-from/--before-to, also tests the change in each crime type in both areas.

    Example: [bold]beatbook compare --area Leicester --against "Leicestershire excluding Leicester" --from 2021-01 --to 2021-12[/bold]
    """
    from beatbook import figures

    with Store(store, read_only=True) as st:
        result = figures.compare_areas(st, area, against, from_, to, before_from, before_to)
    if json_out:
        _print_json(result)
        return
    _print_compare(result)


@app.command()
def rank(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    peers: Annotated[
        str,
        typer.Option(
            help="'local-authorities': the area among its force's districts; 'lsoas': every LSOA inside the area."
        ),
    ] = "local-authorities",
    crime_type: Annotated[str | None, typer.Option(help="Rank on one crime type only.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the rank-interval simulation.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Rank an area among its peers on crime rate, with a simulated 95% rank interval.

    Example: [bold]beatbook rank --area Leicester --from 2021-01 --to 2021-12 --crime-type Drugs[/bold]
    """
    from beatbook import figures

    with Store(store, read_only=True) as st:
        result = figures.rank_area(
            st,
            area,
            from_,
            to,
            peers=peers,
            crime_types=[crime_type] if crime_type else None,
            seed=seed,
        )
    if json_out:
        _print_json(result)
        return
    _print_rank(result)


@app.command()
def brief(
    area: AreaOpt,
    year: Annotated[int, typer.Option(help="Calendar year to report.")],
    store: StoreOpt = None,
    compare_year: Annotated[int | None, typer.Option(help="Year to compare with.")] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for brief.md and brief.html.")
    ] = Path("."),
    seed: Annotated[int, typer.Option(help="Seed of the rank-interval simulation.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Write a data-journalism brief (Markdown + HTML) for an area and year.

    Example: [bold]beatbook brief --area Leicester --year 2021 --compare-year 2020 --out brief/[/bold]
    """
    from beatbook.publish import brief as brief_mod

    with Store(store, read_only=True) as st:
        written = brief_mod.write_brief(st, area, year, compare_year, out_dir, seed=seed)
    if json_out:
        _print_json(written.facts)
        return
    print(written.markdown)
    charts = f" and {len(written.chart_paths)} charts" if written.chart_paths else ""
    out.print(f"\nwrote {written.markdown_path}, {written.html_path}{charts}", markup=False)


def _fmt(x: float, places: int = 1) -> str:
    return f"{x:,.{places}f}"


def _coverage_note(r: dict[str, Any]) -> str:
    missing = r.get("months_missing") or []
    note = f"{r['months']} months of data"
    return note + (f" (missing: {', '.join(missing)})" if missing else "")


def _print_stats(result: dict[str, Any] | list[dict[str, Any]]) -> None:
    records = result if isinstance(result, list) else [result]
    if not records:
        out.print("no crimes recorded in that area and period")
        return
    first = records[0]
    residents = (
        "no resident count for a polygon area: counts only"
        if first["population"] is None
        else f"population {first['population']:,.0f} (ONS mid-{first['population_year']} estimate)"
    )
    out.print(
        f"[bold]{first['area']}[/bold], {first['from']} to {first['to']} — {_coverage_note(first)}; "
        + residents
    )
    table = Table()
    columns = ["crime type", "count", "per 1,000 residents", "95% CI"]
    if "share" in first:
        columns.append("share of all crime")
    for col in columns:
        table.add_column(col, justify="left" if col == "crime type" else "right")
    for r in records:
        row = [
            r.get("crime_type", "all crime"),
            f"{r['count']:,}",
            "–" if r["rate_per_1000"] is None else _fmt(r["rate_per_1000"], 2),
            "–" if r["ci_low"] is None else f"{_fmt(r['ci_low'], 2)}–{_fmt(r['ci_high'], 2)}",
        ]
        if "share" in r:
            row.append(f"{r['share'] * 100:.1f}% ({r['count']:,} of {r['share_base']:,})")
        table.add_row(*row)
    out.print(table)
    trend = first.get("trend")
    if trend:
        from beatbook.stats import Trend, describe_trend

        out.print(
            "Monthly trend: "
            + describe_trend(
                Trend(**{k: v for k, v in trend.items() if k in Trend.__dataclass_fields__})
            )
        )


def _print_compare(r: dict[str, Any]) -> None:
    out.print(
        f"[bold]{r['area']}[/bold] vs [bold]{r['against']}[/bold], {r['from']} to {r['to']} "
        f"({_coverage_note(r)}); rates per 1,000 residents, mid-{r['population_year']} "
        "population; Holm-adjusted exact tests"
    )
    table = Table()
    for col in ("crime type", r["area"], r["against"], "ratio", "95% CI", "p (adj.)", "verdict"):
        table.add_column(col, justify="left" if col in ("crime type", "verdict") else "right")
    for c in r["categories"]:
        table.add_row(
            c["crime_type"],
            _fmt(c["rate_a"], 2),
            _fmt(c["rate_b"], 2),
            _fmt(c["rate_ratio"], 2),
            f"{_fmt(c['ci_low'], 2)}–{_fmt(c['ci_high'], 2)}",
            f"{c['p_adjusted']:.3g}",
            c["verdict"],
        )
    out.print(table)
    for key, claim in r.get("claims", {}).items():
        if claim:
            out.print(f"[bold]{key.replace('_', ' ')}[/bold]: true (every change significant)")
    if "changes" in r:
        for key, rows in r["changes"].items():
            name = r["area"] if key == "area" else r["against"]
            ups = [c["crime_type"] for c in rows if c["direction"] == "rise"]
            downs = [c["crime_type"] for c in rows if c["direction"] == "fall"]
            out.print(
                f"{name}: significant rises in {', '.join(ups) or 'no category'}; "
                f"significant falls in {', '.join(downs) or 'no category'}; "
                "no clear change in the rest"
            )


def _print_rank(r: dict[str, Any]) -> None:
    from beatbook.stats import describe_rank

    what = "all crime and ASB" if r["crime_types"] == "all" else ", ".join(r["crime_types"])
    out.print(
        f"[bold]{what}[/bold], {r['from']} to {r['to']}: {r['peers']}, "
        f"mid-{r['population_year']} population, rank interval from 10,000 draws "
        f"(seed {r['seed']})"
    )
    focus = r["rank"]
    if focus:
        out.print(
            r["area"]
            + ": "
            + describe_rank(
                focus["rank"], focus["rank_low"], focus["rank_high"], r["n_peers"], r["peers"]
            )
        )
    table = Table()
    for col in ("rank", "name", "count", "per 1,000", "rank 95% interval"):
        table.add_column(col, justify="left" if col == "name" else "right")
    for row in r["table"]:
        table.add_row(
            str(row["rank"]),
            row["name"],
            f"{row['count']:,}",
            _fmt(row["rate"], 2),
            f"{row['rank_low']}–{row['rank_high']}",
        )
    out.print(table)


# The other command groups live in their own modules and register on ``app``.
from beatbook import (  # noqa: E402,F401
    cli_concerns,
    cli_hotspots,
    cli_ops,
    cli_priorities,
    cli_update,
    cli_web,
)


def main() -> None:
    """Entry point: run the app, turning BeatBook errors into one line and exit code 2."""
    try:
        app()
    except BeatBookError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
