"""Checking a published figure: which definitions reproduce it, and BeatBook's own.

A figure in the news ("drug offences are 3.8% of crime", "97 crimes per 1,000 people") rests
on choices its source rarely states: anti-social behaviour counted as crime or not, rows or
Crime IDs, which months, which area, which population estimate. This module parses a claim
(``share:drugs=3.8%``) and, given an area's counts over several runs of months and areas
(:class:`Tally`, read from the store by ``figures/check.py``), works out the figure under
every combination of those choices and which of them round to the claimed value at the
precision it was published with. Pure: no store, no I/O (docs/journalists.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from beatbook.errors import InputError
from beatbook.reference import ASB, problem_crime_types, problem_groups

KINDS = ("rate", "share", "count")
EXAMPLES = "e.g. 'rate=97', 'share:drugs=3.8%', 'count:drugs=1577'"

#: How a figure can count police.uk rows, the key BeatBook's rule first.
UNITS: dict[str, str] = {
    "crimes": "one per Crime ID a month (BeatBook's rule)",
    "rows": "every row as published",
    "crime_ids": "one per Crime ID in the period",
}
BEATBOOK_UNIT = "crimes"

_CLAIM = re.compile(r"^\s*(?P<kind>[A-Za-z]+)\s*(?::(?P<subject>[^=]*))?=(?P<value>[^=]*)$")
_NUMBER = re.compile(r"^(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<part>\d+))?$")


@dataclass(frozen=True)
class Claim:
    """A published figure as given: its kind, what it counts, its value and precision.

    ``value`` is in the unit the claim is written in: per 1,000 residents for a rate,
    percent for a share, crimes for a count. ``decimals`` is how many digits followed the
    point: the claim stands for every value that rounds (half up) to it at that precision.
    """

    text: str
    kind: str  # 'rate' | 'share' | 'count'
    subject: str | None  # a crime type or problem group as written; None: all crime
    crime_types: tuple[str, ...]  # its police.uk categories; () for all crime
    value: Fraction
    decimals: int

    @property
    def low(self) -> Fraction:
        return self.value - Fraction(1, 2 * 10**self.decimals)

    @property
    def high(self) -> Fraction:
        return self.value + Fraction(1, 2 * 10**self.decimals)

    def matches(self, value: Fraction) -> bool:
        """Whether ``value`` rounds (half up) to the claimed value at its precision."""
        return self.low <= value < self.high

    def shown(self, value: Fraction | float, extra: int = 1) -> str:
        """``value`` as the claim writes it, with ``extra`` more decimals (a count: whole)."""
        if self.kind == "count":
            return f"{round(value):,}"
        text = f"{float(value):,.{self.decimals + extra}f}"
        return text + ("%" if self.kind == "share" else " per 1,000")

    @property
    def what(self) -> str:
        """Plain words for what the claim counts: 'Drugs', 'crime'."""
        if self.subject is None:
            return "crime"
        return self.crime_types[0] if len(self.crime_types) == 1 else self.subject

    def to_dict(self) -> dict[str, object]:
        return {
            "claim": self.text,
            "kind": self.kind,
            "subject": self.subject,
            "crime_types": list(self.crime_types),
            "claimed": float(self.value),
            "decimals": self.decimals,
            "matches_from": float(self.low),
            "matches_below": float(self.high),
            "precision": self.precision,
        }

    @property
    def precision(self) -> str:
        """Which values the claim stands for, in words."""
        if self.kind == "count":
            return f"exactly {int(self.value):,}"
        low, high = (f"{float(v):,.{self.decimals + 1}f}" for v in (self.low, self.high))
        return f"values from {low} up to, not including, {high} (they round to it)"


def parse_claim(text: str) -> Claim:
    """``'share:drugs=3.8%'`` -> :class:`Claim`; anything else is an InputError naming it.

    Kinds: ``rate=N`` (crimes per 1,000 residents), ``count=N`` (a whole number; commas
    between thousands allowed), ``share:<type or group>=N%``; rate and count may also
    name a police.uk crime type or problem group (``count:drugs=1577``).
    """
    where = f"--claim {text!r}"
    found = _CLAIM.match(text)
    if found is None:
        raise InputError(f"{where}: expected KIND=VALUE or KIND:TYPE=VALUE, {EXAMPLES}")
    kind = found["kind"].lower()
    if kind not in KINDS:
        raise InputError(f"{where}: unknown kind {found['kind']!r}; expected rate, share or count")
    subject = None if found["subject"] is None else found["subject"].strip()
    if subject == "":
        raise InputError(f"{where}: nothing between ':' and '='; expected a crime type or group")
    if kind == "share" and subject is None:
        raise InputError(
            f"{where}: a share needs a crime type or problem group, e.g. 'share:drugs=3.8%'"
        )
    value, decimals = _value(where, kind, found["value"].strip())
    return Claim(text, kind, subject, _crime_types(where, subject), value, decimals)


def _value(where: str, kind: str, text: str) -> tuple[Fraction, int]:
    number = text[:-1].rstrip() if kind == "share" and text.endswith("%") else text
    if kind == "share" and number == text:
        raise InputError(f"{where}: a share is a percentage; expected a number and '%', '3.8%'")
    found = _NUMBER.match(number)
    if found is None:
        unit = {"rate": "per 1,000 residents, e.g. 97 or 96.6", "count": "e.g. 1577 or 1,577"}
        raise InputError(
            f"{where}: {text!r} is not a number "
            + unit.get(kind, "followed by '%', e.g. 3.8%")
            + ("; a rate has no '%'" if "%" in text else "")
        )
    part = found["part"] or ""
    if kind == "count" and part:
        raise InputError(f"{where}: a count is a whole number, e.g. 'count:drugs=1577'")
    value = Fraction(int(found["whole"].replace(",", "") + part), 10 ** len(part))
    if kind == "share" and value > 100:
        raise InputError(f"{where}: a share is at most 100%")
    return value, len(part)


def _crime_types(where: str, subject: str | None) -> tuple[str, ...]:
    if subject is None:
        return ()
    try:
        return tuple(problem_crime_types(subject))
    except InputError:
        raise InputError(
            f"{where}: {subject!r} is not a problem group ({', '.join(problem_groups())}) "
            "or a police.uk crime type (its name or slug, e.g. 'Drugs', 'violent-crime')"
        ) from None


# --- the months, areas and residents a figure can use ---------------------------------------


# English whatever the locale (calendar.month_name follows it).
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _month(month: dt.date) -> str:
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def twelve_month_windows(year: int) -> list[tuple[str, dt.date, dt.date]]:
    """Every run of twelve months a figure 'for ``year``' may be over, with its name: those
    ending from March of the year to March of the next (each holds three months of the
    year or more): the calendar year, both financial years (April to March) and the twelve
    months to each month in between."""
    windows = []
    for index in range(13):
        end_index = year * 12 + 2 + index  # March of the year, then each month to next March
        last = dt.date(end_index // 12, end_index % 12 + 1, 1)
        first = dt.date((end_index - 11) // 12, (end_index - 11) % 12 + 1, 1)
        span = f"{_month(first)} to {_month(last)}"
        if last.month == 12:
            name = f"calendar year {last.year}"
        elif last.month == 3:
            name = f"financial year {first.year}/{last.year % 100:02d} ({span})"
        else:
            name = f"the 12 months to {_month(last)} ({span})"
        windows.append((name, first, last))
    return windows


@dataclass(frozen=True)
class Residents:
    """A population a rate could be per: whose residents, in which ONS estimate."""

    base: str  # 'area': the area's residents; 'lsoas': those of the LSOAs its rows fall in
    year: int
    population: float | None  # None when the store cannot give it (``reason`` says why)
    lsoas: int = 0
    reason: str | None = None

    def words(self) -> str:
        """'354,224 residents of the area (ONS mid-2019 estimate)'."""
        size = "" if self.population is None else f"{self.population:,.0f} "
        where = "the area" if self.base == "area" else f"the {self.lsoas:,} LSOAs its rows fall in"
        return f"{size}residents of {where} (ONS mid-{self.year} estimate)"


@dataclass(frozen=True)
class Tally:
    """An area's counts over one run of months, by counting unit and police.uk crime type."""

    months: str  # plain words, from :func:`twelve_month_windows`
    first: dt.date
    last: dt.date
    area: str  # plain words: which area, counted how
    counts: Mapping[str, Mapping[str, int]]  # unit (a key of UNITS) -> crime type -> count
    residents: tuple[Residents, ...] = ()
    beatbook: bool = False  # the area as BeatBook counts it, over the calendar year
    months_missing: tuple[str, ...] = ()  # a tally with gaps gives BeatBook's figure only


