"""``beatbook ingest``: police.uk CSVs into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from beatbook import settings
from beatbook.cli._common import JsonOpt, StoreOpt, app, err, out, print_json
from beatbook.errors import ReplaceRefusedError
from beatbook.store import Store


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="CSV, .csv.gz, folders or police.uk zips.")],
    store: StoreOpt = None,
    force: Annotated[
        str | None, typer.Option(help="police.uk force id when the file name doesn't say.")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace stored months even where the new file has more than "
            f"{settings.SHRINK_TOLERANCE:.0%} fewer rows (refused otherwise).",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Import police.uk street, outcomes and stop-and-search CSVs.

    Re-importing a month replaces it, but only with that month's own file, and never
    with markedly fewer rows unless you say [bold]--replace[/bold]; importing the same
    files twice changes nothing. A bad file aborts the whole import and leaves the store
    as it was.

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

            try:
                results = ingest_files(st, paths, force=force, replace=replace, on_file=on_file)
            except ReplaceRefusedError as exc:
                if not json_out:
                    raise
                print_json({"error": str(exc), "refused": exc.refused})
                raise typer.Exit(exc.exit_code) from None
    if json_out:
        print_json([r.to_dict() for r in results])
        return
    table = Table(title="Imported")
    for col in ("file", "kind", "force", "month", "rows stored", "rows quarantined", "status"):
        table.add_column(col, justify="right" if col.startswith("rows") else "left")
    for r in results:
        status = r.status
        for change in r.replacements:
            status += f", replaced {change['rows_before']:,} -> {change['rows_after']:,} rows"
        if r.duplicate_of:
            status += f" of {Path(r.duplicate_of).name}"
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
    for r in results:
        if r.stray_rows:
            strays = ", ".join(f"{m}: {n:,}" for m, n in sorted(r.stray_rows.items()))
            out.print(
                f"{Path(r.file).name}: {sum(r.stray_rows.values()):,} rows of other months "
                f"({strays}) quarantined, not stored: a file replaces only its own month"
            )
        if r.empty_lines:
            out.print(f"{Path(r.file).name}: {r.empty_lines:,} empty lines skipped")
    if repeated:
        out.print(
            f"{repeated:,} stored rows repeat a Crime ID already in their month: kept, and "
            "counted once (docs/statistics.md, counting rules)"
        )
