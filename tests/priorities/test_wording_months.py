"""Every comparison sentence names only months that are stored, and says "the year
before" only when the twelve months before the recent ones are all stored.

The stored months are drawn at random (gaps of any length, as when 2022-2024 are not
loaded); the windows a proposal compares are worked out here from the calendar, then
handed to each wording function; the months its sentence names are read back from the
words (priorities_support.named_months)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from priorities_support import named_months

from beatbook.priorities.assess import difference_in_differences
from beatbook.priorities.evidence import unbroken, windows
from beatbook.priorities.review import assessment_windows
from beatbook.priorities.wording import plain_assessment, public_reason, reason
from support.problem_words import PROBLEM_WORDS

START = dt.date(2019, 1, 1)
SPAN = 60  # months 2019-01 .. 2023-12


def month(i: int) -> dt.date:
    return dt.date(START.year + (START.month - 1 + i) // 12, (START.month - 1 + i) % 12 + 1, 1)


def ym(m: dt.date) -> str:
    return f"{m:%Y-%m}"


@st.composite
def stored_months(draw: st.DrawFn) -> list[dt.date]:
    """A random set of stored months, the latest of which is the cutoff."""
    chosen = draw(st.sets(st.integers(0, SPAN - 1), min_size=1, max_size=SPAN))
    return [month(i) for i in sorted(chosen)]


def by_hand(stored: list[dt.date]) -> tuple[list[dt.date], list[dt.date], dt.date]:
    """The recent months (the 3 calendar months to the cutoff that are stored), the baseline
    (the 12 calendar months before those, stored), and the first month of the unbroken run
    of stored months ending at the cutoff."""
    cutoff = stored[-1]
    index = {m: i for i, m in enumerate(month(i) for i in range(-24, SPAN))}
    calendar = {i: m for m, i in index.items()}
    c = index[cutoff]
    recent = [calendar[i] for i in range(c - 2, c + 1) if calendar[i] in stored]
    baseline = [calendar[i] for i in range(c - 14, c - 2) if calendar[i] in stored]
    first = c
    while calendar[first - 1] in stored:
        first -= 1
    return recent, baseline, calendar[first]


FIGURES = st.fixed_dictionaries(
    {
        "problem": st.sampled_from([*PROBLEM_WORDS, "street-drinking"]),
        "crimes_recent": st.integers(0, 60),
        "per_month_recent": st.floats(0, 30, allow_nan=False),
        "per_month_baseline": st.floats(0, 30, allow_nan=False),
        "change_direction": st.sampled_from(["rise", "fall", "no clear change", "no baseline"]),
        "change_p": st.floats(0, 1, allow_nan=False),
        "forecast": st.floats(0, 60, allow_nan=False),
        "concerns": st.integers(0, 4),
        "concern_problems": st.just(["drug dealing"]),
        "concern_sources": st.sampled_from([["resident"], ["partner"], ["resident", "partner"]]),
    }
)


def check(text: str, stored: list[dt.date], baseline: list[dt.date], recent: list[dt.date]):
    assert set(named_months(text)) <= {ym(m) for m in stored}, (text, stored)
    year = [month(i) for i in range(-24, SPAN)]
    before = year[year.index(recent[0]) - 12 : year.index(recent[0])]
    if "year before" in text:
        assert baseline == before, text  # the twelve months before are all stored
        assert all(m in stored for m in before), text


@settings(max_examples=400, deadline=None)
@given(stored_months(), FIGURES, st.sampled_from(["data", "residents", "mix"]))
def test_every_sentence_names_only_stored_months(stored, figures, origin) -> None:
    recent, baseline, run_start = by_hand(stored)
    assert windows(stored, stored[-1]) == (recent, baseline)  # as a proposal compares them
    assert unbroken(stored)[0] == run_start
    text = reason(figures, [ym(m) for m in recent], [ym(m) for m in baseline], ym(run_start))
    check(text, stored, baseline, recent)
    if figures["crimes_recent"]:
        assert set(named_months(text)) >= {ym(m) for m in recent}  # names what it measured
    said = public_reason(
        figures["problem"], origin, figures, [ym(m) for m in recent], [ym(m) for m in baseline]
    )
    check(said, stored, baseline, recent)
    if figures["crimes_recent"] and figures["change_direction"] != "no baseline" and baseline:
        compared = set(named_months(said)) - {ym(m) for m in recent}
        assert compared == {ym(m) for m in baseline} or "the year before" in said, said
    # a record saved before the baseline months were kept names none it cannot know
    legacy = public_reason(figures["problem"], origin, figures, [ym(m) for m in recent])
    check(legacy, stored, baseline, recent)
    assert "year before" not in legacy


@settings(max_examples=300, deadline=None)
@given(stored_months(), st.data())
def test_an_assessment_names_only_stored_months(stored, data) -> None:
    proposed_for = data.draw(st.sampled_from(stored))
    until = data.draw(st.sampled_from([m for m in stored if m >= proposed_for]))
    w = assessment_windows(stored, proposed_for, proposed_for, until, 6)
    if not w.before or not w.during:
        return
    counts = st.integers(0, 30)
    a = (
        difference_in_differences(
            data.draw(st.lists(counts, min_size=len(w.before), max_size=len(w.before))),
            data.draw(st.lists(counts, min_size=len(w.during), max_size=len(w.during))),
            data.draw(st.lists(counts, min_size=len(w.before), max_size=len(w.before))),
            data.draw(st.lists(counts, min_size=len(w.during), max_size=len(w.during))),
            treated_selection=data.draw(
                st.lists(counts, min_size=len(w.selection), max_size=len(w.selection))
            ),
            comparison_selection=data.draw(
                st.lists(counts, min_size=len(w.selection), max_size=len(w.selection))
            ),
        ).to_dict()
        | w.to_dict()
    )
    text = plain_assessment(a, "Fosse", "drugs")
    named = set(named_months(text))
    assert named <= {ym(m) for m in stored}, text
    if a["verdict"] != "not assessable":  # each level says which months it is
        assert named == {ym(m) for m in [*w.before, *w.selection, *w.during]}, text
