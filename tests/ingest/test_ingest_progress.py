"""`beatbook ingest`'s progress: a bar per month (per transaction: small months go together)
naming force and kind, with rows/s, on a terminal's stderr; nothing on stderr when it is a
pipe (CI) or with --json.

The command runs in a real subprocess; for the terminal case its stderr is a real
pseudo-terminal (``pty``), read to the end.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from support import archives

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def _command(store: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "beatbook.cli.main", "--store", str(store), "ingest", *args]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return archives.archive(tmp_path_factory.mktemp("a"), ["2025-01", "2025-02"], rows=100).path


def test_a_terminal_gets_a_bar_per_month_with_rows_per_second(
    archive: Path, tmp_path: Path
) -> None:
    primary, secondary = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    proc = subprocess.Popen(
        _command(tmp_path / "s.duckdb", str(archive)),
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(primary)
    assert proc.returncode == 0
    text = seen.decode("utf-8", "replace")
    assert "rows/s" in text
    # The two small months are one transaction: one bar for both, naming force and kind.
    assert any(f"2025-01 to 2025-02 {force} " in text for force in archives.FORCES)
    assert "rows/s" not in out.decode()  # the table on stdout stays plain


@pytest.mark.parametrize("json_out", [False, True])
def test_a_pipe_gets_plain_output(archive: Path, tmp_path: Path, json_out: bool) -> None:
    done = subprocess.run(
        _command(tmp_path / "s.duckdb", str(archive), *(["--json"] if json_out else [])),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    if json_out:
        results = json.loads(done.stdout)
        assert len(results) == 12
        assert {(r["origin"], r["publication"], r["status"]) for r in results} == {
            ("archive", "2025-02", "stored")
        }
    else:
        assert "\x1b[" not in done.stdout and "rows/s" not in done.stdout
