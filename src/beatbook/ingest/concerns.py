"""Import residents' concerns: CSV sheets, and one concern at a time (the web form).

A concern is *(date, place, problem, source)*, optionally with the reporter's
contact. Places are given as free text ("outside 12 Narborough Rd") and/or
coordinates; they are matched to the police.uk snap points of the area's own
crimes so that concerns and crimes can be counted at the same places:

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

Problems map to ``reference/concern_problems.csv``: a slug or label given
exactly, else the keywords found in the text as whole words (the longest
keyword wins; ties go to the row listed first). The contact goes to its own
table, ``concern_contacts``, and is never echoed in an error or log line.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import math
import re
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from beatbook import queries
from beatbook.areas import Area, reference, resolve
from beatbook.errors import CSVFormatError, DataMissingError, InputError
from beatbook.geo import to_bng
from beatbook.reference import concern_problems
from beatbook.store import Store

log = logging.getLogger(__name__)

COLUMNS = ("date", "where", "latitude", "longitude", "problem", "source", "contact")
SOURCES = ("street-survey", "online", "partner", "phone", "meeting", "other")
MATCH_THRESHOLD = 88.0
MATCH_MARGIN = 5.0
MAX_DISTANCE_M = 250.0
MAX_ERRORS = 20
MAX_TEXT = 500  # characters in a free-text cell
LATITUDE, LONGITUDE = (49.0, 61.0), (-9.0, 2.5)  # Great Britain and Northern Ireland
SNAP_PREFIX = "On or near "

# police.uk snap-point labels that name no street (seen in every force's files).
GENERIC_PLACES = (
    "Airport/Airfield", "Bus/Coach Station", "Conference/Exhibition Centre",
    "Further/Higher Educational Building", "Hospital", "Motorway Service Area", "Nightclub",
    "Park/Open Space", "Parking Area", "Pedestrian Subway", "Petrol Station", "Police Station",
    "Prison", "Shopping Area", "Sports/Recreation Area", "Supermarket", "Theatre/Concert Hall",
)  # fmt: skip
_GENERIC_WORDS = ("car park", "park", "shops", "shop", "garage", "school", "pub", "bus stop",
                  "alley", "alleyway", "playground", "recreation ground")  # fmt: skip
_ABBREVIATIONS = {
    "rd": "road", "ave": "avenue", "av": "avenue", "cl": "close", "cres": "crescent",
    "cresc": "crescent", "dr": "drive", "ln": "lane", "gdns": "gardens", "gdn": "gardens",
    "sq": "square", "pl": "place", "terr": "terrace", "ter": "terrace", "tce": "terrace",
    "ct": "court", "gr": "grove", "gro": "grove", "blvd": "boulevard", "pk": "park",
    "wy": "way", "pde": "parade",
}  # fmt: skip
_DIRECTIONS = {"n": "north", "s": "south", "e": "east", "w": "west"}
_DIRECTION_WORDS = {"north", "south", "east", "west", "central", "extension"}
STREET_WORDS = frozenset({
    "road", "street", "lane", "avenue", "close", "drive", "way", "gardens", "crescent", "place",
    "court", "walk", "grove", "square", "terrace", "rise", "view", "mews", "gate", "gates", "row",
    "parade", "boulevard", "circle", "park", "hill", "croft", "vale", "approach", "chase", "dale",
    "bank", "walkway", "yard", "wharf", "end", "path", "fields", "drift",
})  # fmt: skip
_FILLERS = {"outside", "near", "nr", "opposite", "opp", "by", "behind", "in", "on", "at",
            "off", "along", "the", "of", "or"}  # fmt: skip
_PREPOSITIONS = _FILLERS | {"and", "to", "from", "between", "junction", "corner", "with"}
_FILLER_HEADS = {"corner", "junction", "top", "end", "bottom", "back", "rear", "side", "front"}


class ConcernFileError(InputError):
    """A concerns CSV with bad rows: every problem found (up to MAX_ERRORS), one per line."""

    def __init__(self, file: str, errors: list[CSVFormatError], total: int) -> None:
        lines = [str(e) for e in errors]
        more = f" (first {len(errors)} shown)" if total > len(errors) else ""
        head = f"{file}: {total} problem{'s' if total != 1 else ''}{more}; nothing was imported"
        super().__init__("\n".join([head, *lines]) if total > 1 else f"{lines[0]}; nothing was imported")
        self.errors, self.total = errors, total


# --- parsing cells ------------------------------------------------------------------------


def parse_date(text: str, today: dt.date | None = None) -> dt.date:
    """'2021-04-03' or '03/04/2021' (day first, as UK sheets write it); not after ``today``."""
    value = text.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    uk = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    try:
        if iso:
            day = dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif uk:
            day = dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
        else:
            raise ValueError
    except ValueError:
        raise ValueError(f"{value!r} is not a date; expected YYYY-MM-DD or DD/MM/YYYY") from None
    today = today or dt.date.today()
    if day > today:
        raise ValueError(f"{day} is in the future (today is {today})")
    return day


def parse_coordinate(text: str, axis: str) -> float:
    """A WGS84 ``latitude`` or ``longitude`` in decimal degrees, inside the UK."""
    low, high = LATITUDE if axis == "latitude" else LONGITUDE
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number; expected decimal degrees") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{value} is outside the UK (expected {low:g} to {high:g})")
    return value


def parse_source(text: str) -> str:
    value = re.sub(r"[\s_]+", "-", text.strip().lower())
    if value not in SOURCES:
        raise ValueError(f"{text.strip()!r} is not a source; expected one of {', '.join(SOURCES)}")
    return value


def _words(text: str) -> str:
    """Lowercase words separated by single spaces (punctuation and apostrophes dropped)."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower().replace("'", "").replace("’", "")).split())


