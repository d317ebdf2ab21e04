"""The team's records: the tables people write, on DuckDB (embedded) or PostgreSQL.

``schema.py`` describes the tables (one SQLAlchemy ``MetaData``), ``engine.py`` opens them
(:class:`~beatbook.records.engine.Records`), ``migrations/`` creates and changes them
(Alembic). The store runs the migrations of its embedded records when it is opened for
writing (``store.py``).
"""
