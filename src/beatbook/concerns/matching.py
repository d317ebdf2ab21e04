"""Match where a resident says a problem is to the police.uk snap points of an area.

* **coordinates** first: the nearest snap point of the area within
  :data:`MAX_DISTANCE_M` metres (British National Grid distance), generic ones
  ("On or near Supermarket") included;
* else the **text**, against the area's named snap points (generic labels such
  as Supermarket or Parking Area name no street and are left out). The text is
  normalised (:func:`normalise_place`) and cut at commas; each part, and each run
  of up to five words ending in a street word ("road", "close", ...) that starts
  the part or follows a preposition ("chip shop *on* Narborough Rd"), is scored
  against every name with rapidfuzz's ``fuzz.ratio`` (Indel similarity, 0-100).
  When both end in the same street word only the distinctive rest is compared
  ("narborogh" vs "narborough"; a direction such as East counts as distinctive),
  so the shared "road" does not make Harris Road look like Harrison Road;
  otherwise the whole texts are compared. A name is accepted at
  :data:`MATCH_THRESHOLD` or above when no other name is within
  :data:`MATCH_MARGIN` points of it (else it is ambiguous: "junction of Melton
  Road and Loughborough Road"). On Leicester's 2,843 named snap points every name
  matches itself; of 1,200 one-edit misspellings (three draws of 400) 87% matched,
  none to a wrong street; of 400 street names from other districts that Leicester
  lacks, 1% matched a look-alike (Barr Road -> Barry Road).

A street with several snap points in the area keeps the point with the most
crimes (all stored months; ties: the western, then the southern one); its LSOA is
the most common one among that point's crimes (ties: the smallest code). A row that
matches nothing is stored unmatched (``place`` NULL) with its best three
suggestions, for a person to fix with ``beatbook concerns match``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from beatbook import queries
from beatbook.areas import Area
from beatbook.errors import DataMissingError
from beatbook.geo import to_bng
from beatbook.reference.snap_points import GENERIC_KINDS, PREFIX
from beatbook.store import Store

MATCH_THRESHOLD = 88.0
MATCH_MARGIN = 5.0
MAX_DISTANCE_M = 250.0
_GENERIC_WORDS = (
    "car park",
    "park",
    "shops",
    "shop",
    "garage",
    "school",
    "pub",
    "bus stop",
    "alley",
    "alleyway",
    "playground",
    "recreation ground",
)
_ABBREVIATIONS = {
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "cl": "close",
    "cres": "crescent",
    "cresc": "crescent",
    "dr": "drive",
    "ln": "lane",
    "gdns": "gardens",
    "gdn": "gardens",
    "sq": "square",
    "pl": "place",
    "terr": "terrace",
    "ter": "terrace",
    "tce": "terrace",
    "ct": "court",
    "gr": "grove",
    "gro": "grove",
    "blvd": "boulevard",
    "pk": "park",
    "wy": "way",
    "pde": "parade",
}
_DIRECTIONS = {"n": "north", "s": "south", "e": "east", "w": "west"}
_DIRECTION_WORDS = {"north", "south", "east", "west", "central", "extension"}
STREET_WORDS = frozenset(
    {
        "road",
        "street",
        "lane",
        "avenue",
        "close",
        "drive",
        "way",
        "gardens",
        "crescent",
        "place",
        "court",
        "walk",
        "grove",
        "square",
        "terrace",
        "rise",
        "view",
        "mews",
        "gate",
        "gates",
        "row",
        "parade",
        "boulevard",
        "circle",
        "park",
        "hill",
        "croft",
        "vale",
        "approach",
        "chase",
        "dale",
        "bank",
        "walkway",
        "yard",
        "wharf",
        "end",
        "path",
        "fields",
        "drift",
    }
)
_FILLERS = {
    "outside",
    "near",
    "nr",
    "opposite",
    "opp",
    "by",
    "behind",
    "in",
    "on",
    "at",
    "off",
    "along",
    "the",
    "of",
    "or",
}
_PREPOSITIONS = _FILLERS | {"and", "to", "from", "between", "junction", "corner", "with"}
_FILLER_HEADS = {"corner", "junction", "top", "end", "bottom", "back", "rear", "side", "front"}


def words(text: str) -> str:
    """Lowercase words separated by single spaces (punctuation and apostrophes dropped)."""
    return " ".join(
        re.sub(r"[^a-z0-9]+", " ", text.lower().replace("'", "").replace("’", "")).split()
    )


# --- places -------------------------------------------------------------------------------


def _tokens(segment: str, *, query: bool) -> list[str]:
    """Normalised words of one comma-free piece of a place (see :func:`normalise_place`)."""
    raw = segment.lower().replace("'", "").replace("’", "").replace("&", " and ")
    words = re.sub(r"[^a-z0-9]+", " ", raw).split()
    out: list[str] = []
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else None
        ends_name = following is None or following in _DIRECTIONS or following in _DIRECTION_WORDS
        if word == "st":  # 'Church St' is a street, 'St Peters Road' a saint
            out.append("street" if ends_name else "st")
        elif word == "saint":
            out.append("saint" if ends_name else "st")
        elif word in _DIRECTIONS and out and out[-1] in STREET_WORDS:
            out.append(_DIRECTIONS[word])
        else:
            out.append(_ABBREVIATIONS.get(word, word))
    while True:  # leading 'on or near', 'outside', 'the', house numbers, 'corner of' ...
        if out[:3] == ["on", "or", "near"]:
            out = out[3:]
        elif out and (out[0] == "the" or (query and _is_filler(out[0]))):
            out = out[1:]
        elif query and len(out) > 1 and out[0] in _FILLER_HEADS and out[1] == "of":
            out = out[2:]
        else:
            return out


def _is_filler(word: str) -> bool:
    """'outside', 'near', ... or a house number ('12', '12a')."""
    return word in _FILLERS or re.fullmatch(r"\d+[a-z]?", word) is not None


def _segments(text: str, *, query: bool = True) -> list[list[str]]:
    pieces = re.split(r"[,;/()\n]+", text)
    return [t for t in (_tokens(p, query=query) for p in pieces) if t]


def normalise_place(text: str) -> str:
    """A place text as matched: lowercase words, abbreviations expanded, fillers dropped.

    Parts stay apart (", "); leading "on or near", "outside", "the", "corner of",
    house numbers and the like are dropped from each part.

    >>> normalise_place("Outside 12a, Narborough Rd N.")
    'narborough road north'
    >>> normalise_place("On or near St Peter's Rd, Leicester")
    'st peters road, leicester'
    """
    return ", ".join(" ".join(seg) for seg in _segments(text))


def _split(words: list[str]) -> tuple[str, str]:
    """(distinctive part, street word): 'knighton fields road east' -> ('knighton fields east', 'road').

    A direction after the street word is distinctive (Road East is not Road West).
    """
    k = len(words)
    direction = words[-1:] if k > 2 and words[-1] in _DIRECTION_WORDS else []
    k -= len(direction)
    if k > 1 and words[k - 1] in STREET_WORDS:
        return " ".join(words[: k - 1] + direction), words[k - 1]
    return " ".join(words), ""


@dataclass(frozen=True)
class PlaceMatch:
    """Where a concern is, as a police.uk snap point (``place`` None when unmatched)."""

    place: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    lsoa_code: str | None = None
    method: str | None = None  # 'street name' | 'coordinates' | 'by hand'
    score: float | None = None
    note: str | None = None
    suggestions: tuple[str, ...] = ()


def snap_points(crimes: pl.DataFrame) -> pl.DataFrame:
    """Each police.uk snap point (location, longitude, latitude) of these located crimes once,
    with the LSOA most of its crimes carry (the first code on a tie: a point on an LSOA edge
    belongs to one) and its number of crimes."""
    point = ["location", "longitude", "latitude"]
    return (
        crimes.group_by([*point, "lsoa_code"])
        .agg(pl.len().alias("n"))
        .sort(["n", "lsoa_code"], descending=[True, False], nulls_last=True)
        .group_by(point, maintain_order=True)
        .agg(pl.col("lsoa_code").first(), pl.col("n").sum().alias("crimes"))
    )


class PlaceMatcher:
    """The snap points of one area, and the rules that match a concern's place to them."""

    def __init__(self, points: pl.DataFrame, area_name: str) -> None:
        """``points``: location, longitude, latitude, lsoa_code, crimes (one row per snap point)."""
        self.area_name = area_name
        self.points = points.sort(
            ["crimes", "location", "longitude", "latitude"], descending=[True, False, False, False]
        )
        self.x, self.y = to_bng(
            self.points["longitude"].to_numpy(), self.points["latitude"].to_numpy()
        )
        generic = {PREFIX + g for g in GENERIC_KINDS}
        self.by_key: dict[str, int] = {}  # normalised name -> its busiest point's row
        for i, loc in enumerate(self.points["location"].to_list()):
            if loc and loc.startswith(PREFIX) and loc not in generic:
                key = " ".join(w for seg in _segments(loc, query=False) for w in seg)
                if key:
                    self.by_key.setdefault(key, i)
        self.keys = list(self.by_key)
        parts = [_split(k.split()) for k in self.keys]
        self.stems = [s for s, _ in parts]
        self.types = np.array([t for _, t in parts], dtype=object)
        self.generic = {words(g) for g in GENERIC_KINDS} | set(_GENERIC_WORDS)

    @classmethod
    def for_area(cls, store: Store, area: Area) -> PlaceMatcher:
        """Snap points of the crimes stored for ``area`` (all stored months)."""
        stored = queries.months_with_data(store, dt.date(1900, 1, 1), dt.date(9999, 12, 1))
        if not stored:
            raise DataMissingError(
                "no police.uk street crimes stored: concerns are matched to "
                "their snap points, so run 'beatbook ingest' first"
            )
        crimes = queries.incidents(store, area, stored[0], stored[-1])
        if crimes.is_empty():
            raise DataMissingError(
                f"no located crimes stored for {area.name!r}: its snap points "
                "are needed to place concerns"
            )
        return cls(snap_points(crimes), area.name)

    def _at(self, i: int, method: str, score: float | None = None) -> PlaceMatch:
        row = self.points.row(i, named=True)
        return PlaceMatch(
            row["location"],
            row["longitude"],
            row["latitude"],
            row["lsoa_code"],
            method=method,
            score=score,
        )

    def match(
        self, where: str | None, longitude: float | None, latitude: float | None
    ) -> PlaceMatch:
        """Coordinates first, then the text; unmatched with a note and suggestions otherwise."""
        near = None
        if longitude is not None and latitude is not None:
            near = self.by_coordinates(longitude, latitude)
            if near.place is not None or not where:
                return near
        found = self.by_name(where or "")
        if found.place is None and near is not None:
            return PlaceMatch(note=f"{near.note}; {found.note}", suggestions=found.suggestions)
        return found

    def by_coordinates(self, longitude: float, latitude: float) -> PlaceMatch:
        x, y = to_bng(np.array([longitude]), np.array([latitude]))
        dist = np.hypot(self.x - x[0], self.y - y[0])
        i = int(np.argmin(dist))
        if dist[i] > MAX_DISTANCE_M:
            return PlaceMatch(
                note=f"no snap point of {self.area_name} within "
                f"{MAX_DISTANCE_M:g} m of the coordinates"
            )
        return self._at(i, method="coordinates")

    def by_name(self, text: str) -> PlaceMatch:
        """The named snap point ``text`` means, by the threshold-and-margin rule above."""
        segments = _segments(text)
        if not segments:
            return PlaceMatch(note="no place given")
        if " ".join(w for s in segments for w in s) in self.generic or not self.keys:
            return PlaceMatch(note="a place with no street name: give the street or coordinates")
        windows = _windows(segments)
        scores = np.vstack([self._scores(words) for _, words in windows])
        spans = [span for span, _ in windows]
        lengths = np.array([len(words) for _, words in windows])
        tops = np.argwhere(scores == scores.max())  # ties: the longest window
        best_w, best_c = (int(i) for i in tops[np.argmax(lengths[tops[:, 0]])])
        best = float(scores[best_w, best_c])
        rivals = scores.copy()
        rivals[:, best_c] = -1
        for w, span in enumerate(spans):  # a window inside the best one is the same mention
            if w != best_w and span[0] == spans[best_w][0] and _inside(span, spans[best_w]):
                rivals[w] = -1
        runner_up = float(rivals.max())
        per_name = scores.max(axis=0)
        order = [int(i) for i in np.argsort(-per_name, kind="stable")[:3] if per_name[i] >= 50]
        suggestions = tuple(self.points["location"][self.by_key[self.keys[i]]] for i in order)
        if best >= MATCH_THRESHOLD and best - runner_up >= MATCH_MARGIN:
            return self._at(
                self.by_key[self.keys[best_c]], method="street name", score=round(best, 1)
            )
        note = (
            f"ambiguous: several streets score {best:.0f} or close"
            if best >= MATCH_THRESHOLD
            else f"no street of {self.area_name} scores {MATCH_THRESHOLD:g} or more "
            f"(best {best:.0f})"
        )
        return PlaceMatch(note=note, suggestions=suggestions)

    def _scores(self, words: list[str]) -> np.ndarray:
        query = " ".join(words)
        stem, kind = _split(words)
        whole = cdist([query], self.keys, scorer=fuzz.ratio)[0]
        stems = cdist([stem], self.stems, scorer=fuzz.ratio)[0]
        return np.where(self.types == kind, stems, whole)