def map_problem(text: str) -> str:
    """The concern problem slug for a category (slug or label) or free text (by keywords)."""
    wanted = _words(text)
    problems = concern_problems()
    for p in problems:
        if wanted in (_words(p.slug), _words(p.label)):
            return p.slug
    found = [
        (len(key), -i, p.slug)
        for i, p in enumerate(problems)
        for key in map(_words, p.keywords)
        if key and re.search(rf"\b{re.escape(key)}\b", wanted)
    ]
    if not found:
        raise ValueError(
            f"{text.strip()[:60]!r} matches no problem; expected one of "
            + ", ".join(p.slug for p in problems)
            + " (or free text naming one, e.g. 'drug dealing', 'youths', 'graffiti')"
        )
    return max(found)[2]


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


class PlaceMatcher:
    """The snap points of one area, and the rules that match a concern's place to them."""

    def __init__(self, points: pl.DataFrame, area_name: str) -> None:
        """``points``: location, longitude, latitude, lsoa_code, crimes (one row per snap point)."""
        self.area_name = area_name
        self.points = points.sort(["crimes", "location", "longitude", "latitude"],
                                  descending=[True, False, False, False])  # fmt: skip
        self.x, self.y = to_bng(self.points["longitude"].to_numpy(), self.points["latitude"].to_numpy())
        generic = {SNAP_PREFIX + g for g in GENERIC_PLACES}
        self.by_key: dict[str, int] = {}  # normalised name -> its busiest point's row
        for i, loc in enumerate(self.points["location"].to_list()):
            if loc and loc.startswith(SNAP_PREFIX) and loc not in generic:
                key = " ".join(w for seg in _segments(loc, query=False) for w in seg)
                if key:
                    self.by_key.setdefault(key, i)
        self.keys = list(self.by_key)
        parts = [_split(k.split()) for k in self.keys]
        self.stems = [s for s, _ in parts]
        self.types = np.array([t for _, t in parts], dtype=object)
        self.generic = {_words(g) for g in GENERIC_PLACES} | set(_GENERIC_WORDS)

    @classmethod
    def for_area(cls, store: Store, area: Area) -> PlaceMatcher:
        """Snap points of the crimes stored for ``area`` (all stored months)."""
        first, last = store.row("SELECT min(month), max(month) FROM partitions WHERE kind = 'street'")
        if first is None:
            raise DataMissingError("no police.uk street crimes stored: concerns are matched to "
                                   "their snap points, so run 'beatbook ingest' first")  # fmt: skip
        crimes = queries.incidents(store, area, first, last)
        if crimes.is_empty():
            raise DataMissingError(f"no located crimes stored for {area.name!r}: its snap points "
                                   "are needed to place concerns")  # fmt: skip
        point = ["location", "longitude", "latitude"]
        points = (
            crimes.group_by([*point, "lsoa_code"]).agg(pl.len().alias("n"))
            .sort(["n", "lsoa_code"], descending=[True, False], nulls_last=True)
            .group_by(point, maintain_order=True)
            .agg(pl.col("lsoa_code").first(), pl.col("n").sum().alias("crimes"))
        )  # fmt: skip
        return cls(points, area.name)

    def _at(self, i: int, method: str, score: float | None = None) -> PlaceMatch:
        row = self.points.row(i, named=True)
        return PlaceMatch(row["location"], row["longitude"], row["latitude"], row["lsoa_code"],
                          method=method, score=score)  # fmt: skip

    def match(self, where: str | None, longitude: float | None, latitude: float | None) -> PlaceMatch:
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
            return PlaceMatch(note=f"no snap point of {self.area_name} within "
                                   f"{MAX_DISTANCE_M:g} m of the coordinates")  # fmt: skip
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
            return self._at(self.by_key[self.keys[best_c]], method="street name", score=round(best, 1))
        note = (f"ambiguous: several streets score {best:.0f} or close" if best >= MATCH_THRESHOLD
                else f"no street of {self.area_name} scores {MATCH_THRESHOLD:g} or more "
                     f"(best {best:.0f})")  # fmt: skip
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


