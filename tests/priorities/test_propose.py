"""Proposed priorities on the real sample store (three Leicester wards, ``mean-3`` forecasts).

Every count in the evidence is checked against a DuckDB query over the raw police.uk files
(the place's snap points by name and coordinates, the ward's LSOAs from the raw ONS lookup,
the problem's crime types from the reference CSV); the change test against scipy.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from typing import Any

import polars as pl
import pytest
from priorities_support import (
    AREA,
    CONCERNS_CSV,
    CRIME_TYPES_CSV,
    problem_crime_types,
    raw_counts_at,
    ward_lsoas,
)
from scipy import stats

from beatbook.areas import add_area
from beatbook.errors import DataMissingError, InputError
from beatbook.priorities.propose import Evidence, propose, propose_with_evidence
from beatbook.priorities.score import PARTS, Weights
from beatbook.store import Store
from support.fixtures_store import months_between, raw_scalar
from support.records_backend import TeamSQL

MONTH = "2021-06"
RECENT = ["2021-04", "2021-05", "2021-06"]
BASELINE = months_between("2020-04", "2021-03")

TOP_FIELDS = {
    "area",
    "month",
    "for_month",
    "recent_months",
    "baseline_months",
    "forecast_method",
    "weights",
    "candidates_scored",
    "concerns_used",
    "concerns_unmatched",
    "wards",
}
CANDIDATE_FIELDS = {
    "rank",
    "ward",
    "place",
    "place_key",
    "problem",
    "problem_label",
    "score",
    "parts",
    "origin",
    "figures",
    "reason",
    "evidence",
    "longitude",
    "latitude",
    "snap_points",
}
FIGURE_FIELDS = {
    "crimes_recent",
    "per_month_recent",
    "per_month_baseline",
    "harm_per_month",
    "change_direction",
    "change_p",
    "forecast",
    "concerns",
    "concern_problems",
}


@pytest.fixture(scope="module")
def proposed(wards_store: Store) -> tuple[dict[str, Any], Evidence]:
    return propose_with_evidence(wards_store, AREA, MONTH, per_ward=3, method="mean-3")


@pytest.fixture(scope="module")
def voiced(wards_store: Store) -> dict[str, Any]:
    """Proposals ranked by concerns alone: the ones residents and partners raised."""
    weights = Weights(volume=0, change=0, forecast=0, concerns=1)
    return propose(wards_store, AREA, MONTH, per_ward=4, method="mean-3", weights=weights)


def candidates(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for w in result["wards"] for c in w["priorities"]]


def test_json_field_names_are_the_documented_ones(proposed) -> None:
    result, _ = proposed
    assert set(result) == TOP_FIELDS
    assert result["area"]["reference"] == f"custom:{AREA}"
    assert (result["month"], result["for_month"]) == (MONTH, "2021-07")
    assert (result["recent_months"], result["baseline_months"]) == (RECENT, BASELINE)
    assert result["forecast_method"] == "mean-3"
    assert result["weights"] == Weights().to_dict()
    assert all(set(w) == {"ward", "priorities", "running"} for w in result["wards"])
    assert all(w["running"] == [] for w in result["wards"])  # nothing adopted in this store
    for c in candidates(result):
        assert set(c) == CANDIDATE_FIELDS
        assert set(c["parts"]) == set(PARTS)  # the parts score.py scores (test_score.py)
        assert set(c["figures"]) == FIGURE_FIELDS
        assert set(c["evidence"]) == {"months", "concerns", "outcomes"}
        assert all(set(m) == {"month", "count", "window"} for m in c["evidence"]["months"])
        assert all(set(o) == {"outcome", "count"} for o in c["evidence"]["outcomes"])
        assert all(set(p) == {"location", "longitude", "latitude"} for p in c["snap_points"])
    json.dumps(result)  # plain JSON, nothing that needs default=str


def test_wards_are_the_real_wards_of_the_area_and_ranked(proposed) -> None:
    result, _ = proposed
    lookup = ward_lsoas()
    assert set(lookup) == {"Westcotes", "Fosse", "Saffron"}
    assert [w["ward"] for w in result["wards"]] and {w["ward"] for w in result["wards"]} <= set(
        lookup
    )
    best = [w["priorities"][0]["score"] for w in result["wards"]]
    assert best == sorted(best, reverse=True)  # wards ordered by their best candidate
    for w in result["wards"]:
        assert [c["rank"] for c in w["priorities"]] == list(range(1, len(w["priorities"]) + 1))
        scores = [c["score"] for c in w["priorities"]]
        assert scores == sorted(scores, reverse=True) and len(scores) <= 3
        assert all(
            c["ward"] == w["ward"] and c["place_key"].startswith(w["ward"] + "|")
            for c in w["priorities"]
        )


def test_each_place_lies_in_its_ward(proposed, raw_db) -> None:
    """The raw LSOAs of a candidate's snap points are all in its ward (ONS lookup)."""
    result, _ = proposed
    lookup = ward_lsoas()
    lsoas = sorted(set().union(*lookup.values()))
    for c in candidates(result):
        for p in c["snap_points"]:
            seen = raw_db.execute(
                'SELECT DISTINCT "LSOA code" FROM street WHERE "Location" = ? '
                'AND CAST("Longitude" AS DOUBLE) = ? AND CAST("Latitude" AS DOUBLE) = ? '
                'AND "LSOA code" IN (SELECT unnest(?::VARCHAR[]))',
                [p["location"], p["longitude"], p["latitude"], lsoas],
            ).fetchall()
            assert seen and {s for (s,) in seen} <= lookup[c["ward"]], c["place"]


