"""Priorities, their decision trail and notes on both backends of the team's records (embedded
in the store file, and PostgreSQL), checked against the rows read back with plain SQL; and on
PostgreSQL, the rules that read before they write (one running priority per place and
problem, one trail without gaps) with two deciders at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from beatbook.errors import InputError
from beatbook.priorities import lifecycle, notes
from beatbook.store import Store

AREA = "custom:Test area"
JULY, AUGUST, SEPTEMBER = dt.date(2021, 7, 1), dt.date(2021, 8, 1), dt.date(2021, 9, 1)


def candidate(place: str, problem: str, rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "ward": "Westcotes",
        "place": place,
        "place_key": f"Westcotes|{place}",
        "problem": problem,
        "score": 1.5 - rank / 10,
        "origin": "data",
        "parts": {"volume": 0.5, "forecast": 1.0 - rank / 10},
        "reason": f"{problem}: 3 a month",
        "snap_points": [{"location": f"On or near {place}", "longitude": -1.15, "latitude": 52.6}],
    }


def proposal(for_month: str = "2021-07") -> dict[str, Any]:
    return {
        "area": {"name": "Test area", "reference": AREA},
        "for_month": for_month,
        "wards": [
            {
                "ward": "Westcotes",
                "priorities": [
                    candidate("Narborough Road", "acquisitive", 1),
                    candidate("Hinckley Road", "asb", 2),
                ],
            }
        ],
    }


def sql(store: Store, text: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of plain SQL on the records, wherever they are (no BeatBook code)."""
    with store.team_records.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(text), params).all()]


def trail(store: Store, pid: int) -> list[tuple[Any, ...]]:
    return sql(
        store,
        "SELECT seq, action, actor, month FROM priority_events WHERE priority_id = :pid "
        "ORDER BY seq",
        pid=pid,
    )


def test_proposals_are_saved_once(team_store: Store) -> None:
    ids = lifecycle.save_proposals(team_store, proposal())
    assert len(ids) == 2 and len(set(ids)) == 2
    assert lifecycle.save_proposals(team_store, proposal()) == ids  # a rerun adds nothing
    assert sql(team_store, "SELECT count(*) FROM priorities") == [(2,)]
    assert sql(team_store, "SELECT count(*) FROM priority_events") == [(2,)]
    rows = sql(
        team_store,
        "SELECT priority_id, place, proposed_for, score FROM priorities ORDER BY priority_id",
    )
    assert rows == [
        (ids[0], "Narborough Road", JULY, 1.4),
        (ids[1], "Hinckley Road", JULY, 1.3),
    ]
    listed = {p["priority_id"]: p for p in lifecycle.list_priorities(team_store, area=AREA)}
    first = listed[ids[0]]
    assert first["status"] == "proposed" and first["label"] == "Narborough Road"
    assert first["snap_points"] == candidate("Narborough Road", "acquisitive", 1)["snap_points"]
    assert first["parts"] == {"volume": 0.5, "forecast": 0.9}
    assert [e["details"] for e in first["events"]] == [{"rank": 1}]
    assert isinstance(first["created_at"], str) and first["created_at"].endswith("Z")
    assert lifecycle.list_priorities(team_store, ids=[]) == []


def test_decisions_are_appended_in_order(team_store: Store) -> None:
    one, two = lifecycle.save_proposals(team_store, proposal())
    assert lifecycle.adopt(team_store, one, "Insp. Patel", details={"label": "The shops"}) == JULY
    lifecycle.decide(team_store, two, "rejected", "Insp. Patel", details={"reason": " dup "})
    lifecycle.decide(team_store, one, "continued", "Sgt. Hale", month=AUGUST)
    lifecycle.decide(team_store, one, "closed", "Sgt. Hale", month=SEPTEMBER)
    assert trail(team_store, one) == [
        (1, "proposed", "beatbook", JULY),
        (2, "adopted", "Insp. Patel", JULY),
        (3, "continued", "Sgt. Hale", AUGUST),
        (4, "closed", "Sgt. Hale", SEPTEMBER),
    ]
    assert trail(team_store, two) == [
        (1, "proposed", "beatbook", JULY),
        (2, "rejected", "Insp. Patel", None),
    ]
    (p,) = lifecycle.list_priorities(team_store, status="closed")
    assert (p["priority_id"], p["label"]) == (one, "The shops")
    assert [e["action"] for e in p["events"]] == ["proposed", "adopted", "continued", "closed"]
    assert lifecycle.adopted_month(team_store, one) == JULY
    assert lifecycle.latest_month(team_store, one) == AUGUST
    (rejected,) = lifecycle.list_priorities(team_store, status="rejected")
    assert rejected["events"][-1]["details"] == {"reason": "dup"}
    with pytest.raises(InputError, match="is closed: it cannot be continued"):
        lifecycle.decide(team_store, one, "continued", "Sgt. Hale", month=SEPTEMBER)
    assert len(trail(team_store, one)) == 4


