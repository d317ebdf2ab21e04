"""Issue 17: a concern's date lies from 2000-01-01 (settings.FIRST_DAY) to today, and the
months the team filters by lie within the calendar BeatBook accepts, so 0001-01-01 never
reaches the store or a page (the web form shows the message beside the date)."""

from __future__ import annotations

import datetime as dt

import pytest

from beatbook.concerns import records
from beatbook.concerns.csv_import import parse_date, record_concern
from beatbook.errors import ConcernFieldError, InputError
from beatbook.store import Store

TODAY = dt.date(2026, 12, 5)


@pytest.mark.parametrize("text", ["0001-01-01", "1999-12-31", "31/12/1999"])
def test_a_date_before_2000_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is before 2000-01-01: expected a date from 2000-01-01"):
        parse_date(text, TODAY)
    assert parse_date("2000-01-01", TODAY) == dt.date(2000, 1, 1)


def test_the_form_refuses_0001_01_01_and_stores_nothing(writable_store: Store) -> None:
    before = writable_store.scalar("SELECT count(*) FROM concerns")
    with pytest.raises(ConcernFieldError) as refused:
        record_concern(
            writable_store,
            area="Leicester",
            reported_on="0001-01-01",
            problem="drugs",
            source="online",
            where="Narborough Road",
        )
    assert refused.value.errors == [
        ("date", "0001-01-01 is before 2000-01-01: expected a date from 2000-01-01 on")
    ]
    assert writable_store.scalar("SELECT count(*) FROM concerns") == before


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_listing_from_a_month_off_the_calendar_is_refused(
    writable_store: Store, month: str
) -> None:
    with pytest.raises(InputError, match=f"--from {month}: expected a month from 2000-01 to"):
        records.team_list(writable_store, from_=month)


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31"])
def test_closing_on_a_day_before_2000_is_refused(writable_store: Store, day: str) -> None:
    concern = record_concern(
        writable_store,
        area="Leicester",
        reported_on="2021-07-02",
        problem="drugs",
        source="online",
        where="Narborough Road",
    )
    with pytest.raises(InputError, match=f"--on {day} is before 2000-01-01"):
        records.close(writable_store, concern, on=day, today=TODAY)
