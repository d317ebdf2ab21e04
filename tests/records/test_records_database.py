"""The team's records in PostgreSQL beside a store file: the file may be opened read-only (an
import or the desk holds it) and the team still writes; PostgreSQL transactions that would
break a check-then-write rule are run again, so the rule holds with concurrent writers."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from beatbook.errors import InputError, StoreError
from beatbook.records import migrations
from beatbook.records.engine import Records, utc_text
from beatbook.records.schema import users
from beatbook.store import Store
from support.postgres import fresh_database


def _user(name: str, role: str = "admin") -> dict[str, object]:
    return {
        "username": name,
        "role": role,
        "password_hash": "x",
        "disabled": False,
        "created_at": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    }


def test_a_read_only_store_writes_its_team_records_to_the_database(
    sample_store_path: Path, tmp_path: Path, postgres_url: str
) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_store_path, copy)
    with fresh_database(postgres_url) as url:
        with Store(copy, read_only=True, database=url) as store:
            records = store.team_records
            assert records.dialect == "postgresql"
            assert records.revision() == migrations.HEAD  # migrated on first use
            records.transact(lambda c: c.execute(sa.insert(users).values(**_user("ana"))))
            cursor = store.cursor()
            assert cursor.team_records is records  # one engine for every cursor
            cursor.close()
        with Store(copy, read_only=True, database=url) as again, again.team_records.connect() as c:
            assert c.execute(sa.select(users.c.username)).scalars().all() == ["ana"]
    # the file's own (embedded) users table was not written
    con = duckdb.connect(str(copy), read_only=True)
    assert con.execute("SELECT count(*) FROM users").fetchone() == (0,)
    con.close()


def test_an_unreachable_database_is_named_without_its_password(
    sample_store_path: Path,
) -> None:
    url = "postgresql://ana:s3cret@/nothing?host=/nonexistent-socket-folder"
    with (
        Store(sample_store_path, read_only=True, database=url) as store,
        pytest.raises(StoreError) as refused,
    ):
        _ = store.team_records
    assert "cannot open the team's records at" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_check_then_write_holds_with_two_concurrent_writers(postgres_url: str) -> None:
    """Both writers read "no admin yet" before either writes (a barrier); SERIALIZABLE refuses
    one commit and the rerun sees the other's row, so exactly one admin is made."""
    with fresh_database(postgres_url) as url:
        records = Records.from_url(url)
        records.upgrade()
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def make_first_admin(name: str) -> None:
            first_run = [True]

            def work(c: sa.Connection) -> str:
                admins = c.execute(
                    sa.select(sa.func.count()).where(users.c.role == "admin")
                ).scalar_one()
                if first_run[0]:
                    first_run[0] = False
                    barrier.wait(timeout=10)
                if admins:
                    return "refused"
                c.execute(sa.insert(users).values(**_user(name)))
                return "made"

            outcomes.append(records.transact(work))

        threads = [threading.Thread(target=make_first_admin, args=(n,)) for n in ("ana", "bo")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with records.connect() as c:
            made = c.execute(sa.select(users.c.username)).scalars().all()
        records.dispose()
    assert sorted(outcomes) == ["made", "refused"]
    assert len(made) == 1


def test_text_with_a_nul_character_is_refused_by_name_on_both_backends(
    team_records: Records,
) -> None:
    """PostgreSQL cannot store NUL (psycopg raises DataError, a 500 for the web): both backends
    refuse it as bad input naming the column, in writes, batched writes and reads alike."""
    with pytest.raises(InputError, match=r"^username: contains a NUL character"):
        team_records.transact(lambda c: c.execute(sa.insert(users).values(**_user("a\x00b"))))
    with pytest.raises(InputError, match=r"^username: contains a NUL"):
        team_records.transact(
            lambda c: c.execute(sa.insert(users), [_user("fine"), _user("bad\x00")])
        )
    with pytest.raises(InputError, match=r"^username: contains a NUL"), team_records.connect() as c:
        c.execute(sa.select(users).where(users.c.username == "x\x00"))
    team_records.transact(lambda c: c.execute(sa.insert(users).values(**_user("ana"))))
    with team_records.connect() as c:  # nothing of the refused batch was stored
        assert c.execute(sa.select(users.c.username)).scalars().all() == ["ana"]


def test_times_read_back_as_utc_text() -> None:
    london = dt.timezone(dt.timedelta(hours=1))
    assert utc_text(dt.datetime(2025, 6, 1, 12, 30, tzinfo=london)) == "2025-06-01T11:30:00Z"
    assert utc_text(dt.datetime(2025, 6, 1, 12, 30), "%Y-%m-%d %H:%M") == "2025-06-01 12:30"
    assert utc_text(None) is None
