"""Did a priority work? Difference-in-differences on four counts, then from the real store.

The saturated log-linear model ``count ~ group * period`` with offset ``log(months)``
has the log ratio of rate ratios as its interaction coefficient, so statsmodels' Poisson
GLM gives the reference estimate, Wald interval and p-value. On the real store, the four
counts of a closed priority are checked against DuckDB queries over the raw files.
"""

from __future__ import annotations

import copy
import datetime as dt
import doctest
import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from priorities_support import AREA, problem_crime_types, raw_counts_at, ward_lsoas

from beatbook.errors import DataMissingError, InputError
from beatbook.priorities import assess as assess_mod
from beatbook.priorities import lifecycle, review
from beatbook.priorities.assess import difference_in_differences
from beatbook.priorities.propose import propose
from beatbook.store import Store
from support.fixtures_store import months_between, raw_scalar


def glm_interaction(
    tb: float, td: float, cb: float, cd: float, mb: int, md: int
) -> tuple[float, float, float, float]:
    """exp(coef), CI low, CI high and p-value of the group x period term of a Poisson GLM."""
    counts = np.array([cb, cd, tb, td], dtype=float)
    group = np.array([0, 0, 1, 1])
    period = np.array([0, 1, 0, 1])
    exog = np.column_stack([np.ones(4), group, period, group * period])
    offset = np.log(np.array([mb, md, mb, md], dtype=float))
    with warnings.catch_warnings():  # a saturated fit: statsmodels warns about the scale
        warnings.simplefilter("ignore")
        fit = sm.GLM(counts, exog, family=sm.families.Poisson(), offset=offset).fit(
            tol=1e-14, maxiter=500
        )
    low, high = fit.conf_int(alpha=0.05)[3]
    return math.exp(fit.params[3]), math.exp(low), math.exp(high), float(fit.pvalues[3])


@pytest.mark.parametrize(
    "counts",
    [
        (30, 10, 100, 100, 6, 6),
        (12, 19, 240, 230, 6, 3),
        (5, 4, 60, 55, 12, 4),
        (40, 70, 300, 310, 6, 6),
        (1, 1, 1, 1, 1, 1),
    ],
)
def test_ratio_and_interval_agree_with_a_poisson_glm(counts: tuple[int, ...]) -> None:
    a = difference_in_differences(*counts)
    ratio, low, high, p = glm_interaction(*counts)
    assert a.ratio == pytest.approx(ratio, abs=1e-6)
    assert a.ci_low == pytest.approx(low, abs=1e-6)
    assert a.ci_high == pytest.approx(high, abs=1e-6)
    assert a.p_value == pytest.approx(p, abs=1e-6)
    assert not a.corrected
    assert (a.treated_before, a.treated_during, a.comparison_before, a.comparison_during) == counts[
        :4
    ]


def test_expected_and_difference_by_hand() -> None:
    # 12 a month before at the place (72 in 6), 3 a month during (9 in 3); comparison places
    # went from 40 to 30 a month, so 12 x 30/40 = 9 a month was expected: 6 fewer than that.
    a = difference_in_differences(72, 9, 240, 90, 6, 3)
    assert a.expected_during == pytest.approx(9.0)
    assert a.difference_per_month == pytest.approx(3 - 9)
    assert a.ratio == pytest.approx((9 / 72) / (90 / 240))
    assert a.verdict == "fell more"
    assert a.wording.startswith(
        "fell more than at comparison places: 12.0 a month before, 3.0 during"
    )
    assert "against 9.0 expected" in a.wording
    assert f"ratio {a.ratio:.2f}, 95% CI {a.ci_low:.2f}-{a.ci_high:.2f}" in a.wording


@pytest.mark.parametrize("zero_at", range(4))
def test_a_zero_count_adds_one_half_to_every_count(zero_at: int) -> None:
    counts = [8, 6, 50, 45]
    counts[zero_at] = 0
    a = difference_in_differences(*counts, 6, 6)
    tb, td, cb, cd = (c + 0.5 for c in counts)
    assert a.corrected
    assert a.ratio == pytest.approx((td / tb) / (cd / cb), rel=1e-12)
    se = math.sqrt(1 / tb + 1 / td + 1 / cb + 1 / cd)
    assert a.ci_low == pytest.approx(a.ratio * math.exp(-1.959963984540054 * se), rel=1e-9)
    assert a.ci_high == pytest.approx(a.ratio * math.exp(1.959963984540054 * se), rel=1e-9)
    # The same as the GLM on the corrected counts.
    ratio, low, high, _ = glm_interaction(tb, td, cb, cd, 6, 6)
    assert (a.ratio, a.ci_low, a.ci_high) == pytest.approx((ratio, low, high), rel=1e-6)
    assert a.treated_before + a.treated_during + a.comparison_before + a.comparison_during == sum(
        counts
    )


