"""The community update scenario the tests in ``tests/publish/test_update_*.py`` share: one
store, built once per session, and the update it gives for the "West" team area (Westcotes,
Fosse and Western wards of Leicester), July 2021.

The scenario: priorities proposed from the real police.uk data and adopted for June 2021 (one
continued into July, one closed, one left for review, one raised by residents), two new ones
adopted for July (one with a better label); an operation over June and July with results by
area, one of them outside West; engagements in and out of the area and of the six weeks; the
demo residents' concerns, with contacts; the team's Markdown with a ``<script>`` in it.

Expected values come from independent SQL over the store's tables, from the raw police.uk and
ONS files (:func:`raw_db`), from scipy and from poppler's ``pdftotext``, never from the same
BeatBook function. ``pytest --update-golden`` rewrites ``tests/golden/update-west-2021-07.*``.
The fixtures are re-exported by ``tests/publish/conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pypdf import PdfReader

from beatbook import engagements
from beatbook.areas import add_area
from beatbook.concerns.csv_import import import_concerns
from beatbook.operations import csv_import as operations_csv
from beatbook.priorities import lifecycle, review
from beatbook.priorities.propose import propose
from beatbook.publish import team_content, update, update_facts
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import ROOT

AREA = "custom:West"
WARDS = ("Westcotes", "Fosse", "Western")  # three real Leicester wards
MONTH = "2021-07"
BY = "Insp. Test"
JUNE, JULY = dt.date(2021, 6, 1), dt.date(2021, 7, 1)
GOLDEN = Path(__file__).parents[1] / "golden"
GOLDEN_HTML = GOLDEN / "update-west-2021-07.html"
GOLDEN_TXT = GOLDEN / "update-west-2021-07.txt"
CONCERNS_CSV = ROOT / "data" / "sample" / "concerns" / "leicester-concerns.csv"

# The test's own words for who raised a priority.
RAISED_BY = {
    "data": "Police data pointed to",
    "residents": "You told us about",
    "partners": "Partner agencies told us about",
    "mix": "You, partners and police data pointed to",
}

OPERATIONS = """operation,from,to,areas,description
Operation Heron,2021-06-07,2021-07-18,Leicester,Burglary and vehicle crime patrols (test entry)
Operation Old,2021-01-04,2021-02-28,custom:West,Ended before the update's months (test entry)
"""
# warrants and arrests in West, its wards and Castle (outside West); a measure with a total only
RESULTS = """operation,area,measure,count
Operation Heron,all,warrants,141
Operation Heron,custom:West,warrants,46
Operation Heron,Westcotes (Leicester),warrants,19
Operation Heron,Fosse (Leicester),warrants,11
Operation Heron,Castle (Leicester),warrants,37
Operation Heron,all,arrests,58
Operation Heron,custom:West,arrests,23
Operation Heron,Castle (Leicester),arrests,29
Operation Heron,all,other:bikes marked,74
Operation Old,all,warrants,5
Operation Old,custom:West,warrants,4
"""
MEASURE_WORDS = {"warrants": "warrants", "arrests": "arrests", "other:bikes marked": "bikes marked"}
# T-04 is outside West (Castle), T-05 the day after the six weeks, T-06 the day before July;
# T-07 is the last day of the six weeks (1 July + 41 days).
ENGAGEMENTS = """start,end,kind,place,area,title,notes,id
2021-07-03 10:00,12:00,street-survey,Narborough Road,Westcotes (Leicester),Street survey on Narborough Road,Tell us what you think,T-01
2021-07-14 18:30,20:00,community-meeting,New Parks Community Centre,Western (Leicester),Residents' meeting,,T-02
2021-07-20 15:00,16:00,school-visit,Fosse Primary School,Fosse (Leicester),Safer routes to school,,T-03
2021-07-10 10:00,12:00,surgery,Town Hall Square,Castle (Leicester),City centre surgery,,T-04
2021-08-12 10:00,12:00,surgery,Westcotes Library,Westcotes (Leicester),Beat surgery,After the six weeks,T-05
2021-06-30 10:00,12:00,surgery,Westcotes Library,custom:West,Beat surgery,Before the month,T-06
2021-08-11 19:00,20:00,surgery,Western Park Pavilion,Western (Leicester),Evening surgery,,T-07
"""
TEAM_TEXT = """## From your inspector

