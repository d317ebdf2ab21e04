"""The ops command line on the real sample store: import, show, list, the help examples, refusals."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from ops_support import OPERATIONS_CSV, RESULTS_CSV, define_west
from typer.testing import CliRunner

from beatbook.cli.main import app
from beatbook.operations import csv_import as operations_csv
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import ROOT

# --- the command line --------------------------------------------------------------------------------


@pytest.fixture
def store_file(sample_store_path: Path, tmp_path: Path) -> Path:
    """A closed copy of the sample store with West Leicester defined (for CLI runs)."""
    path = tmp_path / "ops.duckdb"
    shutil.copyfile(sample_store_path, path)
    with Store(path) as st:
        define_west(st)
    return path


def _run(store: Path, *args: str) -> str:
    result = CliRunner().invoke(
        app, ["--store", str(store), *args], env={"COLUMNS": "200", STORE_ENV: None}
    )
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_cli_import_show_list_json(store_file: Path) -> None:
    _run(store_file, "ops", "import", str(OPERATIONS_CSV), str(RESULTS_CSV), "--by", "PC 2741")
    shown = json.loads(_run(store_file, "ops", "show", "Operation Lantern", "--json"))
    assert set(shown) == {
        "operation",
        "from",
        "to",
        "areas",
        "description",
        "measures",
        "violations",
    }
    [visits] = shown["measures"]
    assert set(visits) == {
        "measure",
        "label",
        "total",
        "areas",
        "unattributed",
        "text",
        "unattributed_at_least",
        "unattributed_at_most",
    }
    assert (visits["total"], visits["unattributed"]) == (57, 57 - 23 - 19)
    listed = json.loads(_run(store_file, "ops", "list", "--json"))
    assert [(o["operation"], o["results"]) for o in listed] == [
        ("Operation Nightjar", 13),
        ("Operation Lantern", 3),
    ]
    text = _run(store_file, "ops", "show", "Operation Nightjar")
    assert "46 of 141 warrants were in the West Leicester area (33%)" in text


def test_cli_help_examples_run_in_order(store_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    monkeypatch.chdir(ROOT)  # the import example names data/sample/operations/
    for command in ("add", "record", "import", "show", "list"):
        help_text = _run(store_file, "ops", command, "--help")
        line = next(x for x in help_text.splitlines() if x.strip().startswith("Example:"))
        words = shlex.split(line.split("Example:", 1)[1])
        assert words[:3] == ["beatbook", "ops", command]
        _run(store_file, *words[1:])


def test_cli_refusal_is_one_line_and_exit_code_2(
    store_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from beatbook.cli.main import main

    with Store(store_file) as st:
        operations_csv.import_files(st, [OPERATIONS_CSV, RESULTS_CSV], by="PC 2741")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "beatbook",
            "--store",
            str(store_file),
            "ops",
            "record",
            "Operation Nightjar",
            "--area",
            "West Leicester",
            "--measure",
            "warrants",
            "--count",
            "146",
            "--by",
            "PC 1",
        ],
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --count 146: West Leicester warrants 146 > operation total 141 in Operation "
        "Nightjar (and 1 more); nothing was recorded"
    ]
