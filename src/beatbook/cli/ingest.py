"""``beatbook ingest``: police.uk CSVs into the store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.table import Table
from rich.text import Text

from beatbook import settings
from beatbook.cli._common import JsonOpt, StoreOpt, app, err, import_store, out, print_json
from beatbook.errors import ReplaceRefusedError

if TYPE_CHECKING:
    from beatbook.ingest.files import FileResult


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        rows, elapsed = task.fields.get("rows", 0), task.elapsed or 0.0
        return Text(f"{rows / elapsed:>9,.0f} rows/s" if rows and elapsed else "")


class _Bars:
    """The import's progress on stderr: the files checked, then a bar per month naming the
    force and kind being stored, with rows per second."""

    def __init__(self, bars: Progress) -> None:
        self.bars = bars
        self.checking: TaskID | None = None
        self.current: TaskID | None = None
        self.label = ""

    def scanned(self, name: str) -> None:
        if self.checking is None:
            self.checking = self.bars.add_task("checking", total=None)
        self.bars.update(self.checking, description=f"checking {Path(name).name}", advance=1)

    def month(self, month: str | None, files: int) -> None:
        if self.checking is not None:
            self.bars.update(self.checking, visible=False)
        self.label = month or "other files"
        self.current = self.bars.add_task(self.label, total=files, rows=0)

    def done(self, result: FileResult) -> None:
        if self.current is None:
            return
        rows = self.bars.tasks[self.current].fields["rows"] + result.rows_stored
        self.bars.update(
            self.current,
            advance=1,
            rows=rows,
            description=f"{self.label} {result.force} {result.kind}",
        )


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

    Takes police.uk's archive zips as published (month folders of every force's files):
    of overlapping archives the newest publication of a month wins. Re-importing a month
    replaces it, but only with that month's own file, and never with markedly fewer rows
    unless you say [bold]--replace[/bold]; importing the same files twice changes nothing.
    Each month is stored in one transaction: a bad file stops the import and leaves its
    month as it was; run it again once put right, and the months stored are skipped.

    Example: [bold]beatbook ingest data/sample/police-uk[/bold]
    """
    from beatbook.ingest.files import result_notes
    from beatbook.ingest.policeuk_csv import ingest as ingest_files

    with import_store(store) as st:
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RowsPerSecond(),
            console=err,
            disable=json_out or not err.is_terminal,
        )
        with progress:
            try:
                results = ingest_files(
                    st, paths, force=force, replace=replace, progress=_Bars(progress)
                )
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
        table.add_row(
            Path(r.file).name,
            r.kind,
            r.force,
            ", ".join(r.months),
            f"{r.rows_stored:,}",
            f"{r.rows_quarantined:,}",
            r.status_text(),
        )
    out.print(table)
    total_q = sum(r.rows_quarantined for r in results)
    out.print(
        f"{sum(r.rows_stored for r in results):,} rows stored, {total_q:,} quarantined"
        + (" (see the quarantine table for file, line and reason)" if total_q else "")
    )
    for note in result_notes(results):
        out.print(note)
