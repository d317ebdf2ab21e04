"""``beatbook ingest``: police.uk CSVs into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from beatbook.cli._common import JsonOpt, StoreOpt, app, err, out, print_json
from beatbook.store import Store


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
        print_json([r.to_dict() for r in results])
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
    repeated = sum(r.rows_repeated for r in results)
    out.print(
        f"{sum(r.rows_stored for r in results):,} rows stored, {total_q:,} quarantined"
        + (" (see the quarantine table for file, line and reason)" if total_q else "")
    )
    if repeated:
        out.print(
            f"{repeated:,} stored rows repeat a Crime ID already in their month: kept, and "
            "counted once (docs/statistics.md, counting rules)"
        )
