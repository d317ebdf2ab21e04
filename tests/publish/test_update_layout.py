"""The letter as printed: two A4 pages for a three-ward team with four priorities (three at most
for a large area), each section
where a reader expects it, nothing that belongs together split across pages, and no page
mostly blank. Everything is read back from the real PDF with pypdf (page count, the page each
heading is on, how far down each page the text reaches), never from BeatBook's own records."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from beatbook.areas import add_area
from beatbook.priorities import lifecycle
from beatbook.priorities.propose import propose
from beatbook.publish import team_content, update
from beatbook.store import Store
from support.browser import ARTIFACTS
from support.demo_update import INSPECTOR, OCTOBER, UPDATE, DemoUpdate
from support.update_scenario import Scenario, lowest_text, page_of, pdf_pages

MAP_CAPTION = "this month's priority places, numbered as in the list"
# The letter's headings in reading order, and the page each starts on in the demo letter.
DEMO_SECTIONS = [
    ("From your inspector", 1),
    ("Our priorities for October 2025", 1),
    (MAP_CAPTION, 1),  # the map stays beside its priorities
    ("How the priority problems are going", 1),
    ("You said, we did", 2),
    ("Operations and results", 2),
    ("News", 2),
    ("Partner notices", 2),
    ("Meet your team", 2),
    ("How to report", 2),
    ("Your local team", 2),
    ("About the figures", 2),
]


def _letters(scenario: Scenario, demo_update: DemoUpdate) -> dict[str, Path]:
    return {
        "demo (West Leicester, October 2025)": demo_update.out / "update.pdf",
        "scenario (West, July 2021)": scenario.out / "update.pdf",
    }


def test_the_demo_letter_is_two_pages_with_each_section_in_its_place(
    demo_update: DemoUpdate,
) -> None:
    pdf = demo_update.out / "update.pdf"
    pages = pdf_pages(pdf)
    assert len(pages) == 2, f"{len(pages)} pages"
    found = [(heading, page_of(pages, heading)) for heading, _ in DEMO_SECTIONS]
    assert found == DEMO_SECTIONS
    # the headings in reading order on each page, too (the map, floated beside the list, is
    # read wherever the PDF draws it)
    for page in (1, 2):
        text = pages[page - 1]
        starts = [text.index(h) for h, p in DEMO_SECTIONS if p == page and h != MAP_CAPTION]
        assert starts == sorted(starts)


def test_the_scenario_letter_fits_two_pages_with_the_map_beside_its_priorities(
    scenario: Scenario,
) -> None:
    pages = pdf_pages(scenario.out / "update.pdf")
    assert len(pages) <= 2, f"{len(pages)} pages"
    priorities = page_of(pages, "Our priorities for July 2021")
    assert priorities == 1
    assert page_of(pages, MAP_CAPTION) == priorities


@pytest.mark.parametrize(
    "which", ["demo (West Leicester, October 2025)", "scenario (West, July 2021)"]
)
def test_no_page_is_mostly_blank(scenario: Scenario, demo_update: DemoUpdate, which: str) -> None:
    """Every page but the last is filled to at least four fifths of its height, and the last
    to at least a third (a page holding only a footer would not be)."""
    shares = lowest_text(_letters(scenario, demo_update)[which])
    assert all(s >= 0.8 for s in shares[:-1]), shares
    assert shares[-1] >= 0.33, shares


@pytest.mark.parametrize(
    "which", ["demo (West Leicester, October 2025)", "scenario (West, July 2021)"]
)
def test_an_operation_and_each_priority_stay_on_one_page(
    scenario: Scenario, demo_update: DemoUpdate, which: str
) -> None:
    pdf = _letters(scenario, demo_update)[which]
    facts = (demo_update.result if which.startswith("demo") else scenario.result).facts
    pages = pdf_pages(pdf)
    assert facts["operations"], "the letter has an operation to check"
    for op in facts["operations"]:
        name = page_of(pages, op["name"])
        assert name and all(page_of(pages, line) == name for line in op["results"]), op["name"]
    for ward in facts["priorities"]:
        for p in ward["items"]:
            head = page_of(pages, f"{p['place']}: {p['problem_label']}")
            # the reason's last words are on the page its heading is on
            assert head and page_of(pages, " ".join(p["why"].split()[-6:])) == head, p["place"]


def test_pictures_of_the_demo_letter_for_a_person_to_look_at(demo_update: DemoUpdate) -> None:
    """Pages 1 and 2 as PNGs in tests/artifacts (poppler's pdftoppm)."""
    pdf = demo_update.out / "update.pdf"
    assert len(PdfReader(pdf).pages) == 2
    ARTIFACTS.mkdir(exist_ok=True)
    for page in (1, 2):
        stem = ARTIFACTS / f"update-west-leicester-2025-10-page{page}"
        stem.with_suffix(".png").unlink(missing_ok=True)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "80",
                "-png",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(pdf),
                str(stem),
            ],
            check=True,
        )
        png = stem.with_suffix(".png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(png[16:20], "big")
        assert abs(width - 210 / 25.4 * 80) <= 1  # A4 at 80 dpi


def test_the_page_footer_counts_the_pages(demo_update: DemoUpdate) -> None:
    pages = pdf_pages(demo_update.out / "update.pdf")
    for n, text in enumerate(pages, start=1):
        assert re.search(rf"October 2025 · page {n} of {len(pages)}", text), text[-120:]


LARGE_WARDS = (
    "Westcotes",
    "Fosse",
    "Western",
    "Castle",
    "Saffron",
    "Braunstone Park & Rowley Fields",
    "Aylestone",
    "Eyres Monsell",
)


def test_a_large_area_fits_three_pages(demo_update: DemoUpdate, tmp_path: Path) -> None:
    """Eight wards with a priority each: at most three pages, none mostly blank."""
    copy = tmp_path / "large.duckdb"
    shutil.copyfile(demo_update.store_path, copy)
    with Store(copy) as st:
        add_area(
            st,
            "South West",
            lsoas=[],
            wards=[f"{w} (Leicester)" for w in LARGE_WARDS],
            geojson=None,
        )
        proposal = propose(st, "custom:South West", "2025-09", per_ward=1)
        for pid in lifecycle.save_proposals(st, proposal):
            lifecycle.decide(st, pid, "adopted", INSPECTOR, month=OCTOBER)
        settings = team_content.load_settings(UPDATE / "team.toml")
        _, sections = team_content.read_sections(UPDATE / "west-leicester-2025-10.md")
        result = update.build(st, "South West", "2025-10", settings=settings, sections=sections)
    update.write(result, tmp_path / "out")
    items = [p for w in result.facts["priorities"] for p in w["items"]]
    assert len(result.facts["priorities"]) >= 6 and len(items) >= 6
    pdf = tmp_path / "out" / "update.pdf"
    pages = pdf_pages(pdf)
    assert len(pages) <= 3, f"{len(pages)} pages"
    assert page_of(pages, "Our priorities for October 2025") == 1
    assert page_of(pages, MAP_CAPTION) == 1
    shares = lowest_text(pdf)
    assert all(s >= 0.8 for s in shares[:-1]) and shares[-1] >= 0.33, shares
