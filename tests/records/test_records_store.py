"""The records embedded in a store: a store made before the records had migrations is adopted
with every row; read-only opens check the revision; a records transaction and raw DuckDB SQL
on the same connection commit or roll back together."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from old_team_schema import OLD_TEAM_DDL

from beatbook.errors import StoreError
from beatbook.records import migrations
from beatbook.records.engine import duckdb_of
from beatbook.records.schema import metadata, sessions, users
from beatbook.store import Store

SHAPE = """
SELECT c.table_name, c.column_index, c.column_name, c.data_type, c.is_nullable,
       c.column_default
FROM duckdb_columns() c JOIN duckdb_tables() t USING (table_oid)
WHERE t.table_name IN ({names}) ORDER BY 1, 2
"""
CONSTRAINTS = """
SELECT table_name, constraint_type, constraint_column_names, expression
FROM duckdb_constraints() WHERE table_name IN ({names}) ORDER BY ALL
"""
ROWS = [
    "INSERT INTO users VALUES ('ana', 'admin', 'argon2-hash', false, '2025-01-02 03:04:05+00')",
    "INSERT INTO sessions VALUES ('ab12', 'ana', 1772368245.123456, 1772368300.5)",
    "INSERT INTO concerns (area, area_name, reported_on, month, problem, source, row_sha256,"
    " suggestions, imported_at) VALUES ('district:Leicester', 'Leicester', '2025-03-04',"
    " '2025-03-01', 'asb', 'online', 'sha-1', ['Elm Close'], now())",
    "INSERT INTO concern_contacts VALUES (1, 'ana@example.org')",
    "INSERT INTO priorities VALUES (nextval('priority_ids'), 'district:Leicester', 'W1',"
    " 'Elm Close', 'W1|elm close', '[{\"location\": \"On or near Elm Close\"}]', 'asb',"
    " '2025-04-01', 'data', 1.5, NULL, NULL, now())",
    "INSERT INTO priority_events VALUES (1, 1, 'proposed', 'ana', now(), '2025-04-01',"
    ' \'{"label": "Elm Close"}\')',
    "INSERT INTO update_images VALUES ('district:Leicester', 'a.png', '\\x89PNG'::BLOB, 2, 3,"
    " 'ana', now())",
    "INSERT INTO engagements VALUES ('uid-1', '2025-05-01 18:00', '2025-05-01 19:00',"
    " 'surgery', 'Library', NULL, NULL, 'Surgery', NULL, 'engagements add', 0, now())",
]


ADDED_SINCE = {"login_failures", "rate_limits", "app_secrets"}  # revision 0002
OLD_TABLES = [t for t in metadata.tables if t not in ADDED_SINCE]


def _names() -> str:
    """The tables the old SQL made."""
    return ", ".join(f"'{t}'" for t in OLD_TABLES)


def _old_store(path: Path) -> None:
    """A store as BeatBook made it before the records had migrations: today's analytical
    schema, the team's tables from the old SQL, rows in them, and no revision."""
    with Store(path):
        pass
    con = duckdb.connect(str(path))
    con.execute(f"DROP TABLE {migrations.VERSION_TABLE}")
    for table in metadata.tables:
        con.execute(f"DROP TABLE {table}")
    for sequence in ("concern_ids", "priority_ids", "priority_note_ids"):
        con.execute(f"DROP SEQUENCE {sequence}")
    con.execute(OLD_TEAM_DDL)
    for sql in ROWS:
        con.execute(sql)
    con.close()


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: sorted(map(tuple, con.execute(f"SELECT * FROM {t}").fetchall()), key=repr)
            for t in OLD_TABLES
        }
    finally:
        con.close()


def test_the_migrations_make_the_tables_the_old_schema_made(tmp_path: Path) -> None:
    """Column for column, default for default, key for key: stores made by the old SQL and by
    the baseline revision are the same to every query."""
    old = duckdb.connect(str(tmp_path / "old.duckdb"))
    old.execute(OLD_TEAM_DDL)
    with Store(tmp_path / "new.duckdb") as new:
        for query in (SHAPE, CONSTRAINTS):
            sql = query.format(names=_names())
            assert new.rows(sql) == old.execute(sql).fetchall()
        sql = "SELECT sequence_name, start_value, increment_by FROM duckdb_sequences() ORDER BY 1"
        assert new.rows(sql) == old.execute(sql).fetchall()
    old.close()


def test_an_old_store_is_adopted_with_every_row(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    _old_store(path)
    before = _dump(path)
    assert sum(map(len, before.values())) == len(ROWS)
    with pytest.raises(StoreError, match="older BeatBook: open it once for writing"):
        Store(path, read_only=True)

    with Store(path) as st:  # opening for writing runs the migrations
        assert st.team_records.revision() == migrations.HEAD
        assert st.scalar("SELECT nextval('concern_ids')") == 2  # the sequence went on
    assert _dump(path) == before
    with Store(path, read_only=True) as st:
        assert st.scalar(f"SELECT version_num FROM {migrations.VERSION_TABLE}") == migrations.HEAD
        assert json.loads(st.scalar("SELECT details FROM priority_events")) == {
            "label": "Elm Close"
        }


def test_a_read_only_open_needs_the_newest_revision(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        st.team_records.downgrade("base")
    with pytest.raises(StoreError, match="older BeatBook"):
        Store(path, read_only=True)
    Store(path).close()
    Store(path, read_only=True).close()


def test_a_current_store_opens_without_loading_alembic(tmp_path: Path) -> None:
    """Write opens of an up-to-date store skip Alembic (about 0.7 s to import)."""
    path = tmp_path / "s.duckdb"
    Store(path).close()
    code = (
        "import sys; from beatbook.store import Store; Store(sys.argv[1]).close(); "
        "print(sorted(m for m in ('alembic', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _user(name: str) -> dict[str, object]:
    return dict(username=name, role="admin", password_hash="h", created_at=dt.datetime.now(dt.UTC))


def _counts(st: Store) -> tuple[int, int]:
    return st.scalar("SELECT count(*) FROM users"), st.scalar("SELECT count(*) FROM sessions")


def test_a_records_transaction_and_raw_duckdb_sql_commit_together(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as st:
        other = st.cursor()
        with st.team_records.begin() as c:
            c.execute(sa.insert(users).values(**_user("ana")))
            duckdb_of(c).execute("INSERT INTO sessions VALUES ('h1', 'ana', 1.0, 2.0)")
            assert c.execute(sa.select(sa.func.count()).select_from(sessions)).scalar_one() == 1
            assert _counts(other) == (0, 0)  # not committed yet: nobody else sees either
        assert _counts(st) == (1, 1)
        assert _counts(other) == (1, 1)


def test_a_records_transaction_and_raw_duckdb_sql_roll_back_together(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as st:
        with pytest.raises(RuntimeError, match="stop"), st.team_records.begin() as c:
            duckdb_of(c).execute("INSERT INTO sessions VALUES ('h1', 'ana', 1.0, 2.0)")
            c.execute(sa.insert(users).values(**_user("ana")))
            raise RuntimeError("stop")
        assert _counts(st) == (0, 0)
        with pytest.raises(sa.exc.IntegrityError), st.team_records.begin() as c:
            duckdb_of(c).execute("INSERT INTO sessions VALUES ('h2', 'bo', 1.0, 2.0)")
            c.execute(sa.insert(users).values(**_user("bo")))
            c.execute(sa.insert(users).values(**_user("bo")))  # the same key: refused
        assert _counts(st) == (0, 0)
