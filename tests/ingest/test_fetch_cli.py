"""``beatbook fetch`` as a real process against the local police.uk server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fetch_support import AREA, COVERAGE, answered, fetch_base, server

from beatbook.store import STORE_ENV, Store
from support.policeuk_server import Server, month_crimes

__all__ = ["fetch_base", "server"]  # fixtures


def _run(store: Path, server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("beatbook")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]
    env = {k: v for k, v in os.environ.items() if k != STORE_ENV}
    return subprocess.run(
        [*command, "--store", str(store), "fetch", "--api-url", server.url, *args],
        capture_output=True,
        text=True,
        env={**env, "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=120,
    )


def test_fetch_latest_prints_what_it_stored(fetch_base: Path, server: Server, tmp_path) -> None:
    store = tmp_path / "store.duckdb"
    store.write_bytes(fetch_base.read_bytes())
    done = _run(store, server, "--area", AREA, "--month", "latest", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    latest = answered("2025-09")
    assert result["month"] == "2025-09" and result["coverage"] == COVERAGE
    assert result["rows_stored"] == len(latest) > 0
    assert result["asb_rows"] == sum(not c["persistent_id"] for c in latest)
    assert len(month_crimes("2025-09")) > result["rows_stored"]  # the area, not the force
    again = _run(store, server, "--area", AREA, "--month", "2025-09")
    assert again.returncode == 0, again.stderr
    assert f"replacing {len(latest):,} rows" in again.stdout
    with Store(store, read_only=True) as st:
        assert st.scalar("SELECT count(*) FROM street_crimes WHERE month = '2025-09-01'") == len(
            latest
        )


def test_fetch_refuses_a_whole_force_and_a_month_the_api_lacks(
    fetch_base: Path, server: Server, tmp_path
) -> None:
    store = tmp_path / "store.duckdb"
    store.write_bytes(fetch_base.read_bytes())
    force = _run(store, server, "--area", "Leicestershire")
    assert force.returncode == 2
    assert "whole force area" in force.stderr and "Traceback" not in force.stderr
    month = _run(store, server, "--area", AREA, "--month", "2030-01")
    assert month.returncode == 2
    assert "latest 2025-09" in month.stderr
