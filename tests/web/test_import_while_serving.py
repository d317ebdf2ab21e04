"""``beatbook ingest`` while the desk serves (issue 20): with the team's records in PostgreSQL
the server only reads the store file, and an import of three months, run as its own process,
switches a new file in whole. Clients reading all the while see the store before the import or
after it, never one or two of its months, and no request fails. Without --database the server
holds the file and the import is refused, saying what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from beatbook.records.engine import DATABASE_ENV
from beatbook.store import STORE_ENV
from beatbook.web import create_app
from beatbook.web.testing import serving
from support.fixtures_store import POLICE
from support.postgres import fresh_database

NEW_MONTHS = ["2025-04", "2025-05", "2025-06"]  # the sample store ends at 2025-03
FILES = [str(POLICE / f"{m}-leicestershire-street.csv.gz") for m in NEW_MONTHS]
STATS = "/api/stats/Leicester"


def _ingest(store: Path, database: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (STORE_ENV, DATABASE_ENV)}
    if database is not None:
        env[DATABASE_ENV] = database
    return subprocess.run(
        [sys.executable, "-m", "beatbook.cli.main", "--store", str(store), "ingest", *FILES],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_import_switches_in_whole_under_load(
    sample_store_path: Path, tmp_path: Path, postgres_url: str
) -> None:
    store = tmp_path / "served.duckdb"
    shutil.copyfile(sample_store_path, store)
    seen: list[tuple[int, str, int, int]] = []
    stop = threading.Event()

    def read_all_the_while(url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while not stop.is_set():
                answer = client.get(STATS)
                body = answer.json() if answer.status_code == 200 else {}
                seen.append(
                    (
                        answer.status_code,
                        body.get("to", ""),
                        body.get("months", 0),
                        body.get("count", 0),
                    )
                )

    with fresh_database(postgres_url) as database:
        app = create_app(store, database=database)
        try:
            with serving(app) as url:
                before = httpx.get(url + STATS, timeout=60).json()
                readers = [
                    threading.Thread(target=read_all_the_while, args=(url,)) for _ in range(4)
                ]
                for reader in readers:
                    reader.start()
                try:
                    done = _ingest(store, database)
                    after = httpx.get(url + STATS, timeout=60).json()
                    count_after = len(seen)
                    while len(seen) < count_after + 8:  # a few more reads of the new file
                        threading.Event().wait(0.05)
                finally:
                    stop.set()
                    for reader in readers:
                        reader.join()
        finally:
            app.state.db.close()
    assert done.returncode == 0, done.stderr
    assert (before["to"], before["months"]) == ("2025-03", 3)
    assert (after["to"], after["months"]) == ("2025-06", 6)
    states = {(status, to, months, count) for status, to, months, count in seen}
    assert {s[0] for s in states} == {200}  # no request failed
    assert states == {
        (200, "2025-03", 3, before["count"]),
        (200, "2025-06", 6, after["count"]),
    }  # every answer is one whole version: never one or two of the three months
    assert not list(tmp_path.glob("served.duckdb.next-*"))


def test_without_a_database_a_served_store_refuses_an_import(
    sample_store_path: Path, tmp_path: Path
) -> None:
    store = tmp_path / "served.duckdb"
    shutil.copyfile(sample_store_path, store)
    app = create_app(store)  # embedded: the server writes the file
    try:
        refused = _ingest(store, None)
    finally:
        app.state.db.close()
    assert refused.returncode == 2
    assert "another process has it open" in refused.stderr
    assert "--database" in refused.stderr
