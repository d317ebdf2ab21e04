"""``beatbook export``: the store as Hive-partitioned Parquet for DuckDB, Polars, pandas, Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beatbook.cli._common import JsonOpt, StoreOpt, app, open_store, out, print_json


@app.command("export")
def export(
    parquet: Annotated[
        Path, typer.Option("--parquet", help="Folder to write (replaced whole if it exists).")
    ],
    kind: Annotated[
        list[str] | None,
        typer.Option(help="street, outcomes or stop-and-search (repeatable) \\[default: all]."),
    ] = None,
    force: Annotated[
        list[str] | None, typer.Option(help="police.uk force id (repeatable) \\[default: all].")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the stored rows as Parquet partitioned kind=/force=/month=, with the counting rules' columns.

    Example: [bold]beatbook export --parquet national-parquet --kind street --from 2025-01[/bold]
    """
    from beatbook.export import export_parquet

    with open_store(store) as st:
        done = export_parquet(st, parquet, kinds=kind or [], forces=force or [], from_=from_, to=to)
    if json_out:
        print_json(done)
        return
    rows = ", ".join(f"{n:,} {k}" for k, n in done["rows"].items())
    out.print(
        f"wrote {rows} rows in {done['partitions']:,} partitions ({done['bytes'] / 1e6:,.1f} MB) "
        f"to {done['folder']} in {done['seconds']} s"
    )
