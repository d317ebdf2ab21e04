"""What the letter must never do, and how it is built: no reporter's contact or words in
anything published, the team's HTML shown as text, and the build in two steps (the store read
once into a record, then the letter built from the record alone)."""

from __future__ import annotations

import ast
import csv
import json
import re
import subprocess
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import duckdb

from beatbook.publish import update, update_facts
from beatbook.store import Store
from support.update_scenario import (
    AREA,
    CONCERNS_CSV,
    GOLDEN_HTML,
    GOLDEN_TXT,
    JULY,
    JUNE,
    WARDS,
    Scenario,
    parse_html,
    running,
    west_ward_codes,
)

# --- privacy --------------------------------------------------------------------------------


def test_no_contact_or_concern_text_is_published(
    scenario: Scenario, pdf_text: str, cli_run: tuple[subprocess.CompletedProcess[str], Path]
) -> None:
    with CONCERNS_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    contacts = [r["contact"] for r in rows if r["contact"].strip()]
    # free text longer than a category name ("street drinking outside the off-licence")
    words = [r["problem"] for r in rows if len(r["problem"].split()) >= 3]
    assert len(contacts) == 14 and len(words) >= 8
    proc, _ = cli_run
    assert proc.returncode == 0, proc.stderr
    published = {
        "update.html": (scenario.out / "update.html").read_text(encoding="utf-8"),
        "update.txt": (scenario.out / "update.txt").read_text(encoding="utf-8"),
        "update.pdf": pdf_text,
        "--json": proc.stdout,
        "facts": json.dumps(scenario.result.facts, default=str),
    }
    for where, text in published.items():
        folded = " ".join(text.split()).casefold()
        for secret in contacts + words:
            assert secret.casefold() not in folded, (where, secret)
        assert not re.search(r"[\w.+-]+@[\w-]+\.\w", text), where  # no e-mail address at all


# --- escaping --------------------------------------------------------------------------------


def test_team_text_is_escaped_not_run(scenario: Scenario) -> None:
    html = (scenario.out / "update.html").read_text(encoding="utf-8")
    assert "script" not in parse_html(html).tags
    assert "<script" not in html.lower()
    assert '&lt;script&gt;alert("team")&lt;/script&gt;' in html
    assert "<em>will</em>" in html  # the rest of the Markdown still applies
    assert [s["heading"] for s in scenario.result.facts["sections"]] == [
        "From your inspector",
        "News",
    ]


# --- gathered once, then built without the store ----------------------------------------------


def test_the_build_from_the_gathered_record_needs_no_store(
    scenario: Scenario, gathered: update_facts.UpdateInputs
) -> None:
    assert not any(isinstance(getattr(gathered, f.name), Store) for f in fields(gathered))
    built = update_facts.build(gathered)
    # the same as update.build on the open store, and the same published words as the golden files
    assert built.facts == scenario.result.facts
    assert built.images == scenario.result.images
    html, text = update.render(built.facts)
    assert html == GOLDEN_HTML.read_text(encoding="utf-8")
    assert text == GOLDEN_TXT.read_text(encoding="utf-8")
    assert update_facts.build(gathered).facts == built.facts  # the record is not used up


def test_the_gathered_record_holds_what_the_update_needs(
    scenario: Scenario,
    gathered: update_facts.UpdateInputs,
    db: Any,
    raw_db: duckdb.DuckDBPyConnection,
) -> None:
    assert (gathered.reference, gathered.month, gathered.data_to) == (AREA, JULY, JUNE)
    assert sorted(c["id"] for c in gathered.current) == sorted(r["id"] for r in running(db, JULY))
    # assessed to the latest data: June's priorities still open, not the closed one
    assert sorted(gathered.assessments) == sorted(
        scenario.ids[k] for k in ("continued", "residents", "review")
    )
    assert gathered.trends is not None and len(gathered.trends.months) == 13
    assert [w for w, _ in gathered.wards] == sorted(WARDS)
    assert [op["operation"] for op in gathered.operations] == ["Operation Heron"]
    # results in West and two of its wards share ground with West; Castle's alone does not
    codes = west_ward_codes(raw_db)
    inside = {ref for ref, ok in gathered.shares_ground.items() if ok}
    assert inside == {AREA, codes["Westcotes"], codes["Fosse"]}
    assert len(gathered.shares_ground) == len(inside) + 1
    assert len(gathered.engagements) == 4  # T-01, T-02, T-03, T-07


def test_the_build_follows_the_record_alone(gathered: update_facts.UpdateInputs) -> None:
    """A record changed by hand is built as it says: a month without priorities or
    engagements has no trend charts and says so, with the map of the wards still drawn."""
    quiet = update_facts.build(replace(gathered, current=(), trends=None, engagements=()))
    assert quiet.facts["priorities"] == [] and quiet.facts["trends"] == []
    assert quiet.facts["engagements"] == []
    assert sorted(quiet.images) == ["map.png"]
    assert quiet.facts["map"]["wards"] == sorted(WARDS)


def test_the_pure_build_takes_no_store() -> None:
    """update_facts neither imports the store or its queries nor takes a store anywhere."""
    tree = ast.parse(Path(update_facts.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not imported & {"beatbook.store", "beatbook.queries"}, imported
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            assert "store" not in [a.arg for a in node.args.args + node.args.kwonlyargs], node.name
