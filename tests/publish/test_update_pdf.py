"""What the letter says, read back from the real PDF (poppler's ``pdftotext``) and HTML and
checked against independent SQL over the scenario store and the raw police.uk and ONS files:
this month's priorities numbered as on the map, last month's "you said, we did", operation
results in the team area only, the engagements of the coming weeks, and alt text for every
picture."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import duckdb

from support.browser import ARTIFACTS
from support.problem_words import PROBLEM_WORDS
from support.update_scenario import (
    AREA,
    JULY,
    JUNE,
    MEASURE_WORDS,
    RAISED_BY,
    WARDS,
    Scenario,
    parse_html,
    running,
    west_ward_codes,
)


def test_pdf_is_real_and_says_what_the_store_holds(
    scenario: Scenario, db: Any, raw_db: duckdb.DuckDBPyConnection, pdf_text: str
) -> None:
    pdf = scenario.out / "update.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)[1])  # type: ignore[index]
    assert 2 <= pages <= 8
    text = pdf_text
    assert "Community update: July 2021" in text
    assert "police.uk data to June 2021" in text  # the latest month stored before July

    # this month's priorities, numbered by ward then place as on the map
    for number, p in enumerate(running(db, JULY), start=1):
        assert f"{number}. {p['label']}: {PROBLEM_WORDS[p['problem']]}" in text
    # last month's: you said, we did
    for p in running(db, JUNE):
        assert f"{RAISED_BY[p['origin']]} {PROBLEM_WORDS[p['problem']]} at {p['label']}." in text

    # operation results: the totals and every area in West, never Castle's
    codes = west_ward_codes(raw_db).values()
    rows = db.execute(
        """
        SELECT r.operation, r.area, r.measure, r.count,
               (SELECT t.count FROM operation_results t WHERE t.operation = r.operation
                AND t.measure = r.measure AND t.area = '*') AS total
        FROM operation_results r JOIN operations o ON o.name = r.operation
        WHERE o.starts <= DATE '2021-07-31' AND o.ends >= DATE '2021-04-01'
        """
    ).fetchall()
    inside = [r for r in rows if r[1] == AREA or any(r[1].endswith(c) for c in codes)]
    outside = [r for r in rows if r[1] != "*" and r not in inside]
    assert len(inside) == 4 and len(outside) == 2
    for _, _, measure, _, total in rows:
        assert f"{total:,} {MEASURE_WORDS[measure]} in all" in text
    for _, _, _, count, total in inside:
        assert f"{count:,} of {total:,}" in text
    for _, _, _, count, total in outside:
        assert f"{count:,} of {total:,}" not in text
    assert "Castle" not in text and "Operation Old" not in text

    # engagements in West (or one of its wards) from 1 July for six weeks
    when = db.execute(
        "SELECT starts FROM engagements WHERE starts >= DATE '2021-07-01' "
        "AND starts < DATE '2021-07-01' + INTERVAL 42 DAY "
        "AND area_name IN (SELECT unnest(?::VARCHAR[])) ORDER BY starts",
        [["West", *WARDS]],
    ).fetchall()
    assert len(when) == 4
    for (starts,) in when:
        assert f"{starts:%A} {starts.day} {starts:%B}" in text
    for absent in ("Saturday 10 July", "Thursday 12 August", "Wednesday 30 June"):
        assert absent not in text

    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / "update-west-2021-07-page1"
    stem.with_suffix(".png").unlink(missing_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
    )
    png = stem.with_suffix(".png")
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_image_has_alt_text_and_the_map_names_the_places(scenario: Scenario, db: Any) -> None:
    images = parse_html((scenario.out / "update.html").read_text(encoding="utf-8")).images
    assert len(images) == 1 + len(scenario.result.facts["trends"])
    for img in images:
        assert (img.get("alt") or "").strip(), img
        assert (scenario.out / str(img["src"])).is_file()
    (the_map,) = [i for i in images if i["src"] == "map.png"]
    for number, p in enumerate(running(db, JULY), start=1):
        assert f"{number}, {p['label']}" in str(the_map["alt"])
    for ward in WARDS:
        assert ward in str(the_map["alt"])
