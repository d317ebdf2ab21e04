"""The JAG pack as printed, read back from the real PDF (WeasyPrint, then pypdf): its first
page is the meeting's agenda with every proposal and running priority once; every month of
every card's evidence is on the page; months read "Jun 2021"; one font family.

The store is the bundled sample with a three-ward area; July 2021's proposals are saved and
the first of each ward adopted, so August's pack has running priorities whose places and
problems score again this month (the case that printed one priority twice)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest

from beatbook.areas import add_area
from beatbook.priorities import lifecycle
from beatbook.priorities.propose import propose
from beatbook.publish import jag
from beatbook.store import Store

WARDS = ["Westcotes", "Fosse", "Western"]
MONTH_WORDS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _words(month: str) -> str:
    """'2021-06' -> 'Jun 2021', written out here rather than taken from BeatBook."""
    year, number = month.split("-")
    return f"{MONTH_WORDS[int(number) - 1]} {year}"


def _calendar(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    while f"{y}-{m:02d}" <= last:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@pytest.fixture(scope="module")
def printed(
    sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """August 2021's pack for the three wards, with three priorities adopted in July."""
    folder = tmp_path_factory.mktemp("jag")
    shutil.copyfile(sample_store_path, folder / "store.duckdb")
    with Store(folder / "store.duckdb") as store:
        add_area(store, "West", lsoas=[], wards=WARDS, geojson=None)
        july = propose(store, "custom:West", "2021-06", per_ward=2, method="mean-3")
        ids = lifecycle.save_proposals(store, july)
        firsts = [
            ids[i]
            for i, c in enumerate(c for w in july["wards"] for c in w["priorities"])
            if c["rank"] == 1
        ]
        for pid in firsts:
            lifecycle.decide(store, pid, "adopted", "Insp. Test", month=dt.date(2021, 7, 1))
        adopted = store.records(
            "SELECT p.priority_id, p.place, p.place_key, p.problem FROM priorities p "
            "JOIN priority_events e USING (priority_id) WHERE e.action = 'adopted' "
            "ORDER BY p.priority_id"
        )
        _, pdf, pack = jag.write(
            store, "custom:West", "2021-07", folder / "west", per_ward=2, method="mean-3"
        )
        reader = pypdf.PdfReader(pdf)
        yield {
            "pack": pack,
            "reader": reader,
            "pages": [re.sub(r"\s+", " ", p.extract_text()) for p in reader.pages],
            "adopted": adopted,
        }


def _new(pack: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for w in pack["proposal"]["wards"] for c in w["priorities"]]


def test_first_page_is_the_agenda_with_every_proposal_and_running_priority(
    printed: dict[str, Any],
) -> None:
    first = printed["reader"].pages[0]
    assert first.mediabox.width > first.mediabox.height  # landscape, room to write actions
    page = printed["pages"][0]
    assert "Joint Action Group pack: West, Aug 2021" in page
    assert "# status problem place score origin why action owner deadline" in page
    new = _new(printed["pack"])
    assert new and page.count("new proposal") == len(new)
    for c in new:
        assert f"{c['rank']} new proposal {c['problem_label']} {c['place']} {c['score']:.2f}" in (
            page
        )
    # the three adopted in the store (read with SQL), each once, continuing, never new
    assert len(printed["adopted"]) == 3
    assert page.count("continuing since Jul 2021") == 3
    for p in printed["adopted"]:
        assert page.count(f"(id {p['priority_id']})") == 1
    for ward in WARDS:
        assert ward in page
    assert "1. Proposed priorities" not in page  # the cards start on page 2
    assert "1. Proposed priorities for Aug 2021" in printed["pages"][1]


