"""Import residents' concerns: CSV sheets, and one concern at a time (the web form).

A concern is *(date, place, problem, source)*, optionally with the reporter's
contact. Places are given as free text ("outside 12 Narborough Rd") and/or
coordinates; they are matched to the police.uk snap points of the area's own
crimes so that concerns and crimes can be counted at the same places:

See :mod:`beatbook.concerns.matching` for how places are matched.

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

import sqlalchemy as sa

from beatbook.areas import Area, reference, resolve
from beatbook.concerns.matching import PlaceMatch, PlaceMatcher, words
from beatbook.errors import (
    NUL_PROBLEM,
    ConcernFieldError,
    ConcernFileError,
    CSVFormatError,
    InputError,
)
from beatbook.records.engine import utc_now
from beatbook.records.schema import concern_contacts, concern_descriptions, concerns
from beatbook.reference import concern_problems
from beatbook.settings import FIRST_DAY
from beatbook.store import Store

log = logging.getLogger(__name__)

COLUMNS = ("date", "where", "latitude", "longitude", "problem", "source", "contact")
SOURCES = ("street-survey", "online", "partner", "phone", "meeting", "other")
MAX_ERRORS = 20
MAX_TEXT = 500  # characters in a free-text cell
LATITUDE, LONGITUDE = (49.0, 61.0), (-9.0, 2.5)  # Great Britain and Northern Ireland
# --- parsing cells ------------------------------------------------------------------------


def parse_date(text: str, today: dt.date | None = None) -> dt.date:
    """'2021-04-03' or '03/04/2021' (day first, as UK sheets write it); from
    settings.FIRST_DAY, not after ``today``."""
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
    if day < FIRST_DAY:
        raise ValueError(f"{day} is before {FIRST_DAY}: expected a date from {FIRST_DAY} on")
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


def map_problem(text: str) -> str:
    """The concern problem slug for a category (slug or label) or free text (by keywords)."""
    wanted = words(text)
    problems = concern_problems()
    for p in problems:
        if wanted in (words(p.slug), words(p.label)):
            return p.slug
    found = [
        (len(key), -i, p.slug)
        for i, p in enumerate(problems)
        for key in map(words, p.keywords)
        if key and re.search(rf"\b{re.escape(key)}\b", wanted)
    ]
    if not found:
        raise ValueError(
            f"{text.strip()[:60]!r} matches no problem; expected one of "
            + ", ".join(p.slug for p in problems)
            + " (or free text naming one, e.g. 'drug dealing', 'youths', 'graffiti')"
        )
    return max(found)[2]


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
        return json.dumps(
            [
                self.reported_on.isoformat(),
                self.where_text,
                self.latitude,
                self.longitude,
                self.problem_text,
                self.source,
            ]
        )


def parse_row(
    cells: Mapping[str, str], line: int | None, today: dt.date | None = None
) -> tuple[ConcernRow | None, list[tuple[str, str]]]:
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
        if "\x00" in text[column]:
            errors.append((column, NUL_PROBLEM))
    if errors:  # an error never repeats the contact, even one typed into another cell
        contact = text["contact"]
        if len(contact) >= 4:  # shorter ('-', 'n/a') identifies no one
            errors = [
                (c, re.sub(re.escape(contact), "[contact]", m, flags=re.I)) for c, m in errors
            ]
        return None, errors
    return ConcernRow(
        line,
        day,
        text["where"] or None,
        lat,
        lon,
        text["problem"],
        problem,
        source,
        text["contact"] or None,
    ), []


_EMPTY = {
    "date": "YYYY-MM-DD or DD/MM/YYYY",
    "problem": "a problem, e.g. drugs, asb, street-drinking",
    "source": "one of " + ", ".join(SOURCES),
}


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
        raise CSVFormatError(
            name,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the sheet as 'CSV UTF-8'",
            line=data[: exc.start].count(b"\n") + 1,
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise CSVFormatError(
            name, f"empty file; expected a header row with {', '.join(COLUMNS)}", line=1
        )
    columns = [h.strip().lower() for h in header]
    problems = [f"unexpected column '{c}'" for c in columns if c not in COLUMNS]
    problems += [f"column '{c}' appears twice" for c, n in Counter(columns).items() if n > 1]
    needed = ["date", "problem", "source"]
    if "where" not in columns or ("latitude" in columns) != ("longitude" in columns):
        needed += ["latitude", "longitude"]
    problems += [f"missing column '{c}'" for c in needed if c not in columns]
    if problems:
        raise CSVFormatError(
            name,
            "; ".join(problems) + f" (expected columns: {', '.join(COLUMNS)}"
            "; date, problem, source and where or latitude+longitude are needed)",
            line=1,
        )
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


def import_concerns(
    store: Store, path: str | Path, area: str, *, today: dt.date | None = None
) -> ImportResult:
    """Import a concerns CSV for ``area`` in one transaction; rows already stored are skipped."""
    resolved = resolve(store, area)
    rows = read_concerns_csv(path, today)
    seen: Counter[str] = Counter()
    keys = []
    for row in rows:  # identical rows in one file are separate concerns: number them
        content = row.content_key()
        keys.append(hashlib.sha256(f"{content}#{seen[content]}".encode()).hexdigest())
        seen[content] += 1
    added = [
        s
        for s in _store(store, resolved, list(zip(rows, keys, strict=True)), str(path))
        if s[2] is not None
    ]
    result = ImportResult(
        file=str(path),
        area=resolved.name,
        rows=len(rows),
        added=len(added),
        already_stored=len(rows) - len(added),
        matched_by_name=sum(m.method == "street name" for _, m, _ in added),
        matched_by_coordinates=sum(m.method == "coordinates" for _, m, _ in added),
        unmatched=[
            {
                "concern_id": cid,
                "line": r.line,
                "reported_on": r.reported_on.isoformat(),
                "where_text": r.where_text,
                "note": m.note,
                "suggestions": list(m.suggestions),
            }
            for r, m, cid in added
            if m.place is None
        ],
    )
    log.info(
        "concerns import %s for %s: %d rows, %d added, %d unmatched",
        path,
        resolved.name,
        result.rows,
        result.added,
        len(result.unmatched),
    )
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
    description: str | None = None,
    submission_id: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Record one concern (the web form); returns its ``concern_id``.

    The same checks as a CSV row; bad fields raise :class:`ConcernFieldError` naming them.
    A ``description`` (private, like the contact) is stored in the same transaction.
    Sending the same ``submission_id`` again returns the first concern's id and adds nothing.
    """
    resolved = resolve(store, area) if isinstance(area, str) else area
    cells = {
        "date": reported_on.isoformat() if isinstance(reported_on, dt.date) else reported_on,
        "where": where or "",
        "problem": problem,
        "source": source,
        "contact": contact or "",
        "latitude": "" if latitude is None else str(latitude),
        "longitude": "" if longitude is None else str(longitude),
    }
    row, errors = parse_row(cells, None, today)
    if row is None:
        raise ConcernFieldError(errors)
    key = hashlib.sha256(f"form#{submission_id or uuid.uuid4()}".encode()).hexdigest()
    private = {key: description} if description else {}
    ((_, _, concern_id),) = _store(store, resolved, [(row, key)], None, private, stored=True)
    assert concern_id is not None
    return concern_id


