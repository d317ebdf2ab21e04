"""``users.py`` on both backends of the team's records (embedded DuckDB and PostgreSQL): users,
sign-in, sessions and their expiry, and the last-admin rule, checked against the tables read
with plain SQL. On PostgreSQL, two admins disabling each other at once leave one enabled, and
two people adding the same name at once make one user."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from beatbook import users
from beatbook.errors import InputError
from beatbook.store import Store

PASSWORD = "correct horse battery staple"
LIVE = {"idle": 3600.0, "lifetime": 7200.0}


def _sql(store: Store, query: str, **params: object) -> list[tuple[object, ...]]:
    """Rows of a plain SQL query on the team's records (not through users.py)."""
    with store.team_records.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(query), params).all()]


def _change(store: Store, statement: str, **params: object) -> None:
    with store.team_records.begin() as c:
        c.execute(sa.text(statement), params)


def test_users_are_added_listed_and_signed_in(team_store: Store) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ana = users.add_user(team_store, " Ana ", "admin", PASSWORD)
    users.add_user(team_store, "bo", "partner", PASSWORD)
    assert ana == users.User("ana", "admin")
    with pytest.raises(InputError, match="user 'ana' exists already"):
        users.add_user(team_store, "ANA", "analyst", PASSWORD)
    stored = _sql(team_store, "SELECT username, role, disabled FROM users ORDER BY username")
    assert stored == [("ana", "admin", False), ("bo", "partner", False)]
    assert PASSWORD not in str(_sql(team_store, "SELECT password_hash FROM users"))

    listed = users.list_users(team_store)
    assert [(u["username"], u["role"], u["disabled"]) for u in listed] == stored
    made = dt.datetime.strptime(str(listed[0]["created_at"]), "%Y-%m-%dT%H:%M:%SZ")
    assert before <= made.replace(tzinfo=dt.UTC) <= dt.datetime.now(dt.UTC)

    assert users.authenticate(team_store, "ANA", PASSWORD) == ana
    assert users.authenticate(team_store, "ana", "wrong password here") is None
    assert users.authenticate(team_store, "nobody", PASSWORD) is None
    assert users.set_disabled(team_store, "bo", True) == 0
    assert users.authenticate(team_store, "bo", PASSWORD) is None
    assert users.get_user(team_store, "bo") is None
    assert users.get_user(team_store, "ana") == ana


def test_sessions_start_are_found_touched_ended_and_purged(team_store: Store) -> None:
    ana = users.add_user(team_store, "ana", "admin", PASSWORD)
    bo = users.add_user(team_store, "bo", "analyst", PASSWORD)
    mine = [users.start_session(team_store, ana) for _ in range(3)]
    theirs = users.start_session(team_store, bo)
    assert _sql(team_store, "SELECT count(*) FROM sessions") == [(4,)]
    assert users.live_sessions(team_store, **LIVE) == {"ana": 3, "bo": 1}
    found = users.find_session(team_store, mine[0], **LIVE)
    assert found is not None and found.user == ana and found.id == mine[0]
    assert users.find_session(team_store, "not a session id", **LIVE) is None

    _change(team_store, "UPDATE sessions SET seen_at = seen_at - 100")
    users.touch_session(team_store, mine[0])
    seen = dict(_sql(team_store, "SELECT username, max(seen_at) FROM sessions GROUP BY username"))
    assert float(seen["ana"]) > time.time() - 10 > float(seen["bo"])

    users.end_session(team_store, mine[2])
    assert users.find_session(team_store, mine[2], **LIVE) is None
    assert _sql(team_store, "SELECT count(*) FROM sessions") == [(3,)]

    # one idle too long, one alive too long; purging deletes those two rows only
    now = time.time()
    _change(team_store, "UPDATE sessions SET seen_at = :t", t=now - 4000)
    users.touch_session(team_store, mine[0])
    _change(team_store, "UPDATE sessions SET created_at = :t WHERE username = 'ana'", t=now - 8000)
    users.touch_session(team_store, mine[1])
    assert users.find_session(team_store, mine[1], **LIVE) is None  # alive too long
    assert users.find_session(team_store, theirs, **LIVE) is None  # idle too long
    assert users.live_sessions(team_store, **LIVE) == {}
    assert users.purge_sessions(team_store, idle=3600.0, lifetime=9000.0) == 1  # bo's
    assert users.purge_sessions(team_store, **LIVE) == 2
    assert users.purge_sessions(team_store, **LIVE) == 0
    assert _sql(team_store, "SELECT count(*) FROM sessions") == [(0,)]


