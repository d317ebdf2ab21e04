"""The ``beatbook ops`` and ``beatbook engagements`` commands (registered on the CLI's app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beatbook import engagements as engagements_mod
from beatbook.cli import JsonOpt, StoreOpt, _print_json, app, err, out
from beatbook.errors import InputError
from beatbook.store import Store

ops_app = typer.Typer(
    help="Operations: dates, areas and results by area, with roll-ups that keep the "
    "area hierarchy honest.",
    no_args_is_help=True,
)
engagements_app = typer.Typer(
    help="Engagements: street surveys, school visits, surgeries, ...; iCalendar export.",
    no_args_is_help=True,
)
app.add_typer(ops_app, name="ops")
app.add_typer(engagements_app, name="engagements")

ByOpt = Annotated[
    str, typer.Option("--by", help="Who records it (name, collar number or team): kept in the audit.")
]
ApiUrlOpt = Annotated[
    str, typer.Option("--api-url", help="police.uk API address (a mirror or test server).")
]
DayFromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
DayToOpt = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]


def _day(text: str | None, option: str) -> Any:
    from beatbook import operations
    return None if text is None else operations.parse_date(text, option)


# --- ops -------------------------------------------------------------------------------------


@ops_app.command("add")
def ops_add(
    name: Annotated[str, typer.Argument(help="Operation name, e.g. 'Operation Nightjar'.")],
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    area: Annotated[list[str], typer.Option("--area", help="Area it worked in (repeatable).")],
    description: Annotated[str | None, typer.Option("--description", help="What it was for.")] = None,
    store: StoreOpt = None,
) -> None:
    """Define an operation (adding one of the same name again updates it).

    Example: [bold]beatbook ops add "Operation Nightjar" --from 2025-01-06 --to 2025-03-31 --area Leicester[/bold]
    """
    from beatbook import operations

    starts, ends = operations.parse_date(from_, "--from"), operations.parse_date(to, "--to")
    with Store(store) as st:
        op = operations.add_operation(st, name, starts, ends, area, description)
    out.print(f"operation {op.name!r}: {op.starts} to {op.ends}, {len(op.areas)} area(s)")


@ops_app.command("record")
def ops_record(
    name: Annotated[str, typer.Argument(help="Operation name.")],
    measure: Annotated[str, typer.Option("--measure", help="warrants, arrests, charged, custodial_months, safeguarding_visits or other:<label>.")],
    count: Annotated[int, typer.Option("--count", help="The count (0 or more).")],
    by: ByOpt,
    area: Annotated[str | None, typer.Option("--area", help="Area the count is for.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="The count is the operation's total.")] = False,
    store: StoreOpt = None,
) -> None:
    """Record (or replace) one result, refused if a part would exceed its whole.

    Example: [bold]beatbook ops record "Operation Nightjar" --all --measure warrants --count 141 --by "PC 2741"[/bold]
    """
    from beatbook import operations

    if all_ == (area is not None):
        raise InputError("ops record: give --area AREA or --all (the operation total)")
    with Store(store) as st:
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
    from beatbook import operations_csv

    with Store(store) as st:
        summary = operations_csv.import_files(st, files, by)
    if json_out:
        _print_json(summary.to_dict())
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
    from beatbook import operations

    with Store(store, read_only=True) as st:
        result = operations.rollup(st, name)
    if json_out:
        _print_json(result)
        return
    out.print(f"[bold]{result['operation']}[/bold], {result['from']} to {result['to']}; "
              f"areas: {', '.join(result['areas'])}", highlight=False)  # fmt: skip
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
    from beatbook import operations

    with Store(store, read_only=True) as st:
        rows = operations.list_operations(st)
    if json_out:
        _print_json(rows)
        return
    table = Table(title=f"{len(rows)} operations")
    for col in ("operation", "from", "to", "areas", "results"):
        table.add_column(col, justify="right" if col == "results" else "left")
    for r in rows:
        table.add_row(str(r["operation"]), str(r["from"]), str(r["to"]),
                      ", ".join(r["areas"]), str(r["results"]))  # fmt: skip
    out.print(table)


# --- engagements -----------------------------------------------------------------------------


def _print_counts(counts: dict[str, int], json_out: bool) -> None:
    if json_out:
        _print_json(counts)
    else:
        out.print(", ".join(f"{n} {status}" for status, n in counts.items()))


@engagements_app.command("add")
def engagements_add(
    when: Annotated[str, typer.Option("--when", help="Start, 'YYYY-MM-DD HH:MM' UK local time.")],
    place: Annotated[str, typer.Option("--place", help="Where: address, school, street.")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of {', '.join(engagements_mod.KINDS)}.")],
    area: Annotated[str, typer.Option("--area", help="Ward or area it is in.")],
    until: Annotated[str | None, typer.Option("--until", help="End: 'YYYY-MM-DD HH:MM' or 'HH:MM'.")] = None,
    minutes: Annotated[int | None, typer.Option("--minutes", help="Length in minutes \\[default: 60].")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title \\[default: kind and place].")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Published description: no names or contacts.")] = None,
    store: StoreOpt = None,
) -> None:
    """Add an engagement (the same start, place and kind again updates it).

    Example: [bold]beatbook engagements add --when "2025-03-29 10:00" --minutes 120 --place "Narborough Road" --kind street-survey --area "Westcotes (Leicester)"[/bold]
    """
    with Store(store) as st:
        item, status = engagements_mod.add_engagement(
            st, when=when, until=until, minutes=minutes, place=place, kind=kind, area=area,
            title=title, notes=notes,
        )  # fmt: skip
    out.print(f"{status}: {item.summary}, {item.starts:%Y-%m-%d %H:%M}-{item.ends:%H:%M} "
              f"({item.uid})", markup=False, highlight=False)  # fmt: skip


@engagements_app.command("import")
def engagements_import(
    file: Annotated[Path, typer.Argument(help="CSV: start,end,kind,place,area,title,notes,id.")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import engagements from a CSV file; one bad row refuses the file, re-importing is safe.

    Example: [bold]beatbook engagements import data/sample/operations/engagements.csv[/bold]
    """
    with Store(store) as st:
        counts = engagements_mod.import_csv(st, file)
    _print_counts(counts, json_out)


