"""``beatbook engagements``: street surveys, surgeries, school visits; iCalendar export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beatbook import engagements as engagements_mod
from beatbook.cli._common import JsonOpt, StoreOpt, app, open_store, out, print_json

engagements_app = typer.Typer(
    help="Engagements: street surveys, school visits, surgeries, ...; iCalendar export.",
    no_args_is_help=True,
)
app.add_typer(engagements_app, name="engagements")

ApiUrlOpt = Annotated[
    str, typer.Option("--api-url", help="police.uk API address (a mirror or test server).")
]
DayFromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
DayToOpt = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]


def _day(text: str | None, option: str) -> Any:
    from beatbook.operations import records as operations

    return None if text is None else operations.parse_date(text, option)


def _print_counts(counts: dict[str, int], json_out: bool) -> None:
    if json_out:
        print_json(counts)
    else:
        out.print(", ".join(f"{n} {status}" for status, n in counts.items()))


@engagements_app.command("add")
def engagements_add(
    when: Annotated[str, typer.Option("--when", help="Start, 'YYYY-MM-DD HH:MM' UK local time.")],
    place: Annotated[str, typer.Option("--place", help="Where: address, school, street.")],
    kind: Annotated[
        str, typer.Option("--kind", help=f"One of {', '.join(engagements_mod.KINDS)}.")
    ],
    area: Annotated[str, typer.Option("--area", help="Ward or area it is in.")],
    until: Annotated[
        str | None, typer.Option("--until", help="End: 'YYYY-MM-DD HH:MM' or 'HH:MM'.")
    ] = None,
    minutes: Annotated[
        int | None, typer.Option("--minutes", help="Length in minutes \\[default: 60].")
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Title \\[default: kind and place].")
    ] = None,
    notes: Annotated[
        str | None, typer.Option("--notes", help="Published description: no names or contacts.")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Add an engagement (the same start, place and kind again updates it).

    Example: [bold]beatbook engagements add --when "2025-03-29 10:00" --minutes 120 --place "Narborough Road" --kind street-survey --area "Westcotes (Leicester)"[/bold]
    """
    with open_store(store, writes_team=True) as st:
        item, status = engagements_mod.add_engagement(
            st,
            when=when,
            until=until,
            minutes=minutes,
            place=place,
            kind=kind,
            area=area,
            title=title,
            notes=notes,
        )
    out.print(
        f"{status}: {item.summary}, {item.starts:%Y-%m-%d %H:%M}-{item.ends:%H:%M} ({item.uid})",
        markup=False,
        highlight=False,
    )


@engagements_app.command("import")
def engagements_import(
    file: Annotated[Path, typer.Argument(help="CSV: start,end,kind,place,area,title,notes,id.")],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import engagements from a CSV file; one bad row refuses the file, re-importing is safe.

    Example: [bold]beatbook engagements import data/sample/operations/engagements.csv[/bold]
    """
    with open_store(store, writes_team=True) as st:
        counts = engagements_mod.import_csv(st, file)
    _print_counts(counts, json_out)


@engagements_app.command("import-api")
def engagements_import_api(
    force: Annotated[str, typer.Option("--force", help="police.uk force id, e.g. leicestershire.")],
    neighbourhood: Annotated[
        str, typer.Option("--neighbourhood", help="police.uk team id, e.g. NC04.")
    ],
    area: Annotated[
        str | None, typer.Option("--area", help="Area the events are in \\[default: none].")
    ] = None,
    api_url: ApiUrlOpt = "https://data.police.uk/api/",
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a police.uk neighbourhood team's published events.

    Example: [bold]beatbook engagements import-api --force leicestershire --neighbourhood NC04 --area "Castle (Leicester)"[/bold]
    """
    from beatbook.ingest.policeuk_api import PoliceUkApi

    with open_store(store, writes_team=True) as st, PoliceUkApi(api_url) as api:
        counts = engagements_mod.import_api(st, api, force, neighbourhood, area)
    _print_counts(counts, json_out)


@engagements_app.command("list")
def engagements_list(
    area: Annotated[
        str | None, typer.Option("--area", help="Only engagements in this area.")
    ] = None,
    from_: DayFromOpt = None,
    to: DayToOpt = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List engagements, oldest first.

    Example: [bold]beatbook engagements list --area Leicester --from 2025-03-01 --to 2025-03-31[/bold]
    """
    with open_store(store) as st:
        items = engagements_mod.list_engagements(st, area, _day(from_, "--from"), _day(to, "--to"))
    if json_out:
        print_json([e.to_dict() for e in items])
        return
    table = Table(title=f"{len(items)} engagements")
    for col in ("start", "end", "kind", "title", "place", "area"):
        table.add_column(col)
    for e in items:
        table.add_row(
            f"{e.starts:%Y-%m-%d %H:%M}",
            f"{e.ends:%H:%M}",
            e.kind,
            e.summary,
            e.place,
            e.area_name or "",
        )
    out.print(table)


@engagements_app.command("ical")
def engagements_ical(
    out_file: Annotated[Path, typer.Option("--out", help="iCalendar file to write (.ics).")],
    area: Annotated[
        str | None, typer.Option("--area", help="Only engagements in this area.")
    ] = None,
    from_: DayFromOpt = None,
    to: DayToOpt = None,
    store: StoreOpt = None,
) -> None:
    """Write engagements as an iCalendar file (stable UIDs: re-exports update, not duplicate).

    Example: [bold]beatbook engagements ical --out engagements.ics --area Leicester[/bold]
    """
    with open_store(store) as st:
        n = engagements_mod.write_ical(st, out_file, area, _day(from_, "--from"), _day(to, "--to"))
    out.print(f"wrote {n} engagements to {out_file}")