@dataclass(frozen=True)
class Definition:
    """One combination of choices behind a figure."""

    months: str
    first: dt.date
    last: dt.date
    area: str
    unit: str
    with_asb: bool  # all crime: ASB added; a share: ASB in its denominator
    residents: Residents | None = None

    def to_dict(self) -> dict[str, object]:
        residents = self.residents
        return {
            "months": self.months,
            "from": f"{self.first:%Y-%m}",
            "to": f"{self.last:%Y-%m}",
            "area": self.area,
            "unit": self.unit,
            "unit_words": UNITS[self.unit],
            "with_asb": self.with_asb,
            "population_base": None if residents is None else residents.base,
            "population_year": None if residents is None else residents.year,
            "population": None if residents is None else residents.population,
        }


@dataclass(frozen=True)
class Figure:
    """A claim's figure under one definition: the value, and what it was worked out from."""

    value: Fraction
    count: int
    base: float | None  # the share's denominator or the rate's residents
    definition: Definition

    def counted(self, claim: Claim) -> str:
        """What was counted, and against what: 'Drugs 1,577 of 39,238 crimes (ASB left
        out)', '39,238 crimes (ASB left out) per 354,224 residents of the area (...)'."""
        d = self.definition
        crime = "crimes and ASB incidents" if d.with_asb else "crimes (ASB left out)"
        what = f"{claim.what} {self.count:,}" if claim.subject else f"{self.count:,} {crime}"
        if claim.kind == "share":
            return f"{what} of {self.base or 0:,.0f} {crime}"
        if claim.kind == "rate" and d.residents is not None:
            return f"{what} per {d.residents.words()}"
        return what

    def words(self, claim: Claim) -> str:
        """The figure and its definition in plain words."""
        d = self.definition
        return (
            f"{claim.shown(self.value)}: {self.counted(claim)}; counted {UNITS[d.unit]}; "
            f"{d.area}; {d.months}"
        )

    def to_dict(self, claim: Claim) -> dict[str, object]:
        return {
            "value": float(self.value),
            "shown": claim.shown(self.value),
            "count": self.count,
            "base": self.base,
            "counted": self.counted(claim),
            "definition": self.definition.to_dict(),
            "words": self.words(claim),
        }