def test_monthly_counts_in_the_evidence_match_the_raw_files(proposed, raw_db) -> None:
    result, _ = proposed
    lookup, types = ward_lsoas(), problem_crime_types()
    for c in candidates(result):
        shown = c["evidence"]["months"]
        assert [m["month"] for m in shown] == BASELINE + RECENT
        assert [m["window"] for m in shown] == ["baseline"] * 12 + ["recent"] * 3
        raw = raw_counts_at(
            raw_db, c["snap_points"], lookup[c["ward"]], types[c["problem"]], BASELINE + RECENT
        )
        assert {m["month"]: m["count"] for m in shown} == raw, c["place"]
        recent, before = sum(raw[m] for m in RECENT), sum(raw[m] for m in BASELINE)
        f = c["figures"]
        assert f["crimes_recent"] == recent > 0
        assert f["per_month_recent"] == round(recent / 3, 2)
        assert f["per_month_baseline"] == round(before / 12, 2)
        p = stats.binomtest(recent, recent + before, 3 / 15).pvalue
        assert f["change_p"] == pytest.approx(p, rel=1e-9)
        rise = p < 0.05 and recent / 3 > before / 12
        assert (f["change_direction"] == "rise") == rise and (c["parts"]["change"] > 0) == rise


def test_outcomes_count_the_recent_crimes(proposed, raw_db) -> None:
    result, _ = proposed
    lookup, types = ward_lsoas(), problem_crime_types()
    c = candidates(result)[0]
    rows = raw_db.execute(
        "SELECT coalesce(\"Last outcome category\", '(none recorded)'), count(*) FROM street "
        'WHERE "Location" = ? AND CAST("Longitude" AS DOUBLE) = ? '
        "AND CAST(\"Latitude\" AS DOUBLE) = ? AND month IN ('2021-04', '2021-05', '2021-06') "
        'AND "Crime type" IN (SELECT unnest(?::VARCHAR[])) '
        'AND "LSOA code" IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1',
        [
            c["snap_points"][0]["location"],
            c["snap_points"][0]["longitude"],
            c["snap_points"][0]["latitude"],
            types[c["problem"]],
            sorted(lookup[c["ward"]]),
        ],
    ).fetchall()
    if len(c["snap_points"]) == 1:
        assert {o["outcome"]: o["count"] for o in c["evidence"]["outcomes"]} == dict(rows)
    assert sum(o["count"] for o in c["evidence"]["outcomes"]) == c["figures"]["crimes_recent"]


def _numbers(pattern: str, text: str) -> list[float] | None:
    m = re.search(pattern, text)
    return None if m is None else [float(g) for g in m.groups() if g is not None]


# The months a reason names (written out by hand for June 2021's proposal): the recent
# months, the full twelve before them ("the year before"), and the forecast's history.
NAMED_MONTHS = {
    " in April to June 2021": "recent",
    " in the year before": "baseline",
    "since January 2020": "forecast",
}


