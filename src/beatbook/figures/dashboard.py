"""What the web desk's dashboard shows: the areas to choose from, an area's month in honest
sentences, and its 13-month trend.

Every number comes from the same functions as ``beatbook stats`` (:func:`figures.area_stats`)
and is worded by :mod:`beatbook.stats.wording`: a change is a rise or fall only when its
test says so, a rate carries its interval and population year, a share its base.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.charts import update as update_charts
from beatbook.errors import DataMissingError
from beatbook.figures import stats as figures
from beatbook.months import months_back, parse_month
from beatbook.settings import TREND_MONTHS
from beatbook.stats import compare_counts, describe_change, describe_share, share
from beatbook.store import Store

__all__ = ["area_choices", "month_choices", "summary", "trend", "trend_png"]

TOP_TYPES = 5
KIND_ORDER = ("custom", "force area", "local authority", "ward")
KIND_LABELS = {
    "custom": "Team areas",
    "force area": "Force areas",
    "local authority": "Local authorities",
    "ward": "Wards",
}


def area_choices(store: Store) -> list[dict[str, str]]:
    """The areas a desk user picks from, team areas (``beatbook areas add``) first, then the
    force areas, their local authorities and those authorities' wards. ``value`` is the
    area's :func:`~beatbook.areas.reference`, which resolves back to exactly that area."""
    every = areas_mod.list_areas(store)
    forces = [a for a in every if a.kind == "force area"]
    lads = set().union(*(f.local_authorities for f in forces)) if forces else set()
    chosen = [
        a
        for a in every
        if a.kind in ("custom", "force area")
        or (a.kind == "local authority" and a.name in lads)
        or (a.kind == "ward" and a.parent in lads)
    ]
    chosen.sort(key=lambda a: (KIND_ORDER.index(a.kind), a.parent or "", a.name))
    return [
        {
            "value": areas_mod.reference(a),
            "group": KIND_LABELS[a.kind],
            "label": f"{a.name} ({a.parent})" if a.kind == "ward" else a.name,
        }
        for a in chosen
    ]


def month_choices(store: Store) -> list[str]:
    """Every month with street-level crime stored, newest first ('YYYY-MM')."""
    months = q.months_with_data(store, dt.date(1900, 1, 1), dt.date(2999, 12, 1))
    return [f"{m:%Y-%m}" for m in reversed(months)]


def _ym(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def summary(store: Store, area_name: str, month: str) -> dict[str, Any]:
    """An area's month for the dashboard, as figures and sentences.

    ``sentences``: the month's count and the same month a year before (exact test for two
    Poisson counts); the rate per 1,000 residents over the 12 months to ``month`` with its
    95% interval and population year, and the monthly trend over them
    (:func:`figures.area_summary`: no rate for a polygon area). ``types``: the month's
    largest crime types with their shares and bases.
    """
    when = parse_month(month, "month")
    if when not in q.months_with_data(store, when, when):
        raise DataMissingError(f"month {month}: no street-level crime stored for it")
    area = areas_mod.resolve(store, area_name)
    ref = areas_mod.reference(area)
    twelve = figures.area_summary(store, ref, to=month)
    by_type = figures.area_stats(store, ref, month, month, by="crime-type")
    assert isinstance(by_type, list)
    total = int(sum(r["count"] for r in by_type))
    label = f"{when:%B %Y}"
    noun = "crimes and anti-social behaviour incidents"
    sentences = [f"{label}: {total:,} {noun} recorded (police.uk street-level data)."]
    year_before = months_back(when, 13)[0]
    if year_before in q.months_with_data(store, year_before, year_before):
        change = compare_counts(q.crime_total(store, area, year_before, year_before), total)
        sentences.append(f"Against {year_before:%B %Y}: {describe_change(change, noun)}.")
    else:
        sentences.append(
            f"{year_before:%B %Y} is not stored, so there is no year-before comparison."
        )
    missing = twelve["months_missing"]
    span = (
        f"the 12 months to {label}"
        if not missing
        else (
            f"the {twelve['months']} stored months of the 12 to {label} (not stored: {', '.join(missing)})"
        )
    )
    per = (
        ""
        if twelve["population"] is None
        else (f", using the ONS mid-{twelve['population_year']} population estimate")
    )
    pace = twelve.get("rate_per_1000_per_year")
    yearly = (
        f"; about {pace:,.1f} per 1,000 residents a year at that pace"
        if missing and pace is not None
        else ""
    )
    sentences.append(
        f"Over {span}: {twelve['count']:,} recorded, {twelve['rate_text']}{per}{yearly}."
    )
    sentences.append(f"Monthly trend over those months: {twelve['trend_text']}.")
    types = [
        {
            "crime_type": r["crime_type"],
            "count": int(r["count"]),
            "share": describe_share(share(int(r["count"]), total)),
        }
        for r in by_type[:TOP_TYPES]
    ]
    chart = trend(store, ref, month)
    alt = update_charts.trend_alt(area.name, chart["months"], _series(chart))
    return {
        "area": area.name,
        "reference": ref,
        "kind": area.kind,
        "month": month,
        "month_label": label,
        "total": total,
        "sentences": sentences,
        "types": types,
        "types_shown": len(types),
        "types_all": len(by_type),
        "trend": chart,
        "trend_alt": alt,
    }


def trend(store: Store, area_name: str, month: str, n: int = TREND_MONTHS) -> dict[str, Any]:
    """Monthly counts of the ``n`` months to ``month``: None for a month not stored."""
    when = parse_month(month, "month")
    area = areas_mod.resolve(store, area_name)
    months = months_back(when, n)
    stored = set(q.months_with_data(store, months[0], when))
    counts = q.crime_counts(store, area, months[0], when, by=["month"])
    by_month = {m: int(c) for m, c in counts.iter_rows()}
    return {
        "area": area.name,
        "months": [_ym(m) for m in months],
        "counts": [by_month.get(m, 0) if m in stored else None for m in months],
    }


def _series(t: dict[str, Any]) -> list[update_charts.Series]:
    return [update_charts.Series("All crime and ASB", tuple(t["counts"]))]


def trend_png(store: Store, area_name: str, month: str) -> tuple[bytes, str]:
    """The 13-month trend as a PNG line chart, and its alt text (which gives the numbers)."""
    t = trend(store, area_name, month)
    series = _series(t)
    title = f"{t['area']}: crime and ASB recorded each month"
    png = update_charts.ward_trend_chart(t["area"], t["months"], series, title=title)
    return png, update_charts.trend_alt(t["area"], t["months"], series)
