"""The ``beatbook db`` commands: the team's records' migrations, and moving a team's records
from its store file into PostgreSQL (registered on ``app``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from beatbook.cli._common import DatabaseOpt, JsonOpt, StoreOpt, app, out, print_json
from beatbook.errors import InputError
from beatbook.records import migrations
from beatbook.records.engine import Records
from beatbook.store import Store, embedded_records_revision

db_app = typer.Typer(
    help="The team's records: their migrations, and moving them into PostgreSQL.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


@contextmanager
def _records(store: Path | None, url: str | None) -> Iterator[Records]:
    """The records in the database at ``url``, or those in the store file."""
    if url is not None:
        records = Records.from_url(url)
        try:
            yield records
        finally:
            records.dispose()
        return
    with Store(store) as st:  # opening for writing brings them to the newest revision
        yield st.team_records


@db_app.command("current")
def db_current(
    store: StoreOpt = None, database: DatabaseOpt = None, json_out: JsonOpt = False
) -> None:
    """Say where the team's records are and which migration they are at (changes nothing).

    Example: [bold]beatbook db current --database postgresql://beatbook@/beatbook[/bold]
    """
    url = database
    if url is None:
        where, revision = str(store or "the store file"), embedded_records_revision(store)
    else:
        records = Records.from_url(url)
        try:
            where, revision = records.where, records.revision()
        finally:
            records.dispose()
    payload = {"where": where, "revision": revision, "newest": migrations.HEAD}
    if json_out:
        print_json(payload)
        return
    state = "up to date" if revision == migrations.HEAD else f"newest is {migrations.HEAD}"
    out.print(f"{where}: revision {revision or 'none'} ({state})", markup=False)


@db_app.command("upgrade")
def db_upgrade(store: StoreOpt = None, database: DatabaseOpt = None) -> None:
    """Bring the team's records to the newest revision (all of it, or nothing). Workers of
    'beatbook serve' and every command do this on first use too.

    Example: [bold]beatbook db upgrade --database postgresql://beatbook@/beatbook[/bold]
    """
    with _records(store, database) as records:
        if records.revision() != migrations.HEAD:
            records.upgrade()
        out.print(f"{records.where}: revision {records.revision()}", markup=False)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="The revision to go back to; 'base' drops all.")],
    store: StoreOpt = None,
    database: DatabaseOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: what later revisions added is dropped.")
    ] = False,
) -> None:
    """Take the team's records back to an older revision, to run an older BeatBook. What the
    later revisions added (tables, columns) is dropped with its rows.

    Example: [bold]beatbook db downgrade 0001 --yes --database postgresql://beatbook@/beatbook[/bold]
    """
    if not yes:
        raise InputError("downgrade drops what later revisions added, rows too: add --yes")
    if revision != "base" and not any((migrations.LOCATION / "versions").glob(f"{revision}_*.py")):
        raise InputError(f"no revision {revision!r}: give one of 'beatbook db current' or base")
    with _records(store, database) as records:
        records.downgrade(revision)
        out.print(f"{records.where}: revision {records.revision() or 'none'}", markup=False)


@db_app.command("copy")
def db_copy(
    from_store: Annotated[
        Path, typer.Option("--from-store", help="The store file whose team's records to copy.")
    ],
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy the team's records (users, sessions, concerns, priorities, operations, …) from a
    store file into the empty PostgreSQL database --database names, in one transaction.

    Example: [bold]beatbook db copy --from-store beatbook.duckdb --database postgresql://beatbook@/beatbook[/bold]
    """
    from beatbook.records.copy import copy_records

    if database is None:
        raise InputError("give the database to copy into: --database URL (or BEATBOOK_DATABASE)")
    target = Records.from_url(database)
    try:
        if target.revision() != migrations.HEAD:
            target.upgrade()
        with Store(from_store, read_only=True) as source:
            copied = copy_records(source.team_records, target)
    finally:
        target.dispose()
    if json_out:
        print_json({"copied": copied})
        return
    for table, n in copied.items():
        out.print(f"{table}: {n}", markup=False)
