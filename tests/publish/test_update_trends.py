"""The letter's trend charts: one per priority, counting the priority's own place (its police.uk
snap points, not the whole ward), months police.uk has not published marked on the chart
(a gap and "no data", never a zero), and the change said in plain words, with the counts, the
test and its p-value only in the methods note.

Expected counts come from the raw police.uk files (:func:`raw_db`) at the snap points the
store holds for each priority, and p-values from scipy, never from BeatBook."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import duckdb
import numpy as np
from matplotlib.text import Text
from scipy import stats

from beatbook.charts import update as charts
from beatbook.reference import problem_crime_types
from support.demo_update import DemoUpdate
from support.fixtures_store import months_between
from support.problem_words import PROBLEM_WORDS
from support.update_scenario import JULY, Scenario, running, west_ward_codes

# What a resident must not be shown outside the methods note.
JARGON = re.compile(r"p\s*[=<]\s*0|95\s*%|\bCI\b|confidence interval|significan", re.IGNORECASE)


def _snap_points(db: Any, pid: int) -> list[tuple[str, float, float]]:
    (points,) = db.execute(
        "SELECT snap_points FROM priorities WHERE priority_id = ?", [pid]
    ).fetchone()
    return [(s["location"], s["longitude"], s["latitude"]) for s in json.loads(points)]


def _raw_counts(
    raw_db: duckdb.DuckDBPyConnection,
    codes: list[str],
    points: list[tuple[str, float, float]],
    problem: str,
    months: list[str],
) -> dict[str, int]:
    """Crimes of ``problem`` at the snap points, in the wards' LSOAs, by month: raw files."""
    rows = raw_db.execute(
        'SELECT month, count(*) FROM street WHERE "LSOA code" IN '
        "(SELECT LSOA11CD FROM ward_lookup WHERE WD19CD IN (SELECT unnest(?::VARCHAR[]))) "
        'AND "Crime type" IN (SELECT unnest(?::VARCHAR[])) '
        "AND month IN (SELECT unnest(?::VARCHAR[])) "
        'AND ("Location", CAST("Longitude" AS DOUBLE), CAST("Latitude" AS DOUBLE)) IN '
        "(SELECT (l, x, y) FROM (SELECT unnest(?::VARCHAR[]) AS l, unnest(?::DOUBLE[]) AS x, "
        "unnest(?::DOUBLE[]) AS y)) GROUP BY 1",
        [
            codes,
            problem_crime_types(problem),
            months,
            [p[0] for p in points],
            [p[1] for p in points],
            [p[2] for p in points],
        ],
    ).fetchall()
    return {m: 0 for m in months} | dict(rows)


def test_one_chart_per_priority_counting_its_own_place(
    scenario: Scenario, db: Any, raw_db: duckdb.DuckDBPyConnection
) -> None:
    trends = scenario.result.facts["trends"]
    july = running(db, JULY)
    assert sorted(t["id"] for t in trends) == sorted(p["id"] for p in july)
    months = months_between("2020-06", "2021-06")  # 13 months to the latest stored before July
    recent, year_before = months_between("2021-04", "2021-06"), months_between("2020-04", "2020-06")
    codes = list(west_ward_codes(raw_db).values())
    text = " ".join((scenario.out / "update.txt").read_text(encoding="utf-8").split())
    whole_ward_differs = False
    for t in trends:
        p = next(r for r in july if r["id"] == t["id"])
        assert t["title"].endswith(f"{p['label']}: {PROBLEM_WORDS[p['problem']]}")
        points = _snap_points(db, t["id"])
        counts = _raw_counts(raw_db, codes, points, p["problem"], months)
        assert t["months"] == months
        assert t["counts"] == [counts[m] for m in months]
        ward = _raw_counts_ward(raw_db, codes, p["problem"], months)
        whole_ward_differs |= t["counts"] != ward
        after = sum(_raw_counts(raw_db, codes, points, p["problem"], recent).values())
        before = sum(_raw_counts(raw_db, codes, points, p["problem"], year_before).values())
        note = t["note"]
        assert (
            f"{after} recorded in April to June 2021, {before} in the same months a year before"
            in note
        )
        assert not JARGON.search(note), note
        assert note in text
        if before:
            exact = float(stats.binomtest(after, before + after, 0.5).pvalue)
            assert ("a clear rise" in note) is (exact < 0.05 and after > before), (note, exact)
            assert ("a clear fall" in note) is (exact < 0.05 and after < before), (note, exact)
            assert ("no clear change" in note) is (exact >= 0.05), (note, exact)
            # the figures and the test are in the methods note, with scipy's p-value
            assert f"{before} to {after}" in t["method"]
            shown = re.search(r"p (=|<) ([0-9.]*[0-9])", t["method"])
            assert shown, t["method"]
            if shown[1] == "<":
                assert exact < float(shown[2])
            else:
                assert math.isclose(exact, float(shown[2]), rel_tol=0.05, abs_tol=5e-4)
    assert whole_ward_differs  # the charts do not just count the ward


