"""The ``beatbook concerns`` commands: import, list, fix and close residents' concerns.

Registered on the shared ``app``. Nothing here ever prints a reporter's contact:
the library never reads it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beatbook.cli._common import AreaOpt, JsonOpt, StoreOpt, app, open_store, out, print_json

concerns_app = typer.Typer(
    help="Residents' concerns: import survey sheets and reports, fix places, close.",
    no_args_is_help=True,
)
app.add_typer(concerns_app, name="concerns")

OptionalAreaOpt = Annotated[
    str | None, typer.Option("--area", help="Only concerns about this area \\[default: all].")
]
IdArg = Annotated[int, typer.Argument(help="The concern's id (see 'beatbook concerns list').")]


@concerns_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Concerns CSV (UTF-8): date, where, problem, ...")],
    area: AreaOpt,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a concerns CSV for an area; places are matched to its police.uk snap points.

    A file with any bad row imports nothing; importing the same rows again adds nothing.

    Example: [bold]beatbook concerns import data/sample/concerns/leicester-concerns.csv --area Leicester[/bold]
    """
    from beatbook.concerns.csv_import import import_concerns

    with open_store(store, writes_team=True) as st:
        result = import_concerns(st, file, area)
    if json_out:
        print_json(result.to_dict())
        return
    out.print(
        f"{result.file}: {result.rows} rows for {result.area}; {result.added} added, "
        f"{result.already_stored} already stored; matched {result.matched_by_name} by street "
        f"name and {result.matched_by_coordinates} by coordinates; "
        f"{len(result.unmatched)} unmatched"
    )
    if result.unmatched:
        _print_unmatched(result.unmatched, "Unmatched places")


@concerns_app.command("list")
def list_(
    store: StoreOpt = None,
    area: OptionalAreaOpt = None,
    from_: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
    status: Annotated[
        str | None, typer.Option(help="'open' or 'closed' \\[default: both].")
    ] = None,
    problem: Annotated[
        str | None, typer.Option(help="Only this problem, e.g. street-drinking.")
    ] = None,
    free_text: Annotated[
        bool,
        typer.Option(
            "--free-text", help="Also show what residents wrote (team only: may be personal)."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """List stored concerns: date, place, problem, source, status.

    Example: [bold]beatbook concerns list --area Leicester --from 2021-04 --to 2021-06 --status open[/bold]
    """
    from beatbook.concerns import records as concerns_mod

    with open_store(store) as st:
        rows = concerns_mod.team_list(
            st, area=area, from_=from_, to=to, status=status, problem=problem, free_text=free_text
        )
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} concerns")
    columns = ["id", "reported", "place", "problem", "source", "status"]
    columns += ["where (as written)", "problem (as written)"] if free_text else []
    for col in columns:
        table.add_column(col, justify="right" if col == "id" else "left")
    for r in rows:
        cells = [
            str(r["concern_id"]),
            r["reported_on"],
            r["place"] or "(unmatched)",
            r["problem_label"],
            r["source"],
            r["status"] + (f" {r['closed_on']}" if r["closed_on"] else ""),
        ]
        if free_text:
            cells += [r["where_text"] or "", r["problem_text"] or ""]
        table.add_row(*cells)
    out.print(table)


@concerns_app.command("unmatched")
def unmatched_(
    store: StoreOpt = None,
    area: OptionalAreaOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Open concerns whose place matched no street, with the closest police.uk places.

    Example: [bold]beatbook concerns unmatched --area Leicester[/bold]
    """
    from beatbook.concerns import records as concerns_mod

    with open_store(store) as st:
        rows = concerns_mod.unmatched(st, area=area)
    if json_out:
        print_json(rows)
        return
    _print_unmatched(rows, f"{len(rows)} unmatched concern{'' if len(rows) == 1 else 's'}")
    if rows:
        out.print('Fix one with: beatbook concerns match ID --place "Street name"')


@concerns_app.command("match")
def match_(
    concern_id: IdArg,
    store: StoreOpt = None,
    place: Annotated[str | None, typer.Option(help="Street of the concern's area.")] = None,
    latitude: Annotated[
        float | None, typer.Option(help="Latitude (WGS84), with --longitude.")
    ] = None,
    longitude: Annotated[
        float | None, typer.Option(help="Longitude (WGS84), with --latitude.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Set a concern's place by hand: a street name, or coordinates (nearest snap point).

    Example: [bold]beatbook concerns match 12 --place "Narborough Road"[/bold]
    """
    from beatbook.concerns import records as concerns_mod

    with open_store(store, writes_team=True) as st:
        result = concerns_mod.match(
            st, concern_id, place=place, latitude=latitude, longitude=longitude
        )
    if json_out:
        print_json(result)
        return
    out.print(f"concern {concern_id}: {result['place']} (LSOA {result['lsoa_code']})")


@concerns_app.command("close")
def close_(
    concern_id: IdArg,
    store: StoreOpt = None,
    on: Annotated[
        str | None, typer.Option(help="Date closed, YYYY-MM-DD or DD/MM/YYYY \\[default: today].")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Close a concern (dealt with, or no longer a problem).

    Example: [bold]beatbook concerns close 12 --on 2021-07-01[/bold]
    """
    from beatbook.concerns import records as concerns_mod

    with open_store(store, writes_team=True) as st:
        result = concerns_mod.close(st, concern_id, on=on)
    if json_out:
        print_json(result)
        return
    state = "closed" if result["changed"] else "already closed"
    out.print(f"concern {concern_id}: {state} on {result['closed_on']}")


def _print_unmatched(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title)
    for col in ("id", "reported", "where (as written)", "why", "closest places"):
        table.add_column(col, justify="right" if col == "id" else "left")
    for r in rows:
        table.add_row(
            str(r["concern_id"]),
            r["reported_on"] or "",
            r["where_text"] or "",
            r["note"] or "",
            "; ".join(r["suggestions"] or []),
        )
    out.print(table)
