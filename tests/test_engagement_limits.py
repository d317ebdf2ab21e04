"""Issue 17: an engagement's days lie from 2000 to a few years ahead and its title, place and
notes fit the printed calendar (settings: 100, 120 and 500 characters). The desk and a CSV
row over a limit are refused (the CSV with its line and column); a police.uk event's longer
text is cut at a space with an ellipsis, since the team did not type it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from beatbook import engagements
from beatbook.errors import CSVFormatError, InputError
from beatbook.ingest.policeuk_api import PoliceUkApi
from beatbook.store import Store
from support.policeuk_server import Server

WARD = "Westcotes (Leicester)"
GOOD = {"when": "2021-07-20 10:00", "place": "Westcotes Library", "kind": "surgery", "area": WARD}


def count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM engagements"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "t" * 101, "--title: 101 characters; at most 100 \\(a title is one cell"),
        ("title", "t" * 100_000, "--title: 100,000 characters; at most 100"),
        ("place", "p" * 121, "--place: 121 characters; at most 120"),
        ("notes", "word " * 101, "--notes: 504 characters; at most 500"),
        ("when", "9999-12-31 23:00", "--when 9999-12-31: expected a day from 2000-01-01 to"),
        ("when", "0001-01-01 00:00", "--when 0001-01-01: expected a day from 2000-01-01 to"),
        ("until", "9999-12-31 23:00", "--until 9999-12-31: expected a day from 2000-01-01"),
    ],
)
def test_add_refuses_text_over_the_limits_and_days_off_the_calendar(
    writable_store: Store, field: str, value: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        engagements.add_engagement(writable_store, **{**GOOD, field: value})
    assert count(writable_store) == 0


def test_add_takes_text_at_the_limits(writable_store: Store) -> None:
    item, status = engagements.add_engagement(
        writable_store, **{**GOOD, "title": "t" * 100, "place": "p" * 120, "notes": "n" * 500}
    )
    assert status == "added" and (len(item.summary), len(item.place)) == (100, 120)


def test_a_csv_row_over_a_limit_is_refused_with_its_line_and_column(
    writable_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "start,kind,place,area,title\n"
        f"2021-07-20 10:00,surgery,Library,{WARD},Fine\n"
        f"2021-07-21 10:00,surgery,Library,{WARD},{'x' * 150}\n",
        encoding="utf-8",
    )
    with pytest.raises(CSVFormatError) as refused:
        engagements.import_csv(writable_store, path)
    assert str(refused.value) == (
        f"{path}, line 3, column 'title': title: 150 characters; at most 100 "
        "(a title is one cell of the printed calendar)"
    )
    assert count(writable_store) == 0


def test_a_police_uk_event_with_long_text_is_cut_to_fit(
    writable_store: Store, tmp_path: Path
) -> None:
    long = {
        "title": "A very long title " * 10,
        "description": "<p>" + "Come along and talk to us. " * 40 + "</p>",
        "address": "Westcotes Library",
        "type": "meeting",
        "start_date": "2021-07-20T10:00:00",
        "end_date": "2021-07-20T11:00:00",
    }
    feed = tmp_path / "events.json"
    feed.write_text(json.dumps([long]), encoding="utf-8")
    server = Server()
    server.files["/api/leicestershire/NC77/events"] = feed
    try:
        with PoliceUkApi(server.url) as api:
            engagements.import_api(writable_store, api, "leicestershire", "NC77", WARD)
    finally:
        server.stop()
    (item,) = engagements.list_engagements(writable_store)
    assert item.title is not None and item.notes is not None
    assert len(item.title) <= 100 and item.title.endswith(" A very…")
    assert len(item.notes) <= 500 and item.notes.endswith("…")
    assert ("Come along and talk to us. " * 40).startswith(item.notes[:-1] + " ")


@pytest.mark.parametrize("day", ["9999-12-31", "9999-12-25", "0001-01-01"])
def test_a_window_near_the_end_of_the_calendar_is_refused(day: str) -> None:
    with pytest.raises(InputError, match=f"from {day}: expected a day from 2000-01-01"):
        engagements.window(day, 26)


def test_listing_from_a_day_off_the_calendar_is_refused(writable_store: Store) -> None:
    with pytest.raises(InputError, match="--to 9999-12-31: expected a day"):
        engagements.list_engagements(writable_store, end=dt.date(9999, 12, 31))
