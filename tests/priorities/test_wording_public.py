"""The priorities' wording for residents (the community update, the public pages): a fall,
a rise or a difference is claimed only when its test says so."""

from __future__ import annotations

import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from beatbook.priorities.assess import difference_in_differences
from beatbook.priorities.wording import plain_assessment, public_reason
from support.problem_words import PROBLEM_WORDS


def months(n: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, 60), min_size=n, max_size=n)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(1, 12), st.integers(0, 3), st.integers(1, 12), st.booleans())
def test_plain_assessment_claims_a_difference_only_when_the_intervals_do(
    data: st.DataObject, months_before: int, months_selection: int, months_during: int, final: bool
) -> None:
    tb, td, cb, cd, ts, cs = (
        data.draw(months(n))
        for n in (
            months_before,
            months_during,
            months_before,
            months_during,
            months_selection,
            months_selection,
        )
    )
    a = difference_in_differences(
        tb, td, cb, cd, treated_selection=ts, comparison_selection=cs
    ).to_dict()
    text = plain_assessment(a, "Fosse", "drugs", final=final)
    assessable = a["ci_low"] is not None and not math.isnan(a["ci_low"])
    # a fall or rise is claimed only when it holds against the months before and against the
    # months the priority was proposed on (when there were any)
    apart = a["months_selection"] > 0
    fell = assessable and a["ci_high"] < 1 and (not apart or a["selection_ci_high"] < 1)
    rose = assessable and a["ci_low"] > 1 and (not apart or a["selection_ci_low"] > 1)
    assert ("fell by more" in text) is fell
    assert ("rose by more" in text) is rose
    if not (fell or rose):
        assert "by more" not in text
    assert text.startswith("We cannot measure this one") is (not assessable)


def test_plain_assessment_without_an_assessment() -> None:
    assert plain_assessment(None, "Fosse", "drugs").startswith("Too early to tell")


DIRECTIONS = ("rise", "fall", "no clear change", "no baseline")


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([*PROBLEM_WORDS, "street-drinking", "begging"]),
    st.sampled_from(["data", "residents", "partners", "mix"]),
    st.sampled_from(DIRECTIONS),
    st.integers(0, 50),
    st.floats(0, 40, allow_nan=False),
    st.floats(0, 40, allow_nan=False),
    st.integers(0, 5),
)
def test_public_reason_says_rose_only_for_a_tested_rise(
    problem: str,
    origin: str,
    direction: str,
    crimes: int,
    recent: float,
    baseline: float,
    concerns: int,
) -> None:
    figures = {
        "crimes_recent": crimes,
        "per_month_recent": recent,
        "per_month_baseline": baseline,
        "change_direction": direction,
        "concerns": concerns,
    }
    text = public_reason(problem, origin, figures, ["2021-04", "2021-05", "2021-06"])
    assert bool(re.search(r"\brose\b", text)) is (direction == "rise" and crimes > 0)
    assert bool(re.search(r"\bfell\b", text)) is (direction == "fall" and crimes > 0)
    assert "April to June 2021" in text
    assert ("raised with us" in text) is (concerns > 0)
