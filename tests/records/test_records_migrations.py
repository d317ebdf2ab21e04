"""The records' migrations on both backends: upgrade creates every table schema.py describes,
with its columns; downgrade drops them all; upgrade again works; HEAD is the newest revision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from records_support import (
    SEQUENCES,
    TEAM_TABLES,
    columns,
    described,
    fresh_records,
    sequences,
    tables,
)

from beatbook.records import migrations
from beatbook.records.schema import concerns, metadata, users

BACKENDS = ["duckdb", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _url(backend: str, request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("postgres_url") if backend == "postgresql" else None


def _add_concern(c: sa.Connection, sha: str) -> int:
    now = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
    values = dict(
        area="district:Leicester",
        area_name="Leicester",
        reported_on=dt.date(2025, 3, 1),
        month=dt.date(2025, 3, 1),
        problem="asb",
        source="online",
        row_sha256=sha,
        imported_at=now,
        suggestions=["Elm Close", "Oak Road"],
    )
    return int(
        c.execute(
            sa.insert(concerns).values(**values).returning(concerns.c.concern_id)
        ).scalar_one()
    )


def test_head_is_the_newest_revision() -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations.LOCATION))
    assert ScriptDirectory.from_config(config).get_current_head() == migrations.HEAD


def test_upgrade_down_and_up_again(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with fresh_records(backend, tmp_path, _url(backend, request)) as records:
        assert records.dialect == backend
        assert records.revision() is None
        assert not tables(records) & TEAM_TABLES

        records.upgrade()
        assert records.revision() == migrations.HEAD
        assert tables(records) == TEAM_TABLES | {migrations.VERSION_TABLE}
        assert sequences(records) >= SEQUENCES
        with records.begin() as c:
            assert _add_concern(c, "a") == 1
            assert _add_concern(c, "b") == 2
            c.execute(
                sa.insert(users).values(
                    username="ana",
                    role="admin",
                    password_hash="x",
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
            # the server defaults the schema declares are in the database
            assert c.execute(sa.select(concerns.c.status)).scalars().all() == ["open", "open"]
            assert c.execute(sa.select(users.c.disabled)).scalar_one() is False

        records.downgrade("base")
        assert records.revision() is None
        assert tables(records) == {migrations.VERSION_TABLE}
        assert not SEQUENCES & sequences(records)

        records.upgrade()
        assert records.revision() == migrations.HEAD
        assert tables(records) == TEAM_TABLES | {migrations.VERSION_TABLE}
        with records.begin() as c:  # empty again, and the ids start over
            assert c.execute(sa.select(sa.func.count()).select_from(users)).scalar_one() == 0
            assert _add_concern(c, "a") == 1


def test_every_table_has_the_columns_schema_py_says(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Names, order, broad type and nullability, as the database's information_schema
    reports them after the migrations."""
    with fresh_records(backend, tmp_path, _url(backend, request)) as records:
        records.upgrade()
        for name, table in metadata.tables.items():
            assert columns(records, name) == described(table), name


def test_upgrade_is_all_or_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A migration that fails at its last step (recording the revision, in a version table
    that cannot take it) leaves none of its tables or sequences behind."""
    with fresh_records(backend, tmp_path, _url(backend, request)) as records:
        with records.begin() as c:
            c.execute(sa.text(f"CREATE TABLE {migrations.VERSION_TABLE} (version_num DATE)"))
        with pytest.raises(sa.exc.SQLAlchemyError):
            records.upgrade()
        assert records.revision() is None
        assert not tables(records) & TEAM_TABLES
        assert not sequences(records) & SEQUENCES
