"""The life of a priority: proposed -> adopted or rejected -> continued -> closed.

BeatBook proposes; a person decides. Every decision is an event appended to
``priority_events`` with who, when, the month it is for and why; nothing is
updated or deleted, so the trail can be audited (were priorities from residents
adopted as often as those from data? did action lag?). A priority's status and
label are those of its latest events.

A decision's month must be a month of the stored data or a few after it
(:func:`beatbook.months.check_month`), and its label, reason and note fit the print
(:mod:`beatbook.settings`). A month stored outside the calendar BeatBook accepts (written
before those checks, or by hand) is left out when the trail is read, and logged, so one bad
row never takes a page down.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from typing import Any

from beatbook import queries as q
from beatbook.errors import InputError
from beatbook.months import CALENDAR, check_month, day_bounds, in_calendar, ym
from beatbook.priorities.evidence import refresh
from beatbook.priorities.wording import problem_label
from beatbook.settings import DESCRIPTION, PRIORITY_LABEL
from beatbook.store import Store

log = logging.getLogger(__name__)

# action -> the statuses it may follow
TRANSITIONS = {
    "adopted": ("proposed",),
    "rejected": ("proposed",),
    "continued": ("adopted", "continued"),
    "closed": ("adopted", "continued"),
}
STATUSES = ("proposed", "adopted", "rejected", "continued", "closed")
RUNNING = ("adopted", "continued")  # a priority in these runs until it is closed
ORIGINS = ("data", "residents", "partners", "mix", "team")


def _check_actor(actor: str) -> str:
    name = (actor or "").strip()
    if not name or len(name) > 80:
        raise InputError("--by: say who decided (a name or role, up to 80 characters)")
    return name


def check_decision_month(store: Store, month: dt.date, option: str = "--month") -> dt.date:
    """``month`` if a decision may be for it: a month of the stored street-level data or at
    most settings.MONTHS_AFTER_DATA after the latest (:func:`beatbook.months.check_month`)."""
    return check_month(month, option, q.months_with_data(store, *CALENDAR))


def _check_details(details: dict[str, Any]) -> dict[str, Any]:
    """The decision's free text within the print's limits (label; reason and note)."""
    out = dict(details)
    for key, limit in (("label", PRIORITY_LABEL), ("reason", DESCRIPTION), ("note", DESCRIPTION)):
        if isinstance(out.get(key), str):
            out[key] = limit.check(out[key], key)
    return out


def _append(
    con: Any, pid: int, action: str, actor: str, month: dt.date | None, details: dict[str, Any]
) -> None:
    seq = con.execute(
        "SELECT coalesce(max(seq), 0) + 1 FROM priority_events WHERE priority_id = ?", [pid]
    ).fetchone()[0]
    con.execute(
        "INSERT INTO priority_events VALUES (?, ?, ?, ?, now(), ?, ?)",
        [pid, seq, action, actor, month, json.dumps(details, default=str)],
    )


def _finite(figures: dict[str, Any]) -> dict[str, Any]:
    """The proposal's figures with NaN as null, so the trail stays valid JSON."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in figures.items()}


def save_proposals(store: Store, proposal: dict[str, Any], actor: str = "beatbook") -> list[int]:
    """Record the candidates of a :func:`~beatbook.priorities.propose.propose` result as
    proposed priorities. Idempotent: a candidate already proposed for the same area,
    place, problem and month keeps its id and gains nothing. Its ``running`` entries are
    never recorded, and a candidate whose place and problem has started running since it
    was proposed is refused (one priority per place and problem at a time)."""
    actor = _check_actor(actor)
    month = check_decision_month(store, dt.date.fromisoformat(proposal["for_month"] + "-01"))
    area = proposal["area"]["reference"]
    ids = []
    with store.transaction() as con:
        for ward in proposal["wards"]:
            for c in ward["priorities"]:
                found = con.execute(
                    "SELECT priority_id FROM priorities WHERE area = ? AND place_key = ? "
                    "AND problem = ? AND proposed_for = ?",
                    [area, c["place_key"], c["problem"], month],
                ).fetchone()
                if found:
                    ids.append(found[0])
                    continue
                _refuse_running(con, area, c["place_key"], c["problem"])
                pid = con.execute("SELECT nextval('priority_ids')").fetchone()[0]  # type: ignore[index]
                con.execute(
                    "INSERT INTO priorities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                    [
                        pid,
                        area,
                        c["ward"],
                        c["place"],
                        c["place_key"],
                        json.dumps(c["snap_points"]),
                        c["problem"],
                        month,
                        c["origin"],
                        c["score"],
                        json.dumps(c["parts"]),
                        c["reason"],
                    ],
                )
                details: dict[str, Any] = {"rank": c["rank"]}
                if "figures" in c:  # kept for the community update's plain-words reason
                    details.update(
                        figures=_finite(c["figures"]),
                        recent_months=proposal.get("recent_months"),
                        baseline_months=proposal.get("baseline_months"),
                    )
                _append(con, pid, "proposed", actor, month, details)
                ids.append(pid)
    return ids