def test_every_number_in_a_reason_is_in_the_evidence(proposed, voiced) -> None:
    for c in candidates(proposed[0]) + candidates(voiced):
        text, f = c["reason"], c["figures"]
        months = {m["window"]: 0 for m in c["evidence"]["months"]}
        for m in c["evidence"]["months"]:
            months[m["window"]] += m["count"]
        now, before = months["recent"] / 3, months["baseline"] / 12
        if f["crimes_recent"]:  # every level names its months, and only those
            assert " a month in April to June 2021" in text
            assert f["change_direction"] == "no baseline" or " a month in the year before" in text
        for phrase in NAMED_MONTHS:
            text = text.replace(phrase, "")
        assert not re.search(r"January|February|March|April|May|June|July|20\d\d", text), text
        if below := _numbers(
            r" \((?:below|above) the recent ([\d.]+) a month: the forecast weighs its crimes "
            r", not only the last three months\)",
            text,
        ):  # said only when the forecast is more than twice or under half the recent level
            assert below[0] == pytest.approx(now, abs=0.051)
            assert not now / 2 <= f["forecast"] <= now * 2
            text = text.replace(re.search(r" \((below|above) the recent.*?months\)", text)[0], "")
        elif f["crimes_recent"] and f["forecast"] >= 0.05:
            assert now / 2 <= f["forecast"] + 0.01 and f["forecast"] - 0.01 <= now * 2
        used = 0
        if up := _numbers(
            r"up from ([\d.]+) a month to ([\d.]+) a month "
            r"\(significant, p (?:= ([\d.]+)|< 0\.001)\)",
            text,
        ):
            assert up[0] == pytest.approx(before, abs=0.051) and up[1] == pytest.approx(
                now, abs=0.051
            )
            assert f["change_direction"] == "rise" and f["change_p"] < 0.05
            if len(up) == 3:
                assert up[2] == pytest.approx(f["change_p"], abs=0.0005)
            else:
                assert f["change_p"] < 0.001
            used += 3  # before, now and the p-value
        if level := _numbers(r": ([\d.]+) a month, no clear change from ([\d.]+) a month", text):
            assert level[0] == pytest.approx(now, abs=0.051)
            assert level[1] == pytest.approx(before, abs=0.051)
            assert f["change_direction"] == "no clear change"
            used += 2
        if down := _numbers(r"down from ([\d.]+) a month to ([\d.]+) a month", text):
            assert (down[0], down[1]) == (
                pytest.approx(before, abs=0.051),
                pytest.approx(now, abs=0.051),
            )
            used += 2
        if ahead := _numbers(r"about ([\d.]+) expected next month", text):
            assert ahead[0] == pytest.approx(f["forecast"], abs=0.051)
            used += 1
        if said := _numbers(r"(\d+) (?:resident |partner )?concerns? about", text):
            assert said[0] == f["concerns"] == len(c["evidence"]["concerns"])
            used += 1
        # No other number hides in the reason.
        assert len(re.findall(r"\d+(?:\.\d+)?", text)) == used, text


def test_concerns_part_counts_the_concerns_stored_for_the_place(voiced, wards_store) -> None:
    cs = candidates(voiced)
    assert cs and all(c["figures"]["concerns"] > 0 for c in cs)
    assert any(c["origin"] != "data" for c in cs)
    with (CRIME_TYPES_CSV.parent / "concern_problems.csv").open(newline="", encoding="utf-8") as fh:
        groups = {r["problem"]: r["problem_group"] or r["problem"] for r in csv.DictReader(fh)}
    with TeamSQL.of(wards_store) as sql:
        stored = sql.execute(
            "SELECT concern_id, problem, source, place, longitude, latitude FROM concerns "
            "WHERE status = 'open' AND month BETWEEN DATE '2021-04-01' AND DATE '2021-06-01'"
        ).fetchall()
    for c in cs:
        pts = {(p["location"], p["longitude"], p["latitude"]) for p in c["snap_points"]}
        rows = [r for r in stored if (r[3], r[4], r[5]) in pts]
        mine = [r for r in rows if groups[r[1]] == c["problem"]]
        assert sorted(e["id"] for e in c["evidence"]["concerns"]) == sorted(r[0] for r in mine)
        assert c["figures"]["concerns"] == len(mine)
        sources = {"partners" if r[2] == "partner" else "residents" for r in mine}
        if c["figures"]["crimes_recent"]:
            sources.add("data")
        assert c["origin"] == (sources.pop() if len(sources) == 1 else "mix")


