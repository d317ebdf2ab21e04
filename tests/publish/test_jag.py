"""The JAG pack on real data: a real PDF (WeasyPrint) whose text carries the same numbers as
independent queries over the raw police.uk files."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pypdf
import pytest

from beatbook.areas import add_area
from beatbook.priorities import lifecycle
from beatbook.priorities.propose import propose
from beatbook.publish import jag
from beatbook.store import Store

WARDS = ["Westcotes", "Fosse", "Western"]  # three real Leicester wards: a "West" team area


@pytest.fixture
def west(writable_store: Store) -> Store:
    add_area(writable_store, "West", lsoas=[], wards=WARDS, geojson=None)
    return writable_store


def _raw_count(raw_db, points: list[dict], types: list[str], month: str) -> int:
    """Crimes at the given snap points, of the given types, in one month: raw CSV rows."""
    keys = [(p["location"], p["longitude"], p["latitude"]) for p in points]
    rows = raw_db.execute(
        'SELECT "Location", CAST("Longitude" AS DOUBLE), CAST("Latitude" AS DOUBLE) FROM street '
        'WHERE month = ? AND "Crime type" IN (SELECT unnest(?::VARCHAR[])) AND "Longitude" IS NOT NULL',
        [month, types],
    ).fetchall()
    return sum(
        1
        for r in rows
        if (r[0], round(r[1], 6), round(r[2], 6))
        in {(k[0], round(k[1], 6), round(k[2], 6)) for k in keys}
    )


def test_pdf_numbers_match_raw_files(west: Store, raw_db, tmp_path: Path) -> None:
    from beatbook.reference import problem_crime_types

    proposal = propose(west, "custom:West", "2021-06", per_ward=1, method="mean-3")
    ids = lifecycle.save_proposals(west, proposal)
    lifecycle.decide(west, ids[0], "adopted", "Insp. Test", month=dt.date(2021, 7, 1))
    html, pdf, pack = jag.write(
        west, "custom:West", "2021-09", tmp_path / "west", per_ward=1, method="mean-3"
    )
    assert html.read_text(encoding="utf-8").startswith("<!doctype html>")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Joint Action Group pack: West, Oct 2021" in text
    assert "forecast by average of the last 3 months" in text  # the method in words
    assert {w["ward"] for w in pack["proposal"]["wards"]} <= set(WARDS)
    for ward in pack["proposal"]["wards"]:
        c = ward["priorities"][0]
        types = problem_crime_types(c["problem"])
        months = [m["month"] for m in c["evidence"]["months"]]
        raw = [_raw_count(raw_db, c["snap_points"], types, m) for m in months]
        assert [m["count"] for m in c["evidence"]["months"]] == raw
        # the evidence table as printed: one row per month, 'Jun 2021' then its count
        words = [dt.date.fromisoformat(m + "-01").strftime("%b %Y") for m in months]
        assert " ".join(f"{w} {n}" for w, n in zip(words, raw, strict=True)) in text
        recent = sum(raw[-3:])
        assert f"Recent: {recent} crimes" in text
        assert c["place"] in text
    # the adopted priority is listed as running, with its assessment so far
    running = pack["running"]
    assert [p["priority_id"] for p in running] == [ids[0]]
    assert running[0]["assessment"]["wording"].split(":")[0] in text


def test_jag_refuses_unknown_month(west: Store, tmp_path: Path) -> None:
    from beatbook.errors import BeatBookError

    with pytest.raises(BeatBookError, match="2019-01"):
        jag.write(west, "custom:West", "2019-01", tmp_path / "x", method="mean-3")
    assert not (tmp_path / "x.pdf").exists()
