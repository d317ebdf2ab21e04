"""The life of a priority: proposed -> adopted or rejected -> continued -> closed.

BeatBook proposes; a person decides. Every decision is an event appended to
``priority_events`` with who, when, the month it is for and why; nothing is
updated or deleted, so the trail can be audited (were priorities from residents
adopted as often as those from data? did action lag?). A priority's status and
label are those of its latest events.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from beatbook.errors import InputError
from beatbook.store import Store

# action -> the statuses it may follow
TRANSITIONS = {
    "adopted": ("proposed",),
    "rejected": ("proposed",),
    "continued": ("adopted", "continued"),
    "closed": ("adopted", "continued"),
}
STATUSES = ("proposed", "adopted", "rejected", "continued", "closed")
ORIGINS = ("data", "residents", "partners", "mix")


def _check_actor(actor: str) -> str:
    name = (actor or "").strip()
    if not name or len(name) > 80:
        raise InputError("--by: say who decided (a name or role, up to 80 characters)")
    return name


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
    place, problem and month keeps its id and gains nothing."""
    actor = _check_actor(actor)
    month = dt.date.fromisoformat(proposal["for_month"] + "-01")
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
                        figures=_finite(c["figures"]), recent_months=proposal.get("recent_months")
                    )
                _append(con, pid, "proposed", actor, month, details)
                ids.append(pid)
    return ids


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
) -> int:
    """Record a priority raised by people rather than proposed from data (a residents'
    meeting, a partner agency), as proposed, so it goes through the same decisions."""
    actor = _check_actor(actor)
    if origin not in ORIGINS:
        raise InputError(f"--origin {origin!r}: expected one of {', '.join(ORIGINS)}")
    with store.transaction() as con:
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
                note or f"raised by {origin}",
            ],
        )
        _append(con, pid, "proposed", actor, month, {"note": note} if note else {})
    return int(pid)


def _status(store: Store, pid: int) -> str:
    row = store.first(
        "SELECT action FROM priority_events WHERE priority_id = ? ORDER BY seq DESC LIMIT 1", [pid]
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
    without a month is for the month the priority was proposed for."""
    actor = _check_actor(actor)
    check_transition(store, pid, action)
    details = dict(details or {})
    if action == "rejected":
        reason = str(details.get("reason") or "").strip()
        if not reason:
            raise InputError(f"priority {pid}: say why it is rejected (the reason is recorded)")
        details["reason"] = reason
    if action == "adopted" and month is None:
        month = priority(store, pid)["proposed_for"]
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
    with store.transaction() as con:
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
        "AND action IN ('proposed', 'adopted', 'continued')",
        [pid],
    )
    return value


def adopted_month(store: Store, pid: int) -> dt.date | None:
    """The month the priority was adopted for, None if it never was."""
    return store.scalar(
        "SELECT min(month) FROM priority_events WHERE priority_id = ? AND action = 'adopted'", [pid]
    )


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
        events = [
            {**e, "details": json.loads(e["details"]) if e["details"] else {}}
            for e in record.pop("events")
        ]
        record["snap_points"] = json.loads(record["snap_points"])
        record["parts"] = json.loads(record["parts"]) if record["parts"] else None
        record["status"] = events[-1]["action"]
        edits = [e["details"]["label"] for e in events if e["details"].get("label")]
        record["label"] = edits[-1] if edits else record["place"]
        record["events"] = events
        if status is None or record["status"] == status:
            out.append(record)
    return out
