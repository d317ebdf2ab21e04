"""Assessments of priorities from the real store (priorities/review.py): which months are compared,
refusals, and a real spike that fell back with no action (regression to the mean)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from priorities_support import AREA, glm, problem_crime_types, raw_counts_at, ward_lsoas

from beatbook.errors import DataMissingError, InputError
from beatbook.priorities import lifecycle, review
from beatbook.priorities.assess import QUASI_POISSON
from beatbook.priorities.propose import propose
from beatbook.store import Store
from support.fixtures_store import months_between
from support.records_backend import TeamSQL, open_store

# --- review: a priority assessed from the real store -----------------------------------------

APRIL, SEPTEMBER = dt.date(2021, 4, 1), dt.date(2021, 9, 1)
SELECTION = months_between("2021-01", "2021-03")  # the proposal for April: data to March
BEFORE = months_between("2020-07", "2020-12")
DURING = months_between("2021-04", "2021-09")


@pytest.fixture(scope="module")
def march(wards_store: Store) -> dict[str, Any]:
    """Proposals from data to 2021-03, for 2021-04."""
    return propose(wards_store, AREA, "2021-03", per_ward=4, method="mean-3")


@pytest.fixture
def running(
    wards_store_copy: Path, march: dict[str, Any]
) -> Iterator[tuple[Store, dict[str, dict[str, Any]]]]:
    """The March proposals saved, in a ward with four of one problem: A adopted and continued,
    B of the same problem adopted too, C rejected, D adopted only for 2021-12 (after the
    assessed months)."""
    result = copy.deepcopy(march)
    with open_store(wards_store_copy) as store:
        ids = lifecycle.save_proposals(store, result)
        flat = [c for w in result["wards"] for c in w["priorities"]]
        for c, pid in zip(flat, ids, strict=True):
            c["priority_id"] = pid
        ward = next(
            w
            for w in result["wards"]
            if len({c["problem"] for c in w["priorities"]}) == 1 and len(w["priorities"]) == 4
        )
        # A: the place with the most snap points, so a multi-point place is assessed.
        a = max(ward["priorities"], key=lambda c: (len(c["snap_points"]), -c["rank"]))
        b, c, d = [x for x in ward["priorities"] if x is not a]
        lifecycle.decide(store, a["priority_id"], "adopted", "Insp. Patel", month=APRIL)
        lifecycle.decide(
            store, a["priority_id"], "continued", "Insp. Patel", month=dt.date(2021, 6, 1)
        )
        lifecycle.decide(store, b["priority_id"], "adopted", "Insp. Patel", month=APRIL)
        lifecycle.decide(
            store, c["priority_id"], "rejected", "Insp. Patel", details={"reason": "x"}
        )
        lifecycle.decide(
            store, d["priority_id"], "adopted", "Insp. Patel", month=dt.date(2021, 12, 1)
        )
        yield store, {"A": a, "B": b, "C": c, "D": d}


def trail_rows(store: Store) -> int:
    """Rows in the decision trail, by the tests' own SQL wherever the records are."""
    with TeamSQL.of(store) as sql:
        return int(sql.scalar("SELECT count(*) FROM priority_events"))


def raw_ward_counts(raw_db: Any, lsoas: set[str], types: list[str], months: list[str]) -> list[int]:
    """Located crimes of these types in these LSOAs, month by month, from the raw files."""
    rows = dict(
        raw_db.execute(
            'SELECT month, count(*) FROM street WHERE "LSOA code" IN (SELECT unnest(?::VARCHAR[])) '
            'AND "Crime type" IN (SELECT unnest(?::VARCHAR[])) '
            'AND month IN (SELECT unnest(?::VARCHAR[])) AND "Longitude" IS NOT NULL GROUP BY 1',
            [sorted(lsoas), types, months],
        ).fetchall()
    )
    return [rows.get(m, 0) for m in months]


