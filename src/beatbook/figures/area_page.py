"""An area's crime figures as residents read them on ``/stats/{area}``: crime by crime type
and, apart, anti-social behaviour, each set against the rest of the area's district and the
rest of its force area, in plain words with the figures beside them.

The figures are :func:`beatbook.figures.summary.area_summary` (count, rate, change on the year
before) and :func:`beatbook.figures.stats.compare_areas` (rates by crime type against another
area over the same months, tested allowing for month-to-month variation, with the bar raised
for comparing many crime types at once). This module only chooses what to compare with and
words the results: "clearly higher", "a clear rise", "no clear difference". Never a p-value,
an interval's name or a test's name: residents get the words and the numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.figures import summary
from beatbook.figures.stats import compare_areas
from beatbook.months import parse_month
from beatbook.reference import force_of_district
from beatbook.stats.wording import describe_months
from beatbook.store import Store

__all__ = ["area_page", "comparisons_for"]

VERDICTS = {
    "higher": "clearly higher",
    "lower": "clearly lower",
}
NO_DIFFERENCE = "no clear difference"


def _district(store: Store, area: Area) -> str | None:
    """The one district (local authority) the area lies in, or None (a district itself, a
    force area, or an area across districts)."""
    if area.kind == "ward":
        return area.parent
    if area.kind in ("local authority", "force area") or area.excluded:
        return None
    found = {w.parent for w in areas_mod.wards_within(store, area)}
    if len(area.local_authorities) == 1:
        found |= set(area.local_authorities)
    return found.pop() if len(found) == 1 else None


def comparisons_for(store: Store, area: Area) -> list[dict[str, str]]:
    """What residents see the area against: the rest of its district, then the rest of its
    force area (each only where the area lies inside one). Records: key ('district' or
    'force'), name (the whole, e.g. 'Leicester') and against (an area name
    :func:`~beatbook.areas.resolve` knows: 'local authority:Leicester excluding E05010476')."""
    if area.kind == "force area":
        return []
    district = _district(store, area)
    mine = areas_mod.reference(area)
    found = []
    if district:
        found.append(
            {
                "key": "district",
                "name": district,
                "against": f"local authority:{district} excluding {mine}",
            }
        )
    if district:
        names = {district}
    elif area.kind == "local authority":
        names = {area.name}
    else:
        names = set(area.local_authorities) | {
            w.parent for w in areas_mod.wards_within(store, area) if w.parent
        }
    forces = {force_of_district(n) for n in names}
    force = forces.pop() if len(forces) == 1 else None
    whole = next(
        (
            a
            for a in areas_mod.list_areas(store)
            if a.kind == "force area" and force and a.force == force
        ),
        None,
    )
    if whole is not None:
        found.append(
            {
                "key": "force",
                "name": whole.name,
                "against": f"{areas_mod.reference(whole)} excluding {mine}",
            }
        )
    return found


def _per_year(rate_per_1000: float | None, months: int) -> float | None:
    """A rate per 1,000 residents over ``months`` months as a rate a year."""
    return None if rate_per_1000 is None or not months else rate_per_1000 * 12 / months


def _against(row: dict[str, Any] | None, months: int) -> dict[str, Any]:
    if row is None:
        return {"count": 0, "per_year": None, "words": NO_DIFFERENCE}
    verdict = row.get("verdict")
    return {
        "count": int(row["count_b"]),
        "per_year": _per_year(row.get("rate_b"), months),
        "words": VERDICTS.get(verdict or "", NO_DIFFERENCE),
    }


def change_words(change: dict[str, Any] | None, unit: str, compared: list[str]) -> str:
    """The change on the same months a year before, for residents: 'a clear rise: from 80 to
    120 crimes (up 50%), ...'; a rise or fall only when the test says so."""
    if change is None:
        return (
            "We cannot compare with the year before: the figures for the same months a year "
            "before are not available here."
        )
    before, after = change["count_before"], change["count_after"]
    if before == 0:
        return f"There were no {unit} in the same months a year before to compare with."
    direction = change["direction"]
    head = {"rise": "A clear rise", "fall": "A clear fall"}.get(direction, "No clear change")
    pct = change["pct_change"]
    span = _months_words(compared)
    year = "" if compared[0][:4] != compared[-1][:4] else f" {compared[-1][:4]}"
    return (
        f"{head}: from {before:,} to {after:,} {unit} "
        f"({'up' if pct >= 0 else 'down'} {abs(pct):.0f}%), {span}{year} against the same "
        "months a year before."
    )


def _rate_words(part: dict[str, Any], months: int) -> str | None:
    per_year = _per_year(part.get("rate_per_1000"), months)
    if per_year is None:
        return None
    return (
        f"about {per_year:,.1f} a year for every 1,000 residents "
        f"(likely between {_per_year(part['ci_low'], months):,.1f} and "
        f"{_per_year(part['ci_high'], months):,.1f})"
    )


def _months_words(months: list[str]) -> str:
    return describe_months([parse_month(m, "month") for m in months])


def area_page(store: Store, area_name: str, *, to: str | None = None) -> dict[str, Any]:
    """The ``/stats/{area}`` page's record: the :func:`summary.area_summary` record plus
    ``comparisons`` (see :func:`comparisons_for`; none for an area without residents),
    ``crime_types`` ([{crime_type, count, per_year, against: {key: {count, per_year,
    words}}}], largest count first), ``asb`` (the same fields, apart: never added to crime),
    ``months_words`` ('Jan–Sep'), ``rate_words`` and ``change_words`` (also in ``asb``).
    Rates are per 1,000 residents a year."""
    record = summary.area_summary(store, area_name, to=to)
    area = areas_mod.resolve(store, area_name)
    months = int(record["months"])
    used = [parse_month(m, "month") for m in record["months_used"]]
    comparisons = comparisons_for(store, area) if record["population"] else []
    compared = {
        c["key"]: compare_areas(store, area_name, c["against"], record["from"], record["to"])
        for c in comparisons
    }
    counts = (
        q.crime_counts(
            store, area, used[0], used[-1], by=["crime_type"], measure="crime", months=used
        )
        if used
        else None
    )
    population = record["population"]
    types = {
        crime_type: {
            "crime_type": crime_type,
            "count": int(n),
            "per_year": _per_year(n / population * 1000 if population else None, months),
            "against": {},
        }
        for crime_type, n in (counts.iter_rows() if counts is not None else [])
    }
    for key, result in compared.items():
        by_type = {row["crime_type"]: row for row in result["categories"]}
        for crime_type, entry in types.items():
            entry["against"][key] = _against(by_type.get(crime_type), months)
    record.update(
        comparisons=comparisons,
        crime_types=sorted(types.values(), key=lambda r: (-r["count"], r["crime_type"])),
        months_words=_months_words(record["months_used"]) if used else "",
        rate_words=_rate_words(record, months),
        change_words=_change_for(store, area, used, record.get("forces"), "crime"),
    )
    record["asb"].update(
        per_year=_per_year(record["asb"].get("rate_per_1000"), months),
        against={key: _against(result.get("asb"), months) for key, result in compared.items()},
        rate_words=_rate_words(record["asb"], months),
        change_words=_change_for(store, area, used, record.get("forces"), "asb"),
    )
    return record


def _change_for(
    store: Store, area: Area, used: list[dt.date], forces: list[str] | None, measure: str
) -> str:
    unit = "crimes" if measure == "crime" else "incidents of anti-social behaviour"
    change = summary.year_before_change(store, area, used, measure, forces) if used else None
    if change is None:
        return change_words(None, unit, [])
    return change_words(change["change"], unit, change["months_compared"])
