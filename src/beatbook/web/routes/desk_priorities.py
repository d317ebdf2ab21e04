"""Priorities on the desk: /desk/priorities (proposals with their evidence, numbered by rank
within their ward with the id apart; the ones running, as "continuing since"), the decisions
(adopt, reject, continue, close: inspectors), proposing from the data and adding the team's
own priority (analysts and inspectors), partners' notes, and the JAG pack /desk/jag."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from beatbook import areas as areas_mod
from beatbook.errors import BeatBookError, InputError
from beatbook.figures.public import running_months
from beatbook.months import parse_month
from beatbook.priorities import lifecycle, notes, review, team
from beatbook.priorities.propose import FORECAST_METHODS, propose
from beatbook.priorities.wording import method_words, problem_label
from beatbook.publish import jag
from beatbook.reference import concern_problems
from beatbook.settings import (
    BEFORE_MONTHS,
    FORECAST_METHOD,
    PER_WARD,
    PER_WARD_RANGE,
    PLACE_RADIUS,
    PRIORITY_LABEL,
)
from beatbook.stats import format_p
from beatbook.store import Store
from beatbook.users import User
from beatbook.web.deps import ReadStore, Viewer, check_csrf, database, render, require
from beatbook.web.routes.desk_common import back, flash, next_month, previous_month, select
from beatbook.web.routes.public import cached, pin_map

router = APIRouter()
PAGE = "/desk/priorities"
CSRF = [Depends(check_csrf)]
ORIGIN_WORDS = {
    "data": "the police data",
    "residents": "residents",
    "partners": "partner agencies",
    "mix": "the police data and residents",
    "team": "the team",
}


def _when(stamp: str | None) -> str:
    """'2025-11-23T10:05:00Z' -> '23 Nov 2025, 10:05' (UTC, as stored)."""
    if not stamp:
        return ""
    at = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return f"{at.day} {at:%b %Y, %H:%M}"


def _record(p: dict[str, Any], notes_of: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    first = p["events"][0]["details"]
    figures = first.get("figures")
    change_p = figures.get("change_p") if figures else None
    running = [f"{m:%Y-%m}" for m in running_months(p)]
    adopted = [e["month"] for e in p["events"] if e["action"] == "adopted" and e["month"]]
    since = adopted[0] if adopted else None
    return {
        **p,
        "problem_label": team.problem_words(p) or problem_label(p["problem"]),
        "origin_words": ORIGIN_WORDS.get(p["origin"], p["origin"]),
        "since": f"{since:%Y-%m}" if since else None,
        "events": [{**e, "at": _when(e["at"])} for e in p["events"]],
        "figures": figures,
        "change_p": format_p(change_p) if isinstance(change_p, float) else None,
        "recent_months": first.get("recent_months"),
        "notes": notes_of.get(p["priority_id"], []),
        "running": running,
        "next_month": next_month(running[-1]) if running else "",
    }


@router.get(PAGE)
def priorities_page(
    request: Request,
    store: ReadStore,
    user: Viewer,
    area: str | None = None,
    month: str | None = None,
) -> Response:
    sel = select(store, area, month, after_data=True)
    proposed: list[dict[str, Any]] = []
    running: list[dict[str, Any]] = []
    error = sel.error
    if sel.area and not error:
        try:
            ref = areas_mod.reference(areas_mod.resolve(store, sel.area))
            when = parse_month(sel.month, "month")
            every = lifecycle.list_priorities(store, area=ref)
            notes_of = notes.notes_for(store, [p["priority_id"] for p in every])
            proposed = [_record(p, notes_of) for p in every if p["proposed_for"] == when]
            running = [
                _record(p, notes_of)
                for p in every
                if p["proposed_for"] != when and when in running_months(p)
            ]
            proposed = _ranked(proposed, running)
        except BeatBookError as exc:
            error = str(exc)
    return render(
        request,
        "desk_priorities.html.j2",
        {
            "tab": "priorities",
            "sel": sel,
            "proposed": proposed,
            "running": running,
            "error": error,
            "flash": flash(request),
            "data_month": previous_month(sel.month),
            "methods": [(m, method_words(m)) for m in FORECAST_METHODS],
            "default_method": FORECAST_METHOD,
            "per_ward": PER_WARD,
            "per_ward_range": PER_WARD_RANGE,
            "label_max": PRIORITY_LABEL.high,
            "problems": concern_problems(),
            "origins": [(o, ORIGIN_WORDS[o]) for o in team.TEAM_ORIGINS],
            "radius": PLACE_RADIUS,
            "pin_map": cached(request, "report_map", lambda: pin_map(store)),
        },
    )


def _ranked(proposed: list[dict[str, Any]], running: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The month's proposals by ward, numbered by rank within it (best score first; the
    team's own, which have no score, after); one whose place and problem already runs says
    so (``running_as``) instead of offering Adopt."""
    by_ward: dict[str, list[dict[str, Any]]] = {}
    for p in proposed:
        by_ward.setdefault(p["ward"], []).append(p)
    live: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in [*running, *proposed]:
        if r["status"] in ("adopted", "continued"):
            live.setdefault((r["place_key"], r["problem"]), []).append(r)
    out = []
    for ward_cards in by_ward.values():
        ward_cards.sort(key=lambda p: (p["score"] is None, -(p["score"] or 0), p["priority_id"]))
        for rank, p in enumerate(ward_cards, 1):
            others = live.get((p["place_key"], p["problem"]), [])
            already = next((r for r in others if r["priority_id"] != p["priority_id"]), None)
            out.append({**p, "rank": rank, "running_as": already})
    return out


