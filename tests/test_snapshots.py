"""snapshots.next_version: an import writes a copy of the store file that replaces it whole, or
not at all; a reader keeps the version it opened; copies left by a killed import go."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from beatbook.errors import StoreError
from beatbook.snapshots import identity, next_version


def _file(path: Path, value: int) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE TABLE t AS SELECT ? AS v", [value])
    con.close()
    return path


def _value(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT v FROM t").fetchone()[0])


def test_the_copy_replaces_the_file_and_readers_keep_their_version(tmp_path: Path) -> None:
    path = _file(tmp_path / "s.duckdb", 1)
    before = identity(path)
    reader = duckdb.connect(str(path), read_only=True)  # a server worker, reading
    with next_version(path) as work:
        assert work.name == f"s.duckdb.next-{os.getpid()}"
        con = duckdb.connect(str(work))
        con.execute("UPDATE t SET v = 2")
        con.close()
        assert _value(reader) == 1  # nothing switched until the import is complete
    assert identity(path) != before
    assert _value(reader) == 1  # its open file is the old version, whole
    reader.close()
    again = duckdb.connect(str(path), read_only=True)
    assert _value(again) == 2
    again.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb", "s.duckdb.import.lock"]


def test_a_failed_import_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = _file(tmp_path / "s.duckdb", 1)
    before = path.read_bytes()
    with pytest.raises(RuntimeError), next_version(path) as work:
        con = duckdb.connect(str(work))
        con.execute("UPDATE t SET v = 3")
        con.close()
        raise RuntimeError("the third month's file is bad")
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.next-*"))


def test_a_killed_imports_copy_is_removed_by_the_next(tmp_path: Path) -> None:
    path = _file(tmp_path / "s.duckdb", 1)
    dead = 2**22 + 7  # above Linux's default pid_max: no process has it
    left = tmp_path / f"s.duckdb.next-{dead}"
    shutil.copyfile(path, left)
    left_wal = tmp_path / f"s.duckdb.next-{dead}.wal"
    left_wal.write_bytes(b"x")
    running = tmp_path / f"s.duckdb.next-{os.getppid()}"  # a live process's import: kept
    running.write_bytes(b"")
    with next_version(path):
        assert not left.exists() and not left_wal.exists()
    assert running.exists()


def test_a_store_with_unfinished_changes_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path / "s.duckdb", 1)
    (tmp_path / "s.duckdb.wal").write_bytes(b"x")
    with pytest.raises(StoreError, match="unfinished changes"), next_version(path):
        pass
    with pytest.raises(StoreError, match="does not exist"), next_version(tmp_path / "none"):
        pass
