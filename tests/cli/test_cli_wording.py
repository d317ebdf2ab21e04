"""What the command line prints for tiny p-values and missing comparisons (issue 16, item 11)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from beatbook.cli.main import app


def test_compare_prints_small_p_values_as_less_than(sample_store_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "--store",
            str(sample_store_path),
            "compare",
            "--area",
            "Leicester",
            "--from",
            "2021-01",
            "--to",
            "2021-12",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "< 0.001" in result.output
    # No p-value cell reads a bare 0 (it used to print "0" for p below 0.0005).
    assert not re.search(r"│\s+0\s+│\s+(higher|lower|no clear)", result.output)