def test_no_place_and_problem_twice(printed: dict[str, Any]) -> None:
    pack = printed["pack"]
    adopted = {(p["place_key"], p["problem"]) for p in printed["adopted"]}
    new = [(c["place_key"], c["problem"]) for c in _new(pack)]
    running = [(p["place_key"], p["problem"]) for p in pack["running"]]
    agenda = [(r["place_key"], r["problem"]) for w in pack["agenda"] for r in w["rows"]]
    assert set(running) == adopted and not adopted & set(new)
    for listed in (new + running, agenda):
        assert len(listed) == len(set(listed))
    # the case that printed a priority twice: running places that score again this month
    assert any(p["evidence_now"] for p in pack["running"])
    # in print: each card heading once in the whole pack
    text = " ".join(printed["pages"])
    headings = [f"{c['place']}: {c['problem_label']}" for c in _new(pack)]
    headings += [f"{p['label']}: {p['evidence_now']['problem_label']}" for p in pack["running"]]
    for heading in headings:
        assert text.count(f"{heading} score") + text.count(f"{heading} continuing") == 1


def test_every_month_of_every_card_is_printed_inside_the_page(printed: dict[str, Any]) -> None:
    pack = printed["pack"]
    cards = _new(pack) + [p["evidence_now"] for p in pack["running"] if p["evidence_now"]]
    text = " ".join(printed["pages"][1:])
    for c in cards:
        months = [m["month"] for m in c["evidence"]["months"]]
        counts = {m["month"]: m["count"] for m in c["evidence"]["months"]}
        rows = " ".join(
            f"{_words(m)} {counts.get(m, 'no data')}" for m in _calendar(months[0], months[-1])
        )
        assert f"month count {rows}" in text, c["place"]
    assert "Jun 2021" in text and "Jul 2021" in text  # the two most recent months
    # and every run of text starts on the paper, inside the right margin (before, the last
    # two months' cells began beyond the page's right edge)
    for number, page in enumerate(printed["reader"].pages, 1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        starts = _text_starts(page)
        assert starts
        for x, y in starts:
            assert 0 < x < width - 30 and 0 < y < height, (number, x, y)


def _text_starts(page: pypdf.PageObject) -> list[tuple[float, float]]:
    """Where each run of text on the page begins, in points from the bottom left."""
    starts: list[tuple[float, float]] = []

    def visit(op: bytes, args: Any, cm: list[float], tm: list[float]) -> None:
        if op in (b"Tj", b"TJ"):
            starts.append(
                (tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
            )

    page.extract_text(visitor_operand_before=visit)
    return starts


def test_months_are_written_in_words(printed: dict[str, Any]) -> None:
    text = " ".join(printed["pages"])
    # '2021-06' or '21-06' (not an interval such as '0.21-13.43')
    assert not re.findall(r"(?<![\d.])(?:\d{4}|\d{2})-\d{2}(?![\d.])", text)
    assert "Data to Jul 2021" in text and "recent months May 2021 to Jul 2021" in text


def test_one_font_family(printed: dict[str, Any]) -> None:
    fonts = set()
    for page in printed["reader"].pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    families = {re.sub(r"-(Bold|Oblique|Italic|BoldOblique|BoldItalic)$", "", f) for f in fonts}
    assert families == {"DejaVu-Sans"}, fonts


def test_a_month_without_data_keeps_its_row_and_the_agenda_reason_is_short() -> None:
    months = [
        {"month": "2021-01", "count": 4, "window": "baseline"},
        {"month": "2021-03", "count": 0, "window": "recent"},
    ]
    assert jag.evidence_rows(months) == [
        {"label": "Jan 2021", "count": 4, "recent": False},
        {"label": "Feb 2021", "count": None, "recent": False},
        {"label": "Mar 2021", "count": 0, "recent": True},
    ]
    reason = (
        "drug offences: 0.7 a month in April to June 2021, no clear change from 0.4 a month; "
        "about 0.5 expected next month; 2 resident concerns about drug dealing"
    )
    assert jag.one_line(reason, "drug offences") == (
        "0.7 a month in April to June 2021, no clear change from 0.4 a month; "
        "2 resident concerns about drug dealing"
    )
