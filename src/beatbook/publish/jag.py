"""The Joint Action Group pack: the evidence a JAG meeting decides from, as HTML and PDF.

One document per area and month. Its first page is the meeting's agenda: every proposal
and every running priority by ward, with empty action, owner and deadline columns to fill
in. Then the proposed priorities for next month with their evidence (monthly counts, a
trend chart, a small map, concerns, outcomes), the priorities already running with their
assessment so far and this month's evidence, those closed recently with their final
assessment, operations results, and open concerns. A (place, problem) appears once: a
running one is never proposed again as new. Every number comes from the same functions
as ``beatbook priorities`` and ``beatbook ops``; concerns appear only as counts by place
and problem, never their text or contact. Months read "Jun 2021", days "18 Aug 2025".
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined

from beatbook import queries as q
from beatbook.areas import Area
from beatbook.charts.common import month_axis, month_label, place_map, trend_chart
from beatbook.concerns.records import concerns_in
from beatbook.months import month_end, months_back, ym
from beatbook.operations import records as operations
from beatbook.priorities import lifecycle, review
from beatbook.priorities.propose import Evidence, propose_with_evidence
from beatbook.priorities.wording import method_words, problem_label
from beatbook.publish import pdf
from beatbook.settings import FORECAST_METHOD, PER_WARD
from beatbook.store import Store

CLOSED_WITHIN_MONTHS = 3


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _pictures(store: Store, ev: Evidence, c: dict[str, Any]) -> dict[str, str]:
    """Trend chart and map of one priority with this month's evidence (captions in the page)."""
    ward = ev.crimes.filter(
        (pl.col("ward") == c["ward"])
        & (pl.col("problem") == c["problem"])
        & pl.col("month").is_in(ev.recent)
    )
    codes = frozenset(ward["lsoa_code"].drop_nulls().unique().to_list())
    outline = (
        q.area_shape(store, Area(c["ward"], "custom", None, "", lsoa_codes=codes))
        if codes
        else None
    )
    crimes = list(zip(ward["longitude"].to_list(), ward["latitude"].to_list(), strict=True))
    place = [(s["longitude"], s["latitude"]) for s in c["snap_points"]]
    return {
        "trend": _data_uri(trend_chart(c["evidence"]["months"])),
        "map": _data_uri(place_map(outline, crimes, place)),
    }


def evidence_rows(months: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The evidence table: every calendar month of the evidence, oldest first, as
    'Jun 2021' with its count (None where the month has no data) and whether it is recent."""
    given = {m["month"]: m for m in months}
    return [
        {
            "label": month_label(m),
            "count": given[m]["count"] if m in given else None,
            "recent": m in given and given[m]["window"] == "recent",
        }
        for m in month_axis([m["month"] for m in months])
    ]


def _running(store: Store, area_ref: str, cutoff: dt.date, target: dt.date) -> list[dict[str, Any]]:
    """Adopted or continued priorities of the area that started by the pack's month,
    assessed up to the cutoff month."""
    rows = []
    for p in lifecycle.list_priorities(store, area=area_ref):
        if p["status"] not in ("adopted", "continued"):
            continue
        start = lifecycle.adopted_month(store, p["priority_id"])
        if start is None or start > target:
            continue
        so_far = review.assess(store, p["priority_id"], cutoff) if start <= cutoff else None
        standing = "adopted for" if start == target else "continuing since"
        rows.append(
            {
                **p,
                "adopted_month": start,
                "since": ym(start),
                "standing": f"{standing} {start:%b %Y}",
                "assessment": so_far,
            }
        )
    return rows


def _one_each(proposal: dict[str, Any], running: list[dict[str, Any]]) -> None:
    """Each (place, problem) once: a candidate that is already running is taken out of the
    new proposals (which are numbered 1..n again within the ward) and becomes the running
    priority's evidence this month, unless the proposal's ``running`` list carries it."""
    by_key = {(p["place_key"], p["problem"]): p for p in running}
    fresh = {
        (r["place_key"], r["problem"]): r for w in proposal["wards"] for r in w.get("running", [])
    }
    for ward in proposal["wards"]:
        new: list[dict[str, Any]] = []
        for c in ward["priorities"]:
            key = (c["place_key"], c["problem"])
            if key in by_key:
                fresh.setdefault(key, c)
            else:
                new.append({**c, "rank": len(new) + 1})
        ward["priorities"] = new
    for p in running:
        p["evidence_now"] = fresh.get((p["place_key"], p["problem"]))


def one_line(reason: str, label: str) -> str:
    """The agenda's short reason: the reason without its forecast clause (the card gives it
    in full) and without the problem's name in front (the agenda's problem column gives it)."""
    kept = [c for c in reason.split("; ") if "expected next month" not in c]
    short = "; ".join(kept) or reason
    if short.startswith(label):
        short = short.removeprefix(label).lstrip(": ")
    return short[:1].upper() + short[1:]


def _agenda(proposal: dict[str, Any], running: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first page: per ward, the new proposals by rank, then the running priorities."""
    wards: dict[str, list[dict[str, Any]]] = {w["ward"]: [] for w in proposal["wards"]}
    for w in proposal["wards"]:
        for c in w["priorities"]:
            wards[w["ward"]].append(
                {
                    "rank": c["rank"],
                    "status": "new proposal",
                    "priority_id": None,
                    "place": c["place"],
                    "place_key": c["place_key"],
                    "problem": c["problem"],
                    "problem_label": c["problem_label"],
                    "score": c["score"],
                    "origin": c["origin"],
                    "reason": one_line(c["reason"], c["problem_label"]),
                }
            )
    for p in running:
        now, label = p["evidence_now"], problem_label(p["problem"])
        wards.setdefault(p["ward"], []).append(
            {
                "rank": None,
                "status": p["standing"],
                "priority_id": p["priority_id"],
                "place": p["label"],
                "place_key": p["place_key"],
                "problem": p["problem"],
                "problem_label": label,
                "score": now["score"] if now else None,
                "origin": p["origin"],
                "reason": one_line(now["reason"], label)
                if now
                else f"{one_line(p['reason'], label)} (when proposed for {p['proposed_for']:%b %Y})",
            }
        )
    return [{"ward": w, "rows": rows} for w, rows in wards.items() if rows]


