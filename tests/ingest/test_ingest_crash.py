"""kill -9 during an import: the store opens afterwards and holds the old state or the new
one, never a mix.

A real subprocess opens a store that already holds real 2020-01, then imports a
re-published 2020-01 (rows dropped, outcomes changed) plus every other bundled month
in one call, and is killed with SIGKILL at several points of the import (early, in the
middle, near the commit). One run that is not killed gives the "new" state.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ingest_support import (
    STOP_AND_SEARCH,
    fingerprint,
    partition_consistency,
    republish,
    street_file,
    street_months,
    write,
)

from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

CHILD = """
import sys
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store

with Store(sys.argv[1]) as store:
    print("started", flush=True)
    ingest(store, sys.argv[2:], on_file=lambda name: print(name, flush=True))
    print("done", flush=True)
"""
OLD_ROWS, DROPPED = 8852, 10


def state(store: Store) -> tuple:
    """Everything in the store except the import timestamps (which differ run to run)."""
    tables = fingerprint(store)
    tables.pop("partitions")
    partitions = store.rows("SELECT * EXCLUDE (ingested_at) FROM partitions ORDER BY ALL")
    return tables, partitions


def run_child(
    store: Path, inputs: list[Path], kill_after: float | None, mark: str = "started"
) -> tuple[bool, float]:
    """Run the import in a subprocess; SIGKILL it ``kill_after`` s after it prints ``mark``.

    The child prints 'started' once the store is open and each file's name as it
    begins importing it. Returns whether it finished, and the seconds from ``mark`` to
    its end (or to the kill).
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store), *map(str, inputs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    seen = []
    while (line := proc.stdout.readline()) and line.strip() != mark:
        seen.append(line.strip())
    assert line, f"child ended before printing {mark!r}: {seen} {proc.stderr.read()}"
    start = time.monotonic()
    if kill_after is None:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        return "done" in out, time.monotonic() - start
    time.sleep(kill_after)
    with contextlib.suppress(ProcessLookupError):  # already finished
        os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    return "done" in out, time.monotonic() - start


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    """The store before (real 2020-01 only), the inputs, and the state a full import gives."""
    folder = tmp_path_factory.mktemp("crash")
    before = folder / "before.duckdb"
    with Store(before) as st:
        ingest(st, [street_file("2020-01")])
        old_state = state(st)
    new_bytes, _ = republish("2020-01", seed=5, drop=DROPPED)
    inputs = [
        write(folder / "republished" / "2020-01-leicestershire-street.csv.gz", new_bytes),
        *(street_file(m) for m in street_months() if m != "2020-01"),
        STOP_AND_SEARCH,
    ]
    full = folder / "full.duckdb"
    shutil.copyfile(before, full)
    # Time from the last file's start to the end: its import, the commit and checkpoint.
    finished, last_to_end = run_child(full, inputs, kill_after=None, mark=str(inputs[-1]))
    assert finished
    with Store(full) as st:
        new_state = state(st)
        assert partition_consistency(st) == []
        assert st.first("SELECT count(*) FROM street_crimes WHERE month = '2020-01-01'") == (
            OLD_ROWS - DROPPED,
        )
        assert st.table_counts()["partitions"] == len(street_months()) + 1
    assert old_state != new_state
    return before, inputs, old_state, new_state, last_to_end


# (what the delay counts from, delay): seconds after the store is open (the import of
# 34 files takes a few seconds), or fractions of the time from the last file's start to
# the end, which land in the last file, the commit and the checkpoint.
KILLS = [
    ("started", 0.2),
    ("started", 0.5),
    ("started", 1.0),
    ("last", 0.5),
    ("last", 0.75),
    ("last", 0.85),
    ("last", 0.92),
    ("last", 0.97),
]


@pytest.mark.parametrize(("mark", "delay"), KILLS)
def test_kill_during_import_leaves_old_or_new_state(
    tmp_path: Path, setup, mark: str, delay: float
) -> None:
    before, inputs, old_state, new_state, last_to_end = setup
    store = tmp_path / "store.duckdb"
    shutil.copyfile(before, store)
    if mark == "started":
        finished, _ = run_child(store, inputs, kill_after=delay)
    else:
        finished, _ = run_child(store, inputs, kill_after=delay * last_to_end, mark=str(inputs[-1]))

    with Store(store) as st:  # opens (and replays its write-ahead log) without error
        assert partition_consistency(st) == []
        (jan,) = st.first("SELECT count(*) FROM street_crimes WHERE month = '2020-01-01'")
        assert jan in (OLD_ROWS, OLD_ROWS - DROPPED)
        got = state(st)
    if finished:
        assert got == new_state
    else:
        assert got in (old_state, new_state)  # one transaction: all of it or none
    if mark == "started" and delay < 1.0:
        assert not finished and got == old_state  # killed well before the commit
    # And the store is still writable after the crash.
    with Store(store) as st:
        ingest(st, [inputs[0]])
        assert st.first("SELECT count(*) FROM street_crimes WHERE month = '2020-01-01'") == (
            OLD_ROWS - DROPPED,
        )
