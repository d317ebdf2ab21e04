"""Engagement calendar: street surveys, school visits, surgeries, ... and their iCalendar export.

Times are wall-clock times in Europe/London (every force police.uk covers keeps UK
time). A time that does not exist (inside the hour the clocks skip on the last Sunday
of March) is refused; one that happens twice (the hour repeated on the last Sunday of
October) means its first, BST, occurrence, as RFC 5545 section 3.3.5 reads it.

An engagement is identified by its start, place and kind (or by the ``id`` a CSV row
gives), hashed into a stable iCalendar UID: adding or importing it again updates it,
and a calendar that re-reads the export updates the event instead of duplicating it.
Each change increments the event's SEQUENCE and sets its DTSTAMP (RFC 5545 3.8.7.4).

Days lie within :func:`beatbook.months.day_bounds` (2000 to a few years ahead); title,
place and notes fit the printed calendar (:mod:`beatbook.settings`: a CSV row or the desk
over the limit is refused; a police.uk event's longer text is cut, with an ellipsis).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from beatbook.errors import CSVFormatError, InputError
from beatbook.ingest.sources import read_table
from beatbook.months import check_day, parse_day
from beatbook.settings import DESCRIPTION, ENGAGEMENT_TITLE, PLACE, WEEKS_RANGE, Length
from beatbook.store import Store

if TYPE_CHECKING:
    import sqlalchemy as sa

    from beatbook.ingest.policeuk_api import PoliceUkApi

TIMEZONE = ZoneInfo("Europe/London")
DEFAULT_MINUTES = 60
MAX_LENGTH = dt.timedelta(days=7)
KINDS = {
    "street-survey": "Street survey",
    "school-visit": "School visit",
    "surgery": "Beat surgery",
    "notice-board": "Notice board",
    "community-meeting": "Community meeting",
    "patrol": "Patrol",
    "online": "Online",
    "other": "Engagement",
}
CSV_COLUMNS = ("start", "end", "kind", "place", "area", "title", "notes", "id")
CSV_REQUIRED = ("start", "kind", "place", "area")
# police.uk event wording -> kind, first match wins (title and type are searched together).
API_KINDS = (
    (r"surgery|drop[- ]?in", "surgery"),
    (r"school|college|academy", "school-visit"),
    (r"survey|street meet|door[- ]?knock", "street-survey"),
    (r"notice", "notice-board"),
    (r"online|virtual|web ?chat|facebook|twitter|zoom|teams", "online"),
    (r"patrol|walkabout|beat walk", "patrol"),
    (r"meeting|forum|panel|pact|community", "community-meeting"),
)
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|(?:\+44\s?|\b0)(?:\d[\s-]?){9,10}\b")


@dataclass(frozen=True)
class Engagement:
    uid: str
    starts: dt.datetime  # naive, Europe/London wall clock
    ends: dt.datetime
    kind: str
    place: str
    area: str | None  # areas.reference()
    area_name: str | None
    title: str | None = None
    notes: str | None = None
    source: str = "engagements add"
    sequence: int = 0
    updated_at: dt.datetime | None = None  # UTC

    @property
    def summary(self) -> str:
        return self.title or f"{KINDS[self.kind]}: {self.place}"

    def published(self) -> tuple[object, ...]:
        """The fields a calendar shows: a change in any of them is a new SEQUENCE."""
        return (
            self.starts,
            self.ends,
            self.kind,
            self.place,
            self.area,
            self.area_name,
            self.title,
            self.notes,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "uid": self.uid,
            "start": self.starts.isoformat(timespec="minutes"),
            "end": self.ends.isoformat(timespec="minutes"),
            "kind": self.kind,
            "place": self.place,
            "area": self.area_name,
            "area_reference": self.area,
            "title": self.summary,
            "notes": self.notes,
            "source": self.source,
            "sequence": self.sequence,
        }


# --- parsing (pure) ------------------------------------------------------------------------


def parse_local_time(text: str, what: str) -> dt.datetime:
    """``YYYY-MM-DD HH:MM`` (or ``T`` between, seconds allowed) as a Europe/London time."""
    value = text.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?", value):
        raise InputError(f"{what} {text!r}: expected a local time as YYYY-MM-DD HH:MM")
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise InputError(f"{what} {text!r}: not a real date and time") from None
    check_day(moment.date(), what)
    back = moment.replace(tzinfo=TIMEZONE).astimezone(dt.UTC).astimezone(TIMEZONE)
    if back.replace(tzinfo=None) != moment:
        raise InputError(
            f"{what} {text!r}: that time does not exist in the UK (the clocks go forward "
            f"from 01:00 to 02:00 on {moment:%Y-%m-%d})"
        )
    return moment


def parse_kind(text: str) -> str:
    kind = "-".join(text.strip().lower().replace("_", " ").split())
    if kind not in KINDS:
        raise InputError(f"kind {text!r}: expected one of {', '.join(KINDS)}")
    return kind


def parse_end(text: str, starts: dt.datetime, what: str) -> dt.datetime:
    """The end: a full local time, or ``HH:MM`` on the start's day; after the start."""
    value = text.strip()
    if re.fullmatch(r"[0-9]{2}:[0-9]{2}", value):
        value = f"{starts:%Y-%m-%d} {value}"
    ends = parse_local_time(value, what)
    if not starts < ends <= starts + MAX_LENGTH:
        raise InputError(
            f"{what} {text!r}: expected a time after the start "
            f"({starts:%Y-%m-%d %H:%M}) and within {MAX_LENGTH.days} days of it"
        )
    return ends


