"""Find a street or postcode among the areas the public pages cover, and its ward and area.

Streets are police.uk's snap points ("On or near Elm Close" -> "Elm Close", the generic
ones such as "Supermarket" left out) of the crimes stored in the covered areas: the team
areas, or before any is defined, the districts the stored forces police. Each street is
listed once per ward it has crimes in (the ward from the ONS lookup of its LSOA). A query
matches a street when its words, normalised as a concern's place is
(:func:`beatbook.concerns.matching.normalise_place`: "Narborough Rd" -> "narborough road"),
start words of the street's name in order ("narb" finds Narborough Road); with no such
street, the closest names (rapidfuzz ``fuzz.ratio`` of :data:`SUGGEST_SCORE` or more) are
offered instead.

Postcodes are searched only where a postcode lookup is stored
(:func:`beatbook.queries.postcodes_loaded`); otherwise the answer says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl
from rapidfuzz import fuzz, process

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.concerns.matching import normalise_place
from beatbook.errors import InputError
from beatbook.reference.snap_points import GENERIC_KINDS, PREFIX
from beatbook.store import Store

__all__ = ["MAX_QUERY", "MAX_RESULTS", "StreetIndex", "covered_areas", "search"]

MAX_QUERY = 100  # characters: a street name or a postcode is far shorter
MAX_RESULTS = 20
SUGGEST_SCORE = 75.0
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*([0-9][A-Z]{2}))?")


def covered_areas(store: Store) -> list[Area]:
    """The areas the public pages cover: the team areas, or before any is defined, the
    districts the stored forces police (not those a few crimes stray into)."""
    teams = areas_mod.team_areas(store)
    if teams:
        return teams
    every = areas_mod.list_areas(store)
    policed = {d for a in every if a.kind == "force area" for d in a.local_authorities}
    return [a for a in every if a.kind == "local authority" and a.name in policed]


def _lsoas(store: Store, area: Area) -> set[str]:
    codes = set(areas_mod.lsoas_of(store, area))
    if area.local_authorities:  # works before any ONS lookup is imported
        codes |= q.lsoas_in_local_authorities(store, area.local_authorities)
    return codes


@dataclass(frozen=True)
class StreetIndex:
    """Every searchable street of the covered areas: one row per (street, ward, area) with
    street, key (its normalised words), ward, ward_code (None where the lookup has no
    ward), area (reference), area_name and crimes; and the LSOAs each area covers."""

    streets: pl.DataFrame
    area_lsoas: dict[str, frozenset[str]]
    area_names: dict[str, str]

    @classmethod
    def build(cls, store: Store) -> StreetIndex:
        frames, area_lsoas, names = [], {}, {}
        generic = {PREFIX + g for g in GENERIC_KINDS}
        for area in covered_areas(store):
            ref = areas_mod.reference(area)
            codes = _lsoas(store, area)
            area_lsoas[ref], names[ref] = frozenset(codes), area.name
            points = q.snap_points_in(store, sorted(codes))
            points = points.filter(
                pl.col("location").str.starts_with(PREFIX)
                & ~pl.col("location").is_in(sorted(generic))
            )
            if points.is_empty():
                continue
            wards = q.ward_labels(store, points["lsoa_code"].unique().to_list())
            frames.append(
                points.join(wards, on="lsoa_code", how="left")
                .group_by("location", "ward", "ward_code")
                .agg(pl.col("crimes").sum())
                .with_columns(pl.lit(ref).alias("area"), pl.lit(area.name).alias("area_name"))
            )
        schema = {
            "location": pl.Utf8,
            "ward": pl.Utf8,
            "ward_code": pl.Utf8,
            "crimes": pl.Int64,
            "area": pl.Utf8,
            "area_name": pl.Utf8,
        }
        streets = pl.concat(
            [f.select([pl.col(c).cast(t) for c, t in schema.items()]) for f in frames]
            or [pl.DataFrame(schema=schema)]
        )
        streets = streets.with_columns(
            pl.col("location").str.strip_prefix(PREFIX).alias("street"),
            pl.col("location").map_elements(normalise_place, return_dtype=pl.Utf8).alias("key"),
        ).sort("street", "ward", "area_name")
        return cls(streets, area_lsoas, names)


def _starts_words(query: str, key: str) -> bool:
    """Each query word starts a word of ``key``, in order ('narb rd' in 'narborough road')."""
    remaining = key.split()
    for word in query.split():
        while remaining and not remaining[0].startswith(word):
            remaining.pop(0)
        if not remaining:
            return False
        remaining.pop(0)
    return True


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.select("street", "ward", "ward_code", "area", "area_name").to_dicts()


def _by_street(index: StreetIndex, query: str) -> dict[str, Any]:
    wanted = normalise_place(query).replace(",", " ")
    if not wanted.strip():
        raise InputError("search: type a street name or a postcode")
    keys = index.streets["key"].to_list()
    found = index.streets.filter(pl.Series([_starts_words(wanted, k) for k in keys]))
    exact = found.filter(pl.col("key") == wanted)
    found = pl.concat([exact, found.filter(pl.col("key") != wanted)])
    suggestions: list[str] = []
    if found.is_empty() and keys:
        names = index.streets.unique("key", keep="first", maintain_order=True)
        best = process.extract(
            wanted, names["key"].to_list(), scorer=fuzz.ratio, limit=5, score_cutoff=SUGGEST_SCORE
        )
        suggestions = [names["street"][i] for _, _, i in best]
    return {
        "kind": "street",
        "results": _rows(found.head(MAX_RESULTS)),
        "more": max(0, found.height - MAX_RESULTS),
        "suggestions": suggestions,
    }


def _by_postcode(store: Store, index: StreetIndex, postcode: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"kind": "postcode", "postcode": postcode, "results": []}
    answer.update(more=0, suggestions=[], postcodes_loaded=q.postcodes_loaded(store))
    if not answer["postcodes_loaded"]:
        return answer
    codes = q.postcode_lsoas(store, postcode)
    answer["known"] = bool(codes)
    wards = q.ward_labels(store, codes) if codes else pl.DataFrame()
    rows = []
    for ref, covered in index.area_lsoas.items():
        inside = [c for c in codes if c in covered]
        for ward, code in (
            wards.filter(pl.col("lsoa_code").is_in(inside))
            .select("ward", "ward_code")
            .unique()
            .sort("ward")
            .iter_rows()
            if inside
            else []
        ):
            rows.append(
                {
                    "street": None,
                    "ward": ward,
                    "ward_code": code,
                    "area": ref,
                    "area_name": index.area_names[ref],
                }
            )
    answer["results"] = rows[:MAX_RESULTS]
    answer["more"] = max(0, len(rows) - MAX_RESULTS)
    return answer


def search(store: Store, text: str, index: StreetIndex | None = None) -> dict[str, Any]:
    """Look up ``text``, a street name or a postcode (full, 'LE3 0AA', or its first half,
    'LE3'), among the covered areas. Returns query, kind ('street' or 'postcode'), results
    ([{street (None for a postcode), ward, ward_code, area, area_name}], at most
    :data:`MAX_RESULTS`), more (how many were left out), suggestions (street names close to
    an unmatched query); for a postcode also postcode, postcodes_loaded and known.

    An empty or over-long query raises :class:`InputError`; nothing else does."""
    query = " ".join(text.split())
    if not query:
        raise InputError("search: type a street name or a postcode")
    if len(query) > MAX_QUERY:
        raise InputError(
            f"search: {len(query)} characters; expected a street name or postcode of at most "
            f"{MAX_QUERY}"
        )
    index = index or StreetIndex.build(store)
    code = POSTCODE.fullmatch(query.upper())
    if code:
        postcode = code[1] + (f" {code[2]}" if code[2] else "")
        return {"query": query, **_by_postcode(store, index, postcode)}
    return {"query": query, **_by_street(index, query)}
