"""Reference data shipped with BeatBook: police.uk crime types, problem groups, harm weights,
the police force of each local authority district.

The table and its sources are in ``reference/README.md``. Loaded once; pure lookups.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import polars as pl

from beatbook.errors import InputError

ASB = "Anti-social behaviour"  # police.uk's name for its one non-crime category

# What a figure counts, and the unit it is given in. Anti-social behaviour is not a crime:
# every figure counts crimes or ASB incidents, never the two added together.
MEASURE_UNITS = {"crime": "crimes", "asb": "ASB incidents"}


def check_measure(measure: str, option: str = "--measure") -> str:
    """``measure`` if it is one BeatBook counts ('crime' or 'asb'), else a clear InputError."""
    if measure not in MEASURE_UNITS:
        raise InputError(
            f"{option} {measure!r}: expected 'crime' (every police.uk crime type, anti-social "
            "behaviour excluded) or 'asb' (anti-social behaviour incidents)"
        )
    return measure


def measure_of(crime_types: list[str]) -> str:
    """The measure a list of police.uk categories belongs to; ASB cannot be mixed with crime."""
    if ASB in crime_types and len(set(crime_types)) > 1:
        raise InputError(
            "anti-social behaviour is not a crime: count it on its own, not with crime types"
        )
    return "asb" if ASB in crime_types else "crime"


@dataclass(frozen=True)
class CrimeType:
    name: str  # as police.uk writes it, e.g. 'Violence and sexual offences'
    slug: str  # its police.uk API id, e.g. 'violent-crime'
    problem_group: str  # e.g. 'violence-weapons'
    harm_days: float | None  # None for anti-social behaviour (not a crime)
    proactive: bool  # found mostly by police activity: shown apart from the harm index


@cache
def crime_types() -> tuple[CrimeType, ...]:
    """The 14 police.uk street-crime categories, in police.uk's alphabetical order."""
    text = resources.files(__package__).joinpath("crime_types.csv").read_text("utf-8")
    return tuple(
        CrimeType(
            name=row["crime_type"],
            slug=row["slug"],
            problem_group=row["problem_group"],
            harm_days=float(row["harm_days"]) if row["harm_days"] else None,
            proactive=row["proactive"] == "true",
        )
        for row in csv.DictReader(text.splitlines())
    )


def problem_groups() -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.problem_group for t in crime_types()))


def problem_crime_types(problem: str) -> list[str]:
    """police.uk categories of a problem group, or of one category given by slug or name."""
    wanted = problem.strip().lower()
    in_group = [t.name for t in crime_types() if t.problem_group == wanted]
    if in_group:
        return in_group
    single = [t.name for t in crime_types() if wanted in (t.slug, t.name.lower())]
    if single:
        return single
    raise InputError(
        f"--problem '{problem}' is not a problem group ({', '.join(problem_groups())}) "
        f"or a police.uk crime type (e.g. {', '.join(t.slug for t in crime_types()[:3])})"
    )


def harm_table(*, asb_harm_days: float, include_proactive: bool = True) -> pl.DataFrame:
    """The one crime type -> problem group and harm weight (days) table.

    Each use states its rule: priorities weigh anti-social behaviour at ``asb_harm_days``
    and keep proactive crimes (drugs, weapons) at their weight; the hot-spot harm index
    follows the Cambridge index and gives ASB (``asb_harm_days=0``) and proactive crimes
    (``include_proactive=False``) no weight. Columns: crime_type, problem, harm.
    """
    return pl.DataFrame(
        {
            "crime_type": [t.name for t in crime_types()],
            "problem": [t.problem_group for t in crime_types()],
            "harm": [
                0.0
                if t.proactive and not include_proactive
                else float(asb_harm_days if t.harm_days is None else t.harm_days)
                for t in crime_types()
            ],
        }
    )


def harm_weight(crime_type: str) -> float | None:
    """Harm in days for a police.uk category; None for ASB and categories police.uk adds later."""
    return next((t.harm_days for t in crime_types() if t.name == crime_type), None)