@dataclass(frozen=True)
class ClaimCheck:
    """A claim against every definition tried, and BeatBook's own figure."""

    claim: Claim
    figures: tuple[Figure, ...]  # one per definition tried
    beatbook: Figure | None  # None where BeatBook gives no such figure (see ``why_none``)
    why_none: str | None = None
    beatbook_months_missing: tuple[str, ...] = ()  # of the calendar year, when not all stored

    @property
    def matching(self) -> tuple[Figure, ...]:
        return tuple(f for f in self.figures if self.claim.matches(f.value))

    def nearest(self, n: int = 3) -> list[Figure]:
        """Every figure whose value is one of the ``n`` values closest to the claim."""
        values = sorted(
            {f.value for f in self.figures}, key=lambda v: (abs(v - self.claim.value), v)
        )
        return [f for f in self.figures if f.value in values[:n]]


def _numerators(claim: Claim, counts: Mapping[str, int]) -> list[tuple[bool, int]]:
    """(ASB added?, count) for what the claim counts: a type or group, or all crime two ways."""
    if claim.crime_types:
        return [(False, sum(counts.get(t, 0) for t in claim.crime_types))]
    crime = sum(n for t, n in counts.items() if t != ASB)
    return [(False, crime), (True, crime + counts.get(ASB, 0))]


def _figures(claim: Claim, tally: Tally) -> Iterable[Figure]:
    for unit in UNITS:
        counts = tally.counts.get(unit, {})
        crime = sum(n for t, n in counts.items() if t != ASB)
        for with_asb, n in _numerators(claim, counts):
            define = Definition(tally.months, tally.first, tally.last, tally.area, unit, with_asb)
            if claim.kind == "count":
                yield Figure(Fraction(n), n, None, define)
            elif claim.kind == "rate":
                for r in tally.residents:
                    if r.population:
                        value = Fraction(n * 1000) / Fraction(r.population)
                        yield Figure(value, n, r.population, replace(define, residents=r))
            else:
                for in_base in (False, True):
                    base = crime + counts.get(ASB, 0) if in_base else crime
                    if base and not (ASB in claim.crime_types and not in_base):
                        define = replace(define, with_asb=in_base)
                        yield Figure(Fraction(100 * n, base), n, float(base), define)


def _is_beatbooks(figure: Figure, nearest_year: int | None) -> bool:
    d = figure.definition
    return (
        d.unit == BEATBOOK_UNIT
        and not d.with_asb
        and (
            d.residents is None or (d.residents.base == "area" and d.residents.year == nearest_year)
        )
    )


def evaluate(claim: Claim, tallies: Sequence[Tally], nearest_year: int | None) -> ClaimCheck:
    """Every figure the tallies give for ``claim`` (tallies with missing months are not
    tried) and BeatBook's own: the area as it counts it, the calendar year's published
    months, one per Crime ID a month, crime without ASB (or ASB alone), the residents of
    the area in the estimate nearest the year (``nearest_year``), shares of crime."""
    tried: list[Figure] = []
    own: Figure | None = None
    gaps: tuple[str, ...] = ()
    for tally in tallies:
        figures = list(_figures(claim, tally))
        if not tally.months_missing:
            tried.extend(figures)
        if tally.beatbook:
            own = next((f for f in figures if _is_beatbooks(f, nearest_year)), None)
            gaps = tally.months_missing
    why = None
    if own is None:
        why = (
            "BeatBook gives no share for anti-social behaviour: it is not a crime, and BeatBook "
            "never adds it to crime"
            if claim.kind == "share" and ASB in claim.crime_types
            else "BeatBook cannot work out this figure from the store (see the reasons given)"
        )
    return ClaimCheck(claim, tuple(tried), own, why, gaps)
