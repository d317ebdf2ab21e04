"""Two writers that both read before either writes: the race a check-then-write rule must
survive on PostgreSQL.

:func:`run_racing` runs calls in threads on a records engine; each thread's first INSERT or
UPDATE waits at a barrier until every thread has reached its own, so all of them have read
the stored rows first. SERIALIZABLE then refuses all but one commit, and the losers' reruns
(``Records.transact``) are let through without waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa


def run_racing(engine: sa.Engine, calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Each call's result (or the exception it raised), in the order of ``calls``."""
    barrier = threading.Barrier(len(calls))
    waited: set[int] = set()
    lock = threading.Lock()

    def first_write_waits(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if not statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            return
        with lock:
            first = threading.get_ident() not in waited
            waited.add(threading.get_ident())
        if first:
            barrier.wait(timeout=20)

    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:  # reported to the test, which says what it expects
            outcomes[i] = exc

    sa.event.listen(engine, "before_cursor_execute", first_write_waits)
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(engine, "before_cursor_execute", first_write_waits)
    assert len(waited) == len(calls), "a writer never wrote: the race was not run"
    return outcomes
