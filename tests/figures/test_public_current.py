"""The public list of a month's priorities names one (place, problem) once, whatever the
team did: any sequence of adoptions, continuations, closings and rejections through the
lifecycle on a real store, and any trail an older BeatBook may have stored (two adopted
for one place and problem) read by :func:`beatbook.figures.public.current`."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from beatbook.errors import InputError
from beatbook.figures.public import current
from beatbook.priorities import lifecycle
from beatbook.store import Store

MONTHS = [dt.date(2021, m, 1) for m in range(6, 13)]
# two places, one with two problems: three (place, problem) keys, proposed in several months
KEYS = [("Narborough Road", "asb"), ("Narborough Road", "drugs"), ("Hinckley Road", "asb")]
ACTIONS = (
    "adopted",
    "adopted",
    "continued",
    "closed",
    "rejected",
)  # adoptions drawn twice as often
_areas = itertools.count()


def proposal(area: str, month: dt.date) -> dict[str, Any]:
    """Every key proposed for ``month`` in one ward (the parts save_proposals reads)."""
    return {
        "area": {"name": area, "reference": area},
        "for_month": f"{month:%Y-%m}",
        "wards": [
            {
                "ward": "Westcotes",
                "priorities": [
                    {
                        "rank": rank,
                        "ward": "Westcotes",
                        "place": place,
                        "place_key": f"Westcotes|{place}",
                        "problem": problem,
                        "score": 1.0,
                        "origin": "data",
                        "parts": {},
                        "reason": "test",
                        "snap_points": [
                            {
                                "location": f"On or near {place}",
                                "longitude": -1.15,
                                "latitude": 52.63,
                            }
                        ],
                    }
                    for rank, (place, problem) in enumerate(KEYS, start=1)
                ],
            }
        ],
    }


def running_keys_by_sql(store: Store, area: str) -> list[tuple[str, str]]:
    """(place_key, problem) of every priority whose latest event runs it, from the rows."""
    return store.rows(
        "SELECT p.place_key, p.problem FROM priorities p JOIN priority_events e USING "
        "(priority_id) WHERE p.area = ? AND e.seq = (SELECT max(seq) FROM priority_events f "
        "WHERE f.priority_id = p.priority_id) AND e.action IN ('adopted', 'continued')",
        [area],
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one area per example
)
@given(
    st.lists(st.sampled_from(MONTHS[:4]), min_size=1, max_size=3, unique=True),
    st.lists(
        st.tuples(st.integers(0, 11), st.sampled_from(ACTIONS), st.sampled_from(MONTHS)),
        max_size=14,
    ),
)
def test_no_place_and_problem_twice_after_any_decisions(
    writable_store: Store, proposed: list[dt.date], decisions: list[tuple[int, str, dt.date]]
) -> None:
    area = f"custom:property {next(_areas)}"
    ids = [
        pid for m in proposed for pid in lifecycle.save_proposals(writable_store, proposal(area, m))
    ]
    for index, action, month in decisions:
        pid = ids[index % len(ids)]
        details = {"reason": "not ours"} if action == "rejected" else {}
        taken = writable_store.scalar(
            "SELECT count(*) FROM priorities p JOIN priorities q USING (area, place_key, problem) "
            "JOIN priority_events e ON e.priority_id = q.priority_id WHERE p.priority_id = ? "
            "AND q.priority_id <> p.priority_id AND e.action IN ('adopted', 'continued') "
            "AND e.seq = (SELECT max(seq) FROM priority_events f WHERE f.priority_id = q.priority_id)",
            [pid],
        )
        proposed_now = lifecycle.priority(writable_store, pid)["status"] == "proposed"
        try:
            lifecycle.decide(
                writable_store, pid, action, "Insp. Test", month=month, details=details
            )
        except InputError as refused:
            # refused as a second running one exactly when one of its place and problem runs
            second = action == "adopted" and proposed_now and taken > 0
            assert ("already a priority" in str(refused)) is second
            event("second adoption refused" if second else "order refused")
    running = running_keys_by_sql(writable_store, area)
    assert len(running) == len(set(running))  # the lifecycle never lets two run
    recorded = lifecycle.list_priorities(writable_store, area=area)
    for month in MONTHS:
        rows = current(recorded, month)
        keys = [(r["place"], r["problem"]) for r in rows]
        assert len(keys) == len(set(keys)), (month, rows)


def record(pid: int, key: int, trail: list[tuple[str, dt.date]]) -> dict[str, Any]:
    """A priority as lifecycle.list_priorities gives it, with an arbitrary trail."""
    place, problem = KEYS[key]
    events = [{"action": "proposed", "month": trail[0][1] if trail else MONTHS[0], "details": {}}]
    events += [{"action": a, "month": m, "details": {}} for a, m in trail]
    return {
        "priority_id": pid,
        "area": "custom:Old store",
        "ward": "Westcotes",
        "place": place,
        "label": place,
        "place_key": f"Westcotes|{place}",
        "problem": problem,
        "origin": "data",
        "proposed_for": events[0]["month"],
        "snap_points": [],
        "status": events[-1]["action"],
        "events": events,
    }


TRAIL = st.lists(
    st.tuples(st.sampled_from(["adopted", "continued", "closed"]), st.sampled_from(MONTHS)),
    max_size=4,
).map(lambda t: sorted(t, key=lambda e: e[1]))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(KEYS) - 1), TRAIL), min_size=1, max_size=8))
def test_a_stored_duplicate_is_listed_once_as_the_one_running_longer(trails) -> None:
    recorded = [record(pid, key, trail) for pid, (key, trail) in enumerate(trails, start=1)]
    for month in MONTHS:
        rows = current(recorded, month)
        keys = [(r["place"], r["problem"]) for r in rows]
        assert len(keys) == len(set(keys))
        for row in rows:  # the one kept ran from the earliest month, then has the lowest id
            rivals = [
                (p["running"][0], p["priority_id"])
                for p in ({**r, "running": months_running(r)} for r in recorded)
                if (p["place"], p["problem"]) == (row["place"], row["problem"])
                and month in p["running"]
            ]
            assert min(rivals)[1] == row["id"]


def months_running(p: dict[str, Any]) -> list[dt.date]:
    """The months a trail runs, worked out here: from its first adoption or continuation
    to its last adoption, continuation or closing (when closed), each calendar month."""
    runs = [e["month"] for e in p["events"] if e["action"] in ("adopted", "continued")]
    if not runs:
        return []
    end = max(runs)
    if p["status"] == "closed":
        end = max(end, p["events"][-1]["month"])
    return [m for m in MONTHS if min(runs) <= m <= end]
