"""``beatbook users password / disable / enable / end-sessions`` (issue 17, item 8), in-process
on a store of users only: each ends the user's sessions in the store at once; a password is
asked twice or read from stdin, never taken from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from beatbook.cli.main import app
from beatbook.errors import InputError
from beatbook.store import STORE_ENV, Store
from beatbook.users import add_user, authenticate, find_session, start_session

PASSWORD = "correct horse battery staple"
NEW = "another long password"
LIVE = {"idle": 3600.0, "lifetime": 3600.0}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "users.duckdb"
    with Store(path) as st:
        add_user(st, "boss", "admin", PASSWORD)
        add_user(st, "pat", "partner", PASSWORD)
    return path


def run(store: Path, *args: str, stdin: str | None = None) -> object:
    return CliRunner().invoke(
        app, ["--store", str(store), "users", *args], input=stdin, env={STORE_ENV: None}
    )


def sessions_of(store: Path, name: str, n: int = 2) -> list[str]:
    with Store(store) as st:
        user = authenticate(st, name, PASSWORD)
        assert user is not None
        return [start_session(st, user) for _ in range(n)]


def alive(store: Path, ids: list[str]) -> list[bool]:
    with Store(store) as st:
        return [find_session(st, i, **LIVE) is not None for i in ids]


def test_end_sessions(store: Path) -> None:
    ids = sessions_of(store, "pat")
    result = run(store, "end-sessions", "pat")
    assert result.exit_code == 0 and "pat: 2 sessions ended" in result.output
    assert alive(store, ids) == [False, False]


def test_password_from_the_prompt_or_stdin_ends_sessions(store: Path) -> None:
    ids = sessions_of(store, "pat")
    asked = run(store, "password", "pat", stdin=f"{NEW}\n{NEW}\n")
    assert asked.exit_code == 0 and "2 sessions ended" in asked.output
    assert NEW not in asked.output  # not echoed
    assert alive(store, ids) == [False, False]
    piped = run(store, "password", "pat", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert piped.exit_code == 0
    with Store(store) as st:
        assert authenticate(st, "pat", PASSWORD) is not None
    # never on the command line: an extra argument is refused
    assert run(store, "password", "pat", NEW).exit_code != 0
    short = run(store, "password", "pat", "--password-stdin", stdin="short\n")
    assert isinstance(short.exception, InputError)  # main() prints it, exit code 2


def test_disable_ends_sessions_and_stops_sign_in_enable_allows_it(store: Path) -> None:
    ids = sessions_of(store, "pat")
    result = run(store, "disable", "pat")
    assert result.exit_code == 0 and "disabled pat; 2 sessions ended" in result.output
    assert alive(store, ids) == [False, False]
    with Store(store) as st:
        assert authenticate(st, "pat", PASSWORD) is None
    assert run(store, "enable", "pat").exit_code == 0
    with Store(store) as st:
        assert authenticate(st, "pat", PASSWORD) is not None


def test_the_last_admin_and_unknown_users_are_refused(store: Path) -> None:
    last = run(store, "disable", "boss")
    assert isinstance(last.exception, InputError) and "last enabled admin" in str(last.exception)
    unknown = run(store, "end-sessions", "nobody")
    assert isinstance(unknown.exception, InputError) and "no user 'nobody'" in str(
        unknown.exception
    )


def test_a_store_from_before_sessions_opens_and_gains_the_table(store: Path) -> None:
    import duckdb

    with duckdb.connect(str(store)) as con:  # as a store made before issue 17 (and 20)
        con.execute("DROP TABLE sessions")
        con.execute("DROP TABLE alembic_version")
    listed = run(store, "list", "--json")  # read-only: refused, saying how to upgrade
    assert listed.exit_code != 0 and "open it once for writing" in str(listed.exception)
    assert run(store, "end-sessions", "pat").exit_code == 0  # read-write: creates it
    assert '"pat"' in run(store, "list", "--json").output
    with Store(store, read_only=True) as st:
        assert st.scalar("SELECT count(*) FROM sessions") == 0
