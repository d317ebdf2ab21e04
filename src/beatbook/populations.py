"""Residents of an area: ONS mid-year estimates summed over its LSOAs, across LSOA vintages.

The read side of the ``population`` and ``lsoa_bridge`` tables behind every rate. An area
holds LSOA codes of 2011 and 2021; an estimate uses one vintage, so a code the estimate
lacks is bridged through the ONS lookup or the area is refused, never summed short
(docs/statistics.md, populations).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from beatbook.areas import Area, lsoas_of
from beatbook.errors import DataMissingError
from beatbook.months import months_between
from beatbook.queries import crime_counts
from beatbook.store import Store


@dataclass(frozen=True)
class Population:
    """Residents of an area in one mid-year estimate: its LSOAs summed, of them bridged."""

    population: float
    year: int
    lsoas_found: int
    lsoas_bridged: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "population": self.population,
            "population_year": self.year,
            "population_lsoas": self.lsoas_found,
            "population_lsoas_bridged": self.lsoas_bridged,
        }


def population_years(store: Store) -> list[int]:
    return [r[0] for r in store.rows("SELECT DISTINCT year FROM population ORDER BY year")]


def nearest_population_year(store: Store, start: dt.date, end: dt.date) -> int:
    """The estimate nearest the middle of the period (ties: the earlier one)."""
    years = population_years(store)
    if not years:
        raise DataMissingError(
            "no population estimates in the store: run 'beatbook areas import-population FILE "
            "--year YYYY' and 'beatbook areas import-lookup FILE' (rates need residents: ONS "
            "population estimates and an LSOA lookup; counts work without them)"
        )
    middle = start.year + (start.month - 1) / 12 + (months_between(start, end) + 1) / 24
    return min(years, key=lambda y: (abs(y + 0.5 - middle), y))


def population(store: Store, area: Area, year: int) -> Population:
    """Residents of ``area`` in the mid-``year`` estimate, or a refusal, never a short sum.

    An area holds LSOA codes of both vintages, an estimate one. A code the estimate lacks
    is covered through the ONS 2011 <-> 2021 lookup when the area holds some of its
    counterparts, or else when they all lie wholly inside the area (a split LSOA's parts,
    a merged one's parents): those are summed. Nothing else is covered."""
    if area.polygon_wkt:
        raise DataMissingError(
            f"area {area.name!r} is a polygon: BeatBook counts its crimes but has no resident "
            "count for it; define it with --lsoa or --ward to get rates"
        )
    codes = lsoas_of(store, area)
    if area.force and not area.local_authorities:
        raise DataMissingError(f"no residents for {area.name!r}: {area.description}")
    if not codes:
        raise DataMissingError(
            f"no LSOAs known for {area.name!r}: import an ONS lookup "
            "('beatbook areas import-lookup FILE') so residents can be counted"
        )
    years = population_years(store)
    if year not in years:
        raise DataMissingError(
            f"no mid-{year} population for the LSOAs of {area.name!r} "
            f"(years in the store: {', '.join(map(str, years)) or 'none'})"
        )
    total, found, bridged, gaps = _residents(store, codes, year)
    if gaps:
        told = "; ".join(
            f"{len(c)} of its LSOAs ({', '.join(c[:4])}{'...' * (len(c) > 4)}) {why}"
            for why, c in gaps.items()
        )
        whole = [str(y) for y in years if y != year and not _residents(store, codes, y)[3]]
        todo = f"use --population-year {' or '.join(whole)}, which covers the whole area"
        raise DataMissingError(
            f"the mid-{year} estimate cannot count all residents of {area.name!r}: {told}; "
            + (todo if whole else "no estimate in the store covers the whole area")
        )
    return Population(total, year, found, bridged)


def _residents(
    store: Store, codes: frozenset[str], year: int
) -> tuple[float, int, int, dict[str, list[str]]]:
    """(residents, estimate LSOAs summed, of those bridged, area codes left out by why)."""
    rows = store.rows(
        """
        WITH est AS (SELECT lsoa_code AS code, population FROM population WHERE year = $year),
        pairs AS (SELECT lsoa11_code AS code, lsoa21_code AS other, change FROM lsoa_bridge
            UNION ALL SELECT lsoa21_code, lsoa11_code, change FROM lsoa_bridge),
        near AS (
            SELECT a.code, e.population, p.other, p.change
            FROM (SELECT unnest($codes::VARCHAR[]) AS code) a LEFT JOIN est e USING (code)
            LEFT JOIN pairs p ON e.code IS NULL AND p.code = a.code AND p.other <> a.code
        ),
        around AS (SELECT code, bool_and(list_contains($codes, other)) AS inside FROM pairs
            WHERE code IN (SELECT other FROM near) GROUP BY code)
        SELECT n.code, any_value(n.population), list(n.other), list(o.population), CASE
            WHEN bool_or(list_contains($codes, n.other) AND o.code IS NOT NULL) THEN 'held'
            WHEN count(n.other) = 0 THEN 'are in neither it nor a stored ONS LSOA 2011 -> '
                || '2021 lookup (import one: ''beatbook areas import-lookup FILE'')'
            WHEN bool_or(n.change = 'X') THEN 'changed irregularly between 2011 and 2021'
            WHEN bool_or(o.code IS NULL) THEN 'map to LSOAs it lacks'
            WHEN NOT bool_and(r.inside) THEN 'lie in its LSOAs that reach beyond the area '
                || '(split or merged at the edge)' END
        FROM near n LEFT JOIN est o ON o.code = n.other LEFT JOIN around r ON r.code = n.other
        GROUP BY n.code ORDER BY n.code
        """,
        {"year": year, "codes": sorted(codes)},
    )
    direct = {code: pop for code, pop, *_ in rows if pop is not None}
    added: dict[str, float] = {}
    gaps: dict[str, list[str]] = {}
    for code, pop, others, pops, why in rows:
        if pop is None and why is None:
            added.update(zip(others, pops, strict=True))
        elif pop is None and why != "held":
            gaps.setdefault(why, []).append(code)
    total = sum(direct.values()) + sum(added.values())
    return float(total), len(direct) + len(added), len(added), gaps


def lsoa_populations(store: Store, codes: frozenset[str], year: int) -> list[tuple[str, float]]:
    """(LSOA code, residents) for those of ``codes`` in the mid-``year`` estimate."""
    rows = store.rows(
        "SELECT lsoa_code, population FROM population WHERE year = ? "
        "AND lsoa_code IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1",
        [year, sorted(codes)],
    )
    return [(c, float(p)) for c, p in rows]


def year_matching_codes(store: Store, area: Area, start: dt.date, end: dt.date) -> int:
    """The estimate whose LSOA codes match most of the codes the crimes carry in the period.

    police.uk moved from 2011 to 2021 LSOA codes; per-LSOA rates need
    population by the same codes (nearest year breaks ties).
    """
    seen = crime_counts(store, area, start, end, by=["lsoa_code"])["lsoa_code"].to_list()
    nearest = nearest_population_year(store, start, end)
    scores = store.rows(
        "SELECT year, count(*) FROM population WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[])) "
        "GROUP BY year",
        [[c for c in seen if c]],
    )
    if not scores:
        return nearest
    return max(scores, key=lambda ys: (ys[1], -abs(ys[0] - nearest)))[0]
