"""Month arithmetic (beatbook.months) against a step-by-step count and the calendar."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beatbook.errors import InputError
from beatbook.months import (
    add_months,
    check_month,
    day_bounds,
    month_end,
    month_range,
    months_back,
    months_between,
    parse_day,
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


# --- the edges of the calendar and the months a person may give (issue 17) ----------------------

every_month = st.builds(lambda y, m: dt.date(y, m, 1), st.integers(1, 9999), st.integers(1, 12))


@given(every_month, st.integers(-200_000, 200_000))
def test_month_arithmetic_never_overflows(month: dt.date, n: int) -> None:
    """Any month of the calendar, any step: a month, or an InputError naming the calendar
    (never ValueError or OverflowError, which a page would answer with a 500)."""
    try:
        moved = add_months(month, n)
    except InputError as exc:
        assert "outside the calendar (0001-01 to 9999-12)" in str(exc)
        assert not 1 <= (month.year * 12 + month.month - 1 + n) // 12 <= 9999
        return
    assert months_between(month, moved) == n
    assert month_end(moved).replace(day=1) == moved


def test_the_last_month_of_the_calendar() -> None:
    assert add_months(dt.date(9999, 11, 1), 1) == dt.date(9999, 12, 1)
    assert month_end(dt.date(9999, 12, 1)) == dt.date(9999, 12, 31)
    with pytest.raises(InputError, match="9999-12 \\+ 1 month is outside the calendar"):
        add_months(dt.date(9999, 12, 1), 1)
    with pytest.raises(InputError, match="0001-01 - 12 months is outside the calendar"):
        add_months(dt.date(1, 1, 1), -12)


STORED = [dt.date(2020, m, 1) for m in range(1, 13)] + [dt.date(2021, 1, 1)]


@pytest.mark.parametrize("month", ["2020-01", "2021-01", "2021-07"])
def test_a_month_of_the_data_or_up_to_six_after_it_is_taken(month: str) -> None:
    assert parse_month(month, "--month", STORED) == dt.date.fromisoformat(month + "-01")


@pytest.mark.parametrize("month", ["2019-12", "2021-08", "9999-12", "0001-01"])
def test_a_month_outside_the_data_window_is_refused_saying_which_are_taken(month: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_month(month, "--month", STORED)
    assert str(refused.value) == (
        f"--month {month}: expected a month from 2020-01 to 2021-07 (police.uk data are "
        "stored from 2020-01 to 2021-01; a month may be up to 6 after them)"
    )


def test_without_data_a_month_is_kept_to_the_calendar_of_days() -> None:
    today = dt.date(2026, 12, 5)
    assert check_month(dt.date(2031, 12, 1), "--to", [], today) == dt.date(2031, 12, 1)
    with pytest.raises(InputError, match="--to 2032-01: expected a month from 2000-01 to 2031-12"):
        check_month(dt.date(2032, 1, 1), "--to", [], today)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("9999-12-31", "expected a day from 2000-01-01 to 2031-12-31"),
        ("0001-01-01", "expected a day from 2000-01-01 to 2031-12-31"),
        ("1999-12-31", "expected a day from 2000-01-01 to 2031-12-31"),
        ("2021-02-29", "expected a date as YYYY-MM-DD"),
        ("2021-7-1", "expected a date as YYYY-MM-DD"),
        ("", "expected a date as YYYY-MM-DD"),
    ],
)
def test_a_day_is_a_real_date_from_2000_to_five_years_ahead(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=f"--from '?{re.escape(text)}'?: {problem}"):
        parse_day(text, "--from", today=dt.date(2026, 12, 5))
    assert parse_day("2031-12-31", "--from", dt.date(2026, 12, 5)) == dt.date(2031, 12, 31)
    assert day_bounds(dt.date(2026, 12, 5)) == (dt.date(2000, 1, 1), dt.date(2031, 12, 31))
