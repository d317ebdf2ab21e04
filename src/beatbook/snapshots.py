"""Imports while the store is being read: the crime data is written to a copy of the store
file, which then replaces the file in one rename.

With the team's records in PostgreSQL, every server worker and team command only reads the
store file (``--database``), so an import cannot write it in place: DuckDB gives a file one
writer and no readers beside it, and a reader must never see half of an import. Instead
:func:`next_version` copies the file, the import writes the copy (all of its months), and
``os.replace`` switches it in. A reader holding the old file keeps reading the old
version until it reopens; the web app reopens at its next request (``web/db.py``). A kill
at any moment leaves the old file whole: the copy is named ``FILE.next-PID`` and removed by
the next import.

Imports take turns on ``FILE.import.lock``. The copy costs the file's size on disk, once, for
the length of the import (a reflink where the file system has them).

:func:`import_target` is where an import writes, the one rule for every caller: the command
line (``cli/_common.import_store``) and the web desk (``web/db.py``, with a database).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from beatbook.errors import StoreError
from beatbook.store import Store, default_store_path

NEXT = ".next-"  # FILE.next-PID: an import's copy, switched in when it is complete


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(path: Path) -> None:
    """Remove copies left by imports that were killed."""
    for left in path.parent.glob(path.name + NEXT + "*"):
        pid = left.name[len(path.name) + len(NEXT) :].split(".")[0]  # FILE.next-PID[.wal]
        if not pid.isdigit() or not _alive(int(pid)):
            left.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def next_version(path: Path) -> Iterator[Path]:
    """A copy of the store file at ``path`` to import into: it replaces ``path`` when the block
    ends, or is removed if the block raises. The block must close what it opened on the copy
    (DuckDB writes its last changes on closing)."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"store {path} does not exist: import into it once without --database")
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        raise StoreError(
            f"store {path} has unfinished changes ({wal.name}): open it once for writing "
            "with no one reading it, or restore it"
        )
    with open(path.with_name(path.name + ".import.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one import at a time
        _sweep(path)
        work = path.with_name(f"{path.name}{NEXT}{os.getpid()}")
        try:
            shutil.copyfile(path, work)
            yield work
            work_wal = work.with_name(work.name + ".wal")
            if work_wal.exists():
                raise StoreError(f"the import left {work_wal.name}: the store was not switched")
            _fsync(work)
            os.replace(work, path)
            _fsync(path.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                work.unlink()
            with contextlib.suppress(FileNotFoundError):
                work.with_name(work.name + ".wal").unlink()


@contextmanager
def import_target(path: Path | None, database: str | None) -> Iterator[Store]:
    """The store an import of crime or reference data writes. Embedded (``database`` None):
    the file itself, opened for writing. With the team's records in ``database``, servers and
    team commands read the file as the import runs: a copy (:func:`next_version`), switched in
    whole when the block ends; a failed or killed import leaves the file as it was."""
    if database is None:
        with Store(path) as st:
            yield st
        return
    with next_version(path or default_store_path()) as work, Store(work) as st:
        yield st


def identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` now (device, inode): it changes when an import switches one in."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino
