"""The app's store: one open DuckDB database, a cursor per request, one writer at a time.

DuckDB allows one process to write a database file. The app holds it open for its whole
life and hands every request its own cursor (a connection to the same database, safe to
use beside the others). Reads run side by side; every write takes :attr:`Database.write`'s
lock first, so writes are serialised and none is lost or refused as a conflict (50 form
submissions at once all land: tested).

With the team's records in PostgreSQL (``database``), the app only reads the store file and
PostgreSQL orders the writers (SERIALIZABLE transactions, rerun when refused:
``records/engine.py``), so writes need no lock here and other processes may write too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from beatbook.store import Store


class Database:
    def __init__(self, path: Path, database: str | None = None) -> None:
        # read-write when embedded: migrates the schema once, at start
        self.store = Store(path, read_only=database is not None, database=database)
        _ = self.store.team_records  # made once: every request's cursor shares its engine
        self._writer: AbstractContextManager[object] = (
            threading.Lock() if database is None else nullcontext()
        )

    @contextmanager
    def read(self) -> Iterator[Store]:
        cursor = self.store.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @contextmanager
    def write(self) -> Iterator[Store]:
        with self._writer:
            cursor = self.store.cursor()
            try:
                yield cursor
            finally:
                cursor.close()

    def close(self) -> None:
        self.store.close()