@engagements_app.command("import-api")
def engagements_import_api(
    force: Annotated[str, typer.Option("--force", help="police.uk force id, e.g. leicestershire.")],
    neighbourhood: Annotated[str, typer.Option("--neighbourhood", help="police.uk team id, e.g. NC04.")],
    area: Annotated[str | None, typer.Option("--area", help="Area the events are in \\[default: none].")] = None,
    api_url: ApiUrlOpt = "https://data.police.uk/api/",
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a police.uk neighbourhood team's published events.

    Example: [bold]beatbook engagements import-api --force leicestershire --neighbourhood NC04 --area "Castle (Leicester)"[/bold]
    """
    from beatbook.ingest.policeuk_api import PoliceUkApi

    with Store(store) as st, PoliceUkApi(api_url) as api:
        counts = engagements_mod.import_api(st, api, force, neighbourhood, area)
    _print_counts(counts, json_out)


@engagements_app.command("list")
def engagements_list(
    area: Annotated[str | None, typer.Option("--area", help="Only engagements in this area.")] = None,
    from_: DayFromOpt = None,
    to: DayToOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List engagements, oldest first.

    Example: [bold]beatbook engagements list --area Leicester --from 2025-03-01 --to 2025-03-31[/bold]
    """
    with Store(store, read_only=True) as st:
        items = engagements_mod.list_engagements(st, area, _day(from_, "--from"), _day(to, "--to"))
    if json_out:
        _print_json([e.to_dict() for e in items])
        return
    table = Table(title=f"{len(items)} engagements")
    for col in ("start", "end", "kind", "title", "place", "area"):
        table.add_column(col)
    for e in items:
        table.add_row(f"{e.starts:%Y-%m-%d %H:%M}", f"{e.ends:%H:%M}", e.kind, e.summary,
                      e.place, e.area_name or "")  # fmt: skip
    out.print(table)


@engagements_app.command("ical")
def engagements_ical(
    out_file: Annotated[Path, typer.Option("--out", help="iCalendar file to write (.ics).")],
    area: Annotated[str | None, typer.Option("--area", help="Only engagements in this area.")] = None,
    from_: DayFromOpt = None,
    to: DayToOpt = None,
    store: StoreOpt = None,
) -> None:
    """Write engagements as an iCalendar file (stable UIDs: re-exports update, not duplicate).

    Example: [bold]beatbook engagements ical --out engagements.ics --area Leicester[/bold]
    """
    with Store(store, read_only=True) as st:
        n = engagements_mod.write_ical(st, out_file, area, _day(from_, "--from"), _day(to, "--to"))
    out.print(f"wrote {n} engagements to {out_file}")
