"""Every command's --help has an example that runs on the sample, and docs/cli.md names
every command and option (in-process)."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from beatbook.cli.main import app
from beatbook.store import STORE_ENV
from support.fixtures_store import ROOT

# --- help, examples and the CLI manual, docs/cli.md (in-process) --------------------------------


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    found = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*path, name))
        else:
            found.append((path, command))

    walk(get_command(app), ())
    return found


COMMANDS = _commands()
COMMAND_PATHS = [" ".join(path) for path, _ in COMMANDS]


def test_every_command_is_covered() -> None:
    assert set(COMMAND_PATHS) == {
        "ingest",
        "stats",
        "compare",
        "rank",
        "trend",
        "brief",
        "hotspots",
        "forecast",
        "evaluate",
        "places",
        "areas import-lookup",
        "areas import-population",
        "areas import-boundaries",
        "areas import-postcodes",
        "export",
        "areas add",
        "areas list",
        "concerns import",
        "concerns list",
        "concerns unmatched",
        "concerns match",
        "concerns close",
        "ops add",
        "ops record",
        "ops import",
        "ops show",
        "ops list",
        "engagements add",
        "engagements import",
        "engagements import-api",
        "engagements list",
        "engagements ical",
        "priorities propose",
        "priorities add",
        "priorities adopt",
        "priorities reject",
        "priorities continue",
        "priorities close",
        "priorities assess",
        "priorities list",
        "jag",
        "update",
        "serve",
        "users add",
        "users list",
        "users password",
        "users disable",
        "users enable",
        "users end-sessions",
        "check",
        "fetch",
        "db current",
        "db upgrade",
        "db downgrade",
        "db copy",
    }


def _help(path: str) -> str:
    result = CliRunner().invoke(
        app, [*path.split(), "--help"], env={"COLUMNS": "250", STORE_ENV: None}
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", COMMAND_PATHS)
def test_help_has_an_example(path: str) -> None:
    text = _help(path)
    examples = [line for line in text.splitlines() if line.strip().startswith("Example:")]
    assert examples, text
    assert f"beatbook {path}" in examples[0]
    assert "[bold]" not in text


READ_ONLY_EXAMPLES = [
    "stats",
    "compare",
    "rank",
    "trend",
    "areas list",
    "hotspots",
    "forecast",
    "evaluate",
    "places",
    "check",
]


@pytest.mark.parametrize("path", [*READ_ONLY_EXAMPLES, "areas add", "brief"])
def test_help_example_runs_on_the_sample(
    path: str, sample_store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = next(x for x in _help(path).splitlines() if x.strip().startswith("Example:"))
    words = shlex.split(line.split("Example:", 1)[1])
    assert words[0] == "beatbook"
    store = sample_store_path
    if path not in READ_ONLY_EXAMPLES:
        store = tmp_path / "copy.duckdb"
        shutil.copyfile(sample_store_path, store)
    monkeypatch.chdir(tmp_path)  # the brief example writes to brief/
    result = CliRunner().invoke(
        app, ["--store", str(store), *words[1:]], env={"COLUMNS": "200", STORE_ENV: None}
    )
    assert result.exit_code == 0, (result.output, result.exception)


def test_cli_manual_mentions_every_command_and_option() -> None:
    manual = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [f"beatbook {path}" for path in COMMAND_PATHS if f"beatbook {path}" not in manual]
    skip = {"--help", "--install-completion", "--show-completion"}
    params = [p for _, command in COMMANDS for p in command.params]
    params += list(get_command(app).params)
    for param in params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in skip and opt not in manual:
                missing.append(opt)
    assert not missing, f"docs/cli.md does not mention: {', '.join(sorted(set(missing)))}"
