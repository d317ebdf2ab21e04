"""The life of a priority in a real (writable) store: proposed -> adopted or rejected ->
continued -> closed, with an append-only trail and clear refusals that change nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from beatbook.errors import InputError
from beatbook.priorities import lifecycle
from beatbook.store import Store
from support.records_backend import TeamSQL

AREA = "custom:Test area"
JULY, AUGUST, SEPTEMBER = dt.date(2021, 7, 1), dt.date(2021, 8, 1), dt.date(2021, 9, 1)


def candidate(place: str, problem: str, rank: int, ward: str = "Westcotes") -> dict[str, Any]:
    return {
        "rank": rank,
        "ward": ward,
        "place": place,
        "place_key": f"{ward}|{place}",
        "problem": problem,
        "score": 1.5 - rank / 10,
        "origin": "data",
        "parts": {"volume": 0.5, "change": 0.0, "forecast": 1.0 - rank / 10, "concerns": 0.0},
        "reason": f"{problem}: 3 a month, no clear change from 2.5",
        "snap_points": [{"location": f"On or near {place}", "longitude": -1.15, "latitude": 52.63}],
    }


def proposal(for_month: str = "2021-07", area: str = AREA) -> dict[str, Any]:
    """The parts of a propose() result that save_proposals reads."""
    return {
        "area": {"name": "Test area", "reference": area},
        "for_month": for_month,
        "wards": [
            {
                "ward": "Westcotes",
                "priorities": [
                    candidate("Narborough Road", "acquisitive", 1),
                    candidate("Hinckley Road", "asb", 2),
                ],
            },
            {"ward": "Fosse", "priorities": [candidate("Woodgate", "drugs", 1, "Fosse")]},
        ],
    }


def events(store: Store) -> list[tuple]:
    """The trail's rows, read with the tests' own SQL wherever the records are."""
    with TeamSQL.of(store) as sql:
        return sql.execute(
            "SELECT priority_id, seq, action, actor, decided_at, month, "
            "CAST(details AS VARCHAR) FROM priority_events ORDER BY priority_id, seq"
        ).fetchall()


def priorities(store: Store) -> list[tuple]:
    with TeamSQL.of(store) as sql:
        return sql.execute("SELECT * FROM priorities ORDER BY priority_id").fetchall()


def status(store: Store, pid: int) -> str:
    return lifecycle.priority(store, pid)["status"]


@pytest.fixture
def saved(writable_store: Store) -> tuple[Store, list[int]]:
    return writable_store, lifecycle.save_proposals(writable_store, proposal())


# --- saving proposals ---------------------------------------------------------------------


def test_save_proposals_records_each_candidate_once(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    assert len(ids) == len(set(ids)) == 3
    rows = {r["priority_id"]: r for r in lifecycle.list_priorities(store)}
    assert set(rows) == set(ids)
    first = rows[ids[0]]
    assert (first["area"], first["ward"], first["place"], first["problem"]) == (
        AREA,
        "Westcotes",
        "Narborough Road",
        "acquisitive",
    )
    assert first["proposed_for"] == JULY and first["status"] == "proposed"
    assert first["snap_points"] == candidate("Narborough Road", "acquisitive", 1)["snap_points"]
    assert first["parts"] == candidate("Narborough Road", "acquisitive", 1)["parts"]
    assert first["label"] == "Narborough Road"
    assert [
        (e["seq"], e["action"], e["actor"], e["month"], e["details"]) for e in first["events"]
    ] == [(1, "proposed", "beatbook", JULY, {"rank": 1})]


def test_save_proposals_is_idempotent(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    before_events, before_rows = events(store), priorities(store)
    assert lifecycle.save_proposals(store, proposal()) == ids
    assert events(store) == before_events and priorities(store) == before_rows
    # The same place and problem proposed for another month is another priority.
    later = lifecycle.save_proposals(store, proposal("2021-08"))
    assert not set(later) & set(ids) and len(priorities(store)) == 6
    # ... and so is the same candidate proposed for another area.
    other = lifecycle.save_proposals(store, proposal(area="custom:Other area"))
    assert not set(other) & set(ids + later)


def test_save_proposals_writes_all_or_nothing(writable_store: Store) -> None:
    broken = proposal()
    del broken["wards"][1]["priorities"][0]["snap_points"]  # the third candidate cannot be stored
    with pytest.raises(KeyError):
        lifecycle.save_proposals(writable_store, broken)
    assert priorities(writable_store) == [] and events(writable_store) == []


def test_save_proposals_needs_an_actor(writable_store: Store) -> None:
    with pytest.raises(InputError, match=r"^--by: say who decided"):
        lifecycle.save_proposals(writable_store, proposal(), actor="  ")
    assert priorities(writable_store) == []


# --- decisions and their order --------------------------------------------------------------


def test_the_whole_life_of_a_priority(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    pid = ids[0]
    assert lifecycle.decide(store, pid, "adopted", "Insp. Patel", month=JULY) == "adopted"
    assert lifecycle.adopted_month(store, pid) == JULY
    assert lifecycle.decide(store, pid, "continued", "Insp. Patel", month=AUGUST) == "continued"
    assert lifecycle.decide(store, pid, "continued", "Sgt. Hale", month=SEPTEMBER) == "continued"
    assert lifecycle.latest_month(store, pid) == SEPTEMBER
    assert lifecycle.decide(store, pid, "closed", "Insp. Patel", month=SEPTEMBER) == "closed"
    p = lifecycle.priority(store, pid)
    assert [(e["seq"], e["action"], e["actor"], e["month"]) for e in p["events"]] == [
        (1, "proposed", "beatbook", JULY),
        (2, "adopted", "Insp. Patel", JULY),
        (3, "continued", "Insp. Patel", AUGUST),
        (4, "continued", "Sgt. Hale", SEPTEMBER),
        (5, "closed", "Insp. Patel", SEPTEMBER),
    ]
    assert p["status"] == "closed"
    assert status(store, ids[1]) == "proposed"  # the others are untouched


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        (
            [],
            "closed",
            "is proposed: it cannot be closed (only a priority that is adopted or continued can)",
        ),
        ([], "continued", "is proposed: it cannot be continued"),
        (
            ["adopted"],
            "adopted",
            "is adopted: it cannot be adopted (only a priority that is proposed can)",
        ),
        (["adopted"], "rejected", "is adopted: it cannot be rejected"),
        (["rejected"], "adopted", "is rejected: it cannot be adopted"),
        (["rejected"], "closed", "is rejected: it cannot be closed"),
        (["adopted", "closed"], "continued", "is closed: it cannot be continued"),
        (["adopted", "closed"], "closed", "is closed: it cannot be closed"),
    ],
)
def test_decisions_out_of_order_are_refused_and_change_nothing(
    saved: tuple[Store, list[int]], steps: list[str], action: str, message: str
) -> None:
    store, ids = saved
    pid = ids[1]
    for step in steps:
        why = {"reason": "a partnership plan exists"} if step == "rejected" else {}
        lifecycle.decide(store, pid, step, "Insp. Patel", month=JULY, details=why)
    before_events, before_rows = events(store), priorities(store)
    with pytest.raises(InputError) as err:
        lifecycle.decide(store, pid, action, "Insp. Patel", month=SEPTEMBER)
    assert str(err.value).startswith(f"priority {pid} {message}")
    assert "\n" not in str(err.value)
    assert events(store) == before_events and priorities(store) == before_rows


@pytest.mark.parametrize("month", [JULY, AUGUST])
def test_continuing_into_an_earlier_or_the_same_month_is_refused(
    saved: tuple[Store, list[int]], month: dt.date
) -> None:
    store, ids = saved
    pid = ids[0]
    lifecycle.decide(store, pid, "adopted", "Insp. Patel", month=JULY)
    lifecycle.decide(store, pid, "continued", "Insp. Patel", month=AUGUST)
    before = events(store)
    with pytest.raises(InputError) as err:
        lifecycle.decide(store, pid, "continued", "Insp. Patel", month=month)
    assert str(err.value) == (
        f"--month {month:%Y-%m}: priority {pid} already runs to 2021-08; "
        "continue it for a later month"
    )
    assert events(store) == before


def test_unknown_priority_and_unknown_action(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    before = events(store)
    missing = max(ids) + 100
    with pytest.raises(InputError, match=f"^priority {missing}: no such priority"):
        lifecycle.decide(store, missing, "adopted", "Insp. Patel")
    with pytest.raises(InputError, match=f"^priority {missing}: no such priority"):
        lifecycle.priority(store, missing)
    with pytest.raises(InputError, match="^unknown action 'promoted': expected one of adopted"):
        lifecycle.decide(store, ids[0], "promoted", "Insp. Patel")
    assert events(store) == before


@pytest.mark.parametrize("actor", ["", "   ", "x" * 81])
def test_a_decision_needs_someone_to_own_it(saved: tuple[Store, list[int]], actor: str) -> None:
    store, ids = saved
    before = events(store)
    with pytest.raises(InputError, match=r"^--by: say who decided \(a name or role, up to 80"):
        lifecycle.decide(store, ids[0], "adopted", actor)
    assert events(store) == before


def test_the_actor_is_recorded_trimmed(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    lifecycle.decide(store, ids[0], "rejected", "  PCSO Khan ", details={"reason": "hospital"})
    last = lifecycle.priority(store, ids[0])["events"][-1]
    assert (last["actor"], last["action"], last["details"]) == (
        "PCSO Khan",
        "rejected",
        {"reason": "hospital"},
    )


# --- the trail is append-only ---------------------------------------------------------------


def test_events_are_appended_never_changed(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    rows_before = priorities(store)
    trail = events(store)
    steps = [
        (ids[0], "adopted", JULY, {"label": "Narborough Road shops"}),
        (ids[1], "rejected", None, {"reason": "already a partnership plan"}),
        (ids[0], "continued", AUGUST, {"note": "patrols at school closing time"}),
        (ids[2], "adopted", JULY, {}),
        (ids[0], "closed", AUGUST, {"assessment": {"verdict": "no clear difference"}}),
    ]
    for pid, action, month, details in steps:
        lifecycle.decide(store, pid, action, "Insp. Patel", month=month, details=details)
        now = events(store)
        assert set(trail) <= set(now)  # every earlier row is still there, unchanged
        added = [r for r in now if r not in trail]
        assert len(added) == 1
        new = added[0]
        assert (new[0], new[2], new[3], new[5]) == (pid, action, "Insp. Patel", month)
        assert new[1] == max(r[1] for r in trail if r[0] == pid) + 1  # the next seq
        assert json.loads(new[6]) == details
        trail = now
    assert priorities(store) == rows_before  # a priority row is never changed


# --- labels, priorities raised by people, listing ---------------------------------------------


def test_label_edits_take_the_latest(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    pid = ids[0]
    lifecycle.decide(
        store, pid, "adopted", "Insp. Patel", month=JULY, details={"label": "Narborough Road shops"}
    )
    assert lifecycle.priority(store, pid)["label"] == "Narborough Road shops"
    lifecycle.decide(store, pid, "continued", "Insp. Patel", month=AUGUST, details={"note": "x"})
    assert lifecycle.priority(store, pid)["label"] == "Narborough Road shops"  # kept
    lifecycle.decide(
        store,
        pid,
        "continued",
        "Insp. Patel",
        month=SEPTEMBER,
        details={"label": "Narborough Road parade"},
    )
    p = lifecycle.priority(store, pid)
    assert p["label"] == "Narborough Road parade"
    assert p["place"] == "Narborough Road"  # the proposed label stays on record


def test_add_priority_raised_by_people(writable_store: Store) -> None:
    points = [{"location": "On or near Braunstone Gate", "longitude": -1.149, "latitude": 52.633}]
    pid = lifecycle.add_priority(
        writable_store,
        area=AREA,
        ward="Westcotes",
        place="Braunstone Gate",
        place_key="Westcotes|Braunstone Gate",
        snap_points=points,
        problem="street-drinking",
        month=JULY,
        origin="residents",
        actor="Sgt. Hale",
        note="beat surgery, 12 residents",
    )
    p = lifecycle.priority(writable_store, pid)
    assert (p["status"], p["origin"], p["problem"], p["proposed_for"]) == (
        "proposed",
        "residents",
        "street-drinking",
        JULY,
    )
    assert p["score"] is None and p["parts"] is None
    assert p["reason"] == "beat surgery, 12 residents" and p["snap_points"] == points
    assert p["events"][0]["actor"] == "Sgt. Hale"
    assert p["events"][0]["details"] == {"note": "beat surgery, 12 residents"}
    # It goes through the same decisions as a proposal.
    assert lifecycle.decide(writable_store, pid, "adopted", "Insp. Patel", month=JULY) == "adopted"
    plain = lifecycle.add_priority(
        writable_store,
        area=AREA,
        ward="Fosse",
        place="Woodgate",
        place_key="Fosse|Woodgate",
        snap_points=[],
        problem="drugs",
        month=JULY,
        origin="partners",
        actor="Sgt. Hale",
    )
    assert lifecycle.priority(writable_store, plain)["reason"] == "raised by partners"


@pytest.mark.parametrize("origin", ["police", "", "Residents"])
def test_add_priority_checks_its_origin(writable_store: Store, origin: str) -> None:
    with pytest.raises(InputError) as err:
        lifecycle.add_priority(
            writable_store,
            area=AREA,
            ward="Fosse",
            place="Woodgate",
            place_key="Fosse|Woodgate",
            snap_points=[],
            problem="drugs",
            month=JULY,
            origin=origin,
            actor="Sgt. Hale",
        )
    assert (
        str(err.value)
        == f"--origin {origin!r}: expected one of data, residents, partners, mix, team"
    )
    assert priorities(writable_store) == [] and events(writable_store) == []


def test_list_priorities_filters_by_status_and_area(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    other = lifecycle.save_proposals(store, proposal(area="custom:Other area"))
    lifecycle.decide(store, ids[0], "adopted", "Insp. Patel", month=JULY)
    lifecycle.decide(store, ids[1], "rejected", "Insp. Patel", details={"reason": "no"})
    lifecycle.decide(store, other[0], "adopted", "Insp. Patel", month=JULY)
    lifecycle.decide(store, other[0], "continued", "Insp. Patel", month=AUGUST)

    def listed(**kw: Any) -> list[int]:
        return sorted(r["priority_id"] for r in lifecycle.list_priorities(store, **kw))

    assert listed(status="adopted") == [ids[0]]
    assert listed(status="rejected") == [ids[1]]
    assert listed(status="continued") == [other[0]]
    assert listed(status="proposed") == sorted([ids[2], other[1], other[2]])
    assert listed(status="closed") == []
    assert listed(area=AREA) == sorted(ids)
    assert listed(area="custom:Other area", status="adopted") == []
    assert listed() == sorted(ids + other)
    with pytest.raises(InputError, match=r"^--status 'open': expected one of proposed, adopted"):
        lifecycle.list_priorities(store, status="open")


def test_closing_before_the_last_month_it_ran_is_refused(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    pid = ids[0]
    lifecycle.decide(store, pid, "adopted", "Insp. Patel", month=JULY)
    lifecycle.decide(store, pid, "continued", "Insp. Patel", month=SEPTEMBER)
    before = events(store)
    with pytest.raises(InputError) as err:
        lifecycle.decide(store, pid, "closed", "Insp. Patel", month=AUGUST)
    assert str(err.value) == (
        f"--month 2021-08: priority {pid} already runs to 2021-09; close it in that month or later"
    )
    assert events(store) == before
    assert lifecycle.decide(store, pid, "closed", "Insp. Patel", month=SEPTEMBER) == "closed"


def test_adopted_month_is_none_until_adopted(saved: tuple[Store, list[int]]) -> None:
    store, ids = saved
    assert lifecycle.adopted_month(store, ids[0]) is None
    assert lifecycle.latest_month(store, ids[0]) == JULY  # the month it was proposed for
    lifecycle.decide(store, ids[0], "adopted", "Insp. Patel", month=AUGUST)
    assert lifecycle.adopted_month(store, ids[0]) == AUGUST