@pytest.mark.parametrize(
    ("counts", "verdict", "text"),
    [
        ((60, 20, 300, 300), "fell more", "fell more than at comparison places"),
        ((20, 60, 300, 300), "rose more", "rose more than at comparison places"),
        ((10, 9, 100, 95), "no clear difference", "no clear difference from comparison places"),
    ],
)
def test_verdict_follows_the_interval(counts: tuple[int, ...], verdict: str, text: str) -> None:
    a = difference_in_differences(*counts, 6, 6)
    assert a.verdict == verdict and a.wording.startswith(text + ":")
    if verdict == "fell more":
        assert a.ci_high < 1
    elif verdict == "rose more":
        assert a.ci_low > 1
    else:
        assert a.ci_low <= 1 <= a.ci_high


def test_a_wider_confidence_level_can_turn_a_result_into_no_clear_difference() -> None:
    counts = (60, 30, 600, 600, 6, 6)  # z = 3.0, p = 0.0027
    assert difference_in_differences(*counts).verdict == "fell more"
    strict = difference_in_differences(*counts, alpha=0.001)
    assert strict.verdict == "no clear difference" and "99.9% CI" in strict.wording


@pytest.mark.parametrize("counts", [(0, 0, 50, 40), (7, 3, 0, 0), (0, 0, 0, 0)])
def test_not_assessable_without_crimes_on_one_side(counts: tuple[int, ...]) -> None:
    a = difference_in_differences(*counts, 6, 3)
    assert a.verdict == "not assessable"
    assert a.wording.startswith("not assessable: no crimes")
    assert math.isnan(a.ratio) and math.isnan(a.ci_low) and math.isnan(a.p_value)
    assert a.to_dict()["ratio"] is None  # JSON-safe


@pytest.mark.parametrize(
    "args", [(-1, 3, 4, 5, 6, 6), (1, 3, 4, -5, 6, 6), (1, 3, 4, 5, 0, 6), (1, 3, 4, 5, 6, 0)]
)
def test_bad_counts_or_months_are_refused(args: tuple[int, ...]) -> None:
    with pytest.raises(InputError, match="counts >= 0 and at least one month"):
        difference_in_differences(*args)


def test_doctest_example() -> None:
    result = doctest.testmod(assess_mod, verbose=False)
    assert result.attempted >= 1 and result.failed == 0


def test_to_dict_has_the_documented_fields() -> None:
    assert set(difference_in_differences(30, 10, 100, 100, 6, 6).to_dict()) == {
        "treated_before",
        "treated_during",
        "comparison_before",
        "comparison_during",
        "months_before",
        "months_during",
        "ratio",
        "ci_low",
        "ci_high",
        "p_value",
        "expected_during",
        "difference_per_month",
        "corrected",
        "verdict",
        "wording",
    }


count = st.integers(min_value=0, max_value=2000)


@settings(max_examples=200, deadline=None)
@given(count, count, count, count, st.integers(1, 24), st.integers(1, 24))
def test_swapping_treated_and_comparison_inverts_the_ratio(
    tb: int, td: int, cb: int, cd: int, mb: int, md: int
) -> None:
    a = difference_in_differences(tb, td, cb, cd, mb, md)
    b = difference_in_differences(cb, cd, tb, td, mb, md)
    assert (a.verdict == "not assessable") == (b.verdict == "not assessable")
    if a.verdict == "not assessable":
        return
    assert a.ratio * b.ratio == pytest.approx(1.0, rel=1e-9)
    assert a.ci_low * b.ci_high == pytest.approx(1.0, rel=1e-9)
    assert a.p_value == pytest.approx(b.p_value, rel=1e-9)
    swapped = {"fell more": "rose more", "rose more": "fell more"}
    assert b.verdict == swapped.get(a.verdict, a.verdict)
    assert a.ci_low <= a.ratio <= a.ci_high


