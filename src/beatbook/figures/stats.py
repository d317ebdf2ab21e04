"""Publishable figures: store queries combined with the statistics, as plain records.

Each function here is what one CLI command (and later the web app) reports.
The records use stable field names (documented in docs/cli.md) so that
``--json`` output can be relied on by scripts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from beatbook import areas as areas_mod
from beatbook import populations as pops
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.errors import DataMissingError, InputError
from beatbook.figures.peers import select_peers
from beatbook.months import CALENDAR, month_range, parse_month
from beatbook.reference import MEASURE_UNITS, check_measure, measure_of
from beatbook.settings import (
    DEFAULT_MEASURE,
    FIRST_DAY,
)
from beatbook.stats import (
    changes_by_category,
    claim_every_category,
    compare_areas_by_category,
    rank_rates,
    rate,
    share,
)
from beatbook.stats.trend import MIN_SEASONAL_MONTHS, seasonal_trend
from beatbook.store import Store


def period(from_: str, to: str, store: Store | None = None) -> tuple[dt.date, dt.date]:
    """The months ``from_`` to ``to``; with ``store``, ``to`` within the stored data's months
    and settings.MONTHS_AFTER_DATA after them (:func:`beatbook.months.check_month`). A
    ``from_`` before the data is allowed (its months are listed as missing; a resident's
    twelve months may start before the first month stored), but not before
    settings.FIRST_DAY."""
    stored = None if store is None else q.months_with_data(store, *CALENDAR)
    start, end = parse_month(from_, "--from"), parse_month(to, "--to", stored)
    if start < FIRST_DAY:
        raise InputError(f"--from {from_!r}: expected a month from {FIRST_DAY:%Y-%m} on")
    month_range(start, end)
    return start, end


def _population(
    store: Store, area: Area, start: dt.date, end: dt.date, year: int | None
) -> pops.Population:
    return pops.population(store, area, year or pops.nearest_population_year(store, start, end))


POLYGON_NO_RATE = "no rate: BeatBook has no resident count for an area drawn as a polygon"


def _population_or_reason(
    store: Store, area: Area, start: dt.date, end: dt.date, year: int | None
) -> tuple[pops.Population | None, str | None]:
    """The area's residents, or None and why not: a polygon has no resident count, and a
    store of police.uk files alone has no population or ONS lookup (counts still work)."""
    if area.polygon_wkt:
        return None, POLYGON_NO_RATE
    try:
        return _population(store, area, start, end, year), None
    except DataMissingError as exc:
        return None, f"no rate: {exc}"


def force_area_counts(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    crime_types: list[str] | None = None,
    *,
    measure: str | None = None,
    months: list[dt.date] | None = None,
) -> dict[str | None, dict[str, int | None]]:
    """Of a force area's counted crimes: ``unlocated`` (police.uk 'No Location' rows: no
    LSOA) and ``outside_force_districts`` (located in districts the force does not police),
    in all (key None) and by crime type. Both None for any other area, and the second for
    a force whose districts are unknown."""
    none: dict[str, int | None] = {"unlocated": None, "outside_force_districts": None}
    if not area.force:
        return {None: none}
    rows = q.crime_counts(
        store,
        area,
        start,
        end,
        by=["crime_type", "local_authority", "lsoa_code"],
        crime_types=crime_types,
        measure=measure,
        months=months,
    )
    districts = sorted(area.local_authorities)
    rows = rows.with_columns(
        pl.col("lsoa_code").is_null().alias("unlocated"),
        (
            pl.col("lsoa_code").is_not_null()
            & ~pl.col("local_authority").is_in(districts).fill_null(False)
        ).alias("outside"),
    )

    def counts(part: pl.DataFrame) -> dict[str, int | None]:
        outside = int(part.filter("outside")["count"].sum())
        return {
            "unlocated": int(part.filter("unlocated")["count"].sum()),
            "outside_force_districts": outside if districts else None,
        }

    result: dict[str | None, dict[str, int | None]] = {None: counts(rows)}
    for (crime_type,), part in rows.group_by(["crime_type"]):
        result[str(crime_type)] = counts(part)
    return result


def _rate_fields(count: int, pop: pops.Population | None, months: int) -> dict[str, Any]:
    """Rate per 1,000 residents over the period, and the same per year when months < 12.

    A polygon area has no resident count (``pop`` is None): its count comes without a rate.
    """
    if pop is None:
        no_rate = ("population", "population_year", "population_lsoas", "rate_per_1000")
        return {"count": count, **dict.fromkeys(no_rate), "ci_low": None, "ci_high": None}
    r = rate(count, pop.population)
    fields = {
        "count": count,
        **pop.to_dict(),
        "rate_per_1000": r.rate,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "conf": r.conf,
    }
    if months != 12:
        fields["rate_per_1000_per_year"] = r.rate * 12 / months
    return fields


def area_stats(
    store: Store,
    area_name: str,
    from_: str,
    to: str,
    *,
    by: str | None = None,
    population_year: int | None = None,
    measure: str = DEFAULT_MEASURE,
) -> dict[str, Any] | list[dict[str, Any]]:
    """Count, rate (exact Poisson CI), trend and, ``by='crime-type'``, shares of an area.

    ``measure`` 'crime' counts crimes (ASB excluded; the record gives ``asb_incidents``
    apart) and 'asb' anti-social behaviour incidents: never the two added together."""
    check_measure(measure)
    start, end = period(from_, to, store)
    area = areas_mod.resolve(store, area_name)
    forces = q.forces_of(store, area, start, end)
    coverage = q.period_coverage(store, start, end, forces)
    # Only the months every force of the area published: a month one of them has not
    # published would count part of the area as nothing.
    used = [parse_month(m, "month") for m in coverage["months_used"]]
    pop, no_rate = _population_or_reason(store, area, start, end, population_year)
    base = {
        "area": area.name,
        "area_kind": area.kind,
        "from": f"{start:%Y-%m}",
        "to": f"{end:%Y-%m}",
        **coverage,
        "rate_unavailable": no_rate,
        "repeats_folded": q.repeats_folded(store, area, start, end, measure=measure, months=used),
        **_measure_fields(store, area, start, end, measure, used),
    }
    extra = force_area_counts(store, area, start, end, measure=measure, months=used)
    if by is None:
        total = q.crime_total(store, area, start, end, measure=measure, months=used)
        record = {**base, **_rate_fields(total, pop, coverage["months"]), **extra[None]}
        record.update(_trend_fields(store, area, start, end, forces=forces, measure=measure))
        return record
    if by != "crime-type":
        raise InputError(f"--by {by!r}: expected 'crime-type'")
    counts = q.crime_counts(
        store, area, start, end, by=["crime_type"], measure=measure, months=used
    )
    # A force area's type with no such crimes has 0 of them; any other area has no figure.
    none_of_type = {k: None if v is None else 0 for k, v in extra[None].items()}
    total = int(counts["count"].sum())
    records = []
    for crime_type, count in counts.sort("count", descending=True).iter_rows():
        s = share(int(count), total)
        records.append(
            {
                **base,
                "crime_type": crime_type,
                **_rate_fields(int(count), pop, coverage["months"]),
                **extra.get(crime_type, none_of_type),
                "share": s.share,
                "share_base": total,
                "share_ci_low": s.ci_low,
                "share_ci_high": s.ci_high,
            }
        )
    return records


def _measure_fields(
    store: Store, area: Area, start: dt.date, end: dt.date, measure: str, months: list[dt.date]
) -> dict[str, Any]:
    """What a record counts (``measure``, ``unit``) and, for crime, the area's ASB
    incidents in the same months, reported apart (not part of any crime figure)."""
    fields: dict[str, Any] = {"measure": measure, "unit": MEASURE_UNITS[measure]}
    if measure == "crime":
        fields["asb_incidents"] = q.crime_total(
            store, area, start, end, measure="asb", months=months
        )
    return fields


def _trend_fields(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    *,
    forces: list[str] | None = None,
    measure: str | None = None,
) -> dict[str, Any]:
    """The trend over the months with data, fitted with month-of-year effects, or None and
    why: with fewer than 24 months a slope is mostly the seasons (and one-off shocks such as
    the 2020 lockdowns), not a trend."""
    present = q.months_with_data(store, start, end, forces)
    if len(present) < MIN_SEASONAL_MONTHS:
        return {
            "trend": None,
            "trend_unavailable": (
                f"no trend: {len(present)} months with data, and a trend needs at least "
                f"{MIN_SEASONAL_MONTHS}, fitted with month-of-year effects (over fewer, the "
                "seasons would pass for a trend); compare the same months of two years instead"
            ),
        }
    monthly = q.crime_counts(store, area, start, end, by=["month"], measure=measure)
    by_month = dict(monthly.iter_rows())
    t = seasonal_trend([int(by_month.get(m, 0)) for m in present], present)
    return {"trend": t.to_dict(), "trend_unavailable": None}


def default_comparison(store: Store, area: Area) -> str:
    """What an area is compared with by default: the rest of the force area that contains it.

    For 'A excluding B' that is B (the county against the city it leaves out).
    """
    if area.excluded:
        return area.excluded
    if area.kind == "force area":
        raise InputError(f"{area.name!r} is a whole force area: give --against")
    for force_area in areas_mod.list_areas(store):
        if force_area.kind != "force area":
            continue
        inside = area.local_authorities and area.local_authorities < force_area.local_authorities
        if inside or (area.lsoa_codes and area.lsoa_codes <= areas_mod.lsoas_of(store, force_area)):
            return f"{force_area.name} excluding {areas_mod.reference(area)}"
    raise InputError(f"no force area contains {area.name!r}: give --against")


def compare_areas(
    store: Store,
    area_name: str,
    against: str | None,
    from_: str,
    to: str,
    before_from: str | None = None,
    before_to: str | None = None,
    *,
    measure: str = DEFAULT_MEASURE,
) -> dict[str, Any]:
    """Area vs another area, crime type by crime type, on rates over the same months.

    ``measure`` 'crime': the crime types, one family of tests (Holm), and anti-social
    behaviour apart in ``asb`` (its own test, not in the family); 'asb': ASB alone."""
    check_measure(measure)
    start, end = period(from_, to, store)
    area = areas_mod.resolve(store, area_name)
    other = areas_mod.resolve(store, against or default_comparison(store, area))
    forces = sorted({*q.forces_of(store, area, start, end), *q.forces_of(store, other, start, end)})
    coverage = q.period_coverage(store, start, end, forces)
    year = pops.nearest_population_year(store, start, end)
    pop_a, pop_b = pops.population(store, area, year), pops.population(store, other, year)
    used = q.months_with_data(store, start, end, forces)

    def by_category(which: str) -> list[dict[str, Any]]:
        monthly = (
            _by_type_and_month(store, area, start, end, used, "count_a", which)
            .join(
                _by_type_and_month(store, other, start, end, used, "count_b", which),
                on=["category", "month"],
                how="full",
                coalesce=True,
            )
            .fill_null(0)
        )
        frame = monthly.group_by("category").agg(pl.col("count_a", "count_b").sum())
        compared = compare_areas_by_category(
            frame.sort("category"), pop_a.population, pop_b.population, monthly=monthly, months=used
        )
        return compared.rename({"category": "crime_type"}).to_dicts()

    result: dict[str, Any] = {
        "area": area.name,
        "against": other.name,
        "from": f"{start:%Y-%m}",
        "to": f"{end:%Y-%m}",
        **coverage,
        "measure": measure,
        "unit": MEASURE_UNITS[measure],
        "population_year": year,
        "population_area": pop_a.population,
        "population_against": pop_b.population,
        "categories": by_category(measure),
    }
    if measure == "crime":
        asb = by_category("asb")
        result["asb"] = asb[0] if asb else None
    if (before_from is None) != (before_to is None):
        raise InputError("give both --before-from and --before-to, or neither")
    if before_from and before_to:
        b_start, b_end = period(before_from, before_to, store)
        result["before"] = {
            "from": f"{b_start:%Y-%m}",
            "to": f"{b_end:%Y-%m}",
            **q.period_coverage(store, b_start, b_end, forces),
        }
        result["changes"] = {}
        result["claims"] = {}
        for key, which in (("area", area), ("against", other)):
            changes = category_changes(
                store, which, (b_start, b_end), (start, end), measure=measure
            )
            result["changes"][key] = changes.rename({"category": "crime_type"}).to_dicts()
            result["claims"][f"{key}_rising_in_every_category"] = claim_every_category(
                changes, "rise"
            )
            result["claims"][f"{key}_falling_in_every_category"] = claim_every_category(
                changes, "fall"
            )
            if measure == "crime":  # ASB's own change, apart from the crime family
                apart = category_changes(
                    store, which, (b_start, b_end), (start, end), measure="asb"
                ).rename({"category": "crime_type"})
                result.setdefault("asb_changes", {})[key] = (
                    apart.to_dicts()[0] if apart.height else None
                )
    return result


def _by_type_and_month(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    months: list[dt.date],
    name: str,
    measure: str,
) -> pl.DataFrame:
    """Counts by crime type and month (``category``, ``month``, ``name``) in these months
    only: the monthly series the change tests estimate over-dispersion from."""
    counts = q.crime_counts(store, area, start, end, by=["crime_type", "month"], measure=measure)
    counts = counts.filter(pl.col("month").is_in(months))
    return counts.rename({"crime_type": "category", "count": name})


def category_changes(
    store: Store,
    area: Area,
    before: tuple[dt.date, dt.date],
    after: tuple[dt.date, dt.date],
    *,
    measure: str = DEFAULT_MEASURE,
) -> pl.DataFrame:
    """Per crime type of ``measure``: count before vs after, exposure = months with data x
    residents (one family of tests: the crime types, or ASB alone).

    Both periods use the same residents (the estimate nearest the later period, as the
    brief does): estimates years apart would turn population drift into a spurious change.
    """
    pop = pops.population(store, area, pops.nearest_population_year(store, *after)).population
    rows = []
    forces = q.forces_of(store, area, *after)
    used: dict[str, list[dt.date]] = {}
    monthly = []
    for (start, end), suffix in ((before, "before"), (after, "after")):
        used[suffix] = q.months_with_data(store, start, end, forces)
        months = len(used[suffix])
        by_month = _by_type_and_month(store, area, start, end, used[suffix], "count", measure)
        monthly.append(by_month)
        rows.append(
            by_month.group_by("category")
            .agg(pl.col("count").sum().alias(f"count_{suffix}"))
            .with_columns(pl.lit(months * pop).alias(f"exposure_{suffix}"))
        )
    frame = rows[0].join(rows[1], on="category", how="full", coalesce=True).sort("category")
    frame = frame.with_columns(
        pl.col("count_before").fill_null(0),
        pl.col("count_after").fill_null(0),
        pl.col("exposure_before").fill_null(strategy="max"),
        pl.col("exposure_after").fill_null(strategy="max"),
    )
    return changes_by_category(
        frame,
        monthly=pl.concat(monthly),
        months_before=used["before"],
        months_after=used["after"],
    )


def rank_area(
    store: Store,
    area_name: str,
    from_: str,
    to: str,
    *,
    peers: str = "local-authorities",
    scope: str = "force",
    crime_types: list[str] | None = None,
    seed: int = 0,
    measure: str = DEFAULT_MEASURE,
    months: list[dt.date] | None = None,
    population_year: int | None = None,
) -> dict[str, Any]:
    """Rank an area among its peers on rate, with a simulated rank interval.

    ``peers`` and ``scope`` choose the peers (:func:`beatbook.figures.peers.select_peers`):
    a national rank (``scope='national'``, or force areas) uses the months any force
    published, and leaves out, naming them, the peers whose force lacks one of them.
    ``months`` (the brief's matched months), when given, replaces the months used;
    ``population_year``, when given, replaces the estimate nearest the period.

    ``measure`` 'crime' ranks on crimes (ASB excluded), 'asb' on anti-social behaviour;
    ``crime_types`` limits the count to those types (ASB alone, or crime types only).
    """
    check_measure(measure)
    if crime_types:
        measure = measure_of(crime_types)
    start, end = period(from_, to, store)
    area = areas_mod.resolve(store, area_name)
    national = scope == "national" or peers == "force-areas"
    forces = None if national else q.forces_of(store, area, start, end)
    coverage = q.period_coverage(store, start, end, forces)
    year = population_year or pops.nearest_population_year(store, start, end)
    known = q.crime_types(store)
    for crime_type in crime_types or []:
        if crime_type not in known:
            raise InputError(f"--crime-type {crime_type!r}: expected one of " + ", ".join(known))
    used = q.months_with_data(store, start, end, forces)
    if months is not None:  # exactly the caller's months (the brief's, same in every figure)
        used = sorted(months)
        coverage = {**coverage, "months": len(used), "months_used": [f"{m:%Y-%m}" for m in used]}
    chosen = select_peers(
        store,
        area,
        peers,
        scope,
        start,
        end,
        used,
        year,
        crime_types=crime_types,
        measure=measure,
    )
    # Each peer's count in each month used: the rank interval allows for its over-dispersion.
    cnts = [sum(row) for row in chosen.monthly]
    table = rank_rates(chosen.names, cnts, chosen.populations, seed=seed, monthly=chosen.monthly)
    focus = table.filter(pl.col("name") == chosen.focus).to_dicts() if chosen.focus else []
    return {
        "area": area.name,
        "from": f"{start:%Y-%m}",
        "to": f"{end:%Y-%m}",
        **coverage,
        "measure": measure,
        "unit": MEASURE_UNITS[measure],
        "crime_types": crime_types or "all",
        "peers": chosen.label,
        "scope": chosen.scope,
        "n_peers": len(chosen.names),
        "population_year": chosen.year,
        "seed": seed,
        "method": table["method"][0],
        "rank": focus[0] if focus else None,
        "focus": chosen.focus,
        "table": table.to_dicts(),
        "left_out": chosen.left_out,
    }