def _refuse_running(
    con: Any, area: str, place_key: str, problem: str, pid: int | None = None
) -> None:
    """An InputError naming the priority already running for this area, place and problem
    (adopted or continued, not closed: its id, label and first month), if there is one
    other than ``pid``."""
    found = con.execute(
        """
        SELECT p.priority_id,
               coalesce((SELECT e.details->>'label' FROM priority_events e
                         WHERE e.priority_id = p.priority_id AND e.details->>'label' IS NOT NULL
                         ORDER BY e.seq DESC LIMIT 1), p.place),
               (SELECT min(e.month) FROM priority_events e
                WHERE e.priority_id = p.priority_id AND e.action = 'adopted')
        FROM priorities p
        WHERE p.area = $area AND p.place_key = $key AND p.problem = $problem
          AND ($pid IS NULL OR p.priority_id <> $pid)
          AND (SELECT e.action FROM priority_events e WHERE e.priority_id = p.priority_id
               ORDER BY e.seq DESC LIMIT 1) IN ('adopted', 'continued')
        ORDER BY p.priority_id LIMIT 1
        """,
        {"area": area, "key": place_key, "problem": problem, "pid": pid},
    ).fetchone()
    if found:
        running, label, since = found
        raise InputError(
            f"{label}: {problem_label(problem)} is already a priority (id {running}"
            f"{f', running since {since:%Y-%m}' if since else ''}): one priority per place and "
            f"problem at a time, so continue or close priority {running} instead"
        )


def add_priority(
    store: Store,
    *,
    area: str,
    ward: str,
    place: str,
    place_key: str,
    snap_points: list[dict[str, Any]],
    problem: str,
    month: dt.date,
    origin: str,
    actor: str,
    note: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Record a priority raised by people rather than proposed from data (a residents'
    meeting, a partner agency, the team), as proposed, so it goes through the same decisions.

    ``reason`` is the inspector's own, printed in the letter: it is the priority's ``reason``
    and the proposed event's ``team_reason``; ``details`` are added to that event (the team's
    words for the problem, how the place was found: :mod:`beatbook.priorities.team`). A place
    and problem already running in the area is refused, naming the running priority."""
    actor = _check_actor(actor)
    if origin not in ORIGINS:
        raise InputError(f"--origin {origin!r}: expected one of {', '.join(ORIGINS)}")
    check_decision_month(store, month)
    place = PRIORITY_LABEL.check(place, "--place") or ""
    note = DESCRIPTION.check(note, "--note")
    reason = DESCRIPTION.check(reason, "reason")
    event = dict(details or {})
    if note:
        event["note"] = note
    if reason:
        event["team_reason"] = reason
    with store.transaction() as con:
        _refuse_running(con, area, place_key, problem)
        pid = con.execute("SELECT nextval('priority_ids')").fetchone()[0]  # type: ignore[index]
        con.execute(
            "INSERT INTO priorities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, now())",
            [
                pid,
                area,
                ward,
                place,
                place_key,
                json.dumps(snap_points),
                problem,
                month,
                origin,
                reason or note or f"raised by {origin}",
            ],
        )
        _append(con, pid, "proposed", actor, month, event)
    return int(pid)


def _status(store: Store, pid: int) -> str:
    row = store.first(
        "SELECT action FROM priority_events WHERE priority_id = ? "
        "AND (month IS NULL OR month BETWEEN ? AND ?) ORDER BY seq DESC LIMIT 1",
        [pid, *day_bounds()],
    )
    if row is None:
        raise InputError(f"priority {pid}: no such priority (see 'beatbook priorities list')")
    return str(row[0])


def check_transition(store: Store, pid: int, action: str) -> None:
    """Refuse an action the priority's current status does not allow."""
    allowed = TRANSITIONS.get(action)
    if allowed is None:
        raise InputError(f"unknown action {action!r}: expected one of {', '.join(TRANSITIONS)}")
    current = _status(store, pid)
    if current not in allowed:
        raise InputError(
            f"priority {pid} is {current}: it cannot be {action} "
            f"(only a priority that is {' or '.join(allowed)} can)"
        )