Thank you for talking to us at the street surveys. <script>alert("team")</script>
We *will* keep up the evening patrols.

## News

- Our new PCSO for Fosse starts this month.
- Bike marking is free at every beat surgery.
"""


@dataclass
class Scenario:
    store_path: Path
    out: Path
    result: update.Update
    files: list[Path]
    ids: dict[str, int]


def _candidates(proposal: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [ward["priorities"] for ward in proposal["wards"]]


@pytest.fixture(scope="session")
def scenario(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    folder = tmp_path_factory.mktemp("update")
    path = folder / "scenario.duckdb"
    shutil.copyfile(sample_store_path, path)
    for name, text in (
        ("ops.csv", OPERATIONS),
        ("results.csv", RESULTS),
        ("engagements.csv", ENGAGEMENTS),
        ("july.md", TEAM_TEXT),
    ):
        (folder / name).write_text(text, encoding="utf-8")
    ids: dict[str, int] = {}
    with Store(path) as st:
        add_area(st, "West", lsoas=[], wards=list(WARDS), geojson=None)
        import_concerns(st, CONCERNS_CSV, "Leicester")
        # June: the first candidate of each ward adopted, the second of the first ward rejected
        may = propose(st, AREA, "2021-05", per_ward=2, method="mean-3")
        assert may["for_month"] == "2021-06"
        saved = iter(lifecycle.save_proposals(st, may))
        wards = [[next(saved) for _ in ward] for ward in _candidates(may)]
        assert len(wards) == 3 and all(len(w) == 2 for w in wards)
        ids["continued"], ids["closed"], ids["review"] = (w[0] for w in wards)
        for pid in (ids["continued"], ids["closed"], ids["review"]):
            lifecycle.decide(st, pid, "adopted", BY, month=JUNE)
        lifecycle.decide(
            st,
            wards[0][1],
            "rejected",
            BY,
            month=JUNE,
            details={"reason": "a partnership plan exists"},
        )
        # a priority raised at a residents' meeting, at the second place of the second ward
        place = _candidates(may)[1][1]
        ids["residents"] = lifecycle.add_priority(
            st,
            area=AREA,
            ward=place["ward"],
            place=place["place"],
            place_key=place["place_key"],
            snap_points=place["snap_points"],
            problem="drugs",
            month=JUNE,
            origin="residents",
            actor=BY,
            note="raised at the residents' meeting",
        )
        lifecycle.decide(st, ids["residents"], "adopted", BY, month=JUNE)
        # July: two new places adopted (the first with a label), one June priority continued,
        # one closed with its assessment to June, one left for the team to review
        june = propose(st, AREA, "2021-06", per_ward=2, method="mean-3")
        new_ids = lifecycle.save_proposals(st, june)
        taken = {c["place_key"] for w in _candidates(may) for c in w}
        fresh = [
            (pid, c)
            for pid, c in zip(new_ids, [c for w in _candidates(june) for c in w], strict=True)
            if c["place_key"] not in taken
        ]
        (ids["labelled"], first) = fresh[0]
        ids["new"] = next(pid for pid, c in fresh[1:] if c["ward"] != first["ward"])
        lifecycle.decide(st, ids["continued"], "continued", BY, month=JULY)
        lifecycle.decide(st, ids["residents"], "continued", BY, month=JULY)
        review.close(st, ids["closed"], BY, JUNE)
        lifecycle.decide(
            st,
            ids["labelled"],
            "adopted",
            BY,
            month=JULY,
            details={"label": f"{first['place']} shops"},
        )
        lifecycle.decide(st, ids["new"], "adopted", BY, month=JULY)
        operations_csv.import_files(st, [folder / "ops.csv", folder / "results.csv"], by="PC 1")
        engagements.import_csv(st, folder / "engagements.csv")
        team_content.save_text(st, AREA, JULY, folder / "july.md")
        sections = team_content.stored_sections(st, AREA, JULY)
        result = update.build(
            st, AREA, MONTH, settings=team_content.load_settings(None), sections=sections
        )
    out = folder / "out"
    files = update.write(result, out)
    return Scenario(path, out, result, files, ids)


@pytest.fixture(scope="session")
def db(scenario: Scenario) -> Any:
    """A read-only connection to the scenario store, for SQL that does not go through BeatBook."""
    con = duckdb.connect(str(scenario.store_path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def pdf_text(scenario: Scenario) -> str:
    """The PDF's text (poppler's pdftotext), whitespace collapsed."""
    done = subprocess.run(
        ["pdftotext", "-layout", str(scenario.out / "update.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())


def cli() -> list[str]:
    script = Path(sys.executable).with_name("beatbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != STORE_ENV} | {
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    return subprocess.run([*cli(), *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.fixture(scope="session")
def cli_run(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``beatbook update ... --json`` in a real process, on a copy of the scenario store."""
    folder = tmp_path_factory.mktemp("update-cli")
    copy = folder / "copy.duckdb"
    shutil.copyfile(scenario.store_path, copy)
    proc = run_cli(
        "update",
        "--area",
        AREA,
        "--month",
        MONTH,
        "--out",
        str(folder / "out"),
        "--json",
        "--store",
        str(copy),
    )
    return proc, folder / "out"


