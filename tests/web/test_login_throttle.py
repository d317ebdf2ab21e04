"""Sign-in throttling (issue 17, item 9), against a real server, clients on different
loopback addresses: only wrong passwords count, per (username, address); nobody can lock a
user out from elsewhere, a station's successful sign-ins never count, and a slowed-down
user is told when to try again (message and Retry-After)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from live_support import ADMIN, ANALYST, INSPECTOR, Live, live, make_store, sign_in, signed_in

from beatbook.records.engine import Records
from beatbook.records.schema import login_failures
from beatbook.web.limits import LoginThrottle

STATION, ATTACKER, HOME = "127.0.0.2", "127.0.0.3", "127.0.0.4"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    """The default throttle (5 free failures, then 30 s doubling)."""
    with live(make_store(tmp_path / "throttle.duckdb")) as running:
        yield running


def test_wrong_passwords_from_another_address_do_not_lock_the_user_out(server: Live) -> None:
    with server.browser(ATTACKER) as attacker, server.browser(HOME) as user:
        answers = [sign_in(attacker, ANALYST, f"guess number {n:02d}") for n in range(8)]
        assert [a.status_code for a in answers[:5]] == [401] * 5
        assert all(a.status_code == 429 for a in answers[6:])  # the attacker is slowed
        assert int(answers[6].headers["retry-after"]) > 0
        done = sign_in(user, ANALYST)  # the real user, at once, from home
        assert done.status_code == 303 and signed_in(user)


def test_successful_sign_ins_from_one_address_never_count(server: Live) -> None:
    with server.browser(STATION) as station:
        for n in range(20):  # a station's whole shift signing in, one after another
            assert sign_in(station, (ADMIN, ANALYST, INSPECTOR)[n % 3]).status_code == 303


def test_a_slowed_user_is_told_when_to_retry_and_others_are_not_held_up(tmp_path: Path) -> None:
    throttle = LoginThrottle(free=3, first_delay=1.5)
    store = make_store(tmp_path / "retry.duckdb")
    with live(store, login_throttle=throttle) as server, server.browser(STATION) as station:
        for _ in range(2):
            assert sign_in(station, ANALYST, "typo in my password").status_code == 401
        third = sign_in(station, ANALYST, "typo in my password")
        assert third.status_code == 401 and third.headers["retry-after"] == "2"
        assert "next in 2 seconds" in third.text
        early = sign_in(station, ANALYST)  # right, but too soon
        assert early.status_code == 429 and early.headers["retry-after"] in ("1", "2")
        assert "try again in" in early.text and "seconds" in early.text
        # a colleague at the same station is not held up
        assert sign_in(station, INSPECTOR).status_code == 303
        time.sleep(1.6)
        assert sign_in(station, ANALYST).status_code == 303
        # the success cleared this pair's failures: a typo costs nothing again
        again = sign_in(station, ANALYST, "one more typo here")
        assert again.status_code == 401 and "retry-after" not in again.headers


def test_one_address_guessing_many_usernames_is_slowed(tmp_path: Path) -> None:
    throttle = LoginThrottle(free=100, address_free=4, first_delay=60)
    store = make_store(tmp_path / "spray.duckdb")
    with live(store, login_throttle=throttle) as server:
        with server.browser(ATTACKER) as attacker:
            for name in ("alice", "bob", "carol", "dave"):
                assert sign_in(attacker, name, "Summer2024!").status_code == 401
            assert sign_in(attacker, "erin", "Summer2024!").status_code == 429
        with server.browser(HOME) as user:
            assert sign_in(user, ANALYST).status_code == 303


def test_the_wait_doubles_up_to_its_cap_and_failures_are_forgotten(
    team_records: Records,
) -> None:
    now = [1000.0]
    throttle = LoginThrottle(free=2, first_delay=10, max_delay=35, memory=100, clock=lambda: now[0])
    waits = [throttle.failed(team_records, "u", "a") for _ in range(5)]
    assert waits == [0.0, 10.0, 20.0, 35.0, 35.0]
    assert throttle.wait(team_records, "U ", "a") == 35.0  # names compare trimmed, lower case
    assert throttle.wait(team_records, "u", "elsewhere") == 0.0
    now[0] += 30
    assert throttle.wait(team_records, "u", "a") == 5.0
    now[0] += 101  # the memory passes: all forgotten, and the rows go at the next failure
    assert throttle.wait(team_records, "u", "a") == 0.0
    assert throttle.failed(team_records, "v", "b") == 0.0
    with team_records.connect() as c:
        keys = c.execute(sa.select(login_failures.c.key)).scalars().all()
    assert sorted(keys) == ["address\x1fb", "user\x1fv\x1fb"]
    throttle.succeeded(team_records, "V", "b")  # clears the pair, not the address
    with team_records.connect() as c:
        assert c.execute(sa.select(login_failures.c.key)).scalars().all() == ["address\x1fb"]
