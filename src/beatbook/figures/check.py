"""``beatbook check``: a published figure against BeatBook's and every definition it could use.

Reads the area's counts from the store over each run of twelve months a figure "for a
year" may be over, in each area it may mean (the area as BeatBook counts it, the LSOAs named
after it in every force's files, the force area), with the residents each rate may be per;
``stats/claims.py`` does the rest (docs/journalists.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from beatbook import areas as areas_mod
from beatbook import populations as pops
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.errors import DataMissingError, InputError, UnknownAreaError
from beatbook.months import month_range, ym
from beatbook.settings import FIRST_DAY, YEARS_AHEAD
from beatbook.stats import claims as claims_mod
from beatbook.stats.claims import ClaimCheck, Residents, Tally
from beatbook.store import Store


def parse_period(text: str | int) -> int:
    """'2020' -> 2020: the year a claim is about (its calendar and financial years)."""
    value = str(text).strip()
    last = dt.date.today().year + YEARS_AHEAD
    if not re.fullmatch(r"\d{4}", value) or not FIRST_DAY.year <= int(value) <= last:
        raise InputError(
            f"--period {text!r}: expected a year from {FIRST_DAY.year} to {last}, e.g. 2020 "
            "(its calendar year, both financial years and every 12 months in between are tried)"
        )
    return int(value)


def _variants(store: Store, area: Area, year: int) -> list[tuple[Area, str, bool]]:
    """The areas a figure about ``area`` may mean: (area, plain words, every force's rows)."""
    found = [(area, f"{area.name} ({area.kind}, as BeatBook counts it)", False)]
    if area.kind == "local authority":
        found.append((area, f"LSOAs named '{area.name} nnnX', every force's rows", True))
    if area.kind == "ward" and area.parent:
        parent = areas_mod.resolve(store, f"local authority:{area.parent}")
        found.append((parent, f"{parent.name} (the local authority it lies in)", False))
    if not area.force:
        whole_year = (dt.date(year, 1, 1), dt.date(year, 12, 1))
        for force in q.forces_of(store, area, *whole_year):
            try:
                force_area = areas_mod.resolve(store, f"force:{force}")
            except UnknownAreaError:  # no street files of the force stored
                continue
            words = f"{force_area.name} force area (every row of the force's files)"
            found.append((force_area, words, False))
    return found


class _Residents:
    """Residents an area's rates may be per, each estimate asked of the store once."""

    def __init__(self, store: Store, years: list[int]) -> None:
        self.store, self.years = store, years
        self.cache: dict[tuple[object, int], Residents] = {}

    def of(self, area: Area, lsoas: frozenset[str]) -> tuple[Residents, ...]:
        inside = Area(
            name=f"the LSOAs {area.name}'s rows fall in",
            kind="custom",
            code=None,
            description="LSOAs of the counted rows",
            lsoa_codes=lsoas,
        )
        return tuple(
            self._one(key, whose, base, year, len(lsoas))
            for key, whose, base in (
                ((area.kind, area.name), area, "area"),
                (lsoas, inside, "lsoas"),
            )
            for year in self.years
        )

    def _one(self, key: object, area: Area, base: str, year: int, n: int) -> Residents:
        if (key, year) not in self.cache:
            try:
                found = pops.population(self.store, area, year)
                residents = Residents(base, year, found.population, found.lsoas_found)
            except DataMissingError as exc:
                residents = Residents(base, year, None, n, str(exc))
            self.cache[key, year] = residents
        return self.cache[key, year]


def tallies(store: Store, area: Area, year: int) -> tuple[list[Tally], list[dict[str, Any]]]:
    """The area's counts over every twelve months about ``year`` in every area it may mean,
    and the (months, area) left untried because a month is not stored (never zeros)."""
    residents = _Residents(store, pops.population_years(store))
    found: list[Tally] = []
    untried: list[dict[str, Any]] = []
    for variant, words, every_force in _variants(store, area, year):
        forces = q.forces_of(store, variant, dt.date(year, 1, 1), dt.date(year, 12, 1))
        for name, first, last in claims_mod.twelve_month_windows(year):
            stored = set(q.months_with_data(store, first, last, forces))
            missing = tuple(ym(m) for m in month_range(first, last) if m not in stored)
            own = variant is area and not every_force and last.month == 12
            if missing:
                untried.append({"months": name, "area": words, "months_missing": list(missing)})
                if not own or len(missing) == 12:
                    continue
            rows = q.counting_units(store, variant, first, last, every_force=every_force)
            by_type = rows.group_by("crime_type").agg(pl.col(*claims_mod.UNITS).sum())
            counts = {
                unit: dict(zip(by_type["crime_type"], by_type[unit], strict=True))
                for unit in claims_mod.UNITS
            }
            lsoas = frozenset(rows["lsoa_code"].drop_nulls())
            on = residents.of(variant, lsoas) if lsoas else ()
            found.append(Tally(name, first, last, words, counts, on, own, missing))
    return found, untried


def check_claims(
    store: Store, area_name: str, period: str | int, claim_texts: Sequence[str]
) -> dict[str, Any]:
    """Each claim's BeatBook figure and the definitions that reproduce it (or the nearest)."""
    if not claim_texts:
        raise InputError(f"give at least one --claim, {claims_mod.EXAMPLES}")
    claims = [claims_mod.parse_claim(text) for text in claim_texts]
    year = parse_period(period)
    area = areas_mod.resolve(store, area_name)
    if area.polygon_wkt:
        raise InputError(
            f"--area {area_name!r} is drawn as a polygon: check works with districts, wards "
            "and areas of LSOAs (whose residents are known)"
        )
    q.period_coverage(store, dt.date(year, 1, 1), dt.date(year, 12, 1))
    found, untried = tallies(store, area, year)
    years = pops.population_years(store)
    nearest = (
        pops.nearest_population_year(store, dt.date(year, 1, 1), dt.date(year, 12, 1))
        if years
        else None
    )
    return {
        "area": area.name,
        "area_kind": area.kind,
        "period": year,
        "population_years": years,
        "nearest_population_year": nearest,
        "definitions": {
            "months": list(dict.fromkeys(t.months for t in found if not t.months_missing)),
            "areas": list(dict.fromkeys(t.area for t in found)),
            "units": claims_mod.UNITS,
            "not_tried": untried,
            "residents_unavailable": sorted(
                {r.reason for t in found for r in t.residents if r.reason}
            ),
        },
        "claims": [_record(claims_mod.evaluate(c, found, nearest)) for c in claims],
    }


def _record(check: ClaimCheck) -> dict[str, Any]:
    claim = check.claim
    matching = check.matching
    own = check.beatbook
    if matching:
        verdict = f"reproduced by {len(matching)} of the {len(check.figures)} definitions tried"
    else:
        verdict = f"none of the {len(check.figures)} definitions tried reproduces it"
    return {
        **claim.to_dict(),
        "beatbook": None if own is None else own.to_dict(claim),
        "beatbook_months_missing": list(check.beatbook_months_missing),
        "beatbook_why_none": check.why_none,
        "definitions_tried": len(check.figures),
        "reproduced": bool(matching),
        "verdict": verdict,
        "matches": [f.to_dict(claim) for f in matching],
        "nearest": [] if matching else [f.to_dict(claim) for f in check.nearest()],
    }
