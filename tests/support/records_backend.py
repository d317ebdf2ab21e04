"""Where the web and priorities suites keep the team's records: ``--records-backend``.

``pytest --records-backend embedded`` (the default) runs them as they always ran: the team's
records are tables in each store's DuckDB file. ``--records-backend postgres`` runs the same
tests with every store those suites build keeping its team records in a fresh PostgreSQL
database: the store is built as before (records embedded in the file), then
:func:`attached` copies its embedded records (``records/copy.py``) into a new database and
the tests open it (:func:`open_store`), serve it (``create_app(path, database=...)``) or hand
it to the command line (:func:`cli_env`) with that database. ``make test`` runs both.

Each new database is a clone of an empty one at the newest revision (made once per test
process), so a store costs a clone and a copy, not a migration. The session's server is
``postgres_url`` (``tests/support/postgres.py``), started only on ``postgres``.

:class:`TeamSQL` runs the tests' own SQL on the team's tables wherever they are: DuckDB's
``?`` placeholders on both backends, rows as tuples, JSON columns as Python values (both
drivers parse them; ``CAST(col AS VARCHAR)`` gives the text). Crime data and the ONS tables stay in the DuckDB file: SQL on them stays there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from beatbook.records import schema
from beatbook.records.copy import copy_records
from beatbook.records.engine import DATABASE_ENV, Records, engine_url
from beatbook.store import Store
from beatbook.web.db import Database

OPTION = "--records-backend"
BACKENDS = ("embedded", "postgres")
EMBEDDED_ONLY = "the records are in the store file only with --records-backend embedded"


class Backend:
    """This test process's records backend, and on PostgreSQL the databases attached so far."""

    def __init__(self) -> None:
        self.name = "embedded"
        self.server: str | None = None  # the postgres_url of the session
        self.template: str | None = None  # an empty database at the newest revision
        self.databases: dict[Path, str] = {}  # store file -> its records' database URL

    @property
    def postgres(self) -> bool:
        return self.name == "postgres"

    def start(self, server: str) -> None:
        """Make the empty database every attached one is cloned from."""
        self.server = server
        self.template = "records_head_" + uuid.uuid4().hex[:8]
        _admin(server, f"CREATE DATABASE {self.template}")
        records = Records.from_url(_database_url(server, self.template))
        try:
            records.upgrade()
        finally:
            records.dispose()

    def stop(self) -> None:
        if self.server and self.template:
            _admin(self.server, f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")
        self.server = self.template = None


BACKEND = Backend()


def _admin(server: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(statement)


def _database_url(server: str, name: str) -> str:
    return urlunparse(urlparse(server)._replace(path="/" + name))


def _key(path: str | Path) -> Path:
    return Path(path).resolve()


@contextmanager
def attached(path: str | Path) -> Iterator[str | None]:
    """The URL of the database holding the team's records of the store file at ``path``, or
    None when they stay in the file (``embedded``).

    On ``postgres`` a new database is made with a copy of the file's embedded records (the
    file is closed) and dropped when the block ends; a store already attached keeps the
    database it has (the block that attached it drops it)."""
    if not BACKEND.postgres:
        yield None
        return
    key = _key(path)
    if key in BACKEND.databases:
        yield BACKEND.databases[key]
        return
    assert BACKEND.server and BACKEND.template, "the postgres backend was not started"
    name = "t_" + uuid.uuid4().hex[:16]
    _admin(BACKEND.server, f"CREATE DATABASE {name} TEMPLATE {BACKEND.template}")
    url = _database_url(BACKEND.server, name)
    try:
        target = Records.from_url(url)
        try:
            with Store(path, read_only=True) as source:
                copy_records(source.team_records, target)
        finally:
            target.dispose()
        BACKEND.databases[key] = url
        yield url
    finally:
        BACKEND.databases.pop(key, None)
        _admin(BACKEND.server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_of(path: str | Path) -> str | None:
    """The database attached to the store file at ``path`` (None: its records are in it)."""
    return BACKEND.databases.get(_key(path))


def open_store(path: str | Path, *, read_only: bool = False) -> Store:
    """``Store(path)`` with its team's records where this run keeps them."""
    return Store(path, read_only=read_only, database=database_of(path))


def cli_env(path: str | Path) -> dict[str, str]:
    """The environment that points ``beatbook --store path`` at the store's records."""
    url = database_of(path)
    return {DATABASE_ENV: url} if url else {}


# --- the tests' own SQL on the team's tables ---------------------------------------------------


class Rows:
    """A query's rows, read like a DuckDB result (``fetchone``, ``fetchall``)."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None


class TeamSQL:
    """Plain SQL (no BeatBook code) on the team's tables, on the backend that holds them.

    Statements use DuckDB's ``?`` placeholders on both backends and each runs in a
    transaction of its own. Embedded, the store's own DuckDB instance runs them (one
    process writes a DuckDB file); on PostgreSQL, a connection of this object's own."""

    def __init__(self, engine: sa.Engine, *, owned: bool = False) -> None:
        self.engine, self._owned = engine, owned

    @classmethod
    def of(cls, store: Store) -> TeamSQL:
        """SQL on the records of an open store."""
        if store.database is None:
            return cls(store.team_records.engine)
        return cls.at(store.database)

    @classmethod
    def of_app(cls, db: Database) -> TeamSQL:
        """SQL on the records of a running app (its ``app.state.db``)."""
        if db.database is None:
            return cls(db.records.engine)
        return cls.at(db.database)

    @classmethod
    def at(cls, url: str) -> TeamSQL:
        """SQL on the records in the PostgreSQL database at ``url``."""
        return cls(sa.create_engine(engine_url(url), poolclass=NullPool), owned=True)

    @property
    def dialect(self) -> str:
        """``duckdb`` or ``postgresql``."""
        return self.engine.dialect.name

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Rows:
        if self.dialect == "postgresql":  # psycopg reads %s (and %% for a percent sign)
            sql = sql.replace("%", "%%").replace("?", "%s")
        with self.engine.begin() as c:
            result = c.exec_driver_sql(sql, tuple(params or ()))
            return Rows([tuple(r) for r in result.all()] if result.returns_rows else [])

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.execute(sql, params).fetchone()
        assert row is not None, sql
        return row[0]

    @staticmethod
    def tables() -> list[str]:
        """The team's tables (every one the records' schema names)."""
        return sorted(schema.metadata.tables)

    def close(self) -> None:
        if self._owned:
            self.engine.dispose()

    def __enter__(self) -> TeamSQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def team_sql_of(path: str | Path) -> Iterator[TeamSQL]:
    """SQL on the team's records of the (closed) store file at ``path``, wherever they are."""
    url = database_of(path)
    if url is not None:
        with TeamSQL.at(url) as sql:
            yield sql
        return
    with Store(path, read_only=True) as st, TeamSQL.of(st) as sql:
        yield sql
