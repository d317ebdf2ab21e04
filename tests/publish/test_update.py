"""The monthly community update on real data: one scenario store, built once, and the update
it gives for the "West" team area (Westcotes, Fosse and Western wards of Leicester), July 2021.

The scenario: priorities proposed from the real police.uk data and adopted for June 2021 (one
continued into July, one closed, one left for review, one raised by residents), two new ones
adopted for July (one with a better label); an operation over June and July with results by
area, one of them outside West; engagements in and out of the area and of the six weeks; the
demo residents' concerns, with contacts; the team's Markdown with a ``<script>`` in it.

Expected values come from independent SQL over the store's tables, from the raw police.uk and
ONS files (:func:`raw_db`), from scipy and from poppler's ``pdftotext``, never from the same
BeatBook function. ``pytest --update-golden`` rewrites ``tests/golden/update-west-2021-07.*``.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, fields, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest
from scipy import stats

from beatbook import engagements
from beatbook.areas import add_area
from beatbook.concerns.csv_import import import_concerns
from beatbook.errors import InputError
from beatbook.operations import csv_import as operations_csv
from beatbook.priorities import lifecycle, review
from beatbook.priorities.propose import propose
from beatbook.publish import team_content, update, update_facts
from beatbook.reference import problem_crime_types
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import ROOT, months_between
from support.problem_words import PROBLEM_WORDS

AREA = "custom:West"
WARDS = ("Westcotes", "Fosse", "Western")  # three real Leicester wards
MONTH = "2021-07"
BY = "Insp. Test"
JUNE, JULY = dt.date(2021, 6, 1), dt.date(2021, 7, 1)
GOLDEN = Path(__file__).parents[1] / "golden"
GOLDEN_HTML = GOLDEN / "update-west-2021-07.html"
GOLDEN_TXT = GOLDEN / "update-west-2021-07.txt"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CONCERNS_CSV = ROOT / "data" / "sample" / "concerns" / "leicester-concerns.csv"

# The test's own words for who raised a priority.
RAISED_BY = {"data": "Police data pointed to", "residents": "You told us about"}

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


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def db(scenario: Scenario) -> Any:
    """A read-only connection to the scenario store, for SQL that does not go through BeatBook."""
    con = duckdb.connect(str(scenario.store_path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def pdf_text(scenario: Scenario) -> str:
    """The PDF's text (poppler's pdftotext), whitespace collapsed."""
    done = subprocess.run(
        ["pdftotext", "-layout", str(scenario.out / "update.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("beatbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != STORE_ENV} | {
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    return subprocess.run([*_cli(), *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.fixture(scope="module")
def cli_run(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``beatbook update ... --json`` in a real process, on a copy of the scenario store."""
    folder = tmp_path_factory.mktemp("update-cli")
    copy = folder / "copy.duckdb"
    shutil.copyfile(scenario.store_path, copy)
    proc = _run_cli(
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


def _running(db: Any, month: dt.date) -> list[dict[str, Any]]:
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


def _west_ward_codes(raw_db: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Ward name -> ONS code of the three wards, from the raw ONS lookup."""
    rows = raw_db.execute(
        "SELECT DISTINCT WD19NM, WD19CD FROM ward_lookup WHERE LAD19NM = 'Leicester' "
        "AND WD19NM IN (SELECT unnest(?::VARCHAR[]))",
        [list(WARDS)],
    ).fetchall()
    assert len(rows) == 3
    return dict(rows)


# --- 1. golden files ------------------------------------------------------------------------


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
        "the community update changed; if intended, run: pytest tests/test_update.py --update-golden"
    )


def test_the_scenario_is_as_designed(scenario: Scenario, db: Any) -> None:
    """The store holds what the other tests rely on (so none of them passes vacuously)."""
    july, june = _running(db, JULY), _running(db, JUNE)
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


# --- 2. the PDF -----------------------------------------------------------------------------


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
    for number, p in enumerate(_running(db, JULY), start=1):
        assert f"{number}. {p['label']}: {PROBLEM_WORDS[p['problem']]}" in text
    # last month's: you said, we did
    for p in _running(db, JUNE):
        assert f"{RAISED_BY[p['origin']]} {PROBLEM_WORDS[p['problem']]} at {p['label']}." in text

    # operation results: the totals and every area in West, never Castle's
    codes = _west_ward_codes(raw_db).values()
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


# --- 3. the ward trends ---------------------------------------------------------------------


def test_ward_trends_match_the_raw_files(
    scenario: Scenario, db: Any, raw_db: duckdb.DuckDBPyConnection
) -> None:
    trends = scenario.result.facts["trends"]
    wanted: dict[str, list[str]] = {}
    for p in _running(db, JULY):
        wanted.setdefault(p["ward"], []).append(p["problem"])
    assert [t["ward"] for t in trends] == sorted(wanted)
    months = months_between("2020-06", "2021-06")  # 13 months to the latest stored before July
    recent, year_before = months_between("2021-04", "2021-06"), months_between("2020-04", "2020-06")
    codes = _west_ward_codes(raw_db)
    text = " ".join((scenario.out / "update.txt").read_text(encoding="utf-8").split())

    def raw(ward: str, problem: str, in_months: list[str]) -> dict[str, int]:
        rows = raw_db.execute(
            'SELECT month, count(*) FROM street WHERE "LSOA code" IN '
            "(SELECT LSOA11CD FROM ward_lookup WHERE WD19CD = ?) "
            'AND "Crime type" IN (SELECT unnest(?::VARCHAR[])) '
            "AND month IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1",
            [codes[ward], problem_crime_types(problem), in_months],
        ).fetchall()
        return {m: 0 for m in in_months} | dict(rows)

    for t in trends:
        problems = sorted(set(wanted[t["ward"]]))
        assert t["months"] == months
        assert [s["label"] for s in t["series"]] == [
            PROBLEM_WORDS[p].capitalize() for p in problems
        ]
        assert len(t["notes"]) == len(problems)
        for problem, series, note in zip(problems, t["series"], t["notes"], strict=True):
            counts = raw(t["ward"], problem, months)
            assert series["counts"] == [counts[m] for m in months]
            after = sum(raw(t["ward"], problem, recent).values())
            before = sum(raw(t["ward"], problem, year_before).values())
            assert "April to June 2021, against the same months a year before" in note
            assert f"from {before:,} to {after:,} recorded" in note
            p = float(stats.binomtest(after, before + after, 0.5).pvalue)
            assert ("no clear change" in note) is (p >= 0.05), (note, p)
            if p < 0.05:
                assert ("a significant rise" if after > before else "a significant fall") in note
            assert note in text


# --- 4. alt text ----------------------------------------------------------------------------


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))


def _parse(html: str) -> _Images:
    parser = _Images()
    parser.feed(html)
    return parser


def test_every_image_has_alt_text_and_the_map_names_the_places(scenario: Scenario, db: Any) -> None:
    images = _parse((scenario.out / "update.html").read_text(encoding="utf-8")).images
    assert len(images) == 1 + len(scenario.result.facts["trends"])
    for img in images:
        assert (img.get("alt") or "").strip(), img
        assert (scenario.out / str(img["src"])).is_file()
    (the_map,) = [i for i in images if i["src"] == "map.png"]
    for number, p in enumerate(_running(db, JULY), start=1):
        assert f"{number}, {p['label']}" in str(the_map["alt"])
    for ward in WARDS:
        assert ward in str(the_map["alt"])


# --- 5. privacy ------------------------------------------------------------------------------


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


# --- 6. escaping ------------------------------------------------------------------------------


def test_team_text_is_escaped_not_run(scenario: Scenario) -> None:
    html = (scenario.out / "update.html").read_text(encoding="utf-8")
    assert "script" not in _parse(html).tags
    assert "<script" not in html.lower()
    assert '&lt;script&gt;alert("team")&lt;/script&gt;' in html
    assert "<em>will</em>" in html  # the rest of the Markdown still applies
    assert [s["heading"] for s in scenario.result.facts["sections"]] == [
        "From your inspector",
        "News",
    ]


# --- 7. errors leave --out untouched ------------------------------------------------------


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


# --- 8. the command line --------------------------------------------------------------------


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
    proc = _run_cli(
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


# --- 9. gathered once, then built without the store -----------------------------------------


@pytest.fixture(scope="module")
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
    assert sorted(c["id"] for c in gathered.current) == sorted(r["id"] for r in _running(db, JULY))
    # assessed to the latest data: June's priorities still open, not the closed one
    assert sorted(gathered.assessments) == sorted(
        scenario.ids[k] for k in ("continued", "residents", "review")
    )
    assert gathered.trends is not None and len(gathered.trends.months) == 13
    assert [w for w, _ in gathered.wards] == sorted(WARDS)
    assert [op["operation"] for op in gathered.operations] == ["Operation Heron"]
    # results in West and two of its wards share ground with West; Castle's alone does not
    codes = _west_ward_codes(raw_db)
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