def _windows(segments: list[list[str]]) -> list[tuple[tuple[int, int, int], list[str]]]:
    """The pieces of a place text that may name a street, as ((segment, start, end), words).

    Each segment whole, and each run of up to five words ending in a street word (and
    perhaps a direction) that starts the segment or follows a preposition ("on", "near",
    "and", ...), and is not followed by another street word: so "chip shop on Narborough
    Road" offers "narborough road", but "Lower Cambridge Street" does not offer
    "cambridge street" nor "Park View Close" "park view".
    """
    found: dict[tuple[int, int, int], list[str]] = {}
    for s, words in enumerate(segments):
        found[(s, 0, len(words))] = words
        for end in range(2, len(words) + 1):
            last = end - 1 if words[end - 1] in _DIRECTION_WORDS else end
            if words[last - 1] not in STREET_WORDS:
                continue
            if end < len(words) and words[end] in STREET_WORDS | _DIRECTION_WORDS:
                continue
            for start in range(max(0, last - 5), last - 1):
                if start == 0 or words[start - 1] in _PREPOSITIONS:
                    found.setdefault((s, start, end), words[start:end])
    return list(found.items())


def _inside(span: tuple[int, int, int], outer: tuple[int, int, int]) -> bool:
    return outer[1] <= span[1] and span[2] <= outer[2]


# --- rows ---------------------------------------------------------------------------------
