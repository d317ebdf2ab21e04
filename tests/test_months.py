"""Month arithmetic (beatbook.months) against a step-by-step count and the calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beatbook.errors import InputError
from beatbook.months import (
    add_months,
    month_end,
    month_range,
    months_back,
    months_between,
    parse_month,
)

months = st.builds(lambda y, m: dt.date(y, m, 1), st.integers(1900, 2200), st.integers(1, 12))


def _step(month: dt.date, n: int) -> dt.date:
    """One month at a time, through the calendar (the slow, obvious way)."""
    for _ in range(abs(n)):
        if n > 0:
            month = (month + dt.timedelta(days=32)).replace(day=1)
        else:
            month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


@given(months, st.integers(-300, 300))
def test_add_months_matches_stepping_through_the_calendar(month: dt.date, n: int) -> None:
    assert add_months(month, n) == _step(month, n)
    assert add_months(add_months(month, n), -n) == month
    assert months_between(month, add_months(month, n)) == n


@given(months, st.integers(1, 60))
def test_months_back_and_range_agree(last: dt.date, n: int) -> None:
    back = months_back(last, n)
    assert len(back) == n and back[-1] == last
    assert back == month_range(back[0], last)
    assert all(months_between(a, b) == 1 for a, b in zip(back, back[1:], strict=False))


@given(months)
def test_month_end_is_the_last_day(month: dt.date) -> None:
    end = month_end(month)
    assert end.replace(day=1) == month
    assert (end + dt.timedelta(days=1)).day == 1


def test_known_values() -> None:
    assert add_months(dt.date(2025, 11, 1), 3) == dt.date(2026, 2, 1)
    assert month_end(dt.date(2024, 2, 1)) == dt.date(2024, 2, 29)
    assert months_back(dt.date(2025, 1, 1), 2) == [dt.date(2024, 12, 1), dt.date(2025, 1, 1)]
    assert parse_month("2021-07") == dt.date(2021, 7, 1)


@pytest.mark.parametrize("text", ["2021-7", "21-07", "2021-13", "2021/07", "", "July 2021"])
def test_parse_month_names_the_option(text: str) -> None:
    with pytest.raises(InputError, match="--month .*expected a month as YYYY-MM"):
        parse_month(text, "--month")


def test_a_backwards_range_is_refused() -> None:
    with pytest.raises(InputError, match="ends \\(2021-01\\) before it starts \\(2021-02\\)"):
        month_range(dt.date(2021, 2, 1), dt.date(2021, 1, 1))
