"""The command line starts quickly: the analysis libraries load only for the commands that
use them, and ``beatbook ingest`` never loads pandas (checked in fresh interpreters)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STREET = ROOT / "data/sample/police-uk/leicestershire/2020-01-leicestershire-street.csv.gz"
HEAVY = ("scipy", "statsmodels", "pandas", "matplotlib", "weasyprint", "esda", "libpysal")


def _loaded_after(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of the heavy libraries a fresh interpreter has loaded after running ``code``."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_cli_loads_no_analysis_library_to_start() -> None:
    assert _loaded_after("import beatbook.cli.main") == []


def test_ingest_loads_no_analysis_library(tmp_path: Path) -> None:
    code = (
        "import beatbook.cli.main\n"
        "from beatbook.store import Store\n"
        "from beatbook.ingest.policeuk_csv import ingest\n"
        f"with Store({str(tmp_path / 'store.duckdb')!r}) as st:\n"
        f"    [result] = ingest(st, [{str(STREET)!r}])\n"
        "assert result.rows_stored == 8852, result"
    )
    assert _loaded_after(code) == []


def test_a_statistics_command_still_finds_its_libraries() -> None:
    """The lazy imports are there: the commands that need scipy load it themselves."""
    assert "scipy" in _loaded_after("import beatbook.cli.main\nfrom beatbook.figures import stats")


def test_a_rate_loads_neither_scipy_stats_nor_statsmodels() -> None:
    """``beatbook stats`` for a district (a count and its rate): scipy.stats and statsmodels
    (about 1 s each to import) load only where a test or a model needs them."""
    code = (
        "import beatbook.cli.main\n"
        "from beatbook.figures import stats\n"
        "from beatbook.stats import rate\n"
        "rate(1577, 368_600)"
    )
    assert _loaded_after(code, ("scipy.stats", "statsmodels", "pandas")) == []