def check_public(text: str | None, what: str, limit: Length = DESCRIPTION) -> str | None:
    """Refuse an email address or phone number in text that the calendar publishes, and
    text longer than ``limit``."""
    value = limit.check(text, what)
    if value and _CONTACT.search(value):
        raise InputError(
            f"{what}: looks like an email address or phone number; engagements "
            "are published, so leave out names and contacts"
        )
    return value


def engagement_uid(starts: dt.datetime, place: str, kind: str, given_id: str | None = None) -> str:
    """A stable iCalendar UID: from the row's own id when it has one, else start+place+kind."""
    key = (
        f"id|{given_id.strip()}"
        if given_id and given_id.strip()
        else (f"{starts:%Y-%m-%dT%H:%M}|{' '.join(place.lower().split())}|{kind}")
    )
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@beatbook"


def kind_from_api(event: dict[str, Any]) -> str:
    """The kind of a police.uk event, from the words of its title and type (:data:`API_KINDS`)."""
    words = f"{event.get('title') or ''} {event.get('type') or ''}".lower()
    return next((kind for pattern, kind in API_KINDS if re.search(pattern, words)), "other")


def _plain(text: str | None) -> str | None:
    """police.uk descriptions are HTML: tags dropped, entities decoded."""
    if not text:
        return None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()) or None


