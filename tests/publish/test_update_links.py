"""How the letter reaches people: links that work (``tel:`` for 999 and 101, ``mailto:`` for
the team, the online report form, police.uk and the ``.ics`` calendar), a plain-text version
with no Markdown marks, custodial time in years and months, and the team's "Your local
team" with an officer's photo. Links are read from the HTML with the standard library's
parser; the texts are read back from the files written."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from beatbook.operations import csv_import as operations_csv
from beatbook.publish import plain_text, team_content, update
from beatbook.publish.update_facts import years_and_months
from beatbook.store import Store
from support.demo_update import UPDATE, DemoUpdate
from support.update_scenario import AREA, JULY, MONTH, Scenario, parse_html, pdf_pages

# Markdown a plain-text reader would see as marks: emphasis, headings, links, code, images.
MARKS = re.compile(r"\*\*|__|(?m:^#{1,6}\s)|\[[^\]]*\]\([^)]*\)|`|!\[")


def test_the_demo_letter_links_phones_email_report_form_police_uk_and_calendar(
    demo_update: DemoUpdate,
) -> None:
    html = (demo_update.out / "update.html").read_text(encoding="utf-8")
    links = {str(a.get("href")) for a in parse_html(html).links}
    settings = team_content.load_settings(UPDATE / "team.toml")
    assert {"tel:999", "tel:101", "tel:0800555111", "tel:18000", "tel:18001101"} <= links
    assert f"mailto:{settings.email}" in links
    assert settings.report_url in links and settings.calendar_url in links
    assert settings.calendar_url and settings.calendar_url.endswith(".ics")
    assert "https://www.police.uk" in links
    assert "https://crimestoppers-uk.org" in links
    # every link is one a reader can follow safely
    assert all(re.match(r"^(https://|tel:\+?\d+$|mailto:[^@\s]+@)", href) for href in links), links
    # the plain text writes the addresses out
    text = (demo_update.out / "update.txt").read_text(encoding="utf-8")
    for address in (settings.report_url, settings.calendar_url, "https://www.police.uk"):
        assert address in text


def test_the_plain_text_has_no_markdown_marks(scenario: Scenario, demo_update: DemoUpdate) -> None:
    for out, source in (
        (demo_update.out, UPDATE / "west-leicester-2025-10.md"),
        (scenario.out, None),
    ):
        text = (out / "update.txt").read_text(encoding="utf-8")
        assert not MARKS.search(text), MARKS.search(text)
        if source:  # the sample text has bold words: they are kept, without their marks
            assert "**Leicester City Council**" in source.read_text(encoding="utf-8")
            assert "Leicester City Council: the recycling centre" in text


def test_markdown_becomes_plain_words() -> None:
    markdown = (
        "Some **bold**, _em_ and `code`, a [form](https://example.org/report), "
        "<https://example.org/bare> and [mail us](mailto:team@example.org).\n\n"
        "### Smaller heading\n\n1. first\n2. second with ![a map](map.png)\n   - nested *x*\n\n"
        "> a quote\n\n- one\n- two\n"
    )
    text = plain_text.to_text(markdown)
    assert not MARKS.search(text), text
    assert "Some bold, em and code, a form (https://example.org/report)," in " ".join(text.split())
    assert "https://example.org/bare and mail us (team@example.org)." in " ".join(text.split())
    assert "SMALLER HEADING" in text
    assert "1. first\n2. second with a map\n  - nested x" in text
    assert "  a quote" in text and "- one\n- two" in text
    assert all(len(line) <= plain_text.WIDTH for line in text.splitlines())


@given(st.integers(min_value=0, max_value=12 * 200))
def test_custodial_time_in_years_and_months(months: int) -> None:
    words = years_and_months(months)
    found = re.fullmatch(r"(?:([\d,]+) years?)?(?: ?(\d+) months?)?", words)
    assert found and words.strip() == words, words
    years = int((found[1] or "0").replace(",", ""))
    rest = int(found[2] or 0)
    assert years * 12 + rest == months  # says the same time
    assert 0 <= rest < 12  # never "18 months", never "312 months"
    if found[1]:
        assert words.startswith(f"{found[1]} year" + ("" if years == 1 else "s"))
    if found[2] is not None:
        assert (f"{rest} month" + ("" if rest == 1 else "s")) in words
    assert (found[2] is None) is (rest == 0 and months > 0)  # "26 years", not "26 years 0 months"


@pytest.fixture(scope="module")
def custodial_letter(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario's letter with an operation whose custodial sentences total 312 months,
    30 of them in West."""
    folder = tmp_path_factory.mktemp("custodial")
    copy = folder / "store.duckdb"
    shutil.copyfile(scenario.store_path, copy)
    (folder / "ops.csv").write_text(
        "operation,from,to,areas,description\n"
        "Operation Nightjar,2021-05-01,2021-07-10,Leicester,County lines (test entry)\n",
        encoding="utf-8",
    )
    (folder / "results.csv").write_text(
        "operation,area,measure,count\n"
        "Operation Nightjar,all,custodial_months,312\n"
        f"Operation Nightjar,{AREA},custodial_months,30\n",
        encoding="utf-8",
    )
    with Store(copy) as st:
        operations_csv.import_files(st, [folder / "ops.csv", folder / "results.csv"], by="PC 1")
        sections = team_content.stored_sections(st, AREA, JULY)
        result = update.build(st, AREA, MONTH, settings=team_content.Settings(), sections=sections)
    update.write(result, folder / "out")
    return folder / "out"