def _closed(store: Store, area_ref: str, cutoff: dt.date) -> list[dict[str, Any]]:
    """Priorities closed in the last few months, with the assessment recorded at closing."""
    since = months_back(cutoff, CLOSED_WITHIN_MONTHS)[0]
    rows = []
    for p in lifecycle.list_priorities(store, area=area_ref, status="closed"):
        closing = p["events"][-1]
        if closing["month"] is not None and since <= closing["month"] <= cutoff:
            rows.append(
                {
                    **p,
                    "closed_month": closing["month"],
                    "assessment": closing["details"].get("assessment"),
                }
            )
    return rows


def _open_concerns(store: Store, area: Area, cutoff: dt.date) -> dict[str, Any]:
    """Open concerns of the last 12 months: counts by place and problem, and unmatched."""
    end = month_end(cutoff)
    frame = concerns_in(store, area, months_back(cutoff, 12)[0], end, status="open")
    by_place = (
        frame.filter(pl.col("place").is_not_null())
        .group_by("place", "problem_label")
        .agg(pl.len().alias("concerns"))
        .sort(["concerns", "place"], descending=[True, False])
    )
    return {
        "total": frame.height,
        "unmatched": frame.filter(pl.col("place").is_null()).height,
        "by_place": by_place.to_dicts(),
    }


def build(
    store: Store,
    area_name: str,
    month: str,
    *,
    per_ward: int = PER_WARD,
    method: str = FORECAST_METHOD,
) -> tuple[dict[str, Any], Evidence]:
    """Everything the pack shows, as plain records (what ``--json`` prints), and the
    evidence behind the proposals (for the maps)."""
    proposal, ev = propose_with_evidence(store, area_name, month, per_ward=per_ward, method=method)
    ref = proposal["area"]["reference"]
    target = dt.date.fromisoformat(proposal["for_month"] + "-01")
    running = _running(store, ref, ev.cutoff, target)
    _one_each(proposal, running)
    start = ev.recent[0]
    end = month_end(ev.cutoff)
    pack = {
        "title": f"Joint Action Group pack: {proposal['area']['name']}, {target:%b %Y}",
        "generated": dt.date.today().isoformat(),
        "proposal": proposal,
        "agenda": _agenda(proposal, running),
        "running": running,
        "closed": _closed(store, ref, ev.cutoff),
        "operations": _operations(store, ev.area, start, end),
        "concerns": _open_concerns(store, ev.area, ev.cutoff),
    }
    return pack, ev


def _operations(store: Store, area: Area, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Roll-ups of the operations that ran in the recent months and share ground with the area."""
    return [
        {
            "name": r["operation"],
            "starts": r["from"],
            "ends": r["to"],
            "sentences": [t for m in r["measures"] for t in m["text"]],
        }
        for r in operations.operations_report(store, area, start, end)
    ]


def render_html(pack: dict[str, Any], pictures: dict[str, dict[str, str]]) -> str:
    """The pack as one self-contained HTML page (charts embedded as data URIs)."""
    env = Environment(
        loader=PackageLoader("beatbook.publish", "templates"),
        undefined=StrictUndefined,
        autoescape=True,
    )
    env.filters["month"] = _month_words
    env.filters["day"] = _day_words
    env.filters["problem"] = problem_label
    env.filters["method_words"] = method_words
    env.globals["evidence_rows"] = evidence_rows
    return env.get_template("jag.html.j2").render(**pack, pictures=pictures)


def _month_words(value: dt.date | str) -> str:
    """A month ('2021-06' or a date) as 'Jun 2021'."""
    return month_label(value if isinstance(value, str) else ym(value))


def _day_words(value: dt.date | str) -> str:
    """A day ('2025-08-18' or a date) as '18 Aug 2025'."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%b %Y}"


def pack_html(
    store: Store,
    area_name: str,
    month: str,
    *,
    per_ward: int = PER_WARD,
    method: str = FORECAST_METHOD,
) -> tuple[str, dict[str, Any]]:
    """The pack as one self-contained HTML page, and its records (see :func:`build`)."""
    pack, ev = build(store, area_name, month, per_ward=per_ward, method=method)
    shown = [c for ward in pack["proposal"]["wards"] for c in ward["priorities"]]
    shown += [p["evidence_now"] for p in pack["running"] if p["evidence_now"]]
    pictures = {f"{c['place_key']}#{c['problem']}": _pictures(store, ev, c) for c in shown}
    return render_html(pack, pictures), pack


def write(
    store: Store,
    area_name: str,
    month: str,
    out: Path,
    *,
    per_ward: int = PER_WARD,
    method: str = FORECAST_METHOD,
) -> tuple[Path, Path, dict[str, Any]]:
    """Write the pack beside ``out`` as .html and .pdf (WeasyPrint, loading nothing but its
    own embedded charts: :mod:`beatbook.publish.pdf`); returns both and the pack."""
    html, pack = pack_html(store, area_name, month, per_ward=per_ward, method=method)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = out.with_suffix(".html"), out.with_suffix(".pdf")
    html_path.write_text(html, encoding="utf-8")
    pdf.write_pdf(pdf_path, html=html, png_data=True)
    return html_path, pdf_path, pack