def decide(
    store: Store,
    pid: int,
    action: str,
    actor: str,
    *,
    month: dt.date | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Append one decision, refusing an order the lifecycle does not allow
    (e.g. closing a priority that was never adopted). Returns the new status.

    A rejection needs a reason (``details["reason"]``, recorded stripped); an adoption
    without a month is for the month the priority was proposed for, and is refused while
    another priority of the same area, place and problem runs. A continuation into a month
    records the priority's figures and reason recomputed from the data to the month before
    (:func:`~beatbook.priorities.evidence.refresh`), so its reason stays current; the
    proposal's stay in its first event."""
    actor = _check_actor(actor)
    check_transition(store, pid, action)
    details = _check_details(details or {})
    if month is not None:
        check_decision_month(store, month)
    if action == "rejected":
        reason = str(details.get("reason") or "").strip()
        if not reason:
            raise InputError(f"priority {pid}: say why it is rejected (the reason is recorded)")
        details["reason"] = reason
    p = priority(store, pid)
    if action == "adopted" and month is None:
        month = p["proposed_for"]
    if action in ("continued", "closed") and month is not None:
        last = latest_month(store, pid)
        if last is not None and (month <= last if action == "continued" else month < last):
            then = (
                "continue it for a later month"
                if action == "continued"
                else ("close it in that month or later")
            )
            raise InputError(
                f"--month {month:%Y-%m}: priority {pid} already runs to {last:%Y-%m}; {then}"
            )
    fresh = refresh(store, p, month) if action == "continued" and month is not None else None
    if fresh:
        details.update(fresh, figures=_finite(fresh["figures"]))
    with store.transaction() as con:
        if action == "adopted":
            _refuse_running(con, p["area"], p["place_key"], p["problem"], pid)
        _append(con, pid, action, actor, month, details)
    return action


def adopt(
    store: Store,
    pid: int,
    actor: str,
    *,
    month: dt.date | None = None,
    details: dict[str, Any] | None = None,
) -> dt.date:
    """Adopt priority ``pid`` from ``month`` (by default the month it was proposed for);
    returns that month."""
    decide(store, pid, "adopted", actor, month=month, details=details)
    adopted = adopted_month(store, pid)
    assert adopted is not None  # just recorded
    return adopted


def latest_month(store: Store, pid: int) -> dt.date | None:
    """The last month the priority was proposed, adopted or continued for."""
    value = store.scalar(
        "SELECT max(month) FROM priority_events WHERE priority_id = ? "
        "AND action IN ('proposed', 'adopted', 'continued') AND month BETWEEN ? AND ?",
        [pid, *day_bounds()],
    )
    return value


def adopted_month(store: Store, pid: int) -> dt.date | None:
    """The month the priority was adopted for, None if it never was."""
    return store.scalar(
        "SELECT min(month) FROM priority_events WHERE priority_id = ? AND action = 'adopted' "
        "AND month BETWEEN ? AND ?",
        [pid, *day_bounds()],
    )


def running_since(p: dict[str, Any]) -> dt.date | None:
    """The month priority ``p`` (a record of :func:`list_priorities`) was adopted for, if it
    is running (adopted or continued, not closed); None otherwise."""
    if p["status"] not in RUNNING:
        return None
    adopted = [e["month"] for e in p["events"] if e["action"] == "adopted" and e["month"]]
    return min(adopted) if adopted else p["proposed_for"]


def priority(store: Store, pid: int) -> dict[str, Any]:
    """One priority with its current status and label and its whole event trail."""
    rows = list_priorities(store, ids=[pid])
    if not rows:
        raise InputError(f"priority {pid}: no such priority (see 'beatbook priorities list')")
    return rows[0]


def list_priorities(
    store: Store,
    *,
    area: str | None = None,
    status: str | None = None,
    ids: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Priorities with their status (latest event), label (latest edit) and events."""
    if status is not None and status not in STATUSES:
        raise InputError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    records = store.records(
        """
        SELECT p.* EXCLUDE (created_at), strftime(p.created_at AT TIME ZONE 'UTC',
                   '%Y-%m-%dT%H:%M:%SZ') AS created_at,
               list({'seq': e.seq, 'action': e.action, 'actor': e.actor,
                     'at': strftime(e.decided_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'),
                          'month': e.month, 'details': e.details} ORDER BY e.seq) AS events
        FROM priorities p JOIN priority_events e USING (priority_id)
        WHERE ($area IS NULL OR p.area = $area)
          AND ($ids IS NULL OR list_contains($ids, p.priority_id))
        GROUP BY ALL ORDER BY p.proposed_for DESC, p.priority_id
        """,
        {"area": area, "ids": ids},
    )
    out = []
    for record in records:
        events = _usable_events(record)
        if not events:
            continue
        record["snap_points"] = json.loads(record["snap_points"])
        record["parts"] = json.loads(record["parts"]) if record["parts"] else None
        record["status"] = events[-1]["action"]
        edits = [e["details"]["label"] for e in events if e["details"].get("label")]
        record["label"] = edits[-1] if edits else record["place"]
        record["events"] = events
        if status is None or record["status"] == status:
            out.append(record)
    return out


def _usable_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A priority's events with months inside the calendar BeatBook accepts; one outside
    (stored before the checks, or by hand) is left out and logged. None when the priority's
    own month is outside it."""
    pid = record["priority_id"]
    if not in_calendar(record["proposed_for"]):
        log.warning(
            "priority %s: proposed for %s, outside the calendar; left out",
            pid,
            ym(record["proposed_for"]),
        )
        return []
    events = []
    for e in record.pop("events"):
        if e["month"] is not None and not in_calendar(e["month"]):
            log.warning(
                "priority %s, decision %s (%s): month %s is outside the calendar; left out",
                pid,
                e["seq"],
                e["action"],
                ym(e["month"]),
            )
            continue
        events.append({**e, "details": json.loads(e["details"]) if e["details"] else {}})
    return events
