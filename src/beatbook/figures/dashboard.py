"""What the web desk's dashboard shows: the areas to choose from, an area's month in honest
sentences, and its 13-month trend.

Every number comes from the same functions as ``beatbook stats`` (:func:`area_stats`)
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
from beatbook.figures.stats import area_stats
from beatbook.figures.summary import area_summary, year_before_change
from beatbook.months import CALENDAR, add_months, months_back, parse_month
from beatbook.reference import MEASURE_UNITS
from beatbook.settings import TREND_MONTHS
from beatbook.stats import describe_share, share
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


def _words(month: str) -> str:
    """'2024-10' as 'Oct 2024'."""
    return f"{parse_month(month, 'month'):%b %Y}"


def _ym(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def summary(store: Store, area_name: str, month: str) -> dict[str, Any]:
    """An area's month for the dashboard, as figures and sentences.

    ``sentences``: the month's crimes and, apart, its anti-social behaviour incidents, each
    against the same month a year before; over the 12 months to ``month``, the crime rate
    per 1,000 residents with its 95% interval and population year, and both against the
    same months a year before (:func:`summary.area_summary`: no rate for a polygon area).
    ``types``: the month's largest crime types with their shares of crime and bases.
    """
    when = parse_month(month, "month", q.months_with_data(store, *CALENDAR))
    if when not in q.months_with_data(store, when, when):
        raise DataMissingError(f"month {month}: no street-level crime stored for it")
    area = areas_mod.resolve(store, area_name)
    ref = areas_mod.reference(area)
    twelve = area_summary(store, ref, to=month)
    by_type = area_stats(store, ref, month, month, by="crime-type")
    assert isinstance(by_type, list)
    total = int(sum(r["count"] for r in by_type))
    label = f"{when:%B %Y}"
    forces = twelve.get("forces")
    sentences = []
    asb = q.crime_total(store, area, when, when, measure="asb")
    for measure, count in (("crime", total), ("asb", asb)):
        unit = MEASURE_UNITS[measure]
        sentence = f"{label}: {count:,} {unit} recorded (police.uk street-level data)"
        change = year_before_change(store, area, [when], measure, forces)
        if change is None:
            sentence += f"; {add_months(when, -12):%B %Y} is not stored, so no comparison"
        else:
            sentence += f"; against {add_months(when, -12):%B %Y}: {change['text']}"
        sentences.append(sentence + ".")
    missing = twelve["months_missing"]
    span = (
        f"the 12 months to {label}"
        if not missing
        else (
            f"the {twelve['months']} stored months of the 12 to {label} "
            f"(not stored: {', '.join(_words(m) for m in missing)})"
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
        f"Over {span}: {twelve['count']:,} crimes recorded, {twelve['rate_text']}{per}{yearly}."
    )
    sentences.append(f"Crime over those months: {twelve['change_text']}.")
    sentences.append(f"Anti-social behaviour over those months: {twelve['asb']['change_text']}.")
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
    """Monthly crimes and, apart, ASB incidents of the ``n`` months to ``month``: None for a
    month not stored by every force of the area."""
    when = parse_month(month, "month", q.months_with_data(store, *CALENDAR))
    area = areas_mod.resolve(store, area_name)
    months = months_back(when, n)
    forces = q.forces_of(store, area, months[0], when)
    stored = set(q.months_with_data(store, months[0], when, forces or None))
    series: dict[str, Any] = {"area": area.name, "months": [_ym(m) for m in months]}
    for measure, key in (("crime", "counts"), ("asb", "asb_counts")):
        counts = q.crime_counts(store, area, months[0], when, by=["month"], measure=measure)
        by_month = {m: int(c) for m, c in counts.iter_rows()}
        series[key] = [by_month.get(m, 0) if m in stored else None for m in months]
    return series


def _series(t: dict[str, Any]) -> list[update_charts.Series]:
    return [
        update_charts.Series("Crimes", tuple(t["counts"])),
        update_charts.Series("Anti-social behaviour incidents", tuple(t["asb_counts"])),
    ]


def trend_png(store: Store, area_name: str, month: str) -> tuple[bytes, str]:
    """The 13-month trend as a PNG line chart, and its alt text (which gives the numbers)."""
    t = trend(store, area_name, month)
    series = _series(t)
    title = f"{t['area']}: crimes and anti-social behaviour recorded each month"
    png = update_charts.ward_trend_chart(t["area"], t["months"], series, title=title)
    return png, update_charts.trend_alt(t["area"], t["months"], series)
