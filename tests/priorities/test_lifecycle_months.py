"""Issue 17: a decision's month must be a month of the stored data or a few after it, its
text fits the print, and a bad month already in the append-only trail (written before these
checks, here by hand with SQL) is left out and logged rather than taking every page down.

The store is the session's real sample (street data 2020-01 .. 2021-12 and 2025-01 .. 2025-03),
so a decision may be for 2020-01 .. 2025-09 (settings.MONTHS_AFTER_DATA = 6).
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from test_lifecycle import candidate, events, proposal

from beatbook.errors import InputError
from beatbook.figures.public import current_by_area, running_months
from beatbook.priorities import lifecycle, review
from beatbook.store import Store
from support.records_backend import TeamSQL

JUNE, JULY = dt.date(2021, 6, 1), dt.date(2021, 7, 1)
WINDOW = (
    "expected a month from 2020-01 to 2025-09 (police.uk data are stored from 2020-01 to "
    "2025-03; a month may be up to 6 after them)"
)


@pytest.fixture
def adopted(writable_store: Store) -> tuple[Store, int]:
    """A priority proposed for July 2021 and adopted for it."""
    (pid, *_) = lifecycle.save_proposals(writable_store, proposal())
    lifecycle.adopt(writable_store, pid, "Insp. Test")
    return writable_store, pid


@pytest.mark.parametrize("month", [dt.date(9999, 12, 1), dt.date(2025, 10, 1), dt.date(2032, 1, 1)])
def test_continuing_past_the_data_window_is_refused_and_nothing_stored(
    adopted: tuple[Store, int], month: dt.date
) -> None:
    store, pid = adopted
    before = events(store)
    with pytest.raises(InputError) as refused:
        lifecycle.decide(store, pid, "continued", "Insp. Test", month=month)
    assert str(refused.value) == f"--month {month.isoformat()[:7]}: {WINDOW}"
    assert events(store) == before


def test_continuing_up_to_six_months_after_the_data_is_taken(adopted: tuple[Store, int]) -> None:
    store, pid = adopted
    lifecycle.decide(store, pid, "continued", "Insp. Test", month=dt.date(2025, 9, 1))
    assert lifecycle.latest_month(store, pid) == dt.date(2025, 9, 1)


@pytest.mark.parametrize("month", [dt.date(9999, 12, 1), dt.date(1, 1, 1), dt.date(2019, 12, 1)])
def test_adopting_outside_the_window_is_refused(writable_store: Store, month: dt.date) -> None:
    (pid, *_) = lifecycle.save_proposals(writable_store, proposal())
    with pytest.raises(InputError, match=f"--month {month.isoformat()[:7]}: expected a month"):
        lifecycle.adopt(writable_store, pid, "Insp. Test", month=month)
    assert lifecycle.priority(writable_store, pid)["status"] == "proposed"


def test_closing_an_unassessable_priority_into_9999_12_is_refused(writable_store: Store) -> None:
    """Speeding is not in police.uk data, so closing skips the assessment's data checks: the
    month is still checked."""
    (pid,) = lifecycle.save_proposals(
        writable_store,
        {
            **proposal(),
            "wards": [{"ward": "Westcotes", "priorities": [candidate("Road", "speeding", 1)]}],
        },
    )
    lifecycle.adopt(writable_store, pid, "Insp. Test")
    with pytest.raises(InputError, match=f"--month 9999-12: {WINDOW[:20]}"):
        review.close(writable_store, pid, "Insp. Test", dt.date(9999, 12, 1))
    assert lifecycle.priority(writable_store, pid)["status"] == "adopted"


@pytest.mark.parametrize(
    ("details", "problem"),
    [
        ({"label": "x" * 81}, "label: 81 characters; at most 80"),
        ({"note": "y " * 300}, "note: 599 characters; at most 500"),
    ],
)
def test_a_label_or_note_longer_than_the_print_allows_is_refused(
    writable_store: Store, details: dict[str, str], problem: str
) -> None:
    (pid, *_) = lifecycle.save_proposals(writable_store, proposal())
    with pytest.raises(InputError, match=problem):
        lifecycle.adopt(writable_store, pid, "Insp. Test", details=details)
    with pytest.raises(InputError, match="reason: 501 characters; at most 500"):
        lifecycle.decide(
            writable_store, pid, "rejected", "Insp. Test", details={"reason": "r" * 501}
        )
    assert lifecycle.priority(writable_store, pid)["status"] == "proposed"


def _write_by_hand(store: Store, pid: int, action: str, month: dt.date) -> None:
    """What a decision stored before the checks looks like: a row appended with plain SQL."""
    with TeamSQL.of(store) as sql:
        sql.execute(
            "INSERT INTO priority_events SELECT ?, max(seq) + 1, ?, 'before the fix', now(), ?, "
            "'{}' FROM priority_events WHERE priority_id = ?",
            [pid, action, month, pid],
        )


def test_a_bad_month_in_the_trail_is_left_out_and_logged(
    adopted: tuple[Store, int], caplog: pytest.LogCaptureFixture
) -> None:
    store, pid = adopted
    _write_by_hand(store, pid, "continued", dt.date(9999, 12, 1))
    with caplog.at_level(logging.WARNING, logger="beatbook.priorities.lifecycle"):
        p = lifecycle.priority(store, pid)
    assert [e["action"] for e in p["events"]] == ["proposed", "adopted"]
    assert p["status"] == "adopted" and running_months(p) == [JULY]
    assert f"priority {pid}, decision 3 (continued): month 9999-12 is outside" in caplog.text
    # the public list still shows it (and the area's other priorities) for July 2021
    (block,) = current_by_area(store)
    assert block["month"] == "2021-07" and block["count"] == 1
    # and the team can carry on: the bad month neither blocks nor counts
    assert lifecycle.latest_month(store, pid) == JULY
    lifecycle.decide(store, pid, "continued", "Insp. Test", month=dt.date(2021, 8, 1))
    assert running_months(lifecycle.priority(store, pid))[-1] == dt.date(2021, 8, 1)


def test_a_priority_proposed_for_a_bad_month_is_left_out(
    writable_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    ids = lifecycle.save_proposals(writable_store, proposal())
    with TeamSQL.of(writable_store) as sql:
        sql.execute(
            "UPDATE priorities SET proposed_for = DATE '0001-01-01' WHERE priority_id = ?", [ids[0]]
        )
    with caplog.at_level(logging.WARNING, logger="beatbook.priorities.lifecycle"):
        listed = [p["priority_id"] for p in lifecycle.list_priorities(writable_store)]
    assert ids[0] not in listed and set(ids[1:]) <= set(listed)
    assert f"priority {ids[0]}: proposed for 0001-01, outside the calendar" in caplog.text