@dataclass(frozen=True)
class ConcernRow:
    """One parsed concern, before its place is matched."""

    line: int | None
    reported_on: dt.date
    where_text: str | None
    latitude: float | None
    longitude: float | None
    problem_text: str
    problem: str
    source: str
    contact: str | None = field(default=None, repr=False)

    def content_key(self) -> str:
        """What makes two rows the same concern (never the contact)."""
        return json.dumps([self.reported_on.isoformat(), self.where_text, self.latitude,
                           self.longitude, self.problem_text, self.source])  # fmt: skip


def parse_row(cells: Mapping[str, str], line: int | None, today: dt.date | None = None
              ) -> tuple[ConcernRow | None, list[tuple[str, str]]]:  # fmt: skip
    """A row's cells (lowercase column -> text) -> the concern, or its (column, problem) list."""
    text = {c: (cells.get(c) or "").strip() for c in COLUMNS}
    errors: list[tuple[str, str]] = []

    def cell(column: str, parse: Callable[..., Any], *args: object) -> Any:
        if not text[column]:
            if column in _EMPTY:
                errors.append((column, f"empty; expected {_EMPTY[column]}"))
            return None
        try:
            return parse(text[column], *args)
        except ValueError as exc:
            errors.append((column, str(exc)))
            return None

    day = cell("date", parse_date, today)
    lat = cell("latitude", parse_coordinate, "latitude")
    lon = cell("longitude", parse_coordinate, "longitude")
    problem = cell("problem", map_problem)
    source = cell("source", parse_source)
    for given, missing in (("latitude", "longitude"), ("longitude", "latitude")):
        if text[given] and not text[missing]:
            errors.append((missing, f"empty, but {given} is given; expected both or neither"))
    if not text["where"] and not (text["latitude"] or text["longitude"]):
        errors.append(("where", "empty; expected a street or landmark, or latitude and longitude"))
    for column in ("where", "problem", "contact"):
        if len(text[column]) > MAX_TEXT:
            errors.append((column, f"longer than {MAX_TEXT} characters"))
    if errors:  # an error never repeats the contact, even one typed into another cell
        contact = text["contact"]
        if len(contact) >= 4:  # shorter ('-', 'n/a') identifies no one
            errors = [(c, re.sub(re.escape(contact), "[contact]", m, flags=re.I)) for c, m in errors]
        return None, errors
    return ConcernRow(line, day, text["where"] or None, lat, lon, text["problem"], problem,
                      source, text["contact"] or None), []  # fmt: skip


_EMPTY = {"date": "YYYY-MM-DD or DD/MM/YYYY",
          "problem": "a problem, e.g. drugs, asb, street-drinking",
          "source": "one of " + ", ".join(SOURCES)}  # fmt: skip


