"""A long-run series for an area (``beatbook trend``, the brief's ``--since``): yearly counts,
rates per 1,000 and shares of crime, the population year of each year, the months stored,
police.uk's category breaks, and the change in share from the first full year to the last.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from beatbook import areas as areas_mod
from beatbook import populations as pops
from beatbook import queries as q
from beatbook.errors import DataMissingError, InputError
from beatbook.figures.stats import period
from beatbook.months import month_range
from beatbook.reference import ASB, MEASURE_UNITS, category_breaks, check_measure, measure_of
from beatbook.settings import DEFAULT_MEASURE
from beatbook.stats import compare_shares
from beatbook.stats.long_run import Year, describe_share_change, monthly_split, years_of
from beatbook.stats.shares import share_changes_by_category
from beatbook.store import Store


def long_run(
    store: Store,
    area_name: str,
    from_: str,
    to: str,
    *,
    crime_type: str | None = None,
    measure: str = DEFAULT_MEASURE,
) -> dict[str, Any]:
    """The area's series by calendar year, months ``from_`` to ``to``.

    Crime and anti-social behaviour are counted apart (counting rules). With ``crime_type``,
    its count, rate and share of crime each year and the test of its share's change; without,
    crime (or ASB with ``measure='asb'``) with every crime type's share and each type's share
    change, Holm-adjusted across the types.
    """
    check_measure(measure)
    if crime_type is not None:
        if crime_type not in q.crime_types(store):
            known = ", ".join(q.crime_types(store))
            raise InputError(f"--crime-type {crime_type!r}: expected one of {known}")
        measure = measure_of([crime_type])
    start, end = period(from_, to, store)
    area = areas_mod.resolve(store, area_name)
    forces = q.forces_of(store, area, start, end)
    stored = q.months_with_data(store, start, end, forces)
    if not stored:
        raise DataMissingError(f"no street data stored for {area.name} from {from_} to {to}")
    counts = q.crime_counts(store, area, start, end, by=["month", "crime_type"], months=stored)
    years = years_of(month_range(start, end), stored)
    crimes = counts.filter(pl.col("crime_type") != ASB)
    rows = [_year(store, area, y, counts, crime_type, measure) for y in years]
    full = [y for y in years if y.complete]
    change: dict[str, Any] | list[dict[str, Any]] | None = None
    why_no_change = None
    if measure == "asb":
        why_no_change = "anti-social behaviour is not a share of crime"
    elif len(full) < 2:
        why_no_change = f"fewer than two full years stored ({len(full)})"
    elif crime_type is not None:
        change = _type_change(crimes, crime_type, full[0], full[-1])
    else:
        change = _every_type_change(crimes, full[0], full[-1])
    return {
        "area": area.name,
        "from": f"{start:%Y-%m}",
        "to": f"{end:%Y-%m}",
        "crime_type": crime_type or "all",
        "measure": measure,
        "unit": MEASURE_UNITS[measure],
        "forces": forces,
        "years": rows,
        "breaks": _breaks(start, end, crime_type),
        "change": change,
        "change_unavailable": why_no_change,
        "first_full_year": full[0].year if full else None,
        "last_full_year": full[-1].year if full else None,
    }


def long_run_section(store: Store, area_name: str, since: int, last: dt.date) -> dict[str, Any]:
    """The brief's long-run section: ``beatbook trend``'s series of crime by year from
    January of ``since`` to the brief's last month stored, every type's share change from
    the first full year to the last, and police.uk's category breaks between."""
    if since >= last.year:
        raise InputError(f"--since {since}: expected a year before the brief's year, {last.year}")
    series = long_run(store, area_name, f"{since}-01", f"{last:%Y-%m}")
    return {**series, "since": since, "change_text": share_changes_text(series)}


def share_changes_text(series: dict[str, Any]) -> str:
    """The series' change in share of crime, first full year to last, in one sentence (or why
    there is none): what ``beatbook trend`` prints and the brief's long-run section says."""
    change = series["change"]
    if isinstance(change, dict):
        return str(change["text"])
    if isinstance(change, list):
        moved = [c for c in change if c["significant"]]
        found = "; ".join(
            f"{c['crime_type']} {c['direction']} {c['share_before'] * 100:.1f}% → "
            f"{c['share_after'] * 100:.1f}%"
            for c in moved
        )
        return (
            f"Shares of crime, {series['first_full_year']} against {series['last_full_year']} "
            f"(Holm-adjusted across {len(change)} crime types): "
            + (found or "no clear change in any type")
            + "."
        )
    return f"No change in share is tested: {series['change_unavailable']}."


