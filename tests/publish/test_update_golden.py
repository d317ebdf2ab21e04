"""The community update as a whole, on the scenario of :mod:`support.update_scenario`: the
golden HTML and text (``pytest --update-golden`` rewrites them, to be reviewed as a diff),
the scenario as designed, the command line (``--json``, a bad month), and templates: a
team's own, and a broken one that leaves ``--out`` as it was."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from beatbook.errors import InputError
from beatbook.publish import update
from support.update_scenario import (
    AREA,
    GOLDEN_HTML,
    GOLDEN_TXT,
    JULY,
    JUNE,
    MONTH,
    Scenario,
    run_cli,
    running,
)


@pytest.mark.parametrize(
    ("name", "golden"), [("update.html", GOLDEN_HTML), ("update.txt", GOLDEN_TXT)]
)
def test_golden_files(scenario: Scenario, update_golden: bool, name: str, golden: Path) -> None:
    written = (scenario.out / name).read_text(encoding="utf-8")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(written, encoding="utf-8")
        pytest.skip(f"rewrote {golden.name}")
    assert golden.exists(), f"{golden} is missing: run pytest --update-golden"
    assert written == golden.read_text(encoding="utf-8"), (
        "the community update changed; if intended, run: pytest tests/publish --update-golden"
    )


def test_the_scenario_is_as_designed(scenario: Scenario, db: Any) -> None:
    """The store holds what the other tests rely on (so none of them passes vacuously)."""
    july, june = running(db, JULY), running(db, JUNE)
    assert sorted(r["id"] for r in july) == sorted(
        scenario.ids[k] for k in ("continued", "residents", "labelled", "new")
    )
    assert sorted(r["id"] for r in june) == sorted(
        scenario.ids[k] for k in ("continued", "residents", "closed", "review")
    )
    assert db.execute("SELECT count(*) FROM concern_contacts").fetchone()[0] == 14
    assert db.execute("SELECT count(*) FROM update_texts WHERE area = ?", [AREA]).fetchone()[0] == 1
    assert [f.name for f in scenario.files[:3]] == ["update.html", "update.pdf", "update.txt"]
    assert all(f.is_file() and f.stat().st_size > 0 for f in scenario.files)


# --- templates ----------------------------------------------------------------------------


def _templates(folder: Path, broken: str | None, text: str) -> Path:
    shutil.copytree(update.TEMPLATES, folder, ignore=shutil.ignore_patterns("brief*"))
    if broken is None:
        return folder
    target = folder / broken
    if text:
        target.write_text(text, encoding="utf-8")
    else:
        target.unlink()
    return folder


@pytest.mark.parametrize(
    ("broken", "text", "expected"),
    [
        (
            "update.html.j2",
            "<!doctype html>\n<title>{{ u.title }}</title>\n<p>{{ u.month_label }</p>\n",
            r"update\.html\.j2, line 3: ",
        ),
        ("update.txt.j2", "", r"update\.txt\.j2 not found"),
        (
            "update.txt.j2",
            "{{ u.title }}\n\n{{ u.no_such_field }}\n",
            r"update\.txt\.j2, line 3: .*no_such_field",
        ),
    ],
    ids=["syntax-error", "missing-template", "undefined-field"],
)
def test_template_errors_leave_out_untouched(
    scenario: Scenario, tmp_path: Path, broken: str, text: str, expected: str
) -> None:
    templates = _templates(tmp_path / "templates", broken, text)
    parent = tmp_path / "published"
    out = parent / "update"
    out.mkdir(parents=True)
    (out / "update.html").write_text("last month's update", encoding="utf-8")
    with pytest.raises(InputError, match=expected) as caught:
        update.write(scenario.result, out, templates)
    assert str(templates / broken) in str(caught.value)
    assert sorted(p.name for p in parent.iterdir()) == ["update"]  # no scratch folder beside it
    assert sorted(p.name for p in out.iterdir()) == ["update.html"]
    assert (out / "update.html").read_text(encoding="utf-8") == "last month's update"


def test_own_templates_are_used(scenario: Scenario, tmp_path: Path) -> None:
    templates = _templates(
        tmp_path / "templates", "update.txt.j2", "{{ u.title }}: {{ u.data_to_label }}\n"
    )
    update.write(scenario.result, tmp_path / "out", templates)
    assert (tmp_path / "out" / "update.txt").read_text(
        encoding="utf-8"
    ) == "West community update, July 2021: June 2021\n"


# --- the command line ------------------------------------------------------------------------


def test_cli_json(
    scenario: Scenario, cli_run: tuple[subprocess.CompletedProcess[str], Path]
) -> None:
    proc, out = cli_run
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    for key in (
        "title",
        "month",
        "data_to",
        "priorities",
        "you_said_we_did",
        "operations",
        "engagements",
        "files",
    ):
        assert key in got, key
    assert (got["title"], got["month"], got["data_to"]) == (
        "West community update, July 2021",
        MONTH,
        "2021-06",
    )
    facts = json.loads(json.dumps(scenario.result.facts, default=str))
    for key in ("priorities", "you_said_we_did", "operations", "engagements", "trends", "sections"):
        assert got[key] == facts[key], key  # the stored team text is used without --text
    assert [Path(f).name for f in got["files"][:3]] == ["update.html", "update.pdf", "update.txt"]
    assert all(Path(f).is_file() and Path(f).parent == out for f in got["files"])
    assert (out / "update.txt").read_text(encoding="utf-8") == (
        scenario.out / "update.txt"
    ).read_text(encoding="utf-8")


def test_cli_bad_month_is_one_line_and_exit_2(scenario: Scenario, tmp_path: Path) -> None:
    proc = run_cli(
        "update",
        "--area",
        AREA,
        "--month",
        "2021-13",
        "--out",
        str(tmp_path / "out"),
        "--store",
        str(scenario.store_path),
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "--month" in proc.stderr and "2021-13" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