def read_concerns_csv(path: str | Path, today: dt.date | None = None) -> list[ConcernRow]:
    """Parse a concerns CSV; any bad row raises :class:`ConcernFileError` naming every problem."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CSVFormatError(name, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the "
                             "sheet as 'CSV UTF-8'", line=data[: exc.start].count(b"\n") + 1) from None  # fmt: skip
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise CSVFormatError(name, f"empty file; expected a header row with {', '.join(COLUMNS)}", line=1)
    columns = [h.strip().lower() for h in header]
    problems = [f"unexpected column '{c}'" for c in columns if c not in COLUMNS]
    problems += [f"column '{c}' appears twice" for c, n in Counter(columns).items() if n > 1]
    needed = ["date", "problem", "source"]
    if "where" not in columns or ("latitude" in columns) != ("longitude" in columns):
        needed += ["latitude", "longitude"]
    problems += [f"missing column '{c}'" for c in needed if c not in columns]
    if problems:
        raise CSVFormatError(name, "; ".join(problems) + f" (expected columns: {', '.join(COLUMNS)}"
                             "; date, problem, source and where or latitude+longitude are needed)",
                             line=1)  # fmt: skip
    rows: list[ConcernRow] = []
    errors: list[CSVFormatError] = []
    total, last_line = 0, reader.line_num
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank rows at the end of a spreadsheet export
            if len(cells) != len(columns):
                found = [(None, f"{len(cells)} cells; expected {len(columns)} (one per column)")]
            else:
                row, found = parse_row(dict(zip(columns, cells, strict=True)), line, today)  # type: ignore[assignment]
                if row is not None:
                    rows.append(row)
            total += len(found)
            errors += [CSVFormatError(name, m, line=line, column=c) for c, m in found]
    except csv.Error as exc:
        raise CSVFormatError(name, f"not a readable CSV ({exc})", line=reader.line_num) from None
    if total:
        raise ConcernFileError(name, errors[:MAX_ERRORS], total)
    return rows


# --- storing ------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What a concerns import did (``concerns import --json`` prints :meth:`to_dict`)."""

    file: str
    area: str
    rows: int
    added: int
    already_stored: int
    matched_by_name: int
    matched_by_coordinates: int
    unmatched: list[dict[str, object]]

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "unmatched_count": len(self.unmatched)}


def import_concerns(store: Store, path: str | Path, area: str, *, today: dt.date | None = None
                    ) -> ImportResult:  # fmt: skip
    """Import a concerns CSV for ``area`` in one transaction; rows already stored are skipped."""
    resolved = resolve(store, area)
    rows = read_concerns_csv(path, today)
    seen: Counter[str] = Counter()
    keys = []
    for row in rows:  # identical rows in one file are separate concerns: number them
        content = row.content_key()
        keys.append(hashlib.sha256(f"{content}#{seen[content]}".encode()).hexdigest())
        seen[content] += 1
    added = [s for s in _store(store, resolved, list(zip(rows, keys, strict=True)), str(path))
             if s[2] is not None]  # fmt: skip
    result = ImportResult(
        file=str(path), area=resolved.name, rows=len(rows), added=len(added),
        already_stored=len(rows) - len(added),
        matched_by_name=sum(m.method == "street name" for _, m, _ in added),
        matched_by_coordinates=sum(m.method == "coordinates" for _, m, _ in added),
        unmatched=[{"concern_id": cid, "line": r.line, "reported_on": r.reported_on.isoformat(),
                    "where_text": r.where_text,
                    "note": m.note, "suggestions": list(m.suggestions)}
                   for r, m, cid in added if m.place is None],
    )  # fmt: skip
    log.info("concerns import %s for %s: %d rows, %d added, %d unmatched", path, resolved.name,
             result.rows, result.added, len(result.unmatched))  # fmt: skip
    return result


