"""The web app over a store holding only police.uk files (issue 16, item 12): no ONS lookup,
no population, no team area. /report used to answer 500 (the force area's districts were
worked out with a query DuckDB refuses); now the form, a report and the figures pages work,
served by a real uvicorn server on loopback."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web_support import SECRET, csrf_of, field_value, text_of

from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from beatbook.web import create_app
from beatbook.web.testing import serving
from support.fixtures_store import FORCE_AREA, POLICE
from support.records_backend import attached

FILES = [POLICE / f"2025-0{m}-leicestershire-street.csv.gz" for m in (1, 2, 3)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("police-only-web") / "beatbook.duckdb"
    with Store(path) as st:
        ingest(st, FILES)
    with attached(path) as database:
        app = create_app(path, database=database, secret=SECRET, report_limit=(1000, 60.0))
        try:
            with serving(app) as url:
                yield url
        finally:
            app.state.db.close()


def _districts() -> set[str]:
    names = set()
    for path in FILES:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            names |= {
                r["LSOA name"].rsplit(" ", 1)[0] for r in csv.DictReader(fh) if r["LSOA name"]
            }
    return names


def test_the_report_form_and_a_report(server: str) -> None:
    with httpx.Client(base_url=server, timeout=60) as browser:
        form = browser.get("/report")
        assert form.status_code == 200
        offered = set(re.findall(r'<option value="local authority:([^"]+)"', form.text))
        # The force's own districts, not those its crimes stray into (named in its files).
        strays = _districts() - set(FORCE_AREA)
        assert strays and {o.replace("&#39;", "'") for o in offered} == set(FORCE_AREA)
        sent = browser.post(
            "/report",
            data={
                "csrf_token": csrf_of(form.text),
                "submission_id": field_value(form.text, "submission_id"),
                "area": "local authority:Leicester",
                "where": "Narborough Road",
                "problem": "drugs",
                "date": "2025-02-02",
            },
        )
        assert sent.status_code == 200, text_of(sent.text)[:300]
        assert "we have your report" in text_of(sent.text)


def test_figures_pages_count_and_say_why_there_is_no_rate(server: str) -> None:
    with httpx.Client(base_url=server, timeout=60) as browser:
        page = browser.get("/stats/Leicestershire")
        assert page.status_code == 200
        assert "no rate: no population estimates" in text_of(page.text)
        figures = browser.get("/api/stats/leicestershire")
        assert figures.status_code == 200
        assert figures.json()["population"] is None and figures.json()["count"] > 0
        district = browser.get("/api/stats/local authority:Leicester")
        assert district.status_code == 200 and district.json()["count"] > 0
        assert browser.get("/api/areas").json() == []  # no team area, nothing published