def _year(
    store: Store, area: Any, y: Year, counts: pl.DataFrame, crime_type: str | None, measure: str
) -> dict[str, Any]:
    """One year's row: counts over its stored months; a rate only for a full year."""
    mine = counts.filter(pl.col("month").is_in(list(y.months_stored)))
    by_type = {
        str(t): int(n)
        for t, n in mine.group_by("crime_type").agg(pl.col("count").sum()).iter_rows()
    }
    crime_total = sum(n for t, n in by_type.items() if t != ASB)
    asb = by_type.get(ASB, 0)
    count = by_type.get(crime_type, 0) if crime_type else (asb if measure == "asb" else crime_total)
    if not y.months_stored:  # no data is not zero crimes
        return {
            "year": y.year,
            "months_stored": 0,
            "months_missing": y.months_missing,
            "complete": False,
            "count": None,
            "asb_incidents": None,
            "share": None,
            "share_base": None,
            "population": None,
            "population_year": None,
            "rate_per_1000": None,
            "rate_unavailable": "no month of the year stored",
        }
    row: dict[str, Any] = {
        "year": y.year,
        "months_stored": len(y.months_stored),
        "months_missing": y.months_missing,
        "complete": y.complete,
        "count": count,
        "asb_incidents": asb if measure == "crime" and crime_type is None else None,
        "share": None,
        "share_base": crime_total if measure == "crime" else None,
    }
    if measure == "crime" and crime_total:
        if crime_type:
            row["share"] = count / crime_total
        else:
            row["types"] = {t: by_type[t] for t in sorted(by_type) if t != ASB}
    row.update(_rate(store, area, y, count))
    return row


def _rate(store: Store, area: Any, y: Year, count: int) -> dict[str, Any]:
    """The year's rate per 1,000 on the estimate nearest mid-year, or why there is none."""
    first, last = dt.date(y.year, 1, 1), dt.date(y.year, 12, 1)
    out: dict[str, Any] = {"population": None, "population_year": None, "rate_per_1000": None}
    try:
        residents = pops.population(store, area, pops.nearest_population_year(store, first, last))
    except DataMissingError as exc:
        return {**out, "rate_unavailable": str(exc)}
    out.update(population=residents.population, population_year=residents.year)
    if not y.complete:
        return {**out, "rate_unavailable": f"{len(y.months_stored)} of 12 months stored"}
    return {**out, "rate_per_1000": count / residents.population * 1000}


def _monthly_by_type(crimes: pl.DataFrame, y: Year) -> pl.DataFrame:
    return crimes.filter(pl.col("month").is_in(list(y.months_stored)))


def _type_change(crimes: pl.DataFrame, crime_type: str, first: Year, last: Year) -> dict[str, Any]:
    """The type's share of crime, first full year against last, allowing for over-dispersion
    in the monthly splits (:func:`beatbook.stats.compare_shares`)."""
    splits = []
    for y in (first, last):
        mine = _monthly_by_type(crimes, y)
        bases = dict(mine.group_by("month").agg(pl.col("count").sum()).iter_rows())
        parts = dict(
            mine.filter(pl.col("crime_type") == crime_type).select("month", "count").iter_rows()
        )
        splits.append(monthly_split(parts, bases, y.months_stored))
    totals = [(sum(p for p, _ in s.values()), sum(b for _, b in s.values())) for s in splits]
    result = compare_shares(
        *totals[0], *totals[1], monthly_before=splits[0], monthly_after=splits[1]
    )
    return {
        "first_year": first.year,
        "last_year": last.year,
        **result.to_dict(),
        "text": describe_share_change(result, crime_type, first.year, last.year),
    }


def _every_type_change(crimes: pl.DataFrame, first: Year, last: Year) -> list[dict[str, Any]]:
    """Each crime type's share, first full year against last, Holm-adjusted across the types."""
    before, after = _monthly_by_type(crimes, first), _monthly_by_type(crimes, last)
    frame = (
        before.group_by("crime_type")
        .agg(pl.col("count").sum().alias("count_before"))
        .join(
            after.group_by("crime_type").agg(pl.col("count").sum().alias("count_after")),
            on="crime_type",
            how="full",
            coalesce=True,
        )
        .fill_null(0)
        .rename({"crime_type": "category"})
        .sort("category")
    )
    table = share_changes_by_category(
        frame,
        monthly=pl.concat([before, after]).rename({"crime_type": "category"}),
        months_before=list(first.months_stored),
        months_after=list(last.months_stored),
        family="crime types",
    )
    return [
        {"first_year": first.year, "last_year": last.year, "crime_type": r["category"], **r}
        for r in table.to_dicts()
    ]


def _breaks(start: dt.date, end: dt.date, crime_type: str | None) -> list[dict[str, Any]]:
    """police.uk's category changes after the first month and up to the last: the series is
    not comparable across them (for a type, those that touch it)."""
    found = []
    for b in category_breaks():
        month = dt.date(int(b.month[:4]), int(b.month[5:]), 1)
        if not start < month <= end:
            continue
        if crime_type and crime_type != b.before and crime_type not in b.after:
            continue
        found.append({"month": b.month, "before": b.before, "after": list(b.after), "note": b.note})
    return found