def test_close_assesses_against_the_rest_of_the_ward(running, raw_db) -> None:
    store, p = running
    a = p["A"]
    lsoas, types = ward_lsoas()[a["ward"]], problem_crime_types()[a["problem"]]

    def at(points: list[dict], months: list[str]) -> list[int]:
        counts = raw_counts_at(raw_db, points, lsoas, types, months)
        return [counts[m] for m in months]

    def comparison(months: list[str]) -> list[int]:
        # The ward's crimes of the problem minus A's and B's (adopted in the same months);
        # C (rejected) and D (adopted only later) stay in the comparison.
        ward, own, other = (
            raw_ward_counts(raw_db, lsoas, types, months),
            at(a["snap_points"], months),
            at(p["B"]["snap_points"], months),
        )
        return [w - x - y for w, x, y in zip(ward, own, other, strict=True)]

    # Each of B, C and D had crimes in these months, so leaving one in or out would show.
    assert all(sum(at(p[x]["snap_points"], BEFORE + SELECTION + DURING)) > 0 for x in "BCD")
    events_before = trail_rows(store)
    result = review.close(store, a["priority_id"], "Insp. Patel", SEPTEMBER, note="patrols ended")
    # The months: the three it was proposed on are not "before".
    assert result["selection_months"] == SELECTION
    assert result["before_months"] == BEFORE and result["during_months"] == DURING
    assert not set(result["before_months"]) & set(SELECTION)
    assert (result["months_before"], result["months_selection"], result["months_during"]) == (
        6,
        3,
        6,
    )
    series = {
        "tb": at(a["snap_points"], BEFORE),
        "td": at(a["snap_points"], DURING),
        "cb": comparison(BEFORE),
        "cd": comparison(DURING),
        "ts": at(a["snap_points"], SELECTION),
        "cs": comparison(SELECTION),
    }
    assert (
        result["treated_before"],
        result["treated_during"],
        result["comparison_before"],
        result["comparison_during"],
        result["treated_selection"],
        result["comparison_selection"],
    ) == tuple(sum(v) for v in series.values())
    ref = glm(*series.values())
    assert result["test"] == QUASI_POISSON
    assert result["dispersion"] == pytest.approx(ref["dispersion"], rel=1e-9)
    assert (result["ratio"], result["ci_low"], result["ci_high"]) == pytest.approx(
        ref["before"][:3], rel=1e-6
    )
    assert (
        result["selection_ratio"],
        result["selection_ci_low"],
        result["selection_ci_high"],
    ) == pytest.approx(ref["selection"][:3], rel=1e-6)
    assert (result["ward"], result["problem"], result["place"]) == (
        a["ward"],
        a["problem"],
        a["place"],
    )
    assert result["comparison"].startswith(
        f"other places in {a['ward']} with {a['problem']} crimes"
    )
    # Closing appended one event that carries the assessment.
    assert trail_rows(store) == events_before + 1
    closed = lifecycle.priority(store, a["priority_id"])
    last = closed["events"][-1]
    assert (closed["status"], last["action"], last["month"]) == ("closed", "closed", SEPTEMBER)
    assert last["details"]["note"] == "patrols ended"
    assert last["details"]["assessment"] == json.loads(json.dumps(result))


def test_assess_so_far_changes_nothing(running) -> None:
    store, p = running
    before = trail_rows(store)
    so_far = review.assess(store, p["A"]["priority_id"], dt.date(2021, 6, 1))
    assert so_far["during_months"] == ["2021-04", "2021-05", "2021-06"]
    assert so_far["months_during"] == 3
    assert trail_rows(store) == before
    assert lifecycle.priority(store, p["A"]["priority_id"])["status"] == "continued"
    # Fewer months before: the before window shrinks to the months just before the selection.
    short = review.assess(store, p["A"]["priority_id"], dt.date(2021, 6, 1), before_months=2)
    assert short["before_months"] == ["2020-11", "2020-12"]
    assert short["selection_months"] == SELECTION


def test_months_between_the_proposal_and_a_later_adoption_are_in_no_window(running) -> None:
    store, p = running
    late = review.assess(store, p["D"]["priority_id"], dt.date(2021, 12, 1))
    assert late["selection_months"] == SELECTION and late["before_months"] == BEFORE
    assert late["during_months"] == ["2021-12"]


def test_refusals(running) -> None:
    store, p = running
    a, c = p["A"]["priority_id"], p["C"]["priority_id"]
    with pytest.raises(InputError, match=f"^priority {c} was never adopted"):
        review.assess(store, c, SEPTEMBER)
    with pytest.raises(
        InputError, match=rf"^--month 2021-03 is before priority {a} was adopted \(2021-04\)"
    ):
        review.assess(store, a, dt.date(2021, 3, 1))
    with pytest.raises(DataMissingError, match="^--month 2022-06: no street-level crime stored"):
        review.assess(store, a, dt.date(2022, 6, 1))
    for bad in (0, 25):
        with pytest.raises(InputError, match=f"^--before-months {bad}: expected 1 to 24"):
            review.assess(store, a, SEPTEMBER, before_months=bad)
    trail = trail_rows(store)
    with pytest.raises(InputError, match=f"^priority {c} is rejected: it cannot be closed"):
        review.close(store, c, "Insp. Patel", SEPTEMBER)
    assert trail_rows(store) == trail


