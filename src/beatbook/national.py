"""Every district and force area of England and Wales at once, for national ranks.

A national rank compares about 330 districts or 43 force areas: resolving each as an area
and counting it alone would run hundreds of queries over a store of 90 million rows. Here
each figure is one query grouped by district or force: the monthly counts, the months each
force published, the residents of every district. The districts are the ONS districts of
2022 (``reference/lad_forces.csv``, vintage LAD22), so a period or an estimate that uses the
2019 districts is counted in the same geography (``reference/lad_successors.csv``).

A district's crimes are the located crimes its own force recorded in it, as for a
``--area`` district (``queries._policed_here``); a force area's are every row of its
force's files, as for a ``--area`` force area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from beatbook.reference import ASB, check_measure, district_forces, district_successors
from beatbook.store import Store

__all__ = [
    "District",
    "district_month_counts",
    "district_residents",
    "districts",
    "force_month_counts",
    "published_months",
]


@dataclass(frozen=True)
class District:
    """A 2022 district of England and Wales and the force that polices it."""

    code: str  # ONS LAD22 code, e.g. 'E06000016'
    name: str  # its ONS 2022 name, e.g. 'Leicester'
    force: str  # police.uk force id


@cache
def districts() -> tuple[District, ...]:
    """The 331 districts of England and Wales (ONS 2022), by name, from the reference table
    alone: no store, no crimes."""
    rows = {d.lad_code: d for d in district_forces() if d.vintage == "LAD22"}
    return tuple(
        sorted(
            (District(code, d.lad_name, d.force) for code, d in rows.items()),
            key=lambda d: d.name,
        )
    )


def _successor(code: str) -> str:
    return district_successors().get(code, code)


@cache
def _names() -> tuple[list[str], list[str], list[str]]:
    """(name as police.uk or ONS writes it, lowercased; its 2022 district code; its force)
    for every name of the reference table, every vintage."""
    pairs = sorted(
        {(d.lad_name.lower(), _successor(d.lad_code), d.force) for d in district_forces()}
    )
    return [p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs]


def _what(crime_types: Sequence[str] | None, measure: str | None) -> tuple[str, list[object]]:
    """SQL predicate over monthly_counts: some crime types, crime (no ASB), ASB, or all."""
    if crime_types:
        return "crime_type IN (SELECT unnest(?::VARCHAR[]))", [list(crime_types)]
    if measure is None:
        return "TRUE", []
    return ("crime_type <> ?" if check_measure(measure) == "crime" else "crime_type = ?"), [ASB]


def district_month_counts(
    store: Store,
    start: dt.date,
    end: dt.date,
    *,
    crime_types: Sequence[str] | None = None,
    measure: str | None = None,
) -> dict[tuple[str, dt.date], int]:
    """(2022 district code, month) -> crimes its own force recorded in it, months start..end
    (counting rules: the ``counted`` column). Months with no row have no crime or no data:
    :func:`published_months` tells which."""
    names, codes, forces = _names()
    what, params = _what(crime_types, measure)
    rows = store.rows(
        "WITH ref AS (SELECT unnest(?::VARCHAR[]) AS name, unnest(?::VARCHAR[]) AS code, "
        "unnest(?::VARCHAR[]) AS force) "
        "SELECT r.code, c.month, sum(c.counted)::BIGINT FROM monthly_counts c "
        "JOIN ref r ON lower(c.local_authority) = r.name AND c.force = r.force "
        f"WHERE c.month BETWEEN ? AND ? AND {what} GROUP BY 1, 2",
        [names, codes, forces, start, end, *params],
    )
    return {(code, month): int(n) for code, month, n in rows}


def force_month_counts(
    store: Store,
    start: dt.date,
    end: dt.date,
    *,
    crime_types: Sequence[str] | None = None,
    measure: str | None = None,
) -> dict[tuple[str, dt.date], int]:
    """(force, month) -> every counted row of the force's files (located anywhere or not)."""
    what, params = _what(crime_types, measure)
    rows = store.rows(
        "SELECT force, month, sum(counted)::BIGINT FROM monthly_counts "
        f"WHERE month BETWEEN ? AND ? AND {what} GROUP BY 1, 2",
        [start, end, *params],
    )
    return {(force, month): int(n) for force, month, n in rows}


def published_months(store: Store, start: dt.date, end: dt.date) -> dict[str, set[dt.date]]:
    """Force -> the months start..end it published street data for (stored partitions)."""
    found: dict[str, set[dt.date]] = {}
    for force, month in store.rows(
        "SELECT force, month FROM partitions WHERE kind = 'street' AND month BETWEEN ? AND ?",
        [start, end],
    ):
        found.setdefault(force, set()).add(month)
    return found


def district_residents(store: Store, year: int) -> tuple[dict[str, float], dict[str, str]]:
    """Residents of every 2022 district in the mid-``year`` estimate, and why a district has
    none: ``({code: residents}, {code: why})``.

    The estimate's LSOAs are read against the ONS lookup of their own vintage (the one
    holding most of them), each LSOA in its district; a district with an LSOA the estimate
    lacks is left out, never summed short (as :func:`beatbook.populations.population`)."""
    rows = store.rows(
        """
        WITH est AS (SELECT lsoa_code, population FROM population WHERE year = $year),
        vintage AS (
            SELECT l.vintage FROM lsoa_lookup l JOIN est e USING (lsoa_code)
            GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1
        )
        SELECT l.lad_code, sum(e.population), count(*), count(e.lsoa_code)
        FROM lsoa_lookup l LEFT JOIN est e USING (lsoa_code)
        WHERE l.vintage = (SELECT vintage FROM vintage) AND l.lad_code IS NOT NULL
        GROUP BY 1
        """,
        {"year": year},
    )
    residents: dict[str, float] = {}
    missing: dict[str, int] = {}
    for code, total, lsoas, found in rows:
        successor = _successor(code)
        residents[successor] = residents.get(successor, 0.0) + float(total or 0)
        missing[successor] = missing.get(successor, 0) + lsoas - found
    why = {
        code: f"the mid-{year} estimate lacks {n} of its LSOAs" for code, n in missing.items() if n
    }
    for d in districts():
        if d.code not in residents:
            why[d.code] = f"no LSOA of it in the ONS lookup of the mid-{year} estimate's LSOAs"
    return {c: p for c, p in residents.items() if c not in why}, why
