"""Property tests of the long-run share change: the test of a type's share between two years
(``compare_shares`` on the monthly splits) and its wording."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from beatbook.stats.long_run import describe_share_change, monthly_split, years_of
from beatbook.stats.shares import compare_shares

MONTHS = {y: [dt.date(y, m, 1) for m in range(1, 13)] for y in (2020, 2021)}

splits = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 400)).map(lambda t: (t[0], t[0] + t[1])),
    min_size=12,
    max_size=12,
)


def _series(year: int, pairs: list[tuple[int, int]]) -> dict[dt.date, tuple[int, int]]:
    parts = {m: p for m, (p, _) in zip(MONTHS[year], pairs, strict=True)}
    bases = {m: b for m, (_, b) in zip(MONTHS[year], pairs, strict=True)}
    return monthly_split(parts, bases, MONTHS[year])


def _change(a: dict[dt.date, tuple[int, int]], b: dict[dt.date, tuple[int, int]]):  # noqa: ANN202
    ta = (sum(p for p, _ in a.values()), sum(x for _, x in a.values()))
    tb = (sum(p for p, _ in b.values()), sum(x for _, x in b.values()))
    return compare_shares(*ta, *tb, monthly_before=a, monthly_after=b)


@settings(max_examples=40, deadline=None)
@given(splits, splits)
def test_the_test_never_beats_fishers_and_words_follow_it(
    first: list[tuple[int, int]], last: list[tuple[int, int]]
) -> None:
    a, b = _series(2020, first), _series(2021, last)
    c = _change(a, b)
    table = [
        [c.part_after, c.base_after - c.part_after],
        [c.part_before, c.base_before - c.part_before],
    ]
    assert c.p_value >= stats.fisher_exact(table).pvalue - 1e-9
    assert c.dispersion >= 1.0
    if c.base_before and c.base_after:
        assert c.share_before == c.part_before / c.base_before
    if c.base_before and c.base_after and c.part_before + c.part_after:
        text = describe_share_change(c, "Drugs", 2020, 2021)
        assert ("significant rise" in text) == (c.significant and c.direction == "rise")
        assert ("significant fall" in text) == (c.significant and c.direction == "fall")
        assert ("no clear change" in text) == (not c.significant)


@settings(max_examples=25, deadline=None)
@given(splits, splits)
def test_swapping_the_years_inverts_the_ratio_and_keeps_p(
    first: list[tuple[int, int]], last: list[tuple[int, int]]
) -> None:
    a, b = _series(2020, first), _series(2021, last)
    forward = _change(a, b)
    # The same months, the other way round: relabel so that 'before' stays the earlier year.
    back = _change(
        {m.replace(year=2020): v for m, v in b.items()},
        {m.replace(year=2021): v for m, v in a.items()},
    )
    assert abs(forward.p_value - back.p_value) < 1e-6
    if 0 < forward.odds_ratio < float("inf") and 0 < back.odds_ratio < float("inf"):
        assert abs(forward.odds_ratio * back.odds_ratio - 1) < 1e-4


@given(st.sets(st.integers(0, 35), min_size=1), st.data())
def test_years_of_keeps_every_month_in_its_year(indices: set[int], data: st.DataObject) -> None:
    wanted = [dt.date(2020 + i // 12, i % 12 + 1, 1) for i in sorted(indices)]
    stored = data.draw(st.sets(st.sampled_from(wanted)))
    years = years_of(wanted, sorted(stored))
    assert [m for y in years for m in y.months_in_period] == wanted
    for y in years:
        assert all(m.year == y.year for m in y.months_in_period)
        assert y.complete == (len([m for m in stored if m.year == y.year]) == 12)
        assert len(y.months_missing) + len(y.months_stored) == len(y.months_in_period)
