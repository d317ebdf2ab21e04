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

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from beatbook.records import migrations


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

    @classmethod
    def embedded(cls, con: duckdb.DuckDBPyConnection) -> Records:
        """The records in a DuckDB database already open as ``con`` (the store's instance)."""
        from duckdb_engine import ConnectionWrapper

        engine = sa.create_engine(
            "duckdb://",
            creator=lambda: ConnectionWrapper(con.cursor()),  # a new cursor per checkout
            poolclass=NullPool,
        )
        return cls(engine)

    @classmethod
    def from_url(cls, url: str) -> Records:
        """The records in the database at ``url`` (``postgresql://…``)."""
        return cls(sa.create_engine(engine_url(url), pool_pre_ping=True))

    @property
    def dialect(self) -> str:
        """``duckdb`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as connection:
            yield connection

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


def duckdb_of(connection: sa.Connection) -> Any:
    """The DuckDB cursor under an embedded records connection: raw DuckDB SQL run on it is
    part of the connection's transaction."""
    return connection.connection.driver_connection