def test_custodial_time_is_printed_in_years_and_months(custodial_letter: Path) -> None:
    text = " ".join((custodial_letter / "update.txt").read_text(encoding="utf-8").split())
    pdf = " ".join(pdf_pages(custodial_letter / "update.pdf"))
    for where in (text, pdf):
        assert "26 years of custodial sentences in all" in where
        assert "2 years 6 months of the 26 years were in the West area (10%)" in where
        assert "312" not in where and "months of custodial" not in where


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 800), (40, 90, 160)).save(out, format="JPEG")
    return out.getvalue()


def test_your_local_team_with_a_photo(scenario: Scenario, tmp_path: Path) -> None:
    (tmp_path / "jo.jpg").write_bytes(_photo())
    settings_file = tmp_path / "team.toml"
    settings_file.write_text(
        'team = "West NPT"\nemail = "west.npt@example.org"\n'
        '[[officers]]\nname = "PC Jo Bloggs"\nrole = "Beat officer"\nwards = ["Fosse"]\n'
        'phone = "0116 496 0123"\nphoto = "jo.jpg"\n'
        '[[officers]]\nname = "PCSO Ann Lee"\nrole = "PCSO"\nwards = ["Westcotes", "Western"]\n',
        encoding="utf-8",
    )
    settings = team_content.load_settings(settings_file)
    with Store(scenario.store_path, read_only=True) as st:
        result = update.build(st, AREA, MONTH, settings=settings, sections=[])
    files = update.write(result, tmp_path / "out")
    assert tmp_path / "out" / "officer-1.jpg" in files
    html = (tmp_path / "out" / "update.html").read_text(encoding="utf-8")
    tags = parse_html(html)
    (photo,) = [i for i in tags.images if i.get("src") == "officer-1.jpg"]
    assert photo.get("alt") == "Photo of PC Jo Bloggs"
    assert {"tel:01164960123", "mailto:west.npt@example.org"} <= {a.get("href") for a in tags.links}
    pages = pdf_pages(tmp_path / "out" / "update.pdf")
    team = " ".join(pages)
    assert "Your local team" in team
    assert "PC Jo Bloggs, Beat officer (Fosse)" in team
    assert "PCSO Ann Lee, PCSO (Westcotes, Western)" in team
    text = (tmp_path / "out" / "update.txt").read_text(encoding="utf-8")
    assert "- PC Jo Bloggs, Beat officer: Fosse\n  0116 496 0123" in text
    # the photo is in the PDF: one more picture than in the same letter without it
    without = replace(
        settings, officers=tuple(replace(o, photo=None, photo_data=None) for o in settings.officers)
    )
    with Store(scenario.store_path, read_only=True) as st:
        plain = update.build(st, AREA, MONTH, settings=without, sections=[])
    update.write(plain, tmp_path / "plain")

    def pictures(pdf: Path) -> list[tuple[str, tuple[int, int]]]:
        found = {(i.name, i.image.size) for p in PdfReader(pdf).pages for i in p.images}
        return sorted((Path(name).suffix, size) for name, size in found)

    shown, plain_shown = (
        pictures(tmp_path / "out" / "update.pdf"),
        pictures(tmp_path / "plain" / "update.pdf"),
    )
    assert shown == sorted([*plain_shown, (".jpg", (300, 400))])
