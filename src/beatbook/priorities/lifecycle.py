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

import sqlalchemy as sa

from beatbook import queries as q
from beatbook.errors import InputError
from beatbook.months import CALENDAR, check_month, day_bounds, in_calendar, ym
from beatbook.priorities.evidence import refresh
from beatbook.priorities.wording import problem_label
from beatbook.records.engine import utc_now, utc_text
from beatbook.records.schema import priorities, priority_events, priority_ids
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


def _as_json(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` as the trail keeps them: what JSON has no type for (a date) as its text."""
    return dict(json.loads(json.dumps(details, default=str)))


def _append(
    c: sa.Connection,
    pid: int,
    action: str,
    actor: str,
    month: dt.date | None,
    details: dict[str, Any],
    at: dt.datetime,
) -> None:
    """Append one event to ``pid``'s trail. Its seq is read in the same transaction as the
    insert, so two deciders never take the same one (PostgreSQL reruns the later)."""
    e = priority_events.c
    seq = c.execute(
        sa.select(sa.func.coalesce(sa.func.max(e.seq), 0) + 1).where(e.priority_id == pid)
    ).scalar_one()
    c.execute(
        sa.insert(priority_events).values(
            priority_id=pid,
            seq=seq,
            action=action,
            actor=actor,
            decided_at=at,
            month=month,
            details=_as_json(details),
        )
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
    candidates = [c for ward in proposal["wards"] for c in ward["priorities"]]
    p = priorities.c

    def work(con: sa.Connection) -> list[int]:
        at = utc_now()
        ids = []
        for c in candidates:
            found = con.execute(
                sa.select(p.priority_id).where(
                    p.area == area,
                    p.place_key == c["place_key"],
                    p.problem == c["problem"],
                    p.proposed_for == month,
                )
            ).scalar()
            if found is not None:
                ids.append(int(found))
                continue
            _refuse_running(con, area, c["place_key"], c["problem"])
            pid = _insert_priority(
                con,
                at,
                area=area,
                ward=c["ward"],
                place=c["place"],
                place_key=c["place_key"],
                snap_points=c["snap_points"],
                problem=c["problem"],
                proposed_for=month,
                origin=c["origin"],
                score=c["score"],
                parts=c["parts"],
                reason=c["reason"],
            )
            details: dict[str, Any] = {"rank": c["rank"]}
            if "figures" in c:  # kept for the community update's plain-words reason
                details.update(
                    figures=_finite(c["figures"]),
                    recent_months=proposal.get("recent_months"),
                    baseline_months=proposal.get("baseline_months"),
                )
            _append(con, pid, "proposed", actor, month, details, at)
            ids.append(pid)
        return ids

    return store.team_records.transact(work)


def _insert_priority(c: sa.Connection, at: dt.datetime, **values: Any) -> int:
    """A new priority row with the next id of ``priority_ids``; returns the id."""
    pid = int(c.execute(sa.select(priority_ids.next_value())).scalar_one())
    c.execute(sa.insert(priorities).values(priority_id=pid, created_at=at, **values))
    return pid


def _refuse_running(
    c: sa.Connection, area: str, place_key: str, problem: str, pid: int | None = None
) -> None:
    """An InputError naming the priority already running for this area, place and problem
    (adopted or continued, not closed: its id, label and first month), if there is one
    other than ``pid``. Read in the transaction that writes, so the rule holds."""
    p = priorities.c
    labels, adoptions, latest = (priority_events.alias() for _ in range(3))
    edited = labels.c.details["label"].as_string()
    latest_label = (
        sa.select(edited)
        .where(labels.c.priority_id == p.priority_id, edited.is_not(None))
        .order_by(labels.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    adopted = (
        sa.select(sa.func.min(adoptions.c.month))
        .where(adoptions.c.priority_id == p.priority_id, adoptions.c.action == "adopted")
        .scalar_subquery()
    )
    latest_action = (
        sa.select(latest.c.action)
        .where(latest.c.priority_id == p.priority_id)
        .order_by(latest.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        sa.select(p.priority_id, sa.func.coalesce(latest_label, p.place), adopted)
        .where(
            p.area == area,
            p.place_key == place_key,
            p.problem == problem,
            latest_action.in_(RUNNING),
        )
        .order_by(p.priority_id)
        .limit(1)
    )
    if pid is not None:
        query = query.where(p.priority_id != pid)
    found = c.execute(query).first()
    if found is not None:
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

    def work(c: sa.Connection) -> int:
        _refuse_running(c, area, place_key, problem)
        at = utc_now()
        pid = _insert_priority(
            c,
            at,
            area=area,
            ward=ward,
            place=place,
            place_key=place_key,
            snap_points=snap_points,
            problem=problem,
            proposed_for=month,
            origin=origin,
            score=None,
            parts=sa.null(),  # SQL NULL, as before (None would be JSON null)
            reason=reason or note or f"raised by {origin}",
        )
        _append(c, pid, "proposed", actor, month, event, at)
        return pid

    return store.team_records.transact(work)


def _status(c: sa.Connection, pid: int) -> str:
    e = priority_events.c
    action = c.execute(
        sa.select(e.action)
        .where(e.priority_id == pid, sa.or_(e.month.is_(None), e.month.between(*day_bounds())))
        .order_by(e.seq.desc())
        .limit(1)
    ).scalar()
    if action is None:
        raise InputError(f"priority {pid}: no such priority (see 'beatbook priorities list')")
    return str(action)


def check_transition(store: Store, pid: int, action: str) -> None:
    """Refuse an action the priority's current status does not allow."""
    with store.team_records.connect() as c:
        _refuse_transition(c, pid, action)


def _refuse_transition(c: sa.Connection, pid: int, action: str) -> None:
    allowed = TRANSITIONS.get(action)
    if allowed is None:
        raise InputError(f"unknown action {action!r}: expected one of {', '.join(TRANSITIONS)}")
    current = _status(c, pid)
    if current not in allowed:
        raise InputError(
            f"priority {pid} is {current}: it cannot be {action} "
            f"(only a priority that is {' or '.join(allowed)} can)"
        )


def _refuse_earlier_month(c: sa.Connection, pid: int, action: str, month: dt.date | None) -> None:
    """A continuation must be for a later month than the priority runs to; a closing for
    that month or later."""
    if action not in ("continued", "closed") or month is None:
        return
    last = _latest_month(c, pid)
    if last is not None and (month <= last if action == "continued" else month < last):
        then = (
            "continue it for a later month"
            if action == "continued"
            else ("close it in that month or later")
        )
        raise InputError(
            f"--month {month:%Y-%m}: priority {pid} already runs to {last:%Y-%m}; {then}"
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
    records = store.team_records
    with records.connect() as c:
        _refuse_earlier_month(c, pid, action, month)
    fresh = refresh(store, p, month) if action == "continued" and month is not None else None
    if fresh:
        details.update(fresh, figures=_finite(fresh["figures"]))

    def work(c: sa.Connection) -> None:
        # checked again where the event is written: another decision may have come first
        _refuse_transition(c, pid, action)
        _refuse_earlier_month(c, pid, action, month)
        if action == "adopted":
            _refuse_running(c, p["area"], p["place_key"], p["problem"], pid)
        _append(c, pid, action, actor, month, details, utc_now())

    records.transact(work)
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
    with store.team_records.connect() as c:
        return _latest_month(c, pid)


def _latest_month(c: sa.Connection, pid: int) -> dt.date | None:
    e = priority_events.c
    return c.execute(
        sa.select(sa.func.max(e.month)).where(
            e.priority_id == pid,
            e.action.in_(("proposed", "adopted", "continued")),
            e.month.between(*day_bounds()),
        )
    ).scalar()


def adopted_month(store: Store, pid: int) -> dt.date | None:
    """The month the priority was adopted for, None if it never was."""
    e = priority_events.c
    with store.team_records.connect() as c:
        return c.execute(
            sa.select(sa.func.min(e.month)).where(
                e.priority_id == pid, e.action == "adopted", e.month.between(*day_bounds())
            )
        ).scalar()


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
    p, ev = priorities.c, priority_events.c
    chosen = []
    if area is not None:
        chosen.append(p.area == area)
    if ids is not None:
        chosen.append(p.priority_id.in_(ids))
    with store.team_records.connect() as c:  # one snapshot on PostgreSQL
        rows = (
            c.execute(
                sa.select(priorities).where(*chosen).order_by(p.proposed_for.desc(), p.priority_id)
            )
            .mappings()
            .all()
        )
        trail = (
            c.execute(
                sa.select(priority_events)
                .where(ev.priority_id.in_(sa.select(p.priority_id).where(*chosen)))
                .order_by(ev.priority_id, ev.seq)
            )
            .mappings()
            .all()
        )
    trails: dict[int, list[dict[str, Any]]] = {}
    for event in trail:
        trails.setdefault(event["priority_id"], []).append(
            {
                "seq": event["seq"],
                "action": event["action"],
                "actor": event["actor"],
                "at": utc_text(event["decided_at"]),
                "month": event["month"],
                "details": event["details"] or {},
            }
        )
    found = [
        {k: v for k, v in row.items() if k != "created_at"}
        | {"created_at": utc_text(row["created_at"])}
        for row in rows
        if row["priority_id"] in trails  # as before: a priority without events is not listed
    ]
    out = []
    for record in found:
        events = _usable_events(record, trails[record["priority_id"]])
        if not events:
            continue
        record["status"] = events[-1]["action"]
        edits = [e["details"]["label"] for e in events if e["details"].get("label")]
        record["label"] = edits[-1] if edits else record["place"]
        record["events"] = events
        if status is None or record["status"] == status:
            out.append(record)
    return out


def _usable_events(record: dict[str, Any], trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
    for e in trail:
        if e["month"] is not None and not in_calendar(e["month"]):
            log.warning(
                "priority %s, decision %s (%s): month %s is outside the calendar; left out",
                pid,
                e["seq"],
                e["action"],
                ym(e["month"]),
            )
            continue
        events.append(e)
    return events