def test_a_problem_police_uk_does_not_record_is_not_assessable(running) -> None:
    store, _ = running
    pid = lifecycle.add_priority(
        store,
        area=f"custom:{AREA}",
        ward="Westcotes",
        place="Narborough Road",
        place_key="Westcotes|Narborough Road",
        snap_points=[],
        problem="speeding",
        month=APRIL,
        origin="residents",
        actor="Sgt. Hale",
    )
    lifecycle.decide(store, pid, "adopted", "Insp. Patel", month=APRIL)
    result = review.close(store, pid, "Insp. Patel", SEPTEMBER)
    assert result["verdict"] == "not assessable"
    assert result["wording"] == "not assessable: speeding is not recorded in police.uk data"
    assert lifecycle.priority(store, pid)["status"] == "closed"


# --- regression to the mean: a real spike, no action -------------------------------------------

# Thirlmere Street, Saffron: violence and weapons offences went 0, 0, 1, 2, 3, 5 a month
# (May-October 2020), then 10, 8, 6 (November 2020 - January 2021), so BeatBook proposed it
# for February 2021 (a significant rise). Nothing was done; it had 0, 1, 1 in February-April.
# The old assessment took the 6 months before adoption as "before" (Aug 2020 - Jan 2021: the
# spike) and a Poisson test, and called that "fell more than at comparison places".
SPIKE = {"ward": "Saffron", "place": "Thirlmere Street", "problem": "violence-weapons"}


@pytest.fixture
def spike(wards_store_copy: Path) -> Iterator[tuple[Store, int, dict[str, Any]]]:
    """January 2021's proposals saved; Thirlmere Street's adopted for February, nothing else."""
    with open_store(wards_store_copy) as store:
        result = propose(store, AREA, "2021-01", per_ward=4, method="mean-3")
        ids = lifecycle.save_proposals(store, result)
        flat = [c for w in result["wards"] for c in w["priorities"]]
        pid, c = next(
            (pid, c) for pid, c in zip(ids, flat, strict=True) if {k: c[k] for k in SPIKE} == SPIKE
        )
        assert c["figures"]["change_direction"] == "rise"
        lifecycle.decide(store, pid, "adopted", "Insp. Patel")
        yield store, pid, c


def test_a_spike_that_falls_back_is_not_called_a_fall(spike, raw_db) -> None:
    store, pid, c = spike
    lsoas, types = ward_lsoas()["Saffron"], problem_crime_types()["violence-weapons"]
    months = months_between("2020-05", "2021-04")
    at = raw_counts_at(raw_db, c["snap_points"], lsoas, types, months)
    ward = dict(zip(months, raw_ward_counts(raw_db, lsoas, types, months), strict=True))
    place = [at[m] for m in months]
    assert place == [0, 0, 1, 2, 3, 5, 10, 8, 6, 0, 1, 1]
    rest = [ward[m] - at[m] for m in months]

    # What the old code said: before = the 6 months before adoption, Poisson on the totals.
    old = glm([sum(place[3:9])], [sum(place[9:])], [sum(rest[3:9])], [sum(rest[9:])], quasi=False)
    assert old["before"][2] < 1  # its interval was below 1: "fell more than at comparison places"

    result = review.assess(store, pid, dt.date(2021, 4, 1))
    assert result["selection_months"] == ["2020-11", "2020-12", "2021-01"]
    assert result["before_months"] == months_between("2020-05", "2020-10")
    assert result["during_months"] == ["2021-02", "2021-03", "2021-04"]
    assert (result["treated_before"], result["treated_selection"], result["treated_during"]) == (
        11,
        24,
        2,
    )
    assert result["verdict"] == "no clear difference"
    assert result["wording"].startswith("no clear difference from comparison places")
    ref = glm(place[:6], place[9:], rest[:6], rest[9:], place[6:9], rest[6:9])
    assert (result["ratio"], result["ci_low"], result["ci_high"]) == pytest.approx(
        ref["before"][:3], rel=1e-6
    )
