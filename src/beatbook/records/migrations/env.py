"""Alembic's environment for the team's records: DuckDB (embedded) or PostgreSQL.

The app passes its own SQLAlchemy connection in ``config.attributes["connection"]`` (embedded:
one built on the store's DuckDB instance, see ``records/engine.py``); otherwise the URL in
``sqlalchemy.url`` is opened (``duckdb:///FILE`` or ``postgresql+psycopg://…``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from alembic.ddl.impl import DefaultImpl, _impls

if "duckdb" not in _impls:  # duckdb-engine ships no Alembic impl (duckdb-sqlalchemy does)

    class AlembicDuckDBImpl(DefaultImpl):
        """DuckDB for Alembic, as duckdb-engine's README gives it: its DDL is transactional."""

        __dialect__ = "duckdb"
        transactional_ddl = True


# PostgreSQL: workers starting together migrate one after the other (a transaction-scoped lock;
# the second finds the records at the head and does nothing). DuckDB has one writing process.
MIGRATION_LOCK = 2020_0020


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        context.run_migrations()


_given = context.config.attributes.get("connection")
if _given is not None:
    _run(_given)
else:
    _url = context.config.get_main_option("sqlalchemy.url")
    if not _url:
        raise RuntimeError("no connection and no sqlalchemy.url for the records' migrations")
    with sa.create_engine(_url, poolclass=sa.pool.NullPool).connect() as _connection:
        _run(_connection)
        _connection.commit()