@dataclass(frozen=True)
class ConcernProblem:
    """A problem residents raise, and the police.uk problem group it is weighed with."""

    slug: str  # e.g. 'street-drinking'
    label: str  # plain English, e.g. 'street drinking'
    problem_group: str | None  # e.g. 'asb'; None when no police.uk category covers it
    concern_only: bool  # not a police.uk problem group itself
    keywords: tuple[str, ...]  # lowercase words or phrases that map free text to it


@cache
def concern_problems() -> tuple[ConcernProblem, ...]:
    """The problems a concern can be about (``concern_problems.csv``, in its order)."""
    text = resources.files(__package__).joinpath("concern_problems.csv").read_text("utf-8")
    return tuple(
        ConcernProblem(
            slug=row["problem"],
            label=row["label"],
            problem_group=row["problem_group"] or None,
            concern_only=row["concern_only"] == "true",
            keywords=tuple(k.strip() for k in row["keywords"].split(";") if k.strip()),
        )
        for row in csv.DictReader(text.splitlines())
    )


def problem_groups_of_concern_problems() -> dict[str, tuple[str, str | None, bool]]:
    """Concern problem slug -> (label, police.uk problem group or None, concern_only)."""
    return {p.slug: (p.label, p.problem_group, p.concern_only) for p in concern_problems()}


@dataclass(frozen=True)
class DistrictForce:
    """One name of a local authority district and the police force that polices it."""

    lad_code: str  # ONS code, e.g. 'E06000016'
    lad_name: str  # the name in its vintage, e.g. 'Leicester', 'Aylesbury Vale'
    vintage: str  # 'LAD19' | 'LAD22' (ONS names) | 'LSOA11' | 'LSOA21' (LSOA names' district)
    force: str  # police.uk force id, e.g. 'leicestershire'


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@cache
def district_forces() -> tuple[DistrictForce, ...]:
    """Every district of England and Wales, under each name it has had, and its force
    (``lad_forces.csv``: compiled from the statutory police areas, see reference/README.md)."""
    text = resources.files(__package__).joinpath("lad_forces.csv").read_text("utf-8")
    return tuple(
        DistrictForce(
            lad_code=row["lad_code"],
            lad_name=row["lad_name"],
            vintage=row["vintage"],
            force=row["force"],
        )
        for row in csv.DictReader(text.splitlines())
    )


@cache
def _forces_by_name() -> dict[str, str]:
    return {_name_key(d.lad_name): d.force for d in district_forces()}


def force_of_district(name: str) -> str | None:
    """The police.uk force id policing the district called ``name`` (any vintage's name,
    case and spacing aside), or None for a name not in the table."""
    return _forces_by_name().get(_name_key(name))


@cache
def districts_of_force(force: str) -> tuple[str, ...]:
    """Every name (all vintages) of the districts ``force`` polices, sorted; () for a force
    not in the table (British Transport Police, a test force)."""
    return tuple(sorted({d.lad_name for d in district_forces() if d.force == force}))


@cache
def territorial_forces() -> tuple[str, ...]:
    """The police.uk ids of the 43 territorial forces of England and Wales, sorted."""
    return tuple(sorted({d.force for d in district_forces()}))


@cache
def district_successors() -> dict[str, str]:
    """ONS code of each 2019 district merged away by 2022 -> its 2022 district's code
    (``lad_successors.csv``); every other code is its own successor."""
    text = resources.files(__package__).joinpath("lad_successors.csv").read_text("utf-8")
    return {row["lad19_code"]: row["lad22_code"] for row in csv.DictReader(text.splitlines())}


@dataclass(frozen=True)
class CategoryBreak:
    """A month from which police.uk published a category differently (a series break)."""

    month: str  # 'YYYY-MM', the first month with the new categories
    before: str  # the category as written before
    after: tuple[str, ...]  # what it became
    note: str


@cache
def category_breaks() -> tuple[CategoryBreak, ...]:
    """police.uk's category changes (``category_breaks.csv``, sources in reference/README.md)."""
    text = resources.files(__package__).joinpath("category_breaks.csv").read_text("utf-8")
    return tuple(
        CategoryBreak(row["month"], row["before"], tuple(row["after"].split(";")), row["note"])
        for row in csv.DictReader(text.splitlines())
    )
