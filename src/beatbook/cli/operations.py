"""``beatbook ops``: operations, their results by area, and roll-ups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from beatbook.cli._common import JsonOpt, StoreOpt, app, err, open_store, out, print_json
from beatbook.errors import InputError

ops_app = typer.Typer(
    help="Operations: dates, areas and results by area, with roll-ups that keep the "
    "area hierarchy honest.",
    no_args_is_help=True,
)
app.add_typer(ops_app, name="ops")

ByOpt = Annotated[
    str,
    typer.Option("--by", help="Who records it (name, collar number or team): kept in the audit."),
]


@ops_app.command("add")
def ops_add(
    name: Annotated[str, typer.Argument(help="Operation name, e.g. 'Operation Nightjar'.")],
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    area: Annotated[list[str], typer.Option("--area", help="Area it worked in (repeatable).")],
    description: Annotated[
        str | None, typer.Option("--description", help="What it was for.")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Define an operation (adding one of the same name again updates it).

    Example: [bold]beatbook ops add "Operation Nightjar" --from 2025-01-06 --to 2025-03-31 --area Leicester[/bold]
    """
    from beatbook.operations import records as operations

    starts, ends = operations.parse_date(from_, "--from"), operations.parse_date(to, "--to")
    with open_store(store, writes_team=True) as st:
        op = operations.add_operation(st, name, starts, ends, area, description)
    out.print(f"operation {op.name!r}: {op.starts} to {op.ends}, {len(op.areas)} area(s)")


@ops_app.command("record")
def ops_record(
    name: Annotated[str, typer.Argument(help="Operation name.")],
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            help="warrants, arrests, charged, custodial_months, safeguarding_visits or other:<label>.",
        ),
    ],
    count: Annotated[int, typer.Option("--count", help="The count (0 or more).")],
    by: ByOpt,
    area: Annotated[str | None, typer.Option("--area", help="Area the count is for.")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="The count is the operation's total.")
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Record (or replace) one result, refused if a part would exceed its whole.

    Example: [bold]beatbook ops record "Operation Nightjar" --all --measure warrants --count 141 --by "PC 2741"[/bold]
    """
    from beatbook.operations import records as operations

    if all_ == (area is not None):
        raise InputError("ops record: give --area AREA or --all (the operation total)")
    with open_store(store, writes_team=True) as st:
        changed = operations.record_result(st, name, area, measure, count, by)
    where = "the whole operation" if all_ else area
    out.print(f"{'recorded' if changed else 'unchanged'}: {measure} {count:,} for {where}")


@ops_app.command("import")
def ops_import(
    files: Annotated[list[Path], typer.Argument(help="Operations and/or results CSV files.")],
    by: ByOpt,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import operations (operation,from,to,areas,description) and results (operation,area,measure,count).

    All files are checked together and written in one transaction; any bad row refuses them all.

    Example: [bold]beatbook ops import data/sample/operations/operations.csv data/sample/operations/results.csv --by "PC 2741"[/bold]
    """
    from beatbook.operations import csv_import as operations_csv

    with open_store(store, writes_team=True) as st:
        summary = operations_csv.import_files(st, files, by)
    if json_out:
        print_json(summary.to_dict())
        return
    out.print(
        f"operations: {summary.operations_added} added, {summary.operations_updated} updated; "
        f"results: {summary.results_changed} recorded, {summary.results_unchanged} unchanged"
    )


@ops_app.command("show")
def ops_show(
    name: Annotated[str, typer.Argument(help="Operation name.")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """An operation's results by measure: totals, each area's share, what no area accounts for.

    Example: [bold]beatbook ops show "Operation Nightjar"[/bold]
    """
    from beatbook.operations import records as operations

    with open_store(store) as st:
        result = operations.rollup(st, name)
    if json_out:
        print_json(result)
        return
    out.print(
        f"[bold]{result['operation']}[/bold], {result['from']} to {result['to']}; "
        f"areas: {', '.join(result['areas'])}",
        highlight=False,
    )
    if result["description"]:
        out.print(result["description"], markup=False)
    for m in result["measures"]:
        out.print(f"\n[bold]{m['measure']}[/bold]")
        for line in m["text"]:
            out.print(f"  {line}", markup=False, highlight=False)
    if not result["measures"]:
        out.print("no results recorded yet")
    for problem in result["violations"]:
        err.print(f"warning: {problem} (an area was redefined since)", markup=False)


@ops_app.command("list")
def ops_list(store: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """Every operation with its dates, areas and number of results.

    Example: [bold]beatbook ops list[/bold]
    """
    from beatbook.operations import records as operations

    with open_store(store) as st:
        rows = operations.list_operations(st)
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} operations")
    for col in ("operation", "from", "to", "areas", "results"):
        table.add_column(col, justify="right" if col == "results" else "left")
    for r in rows:
        table.add_row(
            str(r["operation"]),
            str(r["from"]),
            str(r["to"]),
            ", ".join(r["areas"]),
            str(r["results"]),
        )
    out.print(table)