def test_nothing_private_from_a_concern_is_in_the_proposal(voiced) -> None:
    text = json.dumps(voiced)
    with CONCERNS_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    labels = {
        "street drinking",
        "begging",
        "speeding",
        "parking",
        "noise",
        "drug dealing",
        "anti-social behaviour",
        "theft and burglary",
        "criminal damage",
        "shoplifting",
        "burglary",
        "fighting",
        "dealing",
        "graffiti",
    }
    assert any(r["contact"] for r in rows)
    for r in rows:
        if r["contact"]:
            assert r["contact"] not in text
        if r["problem"] not in labels and " " in r["problem"]:  # the free text, as typed
            assert r["problem"] not in text, r["problem"]
    assert "where_text" not in text and "contact" not in text
    assert "resident-" not in text and "@" not in text


def test_gather_keeps_every_crime_once(proposed, raw_db) -> None:
    """Joining crimes to wards and places duplicates or drops none of them."""
    _, ev = proposed
    lsoas = sorted(set().union(*ward_lsoas().values()))
    expected = raw_scalar(
        raw_db,
        "SELECT count(*) FROM street WHERE month BETWEEN '2020-01' AND '2021-06' "
        'AND "Longitude" IS NOT NULL AND "LSOA code" IN (SELECT unnest(?::VARCHAR[]))',
        [lsoas],
    )
    assert ev.crimes.height == expected
    assert ev.crimes["place_key"].null_count() == 0
    assert set(ev.crimes["ward"]) == set(ward_lsoas())
    assert ev.recent == [dt.date(2021, m, 1) for m in (4, 5, 6)]


def test_snap_points_and_centre_are_those_of_the_place(proposed) -> None:
    result, ev = proposed
    for c in candidates(result):
        pts = ev.points.filter(pl.col("place_key") == c["place_key"])
        assert sorted(map(tuple, pts.select("location", "longitude", "latitude").rows())) == sorted(
            (p["location"], p["longitude"], p["latitude"]) for p in c["snap_points"]
        )
        assert c["longitude"] == pytest.approx(pts["longitude"].mean(), abs=1e-6)
        assert c["latitude"] == pytest.approx(pts["latitude"].mean(), abs=1e-6)


@pytest.mark.parametrize("method", ["glm", "kde", "prospective", "nonsense"])
def test_forecast_methods_that_are_not_counts_are_refused(wards_store: Store, method: str) -> None:
    with pytest.raises(InputError) as err:
        propose(wards_store, AREA, MONTH, method=method)
    assert str(err.value) == (
        f"--forecast-method {method!r}: expected one of sepp, mean-3, mean-6, mean-12, "
        "last-month (methods whose forecasts are expected crimes)"
    )


@pytest.mark.parametrize(
    ("month", "error", "message"),
    [
        ("2021-13", InputError, r"^--month '2021-13': expected a month as YYYY-MM"),
        ("June", InputError, r"^--month 'June'"),
        ("2023-06", DataMissingError, r"2023-06"),
    ],
)
def test_bad_months_are_refused(wards_store: Store, month: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message) as err:
        propose(wards_store, AREA, month, method="mean-3")
    assert "\n" not in str(err.value)


def test_wards_with_the_same_name_stay_apart(writable_store: Store) -> None:
    codes = [
        r[0]
        for r in writable_store.rows(
            "SELECT DISTINCT ward_code FROM lsoa_lookup WHERE ward_name = 'Normanton' "
            "AND lad_name IN ('Blaby', 'Rutland')"
        )
    ]
    assert len(codes) == 2
    add_area(writable_store, "Two Normantons", lsoas=[], wards=codes, geojson=None)
    result = propose(writable_store, "custom:Two Normantons", MONTH, per_ward=2, method="mean-3")
    assert len(result["wards"]) == 2
