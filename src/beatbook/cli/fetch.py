"""``beatbook fetch``: a team area's latest month from the police.uk API, before its file."""

from __future__ import annotations

from typing import Annotated

import typer

from beatbook.cli._common import AreaOpt, JsonOpt, StoreOpt, app, import_store, out, print_json
from beatbook.errors import InputError


@app.command()
def fetch(
    area: AreaOpt,
    month: Annotated[
        str, typer.Option("--month", help="YYYY-MM, or 'latest' (police.uk's newest month).")
    ] = "latest",
    force: Annotated[
        str | None,
        typer.Option(help="police.uk force id \\[default: the force policing the area]."),
    ] = None,
    api_url: Annotated[
        str, typer.Option(help="police.uk API address (a mirror or test server).")
    ] = "https://data.police.uk/api/",
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Fetch a team area's street crimes for a month from the police.uk API.

    Stored like the month's file, but for the area only: figures for areas inside it use
    the month, every other area (the force, its districts) treats it as missing. Fetching
    again replaces the fetch; importing the month's file later replaces it; a fetch never
    replaces a month imported from a file.

    Example: [bold]beatbook fetch --area "West Leicester" --month latest[/bold]
    """
    from beatbook import areas as areas_mod
    from beatbook.ingest.api_months import fetch_month
    from beatbook.ingest.policeuk_api import PoliceUkApi

    with import_store(store) as st, PoliceUkApi(api_url) as api:
        chosen = areas_mod.resolve(st, area)
        if chosen.force:
            raise InputError(
                f"--area {area!r} is a whole force area: the API serves located crimes by "
                "area only, so import the force's file for it (fetch is for a team's area)"
            )
        shape = areas_mod.outline(st, chosen)
        result = fetch_month(st, api, shape, areas_mod.reference(chosen), month, force=force)
    if json_out:
        print_json(result.to_dict())
        return
    replaced = "" if result.replaced_rows is None else f", replacing {result.replaced_rows:,} rows"
    out.print(
        f"{result.force} {result.month} for {result.coverage} from the police.uk API "
        f"(fetched {result.fetched_on}): {result.rows_stored:,} rows stored "
        f"({result.asb_rows:,} anti-social behaviour, {result.repeated_rows:,} repeated Crime IDs, "
        f"{result.no_lsoa:,} in no stored LSOA){replaced}; {result.quarantined:,} quarantined, "
        f"{result.btp_left_out:,} British Transport Police crimes left out",
        markup=False,
        highlight=False,
    )
