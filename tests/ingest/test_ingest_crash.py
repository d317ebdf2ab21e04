"""kill -9 during an import of a police.uk archive: every month is stored whole or not at
all, the months before the kill stay stored, and running the import again resumes it.

A real subprocess opens a store that already holds real 2020-01, then imports an archive
in police.uk's layout holding a re-published 2020-01 (rows dropped, outcomes changed) and
the other real months of 2020, and is killed with SIGKILL at several points. Each month is
one transaction, so afterwards the store holds the archive's months up to some month, each
exactly as a full import stores it, and the rest as before; the same import run again
skips the stored months (``unchanged``, by each member's sha256) and ends in the state a
run that was never killed gives.
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
from ingest_support import fingerprint, partition_consistency, raw_bytes, republish, street_file

from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support.archives import write_zip

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

CHILD = """
import sys
from beatbook.ingest import files
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store

files.TRANSACTION_BYTES = 1  # one month per transaction, as a national archive's months are

class Say:
    def scanned(self, name): pass
    def month(self, month, files): print("month", month, flush=True)
    def done(self, result): pass

with Store(sys.argv[1]) as store:
    print("started", flush=True)
    ingest(store, sys.argv[2:], progress=Say())
    print("done", flush=True)
"""
OLD_ROWS, DROPPED = 8852, 10
MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]


def state(store: Store) -> tuple:
    """Everything in the store except the import timestamps (which differ run to run)."""
    tables = fingerprint(store)
    tables.pop("partitions")
    partitions = store.rows("SELECT * EXCLUDE (ingested_at) FROM partitions ORDER BY ALL")
    return tables, partitions


def partitions(store: Store) -> dict[str, tuple]:
    return {
        month: rest
        for month, *rest in store.rows(
            "SELECT strftime(month, '%Y-%m'), source_file, source_sha256, rows_stored, origin "
            "FROM partitions ORDER BY month"
        )
    }


def run_child(store: Path, archive: Path, kill_at: str | None, delay: float) -> bool:
    """Run the import in a subprocess; SIGKILL it ``delay`` s after it prints ``kill_at``
    ('started', or 'month YYYY-MM' when that month begins). Returns whether it finished."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store), str(archive)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    if kill_at is None:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        return "done" in out
    seen = []
    while (line := proc.stdout.readline()) and line.strip() != kill_at:
        seen.append(line.strip())
    assert line, f"child ended before printing {kill_at!r}: {seen} {proc.stderr.read()}"
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):  # already finished
        os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    return "done" in out


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    """The store before (real 2020-01 only), the archive, and what a full import stores."""
    folder = tmp_path_factory.mktemp("crash")
    before = folder / "before.duckdb"
    with Store(before) as st:
        ingest(st, [street_file("2020-01")])
        old_state, old_partitions = state(st), partitions(st)
    new_january, _ = republish("2020-01", seed=5, drop=DROPPED)
    members = {"2020-01/2020-01-leicestershire-street.csv": new_january}
    for m in MONTHS[1:]:
        members[f"{m}/{m}-leicestershire-street.csv"] = raw_bytes(street_file(m))
    archive = write_zip(folder / "2020-12.zip", members)
    full = folder / "full.duckdb"
    shutil.copyfile(before, full)
    assert run_child(full, archive, None, 0)
    with Store(full) as st:
        new_state, new_partitions = state(st), partitions(st)
        assert partition_consistency(st) == []
        assert new_partitions["2020-01"][2] == OLD_ROWS - DROPPED
        assert {p[3] for p in new_partitions.values()} == {"archive"}
    return before, archive, (old_state, old_partitions), (new_state, new_partitions)


# (what the delay counts from, seconds): the store open, or a month's transaction begun.
KILLS = [("started", 0.3), ("month 2020-02", 0.0), ("month 2020-05", 0.1), ("month 2020-11", 0.2)]


@pytest.mark.parametrize(("mark", "delay"), KILLS)
def test_a_killed_import_keeps_whole_months_and_resumes(
    tmp_path: Path, setup, mark: str, delay: float
) -> None:
    before, archive, (old_state, old_partitions), (new_state, new_partitions) = setup
    store = tmp_path / "store.duckdb"
    shutil.copyfile(before, store)
    finished = run_child(store, archive, mark, delay)

    with Store(store) as st:  # opens (and replays its write-ahead log) without error
        assert partition_consistency(st) == []
        got = partitions(st)
    # The archive's months stored are the first k, each exactly as the full import stores it;
    # the rest are as before (2020-01 the old publication, the others absent).
    k = sum(got.get(m) == new_partitions[m] for m in MONTHS)
    assert all(got.get(m) == new_partitions[m] for m in MONTHS[:k])
    assert {m: got[m] for m in MONTHS[k:] if m in got} == {
        m: old_partitions[m] for m in MONTHS[k:] if m in old_partitions
    }
    if finished:
        assert k == len(MONTHS)
    if mark.startswith("month"):  # the months before the one begun were committed
        assert k >= MONTHS.index(mark.split()[1])
    else:
        assert k < len(MONTHS) or finished

    # Run again: the months stored are skipped as unchanged, the rest stored.
    with Store(store) as st:
        results = ingest(st, [archive])
        assert [r.status for r in results] == ["unchanged"] * k + ["stored"] * (len(MONTHS) - k)
        assert state(st) == new_state
