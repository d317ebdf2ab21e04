"""The tests' throwaway PostgreSQL cluster (tests/support/postgres.py): a real server, run by
an unprivileged user, reached by psycopg 3 and SQLAlchemy 2, and stopped cleanly, also after a
run that was killed."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
import sqlalchemy as sa

from support import postgres


def _folder(url: str) -> Path:
    return Path(parse_qs(urlparse(url).query)["host"][0])


def _uid(pid: int) -> int:
    """The real user id a process runs as (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for process {pid}")


def test_a_write_is_seen_by_another_connection_only_once_committed(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as setup:
        setup.execute("DROP TABLE IF EXISTS visits")
        setup.execute("CREATE TABLE visits (id serial PRIMARY KEY, street text NOT NULL)")
    with psycopg.connect(postgres_url) as writer, psycopg.connect(postgres_url) as reader:
        writer.execute("INSERT INTO visits (street) VALUES (%s)", ["Upperton Road"])
        assert reader.execute("SELECT count(*) FROM visits").fetchone() == (0,)
        reader.rollback()  # end the reader's snapshot, as a new request would
        writer.commit()
        assert reader.execute("SELECT street FROM visits").fetchall() == [("Upperton Road",)]


def test_the_server_runs_as_an_unprivileged_user(postgres_url: str) -> None:
    folder = _folder(postgres_url)
    expected = postgres.server_user()
    assert expected.pw_uid != 0
    if os.geteuid() == 0:
        assert expected.pw_name == postgres.SERVER_USER
    with psycopg.connect(postgres_url) as con:
        user, data, backend = con.execute(
            "SELECT current_user, current_setting('data_directory'), pg_backend_pid()"
        ).fetchone() or ("", "", 0)
        (sessions,) = con.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = current_user "
            "AND datname = 'beatbook' AND pid = pg_backend_pid()"
        ).fetchone() or (0,)
        backend_uid = _uid(backend)  # while the connection is open: its backend then exits
    assert user == expected.pw_name
    assert sessions == 1
    assert Path(data) == folder / "data"
    assert Path(data).stat().st_uid == expected.pw_uid
    postmaster = postgres.server_pid(folder)
    assert postmaster is not None
    assert _uid(postmaster) == expected.pw_uid  # the server and the backend serving this
    assert backend_uid == expected.pw_uid  # connection both run as that user, not root
    assert (folder.stat().st_mode & 0o777) == 0o700  # only that user (and root) reach the socket


def test_sqlalchemy_core_reaches_the_same_database(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    assert engine.dialect.driver == "psycopg"
    meta = sa.MetaData()
    notes = sa.Table(
        "core_notes",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    try:
        meta.drop_all(engine)
        meta.create_all(engine)
        with engine.begin() as con:
            con.execute(sa.insert(notes), [{"text": "kept"}])
        with engine.connect() as con:
            con.execute(sa.insert(notes), [{"text": "rolled back"}])
            con.rollback()
        with engine.connect() as con:
            assert con.execute(sa.select(notes.c.text)).scalars().all() == ["kept"]
        with psycopg.connect(postgres_url) as raw:  # the same table, seen without SQLAlchemy
            assert raw.execute("SELECT text FROM core_notes").fetchall() == [("kept",)]
    finally:
        meta.drop_all(engine)
        engine.dispose()


def test_stop_and_a_new_start_after_a_killed_run(postgres_url: str) -> None:
    # postgres_url: PostgreSQL is installed (or this test is skipped with the reason)
    folder = Path(tempfile.mkdtemp(prefix="beatbook-pg-test-"))
    try:
        url = postgres.start(folder)
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE TABLE left_behind (x int)")
        killed = postgres.server_pid(folder)
        assert killed is not None
        os.kill(killed, signal.SIGKILL)  # a killed run: no shutdown, postmaster.pid left
        assert (folder / "data" / "postmaster.pid").exists()

        url = postgres.start(folder)  # the stale cluster does not block a new one
        assert postgres.server_pid(folder) not in (None, killed)
        with psycopg.connect(url) as con:
            assert con.execute("SELECT to_regclass('left_behind')").fetchone() == (None,)

        postgres.stop(folder)
        assert not postgres.is_running(folder)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=5)
        assert (folder / "data" / "PG_VERSION").exists()  # stop removes nothing
        assert (folder / "server.log").exists()
        postgres.stop(folder)  # stopping a stopped cluster is harmless
    finally:
        postgres.stop(folder, mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


def test_restart_after_a_killed_server_keeps_what_was_committed(postgres_url: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="beatbook-pg-test-"))
    try:
        url = postgres.start(folder)
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE TABLE kept (x int)")
            con.execute("INSERT INTO kept VALUES (1)")
        killed = postgres.server_pid(folder)
        assert killed is not None
        os.kill(killed, signal.SIGKILL)  # no shutdown: postmaster.pid and the socket lock left
        deadline = time.monotonic() + 10
        while postgres.is_running(folder) and time.monotonic() < deadline:
            time.sleep(0.05)  # the signal takes a moment; restart leaves a live server alone
        postgres.restart(folder)
        assert postgres.server_pid(folder) not in (None, killed)
        with psycopg.connect(url) as con:
            assert con.execute("SELECT x FROM kept").fetchall() == [(1,)]
        postgres.restart(folder)  # a running server is left as it is
    finally:
        postgres.stop(folder, mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the folder to another user")
def test_a_folder_the_server_user_cannot_reach_is_refused_with_the_reason(
    tmp_path: Path, postgres_url: str
) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)  # root's own, like pytest's tmp_path itself
    with pytest.raises(postgres.PostgresError, match="cannot write"):
        postgres.start(closed / "pg")
    assert pwd.getpwnam(postgres.SERVER_USER).pw_uid != 0
