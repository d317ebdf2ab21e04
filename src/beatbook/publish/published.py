"""Published community updates: the files of an update, kept in the team's records
(``store.team_records``) exactly as an inspector published them, for the public pages
(``/updates/{area}/{month}``).

Publishing builds the update (:mod:`beatbook.publish.update`) into a scratch folder and
stores every file in one transaction, replacing an earlier publication of the same area
and month; a failed build stores nothing.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from beatbook import areas as areas_mod
from beatbook.areas import Area
from beatbook.errors import InputError
from beatbook.months import parse_month
from beatbook.publish import team_content, team_images
from beatbook.publish import update as update_mod
from beatbook.records.engine import utc_now, utc_text
from beatbook.records.schema import published_update_files, published_updates
from beatbook.store import Store

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}


@dataclass(frozen=True)
class Publication:
    """An update rendered for publishing: its files, not yet stored."""

    area: str  # areas.reference()
    area_name: str
    month: dt.date
    title: str
    files: dict[str, bytes]


def _build(
    store: Store, area_name: str, month: str, settings: team_content.Settings | None
) -> tuple[Area, str, dt.date, update_mod.Update]:
    """The update with the area's stored text and (unless given) its stored settings."""
    target = parse_month(month, "--month")
    area = areas_mod.resolve(store, area_name)
    ref = areas_mod.reference(area)
    built = update_mod.build(
        store,
        ref,
        month,
        settings=settings or team_content.stored_settings(store, ref),
        sections=team_content.stored_sections(store, ref, target),
    )
    return area, ref, target, built


def render_publication(
    store: Store,
    area_name: str,
    month: str,
    *,
    settings: team_content.Settings | None = None,
    template_dir: Path | None = None,
) -> Publication:
    """Build and render the update (the slow part: reads only, so the web app runs it
    outside its write lock)."""
    area, ref, target, built = _build(store, area_name, month, settings)
    with tempfile.TemporaryDirectory() as scratch:
        files = update_mod.write(built, Path(scratch) / "update", template_dir)
        blobs = {f.name: f.read_bytes() for f in files}
    return Publication(ref, area.name, target, built.facts["title"], blobs)


def store_publication(store: Store, publication: Publication, by: str) -> dict[str, Any]:
    """Store a rendered update as published, replacing an earlier one of the same area and
    month, in one transaction."""
    by = _check_by(by)
    ref, target = publication.area, publication.month
    update = {
        "area": ref,
        "area_name": publication.area_name,
        "month": target,
        "title": publication.title,
        "published_by": by,
        "published_at": utc_now(),
    }
    files = [
        {"area": ref, "month": target, "name": name, "data": data}
        for name, data in publication.files.items()
    ]

    def work(c: sa.Connection) -> None:
        for table in (published_update_files, published_updates):
            c.execute(sa.delete(table).where(table.c.area == ref, table.c.month == target))
        c.execute(sa.insert(published_updates).values(**update))
        if files:
            c.execute(sa.insert(published_update_files), files)

    store.team_records.transact(work)
    return {
        "area": ref,
        "area_name": publication.area_name,
        "month": f"{target:%Y-%m}",
        "title": publication.title,
        "files": sorted(publication.files),
    }


def _check_by(by: str) -> str:
    name = (by or "").strip()
    if not name:
        raise InputError("publishing needs the name of who publishes")
    return name


def publish_update(
    store: Store,
    area_name: str,
    month: str,
    by: str,
    *,
    settings: team_content.Settings | None = None,
    template_dir: Path | None = None,
) -> dict[str, Any]:
    """Build the update with the team's stored text and store its files as published."""
    _check_by(by)
    publication = render_publication(
        store, area_name, month, settings=settings, template_dir=template_dir
    )
    return store_publication(store, publication, by)


def preview_update(
    store: Store,
    area_name: str,
    month: str,
    *,
    settings: team_content.Settings | None = None,
    template_dir: Path | None = None,
) -> str:
    """The update as :func:`publish_update` would publish it now, as one HTML document with
    its pictures embedded (data URIs): for the desk's preview. Stores nothing."""
    built = _build(store, area_name, month, settings)[3]
    facts = copy.deepcopy(built.facts)
    inline = {
        name: f"data:{CONTENT_TYPES.get(Path(name).suffix, 'image/png')};base64,"
        + base64.b64encode(png).decode("ascii")
        for name, png in built.images.items()
    }
    if facts.get("map"):
        facts["map"]["image"] = inline.get(facts["map"]["image"], facts["map"]["image"])
    for trend in facts.get("trends", []):
        if trend.get("image"):
            trend["image"] = inline.get(trend["image"], trend["image"])
    for section in facts.get("sections", []):  # sanitised HTML: src="team-NAME" as generated
        for name in (n for n in inline if n.startswith(team_images.PREFIX)):
            section["html"] = section["html"].replace(f'src="{name}"', f'src="{inline[name]}"')
    html, _ = update_mod.render(facts, template_dir)
    return html


def list_published(store: Store) -> list[dict[str, Any]]:
    """Every published update, newest month first."""
    t = published_updates.c
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(
                t.area, t.area_name, t.month, t.title, t.published_by, t.published_at
            ).order_by(t.month.desc(), t.area_name)
        ).all()
    return [
        {
            "area": area,
            "area_name": area_name,
            "month": f"{month:%Y-%m}",
            "title": title,
            "published_by": by,
            "published_at": utc_text(at),
        }
        for area, area_name, month, title, by, at in rows
    ]


def published_file(store: Store, area: str, month: str, name: str) -> tuple[bytes, str] | None:
    """One file of a published update and its content type, or None."""
    target = parse_month(month, "month")
    t = published_update_files.c
    with store.team_records.connect() as c:
        data = c.execute(
            sa.select(t.data).where(t.area == area, t.month == target, t.name == name)
        ).scalar()
    if data is None:
        return None
    return bytes(data), CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")