def _cut(text: str | None, limit: Length) -> str | None:
    """police.uk's text within ``limit``: longer text is cut at a space, with an ellipsis."""
    value = " ".join((text or "").split()) or None
    if value is None or len(value) <= limit.high:
        return value
    return value[: limit.high - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def window(start: str | None, weeks: int, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days from ``start`` (YYYY-MM-DD, default ``today``) for ``weeks`` weeks
    (settings.WEEKS_RANGE); ``start`` within :func:`beatbook.months.day_bounds`."""
    WEEKS_RANGE.check(weeks, "weeks")
    first = parse_day(start, "from") if start else (today or dt.date.today())
    return first, first + dt.timedelta(days=7 * weeks - 1)


# --- the store ------------------------------------------------------------------------------


def _area(
    store: Store, name: str | None, memo: dict[str, tuple[str, str]] | None = None
) -> tuple[str | None, str | None]:
    """(reference, display name) of an area given by name; ``memo`` saves repeat look-ups."""
    from beatbook import areas  # and shapely: not at every CLI command's start-up

    if name is None or not name.strip():
        return None, None
    memo = {} if memo is None else memo
    if name not in memo:
        area = areas.resolve(store, name)
        memo[name] = (areas.reference(area), area.name)
    return memo[name]


def _upsert(c: sa.Connection, item: Engagement, now: dt.datetime) -> str:
    """Write one engagement in the records transaction ``c``: 'added', 'updated' or
    'unchanged'. The stored SEQUENCE is read in the same transaction, so two writers of one
    event count both changes (PostgreSQL reruns the one that read a stale SEQUENCE)."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import insert

    from beatbook.records.schema import engagements as t

    row = c.execute(
        sa.select(
            t.c.starts,
            t.c.ends,
            t.c.kind,
            t.c.place,
            t.c.area,
            t.c.area_name,
            t.c.title,
            t.c.notes,
            t.c.sequence,
        ).where(t.c.uid == item.uid)
    ).first()
    if row is not None and tuple(row[:8]) == item.published():
        return "unchanged"
    values = {
        "uid": item.uid,
        "starts": item.starts,
        "ends": item.ends,
        "kind": item.kind,
        "place": item.place,
        "area": item.area,
        "area_name": item.area_name,
        "title": item.title,
        "notes": item.notes,
        "source": item.source,
        "sequence": 0 if row is None else row[8] + 1,
        "updated_at": now,
    }
    upsert = insert(t).values(values)
    c.execute(
        upsert.on_conflict_do_update(
            index_elements=[t.c.uid],
            set_={k: upsert.excluded[k] for k in values if k != "uid"},
        )
    )
    return "added" if row is None else "updated"


def _upsert_all(store: Store, items: Sequence[Engagement]) -> dict[str, int]:
    """Write ``items`` in one records transaction: how many were added, updated, unchanged."""
    from beatbook.records.engine import utc_now

    def work(c: sa.Connection) -> dict[str, int]:
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        now = utc_now()  # one DTSTAMP for the whole import
        for item in items:
            counts[_upsert(c, item, now)] += 1
        return counts

    return store.team_records.transact(work)


def add_engagement(
    store: Store,
    *,
    when: str,
    place: str,
    kind: str,
    area: str,
    until: str | None = None,
    minutes: int | None = None,
    title: str | None = None,
    notes: str | None = None,
) -> tuple[Engagement, str]:
    """Add (or update) one engagement; returns it and 'added', 'updated' or 'unchanged'."""
    starts = parse_local_time(when, "--when")
    if until is not None and minutes is not None:
        raise InputError("give --until or --minutes, not both")
    if minutes is not None and not 0 < minutes <= MAX_LENGTH.total_seconds() // 60:
        raise InputError(f"--minutes {minutes}: expected 1 to {MAX_LENGTH.days * 24 * 60}")
    ends = (
        parse_end(until, starts, "--until")
        if until is not None
        else _after(starts, minutes or DEFAULT_MINUTES)
    )
    place_text = check_public(place, "--place", PLACE)
    if not place_text:
        raise InputError("--place: say where it is (an address, school or street)")
    kind = parse_kind(kind)
    item = Engagement(
        engagement_uid(starts, place_text, kind),
        starts,
        ends,
        kind,
        place_text,
        *_area(store, area),
        title=check_public(title, "--title", ENGAGEMENT_TITLE),
        notes=check_public(notes, "--notes"),
    )
    if item.area is None:
        raise InputError("--area: say which ward or area it is in")
    from beatbook.records.engine import utc_now

    status = store.team_records.transact(lambda c: _upsert(c, item, utc_now()))
    return get_engagement(store, item.uid), status


def _after(starts: dt.datetime, minutes: int) -> dt.datetime:
    """The wall-clock time ``minutes`` of real time after ``starts`` (across a clock change)."""
    real = starts.replace(tzinfo=TIMEZONE).astimezone(dt.UTC) + dt.timedelta(minutes=minutes)
    return real.astimezone(TIMEZONE).replace(tzinfo=None)


def import_csv(store: Store, path: Path) -> dict[str, int]:
    """Import an engagements CSV in one transaction; any bad row refuses the whole file.

    Columns: start, kind, place, area (required); end, title, notes, id (optional).
    """
    name = str(path)
    header, rows = read_table(path)
    missing = [c for c in CSV_REQUIRED if c not in header]
    extra = [h for h in header if h not in CSV_COLUMNS]
    if missing or extra:
        problem = f"missing column {missing[0]!r}" if missing else f"unexpected column {extra[0]!r}"
        raise CSVFormatError(
            name,
            f"{problem}; expected {', '.join(CSV_COLUMNS)} ({', '.join(CSV_REQUIRED)} required)",
            line=1,
        )
    items: dict[str, tuple[int, Engagement]] = {}
    memo: dict[str, tuple[str, str]] = {}
    for line, row in rows:
        item = _csv_engagement(store, name, line, row, memo)
        if item.uid in items:
            raise CSVFormatError(
                name,
                f"the same engagement as line {items[item.uid][0]} "
                "(same id, or same start, place and kind)",
                line=line,
            )
        items[item.uid] = (line, item)
    return _upsert_all(store, [item for _, item in items.values()])


def _csv_engagement(
    store: Store, name: str, line: int, row: dict[str, str | None], memo: dict[str, tuple[str, str]]
) -> Engagement:
    column = "start"
    try:
        if None in row:
            raise InputError(f"expected {len(row) - 1} fields, found more")
        value = {k: (v or "").strip() for k, v in row.items()}
        starts = parse_local_time(value["start"], "start")
        column = "end"
        ends = (
            parse_end(value["end"], starts, "end")
            if value.get("end")
            else _after(starts, DEFAULT_MINUTES)
        )
        column = "kind"
        kind = parse_kind(value["kind"])
        column = "place"
        place = check_public(value["place"], "place", PLACE)
        if not place:
            raise InputError("place is empty: say where it is")
        column = "area"
        if not value["area"]:
            raise InputError("area is empty: give the ward or area")
        area = _area(store, value["area"], memo)
        column = "title"
        title = check_public(value.get("title"), "title", ENGAGEMENT_TITLE)
        column = "notes"
        notes = check_public(value.get("notes"), "notes")
    except InputError as exc:
        problem = str(exc).removeprefix("--area ")
        raise CSVFormatError(name, problem, line=line, column=column) from None
    uid = engagement_uid(starts, place, kind, value.get("id"))
    return Engagement(
        uid,
        starts,
        ends,
        kind,
        place,
        *area,
        title=title,
        notes=notes,
        source=f"{name}, line {line}",
    )


def import_api(
    store: Store, api: PoliceUkApi, force: str, neighbourhood: str, area: str | None = None
) -> dict[str, int]:
    """Import a police.uk team's events in one transaction.

    Title, address, type and times are kept; the kind comes from :func:`kind_from_api`;
    ``contact_details`` are not stored. Events without an end last :data:`DEFAULT_MINUTES`.
    """
    events = api.events(force, neighbourhood)
    area_ref = _area(store, area)
    source = f"police.uk {force}/{neighbourhood}"
    items: dict[str, Engagement] = {}
    for n, event in enumerate(events, start=1):
        where = f"{source} event {n}"
        try:
            starts = parse_local_time(str(event.get("start_date") or ""), "start_date")
            end_text = event.get("end_date")
            ends = (
                parse_end(str(end_text), starts, "end_date")
                if end_text
                else _after(starts, DEFAULT_MINUTES)
            )
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        kind = kind_from_api(event)
        place = _cut(str(event.get("address") or ""), PLACE) or "(no address given)"
        item = Engagement(
            engagement_uid(starts, place, kind),
            starts,
            ends,
            kind,
            place,
            *area_ref,
            title=_cut(_plain(event.get("title")), ENGAGEMENT_TITLE),
            notes=_cut(_plain(event.get("description")), DESCRIPTION),
            source=source,
        )
        items[item.uid] = item
    return _upsert_all(store, list(items.values()))


def _select(store: Store, *where: sa.ColumnElement[bool]) -> list[Engagement]:
    """The stored engagements matching ``where``, by start then UID."""
    import sqlalchemy as sa

    from beatbook.records.schema import engagements as t

    columns = [t.c[f.name] for f in fields(Engagement)]  # stored under the same names
    with store.team_records.connect() as c:
        rows = c.execute(sa.select(*columns).where(*where)).all()
    found = [  # updated_at comes back in the session's time zone: UTC here
        Engagement(**{**row._mapping, "updated_at": row.updated_at.astimezone(dt.UTC)})
        for row in rows
    ]
    return sorted(found, key=lambda e: (e.starts, e.uid))


def get_engagement(store: Store, uid: str) -> Engagement:
    from beatbook.records.schema import engagements as t

    found = _select(store, t.c.uid == uid)
    if not found:
        raise InputError(f"engagement {uid!r}: no such engagement")
    return found[0]


def list_engagements(
    store: Store,
    area: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Engagement]:
    """Engagements from ``start`` to ``end`` (dates, inclusive) in ``area`` or inside it."""
    for day, option in ((start, "--from"), (end, "--to")):
        if day is not None:
            check_day(day, option)
    if start and end and end < start:
        raise InputError(f"--to {end}: before --from {start}")
    from beatbook.records.schema import engagements as t

    bounds = []  # starts are wall-clock times: a day's engagements start from its midnight
    if start is not None:
        bounds.append(t.c.starts >= dt.datetime.combine(start, dt.time()))
    if end is not None:
        bounds.append(t.c.starts < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    found = _select(store, *bounds)
    if area is None:
        return found
    from beatbook import areas  # and shapely: not at every CLI command's start-up

    whole = areas.resolve(store, area)
    inside = {
        ref: areas.within(store, areas.resolve(store, ref), whole)
        for ref in {e.area for e in found if e.area}
    }
    return [e for e in found if e.area and inside[e.area]]


# --- iCalendar (RFC 5545) -------------------------------------------------------------------


def to_ical(items: Sequence[Engagement], name: str = "BeatBook engagements") -> bytes:
    """An iCalendar file: Europe/London times with their VTIMEZONE, one VEVENT each."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//BeatBook//Engagements//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TIMEZONE.key)
    for item in items:
        stamp = item.updated_at or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        event.add("sequence", item.sequence)
        event.add("dtstart", item.starts.replace(tzinfo=TIMEZONE))
        event.add("dtend", item.ends.replace(tzinfo=TIMEZONE))
        event.add("summary", item.summary)
        event.add("location", item.place)
        where = f"{KINDS[item.kind]}" + (f", {item.area_name}" if item.area_name else "")
        event.add("description", "\n".join(x for x in (item.notes, where) if x))
        event.add("categories", [item.kind])
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def write_ical(
    store: Store,
    out: Path,
    area: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> int:
    """Write the engagements (as :func:`list_engagements` selects them) to ``out``."""
    items = list_engagements(store, area, start, end)
    name = "BeatBook engagements"
    if area:
        from beatbook import areas  # and shapely: not at every CLI command's start-up

        name += f": {areas.resolve(store, area).name}"
    try:
        Path(out).write_bytes(to_ical(items, name))
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write the calendar ({exc})") from exc
    return len(items)


__all__ = [
    "KINDS",
    "Engagement",
    "add_engagement",
    "engagement_uid",
    "get_engagement",
    "import_api",
    "import_csv",
    "kind_from_api",
    "list_engagements",
    "parse_local_time",
    "to_ical",
    "window",
    "write_ical",
]
