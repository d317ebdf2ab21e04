"""Where the team's records live: :class:`Records`, one SQLAlchemy engine and its migrations.

Two backends, one schema (``records/schema.py``) and one migration history (``migrations/``):

* **embedded** (the default): the records are tables in the store's own DuckDB file. The engine
  shares the :class:`~beatbook.store.Store`'s DuckDB instance, each checkout a new cursor of it
  (a second ``duckdb:///path`` engine in the same process is refused by DuckDB), so a
  transaction here can also run raw DuckDB SQL (:func:`duckdb_of`) and both commit or roll
  back together. DuckDB has one writing process; the app serialises its writers.
* **PostgreSQL**, from a ``postgresql://…`` URL (psycopg 3).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from beatbook.errors import NUL_PROBLEM, InputError
from beatbook.records import migrations

T = TypeVar("T")
DATABASE_ENV = "BEATBOOK_DATABASE"  # the team's records' database URL (none: in the store)

# PostgreSQL's answers to two transactions that cannot both stand: a serialization failure,
# a deadlock, a unique key taken by the other. The loser runs again on the new state.
RETRY_SQLSTATES = frozenset({"40001", "40P01", "23505"})
ATTEMPTS = 30


def engine_url(url: str) -> str:
    """A database URL as SQLAlchemy takes it: ``postgresql://`` gets psycopg 3 named."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


class Records:
    """The team's records on one backend. ``begin()`` runs a block in one transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        sa.event.listen(engine, "before_cursor_execute", refuse_nul)

    @classmethod
    def embedded(cls, con: duckdb.DuckDBPyConnection) -> Records:
        """The records in a DuckDB database already open as ``con`` (the store's instance)."""
        from duckdb_engine import ConnectionWrapper

        engine = sa.create_engine(
            "duckdb://",
            creator=lambda: ConnectionWrapper(con.cursor()),  # a new cursor per checkout
            poolclass=NullPool,
            hide_parameters=True,  # errors never quote a row: residents' contacts are in some
        )
        return cls(engine)

    @classmethod
    def from_url(cls, url: str) -> Records:
        """The records in the database at ``url`` (``postgresql://…``). Every transaction is
        SERIALIZABLE: checks such as "one running priority per place" hold with many writers."""
        engine = sa.create_engine(
            engine_url(url),
            pool_pre_ping=True,
            isolation_level="SERIALIZABLE",
            hide_parameters=True,  # errors never quote a row: residents' contacts are in some
        )
        return cls(engine)

    @property
    def where(self) -> str:
        """The database, for messages: never its password."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``duckdb`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection for reading (its reads see one snapshot on PostgreSQL)."""
        with self.engine.connect() as connection:
            yield connection

    def transact(self, work: Callable[[sa.Connection], T]) -> T:
        """``work(connection)`` in one transaction, run again when PostgreSQL refuses it for a
        concurrent one (:data:`RETRY_SQLSTATES`), so ``work`` must do nothing but SQL.

        Embedded, writers are serialised by the app (one process writes DuckDB; the web app
        holds a lock), so the first run stands or its error is raised."""
        for attempt in range(ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    return work(connection)
            except sa.exc.DBAPIError as exc:
                state = getattr(exc.orig, "sqlstate", None)
                if state not in RETRY_SQLSTATES or attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.002 * 2 ** min(attempt, 7))
        raise AssertionError("unreachable")

    def revision(self) -> str | None:
        """The migration revision the records are at, or None before the first."""
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table(migrations.VERSION_TABLE):
                return None
            table = sa.table(migrations.VERSION_TABLE, sa.column("version_num"))
            found = connection.execute(sa.select(table.c.version_num)).first()
        return None if found is None else str(found[0])

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the records up to ``revision`` (all of it, or nothing)."""
        self._alembic("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        """Migrate the records down to ``revision`` (``base``: drop every table, rows too)."""
        self._alembic("downgrade", revision)

    def _alembic(self, command: str, revision: str) -> None:
        from alembic import command as commands
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(migrations.LOCATION))
        with self.engine.connect() as connection:
            config.attributes["connection"] = connection
            getattr(commands, command)(config, revision)
            connection.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def refuse_nul(
    connection: sa.Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    """Refuse text holding a NUL character before it reaches either backend: PostgreSQL cannot
    store one (and would answer an error, a 500 for a resident's report), so neither stores it.
    The inputs' own checks name their field first; this is the rule for every other text."""
    for row in getattr(context, "compiled_parameters", None) or ():  # by bind name, any dialect
        for name, value in row.items():
            if isinstance(value, str) and "\x00" in value:
                field = re.sub(r"_\d+$", "", str(name))  # a bind's name: its column's, numbered
                raise InputError(f"{field}: {NUL_PROBLEM}")


def utc_now() -> dt.datetime:
    """Now, as an aware UTC time: rows get their times from Python, the same on both backends
    (and not from the database's clock or session time zone)."""
    return dt.datetime.now(dt.UTC)


def utc_text(value: dt.datetime | None, pattern: str = "%Y-%m-%dT%H:%M:%SZ") -> str | None:
    """A stored time as UTC text (aware times from either backend; naive ones are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime(pattern)


def duckdb_of(connection: sa.Connection) -> Any:
    """The DuckDB cursor under an embedded records connection: raw DuckDB SQL run on it is
    part of the connection's transaction."""
    return connection.connection.driver_connection
