"""Engagements in the team's records, embedded and in PostgreSQL: each change is one more
SEQUENCE, read and written in one transaction, so two people updating one event at once
count both changes. Stored rows are read back by plain SQL, apart from BeatBook's code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from beatbook import engagements
from beatbook.store import Store
from support.write_race import run_racing

FIXTURE = Path(__file__).parent / "data" / "engagements" / "engagements.csv"
SURGERY = {"when": "2025-05-01 10:00", "place": "Westcotes Library", "kind": "surgery"}


def stored(store: Store) -> dict[str, tuple]:
    """uid -> (starts, sequence, title), read with SQL of the test's own."""
    with store.team_records.connect() as c:
        rows = c.execute(sa.text("SELECT uid, starts, sequence, title FROM engagements")).all()
    return {uid: (starts, sequence, title) for uid, starts, sequence, title in rows}


def test_each_change_is_one_more_sequence(team_store: Store) -> None:
    store = team_store
    first, status = engagements.add_engagement(store, **SURGERY, area="Westcotes (Leicester)")
    assert status == "added" and first.sequence == 0
    assert first.starts == dt.datetime(2025, 5, 1, 10, 0)  # naive: the wall clock as given
    assert first.updated_at is not None and first.updated_at.tzinfo is dt.UTC
    assert abs(dt.datetime.now(dt.UTC) - first.updated_at) < dt.timedelta(minutes=5)
    same, status = engagements.add_engagement(store, **SURGERY, area="Westcotes (Leicester)")
    assert status == "unchanged" and same == first
    for n, title in enumerate(["Beat surgery", "Beat surgery (moved indoors)"], start=1):
        changed, status = engagements.add_engagement(
            store, **SURGERY, area="Westcotes (Leicester)", title=title
        )
        assert status == "updated" and changed.sequence == n
    assert stored(store) == {
        first.uid: (dt.datetime(2025, 5, 1, 10, 0), 2, "Beat surgery (moved indoors)")
    }


def test_an_import_counts_what_it_adds_and_lists_by_day(team_store: Store) -> None:
    store = team_store
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    rows = [r for r in lines[1:] if "West Leicester" not in r]  # no team area here
    csv_file = store.path.parent / "engagements.csv"
    csv_file.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    assert engagements.import_csv(store, csv_file) == {
        "added": len(rows),
        "updated": 0,
        "unchanged": 0,
    }
    assert engagements.import_csv(store, csv_file)["unchanged"] == len(rows)
    assert sorted(s for s, _, _ in stored(store).values()) == sorted(
        dt.datetime.fromisoformat(r.split(",")[0]) for r in rows
    )
    # 2025-03-30 holds two engagements (00:30 and 10:00); the 29th and 31st are the bounds.
    day = dt.date(2025, 3, 30)
    listed = engagements.list_engagements(store, start=day, end=day)
    assert [e.starts for e in listed] == [
        dt.datetime(2025, 3, 30, 0, 30),
        dt.datetime(2025, 3, 30, 10),
    ]
    assert len(engagements.list_engagements(store, start=day)) == 5  # the 30th, then October
    assert len(engagements.list_engagements(store, end=dt.date(2025, 3, 29))) == 3
    assert len(engagements.list_engagements(store, area="Castle (Leicester)")) == 3


def test_two_updates_at_once_are_both_counted(team_store: Store) -> None:
    store = team_store
    if store.team_records.dialect != "postgresql":
        pytest.skip("embedded, the app serialises its writers")
    first, _ = engagements.add_engagement(store, **SURGERY, area="Westcotes (Leicester)")
    cursors = [store.cursor(), store.cursor()]
    titles = ["Surgery with the housing officer", "Surgery moved to the library hall"]
    outcomes = run_racing(
        store.team_records.engine,
        [
            lambda s=s, t=t: engagements.add_engagement(  # type: ignore[misc]
                s, **SURGERY, area="Westcotes (Leicester)", title=t
            )
            for s, t in zip(cursors, titles, strict=True)
        ],
    )
    for cursor in cursors:
        cursor.close()
    assert [status for _, status in outcomes] == ["updated", "updated"]
    # Both read SEQUENCE 0 before either wrote; the one PostgreSQL refused ran again on the
    # other's row, so the event went 0 -> 1 -> 2 and holds the title written last.
    [(_, sequence, title)] = stored(store).values()
    assert sequence == 2 and title in titles
