"""What a neighbourhood team writes itself for its community update.

Two inputs, both the team's own: a settings file (TOML: the team's name, how to
contact it, its online report form and calendar, the ways to report crime, and its officers
with their roles, wards and an optional photo) and the month's free text (Markdown: the
inspector's message, news, partner notices), kept in the team's records
(``store.team_records``) so the update can be rebuilt later and edited from the web desk.
BeatBook publishes them as written; raw HTML in the text is shown as text, never run; links
and images follow the rules of :mod:`beatbook.publish.team_markdown` (https/mailto/tel links,
uploaded images only), checked when the text is read or saved and enforced again when it is
rendered.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from beatbook.errors import NUL_PROBLEM, InputError
from beatbook.publish import team_images, team_markdown
from beatbook.records.engine import utc_now
from beatbook.records.schema import team_settings, update_texts
from beatbook.store import Store


@dataclass(frozen=True)
class Channel:
    """One way to report: who it is for and how."""

    label: str
    how: str


# UK-wide numbers, true for every force; a team adds its own web form in its settings.
DEFAULT_CHANNELS = (
    Channel("In an emergency", "Call 999 when a crime is happening or someone is in danger."),
    Channel(
        "Not an emergency", "Call 101, or report online through police.uk or your force's website."
    ),
    Channel(
        "Anonymously",
        "Crimestoppers: 0800 555 111 or crimestoppers-uk.org. You do not give your name.",
    ),
    Channel(
        "Deaf, hard of hearing or speech-impaired",
        "Relay UK: 18000 in an emergency, 18001 101 otherwise.",
    ),
)
SETTINGS_KEYS = {"team", "contact", "email", "report_url", "calendar_url", "reporting", "officers"}
OFFICER_KEYS = {"name", "role", "wards", "email", "phone", "photo"}
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PHONE = re.compile(r"^\+?[0-9][0-9 ]{1,18}[0-9]$")
URL = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:[0-9]{1,5})?(/[^\s<>\"]*)?$")
PHOTO_MAX_BYTES = 2_000_000  # an officer's photo file
PHOTO_SIDE = 400  # pixels on the longer side of a photo as printed


@dataclass(frozen=True)
class Officer:
    """One member of the team as the update's "Your local team" lists them."""

    name: str
    role: str
    wards: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    photo: str | None = None  # the file as written in the settings
    photo_data: bytes | None = field(default=None, compare=False, repr=False)  # read, re-encoded


@dataclass(frozen=True)
class Settings:
    """The team's name and contact as printed, its links, reporting channels and officers."""

    team: str | None = None
    contact: str | None = None
    channels: tuple[Channel, ...] = DEFAULT_CHANNELS
    email: str | None = None
    report_url: str | None = None  # the force's online report form
    calendar_url: str | None = None  # the team's events as an .ics calendar
    officers: tuple[Officer, ...] = ()

    def team_name(self, area_name: str) -> str:
        return self.team or f"{area_name} neighbourhood team"


@dataclass(frozen=True)
class Section:
    """One '## Heading' section of the team's text."""

    heading: str
    markdown: str
    html: str = field(compare=False, default="")
    images: tuple[str, ...] = field(compare=False, default=())  # uploaded images it shows


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: expected non-empty text")
    return value.strip()


def _optional(
    data: dict[str, object], key: str, where: str, pattern: re.Pattern[str], expected: str
) -> str | None:
    if key not in data:
        return None
    value = _text(data[key], f"{where} {key}")
    if not pattern.match(value):
        raise InputError(f"{where} {key}: {value!r} is not {expected}")
    return value


AN_EMAIL = "an e-mail address, e.g. team@example.org"
A_PHONE = "a phone number of digits and spaces, e.g. 0116 222 2222"
AN_HTTPS_URL = "an https:// web address, e.g. https://www.police.uk"