def running(db: Any, month: dt.date) -> list[dict[str, Any]]:
    """Priorities of West adopted or continued for ``month``, with their latest label: SQL."""
    rows = db.execute(
        """
        SELECT p.priority_id, p.ward, p.problem, p.origin,
               coalesce((SELECT json_extract_string(e.details, '$.label') FROM priority_events e
                         WHERE e.priority_id = p.priority_id
                           AND json_extract_string(e.details, '$.label') IS NOT NULL
                         ORDER BY e.seq DESC LIMIT 1), p.place) AS label
        FROM priorities p
        WHERE p.area = ? AND EXISTS (
            SELECT 1 FROM priority_events e WHERE e.priority_id = p.priority_id
            AND e.action IN ('adopted', 'continued') AND e.month = ?)
        ORDER BY p.ward, label, p.problem
        """,
        [AREA, month],
    ).fetchall()
    return [dict(zip(("id", "ward", "problem", "origin", "label"), r, strict=True)) for r in rows]


def west_ward_codes(raw_db: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Ward name -> ONS code of the three wards, from the raw ONS lookup."""
    rows = raw_db.execute(
        "SELECT DISTINCT WD19NM, WD19CD FROM ward_lookup WHERE LAD19NM = 'Leicester' "
        "AND WD19NM IN (SELECT unnest(?::VARCHAR[]))",
        [list(WARDS)],
    ).fetchall()
    assert len(rows) == 3
    return dict(rows)


@pytest.fixture(scope="session")
def gathered(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> update_facts.UpdateInputs:
    """What the update reads, gathered from a copy of the scenario store that is then closed
    and deleted, so nothing built from it can go back to the store."""
    copy = tmp_path_factory.mktemp("update-gathered") / "copy.duckdb"
    shutil.copyfile(scenario.store_path, copy)
    with Store(copy, read_only=True) as st:
        sections = team_content.stored_sections(st, AREA, JULY)
        inputs = update.gather(
            st, AREA, MONTH, settings=team_content.load_settings(None), sections=sections
        )
    copy.unlink()
    return inputs


class Tags(HTMLParser):
    """The tags of an HTML page, and each image's and link's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "a":
            self.links.append(dict(attrs))


def parse_html(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def pdf_pages(path: Path) -> list[str]:
    """Each page's text, read back with pypdf, whitespace collapsed."""
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages]


def page_of(pages: list[str], text: str) -> int:
    """The (1-based) page a text first appears on; 0 when on none."""
    return next((n for n, page in enumerate(pages, start=1) if text in page), 0)


def lowest_text(path: Path, footer_mm: float = 12) -> list[float]:
    """For each page, how far down its lowest line of text reaches, as a share of the page
    height (the running footer in the bottom ``footer_mm`` left out)."""
    shares = []
    for page in PdfReader(path).pages:
        height = float(page.mediabox.height)
        ys: list[float] = []

        def seen(text: str, cm: Any, tm: Any, font: Any, size: Any, ys: list[float] = ys) -> None:
            if text.strip():
                ys.append(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])

        page.extract_text(visitor_text=seen)
        body = [y for y in ys if y > footer_mm / 25.4 * 72]
        shares.append(1 - min(body) / height if body else 0.0)
    return shares
