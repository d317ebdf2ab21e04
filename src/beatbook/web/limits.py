"""What every worker of the server shares, kept with the team's records: wrong-password counts
(:class:`LoginThrottle`), hits per window (:class:`RateLimiter`) and the signing secret
(:func:`signing_secret`).

Kept in memory, two workers would each allow their own five wrong passwords and sign forms
with their own secret, so a form from one would fail on the other. In the records, the limits
hold across workers and hosts and survive a restart. Each counter is one row changed by one
``INSERT … ON CONFLICT DO UPDATE`` in a transaction (SERIALIZABLE on PostgreSQL); times are
Unix seconds from the given clock (wall time: every worker reads the same one).

The callers hold the app's write lock where the records are embedded (``web/db.py``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from beatbook import settings
from beatbook.records.engine import Records, utc_now
from beatbook.records.schema import app_secrets, login_failures, rate_limits

SEP = "\x1f"  # between the parts of a key: no username or address holds it


class RateLimiter:
    """At most ``limit`` hits per key in a window of ``window`` seconds from its first hit."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        self.limit, self.window, self._clock = limit, window, clock

    def allow(self, records: Records, key: str) -> bool:
        now = self._clock()
        expired = rate_limits.c.window_start <= now - self.window
        counted = (
            insert(rate_limits)
            .values(key=key, window_start=now, hits=1)
            .on_conflict_do_update(
                index_elements=[rate_limits.c.key],
                set_={
                    "window_start": sa.case((expired, now), else_=rate_limits.c.window_start),
                    "hits": sa.case((expired, 1), else_=rate_limits.c.hits + 1),
                },
            )
            .returning(rate_limits.c.hits)
        )
        hits = records.transact(lambda c: c.execute(counted).scalar_one())
        return int(hits) <= self.limit


class LoginThrottle:
    """Slows down password guessing without locking anyone out.

    Only wrong passwords count, per (username, address) and, from many more, per address.
    After ``free`` failures each try must wait ``first_delay`` seconds, doubling per failure
    up to ``max_delay``; failures are forgotten ``memory`` seconds after the latest. A
    successful sign-in clears its (username, address) pair.
    """

    def __init__(
        self,
        free: int = settings.LOGIN_FREE_FAILURES,
        first_delay: float = settings.LOGIN_FIRST_DELAY_SECONDS,
        max_delay: float = settings.LOGIN_MAX_DELAY_SECONDS,
        memory: float = settings.LOGIN_FAILURE_MEMORY_SECONDS,
        address_free: int = settings.LOGIN_ADDRESS_FREE_FAILURES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.free, self.first_delay, self.max_delay = free, first_delay, max_delay
        self.memory, self.address_free = memory, address_free
        self._clock = clock

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        name = (username or "").strip().lower()[:100]
        return [
            (SEP.join(("user", name, address)), self.free),
            (SEP.join(("address", address)), self.address_free),
        ]

    def _wait(self, found: tuple[int, float] | None, free: int, now: float) -> float:
        if found is None:
            return 0.0
        failures, last = found
        if now - last > self.memory or failures < free:
            return 0.0
        delay = min(self.max_delay, self.first_delay * 2.0 ** min(failures - free, 60))
        return max(0.0, last + delay - now)

    def _waits(self, c: sa.Connection, keys: list[tuple[str, int]], now: float) -> float:
        rows = c.execute(
            sa.select(login_failures.c.key, login_failures.c.failures, login_failures.c.last).where(
                login_failures.c.key.in_([k for k, _ in keys])
            )
        ).all()
        found = {key: (failures, last) for key, failures, last in rows}
        return max(self._wait(found.get(key), free, now) for key, free in keys)

    def wait(self, records: Records, username: str, address: str) -> float:
        """Seconds before ``username`` may try again from ``address`` (0: now)."""
        with records.connect() as c:
            return self._waits(c, self._keys(username, address), self._clock())

    def failed(self, records: Records, username: str, address: str) -> float:
        """Count a wrong password; returns the wait it now puts on the next try. Failures
        older than the memory are forgotten here, so the table holds only live ones."""
        now, keys = self._clock(), self._keys(username, address)
        forgotten = login_failures.c.last < now - self.memory

        def count(c: sa.Connection) -> float:
            c.execute(sa.delete(login_failures).where(forgotten))
            for key, _ in keys:
                c.execute(
                    insert(login_failures)
                    .values(key=key, failures=1, last=now)
                    .on_conflict_do_update(
                        index_elements=[login_failures.c.key],
                        set_={"failures": login_failures.c.failures + 1, "last": now},
                    )
                )
            return self._waits(c, keys, now)

        return records.transact(count)

    def succeeded(self, records: Records, username: str, address: str) -> None:
        key = self._keys(username, address)[0][0]
        records.transact(
            lambda c: c.execute(sa.delete(login_failures).where(login_failures.c.key == key))
        )


def signing_secret(records: Records) -> str:
    """The secret every worker signs with: made by the first that asks, then read."""
    made = secrets.token_urlsafe(32)

    def get(c: sa.Connection) -> str:
        c.execute(
            insert(app_secrets)
            .values(name="signing", value=made, created_at=utc_now())
            .on_conflict_do_nothing(index_elements=[app_secrets.c.name])
        )
        return str(
            c.execute(
                sa.select(app_secrets.c.value).where(app_secrets.c.name == "signing")
            ).scalar_one()
        )

    return records.transact(get)
