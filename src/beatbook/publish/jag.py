"""The Joint Action Group pack: the evidence a JAG meeting decides from, as HTML and PDF.

One document per area and month: the proposed priorities for next month with their
evidence (monthly counts, a trend chart, a small map, concerns, outcomes), the
priorities already running with their assessment so far, those closed recently
with their final assessment, operations results, and open concerns. Every number
comes from the same functions as ``beatbook priorities`` and ``beatbook ops``;
concerns appear only as counts by place and problem, never their text or contact.
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
from beatbook.charts.common import place_map, trend_chart
from beatbook.concerns.records import concerns_in
from beatbook.months import month_end, months_back
from beatbook.operations import records as operations
from beatbook.priorities import lifecycle, review
from beatbook.priorities.propose import Evidence, propose_with_evidence
from beatbook.publish import pdf
from beatbook.settings import FORECAST_METHOD, PER_WARD
from beatbook.store import Store

CLOSED_WITHIN_MONTHS = 3


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _pictures(store: Store, ev: Evidence, c: dict[str, Any]) -> dict[str, str]:
    """Trend chart and map of one proposed priority."""
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
    title = f"{c['problem_label']}, {c['ward']}, recent months"
    return {
        "trend": _data_uri(
            trend_chart(c["evidence"]["months"], f"{c['place']}: {c['problem_label']} a month")
        ),
        "map": _data_uri(place_map(outline, crimes, place, title)),
    }


def _running(store: Store, area_ref: str, cutoff: dt.date) -> list[dict[str, Any]]:
    """Adopted or continued priorities of the area, assessed up to the cutoff month."""
    rows = []
    for p in lifecycle.list_priorities(store, area=area_ref):
        if p["status"] not in ("adopted", "continued"):
            continue
        start = lifecycle.adopted_month(store, p["priority_id"])
        so_far = (
            review.assess(store, p["priority_id"], cutoff) if start and start <= cutoff else None
        )
        rows.append({**p, "adopted_month": start, "assessment": so_far})
    return rows


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
    running = _running(store, ref, ev.cutoff)
    taken = {(p["place_key"], p["problem"]) for p in running}
    for ward in proposal["wards"]:
        for c in ward["priorities"]:
            c["already_running"] = (c["place_key"], c["problem"]) in taken
    start = ev.recent[0]
    end = month_end(ev.cutoff)
    pack = {
        "title": f"Joint Action Group pack: {proposal['area']['name']}, {proposal['for_month']}",
        "generated": dt.date.today().isoformat(),
        "proposal": proposal,
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
    return env.get_template("jag.html.j2").render(**pack, pictures=pictures)


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
    pictures = {
        f"{c['place_key']}#{c['problem']}": _pictures(store, ev, c)
        for ward in pack["proposal"]["wards"]
        for c in ward["priorities"]
    }
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
