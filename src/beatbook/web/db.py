"""The app's store: one open DuckDB database, a cursor per request, one writer at a time.

DuckDB allows one process to write a database file. The app holds it open for its whole
life and hands every request its own cursor (a connection to the same database, safe to
use beside the others). Reads run side by side; every write takes :attr:`Database.write`'s
lock first, so writes are serialised and none is lost or refused as a conflict (50 form
submissions at once all land: tested).

With the team's records in PostgreSQL (``database``), the app only reads the store file and
PostgreSQL orders the writers (SERIALIZABLE transactions, rerun when refused:
``records/engine.py``), so writes need no lock here and other processes may write too. An
import then switches a new file in (``snapshots.py``): the next request opens it, and the
old one is closed when the last request reading it ends. Each request reads one version of
the file from start to end (:meth:`Database.pinned`), never half of one import and half of
another.

An import from the desk (``/desk/import``) writes where :meth:`Database.importing` says: the
app's own file under the write lock when embedded, else a copy switched in whole, as the
import command does (``snapshots.import_target``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from beatbook import snapshots
from beatbook.errors import StoreError
from beatbook.records.engine import Records
from beatbook.store import Store


@dataclass
class _Version:
    """One version of the store file, open, and how many requests are reading it."""

    store: Store
    identity: tuple[int, int] | None
    number: int = 0  # which version this is since the app started (an import adds one)
    readers: int = 0
    retired: bool = False


_pinned: ContextVar[_Version | None] = ContextVar("beatbook_store_version", default=None)


class Database:
    def __init__(self, path: Path, database: str | None = None) -> None:
        self.path, self.database = path, database
        identity = snapshots.identity(path)
        # read-write when embedded: migrates the schema once, at start
        store = Store(path, read_only=database is not None, database=database)
        self.records: Records = store.team_records  # one engine for every request and version
        self._current = _Version(store, identity)
        self._lock = threading.Lock()  # the versions' reader counts and the switch
        self._writer: AbstractContextManager[object] = (
            threading.Lock() if database is None else nullcontext()
        )

    def _acquire(self) -> _Version:
        pinned = _pinned.get()
        with self._lock:
            if pinned is None:
                if self.database is not None and snapshots.identity(self.path) != (
                    self._current.identity
                ):
                    self._switch()
                pinned = self._current
            pinned.readers += 1
            return pinned

    def _switch(self) -> None:
        """Open the file an import switched in (called holding the lock). DuckDB keeps one
        instance per path in a process, and would hand back the old file for the same path:
        the new one is opened through a second name (a hard link, removed once open)."""
        alias = self.path.with_name(f"{self.path.name}.open-{os.getpid()}")
        try:
            alias.unlink(missing_ok=True)
            os.link(self.path, alias)
            identity = snapshots.identity(alias)
            store = Store(alias, read_only=True, database=self.database, records=self.records)
        except (OSError, StoreError):
            return  # not readable now: keep serving the version open, try at the next request
        finally:
            alias.unlink(missing_ok=True)
        old, self._current = self._current, _Version(store, identity, self._current.number + 1)
        old.retired = True
        if old.readers == 0:
            old.store.close()

    def _release(self, version: _Version) -> None:
        with self._lock:
            version.readers -= 1
            if version.retired and version.readers == 0:
                version.store.close()

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Every read in the block (a request) from the same version of the store file."""
        version = self._acquire()
        token = _pinned.set(version)
        try:
            yield
        finally:
            _pinned.reset(token)
            self._release(version)

    @contextmanager
    def read(self) -> Iterator[Store]:
        version = self._acquire()
        cursor = version.store.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            self._release(version)

    @contextmanager
    def write(self) -> Iterator[Store]:
        with self._writer, self.read() as cursor:
            yield cursor

    @contextmanager
    def importing(self) -> Iterator[Store]:
        """The store an import of police.uk files from the desk writes. Embedded: the file the
        app holds, through its own connection under the write lock (the desk's other writes
        wait for it; each month is its own transaction, so readers never see half of one).
        With a database: a copy of the file, switched in whole when the block ends and opened
        by the next request (``snapshots.import_target``, as the import command does); a
        failed import leaves the file as it was."""
        if self.database is None:
            with self.write() as store:
                try:
                    yield store
                finally:  # the file now holds other data, even after a failed import's months
                    self._current.number += 1
            return
        with snapshots.import_target(self.path, self.database) as store:
            yield store

    @property
    def version(self) -> int:
        """Which version of the store file this request reads: figures worked out from one
        version are kept under its number (``web/cache.py``)."""
        return (_pinned.get() or self._current).number

    def close(self) -> None:
        self._current.store.close()


class PinStoreVersion:
    """ASGI middleware: each HTTP request reads one version of the store file throughout."""

    def __init__(self, app: ASGIApp, db: Database) -> None:
        self.app, self.db = app, db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self.db.pinned():
            await self.app(scope, receive, send)
