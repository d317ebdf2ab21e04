"""The demo-shaped October 2025 letter (:mod:`support.demo_update`): each place and problem
listed once, the team's own reason shown beside the computed one, and "Your local team" as
the sample settings describe it. Expected values come from SQL over the store and from the
settings file read with ``tomllib``, not from BeatBook's records."""

from __future__ import annotations

import re
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import duckdb

from beatbook.priorities import lifecycle
from beatbook.publish import update
from beatbook.publish.team_content import Settings
from beatbook.store import Store
from support.demo_update import AREA, INSPECTOR, OCTOBER, UPDATE, DemoUpdate
from support.update_scenario import parse_html, pdf_pages


def test_no_place_and_problem_twice_in_the_letter(demo_update: DemoUpdate) -> None:
    con = duckdb.connect(str(demo_update.store_path), read_only=True)
    try:
        running = con.execute(
            """
            SELECT DISTINCT p.place_key, p.problem FROM priorities p
            WHERE p.area = ? AND EXISTS (
                SELECT 1 FROM priority_events e WHERE e.priority_id = p.priority_id
                AND e.action IN ('adopted', 'continued') AND e.month = DATE '2025-10-01')
            """,
            [AREA],
        ).fetchall()
    finally:
        con.close()
    items = [p for w in demo_update.result.facts["priorities"] for p in w["items"]]
    assert len(items) == len(running) == 4  # a three-ward team with four priorities
    html = (demo_update.out / "update.html").read_text(encoding="utf-8")
    headings = re.findall(r'<ol class="priorities".*?</ol>', html, flags=re.DOTALL)
    listed = [s for block in headings for s in re.findall(r"<li><strong>(.*?)</strong>", block)]
    assert len(listed) == len(items) and len(set(listed)) == len(listed), listed
    pdf = " ".join(pdf_pages(demo_update.out / "update.pdf"))
    for p in items:
        heading = f"{p['number']}. {p['place']}: {p['problem_label']}"
        assert pdf.count(f"{p['place']}: {p['problem_label']}") >= 1
        assert Counter(listed)[f"{p['place']}: {p['problem_label']}"] == 1, heading
    text = (demo_update.out / "update.txt").read_text(encoding="utf-8")
    numbered = re.findall(r"^  (\d+)\. (.+?)(?: \(continuing\))?$", text, flags=re.MULTILINE)
    assert [int(n) for n, _ in numbered] == list(range(1, len(items) + 1))
    assert len({label for _, label in numbered}) == len(items)


def test_the_team_reason_is_printed_beside_the_computed_one(
    demo_update: DemoUpdate, tmp_path: Path
) -> None:
    """A priority the team adds with its own reason (``priorities add --reason``) has that
    reason printed above the sentence computed from the data, in the HTML and the text."""
    copy = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_update.store_path, copy)
    reason = "Residents at the hostel told us of dealing on the corner every evening."
    with Store(copy) as st:
        place = next(
            p
            for p in lifecycle.list_priorities(st, area=AREA)
            if p["status"] == "proposed" and p["proposed_for"] == OCTOBER
        )
        pid = lifecycle.add_priority(
            st,
            area=AREA,
            ward=place["ward"],
            place=place["place"],
            place_key=place["place_key"],
            snap_points=place["snap_points"],
            problem="drugs",
            month=OCTOBER,
            origin="residents",
            actor=INSPECTOR,
            reason=reason,
        )
        lifecycle.decide(st, pid, "adopted", INSPECTOR, month=OCTOBER)
        built = update.build(st, "West Leicester", "2025-10", settings=Settings(), sections=[])
    (item,) = [p for w in built.facts["priorities"] for p in w["items"] if p["id"] == pid]
    assert item["team_reason"] == reason
    others = [p for w in built.facts["priorities"] for p in w["items"] if p["id"] != pid]
    assert others and all(p["team_reason"] is None for p in others)
    html, text = update.render(built.facts)
    assert f'<span class="why">{reason}</span>' in html
    assert f'<span class="why">{item["why"]}</span>' in html
    flat = " ".join(text.split())
    assert reason in flat and flat.index(reason) < flat.index(" ".join(item["why"].split()))
    assert html.count(reason) == 1


def test_your_local_team_from_the_sample_settings(demo_update: DemoUpdate) -> None:
    with (UPDATE / "team.toml").open("rb") as fh:
        officers = tomllib.load(fh)["officers"]
    pdf = pdf_pages(demo_update.out / "update.pdf")
    assert "Your local team" in pdf[-1]
    page = " ".join(pdf)
    html = (demo_update.out / "update.html").read_text(encoding="utf-8")
    hrefs = {a.get("href") for a in parse_html(html).links}
    for o in officers:
        wards = ", ".join(o.get("wards", []))
        assert f"{o['name']}, {o['role']}" + (f" ({wards})" if wards else "") in page, o["name"]
        if "email" in o:
            assert f"mailto:{o['email']}" in hrefs
        if "phone" in o:
            assert "tel:" + o["phone"].replace(" ", "") in hrefs
