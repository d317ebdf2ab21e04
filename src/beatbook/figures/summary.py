"""An area's latest figures for residents and the team's desk: crimes and, apart,
anti-social behaviour, each with its rate and its change against the same months a year
before. The public stats page, the JSON API and the dashboard all read them from here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.errors import DataMissingError
from beatbook.figures.stats import area_stats
from beatbook.months import CALENDAR, add_months, parse_month
from beatbook.reference import MEASURE_UNITS, check_measure
from beatbook.settings import SUMMARY_MONTHS, SUMMARY_MONTHS_RANGE
from beatbook.stats import compare_monthly_counts, describe_change, describe_rate, rate
from beatbook.store import Store


def latest_period(
    store: Store, to: str | None = None, months: int = SUMMARY_MONTHS
) -> tuple[dt.date, dt.date]:
    """The ``months`` calendar months ending with ``to`` (YYYY-MM), by default with the latest
    month of street-level data stored."""
    SUMMARY_MONTHS_RANGE.check(months, "months")
    if to:
        end = parse_month(to, "to", q.months_with_data(store, *CALENDAR))
    else:
        stored = q.months_with_data(store, dt.date(1900, 1, 1), dt.date(9999, 12, 1))
        if not stored:
            raise DataMissingError("no street-level crime data stored: run 'beatbook ingest'")
        end = stored[-1]
    return add_months(end, 1 - months), end


def area_summary(
    store: Store, area_name: str, *, to: str | None = None, months: int = SUMMARY_MONTHS
) -> dict[str, Any]:
    """An area's figures for residents over :func:`latest_period`: its crimes (ASB
    excluded; :func:`area_stats`) and, apart in ``asb``, its anti-social behaviour
    incidents, each with the rate (``rate_text``) and the change against the same months a
    year before (``change_text``, ``change``) in words: a rise or fall only when the test,
    which allows for over-dispersion, says so."""
    start, end = latest_period(store, to, months)
    span = (f"{start:%Y-%m}", f"{end:%Y-%m}")
    record = area_stats(store, area_name, *span, measure="crime")
    asb = area_stats(store, area_name, *span, measure="asb")
    assert isinstance(record, dict) and isinstance(asb, dict)
    area = areas_mod.resolve(store, area_name)
    used = [parse_month(m, "month") for m in record["months_used"]]
    for part in (record, asb):
        if part["population"]:
            part["rate_text"] = describe_rate(rate(part["count"], part["population"]))
        else:
            part["rate_text"] = part["rate_unavailable"]
        change = year_before_change(store, area, used, part["measure"], record.get("forces"))
        part["change"] = None if change is None else change["change"]
        part["change_text"] = _change_text(change, part["unit"])
    record["asb"] = {
        key: asb[key]
        for key in (
            "measure",
            "unit",
            "count",
            "rate_per_1000",
            "ci_low",
            "ci_high",
            "rate_text",
            "change",
            "change_text",
        )
    }
    return record


def year_before_change(
    store: Store,
    area: Area,
    months: list[dt.date],
    measure: str,
    forces: list[str] | None = None,
) -> dict[str, Any] | None:
    """The area's count in ``months`` against the same calendar months a year before,
    over the months stored (for every force of the area) in both years, tested on the
    monthly counts allowing for over-dispersion; None when no month pairs up.

    Returns ``change`` (the test's record), ``months_compared`` and ``months_before``."""
    stored = set(q.months_with_data(store, add_months(min(months), -12), max(months), forces))
    pairs = [m for m in months if m in stored and add_months(m, -12) in stored]
    if not pairs:
        return None
    before = [add_months(m, -12) for m in pairs]
    counts = q.crime_counts(
        store, area, before[0], pairs[-1], by=["month"], measure=check_measure(measure)
    )
    by_month = {m: int(n) for m, n in counts.iter_rows()}
    change = compare_monthly_counts(
        {m: by_month.get(m, 0) for m in before}, {m: by_month.get(m, 0) for m in pairs}
    )
    return {
        "change": change.to_dict(),
        "months_compared": [f"{m:%Y-%m}" for m in pairs],
        "months_before": [f"{m:%Y-%m}" for m in before],
        "text": describe_change(change, MEASURE_UNITS[measure]),
    }


def _change_text(change: dict[str, Any] | None, unit: str) -> str:
    if change is None:
        return f"no comparison: the same months a year before are not stored ({unit})"
    compared = change["months_compared"]
    if len(compared) == 1:
        months = f"{parse_month(compared[0], 'month'):%B %Y}"
    else:
        months = f"the {len(compared)} months {compared[0]} to {compared[-1]}"
    return f"{change['text']}, {months} against the same months a year before"
