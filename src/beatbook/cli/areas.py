"""``beatbook areas``: ONS lookups, populations, boundaries and the team's own areas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from beatbook.cli._common import JsonOpt, StoreOpt, app, import_store, open_store, out, print_json

areas_app = typer.Typer(
    help="Define and list areas: local authorities, wards, LSOA sets, polygons.",
    no_args_is_help=True,
)
app.add_typer(areas_app, name="areas")


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

    with import_store(store) as st:
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

    with import_store(store) as st:
        summary = ons.import_population(st, file, year)
    out.print(summary)


@areas_app.command("import-boundaries")
def import_boundaries(
    file: Annotated[
        Path, typer.Argument(help="GeoJSON (.geojson or .geojson.gz) of LSOA polygons.")
    ],
    store: StoreOpt = None,
) -> None:
    """Load LSOA boundaries (WGS84 GeoJSON, LSOA11CD/LSOA21CD properties): grids are clipped to them.

    Example: [bold]beatbook areas import-boundaries data/sample/ons/boundaries/lsoa11-E06000016-leicester.geojson.gz[/bold]
    """
    from beatbook.ingest.boundaries import import_boundaries as load

    with import_store(store) as st:
        n = load(st, file)
    out.print(f"{n:,} LSOA boundaries loaded from {file}")


@areas_app.command("import-postcodes")
def import_postcodes(
    file: Annotated[
        Path, typer.Argument(help="ONS postcode directory, NSPL or ONSPD (.csv, .csv.gz, .zip).")
    ],
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Load an ONS postcode directory: postcode search, and postcode areas ('LE') and districts ('LE3') as areas.

    Example: [bold]beatbook areas import-postcodes data/sample/ons/nspl-nov2021-hr-ld-extract.csv.gz[/bold]
    """
    from beatbook.ingest.postcodes import import_postcodes as load

    with import_store(store) as st:
        loaded = load(st, file)
    if json_out:
        print_json(loaded)
        return
    out.print(loaded["summary"])


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

    with open_store(store, writes_team=True) as st, PoliceUkApi(api_url) as api:
        area = areas_mod.add_area(
            st,
            name,
            lsoas=lsoa or [],
            wards=ward or [],
            geojson=geojson,
            neighbourhood=neighbourhood,
            api=api,
        )
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

    with open_store(store) as st:
        rows = [a.to_dict() for a in areas_mod.list_areas(st) if kind in (None, a.kind)]
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} areas")
    for col in ("name", "kind", "code", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["name"]), str(r["kind"]), str(r["code"] or ""), str(r["description"]))
    out.print(table)