def record_concern(
    store: Store,
    *,
    area: str | Area,
    reported_on: dt.date | str,
    problem: str,
    source: str,
    where: str | None = None,
    latitude: float | str | None = None,
    longitude: float | str | None = None,
    contact: str | None = None,
    submission_id: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Record one concern (the web form); returns its ``concern_id``.

    The same checks as a CSV row; a bad field raises :class:`InputError` naming the field.
    Sending the same ``submission_id`` again returns the first concern's id and adds nothing.
    """
    resolved = resolve(store, area) if isinstance(area, str) else area
    cells = {"date": reported_on.isoformat() if isinstance(reported_on, dt.date) else reported_on,
             "where": where or "", "problem": problem, "source": source, "contact": contact or "",
             "latitude": "" if latitude is None else str(latitude),
             "longitude": "" if longitude is None else str(longitude)}  # fmt: skip
    row, errors = parse_row(cells, None, today)
    if row is None:
        raise InputError("; ".join(f"{column}: {message}" for column, message in errors))
    key = hashlib.sha256(f"form#{submission_id or uuid.uuid4()}".encode()).hexdigest()
    ((_, _, concern_id),) = _store(store, resolved, [(row, key)], None)
    if concern_id is None:
        concern_id = store.scalar("SELECT concern_id FROM concerns WHERE row_sha256 = ?", [key])
    return int(concern_id)


def _store(store: Store, area: Area, rows: list[tuple[ConcernRow, str]], file: str | None
           ) -> list[tuple[ConcernRow, PlaceMatch, int | None]]:  # fmt: skip
    """Match and insert the rows not stored yet, with their contacts, in one transaction.

    Returns (row, match, new concern_id); the id is None for a row already stored.
    """
    with store.transaction() as con:
        existing = {r[0] for r in con.execute(
            "SELECT row_sha256 FROM concerns WHERE row_sha256 IN (SELECT unnest(?::VARCHAR[]))",
            [[k for _, k in rows]]).fetchall()}  # fmt: skip
        new = [(r, k) for r, k in rows if k not in existing]
        matches: dict[str, PlaceMatch] = {}
        if new:
            matcher = PlaceMatcher.for_area(store, area)
            cache: dict[tuple[str | None, float | None, float | None], PlaceMatch] = {}
            for r, k in new:
                where = (r.where_text, r.longitude, r.latitude)
                matches[k] = cache.get(where) or cache.setdefault(where, matcher.match(*where))
            _insert(con, area, [(r, matches[k], k) for r, k in new], file)
        ids = dict(con.execute(
            "SELECT row_sha256, concern_id FROM concerns WHERE row_sha256 IN "
            "(SELECT unnest(?::VARCHAR[]))", [list(matches)]).fetchall())  # fmt: skip
    return [(r, matches.get(k, PlaceMatch()), ids.get(k)) for r, k in rows]


def _insert(con: duckdb.DuckDBPyConnection, area: Area,
            rows: list[tuple[ConcernRow, PlaceMatch, str]], file: str | None) -> None:  # fmt: skip
    """One INSERT for all the rows (DuckDB reads the frame), one for their contacts."""
    frame = pl.DataFrame([{
        "area": reference(area), "area_name": area.name, "reported_on": r.reported_on,
        "month": r.reported_on.replace(day=1), "where_text": r.where_text,
        "given_longitude": r.longitude, "given_latitude": r.latitude, "place": m.place,
        "longitude": m.longitude, "latitude": m.latitude, "lsoa_code": m.lsoa_code,
        "match_method": m.method, "match_score": m.score, "match_note": m.note,
        "suggestions": list(m.suggestions), "problem_text": r.problem_text, "problem": r.problem,
        "source": r.source, "row_sha256": k, "source_file": file, "source_line": r.line,
        "contact": r.contact} for r, m, k in rows], schema_overrides=_FRAME_TYPES)  # fmt: skip
    columns = ", ".join(c for c in frame.columns if c != "contact")
    con.register("_new_concerns", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO concerns ({columns}, imported_at) "
                    f"SELECT {columns}, now() FROM _new_concerns")  # fmt: skip
        con.execute("INSERT INTO concern_contacts SELECT c.concern_id, n.contact FROM "
                    "_new_concerns n JOIN concerns c USING (row_sha256) WHERE n.contact IS NOT NULL")  # fmt: skip
    finally:
        con.unregister("_new_concerns")


_FRAME_TYPES: dict[str, Any] = {
    "where_text": pl.Utf8, "given_longitude": pl.Float64, "given_latitude": pl.Float64,
    "place": pl.Utf8, "longitude": pl.Float64, "latitude": pl.Float64, "lsoa_code": pl.Utf8,
    "match_method": pl.Utf8, "match_score": pl.Float64, "match_note": pl.Utf8,
    "suggestions": pl.List(pl.Utf8), "source_file": pl.Utf8, "source_line": pl.Int32,
    "contact": pl.Utf8,
}  # fmt: skip