def _decide(request: Request, area: str, month: str, do: Any) -> Response:
    """Run one decision in a write, and go back to the page with what happened."""
    try:
        with database(request).write() as store:
            message = do(store)
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True, area=area, month=month)
    return back(request, PAGE, message, area=area, month=month)


@router.post(PAGE + "/propose", dependencies=CSRF)
def propose_and_save(
    request: Request,
    user: Annotated[User, require("propose")],
    area: Annotated[str, Form()] = "",
    data_month: Annotated[str, Form()] = "",
    per_ward: Annotated[int, Form()] = PER_WARD,
    method: Annotated[str, Form()] = FORECAST_METHOD,
) -> Response:
    """Propose from the data up to ``data_month`` (for the month after) and save them."""
    try:  # scoring reads only: the write lock is held only to save the proposals
        with database(request).read() as store:
            result = propose(store, area, data_month, per_ward=per_ward, method=method)
        with database(request).write() as store:
            ids = lifecycle.save_proposals(store, result, actor=user.username)
    except BeatBookError as exc:
        return back(request, PAGE, str(exc), error=True, area=area)
    message = (
        f"{len(ids)} proposed priorities for {result['for_month']} saved "
        f"(data to {result['month']}; ids {', '.join(map(str, ids)) or 'none'})."
    )
    return back(request, PAGE, message, area=area, month=result["for_month"])


def _number(text: str) -> float | None:
    """A latitude or longitude as typed ('' is none); the library says what is wrong."""
    try:
        return float(text) if text.strip() else None
    except ValueError:
        raise InputError(f"map point {text.strip()[:20]!r}: expected a number in degrees") from None


@router.post(PAGE + "/add", dependencies=CSRF)
def add_team_priority(
    request: Request,
    user: Annotated[User, require("propose")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    street: Annotated[str, Form()] = "",
    ward: Annotated[str, Form()] = "",
    lat: Annotated[str, Form()] = "",
    lon: Annotated[str, Form()] = "",
    problem: Annotated[str, Form()] = "",
    words: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    origin: Annotated[str, Form()] = "team",
) -> Response:
    """The team's own priority at a street or a map point, as proposed for ``month``."""

    def do(store: Store) -> str:
        place = team.find_place(
            store,
            area,
            street=street,
            ward=ward.strip() or None,
            longitude=_number(lon),
            latitude=_number(lat),
        )
        pid = team.add_team_priority(
            store,
            area,
            place,
            problem=problem,
            reason=reason,
            origin=origin,
            actor=user.username,
            month=parse_month(month, "month") if month.strip() else None,
            words=words,
            label=label,
        )
        return f"Priority {pid} added: {label.strip() or place.place} ({place.ward})."

    return _decide(request, area, month, do)


@router.post(PAGE + "/{pid}/adopt", dependencies=CSRF)
def adopt(
    request: Request,
    pid: int,
    user: Annotated[User, require("decide")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    from_month: Annotated[str, Form()] = "",
) -> Response:
    def do(store: Store) -> str:
        when = parse_month(from_month, "month") if from_month.strip() else None
        details = {k: v.strip() for k, v in (("label", label), ("note", note)) if v.strip()}
        when = lifecycle.adopt(store, pid, user.username, month=when, details=details)
        return f"Priority {pid} adopted for {when:%Y-%m} by {user.username}."

    return _decide(request, area, month, do)


@router.post(PAGE + "/{pid}/reject", dependencies=CSRF)
def reject(
    request: Request,
    pid: int,
    user: Annotated[User, require("decide")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    def do(store: Store) -> str:
        lifecycle.decide(store, pid, "rejected", user.username, details={"reason": reason})
        return f"Priority {pid} rejected by {user.username}."

    return _decide(request, area, month, do)


@router.post(PAGE + "/{pid}/continue", dependencies=CSRF)
def continue_(
    request: Request,
    pid: int,
    user: Annotated[User, require("decide")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    into: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    def do(store: Store) -> str:
        when = parse_month(into, "month")
        lifecycle.decide(
            store,
            pid,
            "continued",
            user.username,
            month=when,
            details={"note": note.strip()} if note.strip() else {},
        )
        return f"Priority {pid} continued into {when:%Y-%m}."

    return _decide(request, area, month, do)


@router.post(PAGE + "/{pid}/close", dependencies=CSRF)
def close(
    request: Request,
    pid: int,
    user: Annotated[User, require("decide")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    last: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    def do(store: Store) -> str:
        result = review.close(
            store,
            pid,
            user.username,
            parse_month(last, "month"),
            BEFORE_MONTHS,
            note.strip() or None,
        )
        return f"Priority {pid} closed: {result['wording']}"

    return _decide(request, area, month, do)


@router.post(PAGE + "/{pid}/note", dependencies=CSRF)
def add_note(
    request: Request,
    pid: int,
    user: Annotated[User, require("add_notes")],
    area: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    def do(store: Store) -> str:
        notes.add_note(store, pid, user.username, text)
        return f"Note added to priority {pid}."

    return _decide(request, area, month, do)


@router.get("/desk/jag")
def jag_pack(
    store: ReadStore,
    user: Annotated[User, require("read_jag")],
    area: str,
    month: str,
    per_ward: int = PER_WARD,
    method: str = FORECAST_METHOD,
) -> Response:
    """The Joint Action Group pack from the data up to ``month`` (for the month after), as
    its own HTML document (built from the store, escaped by its template)."""
    html, _ = jag.pack_html(store, area, month, per_ward=per_ward, method=method)
    return HTMLResponse(html, headers={"Cache-Control": "private, no-store"})
