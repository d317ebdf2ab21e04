"""The checks `make check` runs, in the suite too, so CI enforces them: ruff's lint rules,
ruff's formatting (with no formatter escapes) and mypy (strict on stats/ and hotspots/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PATHS = ["src", "tests", "benchmarks"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(command: list[str]) -> None:
    result = _run(str(BIN / "ruff"), *command, *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_formatter_escapes() -> None:
    escaped = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in PATHS
        for path in (ROOT / folder).rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "# fmt: " + "skip" in line or "# fmt: " + "off" in line
    ]
    assert not escaped, "formatter escapes: " + ", ".join(escaped)


def test_mypy() -> None:
    result = _run(sys.executable, "-m", "mypy", "src")
    assert result.returncode == 0, result.stdout + result.stderr