def _photo(value: object, where: str, base: Path | None) -> tuple[str, bytes | None]:
    """A photo file as written and, when the settings file's folder ``base`` is known, its
    picture read (at most :data:`PHOTO_MAX_BYTES`), checked and re-encoded small. A URL is
    refused: BeatBook never fetches one into a letter."""
    path = _text(value, where)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", path) or path.startswith("//"):
        raise InputError(
            f"{where}: {path!r} is a URL; expected a local file path, e.g. photos/name.jpg"
        )
    if Path(path).suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise InputError(f"{where}: {path!r}: expected a .png, .jpg or .jpeg file")
    if base is None:
        return path, None
    file = base / path
    try:
        with file.open("rb") as handle:
            data = handle.read(PHOTO_MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{where}: {path!r} cannot be read ({exc.strerror})") from exc
    if len(data) > PHOTO_MAX_BYTES:
        raise InputError(
            f"{where}: {path!r} is over {PHOTO_MAX_BYTES:,} bytes; expected a smaller picture"
        )
    try:
        image = team_images.prepare(data, file.name)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from exc
    return path, _small(image.data)


def _small(data: bytes) -> bytes:
    """A picture at most :data:`PHOTO_SIDE` pixels on its longer side, as JPEG."""
    import io

    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as picture:
        picture.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
        out = io.BytesIO()
        picture.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def _officers(rows: object, source: str, base: Path | None) -> tuple[Officer, ...]:
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{source}: officers: expected one or more [[officers]] tables")
    found = []
    for i, row in enumerate(rows, start=1):
        where = f"{source}: officers {i}"
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a table with name and role")
        unknown = set(row) - OFFICER_KEYS
        if unknown:
            raise InputError(
                f"{where}: unknown field {sorted(unknown)[0]!r}; expected {', '.join(sorted(OFFICER_KEYS))}"
            )
        wards = row.get("wards", [])
        if not isinstance(wards, list):
            raise InputError(f'{where} wards: expected a list of ward names, e.g. ["Fosse"]')
        photo, data = (
            _photo(row["photo"], f"{where} photo", base) if "photo" in row else (None, None)
        )
        found.append(
            Officer(
                name=_text(row.get("name"), f"{where} name"),
                role=_text(row.get("role"), f"{where} role"),
                wards=tuple(_text(w, f"{where} wards") for w in wards),
                email=_optional(row, "email", where, EMAIL, AN_EMAIL),
                phone=_optional(row, "phone", where, PHONE, A_PHONE),
                photo=photo,
                photo_data=data,
            )
        )
    return tuple(found)


def load_settings(path: Path | None) -> Settings:
    """Read a settings file; without one, the UK-wide reporting channels. Officers' photos
    are read from files beside it.

    Example file::

        team = "West Leicester Neighbourhood Policing Team"
        email = "westleicester.npt@example.police.uk"
        report_url = "https://www.leics.police.uk/ro/report"
        [[reporting]]
        label = "Online"
        how = "leics.police.uk/report"
        [[officers]]
        name = "PC Jo Bloggs"
        role = "Beat officer"
        wards = ["Fosse"]
        photo = "photos/bloggs.jpg"
    """
    if path is None:
        return Settings()
    return parse_settings(read_settings_text(path), str(path), base=Path(path).parent)


def read_settings_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read settings ({exc.strerror})") from exc


def parse_settings(text: str, source: str, base: Path | None = None) -> Settings:
    """Settings from TOML text, every error naming ``source`` and the field. Officers'
    photos are read relative to ``base`` (the settings file's folder); without it (settings
    kept in the store or typed on the desk) a photo is checked but not read or printed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML ({exc})") from exc
    unknown = set(data) - SETTINGS_KEYS
    if unknown:
        raise InputError(
            f"{source}: unknown setting {sorted(unknown)[0]!r}; expected {', '.join(sorted(SETTINGS_KEYS))}"
        )
    channels: tuple[Channel, ...] = DEFAULT_CHANNELS
    if "reporting" in data:
        rows = data["reporting"]
        if not isinstance(rows, list) or not rows:
            raise InputError(f"{source}: reporting: expected one or more [[reporting]] tables")
        channels = tuple(
            Channel(
                _text(
                    r.get("label") if isinstance(r, dict) else None,
                    f"{source}: reporting {i} label",
                ),
                _text(
                    r.get("how") if isinstance(r, dict) else None, f"{source}: reporting {i} how"
                ),
            )
            for i, r in enumerate(rows, start=1)
        )
    return Settings(
        team=_text(data["team"], f"{source}: team") if "team" in data else None,
        contact=_text(data["contact"], f"{source}: contact") if "contact" in data else None,
        channels=channels,
        email=_optional(data, "email", f"{source}:", EMAIL, AN_EMAIL),
        report_url=_optional(data, "report_url", f"{source}:", URL, AN_HTTPS_URL),
        calendar_url=_optional(data, "calendar_url", f"{source}:", URL, AN_HTTPS_URL),
        officers=_officers(data["officers"], source, base) if "officers" in data else (),
    )


def save_settings(store: Store, area_ref: str, text: str, source: str) -> Settings:
    """Check settings TOML and keep it as the area's settings (a bad text replaces nothing)."""
    settings = parse_settings(text, source)
    kept = {"toml": text, "source": source, "saved_at": utc_now()}
    change = (
        insert(team_settings)
        .values(area=area_ref, **kept)
        .on_conflict_do_update(index_elements=[team_settings.c.area], set_=kept)
    )
    store.team_records.transact(lambda c: c.execute(change))
    return settings


def stored_settings_text(store: Store, area_ref: str) -> str | None:
    """The area's settings TOML as saved, or None."""
    with store.team_records.connect() as c:
        found = c.execute(
            sa.select(team_settings.c.toml).where(team_settings.c.area == area_ref)
        ).scalar()
    return None if found is None else str(found)


def stored_settings(store: Store, area_ref: str) -> Settings:
    """The area's saved settings, or the defaults."""
    text = stored_settings_text(store, area_ref)
    return Settings() if text is None else parse_settings(text, f"settings stored for {area_ref}")


def to_html(text: str, images: Collection[str] = ()) -> str:
    """Markdown to sanitised HTML: raw HTML shown as text, links https/mailto/tel only, images
    only the uploaded ``images`` (names), loaded from their published files ``team-NAME``."""
    return team_markdown.to_html(text, {n: team_images.file_name(n) for n in images})


def _shown(html: str, images: Collection[str]) -> tuple[str, ...]:
    """The uploaded images a section's HTML shows."""
    return tuple(n for n in sorted(images) if f'src="{team_images.file_name(n)}"' in html)


HEADING = re.compile(r"^##\s+(\S.*?)\s*#*\s*$")


def parse_sections(
    text: str, source: str, images: Collection[str] = (), *, strict: bool = True
) -> list[Section]:
    """Split the team's Markdown into '## Heading' sections, refusing what would print badly:
    text before the first heading, a top-level '# ' title (the update has its own), an empty
    section or a heading used twice; and (``strict``) a link that is not https/mailto/tel or
    an image that is not one of the area's uploaded ``images``. Not strict (text already
    stored), such links and images are dropped from the HTML instead."""
    sections: list[tuple[str, int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = HEADING.match(line)
        if found:
            heading = found.group(1)
            if any(h.casefold() == heading.casefold() for h, _, _ in sections):
                raise InputError(f"{source}, line {number}: section '{heading}' appears twice")
            sections.append((heading, number, []))
        elif re.match(r"^#\s", line):
            raise InputError(
                f"{source}, line {number}: use '## Heading' sections; the update "
                "prints its own title"
            )
        elif not sections:
            if line.strip():
                raise InputError(
                    f"{source}, line {number}: text before the first '## Heading'; "
                    "start each section with a '## ' heading"
                )
        else:
            sections[-1][2].append(line)
    if not sections:
        raise InputError(f"{source}: no '## Heading' sections found")
    result = []
    for heading, number, lines in sections:
        body = "\n".join(lines).strip()
        if not body:
            raise InputError(f"{source}, line {number}: section '{heading}' is empty")
        if strict:
            numbered = list(enumerate(lines, start=number + 1))
            team_markdown.check(numbered, source, frozenset(images))
        shown = to_html(body, images)
        result.append(Section(heading, body, shown, _shown(shown, images)))
    return result


def read_sections(path: Path, images: Collection[str] = ()) -> tuple[str, list[Section]]:
    """The text of a Markdown file and its sections (checked; ``images``: the names of the
    area's uploaded images, the only ones it may show)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    return text, parse_sections(text, str(path), images)


def save_text(store: Store, area_ref: str, month: dt.date, path: Path) -> list[Section]:
    """Check the team's Markdown file and keep it as the text of this area's update for the
    month, replacing any earlier text (a file that fails the check replaces nothing)."""
    text, _ = read_sections(path, team_images.image_names(store, area_ref))
    return save_text_string(store, area_ref, month, text, Path(path).name)


MAX_TEXT = 100_000  # characters of the team's text for one update


def save_text_string(
    store: Store, area_ref: str, month: dt.date, text: str, source: str
) -> list[Section]:
    """:func:`save_text` for text typed in (the web desk): the same checks, then kept as the
    text of this area's update for the month; ``source`` says where it came from (e.g.
    'web desk, by NAME'). Text that fails a check replaces nothing."""
    text = (text or "").replace("\r\n", "\n")
    if len(text) > MAX_TEXT:
        raise InputError(f"{source}: the text is {len(text):,} characters; at most {MAX_TEXT:,}")
    if "\x00" in text:  # PostgreSQL cannot store it
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(f"{source}, line {line}: {NUL_PROBLEM}")
    sections = parse_sections(text, source, team_images.image_names(store, area_ref))
    kept = {"markdown": text, "source": source, "saved_at": utc_now()}
    change = (
        insert(update_texts)
        .values(area=area_ref, month=month, **kept)
        .on_conflict_do_update(
            index_elements=[update_texts.c.area, update_texts.c.month], set_=kept
        )
    )
    store.team_records.transact(lambda c: c.execute(change))
    return sections


def stored_text(store: Store, area_ref: str, month: dt.date) -> tuple[str, str] | None:
    """The team's Markdown for this area and month as stored and where it came from, or None."""
    t = update_texts.c
    with store.team_records.connect() as c:
        row = c.execute(
            sa.select(t.markdown, t.source).where(t.area == area_ref, t.month == month)
        ).first()
    return (str(row[0]), str(row[1])) if row else None


def stored_sections(store: Store, area_ref: str, month: dt.date) -> list[Section]:
    """The team's text for this area and month as stored, or none. Rendered, not checked
    again: a link or image that breaks today's rules is dropped from the HTML."""
    found = stored_text(store, area_ref, month)
    if not found:
        return []
    images = team_images.image_names(store, area_ref)
    return parse_sections(found[0], f"stored text from {found[1]}", images, strict=False)