def _store(
    store: Store,
    area: Area,
    rows: list[tuple[ConcernRow, str]],
    file: str | None,
    descriptions: dict[str, str] | None = None,
    *,
    stored: bool = False,
) -> list[tuple[ConcernRow, PlaceMatch, int | None]]:
    """Insert the rows not stored yet, with their contacts and any ``descriptions`` (by row
    key), in one transaction.

    Returns (row, match, concern_id): the id is None for a row already stored, or with
    ``stored`` that row's first id. Places are matched before the transaction (street data
    is not in the team's records); the transaction checks again which rows are new, so two
    imports or form posts of the same rows at once store them once (on PostgreSQL the
    loser's transaction is run again and finds them).
    """
    records = store.team_records
    keys = [k for _, k in rows]
    with records.connect() as c:
        before = set(c.execute(sa.select(concerns.c.row_sha256).where(_among(keys))).scalars())
    matches: dict[str, PlaceMatch] = {}
    if len(before) < len(set(keys)):
        matcher = PlaceMatcher.for_area(store, area)
        cache: dict[tuple[str | None, float | None, float | None], PlaceMatch] = {}
        for r, k in rows:
            if k not in before:
                where = (r.where_text, r.longitude, r.latitude)
                matches[k] = cache.get(where) or cache.setdefault(where, matcher.match(*where))
    imported_at = utc_now()
    new = {
        k: (_values(area, r, matches[k], k, file, imported_at), r.contact)
        for r, k in rows
        if k in matches
    }

    def work(c: sa.Connection) -> tuple[dict[str, int], dict[str, int]]:
        existing: dict[str, int] = dict(
            c.execute(sa.select(concerns.c.row_sha256, concerns.c.concern_id).where(_among(keys)))
            .tuples()
            .all()
        )
        values = [v for k, (v, _) in new.items() if k not in existing]
        added: dict[str, int] = {}
        if values:
            inserted = c.execute(
                sa.insert(concerns).returning(concerns.c.row_sha256, concerns.c.concern_id),
                values,
            )
            added = dict(inserted.tuples().all())
        contacts = [{"concern_id": i, "contact": new[k][1]} for k, i in added.items() if new[k][1]]
        if contacts:
            c.execute(sa.insert(concern_contacts), contacts)
        written = [
            {"concern_id": i, "description": text}
            for k, text in (descriptions or {}).items()
            if (i := added.get(k)) is not None
        ]
        if written:
            c.execute(sa.insert(concern_descriptions), written)
        return added, existing

    added, existing = records.transact(work)
    ids = {**existing, **added} if stored else added
    return [(r, matches.get(k, PlaceMatch()), ids.get(k)) for r, k in rows]


def _among(keys: list[str]) -> sa.ColumnElement[bool]:
    return concerns.c.row_sha256.in_(sorted(set(keys)))


def _values(
    area: Area, r: ConcernRow, m: PlaceMatch, key: str, file: str | None, now: dt.datetime
) -> dict[str, Any]:
    """A ``concerns`` row (the contact goes apart, to ``concern_contacts``)."""
    return {
        "area": reference(area),
        "area_name": area.name,
        "reported_on": r.reported_on,
        "month": r.reported_on.replace(day=1),
        "where_text": r.where_text,
        "given_longitude": r.longitude,
        "given_latitude": r.latitude,
        "place": m.place,
        "longitude": m.longitude,
        "latitude": m.latitude,
        "lsoa_code": m.lsoa_code,
        "match_method": m.method,
        "match_score": m.score,
        "match_note": m.note,
        "suggestions": list(m.suggestions),
        "problem_text": r.problem_text,
        "problem": r.problem,
        "source": r.source,
        "row_sha256": key,
        "source_file": file,
        "source_line": r.line,
        "imported_at": now,
    }