def test_a_password_change_or_disable_ends_sessions_and_counts_them(team_store: Store) -> None:
    pat = users.add_user(team_store, "pat", "partner", PASSWORD)
    here, *elsewhere = [users.start_session(team_store, pat) for _ in range(3)]
    assert users.set_password(team_store, "pat", "a new long password", keep=here) == 2
    assert users.authenticate(team_store, "pat", "a new long password") == pat
    assert [users.find_session(team_store, s, **LIVE) is not None for s in [here, *elsewhere]] == [
        True,
        False,
        False,
    ]
    users.start_session(team_store, pat)
    assert users.end_sessions(team_store, "PAT", keep=here) == 1
    assert users.set_disabled(team_store, "pat", True) == 1  # the kept one
    assert _sql(team_store, "SELECT count(*) FROM sessions") == [(0,)]
    assert users.set_disabled(team_store, "pat", False) == 0
    with pytest.raises(InputError, match="no user 'nobody'"):
        users.end_sessions(team_store, "nobody")


def test_the_last_enabled_admin_is_never_disabled(team_store: Store) -> None:
    users.add_user(team_store, "ana", "admin", PASSWORD)
    users.add_user(team_store, "bo", "admin", PASSWORD)
    users.add_user(team_store, "cy", "analyst", PASSWORD)
    users.set_disabled(team_store, "cy", True)
    users.set_disabled(team_store, "bo", True)
    with pytest.raises(InputError, match="ana is the last enabled admin"):
        users.set_disabled(team_store, "ana", True)
    assert _sql(team_store, "SELECT username FROM users WHERE NOT disabled") == [("ana",)]
    users.set_disabled(team_store, "bo", False)
    users.set_disabled(team_store, "ana", True)
    assert _sql(team_store, "SELECT username FROM users WHERE NOT disabled") == [("bo",)]


def _at_once(store: Store, prefix: str, calls: dict[str, Callable[[Store], object]]) -> list[str]:
    """Run each call in its own thread; each waits, once, before its first statement starting
    ``prefix`` until the other has got that far too (so both have made their checks)."""
    barrier = threading.Barrier(len(calls))
    waited: set[int] = set()

    def hold(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith(prefix) and threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait(timeout=20)

    outcomes: list[str] = []

    def run(name: str, call: Callable[[Store], object]) -> None:
        cursor = store.cursor()
        try:
            call(cursor)
            outcomes.append(f"{name}: done")
        except InputError as exc:
            outcomes.append(f"{name}: {exc}")
        finally:
            cursor.close()

    engine = store.team_records.engine
    sa.event.listen(engine, "before_cursor_execute", hold)
    try:
        threads = [threading.Thread(target=run, args=item) for item in calls.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(engine, "before_cursor_execute", hold)
    return sorted(outcomes)


@pytest.mark.parametrize("team_store", ["postgres"], indirect=True)
def test_two_admins_disabling_each_other_at_once_leave_one(team_store: Store) -> None:
    assert team_store.team_records.dialect == "postgresql"
    users.add_user(team_store, "ana", "admin", PASSWORD)
    users.add_user(team_store, "bo", "admin", PASSWORD)
    outcomes = _at_once(
        team_store,
        "UPDATE users",
        {
            "ana": lambda st: users.set_disabled(st, "bo", True),
            "bo": lambda st: users.set_disabled(st, "ana", True),
        },
    )
    assert len(outcomes) == 2 and sum(o.endswith(": done") for o in outcomes) == 1
    assert "is the last enabled admin" in " ".join(outcomes)
    enabled = _sql(team_store, "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled")
    assert enabled == [(1,)]


@pytest.mark.parametrize("team_store", ["postgres"], indirect=True)
def test_the_same_name_added_twice_at_once_makes_one_user(team_store: Store) -> None:
    outcomes = _at_once(
        team_store,
        "INSERT INTO users",
        {
            "one": lambda st: users.add_user(st, "ana", "admin", PASSWORD),
            "two": lambda st: users.add_user(st, "ana", "partner", PASSWORD),
        },
    )
    assert len(outcomes) == 2 and sum(o.endswith(": done") for o in outcomes) == 1
    assert "user 'ana' exists already" in " ".join(outcomes)
    assert _sql(team_store, "SELECT count(*) FROM users") == [(1,)]
