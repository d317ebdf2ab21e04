"""The report form's rate limit and the signing secret, kept with the team's records so every
worker shares them (issue 20): on both backends, and on PostgreSQL with writers at once."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from beatbook.records.engine import Records
from beatbook.records.schema import app_secrets, rate_limits
from beatbook.web.limits import RateLimiter, signing_secret


def test_at_most_the_limit_per_window_from_its_first_hit(team_records: Records) -> None:
    now = [5000.0]
    limiter = RateLimiter(3, 600.0, clock=lambda: now[0])
    assert [limiter.allow(team_records, "report:a") for _ in range(4)] == [True] * 3 + [False]
    assert limiter.allow(team_records, "report:b")  # another address has its own count
    now[0] += 599.0
    assert not limiter.allow(team_records, "report:a")  # still inside a's window
    now[0] += 1.0
    assert limiter.allow(team_records, "report:a")  # a new window
    with team_records.connect() as c:
        rows = c.execute(sa.select(rate_limits).order_by(rate_limits.c.key)).all()
    assert [tuple(r) for r in rows] == [("report:a", 5600.0, 1), ("report:b", 5000.0, 1)]


def test_the_limit_holds_for_many_workers_at_once(team_records: Records) -> None:
    """20 submissions from one address at the same moment (threads, as workers would): exactly
    the limit get through, on either backend."""
    limiter = RateLimiter(5, 600.0)
    start = threading.Barrier(20)
    results: list[bool] = []
    lock = threading.Lock()  # embedded: the app serialises writers (web/db.py)
    embedded = team_records.dialect == "duckdb"

    def submit() -> None:
        start.wait(timeout=30)
        if embedded:
            with lock:
                results.append(limiter.allow(team_records, "report:x"))
        else:
            results.append(limiter.allow(team_records, "report:x"))

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True] * 5


def test_every_worker_signs_with_one_secret(team_records: Records) -> None:
    first = signing_secret(team_records)
    assert len(first) >= 40
    other = Records(team_records.engine)  # another worker's handle on the same records
    assert signing_secret(other) == first
    with team_records.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(app_secrets)).scalar_one() == 1
