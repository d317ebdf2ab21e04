"""What every command module shares: the Typer app, consoles, options and printers.

Command modules import from here and register on :data:`app`; :mod:`beatbook.cli.main`
imports them all and runs the app, so nothing imports back up from ``main``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from beatbook.records.engine import DATABASE_ENV
from beatbook.store import STORE_ENV, Store

app = typer.Typer(
    help="BeatBook: honest crime statistics from police.uk data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _global(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="DuckDB store file for any command (same as BEATBOOK_STORE)."),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            metavar="URL",
            help="The team's records in this PostgreSQL database (postgresql://…), not in the "
            "store file (same as BEATBOOK_DATABASE).",
        ),
    ] = None,
) -> None:
    """BeatBook: honest crime statistics from police.uk data."""
    if store is not None:
        os.environ[STORE_ENV] = str(store)
    if database is not None:
        os.environ[DATABASE_ENV] = database


def database_url() -> str | None:
    """Where the team's records are: a database URL, or None for the store file itself."""
    return os.environ.get(DATABASE_ENV) or None


@contextmanager
def import_store(store: Path | None) -> Iterator[Store]:
    """The store for a command that imports crime or reference data: the file itself, or with
    a database a copy switched in whole when it is complete (``snapshots.import_target``)."""
    from beatbook.snapshots import import_target

    with import_target(store, database_url()) as st:
        yield st


def open_store(store: Path | None, *, writes_team: bool = False) -> Store:
    """The store for a command that reads, or writes only the team's records. With a
    database the records are written there and the file is only read, so the command runs
    while the desk or an import has the file open."""
    database = database_url()
    return Store(store, read_only=not writes_team or database is not None, database=database)


out = Console()
err = Console(stderr=True)

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store", envvar=STORE_ENV, help="DuckDB store file \\[default: ./beatbook.duckdb]."
    ),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar=DATABASE_ENV,
        metavar="URL",
        help="The team's records in this PostgreSQL database (postgresql://…) \\[default: in the "
        "store file].",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
AreaOpt = Annotated[
    str, typer.Option("--area", help="Area name or code (see 'beatbook areas list').")
]
FromOpt = Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")]
ToOpt = Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")]
PopYearOpt = Annotated[
    int | None,
    typer.Option(
        "--population-year", help="Mid-year population estimate to use \\[default: nearest]."
    ),
]

MeasureOpt = Annotated[
    str,
    typer.Option(
        "--measure",
        help="'crime': every crime type, anti-social behaviour excluded; 'asb': anti-social "
        "behaviour incidents. Never the two added together.",
    ),
]


def print_json(payload: Any) -> None:
    """Print one JSON document (the shape each command documents in docs/cli.md)."""
    if not out.is_terminal:  # piped: the same text, without Rich laying out every token
        sys.stdout.write(json.dumps(payload, default=str, indent=2, ensure_ascii=False) + "\n")
        return
    out.print_json(json.dumps(payload, default=str), sort_keys=False)