def test_a_running_place_and_problem_is_not_proposed_again(team_store: Store) -> None:
    one = lifecycle.save_proposals(team_store, proposal())[0]
    lifecycle.adopt(team_store, one, "Insp. Patel")
    with pytest.raises(
        InputError, match=rf"already a priority \(id {one}, running since 2021-07\)"
    ):
        lifecycle.save_proposals(team_store, proposal("2021-08"))
    assert sql(team_store, "SELECT count(*) FROM priorities") == [(2,)]  # all or nothing


def test_notes_round_trip(team_store: Store) -> None:
    (pid, other) = lifecycle.save_proposals(team_store, proposal())
    first = notes.add_note(team_store, pid, " PCSO Ray ", " New lighting fitted ")
    second = notes.add_note(team_store, pid, "Housing", "Gates mended")
    assert second > first
    found = notes.notes_for(team_store, [pid, other])
    assert [(n["author"], n["text"]) for n in found[pid]] == [
        ("PCSO Ray", "New lighting fitted"),
        ("Housing", "Gates mended"),
    ]
    assert found[other] == []
    ((written,),) = sql(
        team_store, "SELECT written_at FROM priority_notes WHERE note_id = :n", n=first
    )
    at = written.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert found[pid][0]["at"] == at
    with pytest.raises(InputError, match="no such priority"):
        notes.add_note(team_store, 999, "Housing", "text")
    assert sql(team_store, "SELECT count(*) FROM priority_notes") == [(2,)]


# --- two deciders at once (PostgreSQL: SERIALIZABLE, the loser runs again) -------------------


def meet_before_appending(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each thread's first transaction waits for the other's just before it appends its event,
    so both have read the trail (and the running priorities) before either writes."""
    barrier = threading.Barrier(2)
    waited: set[int] = set()
    append: Callable[..., None] = lifecycle._append

    def meet_then_append(*args: Any) -> None:
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait(timeout=20)
        append(*args)

    monkeypatch.setattr(lifecycle, "_append", meet_then_append)


def side_by_side(store: Store, *calls: Callable[[Store], Any]) -> list[Any]:
    """Run each call in its own thread, on its own cursor; their results or errors."""
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        cursor = store.cursor()
        try:
            outcomes[i] = calls[i](cursor)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[i] = exc
        finally:
            cursor.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("team_store", ["postgres"], indirect=True)
def test_two_adoptions_of_one_place_and_problem_at_once(
    team_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    july = lifecycle.save_proposals(team_store, proposal())[0]
    august = lifecycle.save_proposals(team_store, proposal("2021-08"))[0]  # the same place
    meet_before_appending(monkeypatch)
    outcomes = side_by_side(
        team_store,
        lambda st: lifecycle.decide(st, july, "adopted", "Insp. Patel"),
        lambda st: lifecycle.decide(st, august, "adopted", "Sgt. Hale"),
    )
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert outcomes.count("adopted") == 1 and len(refused) == 1
    running = sql(
        team_store,
        "SELECT priority_id, month FROM priority_events WHERE action = 'adopted'",
    )
    assert len(running) == 1
    (winner, since) = running[0]
    assert isinstance(refused[0], InputError)
    assert str(refused[0]) == (
        f"Narborough Road: theft, burglary and robbery is already a priority (id {winner}, "
        f"running since {since:%Y-%m}): one priority per place and problem at a time, so "
        f"continue or close priority {winner} instead"
    )
    loser = august if winner == july else july
    assert [action for _, action, _, _ in trail(team_store, loser)] == ["proposed"]


@pytest.mark.parametrize("team_store", ["postgres"], indirect=True)
def test_two_decisions_on_one_priority_at_once_keep_the_trail_whole(
    team_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = lifecycle.save_proposals(team_store, proposal())[0]
    lifecycle.adopt(team_store, pid, "Insp. Patel")
    meet_before_appending(monkeypatch)
    outcomes = side_by_side(
        team_store,
        lambda st: lifecycle.decide(st, pid, "continued", "Insp. Patel"),
        lambda st: lifecycle.decide(st, pid, "continued", "Sgt. Hale"),
    )
    assert outcomes == ["continued", "continued"]
    seqs = [seq for seq, *_ in trail(team_store, pid)]
    assert seqs == [1, 2, 3, 4]
    actors = sql(
        team_store,
        "SELECT actor FROM priority_events WHERE priority_id = :pid AND seq > 2 ORDER BY actor",
        pid=pid,
    )
    assert actors == [("Insp. Patel",), ("Sgt. Hale",)]