# --- review: a priority assessed from the real store -----------------------------------------

APRIL, SEPTEMBER = dt.date(2021, 4, 1), dt.date(2021, 9, 1)
BEFORE = months_between("2020-10", "2021-03")
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
    with Store(wards_store_copy) as store:
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


def test_close_assesses_against_the_rest_of_the_ward(running, raw_db) -> None:
    store, p = running
    a = p["A"]
    lsoas, types = ward_lsoas()[a["ward"]], problem_crime_types()[a["problem"]]

    def at(points: list[dict], months: list[str]) -> int:
        return sum(raw_counts_at(raw_db, points, lsoas, types, months).values())

    def in_ward(months: list[str]) -> int:
        return raw_scalar(
            raw_db,
            'SELECT count(*) FROM street WHERE "LSOA code" IN (SELECT unnest(?::VARCHAR[])) '
            'AND "Crime type" IN (SELECT unnest(?::VARCHAR[])) '
            'AND month IN (SELECT unnest(?::VARCHAR[])) AND "Longitude" IS NOT NULL',
            [sorted(lsoas), types, months],
        )

    # Comparison: the ward's crimes of the problem minus A's and B's (adopted in the same
    # months); C (rejected) and D (adopted only later) stay in the comparison.
    expected = {
        "treated_before": at(a["snap_points"], BEFORE),
        "treated_during": at(a["snap_points"], DURING),
        "comparison_before": in_ward(BEFORE)
        - at(a["snap_points"], BEFORE)
        - at(p["B"]["snap_points"], BEFORE),
        "comparison_during": in_ward(DURING)
        - at(a["snap_points"], DURING)
        - at(p["B"]["snap_points"], DURING),
    }
    # Each of B, C and D had crimes in these months, so leaving one in or out would show.
    assert all(at(p[x]["snap_points"], BEFORE + DURING) > 0 for x in "BCD")
    events_before = store.scalar("SELECT count(*) FROM priority_events")
    result = review.close(store, a["priority_id"], "Insp. Patel", SEPTEMBER, note="patrols ended")
    assert {k: result[k] for k in expected} == expected
    assert result["before_months"] == BEFORE and result["during_months"] == DURING
    assert (result["months_before"], result["months_during"]) == (6, 6)
    reference = difference_in_differences(*expected.values(), 6, 6)
    assert (
        result["ratio"] == pytest.approx(reference.ratio) and result["verdict"] == reference.verdict
    )
    assert result["wording"] == reference.wording
    assert (result["ward"], result["problem"], result["place"]) == (
        a["ward"],
        a["problem"],
        a["place"],
    )
    assert result["comparison"].startswith(
        f"other places in {a['ward']} with {a['problem']} crimes"
    )
    # Closing appended one event that carries the assessment.
    assert store.scalar("SELECT count(*) FROM priority_events") == events_before + 1
    closed = lifecycle.priority(store, a["priority_id"])
    last = closed["events"][-1]
    assert (closed["status"], last["action"], last["month"]) == ("closed", "closed", SEPTEMBER)
    assert last["details"]["note"] == "patrols ended"
    assert last["details"]["assessment"] == json.loads(json.dumps(result))


def test_assess_so_far_changes_nothing(running) -> None:
    store, p = running
    before = store.first("SELECT count(*) FROM priority_events")
    so_far = review.assess(store, p["A"]["priority_id"], dt.date(2021, 6, 1))
    assert so_far["during_months"] == ["2021-04", "2021-05", "2021-06"]
    assert so_far["months_during"] == 3
    assert store.first("SELECT count(*) FROM priority_events") == before
    assert lifecycle.priority(store, p["A"]["priority_id"])["status"] == "continued"
    # Fewer months before: the before window shrinks to the months just before adoption.
    short = review.assess(store, p["A"]["priority_id"], dt.date(2021, 6, 1), before_months=2)
    assert short["before_months"] == ["2021-02", "2021-03"]


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
    trail = store.first("SELECT count(*) FROM priority_events")
    with pytest.raises(InputError, match=f"^priority {c} is rejected: it cannot be closed"):
        review.close(store, c, "Insp. Patel", SEPTEMBER)
    assert store.first("SELECT count(*) FROM priority_events") == trail


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