def _raw_counts_ward(
    raw_db: duckdb.DuckDBPyConnection, codes: list[str], problem: str, months: list[str]
) -> list[int]:
    rows = dict(
        raw_db.execute(
            'SELECT month, count(*) FROM street WHERE "LSOA code" IN '
            "(SELECT LSOA11CD FROM ward_lookup WHERE WD19CD IN (SELECT unnest(?::VARCHAR[]))) "
            'AND "Crime type" IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1',
            [codes, problem_crime_types(problem)],
        ).fetchall()
    )
    return [rows.get(m, 0) for m in months]


def test_missing_months_are_marked_never_zero(demo_update: DemoUpdate) -> None:
    """The demo store has no 2024 data: the four months of 2024 in the chart are None in the
    facts, a gap in the line and a grey band marked "no data" on the picture."""
    trends = demo_update.result.facts["trends"]
    assert len(trends) == sum(len(w["items"]) for w in demo_update.result.facts["priorities"])
    missing = ["2024-09", "2024-10", "2024-11", "2024-12"]
    for t in trends:
        assert t["months"][:4] == missing
        assert t["counts"][:4] == [None] * 4 and None not in t["counts"][4:]
        assert "No data for Sep 24, Oct 24, Nov 24, Dec 24." in t["alt"]
        fig = charts.draw_priority_trend(
            t["months"], charts.Series("x", tuple(t["counts"])), t["title"]
        )
        ax = fig.axes[0]
        (line,) = ax.lines
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.isnan(y[:4]).all() and np.isfinite(y[4:]).all()  # a gap, not zeros
        labels = [x.get_text() for x in ax.texts]
        assert labels == [charts.NO_DATA]
        (band,) = ax.patches
        x0, x1 = band.get_x(), band.get_x() + band.get_width()
        assert x0 < 0 < 3 < x1 < 4  # over the four missing months and no further
        assert (demo_update.out / t["image"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_p_values_or_intervals_where_a_resident_reads(
    scenario: Scenario, demo_update: DemoUpdate
) -> None:
    """The p-values are in the methods note only: take it out and none are left."""
    for out in (scenario.out, demo_update.out):
        html = (out / "update.html").read_text(encoding="utf-8")
        text = (out / "update.txt").read_text(encoding="utf-8")
        assert re.search(r"p (=|<) 0", html) and re.search(r"p (=|<) 0", text)  # in the note
        body = re.sub(r'<div class="methods".*?</div>', "", html, flags=re.DOTALL)
        assert not JARGON.search(body), JARGON.search(body)
        before_note = text.split("About the figures.")[0]
        assert not JARGON.search(before_note), JARGON.search(before_note)


def test_a_chart_is_readable_printed_and_on_a_phone() -> None:
    """Printed 87 mm wide (two to a row) its smallest text stays 7 points or more; shown the
    full width of a 390 px phone (358 px inside the page's padding) 9 pixels or more."""
    fig = charts.draw_priority_trend(
        months_between("2024-09", "2025-09"),
        charts.Series("x", (None,) * 4 + (3,) * 9),
        "1. Place: problem",
    )
    width_in = fig.get_size_inches()[0]
    sizes = [
        t.get_fontsize() for t in fig.findobj(lambda o: hasattr(o, "get_fontsize") and o.get_text())
    ]
    assert sizes and min(sizes) == charts.TREND_FONT
    assert min(sizes) * (87 / 25.4) / width_in >= 7
    assert min(sizes) / 72 * 358 / width_in >= 9


def test_a_long_title_is_wrapped_inside_the_picture_never_cut_off() -> None:
    title = "2. the petrol station on Upperton Road: theft, burglary and robbery"
    for words in ("1. Place: problem", title):
        fig = charts.draw_priority_trend(
            months_between("2024-09", "2025-09"), charts.Series("x", (3,) * 13), words
        )
        fig.canvas.draw()
        (heading,) = [t for t in fig.findobj(Text) if " ".join(t.get_text().split()) == words]
        box = heading.get_window_extent()
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, words
        assert heading.get_text().count("\n") == (words == title)
