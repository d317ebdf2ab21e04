"""``beatbook db current | upgrade | downgrade | copy`` and ``--database`` (issue 20), in-process
on a copy of the real store and a fresh PostgreSQL database: a team's records copied from its
store file arrive whole (counted independently on both sides), ids go on past the copied ones,
and with a database the team's commands write while another process holds the store file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest
from typer.testing import CliRunner, Result

from beatbook.cli.main import app
from beatbook.errors import InputError
from beatbook.records import migrations
from beatbook.records.engine import DATABASE_ENV
from beatbook.records.schema import metadata
from beatbook.store import STORE_ENV
from support.fixtures_store import ROOT
from support.postgres import fresh_database

SAMPLE = ROOT / "data" / "sample"
PASSWORD = "correct horse battery staple"


def run(*args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(
        app, list(args), input=stdin, env={STORE_ENV: None, DATABASE_ENV: None, "COLUMNS": "200"}
    )
    return result


@pytest.fixture
def store(sample_store_path: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_store_path, copy)
    return copy


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    with fresh_database(postgres_url) as url:
        yield url


def _psycopg(url: str) -> str:
    return url  # fresh_database gives a plain postgresql:// URL psycopg takes as it is


def test_current_upgrade_and_downgrade(store: Path, database: str) -> None:
    embedded = run("--store", str(store), "db", "current", "--json")
    assert embedded.exit_code == 0, embedded.output
    assert json.loads(embedded.output)["revision"] == migrations.HEAD

    before = run("db", "current", "--database", database, "--json")
    assert json.loads(before.output) == {
        "where": json.loads(before.output)["where"],
        "revision": None,
        "newest": migrations.HEAD,
    }
    assert run("db", "upgrade", "--database", database).exit_code == 0
    with psycopg.connect(_psycopg(database)) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (migrations.HEAD,)
        ]
        tables = {
            name
            for (name,) in c.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            )
        }
    assert set(metadata.tables) <= tables

    refused = run("db", "downgrade", "base", "--database", database)
    assert isinstance(refused.exception, InputError) and "add --yes" in str(refused.exception)
    unknown = run("db", "downgrade", "0999", "--yes", "--database", database)
    assert "no revision '0999'" in str(unknown.exception)
    down = run("--database", database, "db", "downgrade", "base", "--yes")  # the global option
    assert down.exit_code == 0, down.output
    with psycopg.connect(_psycopg(database)) as c:
        left = c.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema='public' "
            "AND table_name <> 'alembic_version'"
        ).fetchone()
    assert left == (0,)


def _fill(store: Path) -> None:
    """The team's records as the demo makes them, embedded in the store file."""
    steps = [
        ("users", "add", "boss", "--role", "admin", "--password-stdin"),
        (
            "areas",
            "add",
            "West Leicester",
            "--ward",
            "Westcotes (Leicester)",
            "--ward",
            "Fosse (Leicester)",
            "--ward",
            "Western (Leicester)",
        ),
        (
            "concerns",
            "import",
            str(SAMPLE / "concerns" / "leicester-concerns.csv"),
            "--area",
            "Leicester",
        ),
        (
            "ops",
            "import",
            str(SAMPLE / "operations" / "operations.csv"),
            str(SAMPLE / "operations" / "results.csv"),
            "--by",
            "PC 2741",
        ),
        ("engagements", "import", str(SAMPLE / "operations" / "engagements.csv")),
    ]
    for step in steps:
        result = run("--store", str(store), *step, stdin=PASSWORD + "\n")
        assert result.exit_code == 0, (step, result.output)


def _counts_duckdb(store: Path) -> dict[str, int]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in metadata.tables}
    finally:
        con.close()


def _counts_postgres(url: str) -> dict[str, int]:
    with psycopg.connect(url) as c:
        return {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in metadata.tables}


def test_copy_moves_every_record_and_ids_go_on(store: Path, database: str) -> None:
    _fill(store)
    source = _counts_duckdb(store)
    assert min(source[t] for t in ("users", "concerns", "concern_contacts", "operations")) > 0
    assert source["operation_results"] > 0 and source["engagements"] > 0
    assert source["custom_areas"] == 1

    copied = run("db", "copy", "--from-store", str(store), "--database", database, "--json")
    assert copied.exit_code == 0, copied.output
    assert json.loads(copied.output)["copied"] == source
    assert _counts_postgres(database) == source
    with psycopg.connect(database) as c:
        highest = c.execute("SELECT max(concern_id) FROM concerns").fetchone()[0]
        assert c.execute("SELECT nextval('concern_ids')").fetchone()[0] == highest + 1
        contacts = c.execute(
            "SELECT count(*) FROM concern_contacts JOIN concerns USING (concern_id)"
        ).fetchone()[0]
    assert contacts == source["concern_contacts"]  # each contact still beside its concern

    again = run("db", "copy", "--from-store", str(store), "--database", database)
    assert isinstance(again.exception, InputError)
    assert "already holds records in" in str(again.exception)
    assert _counts_postgres(database) == source  # nothing doubled


def test_with_a_database_the_team_writes_while_the_store_file_is_held(
    store: Path, database: str
) -> None:
    """Another process's read-only hold on the file (the desk, a report) blocks a write open of
    it; with --database a team command only reads the file and writes PostgreSQL."""
    held = duckdb.connect(str(store), read_only=True)
    try:
        blocked = run(
            "--store",
            str(store),
            "users",
            "add",
            "ana",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert blocked.exit_code != 0
        added = run(
            "--store",
            str(store),
            "--database",
            database,
            "users",
            "add",
            "ana",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert added.exit_code == 0, added.output
        listed = run("--store", str(store), "--database", database, "users", "list", "--json")
        assert [u["username"] for u in json.loads(listed.output)] == ["ana"]
    finally:
        held.close()
    with psycopg.connect(database) as c:
        assert c.execute("SELECT username, role FROM users").fetchall() == [("ana", "admin")]
    assert _counts_duckdb(store)["users"] == 0  # the file's own records untouched
