"""Who an area is ranked against: the one place peers are chosen (``rank --peers``).

Every kind of peer gives the same thing: names, each peer's count in each month used, its
residents, what the peers are, and the peers left out with why. A national kind (every
district or force area of England and Wales) ranks only peers whose force published every
month used and whose residents are known; the others are left out and named, never ranked
on part of the period or on a short population.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from beatbook import areas as areas_mod
from beatbook import national, postcode_areas
from beatbook import populations as pops
from beatbook import queries as q
from beatbook.areas import Area, force_name
from beatbook.errors import DataMissingError, InputError
from beatbook.reference import (
    district_forces,
    district_successors,
    force_of_district,
    territorial_forces,
)
from beatbook.store import Store

PEER_KINDS = ("local-authorities", "force-areas", "wards", "lsoas", "postcode-areas")
SCOPES = ("force", "national")


@dataclass(frozen=True)
class Peers:
    """The peers of one rank, over the months ``used``."""

    names: list[str]
    monthly: list[list[int]]  # each peer's count in each month used
    populations: list[float]
    label: str  # what they are, plural: 'local authorities of England and Wales with ...'
    year: int  # the population estimate used
    focus: str | None  # the area's own name among them, None when it is not one of them
    scope: str  # 'force' or 'national' (local authorities); 'within' for wards and LSOAs
    left_out: list[dict[str, Any]] = field(default_factory=list)


def select_peers(
    store: Store,
    area: Area,
    kind: str,
    scope: str,
    start: dt.date,
    end: dt.date,
    used: Sequence[dt.date],
    year: int,
    *,
    crime_types: Sequence[str] | None,
    measure: str,
) -> Peers:
    """The peers of ``area`` of ``kind`` (:data:`PEER_KINDS`) over the months ``used``."""
    if scope not in SCOPES:
        raise InputError(f"--scope {scope!r}: expected 'force' (the area's force) or 'national'")
    what = {"crime_types": crime_types, "measure": measure}
    if kind == "local-authorities" and scope == "national":
        return _national_districts(store, area, start, end, used, year, **what)
    if kind == "local-authorities":
        return _force_districts(store, area, start, end, used, year, **what)
    if kind == "force-areas":
        return _force_areas(store, area, start, end, used, year, **what)
    if kind == "wards":
        return _wards(store, area, start, end, used, year, **what)
    if kind == "postcode-areas":  # every postcode area of the imported ONS directory
        return Peers(**postcode_areas.rank_peers(store, area, start, end, used, year, **what))
    if kind == "lsoas":
        return _lsoas(store, area, start, end, used, **what)
    raise InputError(f"--peers {kind!r}: expected one of {', '.join(PEER_KINDS)}")


def _by_month(
    counts: dict[tuple[str, dt.date], int], keys: Sequence[str], used: Sequence[dt.date]
) -> list[list[int]]:
    return [[counts.get((key, m), 0) for m in used] for key in keys]


def _missing(published: set[dt.date], used: Sequence[dt.date]) -> list[str]:
    return [f"{m:%Y-%m}" for m in used if m not in published]


def _national_districts(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    used: Sequence[dt.date],
    year: int,
    **what: Any,
) -> Peers:
    """Every 2022 district of England and Wales whose force published every month used."""
    focus = _district_of(area)
    published = national.published_months(store, start, end)
    residents, unknown = national.district_residents(store, year)
    kept, left_out = [], []
    for d in national.districts():
        missing = _missing(published.get(d.force, set()), used)
        why = (
            f"{force_name(d.force)} Police published {len(used) - len(missing)} of the "
            f"{len(used)} months"
            if missing
            else unknown.get(d.code)
        )
        if why:
            left_out.append(
                {
                    "name": d.name,
                    "code": d.code,
                    "force": d.force,
                    "why": why,
                    "months_missing": missing,
                }
            )
        else:
            kept.append(d)
    counts = national.district_month_counts(store, start, end, **what)
    return Peers(
        names=[d.name for d in kept],
        monthly=_by_month(counts, [d.code for d in kept], used),
        populations=[residents[d.code] for d in kept],
        label="local authorities of England and Wales with data for every month",
        year=year,
        focus=focus,
        scope="national",
        left_out=left_out,
    )


def _district_of(area: Area) -> str:
    """The 2022 district an area is (any vintage's name: 'Aylesbury Vale' is in
    Buckinghamshire), or a clear refusal."""
    names = sorted(area.local_authorities)
    if area.kind == "local authority" and len(names) == 1 and force_of_district(names[0]):
        codes = {
            district_successors().get(d.lad_code, d.lad_code)
            for d in district_forces()
            if d.lad_name.lower() == names[0].lower()
        }
        by_code = {d.code: d.name for d in national.districts()}
        if len(codes) == 1 and codes <= by_code.keys():
            return by_code[codes.pop()]
    raise InputError(
        f"--peers local-authorities --scope national ranks a district of England and Wales: "
        f"{area.name!r} is a {area.kind}"
    )


def _force_areas(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    used: Sequence[dt.date],
    year: int,
    **what: Any,
) -> Peers:
    """The 43 territorial force areas whose force published every month used and whose
    districts' residents are all known: each counts every row of its force's files."""
    if area.kind != "force area" or area.force is None:
        raise InputError(
            f"--peers force-areas ranks force areas: {area.name!r} is a {area.kind} "
            "(give a force area, e.g. --area Leicestershire)"
        )
    published = national.published_months(store, start, end)
    residents, unknown = national.district_residents(store, year)
    kept, populations, left_out = [], [], []
    for force in territorial_forces():
        members = [d for d in national.districts() if d.force == force]
        missing = _missing(published.get(force, set()), used)
        lacking = [d.name for d in members if d.code in unknown]
        why = (
            f"{force_name(force)} Police published {len(used) - len(missing)} of the "
            f"{len(used)} months"
            if missing
            else f"residents unknown in {', '.join(lacking)}"
            if lacking
            else None
        )
        if why:
            left_out.append(
                {
                    "name": force_name(force),
                    "code": force,
                    "force": force,
                    "why": why,
                    "months_missing": missing,
                }
            )
            continue
        kept.append(force)
        populations.append(sum(residents[d.code] for d in members))
    for force in sorted(set(published) - set(territorial_forces())):
        left_out.append(
            {
                "name": force_name(force),
                "code": force,
                "force": force,
                "why": "not a territorial force of England and Wales: no residents",
                "months_missing": [],
            }
        )
    counts = national.force_month_counts(store, start, end, **what)
    return Peers(
        names=[force_name(f) for f in kept],
        monthly=_by_month(counts, kept, used),
        populations=populations,
        label="force areas of England and Wales with data for every month",
        year=year,
        focus=area.name,
        scope="national",
        left_out=left_out,
    )


def _force_districts(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    used: Sequence[dt.date],
    year: int,
    **what: Any,
) -> Peers:
    """The districts of the force area the area lies in (each its own located crimes)."""
    for force in (a for a in areas_mod.list_areas(store) if a.kind == "force area"):
        if area.local_authorities and area.local_authorities <= force.local_authorities:
            districts = dataclasses.replace(force, force=None)
            names = sorted(force.local_authorities)
            residents = [
                pops.population(store, areas_mod.resolve(store, f"local authority:{lad}"), year)
                for lad in names
            ]
            counts = _counts(store, districts, start, end, "local_authority", **what)
            return Peers(
                names=names,
                monthly=_by_month(counts, names, used),
                populations=[r.population for r in residents],
                label=f"local authorities in the {force.name} force area",
                year=year,
                focus=area.name,
                scope="force",
            )
    raise InputError(f"{area.name!r} is not a local authority in a force area with data")


def _wards(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    used: Sequence[dt.date],
    year: int,
    **what: Any,
) -> Peers:
    """The wards of a district (the area, or the district a ward lies in): each crime in
    the ward of its LSOA (``queries.lsoa_wards``); wards whose residents the estimate cannot
    count are left out and named."""
    focus = None
    district = area
    if area.kind == "ward" and area.parent:
        focus, district = area.name, areas_mod.resolve(store, f"local authority:{area.parent}")
    if district.kind != "local authority":
        raise InputError(
            f"--peers wards ranks the wards of a district: {area.name!r} is a {area.kind}"
        )
    wards = areas_mod.wards_within(store, district)
    by_lsoa = _counts(store, district, start, end, "lsoa_code", **what)
    ward_of = dict(
        q.lsoa_wards(store, sorted({c for c, _ in by_lsoa}))
        .select("lsoa_code", "ward_code")
        .iter_rows()
    )
    counts: dict[tuple[str, dt.date], int] = {}
    for (code, month), n in by_lsoa.items():
        ward = ward_of.get(code)
        if ward:
            counts[(ward, month)] = counts.get((ward, month), 0) + n
    kept, populations = [], []
    left_out: list[dict[str, Any]] = []
    for ward in wards:
        try:
            populations.append(pops.population(store, ward, year).population)
            kept.append(ward)
        except DataMissingError as exc:
            left_out.append(
                {
                    "name": ward.name,
                    "code": ward.code,
                    "force": None,
                    "why": str(exc),
                    "months_missing": [],
                }
            )
    if len(kept) < 2:
        raise DataMissingError(
            f"fewer than two wards of {district.name!r} have mid-{year} residents"
        )
    return Peers(
        names=[w.name for w in kept],
        monthly=_by_month(counts, [str(w.code) for w in kept], used),
        populations=populations,
        label=f"wards of {district.name}",
        year=year,
        focus=focus,
        scope="within",
        left_out=left_out,
    )


def _lsoas(
    store: Store, area: Area, start: dt.date, end: dt.date, used: Sequence[dt.date], **what: Any
) -> Peers:
    """Every LSOA inside the area with residents in the estimate matching the crimes' codes."""
    year = pops.year_matching_codes(store, area, start, end)
    rows = pops.lsoa_populations(store, areas_mod.lsoas_of(store, area), year)
    if len(rows) < 2:
        raise DataMissingError(f"fewer than two LSOAs of {area.name!r} have mid-{year} population")
    counts = _counts(store, area, start, end, "lsoa_code", **what)
    codes = [c for c, _ in rows]
    return Peers(
        names=codes,
        monthly=_by_month(counts, codes, used),
        populations=[float(p) for _, p in rows],
        label=f"LSOAs in {area.name} (mid-{year} codes)",
        year=year,
        focus=None,
        scope="within",
    )


def _counts(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    by: str,
    *,
    crime_types: Sequence[str] | None,
    measure: str,
) -> dict[tuple[str, dt.date], int]:
    frame = q.crime_counts(
        store, area, start, end, by=[by, "month"], crime_types=crime_types, measure=measure
    )
    return {(str(key), month): int(n) for key, month, n in frame.iter_rows()}
